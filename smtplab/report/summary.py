"""A short plain-text summary per host for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplab.diagnosis import Severity

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

_MARKS = {Severity.CRITICAL: "[!!]", Severity.WARNING: "[! ]", Severity.INFO: "[i ]",
          Severity.OK: "[ok]"}


def render_summary(result: ProbeResult) -> str:
    lines: list[str] = []
    for host in result.run.hosts:
        lines.append(f"== {host.host}")
        for item in result.views:
            if item.record.host != host.host:
                continue
            lines.append("   " + _endpoint_line(item))
        for finding in result.finding_list:
            if finding.host == host.host:
                lines.append(f"   {_MARKS[finding.severity]} {finding.title()}")
    return "\n".join(lines)


def _endpoint_line(item: object) -> str:
    from smtplab.analysis.interpret import EndpointView

    assert isinstance(item, EndpointView)
    record = item.record
    parts = [f"{record.address} {record.port}/{record.mode}:"]
    if item.error and (item.reachable is not True or item.banner is None):
        return " ".join(parts + [f"{item.error} at {item.error_step} ({item.error_detail})"])
    if item.banner is not None:
        parts.append(f"{item.banner.code} {item.banner.lines[0][:60]}")
    if item.tls is not None:
        parts.append(f"| TLS {item.tls.get('version')}")
    auth = item.auth_mechanisms("tls") or item.auth_mechanisms("plain")
    parts.append(f"| AUTH {' '.join(auth)}" if auth else "| no AUTH")
    if item.error:
        parts.append(f"| {item.error}")
    return " ".join(parts)
