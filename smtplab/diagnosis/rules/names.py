"""Every name the server shows: target, PTR, forward DNS, greeting and EHLO."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import reply_lines, step_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at


def banner_name(context: HostContext) -> Iterator[Finding]:
    if context.host.is_literal:
        return
    target = context.host.ascii_host.lower()
    ptr = context.ptr_names()
    for item in context.reached():
        shown = item.banner_host
        if shown is None or shown == target:
            continue
        evidence = reply_lines(item.banner) + [f"PTR: {name}" for name in ptr]
        yield at(item, "name.banner_mismatch", evidence, shown=shown, target=target)


def ehlo_name(context: HostContext) -> Iterator[Finding]:
    for item in context.reached():
        ehlo = item.ehlo.get("plain") or item.ehlo.get("tls")
        shown = item.banner_host
        if ehlo is None or shown is None or not ehlo.greeting:
            continue
        greeting = ehlo.greeting.rstrip(".").lower()
        if "." not in greeting and greeting != "localhost":
            continue  # go-smtp starts its EHLO reply with "Hello CLIENT", which names no host
        if greeting != shown:
            yield at(item, "name.ehlo_mismatch", reply_lines(item.banner) + step_lines(item, "ehlo")[:2],
                     ehlo=ehlo.greeting, shown=shown)


def reverse_dns(context: HostContext) -> Iterator[Finding]:
    """PTR present, forward-confirmed (FCrDNS), and naming what the greeting names."""
    for address in context.host.addresses:
        entry = context.ptr_entry(address)
        if entry is None:
            continue
        evidence = [f"PTR {entry['name']}: {entry['status']} {' '.join(entry['values'])}".rstrip()]
        if entry["status"] in ("nxdomain", "no_answer"):
            yield Finding("name.ptr_missing", context.host.host, {}, None, address, tuple(evidence))
            continue
        if entry["status"] != "ok":
            continue  # a timeout or server failure leaves reverse DNS unknown
        ptr_names = [ptr.rstrip(".").lower() for ptr in entry["values"]]
        for ptr_name in ptr_names:
            forward = context.forward_addresses(ptr_name)
            if forward is not None and address not in forward:
                shown = " ".join(forward) or "no address"
                yield Finding("name.fcrdns_failed", context.host.host,
                              {"ptr": ptr_name, "forward": shown}, None, address,
                              (*evidence, f"A/AAAA {ptr_name}: {shown}"))
        banners = {item.banner_host for item in context.reached()
                   if item.record.address == address and item.banner_host}
        for shown in sorted(banners - set(ptr_names)):
            yield Finding("name.ptr_banner_mismatch", context.host.host,
                          {"ptr": " ".join(ptr_names), "shown": shown}, None, address, tuple(evidence))
