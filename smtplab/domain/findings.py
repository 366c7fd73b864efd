"""The finding type the domain checks emit.

The domain finding kinds are defined in ``smtplab.diagnosis.domain_kinds`` and
looked up through the one registry, ``smtplab.diagnosis.catalog``. ``DOMAIN_KINDS``
is re-exported here so callers can list the domain codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smtplab.diagnosis.catalog import FindingKind, kind
from smtplab.diagnosis.domain_kinds import DOMAIN_KINDS
from smtplab.diagnosis.severity import Severity
from smtplab.domain.problem import render_value
from smtplab.i18n import gettext_for, render

__all__ = ["DOMAIN_CODES", "DOMAIN_KINDS", "DomainFinding", "messages"]

DOMAIN_CODES = frozenset(entry.code for entry in DOMAIN_KINDS)


def messages() -> list[str]:
    """List every translatable text of the domain kinds, in order, each once."""
    texts = [text for entry in DOMAIN_KINDS for text in entry.texts()]
    return list(dict.fromkeys(texts))


@dataclass(frozen=True)
class DomainFinding:
    """One finding about a domain or one of its hosts; ``subject`` is the domain or MX host.

    A parameter may be a ``Problem`` or a tuple of them (``errors``), rendered in the
    text's language and joined with its separator.
    """

    code: str
    subject: str
    params: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in DOMAIN_CODES:
            raise KeyError(
                f"unknown domain finding code {self.code!r}: add it to DOMAIN_KINDS "
                "in smtplab.diagnosis.domain_kinds"
            )

    @property
    def kind(self) -> FindingKind:
        return kind(self.code)

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    def _render(self, message: str | None, lang: str) -> str:
        """Render a text of the kind in ``lang``, with parser problems among the parameters translated too."""
        if not message:
            return ""
        values = {name: render_value(value, lang) for name, value in self.params.items()}
        return render(message, values, lang)

    def title(self, lang: str = "en") -> str:
        return self._render(self.kind.title, lang)

    def detail(self, lang: str = "en") -> str:
        return self._render(self.kind.detail, lang)

    def remedy(self, lang: str = "en") -> str:
        """Render the remedy, then the Postfix and Exim settings, with the language's punctuation."""
        gettext = gettext_for(lang)
        text = self._render(self.kind.remedy, lang)
        for server, setting in (("Postfix", self.kind.postfix), ("Exim", self.kind.exim)):
            if setting:
                values = {"label": server, "text": self._render(setting, lang)}
                labelled = gettext("%(label)s: %(text)s") % values
                text = gettext("%(first)s %(second)s") % {"first": text, "second": labelled}
        return text
