"""TLS client contexts and what a finished handshake shows."""

from __future__ import annotations

import _ssl
import logging
import os
import ssl
from collections.abc import Callable
from functools import lru_cache
from typing import Any

log = logging.getLogger("smtplab")


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
    """Return the protocol, cipher, leaf certificate and presented chain (PEM) of a finished handshake.

    ``chain_pem`` is None when the chain could not be read (see ``presented_chain``).
    """
    if ssl_object is None:
        return {}
    cipher = ssl_object.cipher()
    der = ssl_object.getpeercert(binary_form=True)
    return {
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
        "bits": cipher[2] if cipher else None,
        "cert_pem": ssl.DER_cert_to_PEM_cert(der) if der else None,
        "chain_pem": presented_chain(ssl_object),
    }


def presented_chain(ssl_object: ssl.SSLObject) -> list[str] | None:
    """Return the certificates the server sent, leaf first and in the order sent, as PEM.

    The chain is not verified: it is what the server presented, including any certificate
    that no path uses. Returns None when this Python offers no way to read the chain, or
    when reading it fails, and then only the leaf from ``getpeercert`` is known.
    """
    reader = _chain_reader(ssl_object)
    if reader is None:
        return None
    try:
        items = reader()
    except (ssl.SSLError, ValueError, TypeError, AttributeError) as exc:
        log.debug("could not read the presented certificate chain: %s", exc)
        return None
    if not items:
        return None
    try:
        return [ssl.DER_cert_to_PEM_cert(_certificate_der(item)) for item in items]
    except (ValueError, TypeError, AttributeError) as exc:
        log.debug("could not encode the presented certificate chain: %s", exc)
        return None


def _chain_reader(ssl_object: ssl.SSLObject) -> Callable[[], Any] | None:
    """Return the ``get_unverified_chain`` method, which ``SSLObject`` has since Python 3.13
    and its private ``_sslobj`` has since Python 3.10. Returns None when neither has it."""
    reader: Callable[[], Any] | None = getattr(ssl_object, "get_unverified_chain", None)
    if reader is None:
        reader = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    return reader


def _certificate_der(item: Any) -> bytes:
    """DER bytes of one chain entry: the public method returns bytes, the private one
    ``_ssl.Certificate`` objects."""
    if isinstance(item, bytes | bytearray):
        return bytes(item)
    der: bytes = item.public_bytes(_ssl.ENCODING_DER)
    return der
