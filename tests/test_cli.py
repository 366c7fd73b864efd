"""The smtplab command: probe output formats, exit status, usage errors, demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smtplab.cli import EXIT_CRITICAL, EXIT_OK, EXIT_USAGE, main
from smtplab.lab import Lab


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


def test_demo_command(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "smtplab.cli", "demo", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    broken, healthy = output.split("== smtp.healthy.test")
    assert "No port offers AUTH, before or after STARTTLS" in broken
    assert "failed: reset" in broken
    assert "offers AUTH only after STARTTLS (correct)" in healthy
    assert "[!!]" not in healthy
    report = tmp_path / "smtplab-demo-report.md"
    assert f"report written to {report}" in output
    assert "# SMTP diagnosis: mx.shop.test" in report.read_text()
