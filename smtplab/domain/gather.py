"""The DNS and HTTPS lookups of each record family, into the plain values of ``model``."""

from __future__ import annotations

import asyncio

from smtplab.domain.dane import parse_tlsa, tlsa_name
from smtplab.domain.dkim import dkim_name, parse_dkim
from smtplab.domain.dmarc import (
    is_dmarc,
    load_public_suffixes,
    organizational_domain,
    parse_dmarc,
    report_domain,
)
from smtplab.domain.fetch import fetch_policy
from smtplab.domain.lookups import DnsClient
from smtplab.domain.model import (
    DkimLookup,
    DmarcLookup,
    MtaStsLookup,
    RuaCheck,
    SrvRecord,
    TlsaCheck,
    TlsRptLookup,
)
from smtplab.domain.mtasts import is_sts, parse_policy, parse_sts_record
from smtplab.domain.tlsrpt import is_tlsrpt, parse_tlsrpt

SUBMISSION_SERVICES = ("_submissions._tcp", "_submission._tcp")
"""RFC 8314 section 5.1 (implicit TLS, preferred) and RFC 6186 section 3.1 (STARTTLS)."""


async def lookup_dmarc(client: DnsClient, domain: str) -> DmarcLookup:
    """Find the DMARC record that applies, per RFC 7489 section 6.6.3."""
    answer = await client.query(f"_dmarc.{domain}", "TXT")
    records = [value for value in answer.values if is_dmarc(value)]
    org = organizational_domain(domain, load_public_suffixes())
    result = DmarcLookup(domain=domain, answer=answer, records=records, source=domain, org_domain=org)
    if not records and org != domain:
        org_answer = await client.query(f"_dmarc.{org}", "TXT")
        org_records = [value for value in org_answer.values if is_dmarc(value)]
        result.org_answer = org_answer
        if org_records:
            result.records, result.source = org_records, org
    if len(result.records) == 1:
        result.parsed = parse_dmarc(result.records[0])
        result.rua_checks = await _check_report_destinations(client, result)
    return result


async def _check_report_destinations(client: DnsClient, lookup: DmarcLookup) -> list[RuaCheck]:
    assert lookup.parsed is not None
    checks = []
    for uri in [*lookup.parsed.rua, *lookup.parsed.ruf]:
        destination = report_domain(uri)
        if destination is None or _same_org(destination, lookup.source, lookup.org_domain):
            continue
        name = f"{lookup.source}._report._dmarc.{destination}"
        checks.append(RuaCheck(uri, destination, name, await client.query(name, "TXT")))
    return checks


def _same_org(destination: str, source: str, org: str) -> bool:
    return destination in (source, org) or destination.endswith(f".{org}")


async def lookup_dkim(client: DnsClient, domain: str, selectors: tuple[str, ...]) -> list[DkimLookup]:
    async def one(selector: str) -> DkimLookup:
        name = dkim_name(selector, domain)
        answer = await client.query(name, "TXT")
        texts = [value for value in answer.values if "p=" in value]
        key = parse_dkim(selector, texts[0]) if texts else None
        return DkimLookup(selector, name, answer, key)

    return list(await asyncio.gather(*(one(selector) for selector in selectors)))


async def lookup_mta_sts(
    client: DnsClient, domain: str, *, port: int, cafile: str | None, timeout: float
) -> MtaStsLookup:
    """Read ``_mta-sts`` and, when it announces a policy, fetch and parse the policy file."""
    answer = await client.query(f"_mta-sts.{domain}", "TXT")
    records = [value for value in answer.values if is_sts(value)]
    result = MtaStsLookup(answer=answer, records=records)
    if not records:
        return result
    result.record = parse_sts_record(records[0])
    result.fetch = await fetch_policy(client, f"mta-sts.{domain}", port=port, cafile=cafile, timeout=timeout)
    if result.fetch.status == "ok" and result.fetch.body is not None:
        result.policy = parse_policy(result.fetch.body)
    return result


async def lookup_tlsrpt(client: DnsClient, domain: str) -> TlsRptLookup:
    answer = await client.query(f"_smtp._tls.{domain}", "TXT")
    records = [value for value in answer.values if is_tlsrpt(value)]
    result = TlsRptLookup(answer=answer, records=records)
    if len(records) == 1:
        result.record = parse_tlsrpt(records[0])
    return result


async def lookup_tlsa(client: DnsClient, hosts: list[str]) -> list[TlsaCheck]:
    async def one(host: str) -> TlsaCheck:
        name = tlsa_name(host)
        answer = await client.query(name, "TLSA")
        return TlsaCheck(host, name, answer, [parse_tlsa(value) for value in answer.values])

    return list(await asyncio.gather(*(one(host) for host in hosts)))


async def lookup_submission_srv(client: DnsClient, domain: str) -> list[SrvRecord]:
    records = []
    for service in SUBMISSION_SERVICES:
        name = f"{service}.{domain}"
        answer = await client.query(name, "SRV")
        for value in answer.values:
            priority, weight, port, target = value.split()
            records.append(
                SrvRecord(
                    service,
                    name,
                    int(priority),
                    int(weight),
                    int(port),
                    target.rstrip(".").lower() or ".",
                    answer.ttl,
                )
            )
    return sorted(records, key=lambda record: (SUBMISSION_SERVICES.index(record.service), record.priority))
