"""Print checkdmarc's and smtplab's SPF and DMARC verdicts for test domains as JSON.

Run it as root from the ``tests`` directory, inside a new network namespace::

    unshare --net -- python -m crosscheck.checkdmarc_run good.test broken.test

checkdmarc can open connections of its own (DNS through the system resolver, HTTPS
for MTA-STS and BIMI), so the script first brings loopback up and checks that it is
the only interface and that every route goes through it. When that fails, it exits
with status 3 before checkdmarc is imported. It then serves the test zones with
unbound on 127.0.0.1 port 53, which refuses every name outside them. Port 53 is
where checkdmarc sends its queries when it is given plain nameserver addresses, as
users call it (it takes another port only through ``dns.nameserver`` objects).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import dns.resolver

from smtplab import ProbeConfig
from smtplab.domain import DomainPosture, probe_domain

from dnsserver import ZONE_DIR, start_unbound, stop_unbound, zone_texts

NOT_ISOLATED = 3
"""Exit status when the network namespace reaches more than loopback."""
NAMESERVER = "127.0.0.1"
DNS_PORT = 53
DNS_TIMEOUT = 2.0
"""Seconds per DNS query, for both tools. unbound serves the zones from memory, so this is generous."""
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
PLACEHOLDER_VALUE = "0" * 60 + "2525"
"""Dummy for every zone placeholder: 64 hex digits, a valid TLSA digest, that also parse as port 2525."""


class NotIsolatedError(RuntimeError):
    """Raised when the network namespace reaches more than loopback, or when the check itself fails."""


def check_isolation() -> None:
    """Check that loopback is the only interface, bring it up, and check that every route uses it."""
    interfaces = sorted(name for _, name in socket.if_nameindex())
    if interfaces != ["lo"]:
        raise NotIsolatedError(f"network interfaces besides lo: {', '.join(interfaces)}")
    _run_ip("link", "set", "lo", "up")
    for family in ("-4", "-6"):
        routes = _run_ip(family, "-oneline", "route", "show", "table", "all").splitlines()
        foreign = [route for route in routes if route.strip() and " dev lo " not in f"{route} "]
        if foreign:
            raise NotIsolatedError(f"routes that do not use lo: {'; '.join(foreign)}")


def _run_ip(*arguments: str) -> str:
    try:
        done = subprocess.run(["ip", *arguments], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise NotIsolatedError(f"ip {' '.join(arguments)} failed: {error}") from error
    return done.stdout


def filled_zone_texts() -> list[str]:
    """Return every test zone with each ``{{NAME}}`` placeholder set to ``PLACEHOLDER_VALUE``.

    Other zone files add placeholders of their own, so the names are read from the files.
    """
    raw = [path.read_text(encoding="utf-8") for path in sorted(ZONE_DIR.glob("*.zone"))]
    values = {name: PLACEHOLDER_VALUE for text in raw for name in PLACEHOLDER.findall(text)}
    return zone_texts(values)


def checkdmarc_options() -> dict[str, Any]:
    """Return the keyword arguments that point every checkdmarc lookup at the test server.

    ``resolver`` serves most lookups. A few (the TXT lookup of an SPF ``exp=`` target)
    take only ``nameservers``, so both are given.
    """
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [NAMESERVER]
    resolver.port = DNS_PORT
    resolver.timeout = DNS_TIMEOUT
    resolver.lifetime = 2 * DNS_TIMEOUT
    return {"nameservers": [NAMESERVER], "resolver": resolver, "timeout": DNS_TIMEOUT}


def checkdmarc_spf(domain: str, options: dict[str, Any]) -> dict[str, Any]:
    """Return what ``checkdmarc.spf.check_spf`` reports, and the type of the first fatal error."""
    from checkdmarc import spf

    result = spf.check_spf(domain, **options)
    parsed = result.get("parsed") or {}
    summary = {
        "record": result.get("record"),
        "valid": result["valid"],
        "dns_lookups": result.get("dns_lookups"),
        "void_dns_lookups": result.get("void_dns_lookups"),
        "all": parsed.get("all"),
        "error": str(result["error"]) if "error" in result else None,
        "warnings": [str(item) for item in result.get("warnings", [])],
    }
    return summary | _spf_first_error(domain, options)


def _spf_first_error(domain: str, options: dict[str, Any]) -> dict[str, Any]:
    """Repeat the check step by step, because ``check_spf`` reports its errors only as text."""
    from checkdmarc import spf

    try:
        query = spf.query_spf_record(domain, **options)
    except spf.SPFError as error:
        return _error_fields("record", error)
    try:
        spf.parse_spf_record(query["record"], domain, **options)
    except spf.SPFError as error:
        return _error_fields("evaluation", error)
    return _error_fields(None, None)


def checkdmarc_dmarc(domain: str, options: dict[str, Any]) -> dict[str, Any]:
    """Return what ``checkdmarc.dmarc.check_dmarc`` reports, the first fatal error and the rua consent."""
    from checkdmarc import dmarc

    result = dmarc.check_dmarc(domain, **options)
    tags = {name: tag["value"] for name, tag in (result.get("tags") or {}).items()}
    summary = {
        "record": result.get("record"),
        "location": result.get("location"),
        "valid": result["valid"],
        "tags": tags,
        "error": str(result["error"]) if "error" in result else None,
        "warnings": [str(item) for item in result.get("warnings", [])],
        "report_destinations": _report_destinations(result.get("location"), tags, options),
    }
    return summary | _dmarc_first_error(domain, options)


def _dmarc_first_error(domain: str, options: dict[str, Any]) -> dict[str, Any]:
    from checkdmarc import dmarc

    try:
        query = dmarc.query_dmarc_record(domain, **options)
    except dmarc.DMARCError as error:
        return _error_fields("record", error)
    try:
        dmarc.parse_dmarc_record(query["record"], query["location"], **options)
    except dmarc.DMARCError as error:
        return _error_fields("parse", error)
    return _error_fields(None, None)


def _report_destinations(
    location: str | None, tags: dict[str, Any], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """Check each mailto report address with checkdmarc's consent check (RFC 7489 section 7.1).

    ``check_dmarc`` reports a missing consent record only as warning text, so the check is
    called directly. ``authorized`` is None for an address in the record's own organization.
    """
    from checkdmarc import dmarc
    from checkdmarc.utils import get_base_domain

    rows: list[dict[str, Any]] = []
    if location is None:
        return rows
    for tag in ("rua", "ruf"):
        for uri in tags.get(tag) or []:
            if uri["scheme"] != "mailto":
                continue
            destination = uri["address"].rsplit("@", 1)[-1].rstrip(".").lower()
            external = get_base_domain(location) != get_base_domain(destination)
            authorized = None
            if external:
                try:
                    dmarc.verify_dmarc_report_destination(location, destination, **options)
                    authorized = True
                except dmarc.UnverifiedDMARCURIDestination:
                    authorized = False
            rows.append({"tag": tag, "destination": destination, "authorized": authorized})
    return rows


def _error_fields(stage: str | None, error: Exception | None) -> dict[str, Any]:
    return {
        "error_stage": stage,
        "error_type": type(error).__name__ if error is not None else None,
        "error_data": getattr(error, "data", None) or {},
    }


def smtplab_verdicts(domain: str) -> dict[str, Any]:
    """Return the SPF and DMARC facts and finding codes of ``probe_domain`` for the domain."""
    config = ProbeConfig(
        nameserver=NAMESERVER,
        dns_timeout=DNS_TIMEOUT,
        connect_timeout=DNS_TIMEOUT,
        reply_timeout=DNS_TIMEOUT,
        probe_timeout=10.0,
    )
    posture = probe_domain(domain, config=config)
    codes = {item.code for item in posture.finding_list}
    return {
        "spf": _smtplab_spf(posture),
        "dmarc": _smtplab_dmarc(posture),
        "findings": sorted(code for code in codes if code.startswith(("domain.spf_", "domain.dmarc_"))),
    }


def _smtplab_spf(posture: DomainPosture) -> dict[str, Any]:
    spf = posture.spf_evaluation
    return {
        "records": spf.root.records if spf.root else [],
        "syntax_errors": spf.syntax_errors,
        "lookups": spf.lookups,
        "void_lookups": spf.void_lookups,
        "void_targets": [step.target for step in spf.steps if step.void],
        "mx_address_lookups": spf.mx_address_lookups,
        "effective_all": spf.effective_all,
        "permerror": spf.permerror,
        "missing_includes": spf.missing_includes,
        "loops": spf.loops,
        "too_many_mx": spf.too_many_mx,
    }


def _smtplab_dmarc(posture: DomainPosture) -> dict[str, Any]:
    lookup = posture.dmarc_lookup
    record = lookup.parsed
    facts: dict[str, Any] = {
        "records": lookup.records,
        "source": lookup.source,
        "org_domain": lookup.org_domain,
        "inherited": lookup.inherited,
        "report_destinations": [
            {"uri": check.uri, "destination": check.destination, "authorized": check.authorized}
            for check in lookup.rua_checks
        ],
    }
    if record is None:
        return facts
    return facts | {
        "policy": record.policy,
        "subdomain_policy": record.subdomain_policy,
        "pct": record.pct,
        "rua": record.rua,
        "rua_errors": record.rua_errors,
        "errors": record.errors,
        "unknown_tags": record.unknown_tags,
        "valid": record.valid,
    }


def check_domains(domains: Sequence[str]) -> dict[str, Any]:
    options = checkdmarc_options()
    return {
        domain: {
            "checkdmarc": {
                "spf": checkdmarc_spf(domain, options),
                "dmarc": checkdmarc_dmarc(domain, options),
            },
            "smtplab": smtplab_verdicts(domain),
        }
        for domain in domains
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("domains", nargs="+", help="test domains to check, such as good.test")
    args = parser.parse_args(argv)
    try:
        check_isolation()
    except NotIsolatedError as error:
        sys.stderr.write(
            f"checkdmarc not started, because the network is not isolated: {error}. "
            "Run this inside 'unshare --net --'.\n"
        )
        return NOT_ISOLATED

    server = start_unbound(filled_zone_texts(), port=DNS_PORT)
    try:
        report = {"checkdmarc_version": version("checkdmarc"), "domains": check_domains(args.domains)}
    finally:
        stop_unbound(server)
    json.dump(report, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
