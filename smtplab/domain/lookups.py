"""DNS queries for the domain checks: every answer kept with its status and DNSSEC AD flag."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.rdatatype
import dns.resolver
import dns.reversename
import dns.rrset

from smtplab.config import ProbeConfig
from smtplab.net.resolver import make_resolver

# Large enough for DNSSEC answers without falling back to TCP in most cases (DNS flag day 2020).
EDNS_PAYLOAD = 1232


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """One query and its answer.

    ``status`` is ``ok``, ``no_answer`` (NOERROR without records), ``nxdomain``,
    ``timeout``, ``servfail`` or ``error``. ``values`` holds each record in presentation
    form, except TXT, whose strings are joined into one text as SPF and DMARC read them.
    ``authenticated`` is the AD flag of the response: True when the resolver validated the
    answer with DNSSEC, False when it did not, None when no response arrived.
    ``canonical_name`` differs from ``name`` when the answer followed a CNAME.
    """

    name: str
    rdtype: str
    status: str
    values: tuple[str, ...] = ()
    ttl: int | None = None
    authenticated: bool | None = None
    canonical_name: str | None = None
    ms: float = 0.0
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def void(self) -> bool:
        """True for an empty NOERROR answer or NXDOMAIN, what RFC 7208 section 4.6.4 calls void."""
        return self.status in ("no_answer", "nxdomain")


def make_validating_resolver(config: ProbeConfig) -> dns.asyncresolver.Resolver:
    """The configured resolver, asking for DNSSEC records (DO) and the AD flag in answers."""
    resolver = make_resolver(config)
    resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
    resolver.flags = dns.flags.RD | dns.flags.AD
    return resolver


@dataclass
class DnsClient:
    """Queries through one resolver and keeps every answer, each name and type asked once.

    The cache lives as long as this object, which is one domain probe.
    """

    resolver: dns.asyncresolver.Resolver
    answers: dict[tuple[str, str], DnsAnswer] = field(default_factory=dict)
    _pending: dict[tuple[str, str], asyncio.Task[DnsAnswer]] = field(default_factory=dict)

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        key = (name.rstrip(".").lower(), rdtype)
        if key in self.answers:
            return self.answers[key]
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(query(self.resolver, key[0], rdtype))
            self._pending[key] = task
        answer = await task
        self.answers[key] = answer
        return answer

    async def query_ptr(self, address: str) -> DnsAnswer:
        return await self.query(dns.reversename.from_address(address).to_text(), "PTR")

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        a, aaaa = await asyncio.gather(self.query(name, "A"), self.query(name, "AAAA"))
        return a, aaaa


async def query(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> DnsAnswer:
    """Send one query; failures become a status, never an exception."""
    started = time.monotonic()
    fields: dict[str, object] = {}
    try:
        answer = await resolver.resolve(name, rdtype, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN as exc:
        fields = {"status": "nxdomain", "authenticated": _nxdomain_ad(exc)}
    except dns.exception.Timeout:
        fields = {"status": "timeout"}
    except dns.resolver.NoNameservers as exc:
        fields = {"status": "servfail", "detail": str(exc)[:300]}
    except dns.exception.DNSException as exc:
        fields = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        fields = {
            "authenticated": bool(answer.response.flags & dns.flags.AD),
            "canonical_name": answer.canonical_name.to_text().rstrip("."),
        }
        if answer.rrset is None:
            fields["status"] = "no_answer"
        else:
            fields.update(status="ok", values=_values(answer.rrset), ttl=answer.rrset.ttl)
    ms = round((time.monotonic() - started) * 1000, 1)
    return DnsAnswer(name=name, rdtype=rdtype, ms=ms, **fields)  # type: ignore[arg-type]


def _values(rrset: dns.rrset.RRset) -> tuple[str, ...]:
    if rrset.rdtype == dns.rdatatype.TXT:
        return tuple(b"".join(rdata.strings).decode("utf-8", "replace") for rdata in rrset)
    return tuple(rdata.to_text() for rdata in rrset)


def _nxdomain_ad(exc: dns.resolver.NXDOMAIN) -> bool | None:
    responses = list(exc.responses().values())
    if not responses:
        return None
    return all(bool(response.flags & dns.flags.AD) for response in responses)
