"""Domain posture checks against a real unbound, the lab's SMTP servers and a local HTTPS server."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from pathlib import Path

import dns.resolver
import pandas as pd
import pytest

from smtplab.diagnosis import Severity
from smtplab.domain import DomainPosture, probe_domain
from smtplab.domain.cli import add_parser, run
from smtplab.lab import Lab

from domainlab import DomainLab, codes, finding
from rawserver import serve


@pytest.fixture(scope="module")
def good(domain_lab: DomainLab) -> DomainPosture:
    return domain_lab.probe("good.test", selectors=["sel1", "ed"], submission=True)


@pytest.fixture(scope="module")
def broken(domain_lab: DomainLab) -> DomainPosture:
    return domain_lab.probe("broken.test", selectors=["old", "gone", "bad", "nope"])


def test_good_domain_passes_every_check(good: DomainPosture) -> None:
    severities = {item.code: item.severity for item in good.finding_list}
    assert {
        "domain.spf_ok",
        "domain.dmarc_enforced",
        "domain.dkim_ok",
        "domain.mta_sts_enforced",
        "domain.tlsa_match",
    } <= set(severities)
    assert not [code for code, severity in severities.items() if severity is Severity.CRITICAL]
    # The only warning: unbound serves the zone unsigned, so the TLSA records are not validated.
    assert [code for code, severity in severities.items() if severity is Severity.WARNING] == [
        "domain.tlsa_not_validated"
    ]


def test_good_domain_mx_frame(good: DomainPosture) -> None:
    row = good.mx.iloc[0]
    assert len(good.mx) == 1
    assert row["host"] == "smtp.healthy.test"
    assert row["preference"] == 10
    assert row["address"] == "127.0.0.3"
    assert row["ptr"] == "smtp.healthy.test"
    assert bool(row["fcrdns"]) is True
    assert bool(row["starttls"]) is True
    assert bool(row["cert_verified"]) is True
    assert bool(row["cert_matches_host"]) is True
    assert good.probe is not None
    assert good.probe.endpoints["reachable"].tolist() == [True]


def test_good_domain_record_frames(good: DomainPosture) -> None:
    purposes = set(good.records["purpose"].astype(str))
    assert {
        "mx",
        "spf",
        "spf (include)",
        "dmarc",
        "dkim",
        "mta-sts",
        "tls-rpt",
        "tlsa",
        "submission",
    } <= purposes
    assert good.records["valid"].fillna(True).all()
    assert int(good.spf["lookups"].sum()) == 2
    assert good.dmarc["effective_policy"].tolist() == ["reject"]
    assert good.dkim.set_index("selector")["bits"].to_dict() == {"sel1": 2048, "ed": 256}
    assert good.mta_sts["passes"].tolist() == [True]
    assert set(good.tlsa["verdict"].astype(str)) == {"match"}
    assert good.dnssec_validated is False


def test_submission_servers_from_srv(good: DomainPosture, lab: Lab) -> None:
    healthy = lab.servers["healthy"]
    assert good.submission is not None
    endpoints = good.submission.endpoints
    expected = {int(healthy.endpoints[1].split("/")[0]), int(healthy.endpoints[2].split("/")[0])}
    assert set(endpoints["port"].tolist()) == expected
    assert endpoints["reachable"].all()
    assert set(endpoints["auth_tls"].tolist()) == {"PLAIN LOGIN"}


def test_spf_lookup_limit_counted_recursively(broken: DomainPosture) -> None:
    assert broken.spf_evaluation.lookups == 11
    assert broken.spf_evaluation.mx_address_lookups == 4
    item = finding(broken, "domain.spf_lookup_limit")
    assert item.params["lookups"] == 11
    assert any("include:s1.broken.test" in line for line in item.evidence)
    assert "domain.spf_ok" not in codes(broken)
    assert set(broken.spf["depth"].tolist()) == {0, 1, 2}


def test_two_dmarc_records(broken: DomainPosture) -> None:
    item = finding(broken, "domain.dmarc_multiple")
    assert item.params["count"] == 2
    assert len(item.evidence) == 2
    assert broken.dmarc["valid"].tolist() == [False, False]


def test_mta_sts_policy_misses_an_mx(broken: DomainPosture) -> None:
    assert "domain.mta_sts_mx_mismatch" in codes(broken, "mx.shop.test")
    assert "domain.mta_sts_mx_mismatch" not in codes(broken, "smtp.healthy.test")
    assert finding(broken, "domain.mta_sts_cert_mismatch", "mx.shop.test").params["names"] == "mail.dev.test"
    assert (
        finding(broken, "domain.mta_sts_name_outside_policy", "mx.shop.test").params["name"]
        == "mail.dev.test"
    )
    assert "domain.mta_sts_max_age_short" in codes(broken)
    assert "domain.mta_sts_enforced" not in codes(broken)
    frame = broken.mta_sts.set_index("mx")
    assert bool(frame.loc["mx.shop.test", "passes"]) is False
    assert bool(frame.loc["smtp.healthy.test", "passes"]) is True


def test_tlsa_not_matching_certificate(broken: DomainPosture) -> None:
    item = finding(broken, "domain.tlsa_mismatch_unsigned", "mx.shop.test")
    assert item.params["address"] == "127.0.0.2"
    assert "domain.tlsa_pkix_usage" in codes(broken, "mx.shop.test")
    assert "domain.tlsa_match" in codes(broken, "smtp.healthy.test")
    verdicts = broken.tlsa.groupby("mx")["verdict"].apply(lambda column: set(column.astype(str))).to_dict()
    assert verdicts["mx.shop.test"] == {"mismatch", "unusable"}


def test_ptr_not_forward_confirmed(broken: DomainPosture) -> None:
    item = finding(broken, "domain.fcrdns_failed", "mx.shop.test")
    assert item.params["ptr"] == "mail.dev.test"
    assert "127.0.0.9" in item.params["forward"]
    assert "domain.fcrdns_failed" not in codes(broken, "smtp.healthy.test")


def test_dkim_key_verdicts(broken: DomainPosture) -> None:
    assert finding(broken, "domain.dkim_weak_key").params == {
        "selector": "old",
        "name": "old._domainkey.broken.test",
        "bits": 1024,
    }
    assert finding(broken, "domain.dkim_revoked").params["selector"] == "gone"
    assert finding(broken, "domain.dkim_invalid").params["selector"] == "bad"
    assert finding(broken, "domain.dkim_missing").params["status"] == "nxdomain"
    assert "domain.tlsrpt_invalid" in codes(broken)


def test_null_mx(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("nullmx.test")
    assert "domain.null_mx" in codes(posture)
    assert posture.probe is None
    assert posture.mx.empty
    assert posture.tlsa.empty


def test_no_mx_falls_back_to_address(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("fallback.test")
    assert finding(posture, "domain.no_mx_fallback_a").params["addresses"] == "127.0.0.3"
    assert "domain.spf_plus_all" in codes(posture)
    assert "domain.dmarc_none_policy" in codes(posture)
    assert bool(posture.mx.iloc[0]["implicit"]) is True
    assert bool(posture.mx.iloc[0]["starttls"]) is True


def test_mta_sts_testing_mode_reports_failures(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("fallback.test")
    assert "domain.mta_sts_testing" in codes(posture)
    problems = finding(posture, "domain.mta_sts_testing_failures").params["problems"]
    assert "domain.mta_sts_mx_mismatch (fallback.test)" in problems
    assert "domain.mta_sts_cert_mismatch (fallback.test)" in problems
    # In testing mode the failures are reported once, as a warning, not as critical findings.
    assert "domain.mta_sts_mx_mismatch" not in codes(posture)


def test_unreachable_mx_without_ptr(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("unreach.test")
    assert "domain.mx_unreachable" in codes(posture)
    assert finding(posture, "domain.ptr_missing").params == {"mx": "mx.unreach.test", "address": "127.0.0.4"}
    assert posture.mx.iloc[0]["error_class"] == "refused"


def test_void_lookups_and_include_without_spf(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("unreach.test")
    assert finding(posture, "domain.spf_void_lookup_limit").params["void"] == 3
    assert finding(posture, "domain.spf_include_missing").params["targets"] == "nospf.unreach.test"
    assert {"domain.dmarc_pct", "domain.dmarc_sp_none", "domain.dmarc_unknown_tag"} <= codes(posture)


def test_policy_redirect_is_not_followed(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("unreach.test")
    item = finding(posture, "domain.mta_sts_policy_unavailable")
    assert item.params["status"] == "http_error"
    assert "not followed" in item.params["detail"]


def test_dmarc_inherited_from_organizational_domain(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("sub.good.test")
    item = finding(posture, "domain.dmarc_inherited")
    assert item.params["org"] == "good.test"
    assert posture.dmarc["source"].tolist() == ["good.test"]
    assert posture.dmarc["effective_policy"].tolist() == ["reject"]


def test_mx_naming_a_cname(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("cnamemx.test")
    assert "domain.mx_cname" in codes(posture)


def test_mx_written_as_ip_literal(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("iplit.test")
    assert "domain.mx_ip_literal" in codes(posture)


def test_record_faults_without_mail_host(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("records.test", submission=True)
    found = codes(posture)
    assert "domain.no_mail_host" in found
    assert "domain.spf_multiple" in found
    assert "domain.mta_sts_record_invalid" in found
    assert "domain.tlsrpt_invalid" in found
    assert "domain.submission_srv_missing" in found


def test_spf_ptr_mechanism(domain_lab: DomainLab) -> None:
    assert "domain.spf_ptr" in codes(domain_lab.probe("ptrspf.test"))


def test_test_resolver_refuses_other_names(domain_lab: DomainLab) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = domain_lab.dns.port
    resolver.lifetime = 3.0
    with pytest.raises(dns.resolver.NoNameservers, match="REFUSED"):
        resolver.resolve("example.com", "A")


def test_findings_in_chinese(broken: DomainPosture) -> None:
    english = broken.findings_frame("en")
    chinese = broken.findings_frame("zh-CN")
    assert english["code"].tolist() == chinese["code"].tolist()
    for title_en, title_zh in zip(english["title"], chinese["title"], strict=True):
        assert title_en != title_zh


def test_markdown_and_html_sections(broken: DomainPosture) -> None:
    markdown = broken.to_markdown("en")
    html = broken.to_html("zh-CN")
    assert "broken.test" in markdown
    assert "domain.tlsa_mismatch_unsigned" in markdown
    assert "mx.shop.test" in markdown
    assert "<section" in html
    assert "domain.dmarc_multiple" in html


def _cli(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smtplab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(args))


def _cli_options(domain_lab: DomainLab, lab: Lab, tmp_path: Path) -> list[str]:
    cafile = tmp_path / "cas.pem"
    cafile.write_text(lab.cafile.read_text() + domain_lab.policies.cafile.read_text())
    options = [
        "--nameserver",
        domain_lab.config.nameserver or "",
        "--cafile",
        str(cafile),
        "--ehlo-name",
        "client.smtplab.test",
        "--timeout",
        "5",
        "--mta-sts-port",
        str(domain_lab.policies.port),
    ]
    for host, endpoint in domain_lab.mx_endpoints.items():
        options += ["--mx-endpoint", f"{host}={endpoint}"]
    return options


def test_cli_reports_critical_findings(
    domain_lab: DomainLab, lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "broken.md"
    status = _cli(
        [
            "probe-domain",
            "broken.test",
            *_cli_options(domain_lab, lab, tmp_path),
            "--selector",
            "old",
            "-o",
            str(report),
            "--lang",
            "zh-CN",
        ]
    )
    output = capsys.readouterr().out
    assert status == 1
    assert "domain.spf_lookup_limit" in output
    assert "domain.mta_sts_mx_mismatch" in output
    assert "broken.test 的邮件安全状况" in report.read_text(encoding="utf-8")


def test_cli_json_and_html(
    domain_lab: DomainLab, lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "good.html"
    status = _cli(
        [
            "probe-domain",
            "good.test",
            *_cli_options(domain_lab, lab, tmp_path),
            "--selector",
            "sel1",
            "--format",
            "json",
            "-o",
            str(report),
        ]
    )
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert status == 0
    assert f"report written to {report}" in captured.err
    assert document["domain"] == "good.test"
    assert {"mx", "records", "spf", "dmarc", "dkim", "mta_sts", "tlsa", "findings"} <= set(document["frames"])
    assert document["frames"]["mta_sts"][0]["passes"] is True
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    assert ".finding.critical" in page
    assert '<section class="domain-posture">' in page


def test_cli_rejects_unknown_report_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.pdf"
    status = _cli(["probe-domain", "example.test", "--nameserver", "127.0.0.1:9", "-o", str(report)])
    error = capsys.readouterr().err
    assert status == 2
    assert "unsupported report file extension '.pdf'" in error
    assert "use .html or .md" in error


def test_signed_zone_validated(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("signed.test")
    assert posture.dnssec_validated is True
    assert bool(posture.records.set_index("purpose").loc["tlsa", "authenticated"]) is True
    assert "domain.tlsa_match" in codes(posture, "mx.signed.test")
    assert not {"domain.dnssec_not_validated", "domain.tlsa_not_validated"} & codes(posture)
    assert bool(posture.dns["authenticated"].all()) is False  # names outside signed.test stay unvalidated


def test_report_lists_submission_servers(good: DomainPosture, lab: Lab) -> None:
    port = lab.servers["healthy"].endpoints[1].split("/")[0]
    markdown = good.to_markdown("en")
    chinese = good.to_html("zh-CN")
    assert "### Submission servers" in markdown
    row = f"| smtp.healthy.test | 127.0.0.3 | {port} | STARTTLS | ✓ | ✓ | ✓ | – | PLAIN LOGIN | – |"
    assert row in markdown
    assert "邮件提交服务器" in chinese
    assert f"<td>{port}</td>" in chinese


def test_report_without_submission_probe(broken: DomainPosture) -> None:
    assert "Submission servers" not in broken.to_markdown("en")


def test_report_submission_problems(domain_lab: DomainLab) -> None:
    # A sender that does not trust the lab CA sees the submission certificates as untrusted.
    untrusting = dataclasses.replace(domain_lab.config, cafile=str(domain_lab.policies.cafile))
    posture = domain_lab.probe("good.test", submission=True, config=untrusting)
    markdown = posture.to_markdown("en")
    section = markdown[markdown.index("### Submission servers") : markdown.index("### Findings")]
    assert "- Critical: " in section or "- Warning: " in section
    assert "certificate" in section.lower()


def test_reports_show_record_markup_as_text(domain_lab: DomainLab) -> None:
    posture = domain_lab.probe("htmlrecord.test")
    assert "domain.dmarc_invalid" in codes(posture)
    markdown = posture.to_markdown("en")
    html = posture.to_html("en")
    outside_code = markdown.split("```")[::2]
    assert not any("<img" in part for part in outside_code)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "<img" not in html


def test_mx_that_never_greets(domain_lab: DomainLab) -> None:
    async def never_greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    config = dataclasses.replace(domain_lab.config, connect_timeout=1.0, reply_timeout=1.0, probe_timeout=5.0)
    with serve(never_greet) as port:
        posture = probe_domain(
            "silent.test", config=config, mx_endpoints={"mx.silent.test": f"{port}/starttls"}
        )
    row = posture.mx.iloc[0]
    assert bool(row["reachable"]) is True
    assert row["starttls"] is pd.NA  # unknown: the server never got as far as offering it
    assert "domain.mx_unreachable" in codes(posture)
