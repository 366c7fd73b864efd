"""Read a plain dialogue: ``S:`` lines from the server and ``C:`` lines from the client.

``<`` and ``>`` work as well (``< 220 ...`` from the server, ``> EHLO ...`` from the
client). A line that starts with ``TLS``, possibly framed by brackets, dashes, stars
or equals signs (``TLS``, ``[TLS started]``, ``--- TLS TLSv1.3
TLS_AES_256_GCM_SHA384 ---``), marks a finished handshake and may name the protocol
version and cipher. Without such a line, the phase switches to ``tls`` at the first
line after a 220 reply to STARTTLS. A marker before the greeting means implicit TLS.
Lines between ``-----BEGIN CERTIFICATE-----`` and ``-----END CERTIFICATE-----`` are
the server certificate. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import re

from smtplab.importers.conversation import (
    ConversationBuilder,
    Line,
    ParsedTranscript,
    TranscriptError,
    quote,
)
from smtplab.importers.tls import PemCollector, cipher_bits

DIALOGUE_LINE = re.compile(r"^\s*(?:([SsCc])\s*:|([<>])(?=\s|$))\s?(.*)$")
_TLS_MARKER = re.compile(r"^[\s\[\]()*=#-]*TLS\b", re.IGNORECASE)
_VERSION = re.compile(r"\b(TLSv1(?:\.[0-3])?|SSLv3)\b")
_CIPHER = re.compile(r"\b([A-Z0-9]+(?:[-_][A-Z0-9]+){2,})\b")
_SIDES = {"S": "server", "<": "server", "C": "client", ">": "client"}


def parse_dialogue(lines: list[Line]) -> ParsedTranscript:
    builder = ConversationBuilder()
    pem = PemCollector()
    for number, text in lines:
        if pem.feed(number, text):
            if pem.first is not None and not pem.inside:
                builder.attach_certificate(pem.first_line, pem.first)
            continue
        _read_line(builder, number, text)
    last = lines[-1][0] if lines else 0
    pem.check_closed()
    return builder.result(last)


def _read_line(builder: ConversationBuilder, number: int, text: str) -> None:
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return
    match = DIALOGUE_LINE.match(text)
    if match is None:
        if _TLS_MARKER.match(stripped):
            _tls_marker(builder, number, stripped)
            return
        raise TranscriptError(
            number, f"{quote(text)} is not a dialogue line: expected 'S:' or 'C:' (or '<', '>') "
            "before the line, a TLS marker line, or '#' for a comment",
        )
    side = _SIDES[(match.group(1) or match.group(2)).upper()]
    content = match.group(3)
    if builder.awaiting_tls:
        builder.start_tls(number)  # STARTTLS got a 220 reply and the dialogue continues
    if side == "server":
        builder.server(number, content.rstrip())
    elif builder.in_data:
        builder.client(number, content)
    else:
        builder.client(number, content.rstrip())


def _tls_marker(builder: ConversationBuilder, number: int, text: str) -> None:
    if builder.phase == "tls":
        return
    version = _VERSION.search(text)
    cipher = next((name for name in _CIPHER.findall(text) if name != "TLS"), None)
    builder.start_tls(
        number, version=version.group(1) if version else None, cipher=cipher, bits=cipher_bits(cipher)
    )
