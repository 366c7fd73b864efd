"""Can the ports be reached, and why not."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import SUBMISSION_PORTS, HostContext
from smtplab.diagnosis.evidence import error_line
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at
from smtplab.errors import ErrorClass

_ANSWERED = frozenset({"ok", "nxdomain", "no_answer"})
"""Statuses of a lookup that got a final answer from the DNS."""

_CONNECT_CODES = {"refused": "port.refused", "timeout": "port.timeout",
                  "unreachable": "port.unreachable", "reset": "port.reset"}


# The name does not exist or has no address: the DNS worked and gave a final answer.
_UNRESOLVED_ERRORS = frozenset({ErrorClass.DNS_NXDOMAIN, ErrorClass.DNS_NO_ADDRESS})


def dns_unresolved(context: HostContext) -> Iterator[Finding]:
    """Report a host without an address, or one whose lookups failed (timeout, SERVFAIL)."""
    host = context.host
    if host.error is None:
        return
    evidence = tuple(f"{entry['rdtype']} {entry['name']}: {entry['status']}" for entry in host.dns)
    if host.error in _UNRESOLVED_ERRORS:
        yield Finding("dns.unresolved", host.host, {"cause": host.detail}, evidence=evidence)
        return
    failed = sorted({entry["status"] for entry in host.dns if entry["status"] not in _ANSWERED})
    status = ", ".join(failed) or str(host.error)
    yield Finding("host.dns_failed", host.host, {"status": status, "cause": host.detail},
                  evidence=evidence)


def port_unreachable(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        code = _CONNECT_CODES.get(item.error or "")
        if item.reachable is False and code:
            yield at(item, code, error_line(item), detail=item.error_detail)


def host_unreachable(context: HostContext) -> Iterator[Finding]:
    # A port whose proxy failed was never tried, so it is no evidence about the host.
    probed = [item for item in context.views
              if item.record.address is not None and item.error != ErrorClass.PROXY_FAILED]
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


def proxy_failed(context: HostContext) -> Iterator[Finding]:
    """Report the ports that were never tried because the SOCKS proxy failed, once per host."""
    failed = [item for item in context.views if item.error == ErrorClass.PROXY_FAILED]
    if not failed:
        return
    ports = ", ".join(str(port) for port in sorted({item.record.port for item in failed}))
    evidence = tuple(line for item in failed for line in error_line(item))
    proxy = _proxy_of(failed[0]) or str(context.config.get("proxy"))
    params = {"proxy": proxy, "ports": ports, "detail": failed[0].error_detail}
    yield Finding("proxy.failed", context.host.host, params, evidence=evidence)


_PROXY_NOTE = "via proxy "
"""Start of the note that ``SmtpConnection.open`` records before it connects through a proxy."""


def _proxy_of(item: EndpointView) -> str | None:
    """Return the proxy URL noted in the endpoint's transcript (password masked), or None without a note."""
    for event in item.record.events:
        text = event.get("text") or ""
        if event["kind"] == "note" and event["step"] == "connect" and text.startswith(_PROXY_NOTE):
            return str(text.removeprefix(_PROXY_NOTE))
    return None
