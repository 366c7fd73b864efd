"""DANE TLSA records for SMTP (RFC 6698, RFC 7672), checked against a presented certificate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

USAGES = {0: "PKIX-TA", 1: "PKIX-EE", 2: "DANE-TA", 3: "DANE-EE"}
SELECTORS = {0: "Cert", 1: "SPKI"}
MATCHING = {0: "Full", 1: "SHA2-256", 2: "SHA2-512"}


def tlsa_name(host: str, port: int = 25) -> str:
    return f"_{port}._tcp.{host.rstrip('.')}"


@dataclass(frozen=True, slots=True)
class TlsaRecord:
    """One TLSA record; ``data`` is the association data in lowercase hex."""

    text: str
    usage: int | None
    selector: int | None
    matching: int | None
    data: str
    error: str | None = None

    @property
    def label(self) -> str:
        parts = (
            USAGES.get(self.usage, "?"),
            SELECTORS.get(self.selector, "?"),
            MATCHING.get(self.matching, "?"),
        )
        return " ".join(parts)


def parse_tlsa(text: str) -> TlsaRecord:
    """Parse a TLSA record in presentation form: ``usage selector matching data``."""
    parts = text.split()
    if len(parts) < 4 or not all(part.isdigit() for part in parts[:3]):
        return TlsaRecord(text, None, None, None, "", "not in the form usage selector matching data")
    usage, selector, matching = (int(part) for part in parts[:3])
    data = "".join(parts[3:]).lower()
    error = None
    if usage not in USAGES:
        error = f"unknown certificate usage {usage}"
    elif selector not in SELECTORS:
        error = f"unknown selector {selector}"
    elif matching not in MATCHING:
        error = f"unknown matching type {matching}"
    elif matching == 1 and len(data) != 64:
        error = f"a SHA2-256 digest has 64 hex digits, this one {len(data)}"
    elif matching == 2 and len(data) != 128:
        error = f"a SHA2-512 digest has 128 hex digits, this one {len(data)}"
    return TlsaRecord(text, usage, selector, matching, data, error)


def association_data(cert_pem: str, selector: int, matching: int) -> str:
    """Compute the association data a certificate yields for a selector and matching type, in hex."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    if selector == 0:
        raw = cert.public_bytes(Encoding.DER)
    else:
        raw = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if matching == 1:
        return hashlib.sha256(raw).hexdigest()
    if matching == 2:
        return hashlib.sha512(raw).hexdigest()
    return raw.hex()


def check_record(record: TlsaRecord, cert_pem: str | None) -> str:
    """``match``, ``mismatch``, ``unverifiable`` (no certificate, or usage 2 that needs the chain),
    ``unusable`` (PKIX usages 0 and 1, which SMTP clients ignore, RFC 7672 section 3.1.3)
    or ``invalid``."""
    if record.error is not None or record.usage is None:
        return "invalid"
    if record.usage in (0, 1):
        return "unusable"
    # NOTE: usage 2 (DANE-TA) matches a CA certificate of the chain, and the probe keeps only
    # the leaf certificate, so such records cannot be checked yet.
    if record.usage == 2 or cert_pem is None:
        return "unverifiable"
    assert record.selector is not None and record.matching is not None
    expected = association_data(cert_pem, record.selector, record.matching)
    return "match" if expected == record.data else "mismatch"
