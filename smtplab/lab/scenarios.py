"""The lab's scenarios: one server profile each, keyed by scenario name."""

from __future__ import annotations

from types import MappingProxyType

from .profile import ListenerMode, ListenerProfile, ServerProfile

# The keywords, in order, of the misconfigured server that this scenario reproduces.
# A server must not offer STARTTLS again after TLS starts (RFC 3207 section 4.2).
_BROKEN_EHLO_BEFORE_TLS = (
    "PIPELINING",
    "SIZE 10240000",
    "VRFY",
    "ETRN",
    "STARTTLS",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "DSN",
    "SMTPUTF8",
    "CHUNKING",
)
_BROKEN_EHLO_AFTER_TLS = tuple(k for k in _BROKEN_EHLO_BEFORE_TLS if k != "STARTTLS")

BROKEN = ServerProfile(
    name="broken",
    description=(
        "A shop's MX that still presents the banner and certificate of mail.dev.test, "
        "offers no AUTH even inside TLS, and resets every TLS handshake on its "
        "implicit-TLS port."
    ),
    host="mx.shop.test",
    address="127.0.0.2",
    mail_domain="shop.test",
    banner_host="mail.dev.test",
    certificate_host="mail.dev.test",
    listeners=(
        ListenerProfile(role=25, mode=ListenerMode.STARTTLS),
        ListenerProfile(role=587, mode=ListenerMode.STARTTLS),
        ListenerProfile(role=465, mode=ListenerMode.TLS, reset_on_client_data=True),
    ),
    ehlo_before_tls=_BROKEN_EHLO_BEFORE_TLS,
    ehlo_after_tls=_BROKEN_EHLO_AFTER_TLS,
    local_domains=("shop.test",),
    relay_denied_reply="454 4.7.1 <{address}>: Relay access denied",
)

HEALTHY = ServerProfile(
    name="healthy",
    description=(
        "A submission server whose names and certificate match, which offers "
        "AUTH PLAIN LOGIN only inside TLS and relays only for authenticated clients."
    ),
    host="smtp.healthy.test",
    address="127.0.0.3",
    mail_domain="healthy.test",
    banner_host="smtp.healthy.test",
    certificate_host="smtp.healthy.test",
    listeners=(
        ListenerProfile(role=25, mode=ListenerMode.STARTTLS),
        ListenerProfile(role=587, mode=ListenerMode.STARTTLS),
        ListenerProfile(role=465, mode=ListenerMode.TLS),
    ),
    ehlo_before_tls=("PIPELINING", "SIZE 33554432", "8BITMIME", "SMTPUTF8", "STARTTLS"),
    ehlo_after_tls=("PIPELINING", "SIZE 33554432", "8BITMIME", "SMTPUTF8", "AUTH PLAIN LOGIN"),
    local_domains=("healthy.test",),
    relay_denied_reply="554 5.7.1 <{address}>: Relay access denied",
    relay_when_authenticated=True,
    username="alice@healthy.test",
)

SCENARIOS: MappingProxyType[str, ServerProfile] = MappingProxyType(
    {profile.name: profile for profile in (BROKEN, HEALTHY)}
)
