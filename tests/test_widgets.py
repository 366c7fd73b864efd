"""The widget explorer, driven from code against the embedded lab."""

from __future__ import annotations

from pathlib import Path

import pytest

import smtplab
from smtplab.lab import Lab
from smtplab.widgets import TAB_NAMES, Explorer, done_message, merge_results, parse_hosts


def lab_explorer(lab: Lab) -> Explorer:
    return Explorer(nameserver=lab.nameserver, cafile=str(lab.cafile), ehlo_name="client.smtplab.test",
                    timeout=5.0)


def test_explorer_probes_with_login(lab: Lab, tmp_path: Path) -> None:
    server = lab.servers["healthy"]
    assert server.password is not None
    explorer = lab_explorer(lab)
    explorer.hosts.value = server.host
    explorer.ports.value = ", ".join(server.endpoints)
    explorer.username.value = server.username or ""
    explorer.password.value = server.password

    explorer.run_button.click()

    result = explorer.result
    assert result is not None
    assert explorer.progress.value == explorer.progress.max == 3
    assert "Done" in explorer.status.value
    assert set(result.endpoints["auth_result"]) == {"accepted"}
    assert explorer.password.value == ""
    assert server.password not in str(explorer.widget.get_state())
    assert server.password not in str(explorer.password.get_state())
    saved = result.save(tmp_path / "run.jsonl").read_text()
    assert server.password not in saved
    for name in TAB_NAMES:
        assert server.password not in explorer.tab_html(name)


def test_explorer_tabs_content(lab: Lab) -> None:
    server = lab.servers["broken"]
    explorer = lab_explorer(lab)
    explorer.hosts.value = server.host
    explorer.ports.value = ",".join(server.endpoints)

    explorer.run_button.click()

    assert "mx.shop.test" in explorer.tab_html("summary")
    assert "critical" in explorer.tab_html("summary")
    matrix = explorer.tab_html("capability matrix")
    assert matrix.startswith('<img alt="chart" src="data:image/png;base64,')
    assert "SIZE" in matrix
    assert "10240000" in matrix
    assert "STARTTLS" in explorer.tab_html("EHLO differences")
    assert "lost" in explorer.tab_html("EHLO differences")
    findings = explorer.tab_html("findings")
    assert "auth.none" in findings
    transcript = explorer.tab_html("transcript")
    assert "EHLO client.smtplab.test" in transcript
    assert "Connection reset" in transcript


def test_explorer_progress_per_endpoint(lab: Lab) -> None:
    broken, healthy = lab.servers["broken"], lab.servers["healthy"]
    explorer = lab_explorer(lab)
    explorer.hosts.value = f"{broken.host}\n{healthy.host}"
    explorer.ports.value = ",".join(healthy.endpoints)
    seen: list[int] = []
    explorer.progress.observe(lambda change: seen.append(change["new"]), names="value")

    result = explorer.run()

    assert result is not None
    assert explorer.progress.max == 6
    assert seen[-6:] == [1, 2, 3, 4, 5, 6]
    assert [host.host for host in result.run.hosts] == [broken.host, healthy.host]
    assert len(result.endpoints) == 6
    refused = result.endpoints[result.endpoints["host"] == broken.host]
    assert set(refused["error_class"]) == {"refused"}  # the healthy server's ports are closed there


@pytest.mark.parametrize(("field", "value", "message"), [
    ("hosts", "", "no host given"),
    ("ports", "99999", "invalid port"),
    ("nameserver", "not-an-address", "invalid nameserver"),
])
def test_explorer_invalid_input(lab: Lab, field: str, value: str, message: str) -> None:
    explorer = lab_explorer(lab)
    explorer.hosts.value = lab.servers["broken"].host
    explorer.password.value = "typed-but-unused"
    getattr(explorer, field).value = value

    assert explorer.run() is None
    assert message in explorer.status.value
    assert explorer.result is None
    assert explorer.password.value == ""
    assert not explorer.run_button.disabled


def test_explorer_username_needs_password(lab: Lab) -> None:
    explorer = lab_explorer(lab)
    explorer.hosts.value = lab.servers["healthy"].host
    explorer.username.value = "alice@healthy.test"
    assert explorer.run() is None
    assert "no password given" in explorer.status.value


def test_explorer_unknown_tab(lab: Lab) -> None:
    with pytest.raises(ValueError, match="unknown tab"):
        lab_explorer(lab).tab_html("charts")


def test_explorer_status_one_endpoint(lab: Lab) -> None:
    server = lab.servers["healthy"]
    explorer = lab_explorer(lab)
    explorer.hosts.value = server.host
    explorer.ports.value = server.endpoints[0]

    explorer.run_button.click()

    assert "Done: 1 endpoint probed." in explorer.status.value


@pytest.mark.parametrize(("count", "message"), [
    (0, "Done: 0 endpoints probed."),
    (1, "Done: 1 endpoint probed."),
    (2, "Done: 2 endpoints probed."),
])
def test_done_message_plural(count: int, message: str) -> None:
    assert done_message(count) == message


def test_parse_hosts_separators() -> None:
    assert parse_hosts(" a.test, b.test\nc.test  a.test\n") == ["a.test", "b.test", "c.test"]
    assert parse_hosts("  \n ") == []


def test_merge_results_keeps_order() -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    postfix, exim = smtplab.load(data / "postfix.jsonl"), smtplab.load(data / "exim.jsonl")
    merged = merge_results([postfix, exim, postfix])
    assert [host.host for host in merged.run.hosts] == ["mail.postfix.test", "mail.exim.test"]
    assert len(merged.run.endpoints) == 9
    assert merged.run.started_at == postfix.run.started_at
    with pytest.raises(ValueError, match="no results"):
        merge_results([])
