"""Asyncio DNS responder that serves a lab ``Zone`` over UDP and TCP on one loopback port."""

from __future__ import annotations

import asyncio
import errno
import logging
import struct
from dataclasses import dataclass
from typing import cast

import dns.exception
import dns.flags
import dns.message

from .shutdown import ConnectionRegistry
from .zone import Zone, answer_query

logger = logging.getLogger(__name__)

# RFC 1035 section 4.2.1: without EDNS, a UDP response is at most 512 octets.
UDP_PAYLOAD_WITHOUT_EDNS = 512
# Each DNS message over TCP is preceded by its length as two octets (RFC 1035 section 4.2.2).
TCP_LENGTH_PREFIX = struct.Struct("!H")
# Maximum number of ephemeral UDP ports to try, because the TCP port of the same number
# may be in use.
PORT_ATTEMPTS = 20


@dataclass(frozen=True)
class NameServer:
    """A running responder on ``host``, listening on ``port`` for both UDP and TCP.

    The owner stops it by closing ``udp_transport`` and ``tcp_server``.
    """

    host: str
    port: int
    udp_transport: asyncio.DatagramTransport
    tcp_server: asyncio.Server

    @property
    def address(self) -> str:
        """``"HOST:PORT"``, the form that DNS client settings take."""
        return f"{self.host}:{self.port}"


async def start_nameserver(
    zone: Zone, connections: ConnectionRegistry, host: str = "127.0.0.1"
) -> NameServer:
    """Bind UDP to an ephemeral port on ``host``, bind TCP to the same port, and serve ``zone``.

    Each TCP connection is in ``connections`` while it is open, so that the owner can
    abort it. Raises OSError when no free UDP port had a free TCP port of the same number
    after ``PORT_ATTEMPTS`` tries.
    """
    loop = asyncio.get_running_loop()

    async def serve_tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(writer.transport)
        try:
            await _serve_tcp_connection(reader, writer, zone)
        finally:
            connections.discard(writer.transport)
            writer.close()

    for _ in range(PORT_ATTEMPTS):
        udp_transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpResponder(zone), local_addr=(host, 0)
        )
        port = udp_transport.get_extra_info("sockname")[1]
        try:
            tcp_server = await asyncio.start_server(serve_tcp, host, port)
        except OSError as error:
            udp_transport.close()
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        logger.debug("lab DNS responder listening on %s:%d (UDP and TCP)", host, port)
        return NameServer(host, port, udp_transport, tcp_server)

    raise OSError(
        errno.EADDRINUSE,
        f"no UDP port on {host} had a free TCP port of the same number "
        f"after {PORT_ATTEMPTS} attempts",
    )


class _UdpResponder(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone) -> None:
        self._zone = zone
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = _parse_query(data, addr)
        if query is None or self._transport is None:
            return
        response = answer_query(query, self._zone)
        self._transport.sendto(_to_udp_wire(query, response), addr)


async def _serve_tcp_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, zone: Zone
) -> None:
    peer = writer.get_extra_info("peername")
    while True:
        try:
            prefix = await reader.readexactly(TCP_LENGTH_PREFIX.size)
            (length,) = TCP_LENGTH_PREFIX.unpack(prefix)
            data = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return

        query = _parse_query(data, peer)
        if query is None:
            return
        wire = answer_query(query, zone).to_wire()
        writer.write(TCP_LENGTH_PREFIX.pack(len(wire)) + wire)
        await writer.drain()


def _parse_query(data: bytes, peer: object) -> dns.message.Message | None:
    """Parse a query, or return None (and log why) for a malformed message or a response.

    Dropping responses keeps two responders from replying to each other in a loop.
    """
    try:
        message = dns.message.from_wire(data)
    except dns.exception.DNSException as error:
        logger.debug("lab DNS responder dropped a malformed query from %r: %s", peer, error)
        return None

    if message.flags & dns.flags.QR:
        logger.debug("lab DNS responder dropped a response message from %r", peer)
        return None
    return message


def _to_udp_wire(query: dns.message.Message, response: dns.message.Message) -> bytes:
    """Render ``response`` within the client's UDP payload size, truncating when needed."""
    max_size = query.payload if query.edns >= 0 else UDP_PAYLOAD_WITHOUT_EDNS
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        truncated = dns.message.make_response(query)
        truncated.flags = response.flags | dns.flags.TC
        truncated.set_rcode(response.rcode())
        return truncated.to_wire(max_size=max_size)
