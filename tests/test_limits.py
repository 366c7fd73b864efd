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
    """Counts open connections across server threads and keeps the peak and start times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.peak = 0
        self.starts: list[float] = []

    def handler(self) -> Handler:
        inner = scripted(Script())

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with self.lock:
                self.open += 1
                self.peak = max(self.peak, self.open)
                self.starts.append(time.monotonic())
            try:
                await asyncio.sleep(0.2)
                await inner(reader, writer)
            finally:
                with self.lock:
                    self.open -= 1

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
