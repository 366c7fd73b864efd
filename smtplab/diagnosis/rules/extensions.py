"""EHLO extensions: limits, missing modern keywords, address-harvesting commands."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import step_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

# Below this SIZE limit, common attachments (a few phone photos) are refused.
SMALL_SIZE_BYTES = 20 * 1024 * 1024

EXPECTED_KEYWORDS = {
    "PIPELINING": "ext.no_pipelining",
    "8BITMIME": "ext.no_8bitmime",
    "SMTPUTF8": "ext.no_smtputf8",
    "ENHANCEDSTATUSCODES": "ext.no_enhancedstatuscodes",
}


def _final_ehlo(item):  # type: ignore[no-untyped-def]
    """The EHLO that applies to mail: inside TLS when TLS was reached."""
    return item.ehlo.get("tls") or item.ehlo.get("plain")


def _keyword_lines(item, keyword: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines of the final EHLO reply that list ``keyword``, as the server sent them."""
    phase = "tls" if "tls" in item.ehlo else "plain"
    # A quoted line is "S: 250-KEYWORD params" or "S: 250 KEYWORD params" (the last line).
    return [line for line in step_lines(item, "ehlo", phase)
            if line.startswith("S: ") and line[7:].split(" ", 1)[0].upper() == keyword]


def size_limit(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        ehlo = _final_ehlo(item)
        params = ehlo.params("SIZE") if ehlo else None
        if not params or not params.split()[0].isdigit():
            continue
        size = int(params.split()[0])
        if 0 < size < SMALL_SIZE_BYTES:
            yield at(item, "ext.size_small", _keyword_lines(item, "SIZE"), size=size,
                     size_mb=round(size / 1_000_000, 1), attachment_mb=round(size * 0.75 / 1_000_000, 1))


def missing_keywords(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        ehlo = _final_ehlo(item)
        if ehlo is None:
            continue
        phase = "tls" if "tls" in item.ehlo else "plain"
        for keyword, code in EXPECTED_KEYWORDS.items():
            if not ehlo.has(keyword):
                yield at(item, code, step_lines(item, "ehlo", phase))


def harvesting_commands(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        ehlo = _final_ehlo(item)
        if ehlo is None:
            continue
        for keyword, code in (("VRFY", "ext.vrfy"), ("EXPN", "ext.expn")):
            if ehlo.has(keyword):
                yield at(item, code, _keyword_lines(item, keyword))
