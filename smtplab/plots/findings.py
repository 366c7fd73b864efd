"""Findings per host and severity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from smtplab.diagnosis import Severity
from smtplab.display import SEVERITY_COLORS
from smtplab.plots._figure import frame_of, message_figure, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

SEVERITIES = tuple(severity.value for severity in Severity)


def findings_summary(findings: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """Count the findings per host (rows) and severity (columns, most urgent first)."""
    frame = frame_of(findings, "findings")
    hosts = list(dict.fromkeys(frame["host"]))
    counts = pd.crosstab(frame["host"].astype(str), frame["severity"].astype(str))
    counts = counts.reindex(index=hosts, columns=list(SEVERITIES), fill_value=0)
    counts.index.name, counts.columns.name = "host", "severity"
    return counts.astype("int64")


def plot_findings(source: ProbeResult | pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw a stacked bar per host of its findings, coloured by severity."""
    if isinstance(source, pd.DataFrame) and "critical" in source.columns:
        counts = source
    else:
        counts = findings_summary(source)
    title = title or "Findings by severity"
    if counts.empty:
        return message_figure(title, "no findings")
    figure = new_figure(8, 1.4 + 0.45 * len(counts))
    axes = figure.add_subplot()
    positions = range(len(counts))
    left = [0] * len(counts)
    for severity in SEVERITIES:
        values = counts[severity].tolist()
        axes.barh(positions, values, left=left, color=SEVERITY_COLORS[severity], label=severity,
                  height=0.6)
        for position, start, value in zip(positions, left, values, strict=True):
            if value:
                axes.text(start + value / 2, position, str(value), ha="center", va="center",
                          color="white", fontsize=8)
        left = [start + value for start, value in zip(left, values, strict=True)]
    axes.set_yticks(list(positions), list(counts.index), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("findings")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axes.set_title(title)
    return figure
