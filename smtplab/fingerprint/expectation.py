"""Compare fingerprint guesses and greeting names with what an operator expects."""

from __future__ import annotations

from collections.abc import Sequence

from smtplab.analysis.interpret import EndpointView
from smtplab.fingerprint.model import Guess
from smtplab.fingerprint.signatures import PRODUCTS, SIGNATURES

# A guess at or above this confidence is reported as what the server "looks like";
# below it the evidence is called weak.
CONFIDENT = 0.5

_BASES = {signature.id: signature.based_on for signature in SIGNATURES if signature.based_on}


def check_expectation(
    guesses: Sequence[Guess],
    *,
    software: str | None = None,
    banner_host: str | None = None,
    view: EndpointView | None = None,
) -> list[str]:
    """Return the ways the endpoint differs from what is expected, as sentences.

    ``software`` is a product id or display name from ``PRODUCTS`` (case does not
    matter). It is met when the top guess is that product or is built on it (Zimbra
    meets "postfix"). When nothing was identified, that is reported too, because the
    expectation could not be confirmed. ``banner_host`` is compared with the host
    name in the greeting and in each EHLO reply of ``view``, which it requires. An
    empty list means every stated expectation holds.

    Raises ValueError for an unknown product, or for ``banner_host`` without ``view``.
    """
    violations: list[str] = []
    if software is not None:
        violations += _check_software(guesses, _product_id(software))
    if banner_host is not None:
        if view is None:
            raise ValueError("checking banner_host needs the endpoint's view: pass view=")
        violations += _check_names(view, banner_host)
    return violations


def _product_id(software: str) -> str:
    wanted = software.strip().lower()
    for product_id, name in PRODUCTS.items():
        if wanted in (product_id, name.lower()):
            return product_id
    known = ", ".join(PRODUCTS)
    raise ValueError(f"unknown software {software!r}; use one of: {known}")


def _check_software(guesses: Sequence[Guess], expected: str) -> list[str]:
    name = PRODUCTS[expected]
    if not guesses:
        return [f"expected {name}, but the software could not be identified"]

    top = guesses[0]
    if top.software == expected or _BASES.get(top.software) == expected:
        return []

    shown = f"{PRODUCTS.get(top.software, top.software)} ({top.confidence:.2f})"
    if top.confidence >= CONFIDENT:
        message = f"expected {name}, looks like {shown}"
    else:
        message = f"expected {name}, weak evidence points to {shown}"
    score = next((guess.confidence for guess in guesses if guess.software == expected), None)
    if score is not None:
        message += f"; {name} scored {score:.2f}"
    return [message]


def _check_names(view: EndpointView, expected_host: str) -> list[str]:
    expected = _normalise_host(expected_host)
    if view.banner is None:
        return [f"expected banner host {expected}, but no greeting was received"]

    violations = []
    found = view.banner_host
    if found is None:
        first_word = view.banner.lines[0].split(" ", 1)[0] if view.banner.lines else ""
        violations.append(f"banner names no host ({first_word!r}), expected {expected}")
    elif _normalise_host(found) != expected:
        violations.append(f"banner names {found}, expected {expected}")

    for phase, ehlo in view.ehlo.items():
        greeting = _normalise_host(ehlo.greeting)
        # go-smtp starts its EHLO reply with "Hello CLIENT", so only a word that looks
        # like a domain name is compared.
        if "." in greeting and greeting != expected:
            violations.append(f"EHLO reply ({phase}) names {greeting}, expected {expected}")
    return violations


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()
