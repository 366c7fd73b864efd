"""``probe_domain``: resolve a domain's mail records, probe its MX hosts, and judge the whole."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable, Mapping

from smtplab.config import ProbeConfig
from smtplab.domain.dane import check_record
from smtplab.domain.gather import (
    lookup_dkim,
    lookup_dmarc,
    lookup_mta_sts,
    lookup_submission_srv,
    lookup_tlsa,
    lookup_tlsrpt,
)
from smtplab.domain.lookups import DnsClient, make_validating_resolver
from smtplab.domain.model import SrvRecord, TlsaCheck
from smtplab.domain.mx import MxSet, check_reverse, resolve_mx
from smtplab.domain.posture import DomainPosture
from smtplab.domain.spf import evaluate_spf
from smtplab.record import utc_now_iso
from smtplab.result import ProbeResult
from smtplab.runner import probe_many_async, run_sync
from smtplab.targets import Target, parse_endpoint, parse_endpoints, parse_target

log = logging.getLogger("smtplab")

MX_ENDPOINT = "25/starttls"
SUBMISSION_ENDPOINTS = ("587/starttls", "465/tls")


async def probe_domain_async(
    domain: str,
    *,
    config: ProbeConfig | None = None,
    selectors: Iterable[str] = (),
    submission: bool = False,
    host: str | None = None,
    https_cafile: str | None = None,
    mx_endpoints: Mapping[str, str] | None = None,
    mta_sts_port: int = 443,
    submission_endpoints: Iterable[str] = SUBMISSION_ENDPOINTS,
) -> DomainPosture:
    """Check a domain's mail posture; the coroutine form of ``probe_domain``."""
    config = config or ProbeConfig()
    name = _domain_name(domain)
    selectors = _selectors(selectors)
    if not 1 <= mta_sts_port <= 65535:
        raise ValueError(f"invalid mta_sts_port {mta_sts_port}: expected 1 to 65535")
    started_at = utc_now_iso()
    log.info("checking the mail posture of %s", name)
    client = DnsClient(make_validating_resolver(config))

    mx_set = await resolve_mx(client, name)
    mx_hosts = [item.host for item in mx_set.hosts]
    spf, dmarc, dkim, sts, tlsrpt, tlsa, reverse, srv = await asyncio.gather(
        evaluate_spf(client, name),
        lookup_dmarc(client, name),
        lookup_dkim(client, name, tuple(selectors)),
        lookup_mta_sts(client, name, port=mta_sts_port, cafile=https_cafile, timeout=config.connect_timeout),
        lookup_tlsrpt(client, name),
        lookup_tlsa(client, mx_hosts),
        asyncio.gather(
            *(
                check_reverse(client, item.host, address)
                for item in mx_set.hosts
                for address in item.addresses
            )
        ),
        lookup_submission_srv(client, name) if submission else _no_records(),
    )
    mx_probe = await _probe_mx(mx_set, config, mx_endpoints or {})
    _judge_tlsa(tlsa, mx_probe)
    submission_probe = None
    if submission or host is not None:
        submission_probe = await _probe_submission(srv, host, config, tuple(submission_endpoints))

    return DomainPosture(
        domain=name,
        config=config,
        started_at=started_at,
        mx_set=mx_set,
        reverse=list(reverse),
        spf_evaluation=spf,
        dmarc_lookup=dmarc,
        dkim_lookups=dkim,
        mta_sts_lookup=sts,
        tlsrpt_lookup=tlsrpt,
        tlsa_checks=tlsa,
        srv=srv,
        probe=mx_probe,
        submission=submission_probe,
        submission_requested=submission,
        answers=list(client.answers.values()),
    )


_SELECTOR = re.compile(r"^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$")


def _domain_name(domain: str) -> str:
    """Return the lowercase ASCII form of a domain name; raise for anything else."""
    if not isinstance(domain, str):
        raise TypeError(f"domain must be a str, not {type(domain).__name__}")
    target = parse_target(domain)
    if target.is_literal:
        raise ValueError(f"invalid domain {domain!r}: expected a domain name, not an IP address")
    return target.ascii_host.lower()


def _selectors(selectors: Iterable[str]) -> tuple[str, ...]:
    """Return the DKIM selectors once each, in order; raise for a bare string or an invalid name."""
    if isinstance(selectors, str):
        raise TypeError(f"selectors must be a list of names, not the string {selectors!r}")
    names = tuple(dict.fromkeys(selectors))
    for name in names:
        if not isinstance(name, str) or not _SELECTOR.match(name):
            raise ValueError(f"invalid DKIM selector {name!r}: expected labels of letters, digits, - or _")
    return names


def probe_domain(
    domain: str,
    *,
    config: ProbeConfig | None = None,
    selectors: Iterable[str] = (),
    submission: bool = False,
    host: str | None = None,
    https_cafile: str | None = None,
    mx_endpoints: Mapping[str, str] | None = None,
    mta_sts_port: int = 443,
    submission_endpoints: Iterable[str] = SUBMISSION_ENDPOINTS,
) -> DomainPosture:
    """Check a domain's mail posture: MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE.

    Each MX host is probed on port 25 with STARTTLS. ``mx_endpoints`` maps an MX host name
    to the endpoint probed instead, such as ``{"mx.example.com": "2525/starttls"}``, for
    test servers on other ports; TLSA names keep port 25. ``selectors`` are the DKIM
    selectors to check. ``submission`` also reads the RFC 6186 SRV records and probes the
    servers they name; ``host`` probes that host on ``submission_endpoints`` as well.
    ``https_cafile`` is the CA file trusted for the MTA-STS policy (None: the system CAs),
    fetched from port ``mta_sts_port``. Every DNS query goes to ``config.nameserver``.
    """
    return run_sync(
        probe_domain_async(
            domain,
            config=config,
            selectors=selectors,
            submission=submission,
            host=host,
            https_cafile=https_cafile,
            mx_endpoints=mx_endpoints,
            mta_sts_port=mta_sts_port,
            submission_endpoints=submission_endpoints,
        )
    )


async def _no_records() -> list[SrvRecord]:
    return []


async def _probe_mx(
    mx_set: MxSet, config: ProbeConfig, mx_endpoints: Mapping[str, str]
) -> ProbeResult | None:
    targets = [
        parse_target(item.host, [parse_endpoint(mx_endpoints.get(item.host, MX_ENDPOINT))])
        for item in mx_set.hosts
        if item.addresses
    ]
    if not targets:
        return None
    return await probe_many_async(targets, config=config)


async def _probe_submission(
    srv: list[SrvRecord], host: str | None, config: ProbeConfig, endpoints: tuple[str, ...]
) -> ProbeResult | None:
    targets: dict[str, list[str]] = {}
    for record in srv:
        if record.target != ".":
            mode = "tls" if record.service.startswith("_submissions") else "starttls"
            targets.setdefault(record.target, []).append(f"{record.port}/{mode}")
    if host is not None:
        targets.setdefault(host, []).extend(endpoints)
    if not targets:
        return None
    parsed: list[Target] = [parse_target(name, parse_endpoints(items)) for name, items in targets.items()]
    return await probe_many_async(parsed, config=config)


def _judge_tlsa(checks: list[TlsaCheck], mx_probe: ProbeResult | None) -> None:
    """Check every TLSA record against the certificates each address of its MX presented."""
    views = mx_probe.views if mx_probe is not None else []
    for check in checks:
        own = [item for item in views if item.record.host == check.mx]
        for record in check.records:
            if not own:
                check.verdicts.append((None, record, check_record(record, None)))
            for item in own:
                pem = item.tls.get("cert_pem") if item.tls else None
                verdict = check_record(record, pem, item.chain_pem)
                check.verdicts.append((item.record.address, record, verdict))
