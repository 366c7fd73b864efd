"""Fingerprint an endpoint from its recorded conversation."""

from __future__ import annotations

from smtplab.analysis.interpret import EndpointView, Exchange
from smtplab.fingerprint.engine import identify
from smtplab.fingerprint.model import Guess
from smtplab.protocol.reply import Reply

# Steps whose replies are passed to identify() as the greeting and the EHLO reply,
# and so are left out of the other replies.
_GREETING_STEPS = ("banner", "ehlo")


def fingerprint(view: EndpointView) -> list[Guess]:
    """Guess the server software from an endpoint's greeting, EHLO and other replies.

    The EHLO reply before TLS is used when there is one, because it is the reply that an
    unauthenticated client of port 25 receives; otherwise the one inside TLS (implicit-TLS
    ports). Replies from every attempt count, since a retry talks to the same server.
    """
    replies = [exchange.reply for exchange in view.exchanges if exchange.step not in _GREETING_STEPS]
    return identify(view.banner, _ehlo_reply(view), replies)


def _ehlo_reply(view: EndpointView) -> Reply | None:
    accepted = [
        exchange for exchange in view.exchanges if exchange.step == "ehlo" and exchange.reply.code == 250
    ]
    for phase in ("plain", "tls"):
        in_phase = [exchange for exchange in accepted if exchange.phase == phase]
        if in_phase:
            return _latest(in_phase).reply
    return None


def _latest(exchanges: list[Exchange]) -> Exchange:
    return max(exchanges, key=lambda exchange: exchange.attempt)
