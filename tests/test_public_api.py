"""The curated public API: what ``import smtplab`` offers is a deliberate list."""

from __future__ import annotations

import subprocess
import sys

import smtplab

PUBLIC = {
    "Credentials", "Endpoint", "ProbeConfig", "ProbeResult", "Secret", "Target", "TlsMode",
    "__version__", "from_transcript", "load", "parse_endpoints", "parse_target", "probe",
    "probe_many", "probe_many_async",
}


def test_all_is_the_curated_list() -> None:
    assert set(smtplab.__all__) == PUBLIC


def test_every_name_in_all_exists() -> None:
    for name in smtplab.__all__:
        assert hasattr(smtplab, name), name


def test_import_does_not_load_pandas_or_matplotlib() -> None:
    code = (
        "import sys, smtplab, smtplab.cli\n"
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
