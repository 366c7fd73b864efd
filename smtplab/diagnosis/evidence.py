"""Evidence lines quoted from an endpoint's transcript."""

from __future__ import annotations

from smtplab.analysis.interpret import EndpointView, Exchange
from smtplab.protocol.reply import Reply


def reply_lines(reply: Reply | None, limit: int = 12) -> list[str]:
    if reply is None:
        return []
    lines = reply.lines
    shown = [
        f"S: {reply.code}{'-' if index < len(lines) - 1 else ' '}{text}"
        for index, text in enumerate(lines[:limit])
    ]
    if len(lines) > limit:
        shown.append(f"S: ... {len(lines) - limit} more lines")
    return shown


def exchange_lines(exchange: Exchange | None) -> list[str]:
    if exchange is None:
        return []
    sent = [f"C: {exchange.command}"] if exchange.command else []
    return sent + reply_lines(exchange.reply)


def step_lines(item: EndpointView, step: str, phase: str | None = None) -> list[str]:
    """The exchanges of one step (and phase) in the final attempt."""
    lines: list[str] = []
    for exchange in item.exchanges:
        if exchange.step != step or exchange.attempt != item.attempts:
            continue
        if phase is not None and exchange.phase != phase:
            continue
        lines.extend(exchange_lines(exchange))
    return lines


def error_line(item: EndpointView) -> list[str]:
    if item.error is None:
        return []
    return [f"error {item.error} at {item.error_step}: {item.error_detail}"]


def label(item: EndpointView) -> str:
    record = item.record
    return f"{record.host} [{record.address}] port {record.port}/{record.mode}"
