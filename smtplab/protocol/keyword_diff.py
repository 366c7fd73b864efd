"""The difference between two EHLO keyword maps: keywords gained, lost and with changed parameters.

This is the one comparison of EHLO keywords. The report diffs each port's reply
before and after STARTTLS with it, and ``smtplab.plots.ehlo_diff`` builds its rows
(before and after STARTTLS, across ports, between hosts) on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Keyword = tuple[str, str]
"""An EHLO keyword and its parameters ("" when it has none)."""


@dataclass(frozen=True)
class ParamChange:
    """A keyword offered in both replies with different parameters."""

    keyword: str
    before: str
    after: str


def diff_keywords(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[
    tuple[Keyword, ...], tuple[Keyword, ...], tuple[ParamChange, ...]
]:
    """Compare two EHLO keyword maps: keywords gained, lost, and with changed parameters.

    Each part keeps the order of the reply it comes from.
    """
    gained = tuple((name, params) for name, params in after.items() if name not in before)
    lost = tuple((name, params) for name, params in before.items() if name not in after)
    changed = tuple(
        ParamChange(name, before[name], params)
        for name, params in after.items()
        if name in before and before[name] != params
    )
    return gained, lost, changed
