"""The catalog of findings: one entry per stable code, with its severity and texts.

This module is the one registry of finding codes. ``KINDS`` and ``kind()`` find
the kinds of the endpoint rules defined here and the domain kinds of
``smtplab.diagnosis.domain_kinds``. ``ENDPOINT_KINDS`` lists the endpoint kinds
alone. Texts are English message ids with ``{name}`` parameters; the zh-CN
translations live in ``smtplab/locale``. A rule emits a code and parameters,
never prose, so a finding can be rendered in any catalog language and grouped by
code in frames.
"""

from __future__ import annotations

from collections.abc import Iterable

from smtplab.diagnosis.domain_kinds import DOMAIN_KINDS
from smtplab.diagnosis.kind import FindingKind
from smtplab.diagnosis.severity import Severity
from smtplab.errors import ERROR_NAMES
from smtplab.i18n import N_

CRIT, WARN, INFO, OK = Severity.CRITICAL, Severity.WARNING, Severity.INFO, Severity.OK

_AUTH_POSTFIX = N_(
    "In main.cf or as -o options of the submission service in master.cf: "
    "smtpd_sasl_auth_enable = yes with smtpd_sasl_type = dovecot (or cyrus) and its path."
)
_AUTH_EXIM = N_("Define authenticators (dovecot or plaintext drivers) and advertise them.")
_CHECK_LISTENER = N_(
    "Check which process listens on the port (ss -ltnp) and the server's log at the time of the probe."
)

_KINDS = (
    # Reachability
    FindingKind("dns.unresolved", CRIT, N_("{host} does not resolve to an address"),
                N_("A and AAAA lookups failed ({cause}), so no port could be probed."),
                N_("Publish an A (and AAAA) record for the host, or check the resolver used.")),
    FindingKind("host.dns_failed", CRIT, N_("DNS lookups for {host} failed: {status}"),
                N_("The A and AAAA lookups got no final answer ({cause}), so no port could be probed. "
                   "The name may still exist: the resolver or the domain's name servers timed out or "
                   "reported a failure."),
                N_("Check that the resolver used (--nameserver, or the system's) answers queries, then "
                   "that each name server of the domain answers for {host}, for example with "
                   "dig @SERVER {host} A.")),
    FindingKind("port.refused", WARN, N_("Port {port} refuses connections"),
                N_("Nothing listens on port {port} of {address}: the connection was refused."),
                N_("Start the service on this port or stop telling clients to use it."),
                postfix=N_("Enable the service in master.cf (submission or smtps) and run postfix reload."),
                exim=N_("Add the port to daemon_smtp_ports and restart Exim.")),
    FindingKind("port.timeout", WARN, N_("Port {port} does not answer (filtered)"),
                N_("Connecting to port {port} of {address} timed out, so a firewall probably drops "
                   "the packets."),
                N_("Open the port in the host and network firewalls, or ask the provider whether it "
                   "filters it.")),
    FindingKind("port.unreachable", WARN, N_("Port {port} is unreachable"),
                N_("The network reported {address} as unreachable: {detail}."),
                N_("Check routing to the address from where the probe ran.")),
    FindingKind("port.reset", WARN, N_("Port {port} resets connections"),
                N_("The connection to port {port} was reset: {detail}."),
                _CHECK_LISTENER),
    FindingKind("host.unreachable", CRIT, N_("No port of {host} could be reached"),
                N_("Every probed port failed to connect ({errors}). The host is down, its ports are "
                   "filtered, or the network the probe ran from blocks them."),
                N_("Check that the mail server runs and listens (ss -ltnp), the firewalls, and probe "
                   "again from another network.")),
    FindingKind("proxy.failed", CRIT, N_("The SOCKS proxy {proxy} failed, so {host} was not probed"),
                N_("Connecting through the proxy failed before the proxy tried {host} (ports not "
                   "probed: {ports}): {detail}. Nothing was learned about the mail server."),
                N_("Check that the proxy runs and listens at this address and port, that the user name "
                   "and password are right and that its rules allow the connection, then probe again.")),
    FindingKind("port.submission_only", INFO,
                N_("Port 25 is filtered while a submission port works"),
                N_("Port 25 timed out but port {port} answered. Consumer and cloud networks often "
                   "block outgoing port 25, so this is likely the network the probe ran from, not the "
                   "server."),
                N_("Use port 587 (STARTTLS) or 465 (implicit TLS) for clients; test port 25 from "
                   "another network.")),
    # Greeting and inconclusive results
    FindingKind("greeting.rejected", WARN,
                N_("Port {port} rejected the session at the greeting (inconclusive)"),
                N_("The server refused to talk to this client ({detail}). This is often a blocklist "
                   "entry for the probing address or a pregreet check, so nothing about the server's "
                   "features was learned."),
                N_("Retry from another address and check the server's log for the reason.")),
    FindingKind("greeting.unavailable", WARN, N_("Port {port} is temporarily unavailable (inconclusive)"),
                N_("The greeting was {detail}: a rate limit, too many connections or an overloaded "
                   "server. Nothing about the server's features was learned."),
                N_("Retry in a few minutes; if it persists, raise the server's connection limits.")),
    FindingKind("greeting.slow", INFO, N_("Greeting on port {port} took {seconds} s"),
                N_("The server waited {seconds} s before its greeting. A deliberate greeting delay "
                   "(postscreen, greet_pause) or an overloaded server; clients with short timeouts give "
                   "up."),
                N_("If the delay is not deliberate, check DNS lookups the server makes on connect and "
                   "its load."),
                postfix=N_("See postscreen_greet_wait and smtpd_client_connection_rate_limit."),
                exim=N_("Check for a delay in acl_smtp_connect and rfc1413_hosts lookups.")),
    FindingKind("greeting.ehlo_rejected", WARN, N_("Port {port} rejects EHLO but accepts HELO"),
                N_("EHLO was answered {code}; HELO worked, so no extension (STARTTLS, AUTH) can be "
                   "used on this port."),
                N_("Allow EHLO for all clients; check helo restrictions that reject the EHLO name "
                   "{ehlo_name}.")),
    FindingKind("probe.timeout", WARN, N_("Port {port} stopped answering at {step} (inconclusive)"),
                N_("No complete reply came within the timeout ({detail}). The server may tarpit this "
                   "client or be overloaded."),
                N_("Retry with a longer --timeout (one reply) or --deadline (the whole conversation); "
                   "check the server's log and load.")),
    FindingKind("probe.protocol_error", WARN, N_("Port {port} broke the SMTP protocol at {step}"),
                N_("The server sent something that is not a valid SMTP reply: {detail}."),
                _CHECK_LISTENER),
    # TLS
    FindingKind("tls.starttls_missing", WARN, N_("Port {port} does not offer STARTTLS"),
                N_("Mail and passwords on this port travel unencrypted."),
                N_("Configure a certificate and key and enable STARTTLS."),
                postfix=N_("smtpd_tls_cert_file, smtpd_tls_key_file and smtpd_tls_security_level = may."),
                exim=N_("tls_certificate, tls_privatekey and tls_advertise_hosts = *.")),
    FindingKind("tls.starttls_refused", CRIT, N_("Port {port} refuses STARTTLS ({code})"),
                N_("The server offers STARTTLS but answered {code} to it, so clients that require "
                   "encryption cannot send."),
                N_("Check that the certificate and key files exist and are readable by the server.")),
    FindingKind("tls.starttls_failed", CRIT, N_("TLS handshake after STARTTLS on port {port} failed"),
                N_("The upgrade did not complete: {detail}."),
                N_("Check the certificate, key and TLS settings and the server's log.")),
    FindingKind("tls.implicit_failed", CRIT, N_("TLS handshake on implicit-TLS port {port} failed: {error}"),
                N_("{detail}. Clients configured for SSL/TLS on this port cannot connect."),
                N_("Check that the service on this port has TLS enabled with a certificate and key."),
                postfix=N_("The smtps service in master.cf needs -o smtpd_tls_wrappermode=yes."),
                exim=N_("List the port in tls_on_connect_ports.")),
    FindingKind("tls.implicit_plaintext", CRIT,
                N_("Port {port} speaks plaintext SMTP where implicit TLS was expected"),
                N_("The port answered with a plaintext greeting ({detail}) instead of a TLS handshake."),
                N_("Enable TLS from the first byte on this port, or tell clients to use STARTTLS."),
                postfix=N_("Add -o smtpd_tls_wrappermode=yes to the smtps service in master.cf."),
                exim=N_("List the port in tls_on_connect_ports.")),
    FindingKind("tls.plain_port_tls", WARN, N_("Port {port} speaks TLS where plaintext SMTP was expected"),
                N_("No greeting came in plaintext, but a TLS handshake succeeded: the port uses implicit "
                   "TLS."),
                N_("Tell clients to use SSL/TLS on this port, or probe it as {port}/tls.")),
    FindingKind("tls.starttls_extra_data", CRIT,
                N_("Port {port} sent plaintext data after accepting STARTTLS"),
                N_("Bytes arrived after the 220 to STARTTLS and before the TLS handshake: {data}. A "
                   "server that buffers plaintext across the TLS switch may also run commands an "
                   "attacker injects before TLS (the CVE-2011-0411 class)."),
                N_("Update the mail server; it must discard buffered input when TLS starts "
                   "(RFC 3207 section 4.2).")),
    FindingKind("tls.obsolete_version", WARN, N_("Port {port} negotiated {version}"),
                N_("TLS 1.0 and 1.1 are deprecated (RFC 8996); the server chose {version} as its best."),
                N_("Enable TLS 1.2 and 1.3 and disable older versions."),
                postfix=N_("smtpd_tls_protocols = >=TLSv1.2 (Postfix 3.6 and newer)."),
                exim=N_("tls_require_ciphers with a modern priority string.")),
    FindingKind("tls.obsolete_accepted", WARN, N_("Port {port} still accepts {versions}"),
                N_("Besides its best protocol, the server completed a handshake limited to {versions}, "
                   "which RFC 8996 deprecates, so a client or an attacker in the path can downgrade "
                   "the connection."),
                N_("Disable TLS 1.0 and 1.1 on the server."),
                postfix=N_("smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2 "
                           "(Postfix 3.6 and newer)."),
                exim=N_("openssl_options = +no_tlsv1 +no_tlsv1_1 (OpenSSL builds).")),
    FindingKind("tls.weak_cipher_accepted", WARN, N_("Port {port} accepts weak ciphers: {cipher}"),
                N_("A handshake that offered only 3DES, RC4, DES, NULL, export or anonymous ciphers "
                   "succeeded with {cipher}."),
                N_("Remove weak ciphers from the server's cipher list."),
                postfix=N_("smtpd_tls_exclude_ciphers = aNULL, eNULL, EXPORT, DES, RC4, MD5, 3DES."),
                exim=N_("tls_require_ciphers with a list of modern ciphers only.")),
    FindingKind("tls.weak_cipher", WARN, N_("Port {port} negotiated a weak cipher: {cipher}"),
                N_("The negotiated cipher {cipher} ({bits} bits) is considered weak."),
                N_("Restrict the server to modern AEAD ciphers.")),
    FindingKind("cert.expired", CRIT, N_("Certificate on port {port} expired {days} days ago"),
                N_("{subject}. Clients that check certificates refuse the connection."),
                N_("Renew the certificate and reload the server.")),
    FindingKind("cert.expiring", WARN, N_("Certificate on port {port} expires in {days} days"),
                N_("{subject}."),
                N_("Renew it now and check that automatic renewal reloads the mail server.")),
    FindingKind("cert.self_signed", WARN, N_("Certificate on port {port} is self-signed"),
                N_("{subject}. Clients that check certificates reject it."),
                N_("Use a certificate from a public CA (for example Let's Encrypt) with its chain.")),
    FindingKind("cert.untrusted", WARN, N_("Certificate on port {port} is not trusted: {verify_error}"),
                N_("The chain does not verify against the trusted CAs. {subject}."),
                N_("Install a certificate from a public CA with its full chain (the intermediate "
                   "certificates too)."),
                postfix=N_("smtpd_tls_chain_files or smtpd_tls_cert_file must contain the full chain."),
                exim=N_("tls_certificate must contain the full chain.")),
    FindingKind("cert.name_mismatch", WARN, N_("Certificate on port {port} does not name {host}"),
                N_("The certificate names {names}; clients that check host names reject it."),
                N_("Issue the certificate for the name clients connect to, or use a name it carries.")),
    # Names
    FindingKind("name.banner_mismatch", WARN, N_("Greeting on port {port} names {shown}, not {target}"),
                N_("The greeting names a host other than the target. Either the server's own name is "
                   "set wrong, or a different mail server than intended owns this port."),
                N_("Set the server's name to the host clients use and check which process owns the "
                   "port (ss -ltnp)."),
                postfix=N_("myhostname in main.cf (also check smtpd_banner)."),
                exim=N_("primary_hostname (also check smtp_banner).")),
    FindingKind("name.ehlo_mismatch", INFO, N_("EHLO on port {port} names {ehlo}, the greeting {shown}"),
                N_("The EHLO reply and the greeting name different hosts, a sign of a proxy or of a "
                   "banner set by hand."),
                N_("Make the greeting and EHLO name the same host.")),
    FindingKind("name.ptr_missing", WARN, N_("{address} has no PTR record"),
                N_("Many receivers reject or score mail from addresses without reverse DNS."),
                N_("Ask the owner of the address block (the hosting provider) to set a PTR record "
                   "naming the mail server.")),
    FindingKind("name.fcrdns_failed", WARN, N_("PTR of {address} ({ptr}) does not resolve back to it"),
                N_("Forward-confirmed reverse DNS fails: {ptr} resolves to {forward}."),
                N_("Make the PTR name's A/AAAA record include {address}, or change the PTR record.")),
    FindingKind("name.ptr_banner_mismatch", INFO, N_("PTR of {address} is {ptr}, the greeting names {shown}"),
                N_("Receivers compare the greeting, EHLO name and reverse DNS; a mismatch costs "
                   "reputation."),
                N_("Use one name for PTR, greeting and EHLO.")),
    # AUTH
    FindingKind("auth.after_starttls", OK, N_("Port {port} offers AUTH only after STARTTLS (correct)"),
                N_("AUTH {mechanisms} appears in the EHLO reply inside TLS and not before it, so "
                   "passwords are never sent in clear."),
                N_("Nothing to do. Configure clients to use STARTTLS on this port.")),
    FindingKind("auth.plaintext", WARN, N_("Port {port} offers AUTH before TLS"),
                N_("AUTH {mechanisms} is offered on an unencrypted connection, so a client may send "
                   "its password in clear."),
                N_("Offer AUTH only inside TLS."),
                postfix=N_("smtpd_tls_auth_only = yes."),
                exim=N_("auth_advertise_hosts = ${{if eq{{$tls_in_cipher}}{{}}{{}}{{*}}}}")),
    FindingKind("auth.none", CRIT, N_("No port offers AUTH, before or after STARTTLS"),
                N_("EHLO was sent again inside TLS and still lists no AUTH, so a mail client or "
                   "application cannot log in to send. The server is set up to receive mail only, or "
                   "the intended mail server does not own these ports."),
                N_("Enable SMTP AUTH on the submission ports."), postfix=_AUTH_POSTFIX, exim=_AUTH_EXIM),
    FindingKind("auth.submission_missing", CRIT,
                N_("Submission port {port} offers no AUTH, even inside TLS"),
                N_("Mail clients and applications must authenticate on a submission port; without "
                   "AUTH they cannot send."),
                N_("Enable SMTP AUTH on this port."), postfix=_AUTH_POSTFIX, exim=_AUTH_EXIM),
    FindingKind("auth.unknown", INFO, N_("AUTH on port {port} is unknown because TLS was never reached"),
                N_("Most servers offer AUTH only inside TLS, and this probe could not get there, so "
                   "it cannot say whether AUTH is enabled."),
                N_("Fix the TLS problem first, then probe again.")),
    FindingKind("auth.accepted", OK, N_("Login with {mechanism} on port {port} succeeded"),
                N_("The server verified the credentials ({code})."), N_("Nothing to do.")),
    FindingKind("auth.accepted_early", CRIT,
                N_("Port {port} accepted the login before the password was sent"),
                N_("The server answered 235 to {mechanism} before the step that carries the password, "
                   "so it does not check passwords."),
                N_("Fix the authentication backend: every login must be verified.")),
    FindingKind("auth.rejected", CRIT, N_("Login with {mechanism} on port {port} failed ({code})"),
                N_("The server rejected the credentials."),
                N_("Check the user name (often the full mail address) and the password.")),
    FindingKind("auth.needs_encryption", WARN,
                N_("Login with {mechanism} on port {port} needs encryption ({code})"),
                N_("The server accepts this mechanism only inside TLS or a stronger mechanism."),
                N_("Configure the client for STARTTLS or SSL/TLS.")),
    FindingKind("auth.unsupported", WARN,
                N_("Mechanism {mechanism} is not supported on port {port} ({code})"),
                N_("The server refused the mechanism although it was chosen from its offer."),
                N_("Use another advertised mechanism, and align the advertised list with the backend.")),
    FindingKind("auth.deferred", INFO, N_("Login on port {port} was deferred ({code}, inconclusive)"),
                N_("A temporary failure: the authentication backend may be down or rate limited."),
                N_("Retry later and check the SASL backend (Dovecot, saslauthd).")),
    FindingKind("auth.skipped_no_tls", INFO, N_("Credential check skipped on port {port}: no TLS"),
                N_("The port offers AUTH without TLS, and credentials are sent only inside TLS unless "
                   "plaintext AUTH is allowed explicitly."),
                N_("Check the credentials on a port where TLS works.")),
    FindingKind("auth.skipped_no_mechanism", INFO,
                N_("Credential check skipped on port {port}: no usable mechanism"),
                N_("The server offers none of the mechanisms smtplab can use (CRAM-MD5, PLAIN, LOGIN), "
                   "or not the one requested."),
                N_("Request a mechanism the server lists in its EHLO reply.")),
    # Relay
    FindingKind("relay.open", CRIT, N_("Open relay on port {port}"),
                N_("The server accepted a recipient in a foreign domain from an unauthenticated client: "
                   "anyone can send spam through it."),
                N_("Relay only for authenticated clients and your own networks."),
                postfix=N_("smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
                           "reject_unauth_destination."),
                exim=N_("In acl_check_rcpt accept relaying only for relay_from_hosts and authenticated "
                        "senders.")),
    FindingKind("relay.denied", OK, N_("Relay denied to unauthenticated clients on port {port} (correct)"),
                N_("The server answered {code} to a foreign recipient without AUTH. This is the expected "
                   "protection, not a fault."),
                N_("Nothing to do. Clients must authenticate before sending.")),
    FindingKind("relay.deferred", INFO, N_("Relay test on port {port} was deferred (inconclusive)"),
                N_("A temporary reply ({code}, greylisting or a rate limit) neither accepts nor denies "
                   "relaying."),
                N_("Retry the probe after a few minutes.")),
    FindingKind("relay.sender_rejected", INFO, N_("Port {port} rejected the test sender (inconclusive)"),
                N_("MAIL FROM was answered {code}, so the relay test could not run."),
                N_("Retry with --mail-from set to an address the server accepts.")),
    FindingKind("relay.auth_accepted", OK, N_("Authenticated relay works on port {port}"),
                N_("After AUTH the server accepted a foreign recipient, so an application with these "
                   "credentials can send mail."),
                N_("Nothing to do.")),
    FindingKind("relay.auth_denied", CRIT, N_("Relay denied even after AUTH on port {port}"),
                N_("The login succeeded but the server still refused the recipient ({code})."),
                N_("Allow authenticated clients to relay."),
                postfix=N_("Add permit_sasl_authenticated to smtpd_relay_restrictions."),
                exim=N_("Accept authenticated senders in acl_check_rcpt.")),
    # Extensions
    FindingKind("ext.size_small", INFO, N_("Port {port} limits messages to {size_mb} MB"),
                N_("SIZE {size} bytes; base64 encoding adds a third, so attachments over about "
                   "{attachment_mb} MB are refused."),
                N_("Raise the limit if users send large attachments."),
                postfix=N_("message_size_limit in main.cf."), exim=N_("message_size_limit.")),
    FindingKind("ext.no_pipelining", INFO, N_("Port {port} does not offer PIPELINING"),
                N_("Clients wait for each reply in turn (RFC 2920), which slows delivery."),
                N_("Enable PIPELINING unless a middlebox breaks it.")),
    FindingKind("ext.no_8bitmime", INFO, N_("Port {port} does not offer 8BITMIME"),
                N_("Messages with 8-bit content must be re-encoded by the client (RFC 6152)."),
                N_("Enable 8BITMIME.")),
    FindingKind("ext.no_smtputf8", INFO, N_("Port {port} does not offer SMTPUTF8"),
                N_("Addresses with non-ASCII characters cannot be used (RFC 6531)."),
                N_("Enable SMTPUTF8 if users have internationalised addresses."),
                postfix=N_("smtputf8_enable = yes.")),
    FindingKind("ext.no_enhancedstatuscodes", INFO, N_("Port {port} does not offer ENHANCEDSTATUSCODES"),
                N_("Error replies carry no enhanced status code (RFC 2034), so clients get less "
                   "precise errors."),
                N_("Enable ENHANCEDSTATUSCODES.")),
    FindingKind("ext.vrfy", WARN, N_("Port {port} offers VRFY"),
                N_("VRFY lets anyone test which addresses exist (address harvesting)."),
                N_("Disable VRFY."), postfix=N_("disable_vrfy_command = yes."),
                exim=N_("Do not list VRFY in acl_smtp_vrfy (deny it).")),
    FindingKind("ext.expn", WARN, N_("Port {port} offers EXPN"),
                N_("EXPN reveals mailing list members and aliases (address harvesting)."),
                N_("Disable EXPN."), exim=N_("Deny it in acl_smtp_expn.")),
    # Consistency
    FindingKind("ports.differ", WARN, N_("Ports of {address} are answered by differently named servers"),
                N_("Greetings name {banners}. More than one mail server or configuration runs on this "
                   "address."),
                N_("Check which process owns each port (ss -ltnp) and stop or reconfigure the one that "
                   "should not be there.")),
    FindingKind("software.unexpected", WARN, N_("Port {port} is not served as expected"),
                N_("The greeting, the EHLO reply or the software guess differs from what was expected; "
                   "the evidence lists each difference."),
                N_("Check which process owns the port (ss -ltnp): another mail server may have taken it, "
                   "or the expected one is configured with another name.")),
    FindingKind("ports.software_differ", WARN, N_("Ports of {address} run different mail software"),
                N_("The replies look like {software}. Ports of one address are normally served by one "
                   "mail server."),
                N_("Check which process owns each port (ss -ltnp) and stop the one that should not be "
                   "there.")),
    FindingKind("addresses.differ", WARN, N_("Addresses of {host} behave differently"),
                N_("Port {port} behaves differently depending on the address (see the evidence), so "
                   "clients reach a different server depending on the address they pick."),
                N_("Configure every address the name resolves to alike, or remove the stale one from "
                   "DNS.")),
)


def _index(kinds: Iterable[FindingKind]) -> dict[str, FindingKind]:
    """Map each code to its kind. Raises ValueError when two kinds share a code."""
    index: dict[str, FindingKind] = {}
    for entry in kinds:
        if entry.code in index:
            raise ValueError(f"finding code {entry.code!r} is defined twice: keep one definition")
        index[entry.code] = entry
    return index


ENDPOINT_KINDS: dict[str, FindingKind] = _index(_KINDS)
"""The kinds of the endpoint rules (``smtplab.diagnosis.rules``), without the domain kinds."""

KINDS: dict[str, FindingKind] = _index((*_KINDS, *DOMAIN_KINDS))
"""Every finding kind by code: the endpoint kinds, then the domain kinds."""


def kind(code: str) -> FindingKind:
    try:
        return KINDS[code]
    except KeyError:
        raise KeyError(
            f"unknown finding code {code!r}: add it to smtplab.diagnosis.catalog (endpoint rules) "
            "or smtplab.diagnosis.domain_kinds (domain checks)"
        ) from None


def messages() -> list[str]:
    """Return every translatable text of the catalog, in order, each once.

    The error class names (``smtplab.errors.ERROR_NAMES``) are included: a finding
    parameter with one of these values is translated along with the text it fills.
    """
    texts = [text for entry in KINDS.values() for text in entry.texts()]
    texts.extend(ERROR_NAMES.values())
    return list(dict.fromkeys(texts))
