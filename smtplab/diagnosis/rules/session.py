"""The session itself: greetings, EHLO, timeouts and protocol errors."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.analysis.interpret import stopped_step
from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import error_line, exchange_lines, reply_lines, step_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

# A greeting slower than this is reported; postscreen's default greet wait is 6 s.
SLOW_GREETING_SECONDS = 5.0


def greeting_refused(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.error == "greeting_rejected" and item.error_step == "banner":
            yield at(item, "greeting.rejected", reply_lines(item.banner), detail=item.error_detail)
        elif item.error == "service_unavailable":
            if item.error_step == "banner":
                evidence = reply_lines(item.banner)
            else:
                evidence = step_lines(item, "ehlo") + step_lines(item, "helo")
            yield at(item, "greeting.unavailable", evidence or error_line(item), detail=item.error_detail)


def greeting_slow(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        greeting = next((e for e in item.exchanges if e.step == "banner"), None)
        if greeting is None or item.connect_ms is None:
            continue
        connected_at = next((e["t"] for e in item.record.events if e["kind"] == "connected"), 0.0)
        seconds = (greeting.replied_ms - connected_at) / 1000
        if seconds >= SLOW_GREETING_SECONDS:
            yield at(item, "greeting.slow", reply_lines(greeting.reply), seconds=round(seconds, 1))


def ehlo_rejected(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        rejected = next((e for e in item.exchanges if e.step == "ehlo" and e.reply.code != 250), None)
        if rejected is not None and item.helo_only.get(rejected.phase):
            evidence = exchange_lines(rejected) + step_lines(item, "helo")
            ehlo_name = (rejected.command or "EHLO ?").split(" ", 1)[-1]
            yield at(item, "greeting.ehlo_rejected", evidence, code=rejected.reply.code,
                     ehlo_name=ehlo_name)


def stalled(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        # A deadline is recorded at the step "deadline": name the step the conversation was in.
        step = (stopped_step(item) or item.error_step or "-").upper()
        if item.error in ("reply_timeout", "deadline") and item.reachable:
            yield at(item, "probe.timeout", error_line(item), step=step, detail=item.error_detail)
        elif item.error == "protocol_error":
            yield at(item, "probe.protocol_error", error_line(item), step=step, detail=item.error_detail)
