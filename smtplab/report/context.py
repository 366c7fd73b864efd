"""The report's content, built once from a ProbeResult and shared by the Markdown and HTML forms.

Everything here is language-neutral data; the templates translate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from smtplab.diagnosis import Severity
from smtplab.record import RunRecord
from smtplab.report.advice import ClientSettings, recommend
from smtplab.report.ehlo_diff import EhloChange, ehlo_changes
from smtplab.report.findings import Action, FindingGroup, group_findings, plan_actions
from smtplab.report.glance import Check, host_checks
from smtplab.report.matrix import CapabilityGrid, capability_grid

if TYPE_CHECKING:
    from smtplab.result import ProbeResult


@dataclass(frozen=True)
class TranscriptLine:
    t_ms: float
    phase: str
    direction: str
    text: str


@dataclass(frozen=True)
class Transcript:
    """The recorded lines of one endpoint, attempts included. ``address`` is "" when unknown."""

    host: str
    address: str
    port: int
    mode: str
    lines: tuple[TranscriptLine, ...]


@dataclass(frozen=True)
class HostSection:
    """Everything the report says about one target host.

    ``dns_error`` is set when the host did not resolve; ``settings`` is None when
    no port offered AUTH over working TLS.
    """

    host: str
    addresses: tuple[str, ...]
    dns_error: str | None
    endpoints: tuple[dict[str, Any], ...]
    checks: tuple[Check, ...]
    groups: tuple[FindingGroup, ...]
    actions: tuple[Action, ...]
    settings: ClientSettings | None
    ehlo_changes: tuple[EhloChange, ...]

    def count(self, severity: str) -> int:
        """Findings of a severity, counting a group merged over several ports once."""
        return sum(1 for group in self.groups if group.severity == severity)

    @property
    def problem_groups(self) -> tuple[FindingGroup, ...]:
        return tuple(group for group in self.groups if group.severity is not Severity.OK)

    @property
    def verdict(self) -> str:
        """The verdict: ``ClientSettings.outcome``, or ``no_settings`` when no port offered AUTH over TLS."""
        return self.settings.outcome if self.settings else "no_settings"

    @property
    def verdict_state(self) -> str:
        """The verdict as a ``CheckState`` value: shown to work, shown not to work, or not known."""
        if self.verdict == "can_send":
            return "ok"
        return "unknown" if self.verdict == "untested" else "problem"


@dataclass(frozen=True)
class ReportContent:
    run: RunRecord
    measured_at: str
    hosts: tuple[HostSection, ...]
    grid: CapabilityGrid
    transcripts: tuple[Transcript, ...]

    @property
    def host_names(self) -> list[str]:
        return [section.host for section in self.hosts]


def build_content(result: ProbeResult) -> ReportContent:
    groups = group_findings(result.finding_list)
    changes = ehlo_changes(result.capabilities)
    sections = tuple(
        _host_section(result, host.host, groups, changes) for host in result.run.hosts
    )
    return ReportContent(
        run=result.run,
        measured_at=format_timestamp(result.run.started_at),
        hosts=sections,
        grid=capability_grid(result.endpoints, result.capabilities),
        transcripts=tuple(_transcripts(result.transcript, result.endpoints)),
    )


def format_timestamp(value: str) -> str:
    """Format an ISO 8601 timestamp as ``YYYY-MM-DD HH:MM:SS UTC``, returning other text unchanged."""
    try:
        moment = pd.Timestamp(datetime.fromisoformat(value))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _host_section(result: ProbeResult, host: str, groups: list[FindingGroup],
                  changes: list[EhloChange]) -> HostSection:
    record = next(item for item in result.run.hosts if item.host == host)
    endpoints = result.endpoints[result.endpoints["host"] == host]
    tls = result.tls[result.tls["host"] == host]
    own_groups = tuple(group for group in groups if group.host == host)
    views = [item for item in result.views if item.record.host == host]
    return HostSection(
        host=host,
        addresses=tuple(record.addresses),
        dns_error=record.detail or record.error,
        endpoints=tuple(_plain_row(row) for row in endpoints.to_dict("records")),
        checks=tuple(host_checks(endpoints, tls, views, result.run.username is not None)),
        groups=own_groups,
        actions=tuple(plan_actions(own_groups)),
        settings=recommend(views, result.run.username),
        ehlo_changes=tuple(change for change in changes if change.host == host),
    )


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    """A frame row with NA as None, so templates can test values without pandas' NA rules."""
    return {key: None if pd.isna(value) else value for key, value in row.items()}


def _transcripts(transcript: pd.DataFrame, endpoints: pd.DataFrame) -> list[Transcript]:
    modes = {
        (str(row.host), _text(row.address), int(row.port)): str(row.mode)
        for row in endpoints.itertuples(index=False)
    }
    blocks = []
    location = ["host", "address", "port"]
    for (host, address, port), rows in transcript.groupby(location, sort=False, dropna=False):
        lines = tuple(
            TranscriptLine(float(row.t_ms), str(row.phase), str(row.direction), str(row.text))
            for row in rows.itertuples(index=False)
        )
        key = (str(host), _text(address), int(port))
        blocks.append(Transcript(*key, modes.get(key, ""), lines))
    return blocks


def _text(value: Any) -> str:
    """Return a frame value as text, with "" for NA (an imported transcript may name no address)."""
    return "" if pd.isna(value) else str(value)
