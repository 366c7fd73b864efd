"""Recommended client settings, chosen from what actually worked."""

from __future__ import annotations

from dataclasses import dataclass

from smtplab.analysis.interpret import EndpointView


@dataclass(frozen=True)
class ClientSettings:
    """Settings for a typical application (WordPress SMTP plugin, a CRM)."""

    host: str
    port: int
    encryption: str
    authentication: str
    username: str
    verified_login: bool


def recommend(views: list[EndpointView], username: str | None) -> ClientSettings | None:
    """The best endpoint: TLS worked and AUTH was offered inside it; implicit TLS first."""
    candidates = [item for item in views if item.tls is not None and item.auth_mechanisms("tls")]
    if not candidates:
        return None

    def preference(item: EndpointView) -> tuple[int, int, int]:
        login_failed = item.auth_result not in (None, "accepted", "skipped")
        return (int(login_failed), int(item.auth_result != "accepted"), int(item.record.mode != "tls"))

    best = min(candidates, key=preference)
    mechanisms = best.auth_mechanisms("tls") or ()
    return ClientSettings(
        host=best.record.host,
        port=best.record.port,
        encryption="SSL/TLS (implicit)" if best.record.mode == "tls" else "STARTTLS",
        authentication="yes: " + ("PLAIN or LOGIN" if {"PLAIN", "LOGIN"} & set(mechanisms)
                                  else " ".join(mechanisms)),
        username=username or "the full mail address of the account",
        verified_login=best.auth_result == "accepted",
    )
