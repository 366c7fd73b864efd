"""Read a captured SMTP session written as ``S:``/``C:`` lines into replies.

The format keeps real sessions readable in test data and lets a user paste one::

    # comment lines start with '#'
    S: 220 mail.example.com ESMTP Postfix
    C: EHLO client.example.net
    S: 250-mail.example.com
    S: 250 PIPELINING

Server lines are assembled into replies by the RFC 5321 reply grammar. The reply
before the first client line is the greeting, and the first 250 reply to EHLO is the
EHLO reply. Every other reply goes to ``replies``, except later EHLO replies (after
STARTTLS), which repeat the first.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtplab.errors import ProtocolError
from smtplab.protocol.reply import Reply, ReplyAssembler


@dataclass(frozen=True, slots=True)
class CapturedSession:
    """The greeting, the first EHLO reply and the other replies of one session."""

    banner: Reply | None
    ehlo: Reply | None
    replies: tuple[Reply, ...]


def parse_session(text: str) -> CapturedSession:
    """Parse ``S:``/``C:`` lines; raise ValueError on any other line or a malformed reply."""
    banner: Reply | None = None
    ehlo: Reply | None = None
    replies: list[Reply] = []
    command: str | None = None
    assembler = ReplyAssembler()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        prefix, _, content = line.partition(": ")
        if prefix == "C":
            command = content
            continue
        if prefix != "S":
            raise ValueError(f"line {number}: expected 'S: ', 'C: ' or '#', got {line[:40]!r}")
        try:
            complete = assembler.feed(content)
        except ProtocolError as error:
            raise ValueError(f"line {number}: {error}") from error
        if complete is None:
            continue
        if command is None and banner is None:
            banner = complete
        elif _is_ehlo(command) and complete.code == 250:
            ehlo = ehlo or complete
        else:
            replies.append(complete)
    return CapturedSession(banner, ehlo, tuple(replies))


def _is_ehlo(command: str | None) -> bool:
    return command is not None and command.upper().startswith("EHLO")
