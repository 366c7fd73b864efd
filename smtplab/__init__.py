"""smtplab: diagnose SMTP servers, and keep every answer as data.

>>> import smtplab
>>> result = smtplab.probe("mail.example.com", config=smtplab.ProbeConfig(nameserver="127.0.0.1"))
>>> result.endpoints, result.capabilities, result.findings

A domain's mail posture (MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT, DANE):

>>> from smtplab.domain import probe_domain
>>> posture = probe_domain("example.com", config=smtplab.ProbeConfig(nameserver="127.0.0.1"))
>>> posture.records, posture.findings

``smtplab.lab.Lab`` runs local test servers, DNS and a CA on loopback, and
``Lab.domain_options()`` gives the ``probe_domain`` arguments that reach them.
``smtplab.scan`` probes a fleet, ``smtplab.plots`` draws the frames in notebooks.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger("smtplab").addHandler(logging.NullHandler())

from typing import TYPE_CHECKING, Any  # noqa: E402

from smtplab.config import ProbeConfig  # noqa: E402
from smtplab.credentials import Credentials, Secret  # noqa: E402
from smtplab.targets import Endpoint, Target, TlsMode, parse_endpoints, parse_target  # noqa: E402

if TYPE_CHECKING:
    from smtplab.importers import from_transcript
    from smtplab.result import ProbeResult, load
    from smtplab.runner import probe, probe_many, probe_many_async

# Imported on first use, so the command line parses its arguments (and prints
# --help) without loading the probe engine, and a probe loads the diagnosis,
# fingerprint and import modules only when it needs them.
_LAZY = {
    "from_transcript": "smtplab.importers",
    "ProbeResult": "smtplab.result",
    "load": "smtplab.result",
    "probe": "smtplab.runner",
    "probe_many": "smtplab.runner",
    "probe_many_async": "smtplab.runner",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'smtplab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value

__all__ = [
    "Credentials",
    "Endpoint",
    "ProbeConfig",
    "ProbeResult",
    "Secret",
    "Target",
    "TlsMode",
    "__version__",
    "from_transcript",
    "load",
    "parse_endpoints",
    "parse_target",
    "probe",
    "probe_many",
    "probe_many_async",
]
