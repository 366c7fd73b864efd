"""EHLO differences: before and after STARTTLS, across ports and between hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smtplab.plots._figure import add_legend, draw_cells, frame_of, message_figure, new_figure
from smtplab.plots.labels import endpoint_labels
from smtplab.protocol.keyword_diff import diff_keywords

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

CHANGES = ("lost", "gained", "changed", "same")
CHANGE_COLORS = {"lost": "#d62728", "gained": "#2ca02c", "changed": "#ff7f0e", "same": "#f2f2f2"}
CHANGE_MARKS = {"lost": "-", "gained": "+", "changed": "~", "same": ""}
DIFF_SCOPES = ("starttls", "ports", "hosts")

_DIFF_SCHEMA: dict[str, Any] = {
    "scope": pd.CategoricalDtype(DIFF_SCOPES, ordered=True),
    "host": "string",
    "left": "string",
    "right": "string",
    "keyword": "string",
    "change": pd.CategoricalDtype(CHANGES),
    "left_params": "string",
    "right_params": "string",
}

Keywords = dict[str, str]


def ehlo_diff(capabilities: ProbeResult | pd.DataFrame, *, include_same: bool = False) -> pd.DataFrame:
    """Compare EHLO keywords: before and after STARTTLS, across ports, between hosts.

    Returns one row per keyword that differs (every compared keyword with
    ``include_same``), with columns ``scope``, ``host``, ``left``, ``right``,
    ``keyword``, ``change``, ``left_params`` and ``right_params``. ``change`` is
    ``gained`` (only on the right), ``lost`` (only on the left), ``changed`` (other
    parameters) or ``same``. The scopes:

    - ``starttls``: the plain EHLO of an endpoint against its EHLO inside TLS;
    - ``ports``: each endpoint of a host against the host's first endpoint, phase by phase;
    - ``hosts``: each host against the first host, phase by phase, where a host offers
      a keyword when any of its endpoints does (``left`` and ``right`` read ``host:*:phase``).
    """
    frame = frame_of(capabilities, "capabilities")
    rows: list[dict[str, Any]] = []
    if not frame.empty:
        offers = _offers(frame)
        rows.extend(_starttls_rows(offers))
        rows.extend(_port_rows(offers))
        rows.extend(_host_rows(offers))
    if not include_same:
        rows = [row for row in rows if row["change"] != "same"]
    result = pd.DataFrame(rows, columns=list(_DIFF_SCHEMA))
    return result.astype(_DIFF_SCHEMA).reset_index(drop=True)


def _offers(frame: pd.DataFrame) -> list[tuple[str, str, str, str, Keywords]]:
    """Collect (host, endpoint label, phase, phase label, keywords) per endpoint phase, in probe order."""
    frame = frame.assign(
        endpoint=endpoint_labels(frame, with_phase=False), column=endpoint_labels(frame, with_phase=True)
    )
    offers = []
    for (host, endpoint, phase, column), group in frame.groupby(
        ["host", "endpoint", "phase", "column"], sort=False, observed=True
    ):
        keywords = dict(zip(group["keyword"], group["params"].fillna(""), strict=True))
        offers.append((str(host), str(endpoint), str(phase), str(column), keywords))
    return offers


def _compare(scope: str, host: str, left: str, right: str, before: Keywords,
             after: Keywords) -> list[dict[str, Any]]:
    """Build one row per keyword of either side, the left side's keywords first and then those gained."""
    changes = _changes_by_keyword(before, after)
    rows = []
    for keyword in dict.fromkeys([*before, *after]):
        change = changes.get(keyword, "same")
        rows.append({
            "scope": scope, "host": host, "left": left, "right": right, "keyword": keyword,
            "change": change, "left_params": before.get(keyword), "right_params": after.get(keyword),
        })
    return rows


def _changes_by_keyword(before: Keywords, after: Keywords) -> dict[str, str]:
    """Map each keyword that differs to ``gained``, ``lost`` or ``changed``, as diff_keywords decides."""
    gained, lost, changed = diff_keywords(before, after)
    changes = {keyword: "gained" for keyword, _ in gained}
    changes.update({keyword: "lost" for keyword, _ in lost})
    changes.update({change.keyword: "changed" for change in changed})
    return changes


def _starttls_rows(offers: list[tuple[str, str, str, str, Keywords]]) -> list[dict[str, Any]]:
    plain = {endpoint: (column, keywords) for _, endpoint, phase, column, keywords in offers
             if phase == "plain"}
    rows = []
    for host, endpoint, phase, column, keywords in offers:
        if phase == "tls" and endpoint in plain:
            left, before = plain[endpoint]
            rows.extend(_compare("starttls", host, left, column, before, keywords))
    return rows


def _port_rows(offers: list[tuple[str, str, str, str, Keywords]]) -> list[dict[str, Any]]:
    first_endpoint: dict[str, str] = {}
    reference: dict[tuple[str, str], tuple[str, Keywords]] = {}
    for host, endpoint, phase, column, keywords in offers:
        if first_endpoint.setdefault(host, endpoint) == endpoint:
            reference[(host, phase)] = (column, keywords)
    rows = []
    for host, endpoint, phase, column, keywords in offers:
        if endpoint == first_endpoint[host] or (host, phase) not in reference:
            continue
        left, before = reference[(host, phase)]
        rows.extend(_compare("ports", host, left, column, before, keywords))
    return rows


def _host_rows(offers: list[tuple[str, str, str, str, Keywords]]) -> list[dict[str, Any]]:
    union: dict[tuple[str, str], Keywords] = {}
    for host, _, phase, _, keywords in offers:
        merged = union.setdefault((host, phase), {})
        for keyword, params in keywords.items():
            merged.setdefault(keyword, params)
    hosts = list(dict.fromkeys(host for host, _ in union))
    rows: list[dict[str, Any]] = []
    if len(hosts) < 2:
        return rows
    first = hosts[0]
    for host in hosts[1:]:
        for phase in ("plain", "tls"):
            if (first, phase) in union and (host, phase) in union:
                rows.extend(_compare(
                    "hosts", host, f"{first}:*:{phase}", f"{host}:*:{phase}",
                    union[(first, phase)], union[(host, phase)],
                ))
    return rows


def plot_ehlo_diff(source: ProbeResult | pd.DataFrame, *, scope: str | None = None,
                   title: str | None = None) -> Figure:
    """Chart the EHLO keywords gained (+), lost (-) or changed (~) per comparison.

    ``source`` is a result, its capabilities frame or an ``ehlo_diff`` frame. Rows are
    the comparisons, columns the keywords that differ somewhere. ``scope`` keeps one
    of ``starttls``, ``ports`` or ``hosts``.
    """
    diff = _diff_of(source)
    if scope is not None:
        if scope not in DIFF_SCOPES:
            raise ValueError(f"invalid scope {scope!r}: expected one of {', '.join(DIFF_SCOPES)}")
        diff = diff[diff["scope"] == scope]
    diff = diff[diff["change"] != "same"]
    title = title or "EHLO differences"
    if diff.empty:
        return message_figure(title, "no EHLO keyword differs")
    pairs = [_pair_label(str(row.scope), row.left, row.right) for row in diff.itertuples(index=False)]
    diff = diff.assign(pair=pairs)
    keywords = list(dict.fromkeys(diff["keyword"]))
    comparisons = list(dict.fromkeys(diff["pair"]))
    table = diff.drop_duplicates(["keyword", "pair"]).set_index(["pair", "keyword"])["change"]
    grid = np.array([
        [CHANGES.index(str(table.get((pair, keyword), "same"))) for keyword in keywords]
        for pair in comparisons
    ])

    figure = new_figure(min(5.0 + 0.4 * len(keywords), 30.0), 1.8 + 0.3 * len(comparisons))
    axes = figure.add_subplot()
    draw_cells(axes, grid, [CHANGE_COLORS[change] for change in CHANGES])
    axes.set_xticks(range(len(keywords)), keywords, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(range(len(comparisons)), comparisons, fontsize=8)
    for row, column in zip(*np.nonzero(grid != CHANGES.index("same")), strict=True):
        mark = CHANGE_MARKS[CHANGES[grid[row, column]]]
        axes.text(column, row, mark, ha="center", va="center", color="white", fontweight="bold")
    add_legend(axes, {change: CHANGE_COLORS[change] for change in CHANGES[:3]})
    axes.set_title(title)
    return figure


def _pair_label(scope: str, left: str, right: str) -> str:
    """Name a comparison briefly, from its ``host:port:phase`` labels."""
    left_name, left_port, _ = left.rsplit(":", 2)
    right_name, right_port, right_phase = right.rsplit(":", 2)
    if scope == "starttls":
        return f"{left_name}:{left_port} plain → tls"
    if scope == "ports":
        return f"{left_name} {left_port} → {right_port} ({right_phase})"
    return f"{left_name} → {right_name} ({right_phase})"


def _diff_of(source: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame) and "change" in source.columns:
        return source
    return ehlo_diff(source)
