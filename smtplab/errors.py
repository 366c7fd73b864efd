"""Error classes of a probe step and the one table that maps exceptions to them.

A probe never lets an exception escape to the caller: every failure ends as an
``ErrorClass`` plus a short detail string, recorded in the transcript.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
from enum import StrEnum

from smtplab.i18n import N_


class ErrorClass(StrEnum):
    """Why a probe step ended early."""

    DNS_NXDOMAIN = "dns_nxdomain"
    DNS_NO_ADDRESS = "dns_no_address"
    DNS_TIMEOUT = "dns_timeout"
    DNS_FAILURE = "dns_failure"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    RESET = "reset"
    CLOSED = "closed"
    REPLY_TIMEOUT = "reply_timeout"
    DEADLINE = "deadline"
    PROTOCOL_ERROR = "protocol_error"
    GREETING_REJECTED = "greeting_rejected"
    SERVICE_UNAVAILABLE = "service_unavailable"
    STARTTLS_REJECTED = "starttls_rejected"
    TLS_FAILED = "tls_failed"
    PLAINTEXT_ON_TLS_PORT = "plaintext_on_tls_port"
    TLS_ON_PLAIN_PORT = "tls_on_plain_port"
    PROXY_FAILED = "proxy_failed"


ERROR_NAMES: dict[str, str] = {
    ErrorClass.DNS_NXDOMAIN: N_("host name not found"),
    ErrorClass.DNS_NO_ADDRESS: N_("no address record"),
    ErrorClass.DNS_TIMEOUT: N_("DNS lookup timed out"),
    ErrorClass.DNS_FAILURE: N_("DNS lookup failed"),
    ErrorClass.REFUSED: N_("connection refused"),
    ErrorClass.TIMEOUT: N_("timed out"),
    ErrorClass.UNREACHABLE: N_("network unreachable"),
    ErrorClass.RESET: N_("connection reset"),
    ErrorClass.CLOSED: N_("connection closed"),
    ErrorClass.REPLY_TIMEOUT: N_("no reply in time"),
    ErrorClass.DEADLINE: N_("deadline exceeded"),
    ErrorClass.PROTOCOL_ERROR: N_("protocol error"),
    ErrorClass.GREETING_REJECTED: N_("greeting rejected"),
    ErrorClass.SERVICE_UNAVAILABLE: N_("service unavailable"),
    ErrorClass.STARTTLS_REJECTED: N_("STARTTLS rejected"),
    ErrorClass.TLS_FAILED: N_("TLS failure"),
    ErrorClass.PLAINTEXT_ON_TLS_PORT: N_("plaintext SMTP on a TLS port"),
    ErrorClass.TLS_ON_PLAIN_PORT: N_("TLS on a plaintext port"),
    ErrorClass.PROXY_FAILED: N_("proxy connection failed"),
}
"""Each error class in words, as an English message id (keys are the class values)."""


class ProtocolError(Exception):
    """A server reply that breaks the SMTP reply grammar (RFC 5321 section 4.2)."""


class ProxyFailure(ConnectionError):
    """The SOCKS proxy could not be reached or rejected the request, so the destination was never tried."""


class ReplyTimeout(TimeoutError):
    """The server sent no complete reply within the step timeout."""


_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}


def classify(exc: BaseException, *, connecting: bool = False) -> tuple[ErrorClass, str]:
    """Map a low-level exception to an error class and a one-line detail."""
    detail = _describe(exc)
    if isinstance(exc, ProxyFailure):
        return ErrorClass.PROXY_FAILED, detail
    if isinstance(exc, ReplyTimeout):
        return ErrorClass.REPLY_TIMEOUT, detail
    if isinstance(exc, TimeoutError):
        return (ErrorClass.TIMEOUT if connecting else ErrorClass.REPLY_TIMEOUT), detail
    if isinstance(exc, ConnectionRefusedError):
        return ErrorClass.REFUSED, detail
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return ErrorClass.RESET, detail
    if isinstance(exc, ConnectionAbortedError):
        # asyncio aborts a TLS handshake that outlives ssl_handshake_timeout this way.
        timed_out = "longer than" in str(exc)
        return (ErrorClass.TIMEOUT if timed_out else ErrorClass.RESET), detail
    if isinstance(exc, asyncio.IncompleteReadError | EOFError):
        return ErrorClass.CLOSED, detail
    if isinstance(exc, ProtocolError | asyncio.LimitOverrunError | ValueError):
        return ErrorClass.PROTOCOL_ERROR, detail
    if isinstance(exc, ssl.SSLError):
        return ErrorClass.TLS_FAILED, detail
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return ErrorClass.UNREACHABLE, detail
    if isinstance(exc, OSError):
        return (ErrorClass.UNREACHABLE if connecting else ErrorClass.RESET), detail
    return ErrorClass.PROTOCOL_ERROR, detail


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or exc.strerror
        return f"{type(exc).__name__}: {reason or exc}"
    if isinstance(exc, asyncio.IncompleteReadError):
        return f"connection closed by the server after {len(exc.partial)} bytes of a line"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text
