"""How urgent a finding is."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        """0 for critical up to 3 for ok: sort ascending to list the most urgent first."""
        return list(Severity).index(self)
