"""The lab's scenarios: one server profile each, keyed by scenario name."""

from __future__ import annotations

from types import MappingProxyType

from .profile import ListenerMode, ListenerProfile, MailPosture, ServerProfile, TlsaKey

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

# Both domains publish their DKIM key under this selector.
DKIM_SELECTOR = "mail"

# Mistakes that often come with a server set up from another machine's image. The MTA-STS
# policy lists the name the server gives itself instead of its MX name, and the TLSA record
# still carries the key of a certificate that was replaced.
_BROKEN_POSTURE = MailPosture(
    description=(
        "shop.test publishes a TLSA record of a replaced key, an MTA-STS policy that lists "
        "mail.dev.test instead of its MX, SPF ending in ?all, DMARC p=none without reports, "
        "a TLS-RPT address without mailto: and a 1024-bit DKIM key."
    ),
    spf="v=spf1 mx ?all",
    dmarc="v=DMARC1; p=none",
    tlsrpt="v=TLSRPTv1; rua=tlsrpt@shop.test",
    mta_sts_mode="enforce",
    mta_sts_mx=("mail.dev.test",),
    mta_sts_max_age=604_800,
    dkim_selector=DKIM_SELECTOR,
    dkim_rsa_bits=1024,
    tlsa_key=TlsaKey.REPLACED,
)

_HEALTHY_POSTURE = MailPosture(
    description=(
        "healthy.test publishes SPF ending in -all, DMARC p=reject with reports, an enforced "
        "MTA-STS policy for its MX, TLS-RPT, a 2048-bit DKIM key and a DANE-EE TLSA record "
        "of its MX's key."
    ),
    spf="v=spf1 mx -all",
    dmarc="v=DMARC1; p=reject; rua=mailto:dmarc-reports@healthy.test; adkim=s; aspf=s",
    tlsrpt="v=TLSRPTv1; rua=mailto:tls-reports@healthy.test",
    mta_sts_mode="enforce",
    mta_sts_mx=("smtp.healthy.test",),
    mta_sts_max_age=1_209_600,
    dkim_selector=DKIM_SELECTOR,
    dkim_rsa_bits=2048,
    tlsa_key=TlsaKey.CURRENT,
)

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
    posture=_BROKEN_POSTURE,
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
    posture=_HEALTHY_POSTURE,
)

SCENARIOS: MappingProxyType[str, ServerProfile] = MappingProxyType(
    {profile.name: profile for profile in (BROKEN, HEALTHY)}
)
