"""EHLO reply keywords (RFC 5321 section 4.1.1.1)."""

from __future__ import annotations

from dataclasses import dataclass

from smtplab.protocol.reply import Reply


@dataclass(frozen=True, slots=True)
class Ehlo:
    """The greeting host of an EHLO reply and its keywords in order, with parameters."""

    greeting: str
    keywords: tuple[tuple[str, str], ...]

    def has(self, keyword: str) -> bool:
        return any(name == keyword for name, _ in self.keywords)

    def params(self, keyword: str) -> str | None:
        for name, params in self.keywords:
            if name == keyword:
                return params
        return None

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        """SASL mechanisms from ``AUTH`` and the pre-standard ``AUTH=`` form."""
        mechanisms: list[str] = []
        for name, params in self.keywords:
            if name in ("AUTH", "AUTH="):
                mechanisms.extend(params.upper().split())
        return tuple(dict.fromkeys(mechanisms))


def parse_ehlo(reply: Reply) -> Ehlo:
    """Split a 250 EHLO reply into greeting host and keywords."""
    first = reply.lines[0] if reply.lines else ""
    greeting = first.split(" ", 1)[0] if first else ""
    keywords: list[tuple[str, str]] = []
    for line in reply.lines[1:]:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.upper().startswith("AUTH="):
            keywords.append(("AUTH=", stripped[5:].strip()))
            continue
        name, _, params = stripped.partition(" ")
        keywords.append((name.upper(), params.strip()))
    return Ehlo(greeting, tuple(keywords))


def greeting_host(banner: Reply) -> str | None:
    """Return the host name a greeting names first (``220 mail.example.com ESMTP``), if any."""
    words = banner.lines[0].split() if banner.lines else []
    if words and words[0] == banner.enhanced:
        words = words[1:]  # "421 4.7.0 mail.example.com Error: ..." names the host second
    token = words[0] if words else ""
    if "." in token or token.lower() == "localhost":
        return token.rstrip(".").lower()
    return None
