"""A domain's mail posture: MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE.

>>> posture = probe_domain("example.com", config=ProbeConfig(nameserver="127.0.0.1:5353"))
>>> posture.mx, posture.spf, posture.dmarc, posture.findings
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Loaded on first use, so the command line can register `probe-domain` without
# importing the checks.
_MODULES = {
    "DOMAIN_KINDS": "smtplab.domain.findings",
    "DomainFinding": "smtplab.domain.findings",
    "DomainPosture": "smtplab.domain.posture",
    "MxEndpoint": "smtplab.domain.posture",
    "probe_domain": "smtplab.domain.probe",
    "probe_domain_async": "smtplab.domain.probe",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'smtplab.domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
