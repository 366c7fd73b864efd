"""Politeness: connections per address are bounded and spaced."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import smtplab

from hostile import Script, scripted
from rawserver import Handler, serve


class Gauge:
    """Records when each connection started and ended on the server side.

    A server thread notices a closed connection a little after the client closed it,
    and the client may already have opened its next one by then. ``peak`` therefore
    ends each connection ``CLOSE_LAG`` seconds early; every connection lasts at least
    0.2 s, so real overlaps stay counted.
    """

    CLOSE_LAG = 0.05

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intervals: list[tuple[float, float]] = []
        self.starts: list[float] = []

    @property
    def peak(self) -> int:
        with self.lock:
            intervals = list(self.intervals)
        counts = []
        for start, _ in intervals:
            counts.append(sum(1 for begin, end in intervals if begin <= start < end - self.CLOSE_LAG))
        return max(counts, default=0)

    def handler(self) -> Handler:
        inner = scripted(Script())

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            start = time.monotonic()
            with self.lock:
                self.starts.append(start)
            try:
                await asyncio.sleep(0.2)
                await inner(reader, writer)
            finally:
                with self.lock:
                    self.intervals.append((start, time.monotonic()))

        return handle


def _probe_six(gauge: Gauge, **limits: float) -> smtplab.ProbeResult:
    config = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=5.0,
                                 **limits)  # type: ignore[arg-type]
    with contextlib.ExitStack() as stack:
        ports = [stack.enter_context(serve(gauge.handler())) for _ in range(6)]
        return smtplab.probe("127.0.0.1", ports=[f"{port}/plain" for port in ports], config=config)


def test_per_host_concurrency() -> None:
    gauge = Gauge()
    result = _probe_six(gauge, per_host_concurrency=2)
    assert result.endpoints["error_class"].isna().all()
    assert gauge.peak <= 2
    assert len(gauge.starts) == 6


def test_per_host_interval() -> None:
    gauge = Gauge()
    _probe_six(gauge, per_host_concurrency=6, per_host_interval=0.15)
    starts = sorted(gauge.starts)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.1
