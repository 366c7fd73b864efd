"""Close asyncio servers and their connections without leaving a socket open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TypeAlias

ConnectionRegistry: TypeAlias = set[asyncio.WriteTransport]
"""Open connections of a set of servers, by transport. Each protocol adds its transport
in connection_made and removes it in connection_lost."""

# Maximum seconds to wait for open connections to close before cancelling their tasks.
# Only a client in the middle of a TLS handshake makes the wait this long, because such a
# connection has no protocol yet and so is not in the registry.
DRAIN_TIMEOUT = 0.2
# Loop iterations to run after the last abort or cancellation. Closing a transport closes
# its socket in a callback on the next iteration, and an SSL transport needs one more.
CLOSE_ITERATIONS = 3


async def close_servers(
    servers: Iterable[asyncio.Server], connections: ConnectionRegistry
) -> None:
    """Close ``servers``, abort every transport in ``connections`` and end the other tasks.

    ``connections`` is the registry of the servers' open connections. Every task on the loop
    other than the caller's is cancelled at the end, so call this only while stopping
    the loop.
    """
    servers = list(servers)
    await _stop_accepting(servers)
    for server in servers:
        server.close()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_TIMEOUT
    while _abort_all(connections) or _other_tasks():
        if loop.time() > deadline:
            break
        await asyncio.sleep(0)

    pending = _other_tasks()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for _ in range(CLOSE_ITERATIONS):
        _abort_all(connections)
        await asyncio.sleep(0)


async def _stop_accepting(servers: list[asyncio.Server]) -> None:
    """Stop accepting, then let connections already accepted reach their transports.

    In CPython 3.11, a connection accepted just before ``Server.close()`` fails in
    transport creation and its socket stays open until garbage collection. Removing
    the accept callback first and yielding lets those pending transports be created
    while the server is still open.
    """
    loop = asyncio.get_running_loop()
    for server in servers:
        for sock in server.sockets:
            loop.remove_reader(sock.fileno())
    for _ in range(CLOSE_ITERATIONS):
        await asyncio.sleep(0)


def _abort_all(connections: ConnectionRegistry) -> bool:
    """Abort every registered transport and return whether there were any."""
    for transport in list(connections):
        transport.abort()
    return bool(connections)


def _other_tasks() -> list[asyncio.Task[object]]:
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not current]
