"""Whether the ports of an address, and the addresses of a name, agree."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import reply_lines
from smtplab.diagnosis.finding import Finding


def ports_differ(context: HostContext) -> Iterator[Finding]:
    by_address: dict[str | None, list[EndpointView]] = {}
    for item in context.reached():
        by_address.setdefault(item.record.address, []).append(item)
    for address, items in by_address.items():
        banners = {item.banner_host or item.banner.lines[0] for item in items if item.banner}
        if len(banners) < 2:
            continue
        evidence = tuple(f"port {item.record.port}: {line}" for item in items
                         for line in reply_lines(item.banner)[:1])
        yield Finding("ports.differ", context.host.host, {"banners": ", ".join(sorted(banners))},
                      None, address, evidence)


def _signature(item: EndpointView) -> tuple[object, ...]:
    """What should be the same on every address of one name for one port."""
    plain = item.ehlo.get("plain")
    return (
        item.reachable,
        item.banner_host,
        item.starttls_offered,
        item.tls is not None,
        tuple(name for name, _ in plain.keywords) if plain else None,
    )


def addresses_differ(context: HostContext) -> Iterator[Finding]:
    by_port: dict[tuple[int, str], list[EndpointView]] = {}
    for item in context.views:
        if item.record.address is not None:
            by_port.setdefault((item.record.port, item.record.mode), []).append(item)
    for (port, _mode), items in sorted(by_port.items()):
        if len({_signature(item) for item in items}) < 2:
            continue
        lines = tuple(_describe(item) for item in items)
        yield Finding("addresses.differ", context.host.host, {}, port, None, lines)


def _describe(item: EndpointView) -> str:
    if not item.reachable:
        return f"{item.record.address} unreachable ({item.error})"
    starttls = {True: "STARTTLS offered", False: "no STARTTLS", None: "STARTTLS unknown"}
    tls = "TLS works" if item.tls is not None else "no TLS"
    return f"{item.record.address} {item.banner_host or '-'}, {starttls[item.starttls_offered]}, {tls}"
