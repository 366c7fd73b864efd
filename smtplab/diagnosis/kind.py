"""The finding kind: what a finding code means, how severe it is and how to fix it.

The type has its own module because ``catalog`` imports the domain kind table of
``domain_kinds``, and that table needs the type too. Defining it in ``catalog``
would make the two modules import each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtplab.diagnosis.severity import Severity

TEXT_FIELDS = ("title", "detail", "remedy", "postfix", "exim")
"""The translatable fields of a kind, in the order the message template lists them."""


@dataclass(frozen=True)
class FindingKind:
    """The meaning of a finding code: its severity, texts and remedy, per server software where it differs.

    The texts are English gettext message ids with ``{name}`` parameters. ``postfix``
    and ``exim`` are None when the generic remedy needs no server-specific setting.
    """

    code: str
    severity: Severity
    title: str
    detail: str
    remedy: str
    postfix: str | None = None
    exim: str | None = None

    def texts(self) -> list[str]:
        """List the texts of the kind that are set, in the order of ``TEXT_FIELDS``."""
        return [text for text in (getattr(self, name) for name in TEXT_FIELDS) if text]
