"""Broken and misconfigured endpoints end in a classified result, within their deadline."""

from __future__ import annotations

import asyncio
import socket
import time

import pandas as pd

import smtplab
from smtplab.lab import Lab
from smtplab.report.summary import render_summary

from rawserver import free_port, greets_with, serve, silent

LITERAL = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=0.5,
                              tls_timeout=0.5, connect_timeout=2.0, probe_timeout=10.0)


def _only_row(result: smtplab.ProbeResult) -> pd.Series:
    assert len(result.endpoints) == 1
    return result.endpoints.iloc[0]


def test_refused_port() -> None:
    row = _only_row(smtplab.probe("127.0.0.1", ports=[f"{free_port()}/starttls"], config=LITERAL))
    assert row["reachable"] == False  # noqa: E712
    assert row["error_class"] == "refused"


def test_refused_port_finding() -> None:
    result = smtplab.probe("127.0.0.1", ports=[f"{free_port()}/tls"], config=LITERAL)
    assert result.findings["code"].tolist() == ["host.unreachable", "port.refused"]


def test_silent_server_is_reply_timeout() -> None:
    with serve(silent) as port:
        started = time.monotonic()
        row = _only_row(smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=LITERAL))
        elapsed = time.monotonic() - started
    assert row["reachable"] == True  # noqa: E712
    assert row["error_class"] == "reply_timeout"
    assert row["error_step"] == "banner"
    assert elapsed < LITERAL.probe_timeout


def test_silent_server_stops_at_greeting() -> None:
    with serve(silent) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=LITERAL)
    timeouts = [finding for finding in result.finding_list if finding.code == "probe.timeout"]
    assert len(timeouts) == 1
    assert timeouts[0].params["step"] == "BANNER"
    summary = render_summary(result)
    assert "no reply in time during the greeting" in summary
    assert "during connecting" not in summary


def test_unanswered_nameserver() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))  # receives the queries and never replies
        host, port = mute.getsockname()
        config = smtplab.ProbeConfig(nameserver=f"{host}:{port}", dns_timeout=1.0)
        result = smtplab.probe("smtp.healthy.test", ports=["25"], config=config)
    row = _only_row(result)
    assert row["error_class"] == "dns_timeout"
    codes = set(result.findings["code"])
    assert "host.dns_failed" in codes
    assert "dns.unresolved" not in codes
    summary = render_summary(result)
    assert "DNS lookup timed out (A: timeout, AAAA: timeout)" in summary
    assert "during the DNS lookup" not in summary


def test_deadline_ends_probe() -> None:
    config = smtplab.ProbeConfig(resolve=False, reply_timeout=30.0, probe_timeout=1.0)
    with serve(silent) as port:
        started = time.monotonic()
        row = _only_row(smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=config))
        elapsed = time.monotonic() - started
    assert row["error_class"] == "deadline"
    assert elapsed < 3.0


def test_greeting_554_is_inconclusive() -> None:
    with serve(greets_with("554 5.7.1 Service unavailable; client host blocked")) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=LITERAL)
    row = _only_row(result)
    assert row["error_class"] == "greeting_rejected"
    codes = set(result.findings["code"])
    assert codes == {"greeting.rejected"}


def test_greeting_421_is_service_unavailable() -> None:
    with serve(greets_with("421 4.3.2 Too many connections, try later")) as port:
        row = _only_row(smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=LITERAL))
    assert row["error_class"] == "service_unavailable"
    assert pd.isna(row["starttls"])


def test_plaintext_on_tls_port(lab: Lab, lab_config: smtplab.ProbeConfig) -> None:
    server = lab.servers["healthy"]
    starttls_port = server.endpoints[0].split("/")[0]
    result = smtplab.probe(server.host, ports=[f"{starttls_port}/tls"], config=lab_config)
    row = _only_row(result)
    assert row["error_class"] == "plaintext_on_tls_port"
    assert row["banner"] == "smtp.healthy.test ESMTP"
    assert "tls.implicit_plaintext" in set(result.findings["code"])


def test_tls_on_plain_port(lab: Lab) -> None:
    server = lab.servers["healthy"]
    tls_port = server.endpoints[-1].split("/")[0]
    config = smtplab.ProbeConfig(nameserver=lab.nameserver, cafile=str(lab.cafile),
                                 reply_timeout=0.5, ehlo_name="client.smtplab.test")
    row = _only_row(smtplab.probe(server.host, ports=[f"{tls_port}/starttls"], config=config))
    assert row["error_class"] == "tls_on_plain_port"


def test_untrusted_certificate_continues(lab: Lab) -> None:
    server = lab.servers["healthy"]
    config = smtplab.ProbeConfig(nameserver=lab.nameserver, ehlo_name="client.smtplab.test")
    result = smtplab.probe(server.host, ports=server.endpoints[:1], config=config)
    row = _only_row(result)
    assert row["cert_verified"] == False  # noqa: E712
    assert row["auth_tls"] == "PLAIN LOGIN"
    assert "local issuer" in str(result.tls["verify_error"].iloc[0])
    assert "cert.untrusted" in set(result.findings["code"])


def test_unknown_name(lab: Lab, lab_config: smtplab.ProbeConfig) -> None:
    result = smtplab.probe("nosuch.shop.test", ports=["25"], config=lab_config)
    row = _only_row(result)
    assert row["error_class"] == "dns_nxdomain"
    assert pd.isna(row["address"])
    assert "dns.unresolved" in set(result.findings["code"])


def test_probe_inside_running_loop(lab: Lab, lab_config: smtplab.ProbeConfig) -> None:
    server = lab.servers["healthy"]

    async def call_sync_api() -> smtplab.ProbeResult:
        return smtplab.probe(server.host, ports=server.endpoints[:1], config=lab_config)

    result = asyncio.run(call_sync_api())
    assert _only_row(result)["tls_ok"] == True  # noqa: E712
