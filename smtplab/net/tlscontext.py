"""TLS client contexts and what a finished handshake shows."""

from __future__ import annotations

import os
import ssl
from functools import lru_cache
from typing import Any


def make_context(*, verify: bool, cafile: str | None) -> ssl.SSLContext:
    """Return a client context; host names are checked separately so a mismatch is its own fact.

    Contexts are shared between handshakes: loading the system CA bundle costs tens
    of milliseconds, more than a whole probe on a fast network. A changed CA file
    (new modification time) gets a new context.
    """
    cafile = cafile if verify else None
    stamp = os.stat(cafile).st_mtime_ns if cafile else None
    return _context(verify, cafile, stamp)


@lru_cache(maxsize=16)
def _context(verify: bool, cafile: str | None, stamp: int | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)
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
