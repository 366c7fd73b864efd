"""SMTP reply grammar (RFC 5321 section 4.2) and enhanced status codes (RFC 3463)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smtplab.errors import ProtocolError

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True, slots=True)
class ReplyLine:
    """One line of a reply: its code, whether it is the last line, and its text."""

    code: int
    final: bool
    text: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete reply: the code and the text of each line, without the code prefix."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """Enhanced status code such as ``5.7.1``, when the first line starts with one."""
        match = _ENHANCED.match(self.lines[0]) if self.lines else None
        if match and match.group(1) == str(self.code)[0]:
            return match.group(0)
        return None

    @property
    def is_positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def is_transient(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return self.code >= 500


def parse_line(line: str) -> ReplyLine:
    """Parse ``NNN-text`` (continued) or ``NNN text`` / ``NNN`` (last line)."""
    line = line.rstrip("\r\n")
    code_text, separator, text = line[:3], line[3:4], line[4:]
    if len(code_text) != 3 or not code_text.isdigit() or code_text[0] not in "2345":
        raise ProtocolError(f"invalid reply line {line[:80]!r}: expected a 3-digit code 2xx to 5xx")
    if separator not in ("", " ", "-"):
        raise ProtocolError(f"invalid reply line {line[:80]!r}: expected ' ' or '-' after the code")
    return ReplyLine(int(code_text), separator != "-", text)


class ReplyAssembler:
    """Collects reply lines until the last one; ``feed`` returns the Reply then."""

    def __init__(self, max_lines: int = 200) -> None:
        self._max_lines = max_lines
        self._code: int | None = None
        self._lines: list[str] = []

    def feed(self, line: str) -> Reply | None:
        parsed = parse_line(line)
        if self._code is not None and parsed.code != self._code:
            raise ProtocolError(
                f"reply code changed from {self._code} to {parsed.code} inside one reply"
            )
        self._code = parsed.code
        self._lines.append(parsed.text)
        if len(self._lines) > self._max_lines:
            raise ProtocolError(f"reply has more than {self._max_lines} lines")
        if not parsed.final:
            return None
        reply = Reply(parsed.code, tuple(self._lines))
        self._code, self._lines = None, []
        return reply


def assemble(lines: list[str]) -> Reply:
    """Build one reply from its raw lines; raise ProtocolError if incomplete or malformed."""
    assembler = ReplyAssembler(max_lines=max(len(lines), 1))
    for index, line in enumerate(lines):
        reply = assembler.feed(line)
        if reply is not None:
            if index != len(lines) - 1:
                raise ProtocolError("lines follow the last line of a reply")
            return reply
    raise ProtocolError("reply ended without a last line")
