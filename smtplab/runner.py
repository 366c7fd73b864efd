"""Probe runs: resolve each target, probe its endpoints concurrently under a bound."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, TypeVar

import dns.asyncresolver

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.limits import Limits
from smtplab.net.resolver import address_error, lookup, lookup_ptr, make_resolver
from smtplab.record import EndpointRecord, HostRecord, RunRecord, utc_now_iso
from smtplab.result import ProbeResult
from smtplab.session import probe_endpoint
from smtplab.targets import Endpoint, Target, parse_endpoints, parse_target

log = logging.getLogger("smtplab")

T = TypeVar("T")


async def probe_many_async(
    targets: Iterable[str | Target],
    *,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
) -> ProbeResult:
    """Probe every target's endpoints; the coroutine form of ``probe_many``."""
    config = config or ProbeConfig()
    endpoints = parse_endpoints(ports)
    parsed = [item if isinstance(item, Target) else parse_target(item, endpoints) for item in targets]
    started_at = utc_now_iso()
    limits = Limits(config)
    resolver = make_resolver(config) if config.resolve else None

    host_records = await asyncio.gather(*(_resolve(target, resolver, config) for target in parsed))
    jobs = [
        _bounded(limits, address, _probe_address(target, host, address, endpoint, config, credentials))
        for target, host in zip(parsed, host_records, strict=True)
        for address in (host.addresses or [None])
        for endpoint in target.endpoints
    ]
    endpoint_records = await asyncio.gather(*jobs)
    run = RunRecord(
        started_at=started_at,
        finished_at=utc_now_iso(),
        vantage=socket.gethostname(),
        config=config.to_dict(),
        username=credentials.username if credentials else None,
        hosts=list(host_records),
        endpoints=list(endpoint_records),
        tool_version=__version__,
    )
    return ProbeResult(run)


async def _bounded(limits: Limits, address: str | None, job: Coroutine[Any, Any, T]) -> T:
    async with limits.slot(address):
        return await job


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
) -> ProbeResult:
    """Probe many hosts; each address of each name is probed as its own endpoint."""
    return run_sync(
        probe_many_async(targets, ports=ports, config=config, credentials=credentials)
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
