"""The optional TLS scan: obsolete versions and weak ciphers a server still accepts."""

from __future__ import annotations

import ssl
import warnings

import pandas as pd
import pytest
import trustme

import smtplab
from smtplab.lab import Lab

from hostile import Script, implicit_tls, scripted
from rawserver import serve


@pytest.fixture(scope="module")
def permissive_context() -> ssl.SSLContext:
    """A server context that still allows TLS 1.0 and every cipher, like an old server."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _config(**options: object) -> smtplab.ProbeConfig:
    return smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=3.0,
                               tls_scan=True, relay_test=False, **options)  # type: ignore[arg-type]


def test_old_server_accepts_tls10(permissive_context: ssl.SSLContext) -> None:
    with serve(implicit_tls(permissive_context, scripted(Script()))) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/tls"], config=_config())
    row = result.endpoints.iloc[0]
    assert "TLSv1" in str(row["old_tls_accepted"]).split()
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert row["tls_version"] == "TLSv1.3"
    finding = result.findings.set_index("code").loc["tls.obsolete_accepted"]
    assert finding["severity"] == "warning"
    assert "TLS offer TLSv1 accepted: TLSv1" in finding["evidence"]


def test_old_server_over_starttls(permissive_context: ssl.SSLContext) -> None:
    with serve(scripted(Script(tls=permissive_context))) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=_config())
    row = result.endpoints.iloc[0]
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert row["auth_tls"] == ""
    assert "tls.obsolete_accepted" in set(result.findings["code"])


def test_scan_does_not_change_main_facts(permissive_context: ssl.SSLContext) -> None:
    with serve(scripted(Script(tls=permissive_context))) as port:
        plain = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"],
                              config=_config().__class__(**{**_config().to_dict(), "tls_scan": False}))
        scanned = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=_config())
    same = ["banner", "starttls", "tls_ok", "tls_version", "auth_plain", "auth_tls", "error_class"]
    pd.testing.assert_series_equal(plain.endpoints.iloc[0][same], scanned.endpoints.iloc[0][same],
                                   check_names=False)
    assert pd.isna(plain.endpoints.iloc[0]["old_tls_accepted"])
    checks = scanned.transcript[scanned.transcript["check"].notna()]
    assert set(checks["check"]) == {"TLSv1", "TLSv1.1", "weak-ciphers"}


def test_modern_server_rejects_old_offers(lab: Lab) -> None:
    server = lab.servers["healthy"]
    config = _config(nameserver=lab.nameserver, cafile=str(lab.cafile))
    result = smtplab.probe(server.host, ports=server.endpoints, config=config)
    assert (result.endpoints["old_tls_accepted"] == "").all()
    codes = set(result.findings["code"])
    assert "tls.obsolete_accepted" not in codes
    assert "tls.weak_cipher_accepted" not in codes
