"""Probe settings as a frozen value, echoed into every result."""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

PROXY_SCHEMES = ("socks5", "socks4")
_PROXY_FORMS = "socks5://[USER:PASSWORD@]IP:PORT or socks4://IP:PORT"


@dataclass(frozen=True, kw_only=True)
class ProbeConfig:
    """Settings of one probe run; all times are in seconds."""

    nameserver: str | None = None
    """DNS server as ``IP`` or ``IP:PORT`` (``[IPv6]:PORT``); None uses the system resolver."""
    resolve: bool = True
    """Look up A/AAAA/PTR records; when False, targets must be IP literals and PTR is skipped."""
    cafile: str | None = None
    """PEM file of trusted CAs for certificate checks; None uses the system CAs."""
    ehlo_name: str = field(default_factory=socket.gethostname)
    """Name sent in EHLO/HELO; many servers reject names that are not fully qualified."""
    mail_from: str = "smtplab@example.com"
    rcpt_to: str = "smtplab@example.net"
    """Relay test addresses; reserved domains (RFC 2606) so no real mailbox is ever named."""
    relay_test: bool = True
    connect_timeout: float = 10.0
    reply_timeout: float = 30.0
    """Maximum wait for one complete reply, the greeting included."""
    tls_timeout: float = 10.0
    dns_timeout: float = 5.0
    probe_timeout: float = 90.0
    """Deadline of one endpoint's whole conversation."""
    concurrency: int = 32
    """Endpoints probed at the same time across all hosts."""
    per_host_concurrency: int = 3
    """Connections open at the same time to one address."""
    per_host_interval: float = 0.0
    """Seconds between the starts of two connections to one address."""
    max_line_bytes: int = 4096
    max_reply_lines: int = 200
    expect_software: str | None = None
    """Software that should serve every port (for example ``postfix``); others are flagged."""
    expect_banner_host: str | None = None
    """Host name the greeting and EHLO reply should show; others are flagged."""
    tls_scan: bool = False
    """Also try TLS 1.0, TLS 1.1 and weak ciphers on every endpoint where TLS worked, one
    extra connection each, to report what the server still accepts."""
    allow_plaintext_auth: bool = False
    """Send credentials over an unencrypted connection when the server offers AUTH there."""
    proxy: str | None = None
    """SOCKS proxy for every connection, ``socks5://[USER:PASSWORD@]IP:PORT``; None connects directly.

    The proxy connects to the addresses smtplab resolved itself, through ``nameserver``.
    """

    def __post_init__(self) -> None:
        if self.nameserver is not None:
            parse_nameserver(self.nameserver)
        if self.proxy is not None:
            parse_proxy(self.proxy)
        for name in ("connect_timeout", "reply_timeout", "tls_timeout", "dns_timeout", "probe_timeout"):
            if not math.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ValueError(f"invalid {name} {getattr(self, name)!r}: expected seconds > 0")
        for name in ("concurrency", "per_host_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"invalid {name} {getattr(self, name)!r}: expected 1 or more")
        if not math.isfinite(self.per_host_interval) or self.per_host_interval < 0:
            raise ValueError(f"invalid per_host_interval {self.per_host_interval!r}: expected seconds >= 0")
        for name in ("ehlo_name", "mail_from", "rcpt_to"):
            value = getattr(self, name)
            if not value or any(char in value for char in "\r\n<> "):
                raise ValueError(
                    f"invalid {name} {value!r}: must be non-empty without CR, LF, <, > or spaces"
                )
        if not self.ehlo_name.isascii():
            raise ValueError(f"invalid ehlo_name {self.ehlo_name!r}: use the ASCII (punycode) form")
        if self.cafile is not None:
            _check_cafile(self.cafile)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a dict, with a proxy password masked."""
        settings = asdict(self)
        if self.proxy is not None:
            settings["proxy"] = mask_proxy_password(self.proxy)
        return settings


def parse_proxy(text: str) -> SplitResult:
    """Check a SOCKS proxy URL; the host must be an IP literal, so no resolver is consulted."""
    url = urlsplit(text)
    if url.scheme not in PROXY_SCHEMES:
        raise ValueError(f"invalid proxy {mask_proxy_password(text)!r}: expected {_PROXY_FORMS}")
    try:
        ipaddress.ip_address(url.hostname or "")
        port = url.port
    except ValueError:
        port = None
    if port is None or url.path not in ("", "/"):
        raise ValueError(f"invalid proxy {mask_proxy_password(text)!r}: expected {_PROXY_FORMS}")
    return url


def mask_proxy_password(text: str) -> str:
    """Replace the password of a proxy URL with asterisks."""
    url = urlsplit(text)
    if url.password is None:
        return text
    return url._replace(netloc=url.netloc.replace(f":{url.password}@", ":********@", 1)).geturl()


def _check_cafile(path: str) -> None:
    """Raise ValueError unless ``path`` is a readable PEM file with at least one certificate."""
    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        raise ValueError(f"CA file {path!r} not found") from None
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"invalid CA file {path!r}: expected PEM certificates ({exc})") from None


def parse_nameserver(text: str) -> tuple[str, int]:
    """Split ``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` into address and port (default 53)."""
    host, port = text.strip(), 53
    if host.startswith("::1:"):
        # Read as written this is another IPv6 address on port 53, almost never what
        # someone who typed it meant: a DNS server on ::1 and a port.
        raise ValueError(f"ambiguous nameserver {text!r}: for ::1 and a port write [::1]:PORT")
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
    elif host.count(":") == 1:
        host, port_text = host.split(":")
        port = _port(port_text, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"invalid nameserver {text!r}: expected IP, IP:PORT or [IPv6]:PORT") from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"invalid nameserver port in {whole!r}: expected 1 to 65535")
    return int(text)
