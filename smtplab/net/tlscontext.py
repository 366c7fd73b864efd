"""TLS client contexts and what a finished handshake shows."""

from __future__ import annotations

import ssl
from typing import Any


def make_context(*, verify: bool, cafile: str | None) -> ssl.SSLContext:
    """A client context; host names are checked separately so a mismatch is its own fact."""
    context = ssl.create_default_context(cafile=cafile if verify else None)
    context.check_hostname = False
    if not verify:
        context.verify_mode = ssl.CERT_NONE
    return context


def handshake_facts(ssl_object: ssl.SSLObject | None) -> dict[str, Any]:
    """Protocol, cipher and the leaf certificate (PEM) of a finished handshake."""
    if ssl_object is None:
        return {}
    cipher = ssl_object.cipher()
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
        "bits": cipher[2] if cipher else None,
        "cert_pem": ssl.DER_cert_to_PEM_cert(der) if der else None,
    }
