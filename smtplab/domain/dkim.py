"""DKIM key records (RFC 6376 section 3.6.1, RFC 8463 for Ed25519), parsed without I/O."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from smtplab.domain.problem import Problem
from smtplab.i18n import N_

# RFC 8301 section 3.2: verifiers reject RSA keys under 1024 bits; signers should use 2048.
RSA_MIN_BITS = 1024
RSA_RECOMMENDED_BITS = 2048


@dataclass
class DkimKey:
    """A selector's key record; ``bits`` is None when the key could not be read."""

    selector: str
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    key_type: str = "rsa"
    bits: int | None = None
    revoked: bool = False
    testing: bool = False
    errors: list[Problem] = field(default_factory=list)


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def parse_dkim(selector: str, text: str) -> DkimKey:
    """Parse a DKIM key record and read its public key's type and size."""
    key = DkimKey(selector=selector, text=text)
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            key.errors.append(Problem(N_("{text} is not a tag=value pair"), text=repr(part)))
            continue
        key.tags[name.strip().lower()] = "".join(value.split())
    if "v" in key.tags and (key.tags["v"] != "DKIM1" or next(iter(key.tags)) != "v"):
        key.errors.append(Problem(N_("the v tag must be DKIM1 and come first")))
    key.key_type = key.tags.get("k", "rsa").lower()
    key.testing = "y" in key.tags.get("t", "").lower().split(":")
    if "p" not in key.tags:
        key.errors.append(Problem(N_("the p tag (public key) is missing")))
        return key
    if not key.tags["p"]:
        key.revoked = True  # RFC 6376 section 3.6.1: an empty p= means the key was revoked
        return key
    _read_key(key)
    return key


def _read_key(key: DkimKey) -> None:
    try:
        data = base64.b64decode(key.tags["p"], validate=True)
    except (binascii.Error, ValueError):
        key.errors.append(Problem(N_("the p tag is not valid base64")))
        return
    if key.key_type == "ed25519":
        if len(data) == 32:
            key.bits = 256
        else:
            key.errors.append(Problem(N_("an Ed25519 key has 32 bytes, this one {size}"), size=len(data)))
        return
    if key.key_type != "rsa":
        key.errors.append(Problem(N_("unknown key type k={value}"), value=key.key_type))
        return
    try:
        public = load_der_public_key(data)
    except ValueError:
        key.errors.append(Problem(N_("the p tag does not hold a DER public key")))
        return
    if not isinstance(public, rsa.RSAPublicKey):
        key.errors.append(Problem(N_("k=rsa but the key is not RSA")))
        return
    key.bits = public.key_size
