"""Extra handshakes that test whether a server still accepts obsolete TLS offers.

Each offer is one more connection: for a STARTTLS port the greeting, EHLO and
STARTTLS are repeated, then the handshake runs with a client context limited
to that offer. Its events carry ``check`` so they never change the facts of
the main conversation.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtplab.errors import classify
from smtplab.targets import TlsMode

if TYPE_CHECKING:
    from smtplab.session import Conversation


@dataclass(frozen=True)
class TlsOffer:
    """A client offer that a well-configured server rejects."""

    name: str
    version: ssl.TLSVersion
    ciphers: str


# TLS 1.0 and 1.1 are deprecated by RFC 8996. OpenSSL 3 offers neither at its
# default security level, hence @SECLEVEL=0.
OFFERS = (
    TlsOffer("TLSv1", ssl.TLSVersion.TLSv1, "ALL:@SECLEVEL=0"),
    TlsOffer("TLSv1.1", ssl.TLSVersion.TLSv1_1, "ALL:@SECLEVEL=0"),
    TlsOffer("weak-ciphers", ssl.TLSVersion.TLSv1_2, "3DES:RC4:DES:NULL:EXPORT:aNULL:@SECLEVEL=0"),
)


def offer_context(offer: TlsOffer) -> ssl.SSLContext | None:
    """Build a client context that offers only ``offer``; None when this OpenSSL cannot."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1 on purpose
            context.minimum_version = offer.version
            context.maximum_version = offer.version
        context.set_ciphers(offer.ciphers)
    except (ssl.SSLError, ValueError):
        return None
    return context


async def try_offer(conversation: Conversation, offer: TlsOffer) -> None:
    """Connect once more and record whether the server accepts ``offer``."""
    recorder = conversation.recorder
    context = offer_context(offer)
    if context is None:
        recorder.add("tls_offer", "tls", offer=offer.name, accepted=None,
                     detail="this OpenSSL build cannot make the offer")
        return
    connection = await conversation.connect_for_check()
    if connection is None:
        return
    try:
        if conversation.endpoint.mode is TlsMode.STARTTLS:
            await connection.read_reply("banner")
            await connection.command("ehlo", f"EHLO {conversation.config.ehlo_name}")
            reply = await connection.command("starttls", "STARTTLS")
            if reply.code != 220:
                recorder.add("tls_offer", "tls", offer=offer.name, accepted=None,
                             detail=f"server replied {reply.code} to STARTTLS")
                return
        await connection.start_tls(context, conversation.server_hostname)
        ssl_object = connection.ssl_object()
        cipher = ssl_object.cipher() if ssl_object else None
        recorder.add("tls_offer", "tls", offer=offer.name, accepted=True,
                     version=ssl_object.version() if ssl_object else None,
                     cipher=cipher[0] if cipher else None)
    except Exception as exc:  # a rejected offer is the expected outcome, whatever its form
        recorder.add("tls_offer", "tls", offer=offer.name, accepted=False, detail=classify(exc)[1])
    finally:
        await connection.close()
