"""HTTPS server for the lab domains' MTA-STS policies, on the lab's event loop.

Senders fetch a domain's policy from ``https://mta-sts.<domain>/.well-known/mta-sts.txt``
(RFC 8461 section 3.3). One server contains the policies of every lab domain and picks one
by the Host header, as a hosting provider does for many domains. ``parse_request`` and
``build_response`` handle one request without I/O; ``start_policy_server`` is the network
shell around them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from .shutdown import ConnectionRegistry

logger = logging.getLogger(__name__)

POLICY_PATH = "/.well-known/mta-sts.txt"
# Maximum size of a request line and headers. A policy request needs a few hundred bytes.
MAX_REQUEST_HEAD_BYTES = 8192
# Maximum seconds a client may take to send its request after the TLS handshake.
REQUEST_TIMEOUT = 10.0
# Maximum number of ephemeral ports to try, because the same port must be free on every
# address.
PORT_ATTEMPTS = 20

ClientCallback: TypeAlias = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP/1.x request that select a policy.

    ``host`` is the Host header without port or trailing dot, in lowercase, or None when
    the request has no Host header.
    """

    method: str
    target: str
    version: str
    host: str | None


@dataclass(frozen=True)
class HttpResponse:
    """A response that the server sends before it closes the connection."""

    status: int
    body: str
    headers: tuple[tuple[str, str], ...] = ()

    def to_bytes(self, *, include_body: bool = True) -> bytes:
        """Serialize the response; a response to HEAD keeps Content-Length but not the body."""
        body = self.body.encode("utf-8")
        lines = [
            f"HTTP/1.1 {self.status} {_REASONS[self.status]}",
            "Content-Type: text/plain",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        head = "".join(f"{line}\r\n" for line in lines) + "\r\n"
        return head.encode("ascii") + (body if include_body else b"")


@dataclass(frozen=True)
class PolicyServer:
    """A running policy server, listening on ``port`` of every address in ``addresses``.

    The owner stops it by closing ``servers``.
    """

    addresses: tuple[str, ...]
    port: int
    servers: tuple[asyncio.Server, ...]


def parse_request(head: bytes) -> HttpRequest | None:
    """Parse the request line and the Host header of a request head.

    Returns None when the head is not an HTTP/1.x request or has more than one Host
    header, which RFC 9112 section 3.2 makes invalid.
    """
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None

    hosts = []
    for line in lines[1:]:
        name, separator, value = line.partition(":")
        if separator and name.strip().lower() == "host":
            hosts.append(_host_without_port(value.strip()))
    if len(hosts) > 1:
        return None
    host = hosts[0] if hosts else None
    return HttpRequest(method=parts[0], target=parts[1], version=parts[2], host=host)


def build_response(request: HttpRequest | None, policies: Mapping[str, str]) -> HttpResponse:
    """Build the response to ``request`` from ``policies``, keyed by lowercase host name.

    Only GET and HEAD of ``POLICY_PATH`` for a known host get 200. A head that did not
    parse, or an HTTP/1.1 request without Host (RFC 9112 section 3.2), gets 400.
    """
    if request is None:
        return HttpResponse(400, "invalid request\n")
    if request.version not in ("HTTP/1.0", "HTTP/1.1"):
        return HttpResponse(505, "only HTTP/1.0 and HTTP/1.1 are supported\n")
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(405, "only GET and HEAD are allowed\n", (("Allow", "GET, HEAD"),))
    if request.host is None and request.version == "HTTP/1.1":
        return HttpResponse(400, "the Host header is missing\n")

    policy = policies.get(request.host or "")
    if request.target != POLICY_PATH or policy is None:
        return HttpResponse(404, "no MTA-STS policy here\n")
    return HttpResponse(200, policy)


async def start_policy_server(
    policies: Mapping[str, str],
    addresses: Sequence[str],
    context: ssl.SSLContext,
    connections: ConnectionRegistry,
) -> PolicyServer:
    """Serve ``policies`` over HTTPS on one ephemeral port, the same on every address.

    ``context`` is the server TLS context, with a certificate for every host name in
    ``policies``. Each connection is in ``connections`` while it is open. Raises OSError
    when no port was free on every address after ``PORT_ATTEMPTS`` tries.
    """
    known = {host.lower().rstrip("."): text for host, text in policies.items()}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(writer.transport)
        try:
            await _serve_connection(reader, writer, known)
        finally:
            connections.discard(writer.transport)
            writer.close()

    for _ in range(PORT_ATTEMPTS):
        servers = await _bind_same_port(serve, addresses, context)
        if servers is not None:
            port = servers[0].sockets[0].getsockname()[1]
            logger.debug(
                "lab MTA-STS server for %s listening on port %d of %s",
                ", ".join(sorted(known)),
                port,
                ", ".join(addresses),
            )
            return PolicyServer(tuple(addresses), port, tuple(servers))

    raise OSError(
        errno.EADDRINUSE,
        f"no port was free on every address of {', '.join(addresses)} "
        f"after {PORT_ATTEMPTS} attempts",
    )


async def _bind_same_port(
    serve: ClientCallback, addresses: Sequence[str], context: ssl.SSLContext
) -> list[asyncio.Server] | None:
    """Bind the first address to an ephemeral port and the others to the same port.

    Returns None, with nothing left bound, when that port is in use on another address.
    """
    options = {"ssl": context, "limit": MAX_REQUEST_HEAD_BYTES}
    first = await asyncio.start_server(serve, addresses[0], 0, **options)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    try:
        for address in addresses[1:]:
            servers.append(await asyncio.start_server(serve, address, port, **options))
    except OSError as error:
        for server in servers:
            server.close()
        if error.errno != errno.EADDRINUSE:
            raise
        return None
    return servers


async def _serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, policies: Mapping[str, str]
) -> None:
    """Read one request, send the response and return, so that the caller closes the connection."""
    peer = writer.get_extra_info("peername")
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        head = b""  # too long for a policy request, so it gets a 400 response below
    except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError) as error:
        logger.debug("lab MTA-STS server got no request from %r: %r", peer, error)
        return

    request = parse_request(head)
    response = build_response(request, policies)
    logger.debug(
        "lab MTA-STS server sent %d for %s %s (host %s) from %r",
        response.status,
        request.method if request else "-",
        request.target if request else "-",
        request.host if request else "-",
        peer,
    )
    include_body = request is None or request.method != "HEAD"
    try:
        writer.write(response.to_bytes(include_body=include_body))
        await writer.drain()
    except (ConnectionError, ssl.SSLError) as error:
        logger.debug("lab MTA-STS server could not send the response to %r: %r", peer, error)


def _host_without_port(value: str) -> str:
    """Return the host of a Host header value (``name``, ``name:port`` or ``[v6]:port``)."""
    if value.startswith("["):
        host = value[1:].partition("]")[0]
    else:
        host = value.rpartition(":")[0] if ":" in value else value
    return host.lower().rstrip(".")

