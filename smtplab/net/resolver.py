"""DNS lookups with dnspython, each answer recorded as a plain dict."""

from __future__ import annotations

import time
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
import dns.reversename

from smtplab.config import ProbeConfig, parse_nameserver
from smtplab.errors import ErrorClass


def make_resolver(config: ProbeConfig) -> dns.asyncresolver.Resolver:
    """Make a resolver for the configured server, or the system's when none is set."""
    if config.nameserver is None:
        resolver = dns.asyncresolver.Resolver()
    else:
        address, port = parse_nameserver(config.nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.lifetime = config.dns_timeout
    resolver.timeout = min(config.dns_timeout, 2.0)
    return resolver


async def lookup(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> dict[str, Any]:
    """Query one name and type; the dict has status, values, ttl and elapsed ms."""
    started = time.monotonic()
    entry: dict[str, Any] = {"name": name, "rdtype": rdtype, "values": [], "ttl": None}
    try:
        answer = await resolver.resolve(name, rdtype, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        entry["status"] = "nxdomain"
    except dns.exception.Timeout:
        entry["status"] = "timeout"
    except dns.resolver.NoNameservers as exc:
        entry["status"] = "servfail"
        entry["detail"] = str(exc)[:300]
    except dns.exception.DNSException as exc:
        entry["status"] = "error"
        entry["detail"] = f"{type(exc).__name__}: {exc}"[:300]
    else:
        if answer.rrset is None:
            entry["status"] = "no_answer"
        else:
            entry["status"] = "ok"
            entry["values"] = [rdata.to_text() for rdata in answer.rrset]
            entry["ttl"] = answer.rrset.ttl
    entry["ms"] = round((time.monotonic() - started) * 1000, 1)
    return entry


async def lookup_ptr(resolver: dns.asyncresolver.Resolver, address: str) -> dict[str, Any]:
    try:
        name = dns.reversename.from_address(address).to_text()
    except (dns.exception.SyntaxError, ValueError) as exc:
        # A scoped IPv6 address (fe80::1%eth0) has no reverse name.
        return {"name": address, "rdtype": "PTR", "values": [], "ttl": None, "status": "error",
                "detail": f"no reverse name: {exc}", "ms": 0.0}
    return await lookup(resolver, name, "PTR")


def address_error(entries: list[dict[str, Any]]) -> tuple[ErrorClass, str] | None:
    """Why A and AAAA gave no address, or None when one did."""
    if any(entry["status"] == "ok" for entry in entries):
        return None
    statuses = {entry["status"] for entry in entries}
    detail = ", ".join(f"{entry['rdtype']}: {entry['status']}" for entry in entries)
    if statuses == {"nxdomain"}:
        return ErrorClass.DNS_NXDOMAIN, detail
    if "timeout" in statuses:
        return ErrorClass.DNS_TIMEOUT, detail
    if statuses <= {"no_answer", "nxdomain"}:
        return ErrorClass.DNS_NO_ADDRESS, detail
    return ErrorClass.DNS_FAILURE, detail
