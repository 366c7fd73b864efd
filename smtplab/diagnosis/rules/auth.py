"""AUTH: offered where, and the outcome of the credential check."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import RELAY_PORT, HostContext, is_submission
from smtplab.diagnosis.evidence import step_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

_OUTCOME_CODES = {
    "accepted": "auth.accepted",
    "accepted_early": "auth.accepted_early",
    "rejected": "auth.rejected",
    "needs_encryption": "auth.needs_encryption",
    "unsupported": "auth.unsupported",
    "deferred": "auth.deferred",
}


def auth_offer(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        before, after = item.auth_mechanisms("plain"), item.auth_mechanisms("tls")
        if item.record.mode == "starttls" and after and not before:
            yield at(item, "auth.after_starttls", step_lines(item, "ehlo", "tls"),
                     mechanisms=" ".join(after))
        if before and item.record.mode != "tls":
            yield at(item, "auth.plaintext", step_lines(item, "ehlo", "plain"),
                     mechanisms=" ".join(before))


def host_without_auth(context: HostContext) -> Iterator[Finding]:
    """Report that no port offers AUTH, unless only the relay port 25 was probed.

    A host probed only as an inbound MX needs no AUTH. Any other probed endpoint counts,
    even one that refused connections or uses a nonstandard number (2525 and the lab's
    stand-in ports), because it may be a submission service. Where a submission endpoint
    itself lacks AUTH, ``auth.submission_missing`` names that port, so this host-wide
    finding stays for the cases that one does not cover.
    """
    greeted = [item for item in context.views if item.ehlo]
    inside = [item for item in greeted if "tls" in item.ehlo]
    if not inside or all(item.record.port == RELAY_PORT for item in context.views):
        return
    if any(_offers_auth(item) for item in greeted):
        return
    if any(_submission_lacks_auth(item) for item in greeted):
        return
    evidence = tuple(step_lines(inside[0], "ehlo", "tls"))
    yield Finding("auth.none", context.host.host, {}, evidence=evidence)


def submission_without_auth(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if _submission_lacks_auth(item):
            yield at(item, "auth.submission_missing", step_lines(item, "ehlo"))


def _offers_auth(item: EndpointView) -> bool:
    return any(item.auth_mechanisms(phase) for phase in ("plain", "tls"))


def _submission_lacks_auth(item: EndpointView) -> bool:
    """Tell whether a submission endpoint showed, inside TLS or on a plaintext-only probe, no AUTH."""
    if not is_submission(item) or not item.ehlo or _offers_auth(item):
        return False
    # AUTH is usually offered only inside TLS, so a STARTTLS probe that never reached TLS is inconclusive.
    return item.ehlo.get("tls") is not None or item.record.mode == "plain"


def auth_unknown(context: HostContext) -> Iterator[Finding]:
    """AUTH absent before TLS on a STARTTLS port whose TLS never worked: inconclusive."""
    for item in context.views:
        stopped_before_tls = item.ehlo.get("plain") is not None and "tls" not in item.ehlo
        offered = item.auth_mechanisms("plain")
        if item.record.mode == "starttls" and stopped_before_tls and item.starttls_offered and not offered:
            yield at(item, "auth.unknown", step_lines(item, "ehlo", "plain"))


def auth_outcome(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        result = item.auth_result
        if result == "skipped":
            code = "auth.skipped_no_tls" if item.auth_skipped == "no_tls" else "auth.skipped_no_mechanism"
            yield at(item, code, step_lines(item, "ehlo"))
        elif result in _OUTCOME_CODES:
            yield at(item, _OUTCOME_CODES[result], step_lines(item, "auth"),
                     mechanism=item.auth_mechanism or "-",
                     code=item.auth_reply.code if item.auth_reply else "-")
