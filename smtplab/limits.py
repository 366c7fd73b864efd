"""Politeness limits of a run: concurrency overall, per address and per network, and connection rate."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from smtplab.config import ProbeConfig


@dataclass(frozen=True, kw_only=True)
class ScanLimits:
    """Limits for scans of many hosts, on top of those in ``ProbeConfig``; None turns one off."""

    per_network_concurrency: int | None = None
    """Endpoints probed at the same time within one network of the prefix lengths below."""
    ipv4_prefix: int = 24
    ipv6_prefix: int = 64
    connect_rate: float | None = None
    """Connections opened per second across the whole run, reconnects included."""

    def __post_init__(self) -> None:
        if self.per_network_concurrency is not None and self.per_network_concurrency < 1:
            raise ValueError(
                f"invalid per_network_concurrency {self.per_network_concurrency!r}: expected 1 or more"
            )
        if not 0 <= self.ipv4_prefix <= 32:
            raise ValueError(f"invalid ipv4_prefix {self.ipv4_prefix!r}: expected 0 to 32")
        if not 0 <= self.ipv6_prefix <= 128:
            raise ValueError(f"invalid ipv6_prefix {self.ipv6_prefix!r}: expected 0 to 128")
        if self.connect_rate is not None and self.connect_rate <= 0:
            raise ValueError(f"invalid connect_rate {self.connect_rate!r}: expected connections/s > 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def network_of(self, address: str) -> str | None:
        """Return the network ``address`` belongs to (``192.0.2.0/24``), or None for a non-IP."""
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return None
        prefix = self.ipv4_prefix if parsed.version == 4 else self.ipv6_prefix
        return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


class RateLimiter:
    """Spaces events evenly at ``rate`` per second; waiting tasks are served in arrival order."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


# The rate limiter of the run the current task belongs to. SmtpConnection.open
# waits on it, so reconnects within one endpoint's probe count too.
_connect_limiter: ContextVar[RateLimiter | None] = ContextVar("smtplab_connect_limiter", default=None)


async def wait_for_connect_turn() -> None:
    """Wait until the current run's connection rate allows one more connection."""
    limiter = _connect_limiter.get()
    if limiter is not None:
        await limiter.wait()


class _Entry:
    __slots__ = ("semaphore", "users", "next_start")

    def __init__(self, value: int) -> None:
        self.semaphore = asyncio.Semaphore(value)
        self.users = 0
        self.next_start = 0.0


class _KeyedSemaphores:
    """One semaphore per key, dropped once no task holds or waits for it.

    Dropping unused entries keeps memory flat however many addresses a scan
    visits. An entry whose spacing time still lies ahead is kept until then.
    """

    def __init__(self, value: int) -> None:
        self._value = value
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[_Entry]:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(self._value)
        entry.users += 1
        try:
            async with entry.semaphore:
                yield entry
        finally:
            entry.users -= 1
            if entry.users == 0 and entry.next_start <= time.monotonic():
                del self._entries[key]

    def sweep(self) -> None:
        """Drop idle entries whose spacing time has passed."""
        now = time.monotonic()
        idle = [key for key, entry in self._entries.items() if entry.users == 0 and entry.next_start <= now]
        for key in idle:
            del self._entries[key]


class Limits:
    """Bounds concurrent probes overall, per address and per network, and paces connections.

    A slot is taken from the narrowest limit to the widest, so a probe waiting
    for a busy address does not keep an overall slot from others.
    """

    def __init__(self, config: ProbeConfig, scan: ScanLimits | None = None) -> None:
        self._scan = scan or ScanLimits()
        self._overall = asyncio.Semaphore(config.concurrency)
        self._interval = config.per_host_interval
        self._hosts = _KeyedSemaphores(config.per_host_concurrency)
        per_network = self._scan.per_network_concurrency
        self._networks = _KeyedSemaphores(per_network) if per_network is not None else None
        rate = self._scan.connect_rate
        self._limiter = RateLimiter(rate) if rate is not None else None
        self._sweep_at = 1024

    @property
    def tracked_addresses(self) -> int:
        """Addresses with a live per-address entry; stays bounded by concurrency plus spacing."""
        return len(self._hosts)

    @asynccontextmanager
    async def slot(self, address: str | None) -> AsyncIterator[None]:
        token = _connect_limiter.set(self._limiter)
        try:
            async with AsyncExitStack() as stack:
                if address is not None:
                    await self._enter_address(stack, address)
                await stack.enter_async_context(self._overall)
                yield
        finally:
            _connect_limiter.reset(token)

    async def _enter_address(self, stack: AsyncExitStack, address: str) -> None:
        network = self._scan.network_of(address) if self._networks is not None else None
        if self._networks is not None and network is not None:
            await stack.enter_async_context(self._networks.hold(network))
        entry = await stack.enter_async_context(self._hosts.hold(address))
        self._sweep()
        await self._wait_turn(entry)

    def _sweep(self) -> None:
        if self._interval > 0 and len(self._hosts) >= self._sweep_at:
            self._hosts.sweep()
            self._sweep_at = max(1024, 2 * len(self._hosts))

    async def _wait_turn(self, entry: _Entry) -> None:
        if self._interval <= 0:
            return
        now = time.monotonic()
        start = max(now, entry.next_start)
        entry.next_start = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)
