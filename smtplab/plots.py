"""Charts and comparison tables of probe results, for notebooks.

Each ``plot_*`` function takes a ``ProbeResult`` or the frame it reads, and returns a
matplotlib ``Figure`` without showing it. The figures are built without pyplot, so
they hold no global state, and Jupyter draws a figure that a cell returns. The table
functions (``capability_cells``, ``ehlo_diff``, ``latency_frame``,
``certificate_expiry``, ``findings_summary``, ``compare_runs``) need only pandas.

Endpoint columns are labelled ``host:port:phase``. A host that resolved to several
addresses gets ``host[address]:port:phase`` instead, so its addresses stay apart.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis import Severity
from smtplab.display import SEVERITY_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

INSTALL_HINT = "smtplab.plots needs matplotlib: pip install 'smtplab[notebooks]'"

CELL_STATES = ("absent", "present", "parameter")
CELL_COLORS = {"absent": "#f2f2f2", "present": "#9ecae1", "parameter": "#3182bd"}

CHANGES = ("lost", "gained", "changed", "same")
CHANGE_COLORS = {"lost": "#d62728", "gained": "#2ca02c", "changed": "#ff7f0e", "same": "#f2f2f2"}
CHANGE_MARKS = {"lost": "-", "gained": "+", "changed": "~", "same": ""}
DIFF_SCOPES = ("starttls", "ports", "hosts")

LATENCY_STAGES = ("connect", "tls_handshake", "banner", "ehlo", "starttls", "ehlo_after_starttls")
STAGE_COLORS = {
    "connect": "#7f7f7f", "tls_handshake": "#9467bd", "banner": "#1f77b4",
    "ehlo": "#17becf", "starttls": "#bcbd22", "ehlo_after_starttls": "#2ca02c",
}

# A certificate with fewer days left than EXPIRY_WARNING_DAYS is a warning, and one with
# fewer than EXPIRY_CRITICAL_DAYS is critical.
EXPIRY_CRITICAL_DAYS = 14
EXPIRY_WARNING_DAYS = 30
EXPIRY_STATUSES = ("expired", "critical", "warning", "ok")
EXPIRY_COLORS = {"expired": "#7f0000", "critical": "#d62728", "warning": "#ff7f0e", "ok": "#2ca02c"}

SEVERITIES = tuple(severity.value for severity in Severity)

# Beyond this many columns the heatmap leaves parameter texts out of its cells.
_ANNOTATED_COLUMNS_MAX = 16
_PARAMS_SHOWN_CHARS = 14


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error
    return Figure


def _new_figure(width: float, height: float) -> Figure:
    figure_class = _figure_class()
    _register_png_formatter(figure_class)
    return figure_class(figsize=(width, height), layout="constrained")


def _register_png_formatter(figure_class: type[Figure]) -> None:
    """Let IPython draw a returned Figure as PNG when no image format is set up for it.

    IPython registers figure formats only when pyplot's inline backend starts, and
    these figures never touch pyplot. A format chosen by the user is left alone.
    """
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats

    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    for mime in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf"):
        try:
            formatters[mime].lookup_by_type(figure_class)
            return
        except KeyError:
            continue
    select_figure_formats(shell, {"png"})


def _frame_of(source: ProbeResult | pd.DataFrame, name: str) -> pd.DataFrame:
    """Return the frame itself, or the result's frame called ``name``."""
    if isinstance(source, pd.DataFrame):
        return source
    return getattr(source, name)


def _message_figure(title: str, message: str) -> Figure:
    figure = _new_figure(6, 1.6)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
    return figure


# Endpoint labels


def _multi_address_hosts(frame: pd.DataFrame) -> set[str]:
    counts = frame.dropna(subset=["address"]).groupby("host", observed=True)["address"].nunique()
    return set(counts[counts > 1].index)


def endpoint_label(host: str, address: str | None, port: int, phase: str | None = None,
                   *, with_address: bool = False) -> str:
    """Build ``host:port`` or ``host[address]:port``, with ``:phase`` appended when given."""
    name = f"{host}[{address}]" if with_address and address else host
    label = f"{name}:{port}"
    return f"{label}:{phase}" if phase else label


def _labels(frame: pd.DataFrame, *, with_phase: bool) -> pd.Series:
    multi = _multi_address_hosts(frame)
    return pd.Series(
        [
            endpoint_label(
                row.host, row.address, int(row.port), row.phase if with_phase else None,
                with_address=row.host in multi,
            )
            for row in frame.itertuples(index=False)
        ],
        index=frame.index,
        dtype="string",
    )


# Capability matrix


def capability_cells(capabilities: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """List every keyword against every endpoint phase, with its state.

    Returns one row per keyword and ``column`` (the ``host:port:phase`` label), with
    ``state`` ``present`` (no parameters), ``parameter`` (for example ``SIZE 10240000``
    or the AUTH mechanisms, in ``params``) or ``absent``. Keywords keep the order in
    which the servers first listed them, and columns the order of the probe.
    """
    frame = _frame_of(capabilities, "capabilities")
    schema = {"keyword": "string", "column": "string", "state": pd.CategoricalDtype(CELL_STATES),
              "params": "string"}
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in schema.items()})
    frame = frame.assign(column=_labels(frame, with_phase=True))
    first = frame.drop_duplicates(["keyword", "column"])
    keywords = list(dict.fromkeys(first["keyword"]))
    columns = list(dict.fromkeys(first["column"]))
    grid = pd.MultiIndex.from_product([keywords, columns], names=["keyword", "column"])
    cells = first.set_index(["keyword", "column"])["params"].reindex(grid).reset_index()
    state = pd.Series("absent", index=cells.index)
    state = state.mask(cells["params"].notna(), "present")
    state = state.mask(cells["params"].fillna("") != "", "parameter")
    cells["state"] = state
    cells["params"] = cells["params"].mask(cells["params"] == "")
    return cells[list(schema)].astype(schema)


def plot_capability_matrix(source: ProbeResult | pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw keywords (rows) against endpoint phases (columns) as a heatmap.

    A dark cell is a keyword with parameters, and the parameters are written into the
    cell when there are at most 16 columns. A light cell is a keyword without
    parameters. A grey cell means that the keyword was not offered there.
    """
    cells = capability_cells(source)
    title = title or "EHLO capabilities"
    if cells.empty:
        return _message_figure(title, "no EHLO reply was recorded")
    keywords = list(dict.fromkeys(cells["keyword"]))
    columns = list(dict.fromkeys(cells["column"]))
    codes = cells["state"].cat.codes.to_numpy().reshape(len(keywords), len(columns))

    width = min(4.0 + 0.45 * len(columns), 30.0)
    figure = _new_figure(width, 1.6 + 0.32 * len(keywords))
    axes = figure.add_subplot()
    _draw_cells(axes, codes, [CELL_COLORS[state] for state in CELL_STATES])
    _set_grid_ticks(axes, columns, keywords)
    if len(columns) <= _ANNOTATED_COLUMNS_MAX:
        params = cells["params"].to_numpy().reshape(len(keywords), len(columns))
        _annotate_params(axes, params, fontsize=7 if len(columns) > 8 else 8)
    _add_legend(axes, {state: CELL_COLORS[state] for state in CELL_STATES})
    axes.set_title(title)
    return figure


def _draw_cells(axes: Axes, codes: Any, colors: list[str]) -> None:
    from matplotlib.colors import BoundaryNorm, ListedColormap

    colormap = ListedColormap(colors)
    norm = BoundaryNorm([index - 0.5 for index in range(len(colors) + 1)], len(colors))
    axes.imshow(codes, cmap=colormap, norm=norm, aspect="auto", interpolation="nearest")
    rows, columns = codes.shape
    axes.set_xticks([index - 0.5 for index in range(1, columns)], minor=True)
    axes.set_yticks([index - 0.5 for index in range(1, rows)], minor=True)
    axes.grid(which="minor", color="white", linewidth=1.5)
    axes.tick_params(which="minor", length=0)


def _set_grid_ticks(axes: Axes, columns: list[str], rows: list[str]) -> None:
    fontsize = 8 if len(columns) <= 20 else 6
    axes.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=fontsize)
    axes.set_yticks(range(len(rows)), rows, fontsize=8)


def _annotate_params(axes: Axes, params: Any, *, fontsize: int) -> None:
    rows, columns = params.shape
    for row in range(rows):
        for column in range(columns):
            text = params[row, column]
            if text is pd.NA or text is None:
                continue
            shown = text if len(text) <= _PARAMS_SHOWN_CHARS else text[: _PARAMS_SHOWN_CHARS - 1] + "…"
            axes.text(column, row, shown, ha="center", va="center", fontsize=fontsize, color="white")


def _add_legend(axes: Axes, colors: dict[str, str]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=color, edgecolor="#999999", label=name) for name, color in colors.items()]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


# EHLO differences

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
    frame = _frame_of(capabilities, "capabilities")
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
        endpoint=_labels(frame, with_phase=False), column=_labels(frame, with_phase=True)
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
    rows = []
    for keyword in dict.fromkeys([*before, *after]):
        if keyword not in after:
            change = "lost"
        elif keyword not in before:
            change = "gained"
        elif before[keyword] != after[keyword]:
            change = "changed"
        else:
            change = "same"
        rows.append({
            "scope": scope, "host": host, "left": left, "right": right, "keyword": keyword,
            "change": change, "left_params": before.get(keyword), "right_params": after.get(keyword),
        })
    return rows


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
        return _message_figure(title, "no EHLO keyword differs")
    pairs = [_pair_label(str(row.scope), row.left, row.right) for row in diff.itertuples(index=False)]
    diff = diff.assign(pair=pairs)
    keywords = list(dict.fromkeys(diff["keyword"]))
    comparisons = list(dict.fromkeys(diff["pair"]))
    table = diff.drop_duplicates(["keyword", "pair"]).set_index(["pair", "keyword"])["change"]
    grid = np.array([
        [CHANGES.index(str(table.get((pair, keyword), "same"))) for keyword in keywords]
        for pair in comparisons
    ])

    figure = _new_figure(min(5.0 + 0.4 * len(keywords), 30.0), 1.8 + 0.3 * len(comparisons))
    axes = figure.add_subplot()
    _draw_cells(axes, grid, [CHANGE_COLORS[change] for change in CHANGES])
    axes.set_xticks(range(len(keywords)), keywords, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(range(len(comparisons)), comparisons, fontsize=8)
    for row, column in zip(*np.nonzero(grid != CHANGES.index("same")), strict=True):
        mark = CHANGE_MARKS[CHANGES[grid[row, column]]]
        axes.text(column, row, mark, ha="center", va="center", color="white", fontweight="bold")
    _add_legend(axes, {change: CHANGE_COLORS[change] for change in CHANGES[:3]})
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


# Latency

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


def plot_latency(result: ProbeResult | pd.DataFrame, *, title: str | None = None) -> Figure:
    """Draw each endpoint's stages on a time line; failed stages are hatched."""
    frame = result if isinstance(result, pd.DataFrame) else latency_frame(result)
    title = title or "Latency per endpoint"
    if frame.empty:
        return _message_figure(title, "no timed stage was recorded")
    frame = frame.assign(label=[
        f"{endpoint_label(row.host, row.address, int(row.port))}/{row.mode}"
        for row in frame.itertuples(index=False)
    ])
    labels = list(dict.fromkeys(frame["label"]))
    figure = _new_figure(9, 1.4 + 0.4 * len(labels))
    axes = figure.add_subplot()
    for row in frame.itertuples(index=False):
        position = labels.index(row.label)
        axes.barh(
            position, row.ms, left=row.start_ms, height=0.6, color=STAGE_COLORS[row.stage],
            edgecolor="#d62728" if row.ok is False else "white",
            hatch="//" if row.ok is False else None,
        )
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds since the probe of the endpoint started")
    present = [stage for stage in LATENCY_STAGES if stage in set(frame["stage"].astype(str))]
    _add_legend(axes, {stage: STAGE_COLORS[stage] for stage in present})
    axes.set_title(title)
    return figure


# Certificates

_EXPIRY_SCHEMA: dict[str, Any] = {
    "label": "string", "host": "string", "port": "Int64", "common_name": "string",
    "not_after": "datetime64[us, UTC]", "days_left": "Int64",
    "status": pd.CategoricalDtype(EXPIRY_STATUSES, ordered=True),
}


def certificate_expiry(tls: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """List the days left per certificate seen, one row per host, address and port.

    ``status`` is ``expired``, ``critical`` (under 14 days), ``warning`` (under 30 days) or ``ok``.
    """
    frame = _frame_of(tls, "tls")
    frame = frame.drop_duplicates(["host", "address", "port"])
    status = [_expiry_status(value) for value in frame["days_left"]]
    result = frame.assign(
        label=_labels(frame.assign(phase=None), with_phase=False), status=status
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
        return _message_figure(title, "no certificate was recorded")
    figure = _new_figure(8, 1.4 + 0.4 * len(frame))
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
    _add_legend(axes, {status: EXPIRY_COLORS[status] for status in EXPIRY_STATUSES})
    axes.set_title(title)
    return figure


# Findings


def findings_summary(findings: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """Count the findings per host (rows) and severity (columns, most urgent first)."""
    frame = _frame_of(findings, "findings")
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
        return _message_figure(title, "no findings")
    figure = _new_figure(8, 1.4 + 0.45 * len(counts))
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


# Comparing two runs

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
    multi = _multi_address_hosts(frame)
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
    change = "appeared" if before is None else "disappeared" if after is None else "changed"
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
    multi = _multi_address_hosts(frame)
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
