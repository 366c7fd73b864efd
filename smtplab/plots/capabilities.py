"""The capability matrix: every EHLO keyword against every endpoint phase."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from smtplab.plots._figure import add_legend, draw_cells, frame_of, message_figure, new_figure
from smtplab.plots.labels import endpoint_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

CELL_STATES = ("absent", "present", "parameter")
CELL_COLORS = {"absent": "#f2f2f2", "present": "#9ecae1", "parameter": "#3182bd"}

# Beyond this many columns the heatmap leaves parameter texts out of its cells.
_ANNOTATED_COLUMNS_MAX = 16
_PARAMS_SHOWN_CHARS = 14


def capability_cells(capabilities: ProbeResult | pd.DataFrame) -> pd.DataFrame:
    """List every keyword against every endpoint phase, with its state.

    Returns one row per keyword and ``column`` (the ``host:port:phase`` label), with
    ``state`` ``present`` (no parameters), ``parameter`` (for example ``SIZE 10240000``
    or the AUTH mechanisms, in ``params``) or ``absent``. Keywords keep the order in
    which the servers first listed them, and columns the order of the probe.
    """
    frame = frame_of(capabilities, "capabilities")
    schema = {"keyword": "string", "column": "string", "state": pd.CategoricalDtype(CELL_STATES),
              "params": "string"}
    if frame.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in schema.items()})
    frame = frame.assign(column=endpoint_labels(frame, with_phase=True))
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
        return message_figure(title, "no EHLO reply was recorded")
    keywords = list(dict.fromkeys(cells["keyword"]))
    columns = list(dict.fromkeys(cells["column"]))
    codes = cells["state"].cat.codes.to_numpy().reshape(len(keywords), len(columns))

    width = min(4.0 + 0.45 * len(columns), 30.0)
    figure = new_figure(width, 1.6 + 0.32 * len(keywords))
    axes = figure.add_subplot()
    draw_cells(axes, codes, [CELL_COLORS[state] for state in CELL_STATES])
    _set_grid_ticks(axes, columns, keywords)
    if len(columns) <= _ANNOTATED_COLUMNS_MAX:
        params = cells["params"].to_numpy().reshape(len(keywords), len(columns))
        _annotate_params(axes, params, fontsize=7 if len(columns) > 8 else 8)
    add_legend(axes, {state: CELL_COLORS[state] for state in CELL_STATES})
    axes.set_title(title)
    return figure


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
