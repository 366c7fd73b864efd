"""Certificate expiry: the days left per certificate seen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from smtplab.plots._figure import add_legend, frame_of, message_figure, new_figure
from smtplab.plots.labels import endpoint_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

# A certificate with fewer days left than EXPIRY_WARNING_DAYS is a warning, and one with
# fewer than EXPIRY_CRITICAL_DAYS is critical.
EXPIRY_CRITICAL_DAYS = 14
EXPIRY_WARNING_DAYS = 30
EXPIRY_STATUSES = ("expired", "critical", "warning", "ok")
EXPIRY_COLORS = {"expired": "#7f0000", "critical": "#d62728", "warning": "#ff7f0e", "ok": "#2ca02c"}

_EXPIRY_SCHEMA: dict[str, Any] = {
    "label": "string", "host": "string", "port": "Int64", "common_name": "string",
    "not_after": "datetime64[us, UTC]", "days_left": "Int64",
    "status": pd.CategoricalDtype(EXPIRY_STATUSES, ordered=True),
}


def certificate_expiry(tls: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """List the days left per certificate seen, one row per host, address and port.

    ``status`` is ``expired``, ``critical`` (under 14 days), ``warning`` (under 30 days) or ``ok``.
    """
    frame = frame_of(tls, "tls")
    frame = frame.drop_duplicates(["host", "address", "port"])
    status = [_expiry_status(value) for value in frame["days_left"]]
    result = frame.assign(
        label=endpoint_labels(frame.assign(phase=None), with_phase=False), status=status
    )
    return result[list(_EXPIRY_SCHEMA)].astype(_EXPIRY_SCHEMA).reset_index(drop=True)


def _expiry_status(days_left: Any) -> str | None:
    if days_left is pd.NA or days_left is None:
        return None
    if days_left < 0:
        return "expired"
    if days_left < EXPIRY_CRITICAL_DAYS:
        return "critical"
    if days_left < EXPIRY_WARNING_DAYS:
        return "warning"
    return "ok"


def plot_certificate_expiry(source: ProbeResult | pd.DataFrame, *, horizon_days: int = 365,
                            title: str | None = None) -> Figure:
    """Draw a bar of days left per certificate, cut at ``horizon_days`` and labelled with the real value."""
    if isinstance(source, pd.DataFrame) and "status" in source.columns:
        frame = source
    else:
        frame = certificate_expiry(source)
    title = title or "Certificate expiry"
    frame = frame.dropna(subset=["days_left"])
    if frame.empty:
        return message_figure(title, "no certificate was recorded")
    figure = new_figure(8, 1.4 + 0.4 * len(frame))
    axes = figure.add_subplot()
    positions = range(len(frame))
    shown = [max(min(int(days), horizon_days), -horizon_days) for days in frame["days_left"]]
    colors = [EXPIRY_COLORS[str(status)] for status in frame["status"]]
    axes.barh(positions, shown, color=colors, height=0.6)
    for position, days, width in zip(positions, frame["days_left"], shown, strict=True):
        text = f"{int(days)} d" if days >= 0 else f"expired {-int(days)} d ago"
        axes.text(max(width, 0) + horizon_days * 0.01, position, text, va="center", fontsize=8)
    for limit in (EXPIRY_CRITICAL_DAYS, EXPIRY_WARNING_DAYS):
        axes.axvline(limit, color="#999999", linestyle=":", linewidth=1)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_yticks(list(positions), list(frame["label"]), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(min(0, min(shown)) - horizon_days * 0.02, horizon_days * 1.2)
    axes.set_xlabel(f"days left (bars cut at {horizon_days})")
    add_legend(axes, {status: EXPIRY_COLORS[status] for status in EXPIRY_STATUSES})
    axes.set_title(title)
    return figure
