"""The building blocks of a fingerprint: observations, clues, signatures and guesses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from smtplab.protocol.ehlo import Ehlo


@dataclass(frozen=True, slots=True)
class Observation:
    """The fields of one conversation that clues match against.

    ``banner_host`` is the first word of the greeting, which RFC 5321 section 4.3.1
    reserves for the server's name. ``banner_text`` is the rest of the greeting, so a
    product word inside a host name (``postfix.example.com``) never matches a clue
    written for the text. ``ehlo_line`` is the whole first line of the EHLO reply, or
    None when only a parsed ``Ehlo`` (which keeps just the first word) was given.
    ``replies`` renders every other reply as ``CODE TEXT`` lines.
    """

    banner_host: str | None = None
    banner_text: str | None = None
    ehlo: Ehlo | None = None
    ehlo_line: str | None = None
    replies: tuple[str, ...] = ()

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.ehlo.keywords) if self.ehlo else ()


# A matcher returns the exact text that matched, or None.
Matcher = Callable[[Observation], str | None]


@dataclass(frozen=True, slots=True)
class Clue:
    """One piece of evidence for (or, as a conflict, against) a product.

    ``weight`` is in (0, 1): how strongly a match alone suggests the product. Clues
    combine like independent evidence (see ``engine.combine``). ``reason`` explains in
    words why the match points to the product; the guess's evidence repeats it beside
    the matched text. ``names_product`` marks the clue that matches the product
    naming itself in its greeting: when it matches, it counts against every other
    product (see ``engine.NAMED_OTHER_WEIGHT``).
    """

    match: Matcher
    weight: float
    reason: str
    names_product: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.weight < 1.0:
            raise ValueError(f"clue weight must be between 0 and 1 (exclusive), got {self.weight}")


@dataclass(frozen=True, slots=True)
class Signature:
    """A product's fingerprint: its stable id, display name, clues and conflicts.

    ``conflicts`` are clues that a real instance of the product does not show. Each
    matched conflict multiplies the confidence by ``1 - weight``. ``based_on`` names
    the product this one is built on (Zimbra's MTA is Postfix): the base's clues then
    count for this product too, but only once one of its own clues matched.
    ``max_confidence`` caps products that the available clues cannot fully separate
    from others.
    """

    id: str
    name: str
    clues: tuple[Clue, ...]
    conflicts: tuple[Clue, ...] = ()
    based_on: str | None = None
    max_confidence: float = 0.99


@dataclass(frozen=True, slots=True)
class Guess:
    """A product that the observed conversation points to.

    ``software`` is the stable product id (``"postfix"``), ``confidence`` is in
    [0, 1], and ``evidence`` lists each matched clue as the matched text and the
    reason, with conflicts marked ``against:``.
    """

    software: str
    confidence: float
    evidence: tuple[str, ...] = field(default_factory=tuple)


# Clue constructors. Each returns a matcher closure; the pattern is compiled once.


def banner(pattern: str) -> Matcher:
    """Match the greeting text after its host name (case-sensitive regex search)."""
    regex = re.compile(pattern, re.MULTILINE)

    def match(observation: Observation) -> str | None:
        if observation.banner_text is None:
            return None
        found = regex.search(observation.banner_text)
        return f"greeting text {_line_at(observation.banner_text, found.start())!r}" if found else None

    return match


def banner_host(pattern: str) -> Matcher:
    """Match the host name that the greeting starts with (case-insensitive)."""
    regex = re.compile(pattern, re.IGNORECASE)

    def match(observation: Observation) -> str | None:
        host = observation.banner_host
        return f"greeting host {host!r}" if host and regex.search(host) else None

    return match


def ehlo_line(pattern: str) -> Matcher:
    """Match the whole first line of the EHLO reply, host name included."""
    regex = re.compile(pattern)

    def match(observation: Observation) -> str | None:
        line = observation.ehlo_line
        return f"EHLO first line {line!r}" if line is not None and regex.search(line) else None

    return match


def keyword(name: str, params: str | None = None) -> Matcher:
    """Match an EHLO keyword, optionally with parameters fully matching ``params``."""
    regex = re.compile(params) if params is not None else None

    def match(observation: Observation) -> str | None:
        if observation.ehlo is None:
            return None
        for keyword_name, keyword_params in observation.ehlo.keywords:
            if keyword_name != name:
                continue
            if regex is None or regex.fullmatch(keyword_params):
                shown = f"{keyword_name} {keyword_params}".strip()
                return f"EHLO keyword {shown!r}"
        return None

    return match


def keyword_missing(name: str) -> Matcher:
    """Match when an EHLO reply was seen and it lacks the keyword ``name``."""

    def match(observation: Observation) -> str | None:
        if observation.ehlo is None or observation.ehlo.has(name):
            return None
        return f"EHLO reply without {name}"

    return match


def keyword_order(
    expected: tuple[str, ...], *, min_shared: int, prefix: bool = False, only: bool = False
) -> Matcher:
    """Match when the EHLO keywords follow the product's order.

    The keywords that appear in ``expected`` must appear in that relative order, and
    at least ``min_shared`` of them must be present. With ``prefix`` they must also
    be the first keywords of the reply. With ``only`` the reply may contain no other
    keyword. Keywords listed in ``expected`` but absent are allowed, because products
    advertise some of them only when configured (STARTTLS, AUTH, DSN).
    """
    positions = {name: index for index, name in enumerate(expected)}

    def match(observation: Observation) -> str | None:
        observed = observation.keywords
        shared = [name for name in observed if name in positions]
        if len(shared) < min_shared:
            return None
        if only and len(shared) != len(observed):
            return None
        if prefix and tuple(observed[: len(shared)]) != tuple(shared):
            return None
        indexes = [positions[name] for name in shared]
        if indexes != sorted(indexes) or len(set(indexes)) != len(indexes):
            return None
        return f"EHLO keyword order {' '.join(observed)!r}"

    return match


def reply(pattern: str) -> Matcher:
    """Match any reply other than the greeting and EHLO, rendered as ``CODE TEXT`` lines.

    Multi-line replies are matched line by line (``^`` and ``$`` apply per line).
    """
    regex = re.compile(pattern, re.MULTILINE)

    def match(observation: Observation) -> str | None:
        for rendered in observation.replies:
            found = regex.search(rendered)
            if found:
                return f"reply {_line_at(rendered, found.start())!r}"
        return None

    return match


def _line_at(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start:] if end == -1 else text[start:end]
