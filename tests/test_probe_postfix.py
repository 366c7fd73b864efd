"""Probing a real Postfix on loopback: banner, EHLO before and after TLS, TLS, relay, AUTH."""

from __future__ import annotations

import pandas as pd
import pytest

import smtplab

from postfix_server import PostfixServer


def _config(server: PostfixServer) -> smtplab.ProbeConfig:
    return smtplab.ProbeConfig(resolve=False, cafile=str(server.cafile),
                               ehlo_name="client.smtplab.test", reply_timeout=10.0)


@pytest.fixture(scope="module")
def result(postfix: PostfixServer) -> smtplab.ProbeResult:
    ports = [f"{postfix.ports['smtp']}/starttls", f"{postfix.ports['submission']}/starttls",
             f"{postfix.ports['smtps']}/tls"]
    credentials = smtplab.Credentials(postfix.username, smtplab.Secret(postfix.password))
    probed = smtplab.probe(postfix.host, ports=ports, config=_config(postfix),
                           credentials=credentials)
    yield probed
    postfix.delete_queued_messages()


def _row(result: smtplab.ProbeResult, port: int) -> pd.Series:
    rows = result.endpoints[result.endpoints["port"] == port]
    assert len(rows) == 1
    return rows.iloc[0]


def test_banner(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    for port in postfix.ports.values():
        row = _row(result, port)
        assert row["banner_host"] == "mail.postfix.test"
        assert str(row["banner"]).startswith("mail.postfix.test ESMTP")


def test_submission_auth_only_after_tls(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    row = _row(result, postfix.ports["submission"])
    assert row["starttls"] == True  # noqa: E712
    assert row["auth_plain"] == ""
    assert set(str(row["auth_tls"]).split()) >= {"PLAIN", "LOGIN"}
    caps = result.capabilities
    port_caps = caps[caps["port"] == postfix.ports["submission"]]
    plain = set(port_caps[port_caps["phase"] == "plain"]["keyword"])
    inside = set(port_caps[port_caps["phase"] == "tls"]["keyword"])
    assert "STARTTLS" in plain
    assert "STARTTLS" not in inside
    assert "AUTH" in inside - plain


def test_smtp_port_without_auth(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    row = _row(result, postfix.ports["smtp"])
    assert row["auth_tls"] == ""
    assert row["tls_ok"] == True  # noqa: E712


def test_tls_details(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    tls = result.tls
    assert sorted(tls["port"].tolist()) == sorted(postfix.ports.values())
    assert tls["version"].isin(["TLSv1.2", "TLSv1.3"]).all()
    assert tls["sans"].str.contains("mail.postfix.test").all()
    assert tls["verified"].all()
    assert (tls["days_left"] > 0).all()


def test_relay_refused(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    for port in postfix.ports.values():
        row = _row(result, port)
        assert row["relay_unauth"] == "denied"
    transcript = result.transcript
    rcpt = transcript[(transcript["step"] == "rcpt") & (transcript["direction"] == "S")]
    first = rcpt["text"].iloc[0]
    assert first.startswith("554 5.7.1")
    assert "Relay access denied" in first


def test_login_and_authenticated_relay(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    for name in ("submission", "smtps"):
        row = _row(result, postfix.ports[name])
        assert row["auth_result"] == "accepted"
        assert row["relay_auth"] == "accepted"


def test_findings(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    findings = result.findings
    codes = set(findings["code"])
    assert "auth.after_starttls" in codes
    assert "relay.denied" in codes
    assert "relay.open" not in codes
    assert not (findings["severity"] == "critical").any()


def test_password_never_recorded(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    text = "".join(frame.to_csv() for frame in result.frames().values()) + result.to_markdown()
    assert postfix.password not in text


def test_probe_never_queues_mail(result: smtplab.ProbeResult, postfix: PostfixServer) -> None:
    assert postfix.queued_messages() == []
    assert not (result.transcript["text"] == "DATA").any()
