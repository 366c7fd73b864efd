"""A finding: a stable code, the parameters of its texts, and the evidence lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smtplab.diagnosis.catalog import FindingKind, kind
from smtplab.diagnosis.severity import Severity
from smtplab.errors import ERROR_NAMES
from smtplab.i18n import gettext_for, render

_LABELS = frozenset(ERROR_NAMES.values())


@dataclass(frozen=True)
class Finding:
    """One diagnosis about a host or an endpoint (``port`` None means the whole host)."""

    code: str
    host: str
    params: dict[str, Any] = field(default_factory=dict)
    port: int | None = None
    address: str | None = None
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        kind(self.code)  # an unknown code is a programming error: fail where it is made

    @property
    def kind(self) -> FindingKind:
        return kind(self.code)

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    def _render(self, message: str | None, lang: str) -> str:
        if message is None:
            return ""
        values = {"host": self.host, "port": self.port, "address": self.address, **self.params}
        translate = gettext_for(lang)
        values = {key: translate(value) if isinstance(value, str) and value in _LABELS else value
                  for key, value in values.items()}
        return render(message, values, lang)

    def title(self, lang: str = "en") -> str:
        return self._render(self.kind.title, lang)

    def detail(self, lang: str = "en") -> str:
        return self._render(self.kind.detail, lang)

    def remedies(self, lang: str = "en") -> dict[str, str]:
        """Return the remedy for any server, and the settings for Postfix and Exim where known."""
        entry = self.kind
        found = {"generic": self._render(entry.remedy, lang)}
        if entry.postfix:
            found["postfix"] = self._render(entry.postfix, lang)
        if entry.exim:
            found["exim"] = self._render(entry.exim, lang)
        return found

    def remedy(self, lang: str = "en") -> str:
        parts = self.remedies(lang)
        text = parts["generic"]
        if "postfix" in parts:
            text += f" Postfix: {parts['postfix']}"
        if "exim" in parts:
            text += f" Exim: {parts['exim']}"
        return text
