"""The narrative report: EHLO diff, merged findings, Markdown, HTML, PDF and the report command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import NoReturn

import pytest

import smtplab
from smtplab.cli import EXIT_CRITICAL, EXIT_OK, EXIT_USAGE, main
from smtplab.diagnosis import Finding, Severity
from smtplab.frames import CAPABILITY_SCHEMA, typed
from smtplab.lab import Lab
from smtplab.report.ehlo_diff import ParamChange, diff_keywords, ehlo_changes
from smtplab.report.findings import group_findings, plan_actions
from smtplab.report.glance import CheckState
from smtplab.report.matrix import CellState, capability_grid
from smtplab.report.pdf import write_pdf

LANGUAGES = ("en", "zh-CN")


@pytest.fixture(scope="module")
def broken(lab: Lab, lab_config: smtplab.ProbeConfig) -> smtplab.ProbeResult:
    server = lab.servers["broken"]
    return smtplab.probe(server.host, ports=server.endpoints, config=lab_config)


@pytest.fixture(scope="module")
def healthy(lab: Lab, lab_config: smtplab.ProbeConfig) -> smtplab.ProbeResult:
    server = lab.servers["healthy"]
    assert server.username and server.password
    credentials = smtplab.Credentials(server.username, smtplab.Secret(server.password))
    return smtplab.probe(server.host, ports=server.endpoints, config=lab_config,
                         credentials=credentials)


def _ports(result: smtplab.ProbeResult, mode: str) -> list[int]:
    endpoints = result.endpoints
    return sorted(int(port) for port in endpoints[endpoints["mode"] == mode]["port"])


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so these tests must run)", pytrace=False)
    pytest.skip(reason)


# EHLO before and after STARTTLS


def test_diff_keywords_gained_lost_changed() -> None:
    before = {"PIPELINING": "", "STARTTLS": "", "SIZE": "10240000", "VRFY": ""}
    after = {"PIPELINING": "", "SIZE": "52428800", "AUTH": "PLAIN LOGIN"}
    gained, lost, changed = diff_keywords(before, after)
    assert gained == (("AUTH", "PLAIN LOGIN"),)
    assert lost == (("STARTTLS", ""), ("VRFY", ""))
    assert changed == (ParamChange("SIZE", "10240000", "52428800"),)


def test_ehlo_changes_need_both_phases() -> None:
    rows = []
    replies = {
        (587, "plain"): [("PIPELINING", ""), ("STARTTLS", ""), ("SIZE", "100")],
        (587, "tls"): [("PIPELINING", ""), ("SIZE", "200"), ("AUTH", "PLAIN")],
        (465, "tls"): [("PIPELINING", ""), ("AUTH", "PLAIN")],
    }
    for (port, phase), keywords in replies.items():
        for position, (keyword, params) in enumerate(keywords, start=1):
            rows.append({"host": "mx.test", "address": "192.0.2.1", "port": port,
                         "mode": "tls" if port == 465 else "starttls", "phase": phase,
                         "position": position, "keyword": keyword, "params": params})
    changes = ehlo_changes(typed(rows, CAPABILITY_SCHEMA))
    assert [change.port for change in changes] == [587]
    change = changes[0]
    assert change.gained == (("AUTH", "PLAIN"),)
    assert change.lost == (("STARTTLS", ""),)
    assert change.unexpected_lost == ()
    assert change.changed == (ParamChange("SIZE", "100", "200"),)
    assert not change.only_expected


def test_ehlo_changes_of_lab_servers(broken: smtplab.ProbeResult, healthy: smtplab.ProbeResult) -> None:
    broken_changes = ehlo_changes(broken.capabilities)
    assert sorted(change.port for change in broken_changes) == _ports(broken, "starttls")
    assert all(change.only_expected for change in broken_changes)
    healthy_changes = ehlo_changes(healthy.capabilities)
    assert sorted(change.port for change in healthy_changes) == _ports(healthy, "starttls")
    for change in healthy_changes:
        assert change.gained == (("AUTH", "PLAIN LOGIN"),)
        assert change.unexpected_lost == ()


# Findings merged over ports, and the action list


def test_same_code_on_two_ports_is_one_group(broken: smtplab.ProbeResult) -> None:
    groups = group_findings(broken.finding_list)
    vrfy = [group for group in groups if group.code == "ext.vrfy"]
    assert len(vrfy) == 1
    assert list(vrfy[0].ports) == _ports(broken, "starttls")
    for port in vrfy[0].ports:
        assert str(port) in vrfy[0].title("en")
    assert len(vrfy[0].evidence()) == 1


def test_groups_keep_different_titles_apart() -> None:
    findings = [
        Finding("auth.accepted", "mx.test", {"mechanism": "PLAIN", "code": 235}, port=587),
        Finding("auth.accepted", "mx.test", {"mechanism": "LOGIN", "code": 235}, port=465),
        Finding("auth.accepted", "mx.test", {"mechanism": "PLAIN", "code": 235}, port=2587),
        Finding("ext.vrfy", "mx.test", port=25),
        Finding("ext.vrfy", "other.test", port=25),
    ]
    groups = group_findings(findings)
    assert [(group.code, group.host, group.ports) for group in groups] == [
        ("ext.vrfy", "mx.test", (25,)),
        ("ext.vrfy", "other.test", (25,)),
        ("auth.accepted", "mx.test", (587, 2587)),
        ("auth.accepted", "mx.test", (465,)),
    ]


def test_actions_in_priority_order(broken: smtplab.ProbeResult) -> None:
    actions = plan_actions(group_findings(broken.finding_list))
    ranks = [action.severity.rank for action in actions]
    assert ranks == sorted(ranks)
    assert actions[0].severity is Severity.CRITICAL
    assert all(action.severity is not Severity.OK for action in actions)
    codes = [group.code for action in actions for group in action.groups]
    assert len(codes) == len(set(codes))


# What the report is built from


def test_grid_marks_missing_and_unreached(broken: smtplab.ProbeResult) -> None:
    grid = capability_grid(broken.endpoints, broken.capabilities)
    implicit = _ports(broken, "tls")[0]
    rows = {row.keyword: row for row in grid.rows}
    assert [row.keyword for row in grid.rows[:2]] == ["STARTTLS", "AUTH"]
    for column, cell in zip(grid.columns, rows["AUTH"].cells, strict=True):
        if column.port == implicit:
            assert not column.reached
            assert cell.state is CellState.UNKNOWN
        elif column.phase == "tls":
            assert cell.state is CellState.MISSING
        else:
            assert cell.state is CellState.ABSENT
    assert {cell.params for cell in rows["SIZE"].cells if cell.state is CellState.PRESENT} == {"10240000"}


def test_glance_of_broken_server(broken: smtplab.ProbeResult) -> None:
    from smtplab.report.context import build_content

    checks = {check.topic: check for check in build_content(broken).hosts[0].checks}
    assert checks["connection"].state is CheckState.OK
    assert checks["tls"].state is CheckState.PROBLEM
    assert list(checks["tls"].failed_ports) == _ports(broken, "tls")
    assert checks["certificate"].outcome == "name_mismatch"
    assert checks["auth"].outcome == "none"
    assert checks["login"].state is CheckState.UNKNOWN
    assert checks["relay"].state is CheckState.OK


def test_glance_of_healthy_server(healthy: smtplab.ProbeResult) -> None:
    from smtplab.report.context import build_content

    section = build_content(healthy).hosts[0]
    assert all(check.state is CheckState.OK for check in section.checks)
    assert section.settings is not None
    assert section.settings.port == _ports(healthy, "tls")[0]


# Markdown and HTML


@pytest.mark.parametrize("lang", LANGUAGES)
def test_markdown_lists_every_group_once(broken: smtplab.ProbeResult, lang: str) -> None:
    text = broken.to_markdown(lang)
    for group in group_findings(broken.finding_list):
        assert group.title(lang) in text
        assert text.count(f"`{group.code}`") == 1
    assert "| AUTH |" in text


def test_chinese_report_uses_chinese_titles(broken: smtplab.ProbeResult) -> None:
    auth_none = next(item for item in broken.finding_list if item.code == "auth.none")
    chinese = broken.to_html("zh-CN")
    assert auth_none.title("zh-CN") != auth_none.title("en")
    assert auth_none.title("zh-CN") in chinese
    assert auth_none.title("en") not in chinese
    assert '<html lang="zh-CN">' in chinese


class _Collector(HTMLParser):
    """Every start tag with its attributes, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_is_self_contained(broken: smtplab.ProbeResult, healthy: smtplab.ProbeResult,
                                lang: str) -> None:
    from smtplab.report.html import render_html

    collector = _Collector()
    collector.feed(render_html([broken, healthy], lang))
    names = {tag for tag, _ in collector.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "video", "audio"}
    for tag, attributes in collector.tags:
        assert "src" not in attributes, tag
        assert (attributes.get("href") or "#").startswith("#"), attributes
    css = "".join(collector.styles)
    assert css.strip()
    assert "url(" not in css
    assert "@import" not in css
    assert "@font-face" not in css


def test_html_findings_merge_ports(broken: smtplab.ProbeResult) -> None:
    page = broken.to_html()
    assert page.count('data-code="ext.vrfy"') == 1
    assert page.count('data-code="auth.none"') == 1


def test_report_hides_the_password(lab: Lab, healthy: smtplab.ProbeResult) -> None:
    password = lab.servers["healthy"].password
    assert password
    for text in (healthy.to_markdown(), healthy.to_html(), healthy.to_markdown("zh-CN")):
        assert password not in text
        assert "********" in text
    assert "AUTH PLAIN ********" in healthy.to_html()


def test_settings_only_where_auth_works(broken: smtplab.ProbeResult,
                                        healthy: smtplab.ProbeResult) -> None:
    assert 'class="no-settings"' in broken.to_html()
    page = healthy.to_html()
    assert 'class="no-settings"' not in page
    assert f"<code>{_ports(healthy, 'tls')[0]}</code>" in page
    assert "<code>alice@healthy.test</code>" in page


def test_report_of_saved_result_is_identical(healthy: smtplab.ProbeResult, tmp_path: Path) -> None:
    loaded = smtplab.load(healthy.save(tmp_path / "healthy.jsonl"))
    assert loaded.to_html("zh-CN") == healthy.to_html("zh-CN")
    assert loaded.to_markdown() == healthy.to_markdown()


def test_unsupported_language_raises(healthy: smtplab.ProbeResult) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        healthy.to_html("fr")


# The report command and the demo


def _report_args(lab: Lab, name: str, output: Path, *extra: str) -> list[str]:
    server = lab.servers[name]
    return [
        "report", server.host, "--ports", ",".join(server.endpoints),
        "--nameserver", lab.nameserver, "--cafile", str(lab.cafile),
        "--ehlo-name", "client.smtplab.test", "--timeout", "5", "-o", str(output), *extra,
    ]


def test_report_command_writes_html(lab: Lab, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "broken.html"
    assert main(_report_args(lab, "broken", output, "--lang", "zh-CN")) == EXIT_CRITICAL
    page = output.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert f"report written to {output}" in capsys.readouterr().out


def test_report_command_writes_markdown(lab: Lab, tmp_path: Path) -> None:
    output = tmp_path / "healthy.md"
    assert main(_report_args(lab, "healthy", output)) == EXIT_OK
    assert output.read_text(encoding="utf-8").startswith("# SMTP diagnosis: smtp.healthy.test")


@pytest.mark.parametrize(
    ("name", "message"),
    [("report.txt", "unsupported report file extension '.txt'"),
     ("report", "unsupported report file extension '(none)'"),
     ("missing/report.html", "does not exist")],
)
def test_report_command_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     name: str, message: str) -> None:
    args = ["report", "192.0.2.1", "--no-dns", "--ports", "2525", "-o", str(tmp_path / name)]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_demo_writes_html_in_chosen_language(tmp_path: Path) -> None:
    assert main(["demo", "--output", str(tmp_path), "--lang", "zh-CN"]) == EXIT_OK
    page = (tmp_path / "smtplab-demo-report.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "smtplab-demo-report.md").read_text(encoding="utf-8")
    title = Finding("auth.none", "mx.shop.test").title("zh-CN")
    assert '<html lang="zh-CN">' in page
    assert page.count('<article class="report">') == 2
    assert title in page
    assert title in markdown


# PDF


@pytest.fixture(scope="module")
def pdf_tools() -> dict[str, str]:
    """WeasyPrint (with Pango) and poppler's pdftoppm and pdftotext; skip or, under CI, fail."""
    from smtplab.report.pdf import load_weasyprint

    try:
        load_weasyprint()
    except RuntimeError as exc:
        _skip_or_fail(str(exc))
    tools = {name: shutil.which(name) for name in ("pdftoppm", "pdftotext")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        _skip_or_fail(f"{', '.join(missing)} not found; apt-get install poppler-utils")
    return {name: str(path) for name, path in tools.items()}


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_pdf_pages_render_with_titles(broken: smtplab.ProbeResult, pdf_tools: dict[str, str],
                                      tmp_path: Path, lang: str) -> None:
    path = broken.to_pdf(tmp_path / f"broken-{lang}.pdf", lang)
    assert path.read_bytes().startswith(b"%PDF-")

    subprocess.run([pdf_tools["pdftoppm"], "-r", "40", "-png", str(path), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    assert all(page.stat().st_size > 1000 for page in pages)

    text = subprocess.run([pdf_tools["pdftotext"], str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    for group in group_findings(broken.finding_list):
        assert _squeeze(group.title(lang)) in _squeeze(text), group.code


def test_pdf_of_two_runs(broken: smtplab.ProbeResult, healthy: smtplab.ProbeResult,
                         pdf_tools: dict[str, str], tmp_path: Path) -> None:
    path = write_pdf([broken, healthy], tmp_path / "both.pdf", "zh-CN")
    text = subprocess.run([pdf_tools["pdftotext"], str(path), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    assert "mx.shop.test" in text
    assert "smtp.healthy.test" in text
