"""Probe runs: resolve each target and probe its endpoints concurrently under limits.

``probe_many`` keeps every record to return a ``ProbeResult``; for scans too
large for that, ``smtplab.scan.scan`` streams records to disk and keeps none.
Both run on ``smtplab.scan.ScanEngine``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.limits import Limits, ScanLimits
from smtplab.progress import EndpointObserver, Observers
from smtplab.record import RunRecord, canonical_order, endpoint_key, utc_now_iso
from smtplab.scan import ScanEngine, default_window, new_run_record
from smtplab.stream import ResultStream, ResumeState
from smtplab.targets import Target, parse_endpoints, parse_target

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

log = logging.getLogger("smtplab")

T = TypeVar("T")


async def probe_many_async(
    targets: Iterable[str | Target],
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    observers: Iterable[EndpointObserver] = (),
    limits: ScanLimits | None = None,
) -> ProbeResult:
    """Probe every target's endpoints; the coroutine form of ``probe_many``."""
    from smtplab.result import ProbeResult

    config = config or ProbeConfig()
    endpoints = parse_endpoints(ports)
    parsed = [item if isinstance(item, Target) else parse_target(item, endpoints) for item in targets]
    run = new_run_record(config, credentials, limits)
    stream = ResultStream(output, run, resume=resume) if output is not None else None
    previous = stream.previous if stream is not None else None
    if previous is not None:
        run.started_at = previous.started_at
    watchers = Observers(observers)
    engine = ScanEngine(
        config=config, credentials=credentials, limits=Limits(config, limits),
        sinks=[stream] if stream is not None else [], observers=watchers,
        resume=_resume_state(previous), window=default_window(config), keep=True,
    )
    watchers.start(len(parsed) * len(endpoints), len(previous.endpoints) if previous else 0)
    try:
        await engine.run((target, config) for target in parsed)
        _collect(run, engine, previous)
        if stream is not None:
            stream.finish(run.finished_at)
    finally:
        if stream is not None:
            stream.close()
        watchers.finish()
    return ProbeResult(run)


def _resume_state(previous: RunRecord | None) -> ResumeState:
    state = ResumeState()
    if previous is not None:
        state.endpoints = {endpoint_key(record) for record in previous.endpoints}
        state.host_addresses = {host.host: list(host.addresses) for host in previous.hosts}
    return state


def _collect(run: RunRecord, engine: ScanEngine, previous: RunRecord | None) -> None:
    """Put the hosts in target order and add the endpoints an earlier run finished."""
    hosts = dict(engine.hosts)
    endpoints = list(engine.endpoints)
    if previous is not None:
        earlier_hosts = {host.host: host for host in previous.hosts}
        for index, name in engine.skipped_hosts:
            hosts[index] = earlier_hosts[name]
        earlier = {endpoint_key(record): record for record in previous.endpoints}
        endpoints.extend(earlier[key] for key in engine.skipped)
    run.hosts = [hosts[index] for index in sorted(hosts)]
    run.endpoints = canonical_order(run.hosts, endpoints)
    run.finished_at = utc_now_iso()


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also from inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def probe_many(
    targets: Iterable[str | Target],
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    observers: Iterable[EndpointObserver] = (),
    limits: ScanLimits | None = None,
) -> ProbeResult:
    """Probe many hosts; each address of each name is probed as its own endpoint.

    With ``output``, every record is appended to that JSON Lines file as soon as
    it completes, so an interrupted run keeps what it finished. ``resume`` then
    skips the endpoints the file already contains. ``observers`` get
    ``on_endpoint_done(record)`` as each endpoint finishes (see
    ``smtplab.progress``); ``limits`` adds per-network and rate limits.
    """
    return run_sync(
        probe_many_async(targets, ports=ports, config=config, credentials=credentials,
                         output=output, resume=resume, observers=observers, limits=limits)
    )


def probe(
    target: str | Target,
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
) -> ProbeResult:
    """Probe one host on the given endpoints (default 25, 587 STARTTLS and 465 TLS)."""
    return probe_many([target], ports=ports, config=config, credentials=credentials)
