"""What the rules read: one host's record and the views of its endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smtplab.analysis.certificate import CertificateInfo, read_certificate
from smtplab.analysis.interpret import EndpointView
from smtplab.record import HostRecord

SUBMISSION_PORTS = (587, 465)


@dataclass(frozen=True)
class HostContext:
    host: HostRecord
    views: tuple[EndpointView, ...]
    measured_at: datetime

    @property
    def ptr_names(self) -> tuple[str, ...]:
        names = [
            value.rstrip(".").lower()
            for entry in self.host.dns
            if entry["rdtype"] == "PTR" and entry["status"] == "ok"
            for value in entry["values"]
        ]
        return tuple(dict.fromkeys(names))

    def reached(self) -> list[EndpointView]:
        """Endpoints whose server sent a greeting."""
        return [item for item in self.views if item.banner is not None]


def certificate(item: EndpointView) -> CertificateInfo | None:
    if item.tls is None or not item.tls.get("cert_pem"):
        return None
    return read_certificate(item.tls["cert_pem"])
