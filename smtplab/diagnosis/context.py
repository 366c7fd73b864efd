"""What the rules read: one host's record and the views of its endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smtplab.analysis.certificate import CertificateInfo, read_certificate
from smtplab.analysis.interpret import EndpointView
from smtplab.record import HostRecord

SUBMISSION_PORTS = (587, 465)
"""Submission (RFC 6409) and submission over implicit TLS (RFC 8314 section 3.3)."""

RELAY_PORT = 25
"""The port where servers accept mail from other servers (RFC 5321), which needs no AUTH."""


def is_submission(item: EndpointView) -> bool:
    """Tell whether an endpoint is probed as a submission service, where clients log in to send.

    That is a port of ``SUBMISSION_PORTS`` in any mode, or any port probed with implicit
    TLS: RFC 8314 defines implicit TLS for submission, and relay between servers on
    port 25 uses STARTTLS.
    """
    return item.record.port in SUBMISSION_PORTS or item.record.mode == "tls"


def _plain_name(name: str) -> str:
    return name.rstrip(".").lower()


@dataclass(frozen=True)
class HostContext:
    host: HostRecord
    views: tuple[EndpointView, ...]
    measured_at: datetime
    config: dict[str, Any] = field(default_factory=dict)
    """The run's settings, as echoed into its record."""

    def ptr_entry(self, address: str) -> dict[str, Any] | None:
        """The PTR lookup of an address, or None when none was made."""
        if not any(entry["rdtype"] == "PTR" for entry in self.host.dns):
            return None
        # Imported here, so a run without DNS lookups (--no-dns) does not load dnspython.
        import dns.exception
        import dns.reversename

        try:
            wanted = _plain_name(dns.reversename.from_address(address).to_text())
        except (dns.exception.SyntaxError, ValueError):
            return None  # a scoped IPv6 address (fe80::1%eth0) has no reverse name
        for entry in self.host.dns:
            if entry["rdtype"] == "PTR" and _plain_name(entry["name"]) == wanted:
                return entry
        return None

    def ptr_names(self) -> tuple[str, ...]:
        names = [
            _plain_name(value)
            for entry in self.host.dns
            if entry["rdtype"] == "PTR" and entry["status"] == "ok"
            for value in entry["values"]
        ]
        return tuple(dict.fromkeys(names))

    def forward_addresses(self, name: str) -> list[str] | None:
        """Addresses that A/AAAA lookups of ``name`` returned.

        None when ``name`` was never looked up, or when a lookup failed (timeout, server failure).
        """
        entries = [
            entry for entry in self.host.dns
            if entry["rdtype"] in ("A", "AAAA") and _plain_name(entry["name"]) == _plain_name(name)
        ]
        if not entries or any(entry["status"] not in ("ok", "nxdomain", "no_answer") for entry in entries):
            return None
        return [value for entry in entries for value in entry["values"]]

    def reached(self) -> list[EndpointView]:
        """Endpoints whose server sent a greeting."""
        return [item for item in self.views if item.banner is not None]


def certificate(item: EndpointView) -> CertificateInfo | None:
    if item.tls is None or not item.tls.get("cert_pem"):
        return None
    return read_certificate(item.tls["cert_pem"])
