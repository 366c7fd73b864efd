"""Start the listeners of one server profile on the running event loop."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .handler import LabHandler, LabSMTP, size_limit
from .profile import ListenerMode, ListenerProfile, ServerProfile
from .shutdown import ConnectionRegistry

logger = logging.getLogger(__name__)

# SO_LINGER with l_onoff=1 and l_linger=0 makes close() send a TCP RST instead of a FIN.
_LINGER_ZERO = struct.pack("ii", 1, 0)


@dataclass(frozen=True)
class RunningListener:
    """A bound listener; ``port`` is the ephemeral port the system assigned."""

    listener: ListenerProfile
    server: asyncio.Server
    port: int

    @property
    def endpoint(self) -> str:
        """The endpoint string, for example ``"40123/starttls"``."""
        return f"{self.port}/{self.listener.mode}"


async def start_listeners(
    profile: ServerProfile,
    context: ssl.SSLContext,
    password: str | None,
    connections: ConnectionRegistry,
) -> list[RunningListener]:
    """Bind every listener of ``profile`` to an ephemeral port on ``profile.address``.

    ``context`` is the server TLS context with the profile's certificate. Each accepted
    connection is added to ``connections`` until it closes.
    """
    handler = LabHandler(profile, password)
    running = []
    for listener in profile.listeners:
        factory = _protocol_factory(profile, listener, handler, context, connections)
        implicit_tls = listener.mode is ListenerMode.TLS and not listener.reset_on_client_data
        server = await asyncio.get_running_loop().create_server(
            factory, host=profile.address, port=0, ssl=context if implicit_tls else None
        )
        port = server.sockets[0].getsockname()[1]
        logger.debug(
            "lab server %s listening on %s:%d (role of port %d, %s)",
            profile.name,
            profile.address,
            port,
            listener.role,
            listener.mode,
        )
        running.append(RunningListener(listener, server, port))
    return running


def _protocol_factory(
    profile: ServerProfile,
    listener: ListenerProfile,
    handler: LabHandler,
    context: ssl.SSLContext,
    connections: ConnectionRegistry,
) -> Callable[[], asyncio.Protocol]:
    if listener.reset_on_client_data:
        return lambda: _ResetOnClientData(connections)

    keywords = profile.ehlo_before_tls + profile.ehlo_after_tls
    starttls = listener.mode is ListenerMode.STARTTLS
    # aiosmtpd counts only STARTTLS as TLS, so auth_require_tls=True would hide AUTH on
    # the implicit-TLS listener and make AUTH fail there with 538. A server without AUTH
    # also skips the check, so that its own AUTH_DISABLED_REPLY is sent before TLS too.
    auth_require_tls = starttls and profile.username is not None
    options = {
        "hostname": profile.banner_host,
        "ident": "ESMTP",
        "tls_context": context if starttls else None,
        "auth_require_tls": auth_require_tls,
        "authenticator": handler.authenticate if profile.username is not None else None,
        "data_size_limit": size_limit(keywords),
        "enable_SMTPUTF8": "SMTPUTF8" in keywords,
    }
    return lambda: LabSMTP(handler, connections=connections, **options)


class _ResetOnClientData(asyncio.Protocol):
    """Accept TCP, then reset the connection when the client sends its first bytes.

    For a TLS client the first bytes are the ClientHello, so the client sees the reset
    during the handshake.
    """

    def __init__(self, connections: ConnectionRegistry) -> None:
        self._connections = connections
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections.add(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        logger.debug(
            "lab listener resets %r after %d bytes",
            self._transport.get_extra_info("peername"),
            len(data),
        )
        self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._connections.discard(self._transport)
