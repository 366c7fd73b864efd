"""Score every signature against one conversation (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from smtplab.fingerprint.model import Clue, Guess, Observation, Signature
from smtplab.fingerprint.signatures import SIGNATURES
from smtplab.protocol.ehlo import Ehlo, parse_ehlo
from smtplab.protocol.reply import Reply

# Guesses below this confidence are dropped: a single weak default (a SIZE value, a
# common QUIT text) is not worth reporting on its own.
MIN_CONFIDENCE = 0.2

# How much a greeting that names another product counts against a product. It is
# not total, because a relay or filter in front of a server can greet in its place.
NAMED_OTHER_WEIGHT = 0.8


def identify(
    banner: Reply | None,
    ehlo: Ehlo | Reply | None,
    replies: Sequence[Reply] = (),
    *,
    signatures: Sequence[Signature] = SIGNATURES,
) -> list[Guess]:
    """Return the products that the greeting, EHLO reply and other replies point to.

    ``ehlo`` may be the raw 250 ``Reply`` (preferred, because the text after the host
    name on its first line is evidence too) or a parsed ``Ehlo``. ``replies`` are the
    replies to any other commands, in any order. Guesses come sorted by confidence,
    highest first, and those below ``MIN_CONFIDENCE`` are left out, so an
    unrecognised server gives an empty list.
    """
    observation = observe(banner, ehlo, replies)
    by_id = {signature.id: signature for signature in signatures}
    named = _named_products(signatures, observation)
    guesses = []
    for signature in signatures:
        guess = _score(signature, observation, by_id, named)
        if guess is not None and guess.confidence >= MIN_CONFIDENCE:
            guesses.append(guess)
    return sorted(guesses, key=lambda guess: (-guess.confidence, guess.software))


def observe(banner: Reply | None, ehlo: Ehlo | Reply | None, replies: Iterable[Reply]) -> Observation:
    """Turn the raw replies into the fields that clues match against."""
    host, text = _split_greeting(banner)
    parsed, first_line = _read_ehlo(ehlo)
    rendered = tuple(_render(item) for item in replies)
    return Observation(
        banner_host=host,
        banner_text=text,
        ehlo=parsed,
        ehlo_line=first_line,
        replies=rendered,
    )


def combine(weights: Iterable[float]) -> float:
    """Combine independent evidence: 1 - product of (1 - weight)."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


def _named_products(signatures: Sequence[Signature], observation: Observation) -> dict[str, str]:
    """Map each product that the greeting names to the matched text."""
    named = {}
    for signature in signatures:
        for clue in signature.clues:
            text = clue.match(observation) if clue.names_product else None
            if text is not None:
                named[signature.id] = text
    return named


def _score(
    signature: Signature,
    observation: Observation,
    by_id: dict[str, Signature],
    named: dict[str, str],
) -> Guess | None:
    own = _matches(signature.clues, observation)
    if not own:
        return None
    found = list(own)
    against = _matches(signature.conflicts, observation)
    base = by_id.get(signature.based_on) if signature.based_on else None
    if base is not None:
        # A product built on another shows the base's behaviour, so the base's
        # evidence for and against counts for it as well.
        found += _matches(base.clues, observation)
        against += _matches(base.conflicts, observation)
    against += _other_names(signature, named, by_id)

    confidence = combine(clue.weight for clue, _ in found)
    for clue, _ in against:
        confidence *= 1.0 - clue.weight
    confidence = min(confidence, signature.max_confidence)

    evidence = tuple(f"{text}: {clue.reason}" for clue, text in found)
    evidence += tuple(f"against: {text}: {clue.reason}" for clue, text in against)
    return Guess(signature.id, round(confidence, 3), evidence)


def _other_names(
    signature: Signature, named: dict[str, str], by_id: dict[str, Signature]
) -> list[tuple[Clue, str]]:
    """Return a conflict for each other product that the greeting names."""
    related = {signature.id, signature.based_on}
    found = []
    for product_id, text in named.items():
        if product_id in related or by_id[product_id].based_on == signature.id:
            continue
        reason = f"the greeting names {by_id[product_id].name}"
        found.append((Clue(_always, NAMED_OTHER_WEIGHT, reason), text))
    return found


def _always(observation: Observation) -> str | None:
    return ""


def _matches(clues: Iterable[Clue], observation: Observation) -> list[tuple[Clue, str]]:
    found = []
    for clue in clues:
        text = clue.match(observation)
        if text is not None:
            found.append((clue, text))
    return found


def _split_greeting(banner: Reply | None) -> tuple[str | None, str | None]:
    """Split a greeting into its first word (the host name) and the rest of its text."""
    if banner is None or not banner.lines:
        return None, None
    first, _, rest = banner.lines[0].strip().partition(" ")
    text = "\n".join([rest.strip(), *banner.lines[1:]])
    return (first or None), text


def _read_ehlo(ehlo: Ehlo | Reply | None) -> tuple[Ehlo | None, str | None]:
    if ehlo is None:
        return None, None
    if isinstance(ehlo, Ehlo):
        return ehlo, None
    if ehlo.code != 250:
        return None, None
    first_line = ehlo.lines[0].strip() if ehlo.lines else ""
    return parse_ehlo(ehlo), first_line


def _render(item: Reply) -> str:
    return "\n".join(f"{item.code} {line}".rstrip() for line in item.lines or ("",))
