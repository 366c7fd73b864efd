"""Which software serves the ports: expectations and disagreement between ports."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import reply_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at
from smtplab.fingerprint import CONFIDENT, PRODUCTS, check_expectation, fingerprint


def unexpected_software(context: HostContext) -> Iterator[Finding]:
    software = context.config.get("expect_software")
    banner_host = context.config.get("expect_banner_host")
    if not software and not banner_host:
        return
    for item in context.reached():
        guesses = fingerprint(item)
        violations = check_expectation(guesses, software=software, banner_host=banner_host, view=item)
        if violations:
            guess = [f"guess: {line}" for line in (guesses[0].evidence if guesses else ())]
            yield at(item, "software.unexpected", violations + reply_lines(item.banner) + guess)


def software_differs(context: HostContext) -> Iterator[Finding]:
    by_address: dict[str | None, dict[str, list[int]]] = {}
    for item in context.reached():
        guesses = fingerprint(item)
        if guesses and guesses[0].confidence >= CONFIDENT:
            ports = by_address.setdefault(item.record.address, {})
            ports.setdefault(guesses[0].software, []).append(item.record.port)
    for address, products in by_address.items():
        if len(products) < 2:
            continue
        shown = ", ".join(
            f"{PRODUCTS.get(name, name)} (port {', '.join(map(str, ports))})"
            for name, ports in sorted(products.items())
        )
        yield Finding("ports.software_differ", context.host.host, {"software": shown}, None, address,
                      (shown,))
