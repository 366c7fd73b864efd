"""Facts about a server certificate, read with ``cryptography``."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The fields of a leaf certificate that a mail admin checks."""

    subject: str
    common_name: str | None
    sans: tuple[str, ...]
    issuer: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    key: str
    signature_hash: str | None

    def days_left(self, at: datetime) -> int:
        return (self.not_after - at).days

    def names(self) -> tuple[str, ...]:
        """SAN names, or the common name when the certificate has no SAN (legacy)."""
        if self.sans:
            return self.sans
        return (self.common_name,) if self.common_name else ()


def read_certificate(pem: str) -> CertificateInfo:
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    hash_algorithm = cert.signature_hash_algorithm
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=str(common_names[0].value) if common_names else None,
        sans=_subject_alt_names(cert),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=cert.issuer == cert.subject,
        key=_describe_key(cert),
        signature_hash=hash_algorithm.name if hash_algorithm else None,
    )


def _subject_alt_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    names = [str(name) for name in extension.value.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in extension.value.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def _describe_key(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__.removeprefix("_")


def name_matches(host: str, names: tuple[str, ...]) -> bool:
    """Match a host name or IP against certificate names (RFC 6125 section 6.4).

    A wildcard stands for exactly one leftmost label: ``*.example.com`` matches
    ``mx.example.com`` but neither ``example.com`` nor ``a.mx.example.com``.
    """
    host = host.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for name in names:
        pattern = name.rstrip(".").lower()
        if address is not None:
            if _same_address(address, pattern):
                return True
            continue
        if pattern == host:
            return True
        wildcard_base = pattern[2:] if pattern.startswith("*.") else None
        if wildcard_base and "." in host and host.split(".", 1)[1] == wildcard_base:
            return True
    return False


def _same_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, pattern: str) -> bool:
    try:
        return ipaddress.ip_address(pattern) == address
    except ValueError:
        return False


def now_utc() -> datetime:
    return datetime.now(UTC)
