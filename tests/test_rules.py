"""Every endpoint finding code in the catalog: a case that triggers it and a near miss where it must not fire.

Cases are built without sockets. S:/C: dialogues go through ``smtplab.from_transcript``.
What a transcript cannot show (connect errors, timings, retries, DNS answers, several
endpoints of one host) is written as events in the schema of ``smtplab.transcript``
and assembled into a ``RunRecord``.

Addresses are from the documentation ranges (RFC 5737, RFC 3849) and names end in
reserved domains (RFC 2606).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import dns.reversename
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import smtplab
from smtplab import ProbeConfig, ProbeResult
from smtplab.diagnosis.catalog import ENDPOINT_KINDS
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.severity import Severity
from smtplab.record import EndpointRecord, HostRecord, RunRecord, utc_now_iso

HOST = "mail.example.com"
ADDRESS = "192.0.2.25"
ADDRESS_V6 = "2001:db8::25"
CLIENT = "client.smtplab.test"
EHLO_COMMAND = f"EHLO {CLIENT}"
BANNER = f"{HOST} ESMTP Postfix (Debian/GNU)"
EXIM_BANNER = f"{HOST} ESMTP Exim 4.96 Fri, 04 Dec 2026 21:22:35 +0000"
TLS13 = "TLS TLSv1.3 TLS_AES_256_GCM_SHA384"
MODERN = ("PIPELINING", "SIZE 52428800", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8")
"""EHLO keywords whose absence the extension rules report, with a SIZE above their limit."""

RELAY_DENIED = "554 5.7.1 <smtplab@example.net>: Relay access denied"
RELAY_DENIED_454 = "454 4.7.1 <smtplab@example.net>: Relay access denied"
RELAY_ACCEPTED = "250 2.1.5 Ok"
GREYLISTED = "451 4.7.1 <smtplab@example.net>: Recipient address rejected: Greylisted, try again later"
AUTH_OK = "235 2.7.0 Authentication successful"
AUTH_FAILED = "535 5.7.8 Error: authentication failed: authentication failure"

EXPECTED_SEVERITY: dict[Severity, set[str]] = {
    Severity.CRITICAL: {
        "dns.unresolved", "host.dns_failed", "host.unreachable", "proxy.failed", "tls.starttls_refused",
        "tls.starttls_failed", "tls.implicit_failed",
        "tls.implicit_plaintext", "tls.starttls_extra_data", "cert.expired", "auth.none",
        "auth.submission_missing", "auth.accepted_early", "auth.rejected", "relay.open",
        "relay.auth_denied",
    },
    Severity.WARNING: {
        "port.refused", "port.timeout", "port.unreachable", "port.reset", "greeting.rejected",
        "greeting.unavailable", "greeting.ehlo_rejected", "probe.timeout", "probe.protocol_error",
        "tls.starttls_missing", "tls.plain_port_tls", "tls.obsolete_version", "tls.weak_cipher",
        "tls.obsolete_accepted", "tls.weak_cipher_accepted",
        "cert.expiring", "cert.self_signed", "cert.untrusted", "cert.name_mismatch",
        "name.banner_mismatch", "name.ptr_missing", "name.fcrdns_failed", "auth.plaintext",
        "auth.needs_encryption", "auth.unsupported", "ext.vrfy", "ext.expn", "ports.differ",
        "software.unexpected", "ports.software_differ", "addresses.differ",
    },
    Severity.INFO: {
        "port.submission_only", "greeting.slow", "name.ehlo_mismatch", "name.ptr_banner_mismatch",
        "auth.unknown", "auth.deferred", "auth.skipped_no_tls", "auth.skipped_no_mechanism",
        "relay.deferred", "relay.sender_rejected", "ext.size_small", "ext.no_pipelining",
        "ext.no_8bitmime", "ext.no_smtputf8", "ext.no_enhancedstatuscodes",
    },
    Severity.OK: {"auth.after_starttls", "auth.accepted", "relay.denied", "relay.auth_accepted"},
}
"""The severity each code must have: a change in the catalog must be made here too, on purpose."""


# Dialogue text


def reply_lines(code: int, *texts: str) -> list[str]:
    """The raw lines of one reply: ``250-first`` up to ``250 last``."""
    last = len(texts) - 1
    return [f"{code}{'-' if index < last else ' '}{text}" for index, text in enumerate(texts)]


def server(code: int, *texts: str) -> str:
    return "\n".join(f"S: {line}" for line in reply_lines(code, *texts))


def ehlo(*keywords: str, name: str = HOST) -> str:
    return f"C: {EHLO_COMMAND}\n" + server(250, name, *keywords)


def starttls(marker: str = TLS13, cert: str | None = None) -> str:
    lines = ["C: STARTTLS", "S: 220 2.0.0 Ready to start TLS", marker]
    if cert is not None:
        lines.append(cert.strip())
    return "\n".join(lines)


def relay_test(rcpt: str = RELAY_DENIED, mail: str = "250 2.1.0 Ok") -> str:
    """MAIL FROM and RCPT TO a foreign domain, as the probe's relay test sends them."""
    lines = ["C: MAIL FROM:<smtplab@example.com>", f"S: {mail}"]
    if mail.startswith("2"):
        lines += ["C: RCPT TO:<smtplab@example.net>", f"S: {rcpt}"]
    return "\n".join([*lines, "C: RSET", "S: 250 2.0.0 Ok"])


def auth_plain(outcome: str = AUTH_OK) -> str:
    payload = base64.b64encode(b"\0user@example.com\0fake-password").decode()
    return f"C: AUTH PLAIN {payload}\nS: {outcome}"


def auth_login(outcome: str = AUTH_OK, *, password_sent: bool = True) -> str:
    """AUTH LOGIN; with ``password_sent`` False the server replies right after the user name."""
    lines = ["C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: " + base64.b64encode(b"user@example.com").decode()]
    if password_sent:
        lines += ["S: 334 UGFzc3dvcmQ6", "C: " + base64.b64encode(b"fake-password").decode()]
    return "\n".join([*lines, f"S: {outcome}"])


def dialogue(*parts: str, bye: str = "221 2.0.0 Bye") -> str:
    """The lines of ``parts``, then QUIT and the server's ``bye`` reply."""
    return "\n".join([*parts, "C: QUIT", f"S: {bye}"]) + "\n"


def submission(
    *after_tls: str,
    plain: Iterable[str] = (*MODERN, "STARTTLS"),
    inside: Iterable[str] = (*MODERN, "AUTH PLAIN LOGIN"),
    banner: str = BANNER,
    marker: str = TLS13,
    cert: str | None = None,
) -> str:
    """A STARTTLS session: greeting, EHLO, STARTTLS, handshake, EHLO again, then ``after_tls``."""
    return dialogue(server(220, banner), ehlo(*plain), starttls(marker, cert), ehlo(*inside), *after_tls)


def cleartext(*after_ehlo: str, keywords: Iterable[str] = MODERN, banner: str = BANNER) -> str:
    """A session that never starts TLS: greeting, EHLO, then ``after_ehlo``."""
    return dialogue(server(220, banner), ehlo(*keywords), *after_ehlo)


def implicit_tls(*after_ehlo: str, keywords: Iterable[str] = (*MODERN, "AUTH PLAIN LOGIN"),
                 marker: str = TLS13, cert: str | None = None) -> str:
    """An implicit-TLS session: the handshake comes before the greeting."""
    head = [marker] if cert is None else [marker, cert.strip()]
    return dialogue(*head, server(220, BANNER), ehlo(*keywords), *after_ehlo)


def exim_session() -> str:
    """Exim 4.96's default greeting, EHLO reply (HELP last) and QUIT reply."""
    keywords = ("SIZE 52428800", "8BITMIME", "PIPELINING", "STARTTLS", "HELP")
    return dialogue(server(220, EXIM_BANNER), ehlo(*keywords, name=f"{HOST} Hello {CLIENT} [198.51.100.7]"),
                    bye=f"221 {HOST} closing connection")


# Certificates


@cache
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def issued(*names: str, days_left: float = 365) -> str:
    """A leaf certificate from the test CA, valid until ``days_left`` days from now."""
    now = datetime.now(UTC)
    leaf = certificate_authority().issue_cert(
        *names, not_before=now - timedelta(days=400), not_after=now + timedelta(days=days_left)
    )
    return leaf.cert_chain_pems[0].bytes().decode()


def self_signed(name: str = HOST) -> str:
    """A self-signed certificate naming ``name``, like a distribution's snakeoil certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


# Events for what a dialogue cannot show


class Events:
    """One endpoint's events in the order and form a live probe records them."""

    def __init__(self, port: int = 25, mode: str = "starttls", address: str = ADDRESS) -> None:
        self.port, self.mode, self.address = port, mode, address
        self.events: list[dict[str, Any]] = []
        self.phase = "plain"
        self.attempt = 1
        self.t = 0.0

    def add(self, kind: str, step: str, *, at: float | None = None, **fields: Any) -> Events:
        """Append an event ``at`` milliseconds after the start, or 1 ms after the previous one."""
        self.t = self.t + 1.0 if at is None else at
        event = {"t": self.t, "kind": kind, "step": step, "phase": self.phase, "attempt": self.attempt}
        self.events.append({**event, **fields})
        return self

    def connect(self, *, at: float | None = None) -> Events:
        self.add("connect", "connect", address=self.address, port=self.port)
        return self.add("connected", "connect", at=at)

    def connect_failed(self, error: str, detail: str) -> Events:
        self.add("connect", "connect", address=self.address, port=self.port)
        return self.error("connect", error, detail)

    def receive(self, step: str, *lines: str, at: float | None = None) -> Events:
        for line in lines:
            self.add("recv", step, at=at, text=line)
        return self

    def command(self, step: str, text: str, *lines: str) -> Events:
        self.add("send", step, text=text)
        return self.receive(step, *lines)

    def greeting(self, text: str = BANNER, *, at: float | None = None) -> Events:
        return self.receive("banner", f"220 {text}", at=at)

    def ehlo(self, *keywords: str) -> Events:
        return self.command("ehlo", EHLO_COMMAND, *reply_lines(250, HOST, *keywords))

    def starttls(self) -> Events:
        return self.command("starttls", "STARTTLS", "220 2.0.0 Ready to start TLS")

    def handshake(self, **facts: Any) -> Events:
        """A finished handshake; later events are inside TLS."""
        self.phase = "tls"
        tls_facts = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "bits": 256, **facts}
        return self.add("tls", "tls", ok=True, **tls_facts)

    def handshake_failed(self, detail: str) -> Events:
        self.add("tls", "tls", ok=False, error="tls_failed", detail=detail)
        return self.error("tls", "tls_failed", detail)

    def verify_failed(self, message: str) -> Events:
        return self.add("tls", "tls", ok=False, verified=False, verify_error=message)

    def error(self, step: str, error: str, detail: str) -> Events:
        return self.add("error", step, error=error, detail=detail)

    def note(self, step: str, text: str) -> Events:
        return self.add("note", step, text=text)

    def retry(self, reason: str) -> Events:
        """Start the next attempt on a new connection, as the probe does after some failures."""
        self.attempt += 1
        self.phase = "plain"
        return self.add("attempt", "connect", reason=reason)

    def record(self) -> EndpointRecord:
        self.add("end", "end")
        return EndpointRecord(HOST, self.address, self.port, self.mode, utc_now_iso(), self.events)


# Runs


def imported(text: str, *, port: int = 587, mode: str = "starttls", address: str = ADDRESS,
             host: str = HOST) -> EndpointRecord:
    """One endpoint read from a dialogue, at ``address`` (a transcript names no address)."""
    result = smtplab.from_transcript(text, host=host, port=port, mode=mode, format="dialogue")
    record = result.run.endpoints[0]
    for event in record.events:
        if event["kind"] == "connect":
            event["address"] = address
    return replace(record, address=address)


def run_of(*endpoints: EndpointRecord, host: str = HOST, lookups: Iterable[dict[str, Any]] = (),
           error: tuple[str, str] | None = None, config: Mapping[str, Any] | None = None) -> ProbeResult:
    """A run over one host with these endpoints, its DNS ``lookups``, and settings changed by ``config``."""
    target = smtplab.parse_target(host)
    addresses = list(dict.fromkeys(item.address for item in endpoints if item.address))
    failure, detail = error or (None, None)
    host_record = HostRecord(target.host, target.ascii_host, target.is_literal, addresses, list(lookups),
                             failure, detail)
    settings = {**ProbeConfig(resolve=False).to_dict(), **(config or {})}
    now = utc_now_iso()
    run = RunRecord(now, now, "tests", settings, None, [host_record], list(endpoints))
    return ProbeResult(run)


def one(text: str, **where: Any) -> ProbeResult:
    """A run with one endpoint read from a dialogue; ``where`` as for ``imported``."""
    host = where.pop("host", HOST)
    return run_of(imported(text, host=host, **where), host=host)


def answer(name: str, rdtype: str, *values: str, status: str = "ok") -> dict[str, Any]:
    """A DNS lookup as ``smtplab.net.resolver.lookup`` records it."""
    return {"name": name, "rdtype": rdtype, "values": list(values),
            "ttl": 300 if status == "ok" else None, "status": status, "ms": 1.0}


def pointer(address: str, *names: str, status: str = "ok") -> dict[str, Any]:
    return answer(dns.reversename.from_address(address).to_text(), "PTR", *names, status=status)


def resolved(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """DNS answers of HOST resolving to ADDRESS, then ``extra`` lookups."""
    return [answer(HOST, "A", ADDRESS), answer(HOST, "AAAA", status="no_answer"), *extra]


def forward(name: str, *addresses: str, status: str = "ok") -> list[dict[str, Any]]:
    """The A and AAAA lookups that confirm a PTR name; a family without addresses has no answer."""
    by_type = {"A": [item for item in addresses if ":" not in item],
               "AAAA": [item for item in addresses if ":" in item]}
    lookups = []
    for rdtype, values in by_type.items():
        if status != "ok":
            lookups.append(answer(name, rdtype, status=status))
        elif values:
            lookups.append(answer(name, rdtype, *values))
        else:
            lookups.append(answer(name, rdtype, status="no_answer"))
    return lookups


def with_dns(text: str, *answers: dict[str, Any]) -> ProbeResult:
    return run_of(imported(text, port=25), lookups=resolved(*answers))


# The table


@dataclass(frozen=True)
class Case:
    """A run that must (``fires``) or must not report ``code``.

    ``proof`` lists lines the finding's evidence must contain, ``params`` values its
    parameters must have. ``instead`` lists codes a near miss must report in its place,
    which shows that the near miss was analysed and did not just produce nothing.
    """

    code: str
    label: str
    build: Callable[[], ProbeResult]
    fires: bool
    proof: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    instead: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.code}:{self.label}"


def fires(code: str, label: str, build: Callable[[], ProbeResult], /, *proof: str, **params: Any) -> Case:
    return Case(code, label, build, True, proof, params)


def misses(code: str, label: str, build: Callable[[], ProbeResult], /, *instead: str) -> Case:
    return Case(code, label, build, False, instead=instead)


def known_bug(case: Case, reason: str) -> Any:
    """A case the rules get wrong today; the xfail is strict, so fixing the rule fails the test."""
    return pytest.param(case, id=case.id, marks=pytest.mark.xfail(strict=True, reason=reason))


# Reachability

REFUSED = "[Errno 111] Connect call failed ('192.0.2.25', 25)"
CONNECT_TIMEOUT = "TimeoutError: connect timed out after 10 s"
NO_REPLY = "no reply within 30 s"


def connection_refused(port: int = 25) -> EndpointRecord:
    return Events(port).connect_failed("refused", REFUSED).record()


def filtered(port: int = 25) -> EndpointRecord:
    return Events(port).connect_failed("timeout", CONNECT_TIMEOUT).record()


PROXY = "socks5://scanner:********@198.51.100.9:1080"
PROXY_DOWN = f"ProxyFailure: proxy {PROXY}: [Errno 111] Could not connect to proxy 198.51.100.9:1080"


def via_proxy(port: int, error: str, detail: str) -> EndpointRecord:
    """A connect through PROXY that failed, recorded as a live probe records it."""
    events = Events(port).add("connect", "connect", address=ADDRESS, port=port)
    return events.note("connect", f"via proxy {PROXY}").error("connect", error, detail).record()


def greeted(port: int = 587, banner: str = BANNER) -> EndpointRecord:
    return Events(port).connect().greeting(banner).ehlo(*MODERN, "STARTTLS").record()


def dns_failed(a_status: str, aaaa_status: str, error: str) -> Callable[[], ProbeResult]:
    """A run whose A and AAAA lookups of HOST ended with these statuses, so nothing was probed."""
    detail = f"A: {a_status}, AAAA: {aaaa_status}"
    lookups = [answer(HOST, "A", status=a_status), answer(HOST, "AAAA", status=aaaa_status)]
    return lambda: run_of(lookups=lookups, error=(error, detail))


REACHABILITY = [
    fires("dns.unresolved", "nxdomain",
          lambda: run_of(lookups=[answer(HOST, "A", status="nxdomain"),
                                  answer(HOST, "AAAA", status="nxdomain")],
                         error=("dns_nxdomain", "A: nxdomain, AAAA: nxdomain")),
          f"A {HOST}: nxdomain", f"AAAA {HOST}: nxdomain", cause="A: nxdomain, AAAA: nxdomain"),
    misses("dns.unresolved", "only AAAA missing",
           lambda: run_of(greeted(25), lookups=resolved())),
    misses("dns.unresolved", "lookups timed out", dns_failed("timeout", "timeout", "dns_timeout"),
           "host.dns_failed"),
    fires("host.dns_failed", "lookups timed out", dns_failed("timeout", "timeout", "dns_timeout"),
          f"A {HOST}: timeout", f"AAAA {HOST}: timeout", status="timeout",
          cause="A: timeout, AAAA: timeout"),
    fires("host.dns_failed", "SERVFAIL and timeout", dns_failed("servfail", "timeout", "dns_timeout"),
          f"A {HOST}: servfail", status="servfail, timeout"),
    fires("host.dns_failed", "SERVFAIL", dns_failed("servfail", "no_answer", "dns_failure"),
          f"A {HOST}: servfail", status="servfail"),
    misses("host.dns_failed", "nxdomain", dns_failed("nxdomain", "nxdomain", "dns_nxdomain"),
           "dns.unresolved"),
    misses("host.dns_failed", "no address record", dns_failed("no_answer", "no_answer", "dns_no_address"),
           "dns.unresolved"),
    fires("port.refused", "connection refused",
          lambda: run_of(connection_refused()), f"error refused at connect: {REFUSED}"),
    misses("port.refused", "closed after connect",
           lambda: run_of(Events().connect().error("banner", "closed", "0 bytes read").record())),
    fires("port.timeout", "connect timed out",
          lambda: run_of(filtered()), f"error timeout at connect: {CONNECT_TIMEOUT}"),
    misses("port.timeout", "greeting timed out",
           lambda: run_of(Events().connect().error("banner", "reply_timeout", NO_REPLY).record()),
           "probe.timeout"),
    fires("port.unreachable", "no route",
          lambda: run_of(Events().connect_failed("unreachable", "[Errno 113] No route to host").record()),
          "error unreachable at connect: [Errno 113] No route to host",
          detail="[Errno 113] No route to host"),
    misses("port.unreachable", "refused is an answer",
           lambda: run_of(connection_refused()), "port.refused"),
    fires("port.reset", "reset while connecting",
          lambda: run_of(Events().connect_failed("reset", "[Errno 104] Connection reset by peer").record()),
          "error reset at connect: [Errno 104] Connection reset by peer"),
    misses("port.reset", "reset after greeting",
           lambda: run_of(Events().connect().greeting()
                          .error("ehlo", "reset", "[Errno 104] Connection reset by peer").record())),
    fires("port.submission_only", "25 filtered, 587 answers",
          lambda: run_of(filtered(25), greeted(587)), f"error timeout at connect: {CONNECT_TIMEOUT}"),
    misses("port.submission_only", "25 refused, 587 answers",
           lambda: run_of(connection_refused(25), greeted(587)), "port.refused"),
    misses("port.submission_only", "587 filtered too",
           lambda: run_of(filtered(25), filtered(587)), "port.timeout"),
    fires("host.unreachable", "every port refused or filtered",
          lambda: run_of(connection_refused(25), filtered(587)),
          f"error refused at connect: {REFUSED}", f"error timeout at connect: {CONNECT_TIMEOUT}",
          errors="refused, timeout"),
    misses("host.unreachable", "one port answers",
           lambda: run_of(connection_refused(25), greeted(587)), "port.refused"),
    misses("host.unreachable", "proxy not running",
           lambda: run_of(via_proxy(25, "proxy_failed", PROXY_DOWN),
                          via_proxy(587, "proxy_failed", PROXY_DOWN)), "proxy.failed"),
    fires("proxy.failed", "proxy not running",
          lambda: run_of(via_proxy(25, "proxy_failed", PROXY_DOWN),
                         via_proxy(587, "proxy_failed", PROXY_DOWN)),
          f"error proxy_failed at connect: {PROXY_DOWN}", proxy=PROXY, ports="25, 587",
          detail=PROXY_DOWN),
    misses("proxy.failed", "proxy reports target refused",
           lambda: run_of(via_proxy(25, "refused", f"proxy {PROXY}: Connection refused by destination host")),
           "port.refused", "host.unreachable"),
]

# The session: greeting, EHLO, timeouts, protocol errors

BLOCKED = "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org"
TOO_MANY = "421 4.7.0 mail.example.com Error: too many connections from 198.51.100.7"
EHLO_UNKNOWN = "502 5.5.2 Error: command not recognized"


def rejected_at_greeting(line: str) -> Callable[[], ProbeResult]:
    return lambda: one(f"S: {line}\nC: QUIT\nS: 221 2.0.0 Bye\n", port=25)


def helo_fallback(helo_reply: str) -> Callable[[], ProbeResult]:
    text = f"S: 220 {BANNER}\nC: {EHLO_COMMAND}\nS: {EHLO_UNKNOWN}\nC: HELO {CLIENT}\nS: {helo_reply}\n"
    return lambda: one(dialogue(text.rstrip("\n")), port=25)


def greeting_after(ms: float) -> Callable[[], ProbeResult]:
    """The greeting arrives ``ms`` milliseconds after the TCP connection is established."""
    return lambda: run_of(Events().connect(at=12.0).greeting(at=12.0 + ms).ehlo(*MODERN).record())


def stalled_at_ehlo(error: str, detail: str) -> Callable[[], ProbeResult]:
    return lambda: run_of(
        Events().connect().greeting().add("send", "ehlo", text=EHLO_COMMAND).error("ehlo", error, detail)
        .record()
    )


SESSION = [
    fires("greeting.rejected", "554 greeting", rejected_at_greeting(BLOCKED), f"S: {BLOCKED}"),
    misses("greeting.rejected", "421 greeting", rejected_at_greeting(TOO_MANY), "greeting.unavailable"),
    misses("greeting.rejected", "HELO rejected after EHLO",
           helo_fallback("550 5.7.1 <client.smtplab.test>: Helo command rejected: Access denied")),
    fires("greeting.unavailable", "421 greeting", rejected_at_greeting(TOO_MANY), f"S: {TOO_MANY}"),
    fires("greeting.unavailable", "421 to EHLO",
                    lambda: one(f"S: 220 {BANNER}\nC: {EHLO_COMMAND}\nS: {TOO_MANY}\n", port=25),
                    f"S: {TOO_MANY}"),
    misses("greeting.unavailable", "554 greeting", rejected_at_greeting(BLOCKED), "greeting.rejected"),
    fires("greeting.slow", "6 s", greeting_after(6000), f"S: 220 {BANNER}", seconds=6.0),
    misses("greeting.slow", "4 s", greeting_after(4000)),
    fires("greeting.ehlo_rejected", "HELO works", helo_fallback(f"250 {HOST}"),
          f"C: {EHLO_COMMAND}", f"S: {EHLO_UNKNOWN}", f"C: HELO {CLIENT}", f"S: 250 {HOST}",
          code=502, ehlo_name=CLIENT),
    misses("greeting.ehlo_rejected", "HELO rejected too",
           helo_fallback("550 5.7.1 <client.smtplab.test>: Helo command rejected: Access denied")),
    fires("probe.timeout", "no EHLO reply", stalled_at_ehlo("reply_timeout", NO_REPLY),
          "error reply_timeout at ehlo: no reply within 30 s", step="EHLO"),
    fires("probe.timeout", "deadline", stalled_at_ehlo("deadline", "probe exceeded its deadline of 120 s"),
          "error deadline at ehlo: probe exceeded its deadline of 120 s"),
    fires("probe.timeout", "deadline names the step in progress",
          lambda: run_of(Events().connect().greeting().ehlo(*MODERN)
                         .add("send", "mail", text="MAIL FROM:<smtplab@example.com>")
                         .error("deadline", "deadline", "probe exceeded its deadline of 90 s").record()),
          "error deadline at deadline: probe exceeded its deadline of 90 s", step="MAIL"),
    fires("probe.timeout", "no greeting",
          lambda: run_of(Events().connect().error("banner", "reply_timeout", NO_REPLY).record()),
          "error reply_timeout at banner: no reply within 30 s", step="BANNER"),
    fires("probe.timeout", "no handshake on an implicit-TLS port",
          lambda: run_of(Events(465, "tls").connect().error("deadline", "deadline", "deadline of 9 s")
                         .record()),
          step="TLS"),
    misses("probe.timeout", "connect timed out", lambda: run_of(filtered()), "port.timeout"),
    fires("probe.protocol_error", "HTTP on the port",
          stalled_at_ehlo("protocol_error", "invalid reply line 'HTTP/1.1 400 Bad Request'"),
          "error protocol_error at ehlo: invalid reply line 'HTTP/1.1 400 Bad Request'", step="EHLO"),
    misses("probe.protocol_error", "connection closed", stalled_at_ehlo("closed", "0 bytes read")),
]

# TLS

STARTTLS_UNAVAILABLE = "454 4.7.0 TLS not available due to local problem"
HANDSHAKE_ERROR = "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)"
NOT_VERIFIED = "unable to get local issuer certificate"


def starttls_then(*steps: Callable[[Events], Events], port: int = 587) -> Callable[[], ProbeResult]:
    """A STARTTLS session up to the 220 reply, then ``steps`` on its events."""
    def build() -> ProbeResult:
        events = Events(port).connect().greeting().ehlo(*MODERN, "STARTTLS").starttls()
        for step in steps:
            events = step(events)
        return run_of(events.record())
    return build


def implicit_attempts(second: Callable[[Events], Events]) -> Callable[[], ProbeResult]:
    """Port 465: the handshake fails, and the second attempt checks for plaintext SMTP."""
    def build() -> ProbeResult:
        events = Events(465, "tls").connect().handshake_failed(HANDSHAKE_ERROR)
        events = events.retry("TLS handshake failed on an implicit-TLS port; checking for plaintext SMTP")
        return run_of(second(events.connect()).record())
    return build


def plaintext_greeting(events: Events) -> Events:
    events.receive("banner", f"220 {BANNER}")
    events.error("banner", "plaintext_on_tls_port", f"implicit-TLS port answered in plaintext: 220 {BANNER}")
    return events.command("quit", "QUIT", "221 2.0.0 Bye")


def no_plaintext_either(events: Events) -> Events:
    return events.note("banner", "no plaintext greeting either: connection closed")


def silent_plain_port(second: Callable[[Events], Events]) -> Callable[[], ProbeResult]:
    """Port 25 sends no greeting; the second attempt tries a TLS handshake."""
    def build() -> ProbeResult:
        events = Events(25).connect().error("banner", "reply_timeout", NO_REPLY)
        events = events.retry("no greeting on a plaintext port; checking whether it speaks TLS")
        return run_of(second(events.connect()).record())
    return build


def tls_answers(events: Events) -> Events:
    events.handshake(verified=None)
    events.error("tls", "tls_on_plain_port", "plaintext port completed a TLS handshake")
    return events.greeting().command("quit", "QUIT", "221 2.0.0 Bye")


def no_tls_either(events: Events) -> Events:
    return events.note("tls", "no TLS handshake either: connection closed")


def stray(step: str, text: str) -> Callable[[Events], Events]:
    return lambda events: events.add("unsolicited", step, text=text)


def verified_after_retry(events: Events) -> Events:
    events.verify_failed(NOT_VERIFIED).retry("certificate not verified; continuing without verification")
    events.connect().greeting().ehlo(*MODERN, "STARTTLS").starttls()
    return events.handshake(verified=None, cert_pem=issued(HOST)).ehlo(*MODERN, "AUTH PLAIN")


TLS = [
    fires("tls.starttls_missing", "no STARTTLS keyword",
          lambda: one(cleartext(), port=587), f"C: {EHLO_COMMAND}", f"S: 250-{HOST}", "S: 250 SMTPUTF8"),
    misses("tls.starttls_missing", "plain mode chosen", lambda: one(cleartext(), port=25, mode="plain")),
    misses("tls.starttls_missing", "STARTTLS offered", lambda: one(submission()), "auth.after_starttls"),
    fires("tls.starttls_refused", "454 to STARTTLS",
          lambda: one(dialogue(server(220, BANNER), ehlo(*MODERN, "STARTTLS"), "C: STARTTLS",
                               f"S: {STARTTLS_UNAVAILABLE}")),
          "C: STARTTLS", f"S: {STARTTLS_UNAVAILABLE}", code=454),
    misses("tls.starttls_refused", "220 to STARTTLS", lambda: one(submission())),
    fires("tls.starttls_failed", "handshake fails",
          starttls_then(lambda events: events.handshake_failed(HANDSHAKE_ERROR)),
          "C: STARTTLS", "S: 220 2.0.0 Ready to start TLS", f"error tls_failed at tls: {HANDSHAKE_ERROR}"),
    misses("tls.starttls_failed", "only verification fails", starttls_then(verified_after_retry),
           "cert.untrusted"),
    fires("tls.implicit_failed", "no TLS, no plaintext", implicit_attempts(no_plaintext_either),
          f"error tls_failed at tls: {HANDSHAKE_ERROR}", detail=HANDSHAKE_ERROR),
    misses("tls.implicit_failed", "plaintext instead", implicit_attempts(plaintext_greeting),
           "tls.implicit_plaintext"),
    fires("tls.implicit_plaintext", "plaintext greeting on 465", implicit_attempts(plaintext_greeting),
          f"S: 220 {BANNER}"),
    misses("tls.implicit_plaintext", "same greeting on a STARTTLS port", lambda: one(submission())),
    misses("tls.implicit_plaintext", "TLS handshake first",
           lambda: one(implicit_tls(), port=465, mode="tls")),
    fires("tls.plain_port_tls", "TLS on port 25", silent_plain_port(tls_answers),
          "error tls_on_plain_port at tls: plaintext port completed a TLS handshake"),
    misses("tls.plain_port_tls", "silent, TLS fails too", silent_plain_port(no_tls_either), "probe.timeout"),
    fires("tls.starttls_extra_data", "bytes after 220",
          starttls_then(stray("starttls", "250-PIPELINING injected"), lambda events: events.handshake()),
          "S: 220 2.0.0 Ready to start TLS", "S: 250-PIPELINING injected"),
    misses("tls.starttls_extra_data", "stray bytes after EHLO",
           lambda: run_of(Events(587).connect().greeting().ehlo(*MODERN, "STARTTLS")
                          .add("unsolicited", "ehlo", text="250 stray").record())),
    fires("tls.obsolete_version", "TLSv1.1",
          lambda: one(submission(marker="TLS TLSv1.1 ECDHE-RSA-AES256-SHA")),
          "TLS TLSv1.1 ECDHE-RSA-AES256-SHA 256 bits", version="TLSv1.1"),
    misses("tls.obsolete_version", "TLSv1.2",
           lambda: one(submission(marker="TLS TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"))),
    fires("tls.weak_cipher", "3DES", lambda: one(submission(marker="TLS TLSv1.2 DES-CBC3-SHA")),
          cipher="DES-CBC3-SHA"),
    fires("tls.weak_cipher", "RC4", lambda: one(submission(marker="TLS TLSv1.2 ECDHE-RSA-RC4-SHA")),
          cipher="ECDHE-RSA-RC4-SHA"),
    misses("tls.weak_cipher", "AES-128-GCM",
           lambda: one(submission(marker="TLS TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256"))),
    fires("tls.obsolete_accepted", "TLS 1.0 and 1.1 offers accepted",
          lambda: run_of(scanned(("TLSv1", True), ("TLSv1.1", True), ("weak-ciphers", False))),
          "TLS offer TLSv1 accepted: TLSv1 ECDHE-RSA-AES256-SHA", versions="TLSv1 TLSv1.1"),
    misses("tls.obsolete_accepted", "every old offer rejected",
           lambda: run_of(scanned(("TLSv1", False), ("TLSv1.1", False), ("weak-ciphers", False)))),
    fires("tls.weak_cipher_accepted", "3DES offer accepted",
          lambda: run_of(scanned(("TLSv1", False), ("TLSv1.1", False), ("weak-ciphers", True))),
          "TLS offer weak-ciphers accepted: TLSv1.2 DES-CBC3-SHA", cipher="DES-CBC3-SHA"),
    misses("tls.weak_cipher_accepted", "scan could not make the offer",
           lambda: run_of(scanned(("weak-ciphers", None)))),
]


def scanned(*outcomes: tuple[str, bool | None]) -> EndpointRecord:
    """A STARTTLS session followed by TLS offer checks with these outcomes."""
    events = Events().connect().greeting().ehlo(*MODERN, "STARTTLS").starttls().handshake()
    ciphers = {"weak-ciphers": ("TLSv1.2", "DES-CBC3-SHA")}
    for offer, accepted in outcomes:
        version, cipher = ciphers.get(offer, (offer, "ECDHE-RSA-AES256-SHA"))
        facts = {"version": version, "cipher": cipher} if accepted else {"detail": "handshake failed"}
        events.add("tls_offer", "tls", check=offer, offer=offer, accepted=accepted, **facts)
    return events.record()

# Certificates


def presenting(cert: Callable[[], str], host: str = HOST) -> Callable[[], ProbeResult]:
    return lambda: one(submission(cert=cert()), host=host)


def unverified(cert: Callable[[], str]) -> Callable[[], ProbeResult]:
    """The first handshake fails verification; the retry without verification presents ``cert``."""
    def build() -> ProbeResult:
        events = Events(587).connect().greeting().ehlo(*MODERN, "STARTTLS").starttls()
        events.verify_failed(NOT_VERIFIED).retry("certificate not verified; continuing without verification")
        events.connect().greeting().ehlo(*MODERN, "STARTTLS").starttls()
        return run_of(events.handshake(verified=None, cert_pem=cert()).ehlo(*MODERN, "AUTH PLAIN").record())
    return build


CERTIFICATES = [
    fires("cert.expired", "5 days ago", presenting(lambda: issued(HOST, days_left=-5))),
    fires("cert.expired", "days counted from expiry",
                    presenting(lambda: issued(HOST, days_left=-5)), days=5),
    misses("cert.expired", "valid", presenting(lambda: issued(HOST))),
    fires("cert.expiring", "in 10 days", presenting(lambda: issued(HOST, days_left=10))),
    misses("cert.expiring", "in 45 days", presenting(lambda: issued(HOST, days_left=45))),
    misses("cert.expiring", "already expired", presenting(lambda: issued(HOST, days_left=-1)),
           "cert.expired"),
    fires("cert.self_signed", "snakeoil", presenting(self_signed), f"subject CN={HOST}, issuer CN={HOST}, "
          f"names {HOST}"),
    misses("cert.self_signed", "CA-issued", presenting(lambda: issued(HOST))),
    fires("cert.untrusted", "chain not verified", unverified(lambda: issued(HOST)),
          f"verify error: {NOT_VERIFIED}", verify_error=NOT_VERIFIED),
    misses("cert.untrusted", "self-signed and not verified", unverified(self_signed), "cert.self_signed"),
    misses("cert.untrusted", "no verification failure", presenting(lambda: issued(HOST))),
    fires("cert.name_mismatch", "other name", presenting(lambda: issued("smtp.example.net")),
          names="smtp.example.net"),
    fires("cert.name_mismatch", "wildcard is one label", presenting(lambda: issued("*.example.com"),
                                                                    host="a.mail.example.com")),
    misses("cert.name_mismatch", "wildcard match", presenting(lambda: issued("*.example.com"))),
    misses("cert.name_mismatch", "upper case and trailing dot", presenting(lambda: issued(HOST),
                                                                           host="MAIL.Example.COM.")),
]

# Names: greeting, EHLO and reverse DNS

OTHER_BANNER = "mx.other.test ESMTP Postfix"


def cleartext_with(banner: str = BANNER, name: str = HOST) -> str:
    return dialogue(server(220, banner), ehlo(*MODERN, "STARTTLS", name=name))


NAMES = [
    fires("name.banner_mismatch", "other host", lambda: one(cleartext_with(OTHER_BANNER)),
          f"S: 220 {OTHER_BANNER}", shown="mx.other.test", target=HOST),
    misses("name.banner_mismatch", "case and trailing dot",
           lambda: one(cleartext_with("MAIL.EXAMPLE.COM. ESMTP Postfix"))),
    misses("name.banner_mismatch", "IP literal target",
           lambda: one(cleartext_with(OTHER_BANNER), host=ADDRESS), "name.ehlo_mismatch"),
    misses("name.banner_mismatch", "421 greeting with an enhanced status code",
                     rejected_at_greeting(TOO_MANY), "greeting.unavailable"),
    fires("name.ehlo_mismatch", "EHLO names another host",
          lambda: one(cleartext_with(name="relay.example.com")),
          f"S: 220 {BANNER}", f"C: {EHLO_COMMAND}", "S: 250-relay.example.com", ehlo="relay.example.com"),
    misses("name.ehlo_mismatch", "Exim's EHLO greeting",
           lambda: one(cleartext_with(name=f"{HOST} Hello {CLIENT} [198.51.100.7]"))),
    misses("name.ehlo_mismatch", "go-smtp EHLO greeting without a host",
                     lambda: one(cleartext_with(name=f"Hello {CLIENT}"))),
    fires("name.ptr_missing", "nxdomain",
          lambda: with_dns(cleartext(), pointer(ADDRESS, status="nxdomain")),
          "PTR 25.2.0.192.in-addr.arpa.: nxdomain"),
    misses("name.ptr_missing", "PTR present",
           lambda: with_dns(cleartext(), pointer(ADDRESS, f"{HOST}."), *forward(f"{HOST}.", ADDRESS))),
    misses("name.ptr_missing", "PTR lookup timed out",
                     lambda: with_dns(cleartext(), pointer(ADDRESS, status="timeout"))),
    fires("name.fcrdns_failed", "PTR name points elsewhere",
          lambda: with_dns(cleartext(), pointer(ADDRESS, "host-25.isp.example.net."),
                           *forward("host-25.isp.example.net.", "198.51.100.7")),
          "PTR 25.2.0.192.in-addr.arpa.: ok host-25.isp.example.net.",
          "A/AAAA host-25.isp.example.net: 198.51.100.7", ptr="host-25.isp.example.net"),
    misses("name.fcrdns_failed", "confirmed over IPv4",
           lambda: with_dns(cleartext(), pointer(ADDRESS, f"{HOST}."), *forward(f"{HOST}.", ADDRESS))),
    misses("name.fcrdns_failed", "forward lookup timed out",
                     lambda: with_dns(cleartext(), pointer(ADDRESS, "host-25.isp.example.net."),
                                      *forward("host-25.isp.example.net.", status="timeout"))),
    fires("name.ptr_banner_mismatch", "PTR names the ISP",
          lambda: with_dns(cleartext(), pointer(ADDRESS, "host-25.isp.example.net."),
                           *forward("host-25.isp.example.net.", ADDRESS)),
          "PTR 25.2.0.192.in-addr.arpa.: ok host-25.isp.example.net.",
          ptr="host-25.isp.example.net", shown=HOST),
    misses("name.ptr_banner_mismatch", "PTR, greeting and EHLO agree",
           lambda: with_dns(cleartext(), pointer(ADDRESS, f"{HOST}."), *forward(f"{HOST}.", ADDRESS))),
    misses("name.ptr_banner_mismatch", "greeting names one of two PTR names",
                     lambda: with_dns(cleartext(), pointer(ADDRESS, f"{HOST}.", "mx.example.com."),
                                      *forward(f"{HOST}.", ADDRESS), *forward("mx.example.com.", ADDRESS))),
]

# AUTH


def tls_on(*ports: int, auth: tuple[str, ...] = ()) -> Callable[[], ProbeResult]:
    """STARTTLS on each port, with ``auth`` offered inside TLS on the last one only."""
    def build() -> ProbeResult:
        records = [imported(submission(inside=MODERN), port=port) for port in ports[:-1]]
        records.append(imported(submission(inside=(*MODERN, *auth)), port=ports[-1]))
        return run_of(*records)
    return build


def mx_and_cleartext_submission() -> ProbeResult:
    """Port 25 reaches TLS without AUTH, and port 587 offers neither STARTTLS nor AUTH."""
    return run_of(imported(submission(inside=MODERN), port=25), imported(cleartext(), port=587))


def starttls_rejected_session() -> str:
    return dialogue(server(220, BANNER), ehlo(*MODERN, "STARTTLS"), "C: STARTTLS",
                    f"S: {STARTTLS_UNAVAILABLE}")


def skipped(reason: str) -> Callable[[], ProbeResult]:
    text = {"no_tls": "no TLS, so the credentials were not sent",
            "no_mechanism": "no supported mechanism offered"}
    return lambda: run_of(Events(587).connect().greeting().ehlo(*MODERN, "AUTH CRAM-MD5")
                          .add("auth_skipped", "auth", reason=reason, text=text[reason]).record())


def login(line: str) -> Callable[[], ProbeResult]:
    return lambda: one(submission(auth_plain(line)))


AUTH = [
    fires("auth.after_starttls", "AUTH inside TLS only", lambda: one(submission()),
          "S: 250 AUTH PLAIN LOGIN", mechanisms="PLAIN LOGIN"),
    misses("auth.after_starttls", "AUTH before TLS too",
           lambda: one(submission(plain=(*MODERN, "STARTTLS", "AUTH PLAIN LOGIN"))), "auth.plaintext"),
    fires("auth.plaintext", "AUTH before TLS",
          lambda: one(submission(plain=(*MODERN, "STARTTLS", "AUTH PLAIN LOGIN"))),
          "S: 250-STARTTLS", "S: 250 AUTH PLAIN LOGIN", mechanisms="PLAIN LOGIN"),
    fires("auth.plaintext", "pre-standard AUTH= form",
          lambda: one(submission(plain=(*MODERN, "AUTH=LOGIN", "STARTTLS"))), "S: 250-AUTH=LOGIN"),
    misses("auth.plaintext", "AUTH inside TLS only", lambda: one(submission()), "auth.after_starttls"),
    misses("auth.plaintext", "implicit TLS", lambda: one(implicit_tls(), port=465, mode="tls")),
    fires("auth.none", "25 without AUTH, 587 without STARTTLS", mx_and_cleartext_submission,
          "S: 250 SMTPUTF8"),
    misses("auth.none", "AUTH on 587 only", tls_on(25, 587, auth=("AUTH PLAIN",))),
    misses("auth.none", "TLS never reached", lambda: one(starttls_rejected_session()), "auth.unknown"),
    fires("auth.none", "25 without AUTH, 587 refused",
          lambda: run_of(imported(submission(inside=MODERN), port=25), connection_refused(587)),
          "S: 250 SMTPUTF8"),
    misses("auth.none", "port 25 only", tls_on(25)),
    misses("auth.none", "no AUTH on 25 or 587", tls_on(25, 587), "auth.submission_missing"),
    fires("auth.submission_missing", "587 without AUTH", tls_on(587), "S: 250 SMTPUTF8"),
    fires("auth.submission_missing", "implicit TLS on another port without AUTH",
          lambda: one(implicit_tls(keywords=MODERN), port=2465, mode="tls"), "S: 250 SMTPUTF8"),
    misses("auth.submission_missing", "port 25 without AUTH", tls_on(25)),
    misses("auth.submission_missing", "TLS never reached",
           lambda: one(starttls_rejected_session()), "auth.unknown"),
    fires("auth.unknown", "STARTTLS refused", lambda: one(starttls_rejected_session()), "S: 250 STARTTLS"),
    misses("auth.unknown", "TLS reached without AUTH", tls_on(587), "auth.submission_missing"),
    fires("auth.accepted", "PLAIN 235", login(AUTH_OK), "C: AUTH PLAIN ********", f"S: {AUTH_OK}",
          mechanism="PLAIN", code=235),
    fires("auth.accepted", "LOGIN 235", lambda: one(submission(auth_login())), "C: ********", f"S: {AUTH_OK}",
          mechanism="LOGIN"),
    misses("auth.accepted", "535", login(AUTH_FAILED), "auth.rejected"),
    fires("auth.accepted_early", "235 after the user name",
          lambda: one(submission(auth_login(password_sent=False))),
          "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", f"S: {AUTH_OK}", mechanism="LOGIN"),
    misses("auth.accepted_early", "235 after the password", lambda: one(submission(auth_login())),
           "auth.accepted"),
    fires("auth.rejected", "535", login(AUTH_FAILED), f"S: {AUTH_FAILED}", code=535),
    misses("auth.rejected", "454 is temporary",
           login("454 4.7.0 Temporary authentication failure"), "auth.deferred"),
    fires("auth.needs_encryption", "538",
          login("538 5.7.11 Encryption required for requested authentication mechanism"),
          "S: 538 5.7.11 Encryption required for requested authentication mechanism", code=538),
    misses("auth.needs_encryption", "535", login(AUTH_FAILED), "auth.rejected"),
    fires("auth.unsupported", "504", login("504 5.5.4 Unrecognized authentication type"),
          "S: 504 5.5.4 Unrecognized authentication type", code=504),
    misses("auth.unsupported", "535", login(AUTH_FAILED), "auth.rejected"),
    fires("auth.deferred", "454", login("454 4.7.0 Temporary authentication failure"),
          "S: 454 4.7.0 Temporary authentication failure", code=454),
    misses("auth.deferred", "535", login(AUTH_FAILED), "auth.rejected"),
    fires("auth.skipped_no_tls", "no TLS", skipped("no_tls"), "S: 250 AUTH CRAM-MD5"),
    misses("auth.skipped_no_tls", "no mechanism", skipped("no_mechanism"), "auth.skipped_no_mechanism"),
    fires("auth.skipped_no_mechanism", "no mechanism", skipped("no_mechanism"), "S: 250 AUTH CRAM-MD5"),
    misses("auth.skipped_no_mechanism", "no TLS", skipped("no_tls"), "auth.skipped_no_tls"),
]

# Relay

SENDER_REJECTED = "553 5.7.1 <smtplab@example.com>: Sender address rejected: not logged in"


def relay(rcpt: str, *, mail: str = "250 2.1.0 Ok") -> Callable[[], ProbeResult]:
    return lambda: one(submission(relay_test(rcpt, mail)))


def relay_after_login(rcpt: str, *, login_reply: str = AUTH_OK) -> Callable[[], ProbeResult]:
    """The relay test without AUTH (denied), a login, then the relay test again."""
    return lambda: one(submission(relay_test(), auth_plain(login_reply), relay_test(rcpt)))


RELAY = [
    fires("relay.open", "250 to RCPT", relay(RELAY_ACCEPTED),
          "C: RCPT TO:<smtplab@example.net>", f"S: {RELAY_ACCEPTED}"),
    misses("relay.open", "554 to RCPT", relay(RELAY_DENIED), "relay.denied"),
    fires("relay.denied", "454 relay access denied", relay(RELAY_DENIED_454), f"S: {RELAY_DENIED_454}",
          code=454),
    fires("relay.denied", "554", relay(RELAY_DENIED), f"S: {RELAY_DENIED}", code=554),
    misses("relay.denied", "451 greylisting", relay(GREYLISTED), "relay.deferred"),
    fires("relay.deferred", "451 greylisting", relay(GREYLISTED), f"S: {GREYLISTED}", code=451),
    misses("relay.deferred", "454 relay access denied",
           relay(RELAY_DENIED_454), "relay.denied"),
    fires("relay.sender_rejected", "553 to MAIL", relay(RELAY_DENIED, mail=SENDER_REJECTED),
          f"S: {SENDER_REJECTED}", code=553),
    misses("relay.sender_rejected", "250 to MAIL", relay(RELAY_DENIED), "relay.denied"),
    fires("relay.auth_accepted", "250 after login", relay_after_login(RELAY_ACCEPTED),
          "C: RCPT TO:<smtplab@example.net>", f"S: {RELAY_ACCEPTED}"),
    misses("relay.auth_accepted", "250 without login", relay(RELAY_ACCEPTED), "relay.open"),
    fires("relay.auth_denied", "554 after login", relay_after_login(RELAY_DENIED), f"S: {RELAY_DENIED}",
          code=554),
    misses("relay.auth_denied", "554 without login", relay(RELAY_DENIED), "relay.denied"),
    misses("relay.auth_denied", "451 greylisting after login", relay_after_login(GREYLISTED)),
]

# EHLO extensions

WITHOUT = {keyword: tuple(item for item in MODERN if item != keyword) for keyword in MODERN}


def final_ehlo(*keywords: str, plain: Iterable[str] = (*MODERN, "STARTTLS")) -> Callable[[], ProbeResult]:
    """A STARTTLS session whose EHLO inside TLS lists ``keywords``."""
    return lambda: one(submission(plain=plain, inside=keywords))


def missing_keyword_cases(keyword: str, code: str) -> list[Case]:
    rest = WITHOUT[keyword]
    return [
        fires(code, f"no {keyword}", final_ehlo(*rest, "AUTH PLAIN"),
              f"C: {EHLO_COMMAND}", "S: 250 AUTH PLAIN"),
        misses(code, f"{keyword} inside TLS only", final_ehlo(*MODERN, plain=(*rest, "STARTTLS"))),
    ]


EXTENSIONS = [
    fires("ext.size_small", "10 MB", final_ehlo("PIPELINING", "SIZE 10240000", "8BITMIME"),
          "S: 250-SIZE 10240000", size=10_240_000, size_mb=10.2),
    fires("ext.size_small", "SIZE on the last line", final_ehlo("PIPELINING", "SIZE 10240000"),
                    "S: 250 SIZE 10240000"),
    misses("ext.size_small", "30 MB", final_ehlo("PIPELINING", "SIZE 30000000", "8BITMIME")),
    misses("ext.size_small", "SIZE 0 means no limit", final_ehlo("PIPELINING", "SIZE 0", "8BITMIME")),
    misses("ext.size_small", "SIZE without a number", final_ehlo("PIPELINING", "SIZE", "8BITMIME")),
    *missing_keyword_cases("PIPELINING", "ext.no_pipelining"),
    *missing_keyword_cases("8BITMIME", "ext.no_8bitmime"),
    *missing_keyword_cases("SMTPUTF8", "ext.no_smtputf8"),
    *missing_keyword_cases("ENHANCEDSTATUSCODES", "ext.no_enhancedstatuscodes"),
    fires("ext.vrfy", "VRFY listed", final_ehlo(*MODERN, "VRFY", "AUTH PLAIN"), "S: 250-VRFY"),
    fires("ext.vrfy", "VRFY on the last line", final_ehlo(*MODERN, "VRFY"), "S: 250 VRFY"),
    misses("ext.vrfy", "no VRFY", final_ehlo(*MODERN, "AUTH PLAIN")),
    fires("ext.expn", "EXPN listed", final_ehlo(*MODERN, "EXPN", "AUTH PLAIN"), "S: 250-EXPN"),
    misses("ext.expn", "no EXPN", final_ehlo(*MODERN, "VRFY", "AUTH PLAIN"), "ext.vrfy"),
]

# Consistency between ports, addresses and expectations


def two_ports(text_25: str, text_587: str) -> Callable[[], ProbeResult]:
    return lambda: run_of(imported(text_25, port=25), imported(text_587, port=587))


def expecting(text: str, **config: str) -> Callable[[], ProbeResult]:
    return lambda: run_of(imported(text, port=25), config=config)


def two_addresses(second: Iterable[str]) -> Callable[[], ProbeResult]:
    """Port 25 on an IPv4 and an IPv6 address; the IPv6 one lists ``second`` in its EHLO reply."""
    return lambda: run_of(imported(cleartext(keywords=(*MODERN, "STARTTLS")), port=25),
                          imported(cleartext(keywords=second), port=25, address=ADDRESS_V6))


CONSISTENCY = [
    fires("ports.differ", "two host names", two_ports(cleartext_with(BANNER), cleartext_with(OTHER_BANNER)),
          f"port 25: S: 220 {BANNER}", f"port 587: S: 220 {OTHER_BANNER}"),
    misses("ports.differ", "same name, other text",
           two_ports(cleartext_with(BANNER), cleartext_with(f"{HOST} ESMTP submission"))),
    fires("software.unexpected", "Exim where Postfix expected",
          expecting(exim_session(), expect_software="postfix"), f"S: 220 {EXIM_BANNER}"),
    fires("software.unexpected", "other banner host",
          expecting(cleartext_with(OTHER_BANNER), expect_banner_host=HOST),
          f"banner names mx.other.test, expected {HOST}", f"S: 220 {OTHER_BANNER}"),
    misses("software.unexpected", "Postfix as expected", expecting(cleartext(), expect_software="postfix")),
    misses("software.unexpected", "nothing expected", expecting(exim_session())),
    fires("ports.software_differ", "Postfix on 25, Exim on 587", two_ports(cleartext(), exim_session()),
          "Exim (port 587), Postfix (port 25)"),
    misses("ports.software_differ", "Postfix on both",
           two_ports(cleartext(), cleartext(banner=f"{HOST} ESMTP Postfix (Debian/GNU) submission"))),
    misses("ports.software_differ", "weak guess on one port",
           two_ports(cleartext(), cleartext_with(EXIM_BANNER))),
    fires("addresses.differ", "STARTTLS on IPv4 only", two_addresses(MODERN),
          f"{ADDRESS} {HOST}, STARTTLS offered, no TLS", f"{ADDRESS_V6} {HOST}, no STARTTLS, no TLS"),
    misses("addresses.differ", "addresses alike", two_addresses((*MODERN, "STARTTLS"))),
]

ALL = [*REACHABILITY, *SESSION, *TLS, *CERTIFICATES, *NAMES, *AUTH, *RELAY, *EXTENSIONS, *CONSISTENCY]


def _table(fired: bool, *, with_known_bugs: bool = True) -> list[Any]:
    """Pytest parameters of the trigger cases (``fired``) or the near misses."""
    chosen = []
    for item in ALL:
        case = item if isinstance(item, Case) else item.values[0]
        if case.fires is not fired:
            continue
        if isinstance(item, Case):
            chosen.append(pytest.param(item, id=item.id))
        elif with_known_bugs:
            chosen.append(item)
    return chosen


def _covered_codes(fired: bool) -> set[str]:
    """Codes with a case expected to pass: a known bug does not count as coverage."""
    return {param.values[0].code for param in _table(fired, with_known_bugs=False)}


# Checks

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
"""A ``{name}`` parameter left in a rendered text."""


def recorded_lines(result: ProbeResult) -> set[str]:
    """Every line the run recorded, as evidence quotes it: ``S: `` for the server, ``C: `` for the client."""
    prefixes = {"recv": "S: ", "unsolicited": "S: ", "send": "C: "}
    return {
        prefixes[event["kind"]] + str(event["text"])
        for record in result.run.endpoints
        for event in record.events
        if event["kind"] in prefixes
    }


def findings_of(result: ProbeResult, code: str) -> list[Finding]:
    return [finding for finding in result.finding_list if finding.code == code]


@pytest.mark.parametrize("case", _table(True))
def test_rule_fires(case: Case) -> None:
    result = case.build()
    found = findings_of(result, case.code)
    assert found, f"{case.code} not reported; reported: {[item.code for item in result.finding_list]}"
    finding = found[0]

    expected = next(severity for severity, codes in EXPECTED_SEVERITY.items() if case.code in codes)
    assert finding.severity is expected

    for line in case.proof:
        assert line in finding.evidence
    recorded = recorded_lines(result)
    for line in finding.evidence:
        quotes_a_line = line.startswith(("S: ", "C: ")) and not line.startswith("S: ... ")
        if quotes_a_line:
            assert line in recorded, f"evidence line {line!r} was never sent or received"

    for name, value in case.params.items():
        assert finding.params.get(name) == value, f"parameter {name}"


@pytest.mark.parametrize("case", _table(True, with_known_bugs=False))
def test_triggered_finding_renders(case: Case) -> None:
    """The texts of a triggered finding render in every catalog language, with each parameter given."""
    finding = findings_of(case.build(), case.code)[0]
    for lang in ("en", "zh-CN"):
        texts = [finding.title(lang), finding.detail(lang), *finding.remedies(lang).values()]
        for text in texts:
            assert text.strip()
            assert PLACEHOLDER.search(text) is None, text


@pytest.mark.parametrize("case", _table(False))
def test_rule_near_miss(case: Case) -> None:
    result = case.build()
    reported = [finding.code for finding in result.finding_list]
    assert case.code not in reported
    for code in case.instead:
        assert code in reported, f"{code} expected instead of {case.code}; reported: {reported}"


def test_findings_frame_of_a_case() -> None:
    result = relay(RELAY_ACCEPTED)()
    frame = result.findings
    row = frame[frame["code"] == "relay.open"].iloc[0]
    assert row["severity"] == "critical"
    assert row["port"] == 587
    assert f"S: {RELAY_ACCEPTED}" in row["evidence"].splitlines()


def test_table_triggers_every_code() -> None:
    assert _covered_codes(True) == set(ENDPOINT_KINDS)


def test_table_has_near_miss_for_every_code() -> None:
    assert _covered_codes(False) == set(ENDPOINT_KINDS)


def test_expected_severity_names_every_code() -> None:
    named = [code for codes in EXPECTED_SEVERITY.values() for code in codes]
    assert sorted(named) == sorted(ENDPOINT_KINDS)
