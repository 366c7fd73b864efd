"""Recommended client settings, chosen from what actually worked."""

from __future__ import annotations

from dataclasses import dataclass

from smtplab.analysis.interpret import EndpointView

_COMMON_MECHANISMS = ("PLAIN", "LOGIN")


@dataclass(frozen=True)
class ClientSettings:
    """Settings for a typical application (WordPress SMTP plugin, a CRM).

    ``mode`` is ``tls`` (implicit TLS) or ``starttls``. ``username`` is None when
    the probe ran without credentials, so the user name was never checked.
    """

    host: str
    port: int
    mode: str
    mechanisms: tuple[str, ...]
    username: str | None
    verified_login: bool

    @property
    def encryption(self) -> str:
        """The encryption setting as mail clients label it."""
        return "SSL/TLS (implicit)" if self.mode == "tls" else "STARTTLS"

    @property
    def suggested_mechanisms(self) -> tuple[str, ...]:
        """PLAIN and LOGIN where offered, because every client supports them, else all offered mechanisms."""
        common = tuple(name for name in _COMMON_MECHANISMS if name in self.mechanisms)
        return common or self.mechanisms


def recommend(views: list[EndpointView], username: str | None) -> ClientSettings | None:
    """Pick the best endpoint where TLS worked and AUTH was offered inside it, implicit TLS first.

    A verified login ranks above an untested one, and a failed login ranks last.
    Returns None when no endpoint offered AUTH over working TLS.
    """
    candidates = [item for item in views if item.tls is not None and item.auth_mechanisms("tls")]
    if not candidates:
        return None

    def preference(item: EndpointView) -> tuple[int, int, int]:
        login_failed = item.auth_result not in (None, "accepted", "skipped")
        return (int(login_failed), int(item.auth_result != "accepted"), int(item.record.mode != "tls"))

    best = min(candidates, key=preference)
    return ClientSettings(
        host=best.record.host,
        port=best.record.port,
        mode="tls" if best.record.mode == "tls" else "starttls",
        mechanisms=best.auth_mechanisms("tls") or (),
        username=username,
        verified_login=best.auth_result == "accepted",
    )
