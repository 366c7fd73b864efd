"""Recommended client settings, chosen from what actually worked."""

from __future__ import annotations

from dataclasses import dataclass, replace

from smtplab.analysis.interpret import EndpointView
from smtplab.report.reasons import PortReason, login_reason, supported_mechanisms

_COMMON_MECHANISMS = ("PLAIN", "LOGIN")
_FAILED_LOGINS = ("rejected", "needs_encryption", "unsupported", "deferred")
_REJECTED_AFTER_LOGIN = ("denied", "mail_rejected")


@dataclass(frozen=True)
class ClientSettings:
    """Settings for a typical application (WordPress SMTP plugin, a CRM).

    ``mode`` is ``tls`` (implicit TLS) or ``starttls``. ``mechanisms`` are all AUTH
    mechanisms offered inside TLS. ``username`` is None when the probe ran without
    credentials. ``login`` is the endpoint's ``EndpointView.auth_result``, or
    ``untested`` when no AUTH command got a reply. ``relay_after_login`` is its
    ``relay_result("auth")``, None when no MAIL FROM followed a login.
    ``untested_reason`` is why an untested login was not tried (None otherwise).
    """

    host: str
    port: int
    mode: str
    mechanisms: tuple[str, ...]
    username: str | None
    login: str = "untested"
    relay_after_login: str | None = None
    untested_reason: PortReason | None = None

    @property
    def encryption(self) -> str:
        """The encryption setting as mail clients label it."""
        return "SSL/TLS (implicit)" if self.mode == "tls" else "STARTTLS"

    @property
    def verified_login(self) -> bool:
        """True when the server accepted the login after the step that carries the password."""
        return self.login == "accepted"

    @property
    def login_failed(self) -> bool:
        return self.login in _FAILED_LOGINS

    @property
    def relay_rejected(self) -> bool:
        """True when, after a login, the server rejected the sender or a recipient in another domain."""
        return self.relay_after_login in _REJECTED_AFTER_LOGIN

    @property
    def can_send(self) -> bool:
        """True when this probe showed that an application can send with these settings.

        That needs an accepted login or a recipient in another domain accepted after
        AUTH, and no rejection of the sender or recipient after the login.
        """
        accepted = self.verified_login or self.relay_after_login == "accepted"
        return accepted and not self.relay_rejected

    @property
    def outcome(self) -> str:
        """``can_send``, ``relay_rejected``, ``login_failed``, ``accepted_early`` or ``untested``."""
        if self.can_send:
            return "can_send"
        if self.relay_rejected:
            return "relay_rejected"
        if self.login_failed:
            return "login_failed"
        if self.login == "accepted_early":
            return "accepted_early"
        return "untested"

    @property
    def suggested_mechanisms(self) -> tuple[str, ...]:
        """Mechanisms to configure: PLAIN and LOGIN where offered, because every client supports them.

        Without those, the other offered mechanisms smtplab can use (CRAM-MD5). Empty
        when the server offers none that smtplab can use, because the report
        recommends only what a probe can check.
        """
        common = tuple(name for name in _COMMON_MECHANISMS if name in self.mechanisms)
        return common or supported_mechanisms(self.mechanisms)


def recommend(views: list[EndpointView], username: str | None) -> ClientSettings | None:
    """Pick the best endpoint where TLS worked and AUTH was offered inside it.

    A verified login ranks first, then an untested one, then a failed one. Among
    equals, an endpoint that did not reject mail after the login, then one offering
    a mechanism smtplab can use, then implicit TLS come first. Returns None when no
    endpoint offered AUTH over working TLS.
    """
    candidates = [item for item in views if item.tls is not None and item.auth_mechanisms("tls")]
    if not candidates:
        return None
    best = min(candidates, key=_preference)
    result = best.auth_result
    login = "untested" if result in (None, "skipped") else str(result)
    reason = None
    if login == "untested" and username is not None:
        reason = replace(login_reason(best), ports=(best.record.port,))
    return ClientSettings(
        host=best.record.host,
        port=best.record.port,
        mode="tls" if best.record.mode == "tls" else "starttls",
        mechanisms=best.auth_mechanisms("tls") or (),
        username=username,
        login=login,
        relay_after_login=best.relay_result("auth"),
        untested_reason=reason,
    )


def _preference(item: EndpointView) -> tuple[int, int, int, int, int]:
    login_failed = item.auth_result not in (None, "accepted", "skipped")
    rejected = item.relay_result("auth") in _REJECTED_AFTER_LOGIN
    usable = bool(supported_mechanisms(item.auth_mechanisms("tls") or ()))
    return (int(login_failed), int(item.auth_result != "accepted"), int(rejected), int(not usable),
            int(item.record.mode != "tls"))
