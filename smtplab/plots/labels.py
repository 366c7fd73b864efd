"""Endpoint labels: ``host:port:phase``, or ``host[address]:port:phase`` for a host with several addresses."""

from __future__ import annotations

import pandas as pd


def multi_address_hosts(frame: pd.DataFrame) -> set[str]:
    counts = frame.dropna(subset=["address"]).groupby("host", observed=True)["address"].nunique()
    return set(counts[counts > 1].index)


def endpoint_label(host: str, address: str | None, port: int, phase: str | None = None,
                   *, with_address: bool = False) -> str:
    """Build ``host:port`` or ``host[address]:port``, with ``:phase`` appended when given."""
    name = f"{host}[{address}]" if with_address and address else host
    label = f"{name}:{port}"
    return f"{label}:{phase}" if phase else label


def endpoint_labels(frame: pd.DataFrame, *, with_phase: bool) -> pd.Series:
    multi = multi_address_hosts(frame)
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
