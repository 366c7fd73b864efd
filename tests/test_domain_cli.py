"""The probe-domain command run through ``smtplab.cli.main``: output, exit status and usage errors."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtplab.cli import EXIT_CRITICAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main
from smtplab.lab import Lab

# A name in the lab's zone that has no address, so a probe of it fails with a critical finding.
UNRESOLVED_HOST = "nothing.healthy.test"
# Nothing answers DNS on port 9 of loopback, so the usage error tests point the command there.
CLOSED_NAMESERVER = "127.0.0.1:9"


def _lab_options(lab: Lab) -> list[str]:
    """Return the probe-domain options that point the command at the lab, as domain_options does."""
    options = lab.domain_options()
    arguments = [
        "--nameserver", lab.nameserver,
        "--cafile", str(lab.cafile),
        "--ehlo-name", "client.smtplab.test",
        "--timeout", "5",
        "--mta-sts-port", str(options["mta_sts_port"]),
    ]
    for host, endpoint in options["mx_endpoints"].items():
        arguments += ["--mx-endpoint", f"{host}={endpoint}"]
    for selector in options["selectors"]:
        arguments += ["--selector", selector]
    return arguments


@pytest.fixture
def no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command reaches probe_domain."""

    def fail_if_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("probe_domain ran although the arguments were invalid")

    monkeypatch.setattr("smtplab.domain.probe.probe_domain", fail_if_called)


def test_healthy_domain_exits_zero(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe-domain", "healthy.test", *_lab_options(lab)]) == EXIT_OK
    output = capsys.readouterr().out
    assert "critical" not in output
    assert "submission servers" not in output


def test_submission_critical_in_table_and_status(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["probe-domain", "healthy.test", *_lab_options(lab), "--host", UNRESOLVED_HOST])
    output = capsys.readouterr().out
    submission = output.split("submission servers\n")[1]
    assert status == EXIT_CRITICAL
    assert "critical" in submission
    assert UNRESOLVED_HOST in submission
    assert "does not resolve" in submission


def test_json_stdout_is_pure_json(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "healthy.md"
    arguments = ["probe-domain", "healthy.test", *_lab_options(lab), "--host", UNRESOLVED_HOST,
                 "--format", "json", "-o", str(report)]
    status = main(arguments)
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    severities = [item["severity"] for item in document["submission"]["findings"]]
    assert status == EXIT_CRITICAL
    assert document["domain"] == "healthy.test"
    assert "critical" in severities
    assert f"report written to {report}" in captured.err
    assert "healthy.test" in report.read_text(encoding="utf-8")


def test_mistyped_mx_endpoint_warns(
    lab: Lab, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["probe-domain", "healthy.test", *_lab_options(lab), "--mx-endpoint", "smtp.helthy.test=2525"]
    with caplog.at_level(logging.WARNING, logger="smtplab"):
        assert main(arguments) == EXIT_OK
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    typo = [message for message in warnings if message.startswith("--mx-endpoint smtp.helthy.test ")]
    other_domain = [message for message in warnings if message.startswith("--mx-endpoint mx.shop.test ")]
    used = [message for message in warnings if message.startswith("--mx-endpoint smtp.healthy.test ")]
    assert len(typo) == 1
    assert "MX hosts: smtp.healthy.test" in typo[0]
    assert len(other_domain) == 1  # the lab's other MX host, not an MX host of healthy.test
    assert used == []
    capsys.readouterr()


@pytest.mark.parametrize("endpoint", ["2525/tls", "2525/plain", "465/tls"])
def test_mx_endpoint_mode_rejected(
    endpoint: str, no_probe: None, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["probe-domain", "shop.test", "--nameserver", CLOSED_NAMESERVER,
                 "--mx-endpoint", f"mx.shop.test={endpoint}"]
    assert main(arguments) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "probed with STARTTLS" in error
    assert "/starttls" in error


def test_mx_endpoint_bare_port_means_starttls() -> None:
    from smtplab.domain.cli import _mx_endpoints

    assert _mx_endpoints(["MX.Shop.Test.=465"]) == {"mx.shop.test": "465/starttls"}


def _cases_for_output(tmp_path: Path) -> list[tuple[str, str]]:
    folder = tmp_path / "somedir.html"
    folder.mkdir()
    return [
        (str(folder), "is a folder"),
        ("/proc/x.md", "cannot write the report"),
        (str(tmp_path / "missing" / "x.md"), "does not exist"),
        (str(tmp_path / ".html"), "no file name before '.html'"),
        (str(tmp_path / "report.pdf"), "use .html or .md"),
    ]


def test_output_checked_before_probe(
    tmp_path: Path, no_probe: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, message in _cases_for_output(tmp_path):
        status = main(["probe-domain", "shop.test", "--nameserver", CLOSED_NAMESERVER, "-o", path])
        error = capsys.readouterr().err
        assert status == EXIT_USAGE, path
        assert message in error, path
        assert "Traceback" not in error, path


@pytest.mark.parametrize("port", ["70000", "-1", "0", "https"])
def test_mta_sts_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["probe-domain", "shop.test", "--nameserver", CLOSED_NAMESERVER, "--mta-sts-port", port])
    error = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert "argument --mta-sts-port" in error
    assert "1 to 65535" in error


def test_timeout_zero_names_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["probe-domain", "shop.test", "--nameserver", CLOSED_NAMESERVER, "--timeout", "0"])
    error = capsys.readouterr().err
    assert exit_info.value.code == EXIT_USAGE
    assert "argument --timeout" in error
    assert "connect_timeout" not in error


@pytest.mark.parametrize("domain", ["127.0.0.2", "::1", "[::1]"])
def test_ip_literal_rejected(domain: str, no_probe: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe-domain", domain, "--nameserver", CLOSED_NAMESERVER]) == EXIT_USAGE
    assert "expected a domain name" in capsys.readouterr().err


def test_domain_with_port_rejected(no_probe: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe-domain", "shop.test:25", "--nameserver", CLOSED_NAMESERVER]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "without a port" in error
    assert "--ports" not in error  # probe-domain has no such option


def test_no_abbreviated_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["probe-domain", "shop.test", "--nameserver", CLOSED_NAMESERVER, "--sel", "s1"])
    assert exit_info.value.code == EXIT_USAGE
    assert "unrecognized arguments: --sel" in capsys.readouterr().err


@pytest.fixture
def silent_nameserver() -> Iterator[socket.socket]:
    """A UDP socket on loopback that receives DNS queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(30)
        yield sock


def test_ctrl_c_exits_130(silent_nameserver: socket.socket) -> None:
    port = silent_nameserver.getsockname()[1]
    command = [sys.executable, "-m", "smtplab.cli", "probe-domain", "shop.test",
               "--nameserver", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        silent_nameserver.recvfrom(4096)  # the probe is waiting for DNS now
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "smtplab: interrupted" in stderr
    assert "Traceback" not in stderr
