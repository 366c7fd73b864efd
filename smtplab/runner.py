"""Probe runs: resolve each target, probe its endpoints concurrently under a bound."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
from collections.abc import Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import dns.asyncresolver

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.limits import Limits
from smtplab.net.resolver import address_error, lookup, lookup_ptr, make_resolver
from smtplab.record import EndpointRecord, HostRecord, RunRecord, canonical_order, utc_now_iso
from smtplab.result import ProbeResult
from smtplab.session import probe_endpoint
from smtplab.stream import ResultStream
from smtplab.targets import Endpoint, Target, parse_endpoints, parse_target

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
) -> ProbeResult:
    """Probe every target's endpoints; the coroutine form of ``probe_many``."""
    config = config or ProbeConfig()
    endpoints = parse_endpoints(ports)
    parsed = [item if isinstance(item, Target) else parse_target(item, endpoints) for item in targets]
    run = RunRecord(
        started_at=utc_now_iso(),
        finished_at="",
        vantage=socket.gethostname(),
        config=config.to_dict(),
        username=credentials.username if credentials else None,
        hosts=[],
        endpoints=[],
        tool_version=__version__,
    )
    stream = ResultStream(output, run, resume=resume) if output is not None else None
    try:
        await _run(run, parsed, config, credentials, stream)
    finally:
        if stream is not None:
            stream.close()
    return ProbeResult(run)


async def _run(
    run: RunRecord,
    targets: list[Target],
    config: ProbeConfig,
    credentials: Credentials | None,
    stream: ResultStream | None,
) -> None:
    limits = Limits(config)
    resolver = make_resolver(config) if config.resolve else None
    done = stream.done() if stream is not None else {}
    if stream is not None and stream.previous is not None:
        run.started_at = stream.previous.started_at

    run.hosts = list(await asyncio.gather(*(_resolve(target, resolver, config) for target in targets)))
    for host in run.hosts:
        if stream is not None:
            stream.host(host)
    jobs = []
    for target, host in zip(targets, run.hosts, strict=True):
        for address in host.addresses or [None]:
            for endpoint in target.endpoints:
                key = (target.host, address or "", endpoint.port, str(endpoint.mode))
                if key in done:
                    run.endpoints.append(done[key])
                    continue
                job = _probe_address(target, host, address, endpoint, config, credentials)
                jobs.append(_bounded(limits, address, job, stream))
    run.endpoints.extend(await asyncio.gather(*jobs))
    run.endpoints = canonical_order(run.hosts, run.endpoints)
    run.finished_at = utc_now_iso()
    if stream is not None:
        stream.finish(run.finished_at)


async def _bounded(
    limits: Limits, address: str | None, job: Coroutine[Any, Any, EndpointRecord],
    stream: ResultStream | None,
) -> EndpointRecord:
    async with limits.slot(address):
        record = await job
    if stream is not None:
        stream.endpoint(record)
    return record


async def _probe_address(
    target: Target,
    host: HostRecord,
    address: str | None,
    endpoint: Endpoint,
    config: ProbeConfig,
    credentials: Credentials | None,
) -> EndpointRecord:
    if address is None:
        return _unresolved(target, host, endpoint)
    log.info("probing %s [%s] port %s", target.ascii_host, address, endpoint)
    return await probe_endpoint(target, address, endpoint, config, credentials)


def _unresolved(target: Target, host: HostRecord, endpoint: Endpoint) -> EndpointRecord:
    """The record of an endpoint that was never contacted because its host has no address."""
    error = {
        "t": 0.0, "kind": "error", "step": "dns", "phase": "plain", "attempt": 1,
        "error": host.error, "detail": host.detail,
    }
    return EndpointRecord(
        host=target.host,
        address=None,
        port=endpoint.port,
        mode=str(endpoint.mode),
        started_at=utc_now_iso(),
        events=[error],
    )


async def _resolve(
    target: Target, resolver: dns.asyncresolver.Resolver | None, config: ProbeConfig
) -> HostRecord:
    record = HostRecord(target.host, target.ascii_host, target.is_literal, [])
    if target.is_literal:
        record.addresses = [target.host]
    elif resolver is None:
        record.error, record.detail = "dns_failure", "DNS disabled and the target is not an IP literal"
        return record
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
    if resolver is not None:
        pointers = await asyncio.gather(*(lookup_ptr(resolver, address) for address in record.addresses))
        record.dns.extend(pointers)
        record.dns.extend(await _confirm_pointers(resolver, list(pointers)))
    return record


async def _confirm_pointers(
    resolver: dns.asyncresolver.Resolver, pointers: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Look up the addresses of every PTR name, for forward-confirmed reverse DNS."""
    names = {str(value) for entry in pointers for value in entry["values"]}  # type: ignore[attr-defined]
    queries = [lookup(resolver, name, rdtype) for name in sorted(names) for rdtype in ("A", "AAAA")]
    return list(await asyncio.gather(*queries))


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
) -> ProbeResult:
    """Probe many hosts; each address of each name is probed as its own endpoint.

    With ``output``, every record is appended to that JSON Lines file as soon as
    it completes, so an interrupted run keeps what it finished; ``resume`` then
    skips the endpoints the file already holds.
    """
    return run_sync(
        probe_many_async(targets, ports=ports, config=config, credentials=credentials,
                         output=output, resume=resume)
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
