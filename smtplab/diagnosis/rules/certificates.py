"""The certificate each TLS endpoint presented."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.analysis.certificate import name_matches
from smtplab.diagnosis.context import HostContext, certificate
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

EXPIRY_WARNING_DAYS = 30


def certificate_problems(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        cert = certificate(item)
        if cert is None:
            continue
        names = " ".join(cert.names()) or "-"
        subject = f"subject {cert.subject}, issuer {cert.issuer}, names {names}"
        shown = [subject, f"valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}"]
        days = cert.days_left(context.measured_at)
        if days < 0:
            expired_days = (context.measured_at - cert.not_after).days
            yield at(item, "cert.expired", shown, days=expired_days, subject=subject)
        elif days < EXPIRY_WARNING_DAYS:
            yield at(item, "cert.expiring", shown, days=days, subject=subject)
        if cert.self_signed:
            yield at(item, "cert.self_signed", shown, subject=subject)
        elif item.verified is False:
            yield at(item, "cert.untrusted", [f"verify error: {item.verify_error}", *shown],
                     verify_error=item.verify_error, subject=subject)
        if not name_matches(context.host.ascii_host, cert.names()):
            yield at(item, "cert.name_mismatch", shown, names=names)
