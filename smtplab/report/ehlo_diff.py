"""What changed in each port's EHLO reply after STARTTLS.

RFC 3207 section 4.2 makes the client forget what it learned before TLS, and
servers commonly offer AUTH only inside TLS, so the two replies of one port are
expected to differ. Losing STARTTLS is required: a server must not offer it again
inside TLS.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from smtplab.protocol.keyword_diff import Keyword, ParamChange, diff_keywords

# Keyword, ParamChange and diff_keywords are defined in smtplab.protocol.keyword_diff
# and stay importable from here.
__all__ = ["EXPECTED_LOSS", "EhloChange", "Keyword", "ParamChange", "diff_keywords", "ehlo_changes"]

EXPECTED_LOSS = "STARTTLS"


@dataclass(frozen=True)
class EhloChange:
    """The difference between one port's EHLO reply before TLS and after STARTTLS."""

    host: str
    address: str
    port: int
    gained: tuple[Keyword, ...]
    lost: tuple[Keyword, ...]
    changed: tuple[ParamChange, ...]

    @property
    def unexpected_lost(self) -> tuple[Keyword, ...]:
        """Keywords lost after STARTTLS other than STARTTLS itself."""
        return tuple(item for item in self.lost if item[0] != EXPECTED_LOSS)

    @property
    def only_expected(self) -> bool:
        """True when the only change is that STARTTLS is no longer offered."""
        return not self.gained and not self.changed and not self.unexpected_lost


def ehlo_changes(capabilities: pd.DataFrame) -> list[EhloChange]:
    """Diff each port's EHLO keywords before TLS (phase ``plain``) and inside TLS (phase ``tls``).

    Takes ``ProbeResult.capabilities``. Ports without both replies (implicit TLS,
    a failed STARTTLS) are left out.
    """
    changes: list[EhloChange] = []
    location = ["host", "address", "port"]
    for (host, address, port), rows in capabilities.groupby(location, sort=False, dropna=False):
        before = _keywords(rows, "plain")
        after = _keywords(rows, "tls")
        if not before or not after:
            continue
        gained, lost, changed = diff_keywords(before, after)
        changes.append(EhloChange(str(host), str(address), int(port), gained, lost, changed))
    return changes


def _keywords(rows: pd.DataFrame, phase: str) -> dict[str, str]:
    # NOTE: the capabilities frame has no row for an EHLO reply without keywords,
    # so such a reply looks the same as a phase that was never reached.
    selected = rows[rows["phase"] == phase].sort_values("position")
    return {
        str(keyword): "" if pd.isna(params) else str(params)
        for keyword, params in zip(selected["keyword"], selected["params"], strict=True)
    }
