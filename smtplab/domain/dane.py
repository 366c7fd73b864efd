"""DANE TLSA records for SMTP (RFC 6698, RFC 7671, RFC 7672), checked against the
certificates a server presented."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from smtplab.domain.problem import Problem
from smtplab.i18n import N_

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
    error: Problem | None = None

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
        error = Problem(N_("not in the form usage selector matching data"))
        return TlsaRecord(text, None, None, None, "", error)
    usage, selector, matching = (int(part) for part in parts[:3])
    data = "".join(parts[3:]).lower()
    return TlsaRecord(text, usage, selector, matching, data, _field_error(usage, selector, matching, data))


def _field_error(usage: int, selector: int, matching: int, data: str) -> Problem | None:
    if usage not in USAGES:
        return Problem(N_("unknown certificate usage {value}"), value=usage)
    if selector not in SELECTORS:
        return Problem(N_("unknown selector {value}"), value=selector)
    if matching not in MATCHING:
        return Problem(N_("unknown matching type {value}"), value=matching)
    if matching == 1 and len(data) != 64:
        return Problem(N_("a SHA2-256 digest has 64 hex digits, this one {count}"), count=len(data))
    if matching == 2 and len(data) != 128:
        return Problem(N_("a SHA2-512 digest has 128 hex digits, this one {count}"), count=len(data))
    return None


def association_data(cert_pem: str, selector: int, matching: int) -> str:
    """Compute the association data a certificate yields for a selector and matching type, in hex."""
    return _association(_load(cert_pem), selector, matching)


def check_record(record: TlsaRecord, cert_pem: str | None, chain_pem: Sequence[str] | None = None) -> str:
    """Check one TLSA record against what the server presented.

    ``cert_pem`` is the leaf certificate; ``chain_pem`` lists every certificate the server
    sent, leaf first (None when the chain was not recorded). Returns ``match``,
    ``mismatch``, ``unverifiable`` (no certificate, or usage 2 without the chain),
    ``unusable`` (PKIX usages 0 and 1, which SMTP clients ignore, RFC 7672 section 3.1.3)
    or ``invalid``.
    """
    if record.error is not None or record.usage is None:
        return "invalid"
    if record.usage in (0, 1):
        return "unusable"
    if record.usage == 2:
        return _check_trust_anchor(record, chain_pem)
    if cert_pem is None:
        return "unverifiable"
    assert record.selector is not None and record.matching is not None
    expected = association_data(cert_pem, record.selector, record.matching)
    return "match" if expected == record.data else "mismatch"


def _check_trust_anchor(record: TlsaRecord, chain_pem: Sequence[str] | None) -> str:
    """Check a DANE-TA (usage 2) record: it names a CA certificate that the leaf chains to.

    The record matches an issuer of the leaf among the presented certificates: the
    leaf's issuer, or one higher up, up to a self-signed root the server sent. The leaf
    itself never counts as the trust anchor. A digest (matching type 1 or 2) can only be
    compared with a certificate the server sent. A full record (matching type 0) contains
    the trust anchor itself, so it also matches when it signed the last certificate of
    the presented path.
    """
    if not chain_pem:
        return "unverifiable"
    assert record.selector is not None and record.matching is not None
    try:
        chain = [_load(pem) for pem in chain_pem]
    except ValueError:
        return "unverifiable"
    # NOTE: the path from the leaf to the trust anchor is checked for issuer names and
    # signatures only. Validity dates, basic constraints, key usage, name constraints
    # and the leaf's names are not checked, so a sender that validates the full path
    # can still reject a server that matches here.
    path = issuer_path(chain)
    for issuer in path[1:]:
        if _association(issuer, record.selector, record.matching) == record.data:
            return "match"
    if record.matching == 0 and _signed_by_full_record(path[-1], record):
        return "match"
    return "mismatch"


def issuer_path(chain: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Follow the issuers of the leaf (``chain[0]``) through the presented certificates.

    Returns the leaf, its issuer, that one's issuer and so on, as long as the next
    issuer is among the presented certificates, in any order, and its signature
    verifies. The path stops at a self-signed certificate. Certificates that no path
    uses are left out.
    """
    path = [chain[0]]
    remaining = list(chain[1:])
    while remaining and path[-1].issuer != path[-1].subject:
        issuer = next((item for item in remaining if _issued_by(path[-1], item)), None)
        if issuer is None:
            break
        path.append(issuer)
        remaining.remove(issuer)
    return path


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer``'s subject is ``cert``'s issuer and its key verifies ``cert``'s signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _signed_by_full_record(cert: x509.Certificate, record: TlsaRecord) -> bool:
    """True when the certificate or public key in a full record (matching type 0) signed ``cert``."""
    if cert.issuer == cert.subject:
        return False
    try:
        data = bytes.fromhex(record.data)
        if record.selector == 0:
            return _issued_by(cert, x509.load_der_x509_certificate(data))
        return _signature_verifies(cert, load_der_public_key(data))
    except (ValueError, UnsupportedAlgorithm):
        return False


def _signature_verifies(cert: x509.Certificate, key: PublicKeyTypes) -> bool:
    """Verify ``cert``'s signature with a bare public key (RSA, ECDSA, Ed25519, Ed448).

    A bare key carries no subject name, so only the signature is checked.
    """
    signature, signed = cert.signature, cert.tbs_certificate_bytes
    parameters = cert.signature_algorithm_parameters
    hash_algorithm = cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if not isinstance(parameters, padding.PKCS1v15 | padding.PSS) or hash_algorithm is None:
                return False
            key.verify(signature, signed, parameters, hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(parameters, ec.ECDSA):
                return False
            key.verify(signature, signed, parameters)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, signed)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _load(cert_pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_pem.encode("ascii"))


def _association(cert: x509.Certificate, selector: int, matching: int) -> str:
    if selector == 0:
        raw = cert.public_bytes(Encoding.DER)
    else:
        raw = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if matching == 1:
        return hashlib.sha256(raw).hexdigest()
    if matching == 2:
        return hashlib.sha512(raw).hexdigest()
    return raw.hex()
