"""What every rule module shares: the rule type and a finding about one endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.finding import Finding

Rule = Callable[[HostContext], Iterator[Finding]]


def at(item: EndpointView, finding_code: str, evidence: list[str], /, **params: Any) -> Finding:
    """A finding about one endpoint of its host; ``params`` fill the catalog texts."""
    record = item.record
    return Finding(finding_code, record.host, params, record.port, record.address, tuple(evidence))
