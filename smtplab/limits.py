"""Politeness limits of a run: overall concurrency, and per address."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from smtplab.config import ProbeConfig


class Limits:
    """Bounds concurrent probes overall and per address, and spaces connection starts."""

    def __init__(self, config: ProbeConfig) -> None:
        self._overall = asyncio.Semaphore(config.concurrency)
        self._per_host = config.per_host_concurrency
        self._interval = config.per_host_interval
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, address: str | None) -> AsyncIterator[None]:
        async with self._overall:
            if address is None:
                yield
                return
            host = self._hosts.setdefault(address, asyncio.Semaphore(self._per_host))
            async with host:
                await self._wait_turn(address)
                yield

    async def _wait_turn(self, address: str) -> None:
        if self._interval <= 0:
            return
        now = time.monotonic()
        start = max(now, self._next_start.get(address, now))
        self._next_start[address] = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)
