"""A finding: a stable code, a severity, the evidence lines and the remedy."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One diagnosis about a host or an endpoint (``port`` None means the whole host)."""

    code: str
    severity: Severity
    host: str
    title: str
    detail: str
    remedy: str
    port: int | None = None
    address: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)
