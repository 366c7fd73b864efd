"""The relay test: a foreign recipient without AUTH, and again after AUTH."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import exchange_lines, reply_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

_UNAUTH_CODES = {"accepted": "relay.open", "denied": "relay.denied", "deferred": "relay.deferred"}


def relay_unauthenticated(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        outcome = item.relay_result("unauth")
        if outcome == "mail_rejected":
            reply = item.mail_reply["unauth"]
            yield at(item, "relay.sender_rejected", reply_lines(reply), code=reply.code)
        elif outcome in _UNAUTH_CODES:
            exchange = item.relay["unauth"]
            yield at(item, _UNAUTH_CODES[outcome], exchange_lines(exchange), code=exchange.reply.code)


def relay_authenticated(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        outcome = item.relay_result("auth")
        exchange = item.relay.get("auth")
        if outcome == "accepted" and exchange is not None:
            yield at(item, "relay.auth_accepted", exchange_lines(exchange))
        elif outcome == "denied" and exchange is not None:
            yield at(item, "relay.auth_denied", exchange_lines(exchange), code=exchange.reply.code)
        elif outcome == "deferred" and exchange is not None:
            yield at(item, "relay.deferred", exchange_lines(exchange), code=exchange.reply.code)
