"""A short plain-text summary per host for the terminal, in English or Chinese.

``smtplab probe`` prints this after every run, so it is built with gettext and
``%`` formatting (``smtplab.report.words``) instead of Jinja2, whose import and
template compilation took about 40 ms of each run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplab.analysis.interpret import EndpointView, stopped_step
from smtplab.diagnosis.severity import Severity
from smtplab.report.reasons import final_error
from smtplab.report.words import Phrases

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

SEVERITY_MARKS = {Severity.CRITICAL: "[!!]", Severity.WARNING: "[! ]", Severity.INFO: "[i ]",
          Severity.OK: "[ok]"}
"""The mark before a finding's title in a terminal summary, by severity."""


def render_summary(result: ProbeResult, lang: str = "en") -> str:
    """Render each host's endpoints and finding titles in ``lang`` (``en`` or ``zh-CN``).

    Raises ValueError for any other language.
    """
    phrases = Phrases(lang)
    lines: list[str] = []
    for host in result.run.hosts:
        lines.append(f"== {host.host}")
        for item in result.views:
            if item.record.host == host.host:
                lines.append("   " + _endpoint_line(item, phrases))
        for finding in result.finding_list:
            if finding.host == host.host:
                lines.append(f"   {SEVERITY_MARKS[finding.severity]} {finding.title(lang)}")
    return "\n".join(lines)


def _endpoint_line(item: EndpointView, phrases: Phrases) -> str:
    record = item.record
    # An imported transcript of a host name records no address.
    parts = [f"{record.address or record.host} {record.port}/{record.mode}:"]
    if item.error and (item.reachable is not True or item.banner is None):
        failure = phrases.failure(item.error, stopped_step(item), item.error_detail)
        return " ".join([*parts, failure])
    if item.banner is not None:
        parts.append(f"{item.banner.code} {item.banner.lines[0][:60]}")
    if item.tls is not None:
        parts.append(f"| TLS {item.tls.get('version')}")
    auth = item.auth_mechanisms("tls") or item.auth_mechanisms("plain")
    parts.append(f"| AUTH {' '.join(auth)}" if auth else f"| {phrases.no_auth()}")
    error = final_error(item)
    if error is not None:
        parts.append(f"| {phrases.stopped(error, stopped_step(item))}")
    elif item.error:
        parts.append(f"| {phrases.error_name(item.error)}")
    return " ".join(parts)
