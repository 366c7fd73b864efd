"""Probe targets: a host (name or IP literal) and the endpoints to probe on it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import idna


class TlsMode(StrEnum):
    """How a port speaks TLS."""

    STARTTLS = "starttls"  # plaintext first, upgraded by STARTTLS (RFC 3207)
    TLS = "tls"  # implicit TLS from the first byte (RFC 8314)
    PLAIN = "plain"  # plaintext only; STARTTLS is not attempted


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A port and the way to speak to it."""

    port: int
    mode: TlsMode

    def __str__(self) -> str:
        return f"{self.port}/{self.mode}"


# Port 25 relays between servers, 587 is submission (RFC 6409), 465 is
# submission over implicit TLS (RFC 8314 section 3.3).
DEFAULT_ENDPOINTS = (
    Endpoint(25, TlsMode.STARTTLS),
    Endpoint(587, TlsMode.STARTTLS),
    Endpoint(465, TlsMode.TLS),
)


@dataclass(frozen=True, slots=True)
class Target:
    """A host to probe: ``host`` as given, ``ascii_host`` as sent on the wire."""

    host: str
    ascii_host: str
    is_literal: bool
    endpoints: tuple[Endpoint, ...]


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``PORT`` or ``PORT/MODE``; a bare 465 means implicit TLS, others STARTTLS."""
    port_text, _, mode_text = text.strip().partition("/")
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"invalid port {port_text!r} in {text!r}: expected PORT or PORT/MODE") from None
    if not 0 < port < 65536:
        raise ValueError(f"invalid port {port} in {text!r}: expected 1 to 65535")
    if not mode_text:
        return Endpoint(port, TlsMode.TLS if port == 465 else TlsMode.STARTTLS)
    try:
        return Endpoint(port, TlsMode(mode_text.lower()))
    except ValueError:
        modes = ", ".join(mode.value for mode in TlsMode)
        raise ValueError(f"invalid mode {mode_text!r} in {text!r}: expected one of {modes}") from None


def parse_endpoints(items: Iterable[str] | str | None) -> tuple[Endpoint, ...]:
    """Parse a list of endpoints, or a comma-separated string; None gives the defaults."""
    if items is None:
        return DEFAULT_ENDPOINTS
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    endpoints = tuple(dict.fromkeys(parse_endpoint(item) for item in items))
    if not endpoints:
        raise ValueError("no endpoints given: expected PORT or PORT/MODE, e.g. 587/starttls")
    return endpoints


def parse_target(text: str, endpoints: Iterable[Endpoint] | None = None) -> Target:
    """Parse a host name (IDN allowed) or an IPv4/IPv6 literal (brackets optional)."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError("empty host name")
    chosen = tuple(endpoints) if endpoints is not None else DEFAULT_ENDPOINTS
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host.count(":") == 1 and host.rsplit(":", 1)[1].isdigit():
            raise ValueError(f"invalid host {text!r}: give the port separately, e.g. --ports 25") from None
        return Target(host, _to_ascii(host), False, chosen)
    return Target(str(address), str(address), True, chosen)


def _to_ascii(host: str) -> str:
    name = host.rstrip(".")
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"invalid host name {host!r}: {exc}") from None
