"""Declarative description of one lab mail server: names, listeners, SMTP behaviour and the
mail records of its domain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ListenerMode(StrEnum):
    """TLS mode of a listener, with the values used in endpoint strings."""

    STARTTLS = "starttls"  # plaintext SMTP that offers STARTTLS (RFC 3207)
    TLS = "tls"  # implicit TLS from the first byte (RFC 8314)


@dataclass(frozen=True, kw_only=True)
class ListenerProfile:
    """One listening port of a lab server.

    ``role`` is the standard port that this listener replaces (25, 587 or 465). The lab
    binds an ephemeral port instead, because the standard ones need root and may be in use.
    When ``reset_on_client_data`` is true, the listener speaks no SMTP: it accepts the TCP
    connection and resets it as soon as the client sends its first bytes.
    """

    role: int
    mode: ListenerMode
    reset_on_client_data: bool = False


class TlsaKey(StrEnum):
    """The public key whose SHA-256 digest the MX host's TLSA record carries."""

    CURRENT = "current"  # the key of the certificate the server presents
    REPLACED = "replaced"  # a key the server no longer uses, as after a certificate change


@dataclass(frozen=True, kw_only=True)
class MailPosture:
    """The records that a profile's mail domain publishes for the domain checks.

    ``spf``, ``dmarc`` and ``tlsrpt`` are the TXT texts of the domain, of ``_dmarc`` and of
    ``_smtp._tls``. The MTA-STS policy file has mode ``mta_sts_mode``, the MX patterns
    ``mta_sts_mx`` and ``mta_sts_max_age`` in seconds. The DKIM record under
    ``dkim_selector`` carries a new RSA key of ``dkim_rsa_bits`` on every lab start. The
    TLSA record of the MX host on port 25 is DANE-EE, SPKI, SHA-256 (``3 1 1``) of the key
    that ``tlsa_key`` names. ``description`` is one sentence on what the records get
    right or wrong.
    """

    description: str
    spf: str
    dmarc: str
    tlsrpt: str
    mta_sts_mode: str
    mta_sts_mx: tuple[str, ...]
    mta_sts_max_age: int
    dkim_selector: str
    dkim_rsa_bits: int
    tlsa_key: TlsaKey


@dataclass(frozen=True, kw_only=True)
class ServerProfile:
    """Everything the lab needs to build, name and resolve one SMTP server.

    ``address`` is a loopback address of this server alone, so that its PTR record differs
    from the other servers'. NOTE: Linux routes all of 127.0.0.0/8 to the loopback
    interface, but other systems may need an alias for each address before the lab starts.

    ``host`` is the name published in DNS (A, PTR and the MX of ``mail_domain``), while
    ``banner_host`` is the name the server gives in its greeting and EHLO reply, and
    ``certificate_host`` is the name in its certificate. They differ on purpose in
    misconfigured scenarios.

    ``ehlo_before_tls`` and ``ehlo_after_tls`` are the EHLO keywords, in order, that the
    server returns before and after TLS starts. The implicit-TLS listener uses
    ``ehlo_after_tls``. The ``SIZE`` and ``SMTPUTF8`` keywords also set the limits that
    the server enforces, so what it offers and what it does stay the same.

    ``username`` is the only login that AUTH accepts, or None when the server rejects
    the AUTH command. The password is generated each time the lab starts.

    ``relay_denied_reply`` is the RCPT reply for an address outside ``local_domains``
    when relaying is not allowed. ``{address}`` is replaced by the recipient address.
    Authenticated clients may relay only when ``relay_when_authenticated`` is true.

    ``posture`` is what ``mail_domain`` publishes beyond its MX record, or None for
    nothing more.
    """

    name: str
    description: str
    host: str
    address: str
    mail_domain: str
    banner_host: str
    certificate_host: str
    listeners: tuple[ListenerProfile, ...]
    ehlo_before_tls: tuple[str, ...]
    ehlo_after_tls: tuple[str, ...]
    local_domains: tuple[str, ...]
    relay_denied_reply: str
    relay_when_authenticated: bool = False
    username: str | None = None
    posture: MailPosture | None = None
