"""Comparison of two runs: endpoint facts, keywords and findings that appeared, disappeared or changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from smtplab.plots.ehlo import Keywords
from smtplab.plots.labels import multi_address_hosts

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

_COMPARE_SCHEMA: dict[str, Any] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "phase": "string",
    "aspect": "string",
    "item": "string",
    "change": pd.CategoricalDtype(("appeared", "disappeared", "changed")),
    "before": "string",
    "after": "string",
}

# Endpoint facts compared between runs: endpoints frame column, aspect name, phase.
_ENDPOINT_ASPECTS = (
    ("mode", "mode", None),
    ("reachable", "reachable", None),
    ("starttls", "starttls", "plain"),
    ("tls_version", "tls_version", "tls"),
    ("cert_verified", "cert_verified", "tls"),
    ("auth_plain", "auth", "plain"),
    ("auth_tls", "auth", "tls"),
    ("auth_result", "auth_result", None),
    ("relay_unauth", "relay_unauth", None),
    ("relay_auth", "relay_auth", None),
    ("error_class", "error_class", None),
)

EndpointKey = tuple[str, str | None, int | None]


def compare_runs(before: ProbeResult, after: ProbeResult) -> pd.DataFrame:
    """List what appeared, disappeared or changed between two runs.

    Endpoints are matched by host and port (and address, for a host with several
    addresses). Each row has ``host``, ``address``, ``port``, ``phase``, ``aspect``
    (``endpoint``, ``keyword``, ``mode``, ``reachable``, ``starttls``, ``tls_version``,
    ``cert_verified``, ``auth``, ``auth_result``, ``relay_unauth``, ``relay_auth``,
    ``error_class`` or ``finding``), ``item`` (the keyword or finding code), ``change``
    and the ``before`` and ``after`` values. An empty AUTH list counts as absent.
    Keywords and findings are compared only on endpoints probed in both runs, because
    an ``endpoint`` row already reports an endpoint that appeared or disappeared.
    """
    rows: list[dict[str, Any]] = []
    old, new = _keyed_endpoints(before), _keyed_endpoints(after)
    for key in dict.fromkeys([*old, *new]):
        rows.extend(_endpoint_changes(key, old.get(key), new.get(key)))
    both = set(old) & set(new)
    rows.extend(_keyword_changes(before, after, both))
    hosts = {host for host, _, _ in both}
    ports = {(host, port) for host, _, port in both}
    rows.extend(_finding_changes(before, after, hosts, ports))
    return pd.DataFrame(rows, columns=list(_COMPARE_SCHEMA)).astype(_COMPARE_SCHEMA)


def _keyed_endpoints(result: ProbeResult) -> dict[EndpointKey, dict[str, Any]]:
    frame = result.endpoints
    multi = multi_address_hosts(frame)
    return {
        _key(row["host"], row["address"], row["port"], multi): row
        for row in frame.to_dict("records")
    }


def _key(host: str, address: Any, port: Any, multi: set[str]) -> EndpointKey:
    return (str(host), str(address) if host in multi and not _missing(address) else None, int(port))


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _text(value: Any) -> str | None:
    """Return a comparable text form, where NA and empty strings become None."""
    if _missing(value):
        return None
    text = str(value)
    return text or None


def _row(key: EndpointKey, phase: str | None, aspect: str, item: str | None, before: str | None,
         after: str | None) -> dict[str, Any] | None:
    if before == after:
        return None
    if before is None:
        change = "appeared"
    elif after is None:
        change = "disappeared"
    else:
        change = "changed"
    host, address, port = key
    return {"host": host, "address": address, "port": port, "phase": phase, "aspect": aspect,
            "item": item, "change": change, "before": before, "after": after}


def _endpoint_changes(key: EndpointKey, old: dict[str, Any] | None,
                      new: dict[str, Any] | None) -> list[dict[str, Any]]:
    if old is None or new is None:
        label = "probed"
        row = _row(key, None, "endpoint", None, label if old else None, label if new else None)
        return [row] if row else []
    rows = []
    for column, aspect, phase in _ENDPOINT_ASPECTS:
        row = _row(key, phase, aspect, None, _text(old[column]), _text(new[column]))
        if row is not None:
            rows.append(row)
    return rows


def _keyword_changes(before: ProbeResult, after: ProbeResult,
                     both: set[EndpointKey]) -> list[dict[str, Any]]:
    old, new = _keyed_keywords(before.capabilities), _keyed_keywords(after.capabilities)
    rows = []
    for key, phase in dict.fromkeys([*old, *new]):
        if key not in both:
            continue
        old_keywords, new_keywords = old.get((key, phase), {}), new.get((key, phase), {})
        for keyword in dict.fromkeys([*old_keywords, *new_keywords]):
            row = _row(key, phase, "keyword", keyword, _present(old_keywords, keyword),
                       _present(new_keywords, keyword))
            if row is not None:
                rows.append(row)
    return rows


def _keyed_keywords(frame: pd.DataFrame) -> dict[tuple[EndpointKey, str], Keywords]:
    multi = multi_address_hosts(frame)
    keyed: dict[tuple[EndpointKey, str], Keywords] = {}
    for row in frame.itertuples(index=False):
        keywords = keyed.setdefault((_key(row.host, row.address, row.port, multi), str(row.phase)), {})
        keywords.setdefault(str(row.keyword), "" if _missing(row.params) else str(row.params))
    return keyed


def _present(keywords: Keywords, keyword: str) -> str | None:
    """Return the keyword with its parameters as the server wrote it, or None when absent."""
    if keyword not in keywords:
        return None
    return f"{keyword} {keywords[keyword]}".strip()


def _finding_changes(before: ProbeResult, after: ProbeResult, hosts: set[str],
                     ports: set[tuple[str, int | None]]) -> list[dict[str, Any]]:
    old, new = _keyed_findings(before.findings), _keyed_findings(after.findings)
    rows = []
    for key, code in dict.fromkeys([*old, *new]):
        host, _, port = key
        if host not in hosts or (port is not None and (host, port) not in ports):
            continue
        row = _row(key, None, "finding", code, old.get((key, code)), new.get((key, code)))
        if row is not None:
            rows.append(row)
    return rows


def _keyed_findings(frame: pd.DataFrame) -> dict[tuple[EndpointKey, str], str]:
    keyed: dict[tuple[EndpointKey, str], str] = {}
    for row in frame.itertuples(index=False):
        port = None if _missing(row.port) else int(row.port)
        key = (str(row.host), None, port)
        keyed[(key, str(row.code))] = str(row.severity)
    return keyed
