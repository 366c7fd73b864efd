"""Reasons for a port without a login or relay result, read from the endpoint views.

The glance, the client settings and the terminal summary show these reasons, so
a report states "the probe stopped during RCPT TO (deadline exceeded)" in place
of a bare "not tested".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smtplab.analysis.interpret import EndpointView, stopped_step
from smtplab.errors import ErrorClass
from smtplab.protocol.sasl import SUPPORTED_MECHANISMS

_NOT_FINAL = {ErrorClass.STARTTLS_REJECTED.value}
"""Errors after which the probe goes on: after a rejected STARTTLS it still runs the relay test."""

LOGIN_REASONS = ("no_tls", "no_auth", "no_mechanism", "mechanism_not_offered", "skipped", "stopped",
                 "not_attempted")
"""Reasons for a missing login result on a port.

``no_tls``: credentials are sent only inside TLS and TLS was not reached.
``no_auth``: the server offered no AUTH. ``no_mechanism``: it offered only
mechanisms smtplab cannot use. ``mechanism_not_offered``: the requested mechanism
was not offered. ``skipped``: an imported transcript shows that the client
skipped the login for another reason. ``stopped``: the conversation ended with an
error before the login. ``not_attempted``: no AUTH command and no error, as in a
transcript that ends before AUTH.
"""

RELAY_REASONS = ("mail_rejected", "deferred", "stopped", "no_rcpt", "after_login_only")
"""Reasons for a missing relay result without AUTH on a port that got as far as MAIL FROM.

``mail_rejected``: MAIL FROM got a negative reply. ``deferred``: RCPT TO got a
temporary reply that names no denial (greylisting, rate limits). ``stopped``: MAIL
FROM was accepted and the conversation ended with an error before the reply to
RCPT TO. ``no_rcpt``: the same without an error, as in a transcript that ends
there. ``after_login_only``: MAIL FROM was sent only after a login.
"""


@dataclass(frozen=True)
class PortReason:
    """One reason, shared by ``ports``.

    ``error`` and ``step`` are the error class and the protocol step of the
    conversation when it stopped (reason ``stopped``). ``mechanisms`` are the
    offered AUTH mechanisms (reason ``no_mechanism``). ``code`` is the reply code
    (reasons ``mail_rejected`` and ``deferred``). Each is None or empty otherwise.
    """

    reason: str
    ports: tuple[int, ...] = ()
    error: str | None = None
    step: str | None = None
    mechanisms: str = ""
    code: int | None = None


def login_reasons(views: Iterable[EndpointView]) -> tuple[PortReason, ...]:
    """Reasons for every endpoint that has no login result (no AUTH reply), merged over ports."""
    found = [(item.record.port, login_reason(item)) for item in views if item.auth_reply is None]
    return _merge(found)


def relay_reasons(views: Iterable[EndpointView]) -> tuple[PortReason, ...]:
    """Reasons for every endpoint that sent MAIL FROM but has no relay result without AUTH."""
    found = []
    for item in views:
        reason = relay_reason(item)
        if reason is not None:
            found.append((item.record.port, reason))
    return _merge(found)


def login_reason(item: EndpointView) -> PortReason:
    """Why ``item`` has no login result; only meaningful when its ``auth_reply`` is None."""
    if item.auth_skipped == "no_tls":
        return PortReason("no_tls")
    if item.auth_skipped is not None:
        return _skipped_reason(item)
    error = final_error(item)
    if error is not None:
        return PortReason("stopped", error=error, step=stopped_step(item))
    return PortReason("not_attempted")


def relay_reason(item: EndpointView) -> PortReason | None:
    """Why ``item`` has no relay result without AUTH; None when it has one or never sent MAIL FROM."""
    result = item.relay_result("unauth")
    if result == "deferred":
        return PortReason("deferred", code=item.relay["unauth"].reply.code)
    if result == "mail_rejected":
        return PortReason("mail_rejected", code=item.mail_reply["unauth"].code)
    if result is not None:
        return None
    error = final_error(item)
    if "unauth" in item.mail_reply and error is not None:
        return PortReason("stopped", error=error, step=stopped_step(item))
    if "unauth" in item.mail_reply:
        return PortReason("no_rcpt")
    if "auth" in item.mail_reply:
        return PortReason("after_login_only")
    return None


def final_error(item: EndpointView) -> str | None:
    """Return the error class that ended the conversation, or None when it ended without one."""
    return None if item.error in _NOT_FINAL else item.error




def supported_mechanisms(offered: Iterable[str]) -> tuple[str, ...]:
    """Return the offered mechanisms that smtplab can use for the credential check, in offered order."""
    return tuple(name for name in offered if name in SUPPORTED_MECHANISMS)


def _skipped_reason(item: EndpointView) -> PortReason:
    phase = "tls" if item.tls is not None else "plain"
    offered = item.auth_mechanisms(phase) or ()
    if not offered:
        return PortReason("no_auth")
    if not supported_mechanisms(offered):
        return PortReason("no_mechanism", mechanisms=" ".join(offered))
    if item.auth_skipped == "no_mechanism":
        return PortReason("mechanism_not_offered")
    return PortReason("skipped")


def _merge(found: list[tuple[int, PortReason]]) -> tuple[PortReason, ...]:
    """Join equal reasons into one with all their ports, in the order each reason first appears."""
    ports: dict[PortReason, set[int]] = {}
    for port, reason in found:
        ports.setdefault(reason, set()).add(port)
    return tuple(
        PortReason(reason.reason, tuple(sorted(numbers)), reason.error, reason.step, reason.mechanisms,
                   reason.code)
        for reason, numbers in ports.items()
    )
