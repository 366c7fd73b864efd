"""Findings derived from a probe run."""

from __future__ import annotations

from datetime import datetime

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules import RULES
from smtplab.diagnosis.severity import Severity
from smtplab.record import RunRecord

__all__ = ["Finding", "Severity", "diagnose"]


def diagnose(run: RunRecord, views: list[EndpointView]) -> list[Finding]:
    """Run every rule over every host; findings sorted by severity, host and port."""
    measured_at = datetime.fromisoformat(run.started_at)
    findings: list[Finding] = []
    for host in run.hosts:
        own = tuple(item for item in views if item.record.host == host.host)
        context = HostContext(host, own, measured_at, run.config)
        for rule in RULES:
            findings.extend(rule(context))
    return sorted(findings, key=lambda item: (item.severity.rank, item.host, item.port or 0))
