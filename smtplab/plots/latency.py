"""Latency: the timed stages of each endpoint's conversation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from smtplab.analysis.interpret import EndpointView
from smtplab.plots._figure import add_legend, message_figure, new_figure
from smtplab.plots.labels import endpoint_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

LATENCY_STAGES = ("connect", "tls_handshake", "banner", "ehlo", "starttls", "ehlo_after_starttls")
STAGE_COLORS = {
    "connect": "#7f7f7f", "tls_handshake": "#9467bd", "banner": "#1f77b4",
    "ehlo": "#17becf", "starttls": "#bcbd22", "ehlo_after_starttls": "#2ca02c",
}

_LATENCY_SCHEMA: dict[str, Any] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "mode": "string",
    "attempt": "Int64",
    "stage": pd.CategoricalDtype(LATENCY_STAGES, ordered=True),
    "start_ms": "Float64",
    "ms": "Float64",
    "ok": "boolean",
}


def latency_frame(result: ProbeResult | Iterable[EndpointView]) -> pd.DataFrame:
    """Time each stage of each endpoint's conversation, in milliseconds.

    Returns one row per endpoint, connection attempt and stage (``connect``,
    ``tls_handshake``, ``banner``, ``ehlo``, ``starttls``, ``ehlo_after_starttls``) with
    ``start_ms`` since the probe of that endpoint started and ``ms`` the duration. A
    second attempt is the reconnection that checks a failed port once more, for
    example for plaintext SMTP on an implicit-TLS port. ``ok`` is False for a stage
    that ended in an error (refused connection, failed handshake), and its ``ms`` is
    the time until the failure. A HELO sent after a rejected EHLO counts as the
    ``ehlo`` stage. The times come from the recorded transcript events.
    """
    views = result.views if hasattr(result, "views") else list(result)
    rows = []
    for item in views:
        record = item.record
        base = {"host": record.host, "address": record.address, "port": record.port, "mode": record.mode}
        rows.extend({**base, **stage} for stage in _stages(record.events, record.mode))
    return pd.DataFrame(rows, columns=list(_LATENCY_SCHEMA)).astype(_LATENCY_SCHEMA)


def _stages(events: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """Read the timed stages of every attempt from the events, in order."""
    stages: list[dict[str, Any]] = []
    previous_t: float | None = None
    ready_t: float | None = None
    command_t: float | None = None
    for event in events:
        kind, step, t = event["kind"], event["step"], event["t"]
        if kind == "attempt":
            previous_t = ready_t = command_t = None
            continue
        attempt = event.get("attempt", 1)
        if kind == "connect":
            command_t = t
        elif kind == "connected" and command_t is not None:
            stages.append(_stage("connect", attempt, command_t, t, ok=True))
            ready_t = t
        elif kind == "error" and step == "connect" and command_t is not None:
            stages.append(_stage("connect", attempt, command_t, t, ok=False))
        elif kind == "tls" and previous_t is not None:
            stages.append(_stage("tls_handshake", attempt, previous_t, t, ok=bool(event.get("ok"))))
            ready_t = t
        elif kind == "send":
            command_t = t
        elif kind == "recv" and _is_final_line(event["text"]):
            name = _stage_name(step, event["phase"], mode)
            start = ready_t if step == "banner" else command_t
            if name is not None and start is not None:
                stages.append(_stage(name, attempt, start, t, ok=True))
        previous_t = t
    return stages


def _stage_name(step: str, phase: str, mode: str) -> str | None:
    if step in ("banner", "starttls"):
        return step
    if step in ("ehlo", "helo"):
        return "ehlo_after_starttls" if phase == "tls" and mode == "starttls" else "ehlo"
    return None


def _is_final_line(text: str) -> bool:
    """Tell whether a reply line is the last one, which has no "-" after its code.

    RFC 5321 section 4.2.1: every line but the last of a multiline reply has a hyphen there.
    """
    return len(text) < 4 or text[3] != "-"


def _stage(name: str, attempt: int, start: float, end: float, *, ok: bool) -> dict[str, Any]:
    return {"attempt": attempt, "stage": name, "start_ms": start, "ms": round(end - start, 1), "ok": ok}


def _is_failed(ok: object) -> bool:
    """Tell whether a stage failed. ``ok`` comes from a nullable column: a numpy bool or ``pd.NA``."""
    return not pd.isna(ok) and not bool(ok)


def plot_latency(result: ProbeResult | pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw each endpoint's stages on a time line; failed stages are hatched."""
    frame = result if isinstance(result, pd.DataFrame) else latency_frame(result)
    title = title or "Latency per endpoint"
    if frame.empty:
        return message_figure(title, "no timed stage was recorded")
    frame = frame.assign(label=[
        f"{endpoint_label(row.host, row.address, int(row.port))}/{row.mode}"
        for row in frame.itertuples(index=False)
    ])
    labels = list(dict.fromkeys(frame["label"]))
    figure = new_figure(9, 1.4 + 0.4 * len(labels))
    axes = figure.add_subplot()
    for row in frame.itertuples(index=False):
        position = labels.index(row.label)
        failed = _is_failed(row.ok)
        axes.barh(
            position, row.ms, left=row.start_ms, height=0.6, color=STAGE_COLORS[row.stage],
            edgecolor="#d62728" if failed else "white",
            hatch="//" if failed else None,
        )
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds since the probe of the endpoint started")
    present = [stage for stage in LATENCY_STAGES if stage in set(frame["stage"].astype(str))]
    add_legend(axes, {stage: STAGE_COLORS[stage] for stage in present})
    axes.set_title(title)
    return figure
