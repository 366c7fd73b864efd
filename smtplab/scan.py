"""Scans of many targets: a bounded pipeline that streams every record to disk as it completes.

``scan`` keeps no records in memory: it returns a ``ScanSummary`` with counts
and the output path, and ``ScanSummary.load()`` (or ``load_scan``) reads the
frames back later. ``probe_many`` runs on the same engine and keeps the records
to return a ``ProbeResult``.

Targets are taken lazily: at most ``window`` targets are resolved or probed
at a time, and each endpoint waits for its slot in ``Limits`` (overall,
per address, per network, connection rate) before it connects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.limits import Limits, ScanLimits
from smtplab.progress import EndpointObserver, Observers
from smtplab.record import EndpointRecord, HostRecord, RunRecord, utc_now_iso
from smtplab.session import probe_endpoint
from smtplab.stream import EndpointKey, RecordSink, ResumeState, load_records, open_stream, read_resume_state
from smtplab.targets import Endpoint, Target, parse_endpoints, parse_target

if TYPE_CHECKING:
    import dns.asyncresolver

    from smtplab.result import ProbeResult

# smtplab.net.resolver, and with it dnspython, is imported only when DNS is on:
# importing dnspython takes about 0.1 s, as long as the rest of a command-line
# probe of an IP literal with --no-dns.

log = logging.getLogger("smtplab")

ScanItem = tuple[Target, ProbeConfig]
"""A target and the settings to probe it with (they differ per target only in ``proxy``)."""


@dataclass
class ScanSummary:
    """Counts of a finished scan; the records themselves are in ``output``."""

    output: Path | None
    started_at: str
    finished_at: str
    elapsed_s: float
    targets: int = 0
    hosts_unresolved: int = 0
    endpoints_probed: int = 0
    """Endpoints probed in this run."""
    endpoints_resumed: int = 0
    """Endpoints skipped because the output already held them from an interrupted run."""
    endpoints_reachable: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    """Endpoints probed in this run by error class; endpoints without an error are not counted."""

    @property
    def rate(self) -> float:
        """Endpoints probed per second of this run."""
        return self.endpoints_probed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def load(self) -> ProbeResult:
        """Read the whole scan back from ``output`` as a ``ProbeResult``."""
        if self.output is None:
            raise ValueError("this scan had no output file; pass output= to keep its records")
        return load_scan(self.output)


def load_scan(path: str | Path) -> ProbeResult:
    """Read a JSON Lines file or a ``.parquet`` folder written by a scan into a ``ProbeResult``."""
    from smtplab.result import ProbeResult

    return ProbeResult(load_records(path))


def parse_scan_line(text: str, endpoints: tuple[Endpoint, ...], config: ProbeConfig) -> ScanItem | None:
    """Parse ``HOST`` or ``HOST PROXY_URL`` from a target list; None for a blank or ``#`` line.

    A proxy URL given on the line replaces ``config.proxy`` for that target.
    """
    line = text.split("#", 1)[0].strip()
    if not line:
        return None
    fields = line.split()
    if len(fields) > 2:
        raise ValueError(f"invalid target line {text.strip()!r}: expected HOST or HOST socks5://IP:PORT")
    target = parse_target(fields[0], endpoints)
    if len(fields) == 2:
        config = dataclasses.replace(config, proxy=fields[1])
    return target, config


def scan_items(
    targets: Iterable[str | Target | ScanItem], endpoints: tuple[Endpoint, ...], config: ProbeConfig
) -> Iterator[ScanItem]:
    """Turn strings (``HOST`` or ``HOST PROXY_URL``), targets and pairs into scan items, lazily."""
    for item in targets:
        if isinstance(item, Target):
            yield item, config
        elif isinstance(item, tuple):
            yield item
        else:
            parsed = parse_scan_line(item, endpoints, config)
            if parsed is not None:
                yield parsed


class ScanEngine:
    """Resolves and probes scan items under limits, handing each record to sinks and observers.

    With ``keep=True`` the records are also kept, in ``hosts`` and ``endpoints``,
    for callers that need them all; otherwise only counts are kept.
    """

    def __init__(
        self,
        *,
        config: ProbeConfig,
        credentials: Credentials | None,
        limits: Limits,
        sinks: Sequence[RecordSink] = (),
        observers: Observers | None = None,
        resume: ResumeState | None = None,
        window: int,
        keep: bool = False,
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._limits = limits
        self._sinks = list(sinks)
        self._observers = observers or Observers()
        self._resume = resume or ResumeState()
        self._window = window
        self._keep = keep
        self._resolver = _make_resolver(config) if config.resolve else None
        self.hosts: dict[int, HostRecord] = {}
        self.endpoints: list[EndpointRecord] = []
        self.skipped: list[EndpointKey] = []
        self.skipped_hosts: list[tuple[int, str]] = []
        self.targets = 0
        self.hosts_unresolved = 0
        self.probed = 0
        self.resumed = 0
        self.reachable = 0
        self.errors: Counter[str] = Counter()

    async def run(self, items: Iterable[ScanItem]) -> None:
        """Probe every item; at most ``window`` items are in progress at a time."""
        slots = asyncio.Semaphore(self._window)
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        def finished(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]

        try:
            for index, (target, config) in enumerate(items):
                await slots.acquire()
                if failures:
                    raise failures[0]
                self.targets += 1
                task = asyncio.create_task(self._target(index, target, config))
                tasks.add(task)
                task.add_done_callback(finished)
            while tasks:
                await asyncio.wait(set(tasks))
            if failures:
                raise failures[0]
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(set(tasks))

    async def _target(self, index: int, target: Target, config: ProbeConfig) -> None:
        expected = len(target.endpoints)
        if self._skip_finished_target(index, target, expected):
            return
        host = await resolve_target(target, self._resolver, self._config)
        if host.error is not None:
            self.hosts_unresolved += 1
        for sink in self._sinks:
            sink.host(host)
        if self._keep:
            self.hosts[index] = host
        jobs = []
        planned = 0
        for address in host.addresses or [None]:
            for endpoint in target.endpoints:
                planned += 1
                key = (target.host, address or "", endpoint.port, str(endpoint.mode))
                if key in self._resume.endpoints:
                    self._count_resumed(key)
                    continue
                jobs.append(self._endpoint(target, host, address, endpoint, config))
        self._observers.planned(target.host, planned, expected)
        await asyncio.gather(*jobs)

    def _skip_finished_target(self, index: int, target: Target, expected: int) -> bool:
        """Skip a target whose every endpoint an earlier run finished, without resolving it again."""
        addresses = self._resume.host_addresses.get(target.host)
        if addresses is None:
            return False
        keys = [(target.host, address, endpoint.port, str(endpoint.mode))
                for address in addresses or [""] for endpoint in target.endpoints]
        if not all(key in self._resume.endpoints for key in keys):
            return False
        for key in keys:
            self._count_resumed(key)
        if self._keep:
            self.skipped_hosts.append((index, target.host))
        self._observers.planned(target.host, len(keys), expected)
        return True

    def _count_resumed(self, key: EndpointKey) -> None:
        self.resumed += 1
        if self._keep:
            self.skipped.append(key)

    async def _endpoint(
        self, target: Target, host: HostRecord, address: str | None, endpoint: Endpoint,
        config: ProbeConfig,
    ) -> None:
        async with self._limits.slot(address):
            if address is None:
                record = unresolved_record(target, host, endpoint)
            else:
                log.info("probing %s [%s] port %s", target.ascii_host, address, endpoint)
                record = await probe_endpoint(target, address, endpoint, config, self._credentials)
        for sink in self._sinks:
            sink.endpoint(record)
        self._count(record)
        if self._keep:
            self.endpoints.append(record)
        self._observers.endpoint_done(record)

    def _count(self, record: EndpointRecord) -> None:
        from smtplab.analysis.interpret import view

        self.probed += 1
        facts = view(record)
        if facts.reachable:
            self.reachable += 1
        if facts.error is not None:
            self.errors[facts.error] += 1


def unresolved_record(target: Target, host: HostRecord, endpoint: Endpoint) -> EndpointRecord:
    """Build the record of an endpoint that was never contacted because its host has no address."""
    error = {
        "t": 0.0, "kind": "error", "step": "dns", "phase": "plain", "attempt": 1,
        "error": host.error, "detail": host.detail,
    }
    return EndpointRecord(
        host=target.host, address=None, port=endpoint.port, mode=str(endpoint.mode),
        started_at=utc_now_iso(), events=[error],
    )


async def resolve_target(
    target: Target, resolver: dns.asyncresolver.Resolver | None, config: ProbeConfig
) -> HostRecord:
    """Look up a target's addresses (A, AAAA) and their PTR names, forward-confirmed."""
    record = HostRecord(target.host, target.ascii_host, target.is_literal, [])
    if resolver is None:
        if target.is_literal:
            record.addresses = [target.host]
        else:
            record.error, record.detail = "dns_failure", "DNS disabled and the target is not an IP literal"
        return record
    from smtplab.net.resolver import address_error, lookup, lookup_ptr

    if target.is_literal:
        record.addresses = [target.host]
    else:
        answers = await asyncio.gather(
            lookup(resolver, target.ascii_host, "A"), lookup(resolver, target.ascii_host, "AAAA")
        )
        record.dns.extend(answers)
        problem = address_error(list(answers))
        if problem is not None:
            record.error, record.detail = str(problem[0]), problem[1]
            return record
        record.addresses = [value for answer in answers for value in answer["values"]]
    pointers = await asyncio.gather(*(lookup_ptr(resolver, address) for address in record.addresses))
    record.dns.extend(pointers)
    record.dns.extend(await _confirm_pointers(resolver, list(pointers)))
    return record


def _make_resolver(config: ProbeConfig) -> dns.asyncresolver.Resolver:
    from smtplab.net.resolver import make_resolver

    return make_resolver(config)


async def _confirm_pointers(
    resolver: dns.asyncresolver.Resolver, pointers: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Look up the addresses of every PTR name, for forward-confirmed reverse DNS."""
    from smtplab.net.resolver import lookup

    names = {str(value) for entry in pointers for value in entry["values"]}  # type: ignore[attr-defined]
    queries = [lookup(resolver, name, rdtype) for name in sorted(names) for rdtype in ("A", "AAAA")]
    return list(await asyncio.gather(*queries))


def default_window(config: ProbeConfig) -> int:
    """Targets in progress at once: enough to keep every concurrency slot busy."""
    return max(64, 2 * config.concurrency)


def new_run_record(config: ProbeConfig, credentials: Credentials | None,
                   limits: ScanLimits | None = None) -> RunRecord:
    """Create the header of a run. Scan limits, when given, are echoed under ``config["scan_limits"]``."""
    settings = config.to_dict()
    if limits is not None:
        settings["scan_limits"] = limits.to_dict()
    return RunRecord(
        started_at=utc_now_iso(), finished_at="", vantage=socket.gethostname(), config=settings,
        username=credentials.username if credentials else None, hosts=[], endpoints=[],
        tool_version=__version__,
    )


async def scan_async(
    targets: Iterable[str | Target | ScanItem],
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    limits: ScanLimits | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    observers: Iterable[EndpointObserver] = (),
    expected_targets: int | None = None,
    window: int | None = None,
) -> ScanSummary:
    """Scan every target, streaming records to ``output``; the coroutine form of ``scan``."""
    config = config or ProbeConfig()
    limits = limits or ScanLimits()
    endpoints = parse_endpoints(ports)
    if expected_targets is None and isinstance(targets, Sequence):
        expected_targets = len(targets)
    state = read_resume_state(output) if output is not None and resume else ResumeState()
    run = new_run_record(config, credentials, limits)
    if state.header is not None:
        run.started_at = state.header.get("started_at", run.started_at)
    sinks = [open_stream(output, run, resume=resume)] if output is not None else []
    watchers = Observers(observers)
    engine = ScanEngine(config=config, credentials=credentials, limits=Limits(config, limits), sinks=sinks,
                        observers=watchers, resume=state, window=window or default_window(config))
    started = time.monotonic()
    expected = None if expected_targets is None else expected_targets * len(endpoints)
    watchers.start(expected, len(state.endpoints))
    try:
        await engine.run(scan_items(targets, endpoints, config))
        finished_at = utc_now_iso()
        for sink in sinks:
            sink.finish(finished_at)
    finally:
        for sink in sinks:
            sink.close()
        watchers.finish()
    return ScanSummary(
        output=Path(output) if output is not None else None, started_at=run.started_at,
        finished_at=finished_at, elapsed_s=round(time.monotonic() - started, 3), targets=engine.targets,
        hosts_unresolved=engine.hosts_unresolved, endpoints_probed=engine.probed,
        endpoints_resumed=engine.resumed, endpoints_reachable=engine.reachable, errors=dict(engine.errors),
    )


def scan(
    targets: Iterable[str | Target | ScanItem],
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    limits: ScanLimits | None = None,
    output: str | Path | None = None,
    resume: bool = False,
    observers: Iterable[EndpointObserver] = (),
    expected_targets: int | None = None,
    window: int | None = None,
) -> ScanSummary:
    """Scan many targets and stream each record to ``output`` as it completes; keep none in memory.

    ``targets`` are host names or IP literals, optionally followed by a proxy
    URL for that target (``"192.0.2.7 socks5://127.0.0.1:1080"``), ``Target``
    objects, or ``(Target, ProbeConfig)`` pairs. ``output`` is a JSON Lines
    file, or a folder of Parquet files when it ends in ``.parquet``. With
    ``resume`` the endpoints already in ``output`` are not probed again.
    ``observers`` get ``on_endpoint_done(record)`` for each endpoint (see
    ``smtplab.progress``). Returns counts; ``ScanSummary.load()`` reads the records.
    """
    from smtplab.runner import run_sync

    return run_sync(scan_async(
        targets, ports=ports, config=config, credentials=credentials, limits=limits, output=output,
        resume=resume, observers=observers, expected_targets=expected_targets, window=window,
    ))
