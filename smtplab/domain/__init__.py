"""A domain's mail posture: MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE.

>>> posture = probe_domain("example.com", config=ProbeConfig(nameserver="127.0.0.1:5353"))
>>> posture.mx, posture.spf, posture.dmarc, posture.findings
"""

from __future__ import annotations

from smtplab.domain.findings import DOMAIN_KINDS, DomainFinding
from smtplab.domain.posture import DomainPosture, MxEndpoint
from smtplab.domain.probe import probe_domain, probe_domain_async

__all__ = [
    "DOMAIN_KINDS",
    "DomainFinding",
    "DomainPosture",
    "MxEndpoint",
    "probe_domain",
    "probe_domain_async",
]
