"""The smtplab command: probe output formats, exit status, usage errors, demo."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smtplab.cli import EXIT_CRITICAL, EXIT_OK, EXIT_USAGE, main
from smtplab.credentials import Credentials
from smtplab.demo import DOMAIN_COUNTS_MESSAGE
from smtplab.i18n import gettext_for
from smtplab.lab import Lab
from smtplab.result import ProbeResult

PASSWORD = "hunter2-not-a-variable"


def _probe_args(lab: Lab, name: str) -> list[str]:
    server = lab.servers[name]
    return [
        "probe", server.host, "--ports", ",".join(server.endpoints),
        "--nameserver", lab.nameserver, "--cafile", str(lab.cafile),
        "--ehlo-name", "client.smtplab.test", "--timeout", "5",
    ]


def test_table_output_and_exit_status(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_probe_args(lab, "broken")) == EXIT_CRITICAL
    output = capsys.readouterr().out
    assert "== mx.shop.test" in output
    assert "No port offers AUTH" in output


def test_json_output_holds_every_frame(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_probe_args(lab, "healthy") + ["--format", "json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert set(data["frames"]) == {"endpoints", "replies", "capabilities", "tls", "dns", "transcript",
                                   "findings"}
    assert data["run"]["config"]["ehlo_name"] == "client.smtplab.test"
    assert len(data["frames"]["endpoints"]) == 3
    assert data["frames"]["endpoints"][0]["host"] == "smtp.healthy.test"


def test_expectation_flags(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    args = _probe_args(lab, "broken") + ["--expect-software", "postfix", "--expect-banner", "mx.shop.test",
                                         "--format", "json"]
    main(args)
    findings = json.loads(capsys.readouterr().out)["frames"]["findings"]
    unexpected = [item for item in findings if item["code"] == "software.unexpected"]
    assert len(unexpected) == 2
    assert "banner names mail.dev.test, expected mx.shop.test" in unexpected[0]["evidence"]


def test_csv_output(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    main(_probe_args(lab, "healthy") + ["--format", "csv"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("host,address,port,mode,reachable")
    assert len(lines) == 4


def test_password_env_and_report(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    server = lab.servers["healthy"]
    assert server.username and server.password
    monkeypatch.setenv("SMTPLAB_PASSWORD", server.password)
    report = tmp_path / "report.md"
    saved = tmp_path / "run.jsonl"
    args = _probe_args(lab, "healthy") + [
        "--user", server.username, "--password-env", "SMTPLAB_PASSWORD",
        "--report", str(report), "--save", str(saved), "--format", "json",
    ]
    assert main(args) == EXIT_OK
    output = capsys.readouterr().out
    text = report.read_text()
    assert "login verified by this probe" in text
    assert server.password not in text
    assert server.password not in output
    assert server.password not in saved.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "x.test", "--ports", "25/ssl"], "invalid mode"),
        (["probe", "x.test", "--user", "me"], "--password-env VAR or --ask-password"),
        (["probe", "x.test", "--password-env", "X"], "need --user"),
        (["probe", "x.test", "--nameserver", "dns.example"], "invalid nameserver"),
        (["probe", "bad..name"], "invalid host name"),
        (["probe"], "HOST"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command", ["probe", "report"])
@pytest.mark.parametrize(
    "password_options",
    [["--password", PASSWORD], [f"--password={PASSWORD}"], ["--password-env", PASSWORD],
     ["--pass", PASSWORD], ["--password-env", "my secret!"], ["--password", f"-{PASSWORD}"],
     ["--password", PASSWORD, "--ehlo-name", "client.smtplab.test"]],
)
def test_password_never_echoed(command: str, password_options: list[str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    args = [command, "127.0.0.1", "--no-dns", "--ports", "9/plain", "--user", "alice", *password_options]
    if command == "report":
        args += ["-o", str(tmp_path / "report.md")]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    assert exit_info.value.code == EXIT_USAGE
    for secret in (PASSWORD, "my secret!", "hunter2"):
        assert secret not in captured.out
        assert secret not in captured.err


def test_unset_password_variable_named(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SMTPLAB_TEST_UNSET", raising=False)
    with pytest.raises(SystemExit):
        main(["probe", "127.0.0.1", "--no-dns", "--ports", "9/plain", "--user", "alice",
              "--password-env", "SMTPLAB_TEST_UNSET"])
    assert "environment variable SMTPLAB_TEST_UNSET is not set" in capsys.readouterr().err


def test_unknown_positional_still_shown(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "extra-word"])
    assert exit_info.value.code == EXIT_USAGE
    assert "unrecognized arguments: extra-word" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["probe", "report"])
def test_no_dns_rejects_host_name(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [command, "127.0.0.1", "smtp.healthy.test", "--no-dns", "--ports", "9/plain"]
    if command == "report":
        args += ["-o", str(tmp_path / "report.md")]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    error = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert "--no-dns needs IP addresses" in error
    assert "'smtp.healthy.test'" in error


def test_report_status_on_stderr(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.md"
    assert main(_probe_args(lab, "healthy") + ["--format", "json", "--report", str(report)]) == EXIT_OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["frames"]["endpoints"]
    assert f"report written to {report}" in captured.err


def test_demo_help_names_domains(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == EXIT_OK
    # argparse wraps help text at the terminal width, so compare with single spaces.
    assert "mail posture of its two domains" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "two mail domains" in " ".join(capsys.readouterr().out.split())


def _run_demo(output: Path, *options: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "smtplab.cli", "demo", "--output", str(output), *options],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_demo_command(tmp_path: Path) -> None:
    output = _run_demo(tmp_path)
    servers = output.split("smtplab demo: the mail posture of the two lab domains")[0]
    broken, healthy = servers.split("== smtp.healthy.test")
    assert "No port offers AUTH, before or after STARTTLS" in broken
    assert "failed: connection reset" in broken
    assert "offers AUTH only after STARTTLS (correct)" in healthy
    assert "[!!]" not in healthy
    report = tmp_path / "smtplab-demo-report.md"
    assert f"report written to {report}" in output
    assert "# SMTP diagnosis: mx.shop.test" in report.read_text()


def test_demo_domain_posture(tmp_path: Path) -> None:
    output = _run_demo(tmp_path)
    domains = output.split("smtplab demo: the mail posture of the two lab domains")[1]
    shop, healthy = domains.split("== healthy.test")
    markdown = (tmp_path / "smtplab-demo-report.md").read_text()
    page = (tmp_path / "smtplab-demo-report.html").read_text()
    shop_section = markdown.split("## Mail posture of shop.test")[1].split("## Mail posture of")[0]
    healthy_section = markdown.split("## Mail posture of healthy.test")[1]

    shop_counts = re.search(r"Findings by severity: critical (\d+),", shop)
    assert shop_counts is not None
    assert int(shop_counts.group(1)) > 0
    assert "Findings by severity: critical 0," in healthy
    assert markdown.index("# SMTP diagnosis: smtp.healthy.test") < markdown.index("## Mail posture of")
    for code in ("domain.mta_sts_mx_mismatch", "domain.tlsa_mismatch", "domain.spf_not_strict"):
        assert code in shop_section
        assert code in page
    for code in ("domain.spf_ok", "domain.dmarc_enforced", "domain.mta_sts_enforced", "domain.tlsa_match"):
        assert code in healthy_section
    assert page.index('<article class="report" id="domains">') < page.index("</main>")
    assert page.count("<html") == 1


def test_demo_domain_sections_follow_language(tmp_path: Path) -> None:
    output = _run_demo(tmp_path, "--lang", "zh-CN")
    markdown = (tmp_path / "smtplab-demo-report.md").read_text()
    page = (tmp_path / "smtplab-demo-report.html").read_text()

    domains = output.split("smtplab demo: the mail posture of the two lab domains")[1]
    counts_prefix = gettext_for("zh-CN")(DOMAIN_COUNTS_MESSAGE).split("%")[0]
    finding_lines = [line for line in domains.splitlines() if line.startswith("   [")]
    assert counts_prefix != DOMAIN_COUNTS_MESSAGE.split("%")[0]  # the catalog translates the counts
    assert domains.count(counts_prefix) == 2
    assert finding_lines
    for line in finding_lines:
        assert re.search(r"[\u4e00-\u9fff]", line), line
    assert "## shop.test 的邮件安全状况" in markdown
    assert "healthy.test 的邮件安全状况" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "x.test", "--report", "/nonexistent-dir/x.md"], "does not exist"),
        (["probe", "x.test", "--report", "x.html"], "writes Markdown"),
        (["probe", "x.test", "--save", "/proc/x.jsonl"], "cannot write the results file"),
        (["report", "x.test", "-o", "/proc/x.html"], "cannot write the report"),
        (["probe", "x.test", "--cafile", "/nonexistent.pem"], "CA file '/nonexistent.pem' not found"),
        (["probe", "x.test", "--cafile", "/etc/hostname"], "invalid CA file"),
        (["probe", "x.test", "--timeout", "nan"], "argument --timeout: invalid value 'nan'"),
        (["probe", "x.test", "--timeout", "0"], "argument --timeout: invalid value '0'"),
        (["report", "x.test", "-o", "x.md", "--timeout", "-1"], "argument --timeout"),
        (["probe", "x.test", "--deadline", "inf"], "argument --deadline: invalid value 'inf'"),
        (["report", "x.test", "-o", ".html"], "no file name before '.html'"),
        (["probe", "x.test", "--ehlo-name", ""], "invalid --ehlo-name"),
        (["probe", "x.test", "--ehlo-name", "bücher.test"], "ASCII"),
        (["probe", "x.test", "--mechanism", "FOO"], "invalid choice"),
        (["probe", "127.0.0.1:25"], "give the port separately"),
        (["demo", "--output", "/nonexistent-dir"], "not a writable folder"),
    ],
)
def test_bad_paths_and_values(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("domain", ["bad domain", "a..b"])
def test_probe_domain_bad_input(domain: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe-domain", domain, "--nameserver", "127.0.0.1:9"]) == EXIT_USAGE
    assert "smtplab probe-domain:" in capsys.readouterr().err


def test_unreachable_host_is_critical(capsys: pytest.CaptureFixture[str]) -> None:
    from rawserver import free_port

    assert main(["probe", "127.0.0.1", "--no-dns", "--ports", f"{free_port()}/starttls"]) == EXIT_CRITICAL
    assert "could be reached" in capsys.readouterr().out


def test_scoped_ipv6_literal_is_classified(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["probe", "fe80::1%lo", "--no-dns", "--ports", "2/plain", "--timeout", "1"])
    assert status == EXIT_CRITICAL
    assert "fe80::1%lo" in capsys.readouterr().out


def test_usage_error_names_option_and_command(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 of 127.0.0.1 is closed, should the check regress.
    with pytest.raises(SystemExit) as exit_info:
        main(["probe", "127.0.0.1", "--no-dns", "--ports", "9/plain", "--ehlo-name", "bad name"])
    error = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert "smtplab probe: error: invalid --ehlo-name 'bad name'" in error
    assert "ehlo_name" not in error


def test_piped_password_read_without_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass\n"))
    credentials = Credentials.from_prompt("alice")
    captured = capsys.readouterr()
    assert credentials.password.reveal() == "s3cret pass"
    assert captured.out == ""
    assert captured.err == ""


def test_implicit_tls_endpoint_has_ehlo_host(healthy: ProbeResult) -> None:
    frame = healthy.endpoints
    implicit = frame[frame["mode"] == "tls"]
    assert len(implicit) == 1
    assert implicit["ehlo_host"].tolist() == ["smtp.healthy.test"]
