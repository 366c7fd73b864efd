"""smtplab: diagnose SMTP servers; every answer is data.

>>> import smtplab
>>> result = smtplab.probe("mail.example.com", config=smtplab.ProbeConfig(nameserver="127.0.0.1"))
>>> result.endpoints, result.capabilities, result.findings
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger("smtplab").addHandler(logging.NullHandler())

from smtplab.config import ProbeConfig  # noqa: E402
from smtplab.credentials import Credentials, Secret  # noqa: E402
from smtplab.importers import from_transcript  # noqa: E402
from smtplab.result import ProbeResult, load  # noqa: E402
from smtplab.runner import probe, probe_many, probe_many_async  # noqa: E402
from smtplab.targets import Endpoint, Target, TlsMode, parse_endpoints, parse_target  # noqa: E402

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
