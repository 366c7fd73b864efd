"""The narrative report: EHLO diff, merged findings, Markdown, HTML, PDF and the report command."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NoReturn

import pytest
from babel.lists import format_list

import smtplab
from smtplab.cli import EXIT_CRITICAL, EXIT_OK, EXIT_USAGE, main
from smtplab.diagnosis import Finding, Severity
from smtplab.errors import ErrorClass
from smtplab.frames import CAPABILITY_SCHEMA, typed
from smtplab.i18n import locale_name, translations
from smtplab.lab import Lab
from smtplab.protocol.sasl import SUPPORTED_MECHANISMS
from smtplab.record import HostRecord, RunRecord, utc_now_iso
from smtplab.report.advice import ClientSettings
from smtplab.report.context import HostSection, build_content
from smtplab.report.ehlo_diff import ParamChange, diff_keywords, ehlo_changes
from smtplab.report.findings import group_findings, plan_actions
from smtplab.report.glance import Check, CheckState
from smtplab.report.matrix import CellState, capability_grid
from smtplab.report.pdf import write_pdf
from smtplab.report.reasons import PortReason
from smtplab.report.summary import render_summary
from smtplab.report.words import Phrases
from smtplab.scan import unresolved_record
from smtplab.targets import parse_endpoints, parse_target

from rawserver import Handler, serve

LANGUAGES = ("en", "zh-CN")



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


# Probes that stopped before the login or the relay test
#
# Each case is an S:/C: dialogue read by from_transcript, plus the events a live
# probe records that a dialogue cannot show (an error class, a skipped login) and
# the user name the probe was given.

HOST = "mail.example.com"
CLIENT = "client.smtplab.test"
USER = "alice@example.com"
MAIL_FROM_ACCEPTED = ["C: MAIL FROM:<smtplab@example.com>", "S: 250 2.1.0 Ok"]
RCPT_DENIED = ["C: RCPT TO:<smtplab@example.net>", "S: 554 5.7.1 <smtplab@example.net>: Relay access denied"]
RSET_OK = ["C: RSET", "S: 250 2.0.0 Ok"]
QUIT = ["C: QUIT", "S: 221 2.0.0 Bye"]


def _ehlo(*keywords: str) -> list[str]:
    lines = [HOST, *keywords]
    last = len(lines) - 1
    replies = [f"S: 250{'-' if index < last else ' '}{text}" for index, text in enumerate(lines)]
    return [f"C: EHLO {CLIENT}", *replies]


def _submission(*after_tls: str, inside: str = "AUTH PLAIN LOGIN") -> list[str]:
    """Greeting, EHLO, STARTTLS, handshake and EHLO again inside TLS, then ``after_tls``."""
    return [f"S: 220 {HOST} ESMTP Postfix", *_ehlo("PIPELINING", "STARTTLS"), "C: STARTTLS",
            "S: 220 2.0.0 Ready to start TLS", "TLS TLSv1.3 TLS_AES_256_GCM_SHA384",
            *_ehlo("PIPELINING", inside), *after_tls]


def _imported(lines: list[str], *events: dict[str, Any], user: str | None = USER) -> smtplab.ProbeResult:
    """Read a dialogue, add ``events`` before its end event and set the user name the probe had."""
    run = smtplab.from_transcript("\n".join(lines) + "\n", host=HOST, port=587).run
    recorded = run.endpoints[0].events
    end = recorded.pop()
    for event in events:
        recorded.append({"t": 0.0, "phase": end["phase"], "attempt": 1, **event})
    recorded.append(end)
    run.username = user
    return smtplab.ProbeResult(run)


def _error(step: str, error: str, detail: str) -> dict[str, Any]:
    return {"kind": "error", "step": step, "error": error, "detail": detail}


def _skipped(reason: str) -> dict[str, Any]:
    return {"kind": "auth_skipped", "step": "auth", "reason": reason, "text": reason}


def _section(result: smtplab.ProbeResult) -> HostSection:
    return build_content(result).hosts[0]


def _checks(result: smtplab.ProbeResult) -> dict[str, Check]:
    return {check.topic: check for check in _section(result).checks}


def _gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


@pytest.fixture(scope="module")
def deadline_at_rcpt() -> smtplab.ProbeResult:
    lines = _submission(*MAIL_FROM_ACCEPTED, "C: RCPT TO:<smtplab@example.net>")
    return _imported(lines, _error("deadline", "deadline", "probe exceeded its deadline of 1 s"))


@pytest.fixture(scope="module")
def closed_at_rset() -> smtplab.ProbeResult:
    lines = _submission(*MAIL_FROM_ACCEPTED, *RCPT_DENIED, "C: RSET")
    return _imported(lines, _error("rset", "closed", "connection closed by the server after 0 bytes"))


@pytest.fixture(scope="module")
def unknown_mechanisms() -> smtplab.ProbeResult:
    lines = _submission(*MAIL_FROM_ACCEPTED, *RCPT_DENIED, *RSET_OK, *QUIT, inside="AUTH XOAUTH9 FOO-BAR")
    return _imported(lines, _skipped("no_mechanism"))


@pytest.fixture(scope="module")
def starttls_rejected() -> smtplab.ProbeResult:
    lines = [f"S: 220 {HOST} ESMTP Postfix", *_ehlo("PIPELINING", "STARTTLS", "AUTH PLAIN"), "C: STARTTLS",
             "S: 454 4.7.0 TLS not available due to local problem", *MAIL_FROM_ACCEPTED, *RCPT_DENIED,
             *RSET_OK]
    return _imported(lines, _skipped("no_tls"))


def test_login_reason_deadline_at_rcpt(deadline_at_rcpt: smtplab.ProbeResult) -> None:
    checks = _checks(deadline_at_rcpt)
    assert checks["login"].state is CheckState.UNKNOWN
    assert checks["login"].reasons == (PortReason("stopped", (587,), "deadline", "rcpt"),)


def test_relay_reason_deadline_at_rcpt(deadline_at_rcpt: smtplab.ProbeResult) -> None:
    relay = _checks(deadline_at_rcpt)["relay"]
    assert relay.state is CheckState.UNKNOWN
    assert relay.outcome == "incomplete"
    found = [(item.reason, item.ports, item.error) for item in relay.reasons]
    assert found == [("stopped", (587,), "deadline")]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_deadline_report_says_where_it_stopped(deadline_at_rcpt: smtplab.ProbeResult, lang: str) -> None:
    text = deadline_at_rcpt.to_markdown(lang)
    assert "--user" not in text
    assert _gettext(lang, "Not tested: no port got as far as MAIL FROM.") not in text
    assert _gettext(lang, "deadline exceeded") in text
    label = f"- **{_gettext(lang, 'Login')}**"
    login_line = next(line for line in text.splitlines() if line.startswith(label))
    assert "RCPT TO" in login_line
    assert _gettext(lang, "deadline exceeded") in login_line


def test_deadline_report_claims_no_sending(deadline_at_rcpt: smtplab.ProbeResult) -> None:
    section = _section(deadline_at_rcpt)
    assert section.settings is not None
    assert not section.settings.can_send
    assert section.verdict == "untested"
    assert section.settings.untested_reason == PortReason("stopped", (587,), "deadline", "rcpt")
    assert '<p class="verdict unknown">' in deadline_at_rcpt.to_html()


def test_login_reason_closed_at_rset(closed_at_rset: smtplab.ProbeResult) -> None:
    assert "--user" not in closed_at_rset.to_html("zh-CN")
    checks = _checks(closed_at_rset)
    assert checks["login"].reasons == (PortReason("stopped", (587,), "closed", "rset"),)
    assert checks["relay"].state is CheckState.OK
    assert checks["relay"].reasons == ()
    assert _section(closed_at_rset).verdict == "untested"


def test_unknown_mechanisms_not_recommended(unknown_mechanisms: smtplab.ProbeResult) -> None:
    settings = _section(unknown_mechanisms).settings
    assert settings is not None
    assert settings.mechanisms == ("XOAUTH9", "FOO-BAR")
    assert settings.suggested_mechanisms == ()
    assert settings.untested_reason == PortReason("no_mechanism", (587,), mechanisms="XOAUTH9 FOO-BAR")
    login = _checks(unknown_mechanisms)["login"]
    assert login.reasons == (PortReason("no_mechanism", (587,), mechanisms="XOAUTH9 FOO-BAR"),)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unknown_mechanisms_named_as_unusable(unknown_mechanisms: smtplab.ProbeResult, lang: str) -> None:
    text = unknown_mechanisms.to_markdown(lang)
    offered_as_choice = format_list(["XOAUTH9", "FOO-BAR"], style="or", locale=locale_name(lang))
    assert offered_as_choice not in text
    assert format_list(list(SUPPORTED_MECHANISMS), locale=locale_name(lang)) in text
    assert "--user" not in text


def test_starttls_rejected_glance(starttls_rejected: smtplab.ProbeResult) -> None:
    checks = _checks(starttls_rejected)
    assert checks["tls"].state is CheckState.PROBLEM
    assert checks["tls"].outcome == "starttls_rejected"
    assert checks["tls"].failed_ports == (587,)
    assert checks["login"].reasons == (PortReason("no_tls", (587,)),)
    assert _section(starttls_rejected).verdict == "no_settings"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_starttls_rejected_report(starttls_rejected: smtplab.ProbeResult, lang: str) -> None:
    text = starttls_rejected.to_markdown(lang)
    assert "--user" not in text
    assert _gettext(lang, "No port offers STARTTLS or implicit TLS.") not in text


def test_relay_rejected_after_login() -> None:
    auth = "C: AUTH PLAIN " + base64.b64encode(f"\0{USER}\0fake-password".encode()).decode()
    lines = _submission(*MAIL_FROM_ACCEPTED, *RCPT_DENIED, *RSET_OK, auth,
                        "S: 235 2.7.0 Authentication successful", *MAIL_FROM_ACCEPTED, *RCPT_DENIED,
                        *RSET_OK, *QUIT)
    section = _section(_imported(lines))
    assert section.settings is not None
    assert section.settings.verified_login
    assert section.settings.relay_rejected
    assert not section.settings.can_send
    assert section.verdict == "relay_rejected"
    assert section.verdict_state == "problem"


def test_mail_from_rejected_is_not_unreached() -> None:
    lines = _submission("C: MAIL FROM:<smtplab@example.com>", "S: 553 5.7.1 Sender address rejected",
                        *RSET_OK, *QUIT)
    result = _imported(lines, user=None)
    relay = _checks(result)["relay"]
    assert relay.outcome == "incomplete"
    assert relay.reasons == (PortReason("mail_rejected", (587,), code=553),)
    assert _gettext("en", "Not tested: no port got as far as MAIL FROM.") not in result.to_markdown()


def test_settings_prefer_a_usable_mechanism() -> None:
    cram_only = ClientSettings(HOST, 587, "starttls", ("XOAUTH2", "CRAM-MD5"), None)
    assert cram_only.suggested_mechanisms == ("CRAM-MD5",)
    both = ClientSettings(HOST, 587, "starttls", ("CRAM-MD5", "LOGIN", "PLAIN"), None)
    assert both.suggested_mechanisms == ("PLAIN", "LOGIN")


def test_verdict_of_healthy_server(healthy: smtplab.ProbeResult) -> None:
    section = _section(healthy)
    assert section.verdict == "can_send"
    assert '<p class="verdict ok">' in healthy.to_html()


def test_import_of_host_name_connects(closed_at_rset: smtplab.ProbeResult) -> None:
    content = build_content(closed_at_rset)
    connection = {check.topic: check for check in content.hosts[0].checks}["connection"]
    assert connection.state is CheckState.OK
    assert content.grid.reached
    assert [block.address for block in content.transcripts] == [""]
    assert [block.mode for block in content.transcripts] == ["starttls"]
    text = closed_at_rset.to_markdown()
    assert "[<NA>]" not in text
    assert "[None]" not in text


def _stalls_at(verb: bytes, action: str) -> Handler:
    """A plaintext server offering AUTH PLAIN that accepts every command until ``verb``.

    At ``verb`` it either waits without replying (``hang``) or closes the connection
    (``close``).
    """

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 stall.test ESMTP\r\n")
        while line := await reader.readline():
            if line.upper().startswith(verb):
                if action == "hang":
                    await reader.read()
                return
            if line.upper().startswith(b"EHLO"):
                writer.write(b"250-stall.test\r\n250 AUTH PLAIN LOGIN\r\n")
            else:
                writer.write(b"250 2.0.0 Ok\r\n")
            await writer.drain()

    return handler


@pytest.mark.parametrize(("verb", "action", "error", "step", "label"),
                         [(b"RCPT", "hang", "deadline", "rcpt", "deadline exceeded"),
                          (b"RSET", "close", "closed", "rset", "connection closed")])
def test_live_probe_stopped_before_login(verb: bytes, action: str, error: str, step: str, label: str) -> None:
    config = smtplab.ProbeConfig(resolve=False, ehlo_name=CLIENT, reply_timeout=10.0, probe_timeout=1.0)
    credentials = smtplab.Credentials(USER, smtplab.Secret("fake-password"))
    with serve(_stalls_at(verb, action)) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=config, credentials=credentials)
    assert result.run.username == USER
    text = result.to_markdown()
    assert "--user" not in text
    login_line = next(line for line in text.splitlines() if line.startswith("- **Login**"))
    assert label in login_line
    assert step.upper() in login_line
    login = _checks(result)["login"]
    assert login.reasons == (PortReason("stopped", (port,), error, step),)


# The terminal summary


def test_summary_in_chinese(broken: smtplab.ProbeResult) -> None:
    english = render_summary(broken, "en")
    chinese = render_summary(broken, "zh-CN")
    assert len(chinese.splitlines()) == len(english.splitlines())
    for item in broken.finding_list:
        assert item.title("zh-CN") in chinese
        assert item.title("en") not in chinese
    assert "no AUTH" in english
    assert "no AUTH" not in chinese
    assert _gettext("zh-CN", "no AUTH") in chinese
    implicit = _ports(broken, "tls")[0]
    failure = next(line for line in chinese.splitlines() if f" {implicit}/tls:" in line)
    assert _gettext("zh-CN", "connection reset") in failure
    assert _gettext("zh-CN", "the TLS handshake") in failure


def test_summary_names_where_probe_stopped(deadline_at_rcpt: smtplab.ProbeResult) -> None:
    endpoint_line = render_summary(deadline_at_rcpt, "zh-CN").splitlines()[1]
    assert endpoint_line.startswith(f"   {HOST} 587/starttls:")
    assert _gettext("zh-CN", "deadline exceeded") in endpoint_line
    assert "RCPT TO" in endpoint_line
    assert "deadline" not in endpoint_line


def test_summary_of_unresolved_host() -> None:
    target = parse_target("nosuch.example.com", parse_endpoints("587/starttls"))
    host = HostRecord(target.host, target.ascii_host, False, [], error="dns_nxdomain",
                      detail="the name does not exist (NXDOMAIN)")
    endpoint = unresolved_record(target, host, target.endpoints[0])
    now = utc_now_iso()
    run = RunRecord(now, now, "test", smtplab.ProbeConfig(resolve=False).to_dict(), USER, [host], [endpoint])
    result = smtplab.ProbeResult(run)

    endpoint_line = render_summary(result, "zh-CN").splitlines()[1]
    assert endpoint_line.startswith("   nosuch.example.com 587/starttls:")
    assert _gettext("zh-CN", "host name not found") in endpoint_line
    assert _gettext("zh-CN", "the DNS lookup") not in endpoint_line  # the error name is a DNS result
    checks = _checks(result)
    assert checks["connection"].outcome == "unresolved"
    assert checks["login"].reasons == (PortReason("stopped", (587,), "dns_nxdomain", "dns"),)


def test_summary_rejects_unknown_language(healthy: smtplab.ProbeResult) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        render_summary(healthy, "fr")


# Words that a Chinese report must not leave in English


@pytest.mark.parametrize("error", list(ErrorClass))
def test_every_error_class_has_chinese_name(error: ErrorClass) -> None:
    chinese = Phrases("zh-CN").error_name(error.value)
    assert chinese != error.value
    assert chinese != Phrases("en").error_name(error.value)


def test_error_column_in_chinese(broken: smtplab.ProbeResult) -> None:
    implicit = _ports(broken, "tls")[0]
    row = next(line for line in broken.to_markdown("zh-CN").splitlines() if f"| {implicit} |" in line)
    assert row.endswith(f"| {_gettext('zh-CN', 'connection reset')} |")
    assert "| reset |" not in broken.to_html("zh-CN")


def test_transcript_heading_in_chinese(broken: smtplab.ProbeResult) -> None:
    implicit = _ports(broken, "tls")[0]
    text = broken.to_markdown("zh-CN")
    assert f"端口 {implicit}（{_gettext('zh-CN', 'implicit TLS')}）" in text
    assert "(STARTTLS)" not in text


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
    assert f"report written to {output}" in capsys.readouterr().err


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


def test_pdf_keeps_every_matrix_column(lab: Lab, lab_config: smtplab.ProbeConfig, pdf_tools: dict[str, str],
                                       tmp_path: Path) -> None:
    # Two hosts probed on both servers' ports: a matrix far wider than an A4 page.
    broken_server, healthy_server = lab.servers["broken"], lab.servers["healthy"]
    ports = [*broken_server.endpoints, *healthy_server.endpoints]
    result = smtplab.probe_many([broken_server.host, healthy_server.host], ports=ports, config=lab_config)
    columns = result.to_html().count('<th class="phase"')
    path = result.to_pdf(tmp_path / "wide.pdf")
    command = [pdf_tools["pdftotext"], "-layout", str(path), "-"]
    text = subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout
    row = next(line for line in text.splitlines() if line.strip().startswith("PIPELINING"))
    assert columns > 12
    assert len(row.split()) - 1 == columns


def test_pdf_quiet_about_screen_css(broken: smtplab.ProbeResult, pdf_tools: dict[str, str], tmp_path: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="weasyprint"):
        broken.to_pdf(tmp_path / "quiet.pdf")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("weasyprint")] == []
