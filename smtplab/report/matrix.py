"""The capability matrix as the report draws it: EHLO keywords by port and phase.

Unlike ``ProbeResult.capability_matrix``, the grid also has a column for every
phase that was expected but never reached (an implicit-TLS port whose handshake
failed), so a missing keyword and an unknown one look different.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

PINNED_KEYWORDS = ("STARTTLS", "AUTH")
"""Rows shown first and even when no port offers them, because their absence is the news."""

EXPECTED_KEYWORDS = {("STARTTLS", "plain"), ("AUTH", "tls")}
"""(keyword, phase) pairs a submission server should offer. The grid shows their absence as missing."""

_PHASES_BY_MODE = {"starttls": ("plain", "tls"), "tls": ("tls",), "plain": ("plain",)}
_AUTH_COLUMN = {"plain": "auth_plain", "tls": "auth_tls"}


class CellState(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    MISSING = "missing"
    """Absent although expected: STARTTLS before TLS, or AUTH inside TLS."""
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class GridColumn:
    """One EHLO reply: an endpoint and a phase (``plain`` before TLS, ``tls`` inside it).

    ``address`` is "" when unknown (an imported transcript of a host name).
    """

    host: str
    address: str
    port: int
    mode: str
    phase: str
    reached: bool


@dataclass(frozen=True)
class GridCell:
    state: CellState
    params: str = ""


@dataclass(frozen=True)
class GridRow:
    """A keyword across all columns. ``varies`` is True when ports of one phase disagree."""

    keyword: str
    cells: tuple[GridCell, ...]
    varies: bool


@dataclass(frozen=True)
class CapabilityGrid:
    columns: tuple[GridColumn, ...]
    rows: tuple[GridRow, ...]

    @property
    def endpoints(self) -> list[tuple[GridColumn, int]]:
        """The first column of each endpoint and how many phase columns it spans."""
        spans: dict[tuple[str, str, int], list[GridColumn]] = {}
        for column in self.columns:
            spans.setdefault((column.host, column.address, column.port), []).append(column)
        return [(columns[0], len(columns)) for columns in spans.values()]

    @property
    def many_addresses(self) -> bool:
        return len({column.address for column in self.columns}) > 1

    @property
    def reached(self) -> bool:
        """True when at least one column has an EHLO reply."""
        return any(column.reached for column in self.columns)

    @property
    def varies(self) -> bool:
        return any(row.varies for row in self.rows)


def capability_grid(endpoints: pd.DataFrame, capabilities: pd.DataFrame) -> CapabilityGrid:
    """Build the grid from ``ProbeResult.endpoints`` and ``ProbeResult.capabilities``."""
    columns = tuple(_columns(endpoints, capabilities))
    offered = _offered(capabilities)
    rows = tuple(_row(keyword, columns, offered) for keyword in _keyword_order(capabilities))
    return CapabilityGrid(columns, rows)


def _columns(endpoints: pd.DataFrame, capabilities: pd.DataFrame) -> list[GridColumn]:
    seen = {
        (_address(address), int(port), str(phase))
        for address, port, phase in zip(capabilities["address"], capabilities["port"],
                                        capabilities["phase"], strict=True)
    }
    columns = []
    for row in endpoints.itertuples(index=False):
        # An endpoint without an address never connected, unless it comes from an
        # imported transcript of a host name, which shows no address.
        connected = False if pd.isna(row.reachable) else bool(row.reachable)
        if pd.isna(row.address) and not connected:
            continue
        address = _address(row.address)
        phases = _PHASES_BY_MODE.get(str(row.mode), ("plain", "tls"))
        observed = {phase for seen_address, port, phase in seen
                    if seen_address == address and port == row.port}
        for phase in ("plain", "tls"):
            if phase not in phases and phase not in observed:
                continue
            # The AUTH column is "" when an EHLO (or HELO) reply came without AUTH and
            # NA when that phase was never reached, so it shows whether a reply exists.
            reached = phase in observed or not pd.isna(getattr(row, _AUTH_COLUMN[phase]))
            columns.append(GridColumn(str(row.host), address, int(row.port), str(row.mode),
                                      phase, reached))
    return columns


def _address(value: object) -> str:
    return "" if pd.isna(value) else str(value)


def _offered(capabilities: pd.DataFrame) -> dict[tuple[str, int, str, str], str]:
    """(address, port, phase, keyword) to parameters; the address is "" when unknown."""
    return {
        (_address(address), int(port), str(phase), str(keyword)): "" if pd.isna(params) else str(params)
        for address, port, phase, keyword, params in zip(
            capabilities["address"], capabilities["port"], capabilities["phase"],
            capabilities["keyword"], capabilities["params"], strict=True,
        )
    }


def _keyword_order(capabilities: pd.DataFrame) -> list[str]:
    seen = [str(keyword) for keyword in capabilities["keyword"]]
    return list(dict.fromkeys([*PINNED_KEYWORDS, *seen]))


def _row(keyword: str, columns: tuple[GridColumn, ...],
         offered: dict[tuple[str, int, str, str], str]) -> GridRow:
    cells = tuple(_cell(keyword, column, offered) for column in columns)
    return GridRow(keyword, cells, _varies(columns, cells))


def _cell(keyword: str, column: GridColumn, offered: dict[tuple[str, int, str, str], str]) -> GridCell:
    if not column.reached:
        return GridCell(CellState.UNKNOWN)
    params = offered.get((column.address, column.port, column.phase, keyword))
    if params is None and (keyword, column.phase) in EXPECTED_KEYWORDS:
        return GridCell(CellState.MISSING)
    if params is None:
        return GridCell(CellState.ABSENT)
    return GridCell(CellState.PRESENT, params)


def _varies(columns: tuple[GridColumn, ...], cells: tuple[GridCell, ...]) -> bool:
    """True when, within one phase, some reached ports offer the keyword and others do not."""
    states: dict[str, set[bool]] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell.state is not CellState.UNKNOWN:
            states.setdefault(column.phase, set()).add(cell.state is CellState.PRESENT)
    return any(len(found) > 1 for found in states.values())
