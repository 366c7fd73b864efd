"""The records of a lab domain's mail posture, and the key material they need on each run.

``generate_keys`` creates the keys, the only step with randomness. ``posture_records`` and
``policy_text`` are pure, so the zone built from them is testable without sockets.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .profile import MailPosture, ServerProfile, TlsaKey

# RFC 8461 section 3.2: the policy version that the policy file and the TXT record name.
STS_VERSION = "STSv1"
# RFC 8461 section 3.1: the id of the _mta-sts record is 1 to 32 letters and digits.
POLICY_ID_LENGTH = 20
# SMTP servers publish TLSA records for port 25 of the MX host (RFC 7672).
TLSA_PORT = 25


@dataclass(frozen=True)
class PostureKeys:
    """Key material of one lab run for one domain.

    ``dkim_public_key`` is the base64 DER SubjectPublicKeyInfo of the DKIM key, the value
    of the record's ``p=`` tag (RFC 6376 section 3.6.1). ``tlsa_digest`` is the SHA-256
    of the SubjectPublicKeyInfo that the TLSA record names, in lowercase hex.
    """

    dkim_public_key: str
    tlsa_digest: str


def generate_keys(posture: MailPosture, cert_pem: str) -> PostureKeys:
    """Create a DKIM key and the TLSA digest for ``posture``.

    ``cert_pem`` is the certificate that the domain's MX server presents. The TLSA digest
    is of its public key, or of a new key when ``posture.tlsa_key`` is ``REPLACED``. The
    private keys are discarded, because the lab never signs mail.
    """
    dkim_key = rsa.generate_private_key(public_exponent=65537, key_size=posture.dkim_rsa_bits)
    if posture.tlsa_key is TlsaKey.CURRENT:
        tlsa_key: PublicKeyTypes = x509.load_pem_x509_certificate(cert_pem.encode("ascii")).public_key()
    else:
        tlsa_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return PostureKeys(
        dkim_public_key=base64.b64encode(_spki(dkim_key.public_key())).decode("ascii"),
        tlsa_digest=hashlib.sha256(_spki(tlsa_key)).hexdigest(),
    )


def mta_sts_host(profile: ServerProfile) -> str:
    """Return the host that serves the domain's MTA-STS policy (RFC 8461 section 3.3)."""
    return f"mta-sts.{profile.mail_domain}"


def policy_text(posture: MailPosture) -> str:
    """Build the MTA-STS policy file: ``key: value`` lines (RFC 8461 section 3.2), each ending in CRLF."""
    lines = [
        f"version: {STS_VERSION}",
        f"mode: {posture.mta_sts_mode}",
        *(f"mx: {pattern}" for pattern in posture.mta_sts_mx),
        f"max_age: {posture.mta_sts_max_age}",
    ]
    return "".join(f"{line}\r\n" for line in lines)


def policy_id(text: str) -> str:
    """Derive the ``id`` of the ``_mta-sts`` record from the policy text, so that it changes
    whenever the policy does, as RFC 8461 section 3.1 requires."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:POLICY_ID_LENGTH]


def posture_records(profile: ServerProfile, keys: PostureKeys) -> list[tuple[str, str, str]]:
    """List the (owner, type, value) records of the profile's mail posture, or none without one.

    Each TXT value is the whole text. The zone splits it into strings of at most 255 bytes.
    """
    posture = profile.posture
    if posture is None:
        return []
    domain = profile.mail_domain
    policy = policy_text(posture)
    return [
        (domain, "TXT", posture.spf),
        (f"_dmarc.{domain}", "TXT", posture.dmarc),
        (f"_smtp._tls.{domain}", "TXT", posture.tlsrpt),
        (f"_mta-sts.{domain}", "TXT", f"v={STS_VERSION}; id={policy_id(policy)}"),
        (mta_sts_host(profile), "A", profile.address),
        (
            f"{posture.dkim_selector}._domainkey.{domain}",
            "TXT",
            f"v=DKIM1; k=rsa; p={keys.dkim_public_key}",
        ),
        # Certificate usage DANE-EE (3), selector SubjectPublicKeyInfo (1), matching SHA-256 (1).
        (f"_{TLSA_PORT}._tcp.{profile.host}", "TLSA", f"3 1 1 {keys.tlsa_digest}"),
    ]


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
