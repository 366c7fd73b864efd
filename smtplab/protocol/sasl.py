"""Client side of the SASL mechanisms used for SMTP AUTH (RFC 4954)."""

from __future__ import annotations

import base64
import hashlib
import hmac

# Preferred first: CRAM-MD5 never sends the password itself.
SUPPORTED_MECHANISMS = ("CRAM-MD5", "PLAIN", "LOGIN")


def choose_mechanism(offered: tuple[str, ...], requested: str | None) -> str | None:
    """Pick the requested mechanism if offered, else the first supported one offered."""
    if requested is not None:
        return requested.upper() if requested.upper() in offered else None
    for mechanism in SUPPORTED_MECHANISMS:
        if mechanism in offered:
            return mechanism
    return None


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def plain_initial_response(username: str, password: str) -> str:
    """Build the PLAIN message (RFC 4616): empty authzid, authcid, password."""
    return b64(f"\0{username}\0{password}")


def cram_md5_response(username: str, password: str, challenge_b64: str) -> str:
    """Compute the response to a CRAM-MD5 challenge (RFC 2195)."""
    challenge = base64.b64decode(challenge_b64.strip(), validate=False)
    digest = hmac.new(password.encode("utf-8"), challenge, hashlib.md5).hexdigest()
    return b64(f"{username} {digest}")
