"""Can the ports be reached, and why not."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import SUBMISSION_PORTS, HostContext
from smtplab.diagnosis.evidence import error_line
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at

_CONNECT_CODES = {"refused": "port.refused", "timeout": "port.timeout",
                  "unreachable": "port.unreachable", "reset": "port.reset"}


def dns_unresolved(context: HostContext) -> Iterator[Finding]:
    host = context.host
    if host.error is None:
        return
    evidence = tuple(f"{entry['rdtype']} {entry['name']}: {entry['status']}" for entry in host.dns)
    yield Finding("dns.unresolved", host.host, {"cause": host.detail}, evidence=evidence)


def port_unreachable(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        code = _CONNECT_CODES.get(item.error or "")
        if item.reachable is False and code:
            yield at(item, code, error_line(item), detail=item.error_detail)


def host_unreachable(context: HostContext) -> Iterator[Finding]:
    probed = [item for item in context.views if item.record.address is not None]
    if not probed or any(item.reachable for item in probed):
        return
    errors = ", ".join(sorted({str(item.error) for item in probed}))
    evidence = tuple(line for item in probed for line in error_line(item))
    yield Finding("host.unreachable", context.host.host, {"errors": errors}, evidence=evidence)


def port25_filtered(context: HostContext) -> Iterator[Finding]:
    """Flag port 25 timing out while a submission port replies: usually the client's network."""
    blocked = [item for item in context.views if item.record.port == 25 and item.error == "timeout"]
    working = [item for item in context.views
               if item.record.port in SUBMISSION_PORTS and item.banner is not None]
    if blocked and working:
        yield at(working[0], "port.submission_only", error_line(blocked[0]))
