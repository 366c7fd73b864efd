"""Diagnosis rules: small functions over one host's endpoint views.

Each rule yields findings about one concept. ``RULES`` is the registry: a new
rule is a function added there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from smtplab.analysis.certificate import name_matches
from smtplab.analysis.interpret import EndpointView
from smtplab.diagnosis.context import SUBMISSION_PORTS, HostContext, certificate
from smtplab.diagnosis.evidence import error_line, exchange_lines, label, reply_lines, step_lines
from smtplab.diagnosis.finding import Finding, Severity

Rule = Callable[[HostContext], Iterator[Finding]]

_CONNECT_CAUSES = {
    "refused": "nothing is listening on the port (connection refused)",
    "timeout": "the connection timed out, so a firewall probably drops the packets",
    "unreachable": "the network reports the address as unreachable",
    "reset": "the connection was reset",
}


def _finding(item: EndpointView, code: str, severity: Severity, title: str, detail: str,
             remedy: str, evidence: list[str]) -> Finding:
    record = item.record
    return Finding(code, severity, record.host, title, detail, remedy, record.port,
                   record.address, tuple(evidence))


def port_unreachable(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.reachable is not False:
            continue
        cause = _CONNECT_CAUSES.get(item.error or "", item.error_detail or "unknown cause")
        yield _finding(
            item, f"port.{item.error}", Severity.WARNING,
            f"Port {item.record.port} is not reachable: {item.error}",
            f"{label(item)}: {cause}.",
            "Check that the mail server listens on this port (ss -ltnp) and that no "
            "firewall or provider filter blocks it.",
            error_line(item),
        )


def dns_unresolved(context: HostContext) -> Iterator[Finding]:
    if context.host.error is None:
        return
    host = context.host
    yield Finding(
        f"dns.{host.error}", Severity.CRITICAL, host.host,
        f"{host.host} does not resolve to an address",
        f"A and AAAA lookups failed ({host.detail}), so no port could be probed.",
        "Publish an A (and AAAA) record for the host, or check the resolver used.",
        evidence=tuple(f"{entry['rdtype']} {entry['name']}: {entry['status']}" for entry in host.dns),
    )


def greeting_rejected(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.error not in ("greeting_rejected", "service_unavailable"):
            continue
        yield _finding(
            item, f"greeting.{item.error}", Severity.WARNING,
            f"Port {item.record.port} rejected the session at the greeting (inconclusive)",
            "The server refused to talk to this client "
            f"({item.error_detail}). This is often a rate limit, a blocklist entry for the "
            "probing address or a pregreet check, so nothing about its features was learned.",
            "Retry later or from another address; check the server's log for the reason.",
            reply_lines(item.banner) or error_line(item),
        )


def implicit_tls_failed(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode != "tls" or item.reachable is not True or item.tls is not None:
            continue
        if item.error == "plaintext_on_tls_port":
            title = f"Port {item.record.port} speaks plaintext SMTP where implicit TLS was expected"
            remedy = ("Enable TLS wrapper mode on this port (Postfix: -o smtpd_tls_wrappermode=yes "
                      "in master.cf; Exim: tls_on_connect_ports), or probe it as PORT/starttls.")
        else:
            title = f"TLS handshake on implicit-TLS port {item.record.port} failed: {item.error}"
            remedy = ("Check that the service on this port has a certificate and key configured "
                      "and that TLS is enabled for it; look for TLS errors in the server log.")
        yield _finding(
            item, f"tls.implicit_{item.error}", Severity.CRITICAL, title,
            f"{label(item)}: {item.error_detail}. Clients configured for SSL/TLS on this port "
            "cannot connect.",
            remedy, error_line(item) + step_lines(item, "banner"),
        )


def starttls_missing(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode != "starttls" or item.starttls_offered is not False:
            continue
        yield _finding(
            item, "tls.starttls_missing", Severity.WARNING,
            f"Port {item.record.port} does not offer STARTTLS",
            "Mail and passwords on this port travel unencrypted.",
            "Configure a certificate (Postfix: smtpd_tls_cert_file, smtpd_tls_key_file and "
            "smtpd_tls_security_level = may; Exim: tls_certificate, tls_privatekey).",
            step_lines(item, "ehlo", "plain"),
        )


def starttls_failed(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode != "starttls" or not item.starttls_offered or item.tls is not None:
            continue
        if item.starttls_reply is not None and item.starttls_reply.code != 220:
            title = f"STARTTLS on port {item.record.port} was refused ({item.starttls_reply.code})"
        elif item.tls_failure is not None:
            title = f"TLS handshake after STARTTLS on port {item.record.port} failed"
        else:
            continue
        yield _finding(
            item, "tls.starttls_failed", Severity.CRITICAL, title,
            "The server offers STARTTLS but the upgrade did not complete, so clients that "
            "require encryption cannot send.",
            "Check the certificate, key and TLS settings of the server and its log at the "
            "time of the probe.",
            step_lines(item, "starttls") + error_line(item),
        )


def certificate_problems(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        cert = certificate(item)
        if cert is None:
            continue
        days = cert.days_left(context.measured_at)
        shown = f"subject {cert.subject}, issuer {cert.issuer}, SANs {' '.join(cert.sans) or '-'}"
        if days < 0:
            yield _finding(item, "cert.expired", Severity.CRITICAL,
                           f"Certificate on port {item.record.port} expired {-days} days ago",
                           shown, "Renew the certificate and reload the server.", [shown])
        if item.verified is False:
            yield _finding(item, "cert.untrusted", Severity.WARNING,
                           f"Certificate on port {item.record.port} is not trusted: "
                           f"{item.verify_error}",
                           f"The chain does not verify against the trusted CAs. {shown}",
                           "Install a certificate from a public CA (for example Let's Encrypt) "
                           "with its full chain.", [f"verify error: {item.verify_error}", shown])
        if not context.host.is_literal and not name_matches(context.host.ascii_host, cert.names()):
            yield _finding(item, "cert.name_mismatch", Severity.WARNING,
                           f"Certificate on port {item.record.port} does not name "
                           f"{context.host.host}",
                           f"Clients that check host names reject it. {shown}",
                           "Issue the certificate for the name clients connect to, or point "
                           "clients at a name the certificate carries.", [shown])


def auth_offer(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        before, after = item.auth_mechanisms("plain"), item.auth_mechanisms("tls")
        if item.record.mode == "starttls" and after and not before:
            yield _finding(
                item, "auth.after_starttls", Severity.OK,
                f"Port {item.record.port} offers AUTH only after STARTTLS (correct)",
                f"AUTH {' '.join(after)} appears in the EHLO reply inside TLS and not before it, "
                "so passwords are never sent in clear.",
                "Nothing to do. Configure clients to use STARTTLS on this port.",
                step_lines(item, "ehlo", "tls"),
            )
        if before and item.record.mode != "tls":
            yield _finding(
                item, "auth.plaintext", Severity.WARNING,
                f"Port {item.record.port} offers AUTH before TLS",
                f"AUTH {' '.join(before)} is offered on an unencrypted connection, so a client "
                "may send its password in clear.",
                "Offer AUTH only inside TLS (Postfix: smtpd_tls_auth_only = yes; Exim: "
                "auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}).",
                step_lines(item, "ehlo", "plain"),
            )


def submission_without_auth(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.port not in SUBMISSION_PORTS or not item.ehlo:
            continue
        if any(item.auth_mechanisms(phase) for phase in ("plain", "tls")):
            continue
        if item.ehlo.get("tls") is None and item.record.mode != "plain":
            continue  # AUTH is usually offered only inside TLS, which was never reached
        yield _finding(
            item, "auth.submission_missing", Severity.CRITICAL,
            f"Submission port {item.record.port} offers no AUTH, even inside TLS",
            "Mail clients and applications must authenticate on a submission port; without "
            "AUTH they cannot send.",
            _AUTH_REMEDY, step_lines(item, "ehlo"),
        )


_AUTH_REMEDY = (
    "Enable SMTP AUTH: Postfix: smtpd_sasl_auth_enable = yes with a SASL backend (Dovecot or "
    "Cyrus) in main.cf or as -o options of the submission service in master.cf; Exim: define "
    "authenticators (plaintext/dovecot) and advertise them."
)


def host_without_auth(context: HostContext) -> Iterator[Finding]:
    greeted = [item for item in context.views if item.ehlo]
    if not greeted or not any("tls" in item.ehlo for item in greeted):
        return
    if any(item.auth_mechanisms(phase) for item in greeted for phase in ("plain", "tls")):
        return
    inside = next(item for item in greeted if "tls" in item.ehlo)
    yield Finding(
        "auth.none", Severity.CRITICAL, context.host.host,
        "No port offers AUTH, before or after STARTTLS",
        "EHLO was sent again inside TLS and still lists no AUTH, so a mail client or "
        "application cannot log in to send through this server. The server is set up to "
        "receive mail only, or the intended mail server does not own these ports.",
        _AUTH_REMEDY, evidence=tuple(step_lines(inside, "ehlo", "tls")),
    )


def auth_outcome(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        result = item.auth_result
        if result is None:
            continue
        mechanism = item.auth_mechanism or "-"
        evidence = step_lines(item, "auth")
        if result == "accepted":
            yield _finding(item, "auth.accepted", Severity.OK,
                           f"Login with {mechanism} on port {item.record.port} succeeded",
                           "The credentials were verified by the server.", "Nothing to do.",
                           evidence)
        elif result == "skipped":
            yield _finding(item, "auth.skipped", Severity.INFO,
                           f"Credential check skipped on port {item.record.port}",
                           f"{item.auth_skipped}.", "Check the credentials on a port with TLS.",
                           [f"skipped: {item.auth_skipped}"])
        else:
            yield _finding(item, f"auth.{result}", Severity.CRITICAL,
                           f"Login with {mechanism} on port {item.record.port} failed: {result}",
                           f"The server answered {item.auth_reply.code if item.auth_reply else '-'}.",
                           "Check the user name (often the full address) and password, and that "
                           "the mechanism is allowed on this connection.", evidence)


def relay(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        unauth = item.relay_result("unauth")
        rcpt = item.relay.get("unauth")
        evidence = exchange_lines(rcpt)
        if unauth == "accepted":
            yield _finding(item, "relay.open", Severity.CRITICAL,
                           f"Open relay on port {item.record.port}",
                           "The server accepted a recipient in a foreign domain from an "
                           "unauthenticated client: spammers can send through it.",
                           "Postfix: smtpd_relay_restrictions = permit_mynetworks, "
                           "permit_sasl_authenticated, reject_unauth_destination; Exim: accept "
                           "relaying only for authenticated senders and relay_from_hosts.",
                           evidence)
        elif unauth == "denied":
            yield _finding(item, "relay.denied", Severity.OK,
                           f"Relay denied to unauthenticated clients on port {item.record.port} "
                           "(correct)",
                           f"The server answered {rcpt.reply.code if rcpt else '-'} to a foreign "
                           "recipient without AUTH. This is the expected protection, not a fault.",
                           "Nothing to do. Clients must authenticate before sending.", evidence)
        elif unauth == "deferred":
            yield _finding(item, "relay.deferred", Severity.INFO,
                           f"Relay test on port {item.record.port} was deferred (inconclusive)",
                           "A temporary reply (greylisting or a rate limit) neither accepts nor "
                           "denies relaying.", "Retry the probe after a few minutes.", evidence)
        authed = item.relay_result("auth")
        if authed == "accepted":
            yield _finding(item, "relay.auth_accepted", Severity.OK,
                           f"Authenticated relay works on port {item.record.port}",
                           "After AUTH the server accepted a foreign recipient, so an application "
                           "with these credentials can send mail.", "Nothing to do.",
                           exchange_lines(item.relay.get("auth")))
        elif authed in ("denied", "deferred"):
            yield _finding(item, "relay.auth_denied", Severity.CRITICAL,
                           f"Relay denied even after AUTH on port {item.record.port}",
                           "The login succeeded but the server still refused the recipient.",
                           "Allow authenticated clients to relay (Postfix: "
                           "permit_sasl_authenticated in smtpd_relay_restrictions).",
                           exchange_lines(item.relay.get("auth")))


def banner_name(context: HostContext) -> Iterator[Finding]:
    if context.host.is_literal:
        return
    target = context.host.ascii_host.lower()
    ptr = context.ptr_names
    for item in context.reached():
        shown = item.banner_host
        if shown is None or shown == target:
            continue
        also_ptr = f" and from the PTR name {', '.join(ptr)}" if ptr and shown not in ptr else ""
        yield _finding(
            item, "name.banner_mismatch", Severity.WARNING,
            f"Greeting on port {item.record.port} names {shown}, not {target}",
            f"The banner host differs from the target name{also_ptr}. Either the server's "
            "own name is set wrong, or a different mail server than intended owns this port.",
            "Set the server's name to the host clients use (Postfix: myhostname; Exim: "
            "primary_hostname) and check which process listens on the port (ss -ltnp).",
            reply_lines(item.banner),
        )


def ports_differ(context: HostContext) -> Iterator[Finding]:
    by_address: dict[str | None, list[EndpointView]] = {}
    for item in context.reached():
        by_address.setdefault(item.record.address, []).append(item)
    for items in by_address.values():
        banners = {item.banner_host or item.banner.lines[0] for item in items if item.banner}
        if len(banners) < 2:
            continue
        first = items[0]
        yield Finding(
            "ports.differ", Severity.WARNING, context.host.host,
            f"Ports of {first.record.address} are answered by differently named servers",
            "Greetings name " + ", ".join(sorted(banners)) + ". More than one mail server "
            "or configuration is running on this address.",
            "Check which process owns each port (ss -ltnp) and stop or reconfigure the one "
            "that should not be there.",
            address=first.record.address,
            evidence=tuple(line for item in items for line in reply_lines(item.banner)[:1]),
        )


RULES: tuple[Rule, ...] = (
    dns_unresolved,
    port_unreachable,
    greeting_rejected,
    implicit_tls_failed,
    starttls_missing,
    starttls_failed,
    certificate_problems,
    host_without_auth,
    submission_without_auth,
    auth_offer,
    auth_outcome,
    relay,
    banner_name,
    ports_differ,
)
