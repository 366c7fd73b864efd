"""The MX set of a domain (RFC 5321 section 5.1, RFC 7505) and reverse DNS of its addresses."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field

from smtplab.domain.lookups import DnsAnswer, DnsClient


@dataclass
class MxHost:
    """One mail host: ``preference`` is None for the implicit MX of a domain without MX records.

    ``alias_of`` is the canonical name when the host's address lookup followed a CNAME.
    """

    host: str
    preference: int | None
    addresses: list[str] = field(default_factory=list)
    address_status: str = ""
    alias_of: str | None = None


@dataclass
class MxSet:
    domain: str
    answer: DnsAnswer
    hosts: list[MxHost] = field(default_factory=list)
    null_mx: bool = False
    """True when the MX set contains the null MX ``0 .`` (RFC 7505)."""
    fallback: bool = False
    """True when there is no MX record and the domain's own A/AAAA records act as its MX."""
    ip_literals: list[str] = field(default_factory=list)
    address_answers: tuple[DnsAnswer, ...] = ()

    @property
    def null_only(self) -> bool:
        return self.null_mx and not self.hosts and not self.ip_literals


@dataclass
class ReverseCheck:
    """Forward-confirmed reverse DNS of one MX address; ``confirmed`` None when there is no PTR."""

    mx: str
    address: str
    ptr: DnsAnswer
    names: list[str] = field(default_factory=list)
    forward: dict[str, list[str]] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool | None:
        if not self.names:
            return None
        return any(_same_address(self.address, value) for values in self.forward.values() for value in values)


def parse_mx(value: str) -> tuple[int, str]:
    preference, _, host = value.partition(" ")
    return int(preference), host.strip().rstrip(".").lower()


async def resolve_mx(client: DnsClient, domain: str) -> MxSet:
    """Look up MX records, the addresses of each host, or the domain's own addresses without MX."""
    answer = await client.query(domain, "MX")
    result = MxSet(domain=domain, answer=answer)
    entries = sorted(parse_mx(value) for value in answer.values)
    for preference, host in entries:
        if not host:
            result.null_mx = True
        elif _is_ip(host):
            result.ip_literals.append(host)
        else:
            result.hosts.append(MxHost(host, preference))
    if answer.status in ("no_answer", "nxdomain") or (answer.ok and not entries):
        result.fallback = answer.status == "no_answer"
        if result.fallback:
            result.hosts.append(MxHost(domain, None))
    await asyncio.gather(*(_fill_addresses(client, host) for host in result.hosts))
    if result.fallback:
        result.address_answers = await client.addresses(domain)
        if not result.hosts[0].addresses:
            result.hosts.clear()
    return result


async def _fill_addresses(client: DnsClient, host: MxHost) -> None:
    a, aaaa = await client.addresses(host.host)
    host.addresses = [*a.values, *aaaa.values]
    host.address_status = f"A: {a.status}, AAAA: {aaaa.status}"
    for answer in (a, aaaa):
        if answer.canonical_name and answer.canonical_name.lower() != host.host:
            host.alias_of = answer.canonical_name.lower()


async def check_reverse(client: DnsClient, mx: str, address: str) -> ReverseCheck:
    ptr = await client.query_ptr(address)
    check = ReverseCheck(mx=mx, address=address, ptr=ptr)
    check.names = [value.rstrip(".").lower() for value in ptr.values]
    for name in check.names:
        a, aaaa = await client.addresses(name)
        check.forward[name] = [*a.values, *aaaa.values]
    return check


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _same_address(left: str, right: str) -> bool:
    try:
        return ipaddress.ip_address(left) == ipaddress.ip_address(right)
    except ValueError:
        return False
