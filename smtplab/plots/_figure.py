"""Figure helpers shared by the charts: lazy matplotlib, the IPython PNG formatter, legends."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

INSTALL_HINT = "smtplab.plots needs matplotlib: pip install 'smtplab[notebooks]'"


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error
    return Figure


def new_figure(width: float, height: float) -> Figure:
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


def frame_of(source: ProbeResult | pd.DataFrame, name: str) -> pd.DataFrame:
    """Return the frame itself, or the result's frame called ``name``."""
    if isinstance(source, pd.DataFrame):
        return source
    return getattr(source, name)


def message_figure(title: str, message: str) -> Figure:
    figure = new_figure(6, 1.6)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
    return figure


def draw_cells(axes: Axes, codes: Any, colors: list[str]) -> None:
    from matplotlib.colors import BoundaryNorm, ListedColormap

    colormap = ListedColormap(colors)
    norm = BoundaryNorm([index - 0.5 for index in range(len(colors) + 1)], len(colors))
    axes.imshow(codes, cmap=colormap, norm=norm, aspect="auto", interpolation="nearest")
    rows, columns = codes.shape
    axes.set_xticks([index - 0.5 for index in range(1, columns)], minor=True)
    axes.set_yticks([index - 0.5 for index in range(1, rows)], minor=True)
    axes.grid(which="minor", color="white", linewidth=1.5)
    axes.tick_params(which="minor", length=0)


def add_legend(axes: Axes, colors: dict[str, str]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=color, edgecolor="#999999", label=name) for name, color in colors.items()]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
