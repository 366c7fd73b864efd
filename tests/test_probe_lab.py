"""End to end against the embedded lab: the motivating broken server and a healthy one."""

from __future__ import annotations

import pandas as pd

import smtplab
from smtplab.lab import Lab
from smtplab.report.advice import recommend

MOTIVATING_EHLO = [
    "PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
    "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING",
]



def _row(result: smtplab.ProbeResult, mode: str, index: int = 0) -> pd.Series:
    rows = result.endpoints[result.endpoints["mode"] == mode]
    return rows.iloc[index]


def test_broken_starttls_ports(broken: smtplab.ProbeResult) -> None:
    rows = broken.endpoints[broken.endpoints["mode"] == "starttls"]
    assert len(rows) == 2
    for _, row in rows.iterrows():
        assert row["banner"] == "mail.dev.test ESMTP"
        assert row["banner_host"] == "mail.dev.test"
        assert row["starttls"] is True or row["starttls"] == True  # noqa: E712
        assert row["tls_ok"] == True  # noqa: E712
        assert row["auth_plain"] == ""
        assert row["auth_tls"] == ""
        assert row["relay_unauth"] == "denied"
        assert pd.isna(row["error_class"])


def test_broken_ehlo_before_and_after_tls(broken: smtplab.ProbeResult) -> None:
    caps = broken.capabilities
    port = int(_row(broken, "starttls")["port"])
    plain = caps[(caps["port"] == port) & (caps["phase"] == "plain")]["keyword"].tolist()
    inside = caps[(caps["port"] == port) & (caps["phase"] == "tls")]["keyword"].tolist()
    assert plain == MOTIVATING_EHLO
    assert inside == [keyword for keyword in MOTIVATING_EHLO if keyword != "STARTTLS"]
    assert caps[(caps["port"] == port) & (caps["keyword"] == "SIZE")]["params"].iloc[0] == "10240000"


def test_broken_relay_reply_kept(broken: smtplab.ProbeResult) -> None:
    transcript = broken.transcript
    rcpt = transcript[(transcript["step"] == "rcpt") & (transcript["direction"] == "S")]
    assert not rcpt.empty
    assert rcpt["text"].str.startswith("454 4.7.1 <smtplab@example.net>: Relay access denied").all()


def test_replies_frame(broken: smtplab.ProbeResult) -> None:
    replies = broken.replies
    rcpt = replies[replies["step"] == "rcpt"]
    assert (rcpt["code"] == 454).all()
    assert (rcpt["enhanced"] == "4.7.1").all()
    assert rcpt["command"].str.startswith("RCPT TO:<").all()
    assert (rcpt["elapsed_ms"] >= 0).all()
    ehlo = replies[(replies["step"] == "ehlo") & (replies["phase"] == "plain")]
    assert (ehlo["lines"] == 11).all()


def test_broken_implicit_tls_reset(broken: smtplab.ProbeResult) -> None:
    row = _row(broken, "tls")
    assert row["reachable"] == True  # noqa: E712
    assert row["tls_ok"] == False  # noqa: E712
    assert row["error_class"] == "reset"
    assert row["error_step"] == "tls"


def test_broken_findings(broken: smtplab.ProbeResult) -> None:
    findings = broken.findings
    codes = set(findings["code"])
    assert {"auth.none", "tls.implicit_failed", "name.banner_mismatch", "relay.denied",
            "cert.name_mismatch"} <= codes
    assert "relay.open" not in codes
    assert "auth.after_starttls" not in codes
    assert "name.fcrdns_failed" not in codes
    assert "ext.vrfy" in codes
    severity = dict(zip(findings["code"], findings["severity"], strict=False))
    assert severity["auth.none"] == "critical"
    assert severity["tls.implicit_failed"] == "critical"
    assert severity["relay.denied"] == "ok"
    assert findings["severity"].iloc[0] == "critical"


def test_broken_auth_evidence_is_inside_tls(broken: smtplab.ProbeResult) -> None:
    evidence = broken.findings.set_index("code").loc["auth.none", "evidence"]
    assert evidence.startswith("C: EHLO ")
    assert "S: 250 CHUNKING" in evidence
    transcript = broken.transcript
    ehlo_in_tls = transcript[(transcript["phase"] == "tls") & (transcript["step"] == "ehlo")]
    assert not ehlo_in_tls.empty


def test_broken_has_no_client_settings(broken: smtplab.ProbeResult) -> None:
    assert recommend(broken.views, None) is None
    assert "no client setting can work yet" in broken.to_markdown()


def test_healthy_auth_only_inside_tls(healthy: smtplab.ProbeResult) -> None:
    for _, row in healthy.endpoints[healthy.endpoints["mode"] == "starttls"].iterrows():
        assert row["auth_plain"] == ""
        assert row["auth_tls"] == "PLAIN LOGIN"
        assert row["cert_verified"] == True  # noqa: E712
    implicit = _row(healthy, "tls")
    assert implicit["tls_ok"] == True  # noqa: E712
    assert implicit["auth_tls"] == "PLAIN LOGIN"


def test_healthy_login_and_relay(healthy: smtplab.ProbeResult) -> None:
    endpoints = healthy.endpoints
    assert (endpoints["auth_result"] == "accepted").all()
    assert (endpoints["relay_unauth"] == "denied").all()
    assert (endpoints["relay_auth"] == "accepted").all()


def test_healthy_tls_frame(healthy: smtplab.ProbeResult) -> None:
    tls = healthy.tls
    assert len(tls) == 3
    assert tls["name_matches"].all()
    assert tls["verified"].all()
    assert (tls["days_left"] > 0).all()
    assert tls["sans"].str.contains("smtp.healthy.test").all()
    assert tls["version"].str.startswith("TLSv1.").all()


def test_healthy_findings(healthy: smtplab.ProbeResult) -> None:
    findings = healthy.findings
    assert "auth.after_starttls" in set(findings["code"])
    assert not (findings["severity"] == "critical").any()
    assert not (findings["severity"] == "warning").any()


def test_healthy_recommends_implicit_tls(healthy: smtplab.ProbeResult) -> None:
    settings = recommend(healthy.views, healthy.run.username)
    assert settings is not None
    assert settings.port == int(_row(healthy, "tls")["port"])
    assert settings.encryption == "SSL/TLS (implicit)"
    assert settings.verified_login is True
    assert settings.username == "alice@healthy.test"


def test_dns_frame(healthy: smtplab.ProbeResult) -> None:
    dns = healthy.dns
    a = dns[(dns["rdtype"] == "A") & (dns["name"] == "smtp.healthy.test")]
    ptr = dns[dns["rdtype"] == "PTR"]
    confirm = dns[(dns["rdtype"] == "A") & (dns["name"] == "smtp.healthy.test.")]
    assert a["value"].tolist() == ["127.0.0.3"]
    assert ptr["value"].tolist() == ["smtp.healthy.test."]
    assert confirm["value"].tolist() == ["127.0.0.3"]
    assert dns[dns["rdtype"] == "AAAA"]["status"].tolist() == ["no_answer", "no_answer"]


def test_capability_matrix(healthy: smtplab.ProbeResult) -> None:
    matrix = healthy.capability_matrix()
    port = int(_row(healthy, "starttls")["port"])
    assert matrix.loc["AUTH", f"smtp.healthy.test:{port}:tls"] == "PLAIN LOGIN"
    assert pd.isna(matrix.loc["AUTH", f"smtp.healthy.test:{port}:plain"])
    assert matrix.loc["STARTTLS", f"smtp.healthy.test:{port}:plain"] == "yes"


def test_frames_are_typed(healthy: smtplab.ProbeResult) -> None:
    endpoints = healthy.endpoints
    assert str(endpoints["reachable"].dtype) == "boolean"
    assert str(endpoints["port"].dtype) == "Int64"
    assert isinstance(endpoints["mode"].dtype, pd.CategoricalDtype)
    assert str(healthy.tls["not_after"].dtype).startswith("datetime64")
    assert str(healthy.tls["not_after"].dt.tz) == "UTC"


def test_saved_result_reloads_identically(healthy: smtplab.ProbeResult, tmp_path) -> None:
    path = healthy.save(tmp_path / "healthy.jsonl")
    loaded = smtplab.load(path)
    for name, frame in healthy.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], frame, obj=name)
    assert loaded.to_markdown() == healthy.to_markdown()


def test_many_hosts_in_one_run(lab: Lab, lab_config: smtplab.ProbeConfig) -> None:
    targets = [
        smtplab.parse_target(server.host, smtplab.parse_endpoints(server.endpoints))
        for server in lab.servers.values()
    ]
    result = smtplab.probe_many(targets, config=lab_config)
    assert sorted(result.endpoints["host"].unique()) == ["mx.shop.test", "smtp.healthy.test"]
    assert len(result.endpoints) == 6
