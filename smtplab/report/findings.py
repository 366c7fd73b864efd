"""Findings as the report shows them: repeats on several ports merged, and the action list.

The diagnosis emits one finding per endpoint, so a misconfiguration shared by
ports 25 and 587 appears twice. The report merges findings of one code on one
host whose titles differ only in the port into one ``FindingGroup``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smtplab.diagnosis import Finding, Severity
from smtplab.i18n import render

PORT_SEPARATOR = "/"
"""Joins the ports in a merged title, as in "Port 25/587 offers VRFY" (the same in every language)."""

_PORT_MASK = "\x00"


@dataclass(frozen=True)
class EvidenceBlock:
    """Evidence lines and the endpoint they came from, or ``port`` None when every port showed the same."""

    lines: tuple[str, ...]
    port: int | None = None
    address: str | None = None


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one code on one host that differ only in the port."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def code(self) -> str:
        return self.first.code

    @property
    def host(self) -> str:
        return self.first.host

    @property
    def severity(self) -> Severity:
        return self.first.severity

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(sorted({item.port for item in self.findings if item.port is not None}))

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.address for item in self.findings if item.address))

    def title(self, lang: str = "en") -> str:
        """The title with every port of the group, joined by ``PORT_SEPARATOR``."""
        if len(self.ports) < 2:
            return self.first.title(lang)
        joined = PORT_SEPARATOR.join(str(port) for port in self.ports)
        return render(self.first.kind.title, _values(self.first, port=joined), lang)

    def details(self, lang: str = "en") -> list[str]:
        """Each distinct detail text of the group's findings, in order."""
        return _distinct(item.detail(lang) for item in self.findings)

    def remedies(self, lang: str = "en") -> dict[str, list[str]]:
        """Distinct remedies by kind: ``generic``, then ``postfix`` and ``exim`` where known."""
        found: dict[str, list[str]] = {}
        for item in self.findings:
            for kind, text in item.remedies(lang).items():
                texts = found.setdefault(kind, [])
                if text not in texts:
                    texts.append(text)
        return found

    def evidence(self) -> list[EvidenceBlock]:
        """One block when every finding quotes the same lines, else one block per endpoint."""
        quoted = [item for item in self.findings if item.evidence]
        if not quoted:
            return []
        if len({item.evidence for item in quoted}) == 1:
            return [EvidenceBlock(quoted[0].evidence)]
        return [EvidenceBlock(item.evidence, item.port, item.address) for item in quoted]


@dataclass(frozen=True)
class Action:
    """One thing to fix on a host, with the finding groups it resolves, most urgent first."""

    host: str
    groups: tuple[FindingGroup, ...]

    @property
    def severity(self) -> Severity:
        return self.groups[0].severity

    def remedies(self, lang: str = "en") -> list[str]:
        return self.groups[0].remedies(lang)["generic"]

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(sorted({port for group in self.groups for port in group.ports}))


def group_findings(findings: Iterable[Finding]) -> list[FindingGroup]:
    """Merge findings whose code, host and title (except the port) are equal, most urgent first."""
    members: dict[tuple[str, str, str], list[Finding]] = {}
    for item in findings:
        members.setdefault(_group_key(item), []).append(item)
    groups = [FindingGroup(tuple(items)) for items in members.values()]
    return sorted(groups, key=lambda group: group.severity.rank)


def plan_actions(groups: Iterable[FindingGroup]) -> list[Action]:
    """Turn every group that is not OK into an action. Groups with the same remedy share one.

    Actions keep the order of their most urgent group, so the list reads in
    priority order when ``groups`` is sorted by severity.
    """
    merged: dict[tuple[str, tuple[str, ...]], list[FindingGroup]] = {}
    for group in groups:
        if group.severity is Severity.OK:
            continue
        key = (group.host, tuple(group.remedies("en")["generic"]))
        merged.setdefault(key, []).append(group)
    actions = [Action(host, tuple(items)) for (host, _), items in merged.items()]
    return sorted(actions, key=lambda action: action.severity.rank)


def _group_key(item: Finding) -> tuple[str, str, str]:
    masked_title = render(item.kind.title, _values(item, port=_PORT_MASK), "en")
    return (item.host, item.code, masked_title)


def _values(item: Finding, port: Any) -> dict[str, Any]:
    """The parameters ``Finding`` fills into its texts, with ``port`` replaced."""
    return {"host": item.host, "address": item.address, **item.params, "port": port}


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(text for text in texts if text))
