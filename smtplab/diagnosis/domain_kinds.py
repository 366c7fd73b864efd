"""Finding kinds of the domain checks: MX, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE.

``smtplab.diagnosis.catalog`` merges ``DOMAIN_KINDS`` into its registry, so these
codes are looked up like every other code. The texts are English message ids with
``{name}`` parameters, and their translations live in ``smtplab/locale``.
"""

from __future__ import annotations

from smtplab.diagnosis.kind import FindingKind
from smtplab.diagnosis.severity import Severity
from smtplab.i18n import N_

CRIT, WARN, INFO, OK = Severity.CRITICAL, Severity.WARNING, Severity.INFO, Severity.OK

_SPF_FLATTEN = N_(
    "Replace include chains with ip4 and ip6 ranges, remove includes of services no "
    "longer used, and avoid the ptr and mx mechanisms."
)
_MTA_STS_TLS_POSTFIX = N_(
    "smtpd_tls_chain_files (or smtpd_tls_cert_file) with a certificate for the MX "
    "host name and its full chain; smtpd_tls_security_level = may."
)
_MTA_STS_TLS_EXIM = N_(
    "tls_certificate with a certificate for the MX host name and its full chain; tls_advertise_hosts = *."
)

_MX_KINDS = (
    FindingKind(
        "domain.nxdomain",
        CRIT,
        N_("{domain} does not exist"),
        N_(
            "The DNS answers NXDOMAIN for {domain}, so it has no records at all and mail to it "
            "bounces. No other check applies."
        ),
        N_("Check the spelling, or register and delegate the domain before using it for mail."),
    ),
    FindingKind(
        "domain.dns_failed",
        CRIT,
        N_("DNS lookups for {domain} failed"),
        N_(
            "{count} lookups got no usable answer: {failures}. The checks that need them were "
            "skipped. Senders whose resolvers fail the same way cannot deliver mail."
        ),
        N_(
            "Check the domain's name servers (all of them answer, DNSSEC signatures are valid) and "
            "the resolver this probe used; then probe again."
        ),
    ),
    FindingKind(
        "domain.null_mx",
        INFO,
        N_("{domain} publishes a null MX and accepts no mail"),
        N_('The only MX record is "0 ." (RFC 7505), so senders bounce mail to this domain at once.'),
        N_("Nothing to do if the domain receives no mail; otherwise publish its real MX hosts."),
    ),
    FindingKind(
        "domain.null_mx_mixed",
        CRIT,
        N_("{domain} mixes a null MX with other MX records"),
        N_("A null MX must be the only MX record (RFC 7505 section 3): {records}."),
        N_('Remove either the "0 ." record or the other MX records.'),
    ),
    FindingKind(
        "domain.no_mx_fallback_a",
        WARN,
        N_("{domain} has no MX record; mail goes to its own address"),
        N_(
            "Senders fall back to the domain's A/AAAA records (RFC 5321 section 5.1): {addresses}. "
            "Some senders and spam filters treat a domain without MX as unable to receive mail."
        ),
        N_("Publish an MX record naming the mail server, or a null MX if the domain receives no mail."),
    ),
    FindingKind(
        "domain.no_mail_host",
        CRIT,
        N_("{domain} has neither MX nor address records"),
        N_("MX: {mx_status}; A and AAAA: {address_status}. Mail to this domain bounces."),
        N_("Publish MX records for the domain, or a null MX if it receives no mail."),
    ),
    FindingKind(
        "domain.mx_no_address",
        CRIT,
        N_("MX host {mx} has no address"),
        N_("A and AAAA lookups of {mx} gave {status}, so senders cannot deliver through this MX."),
        N_("Publish A (and AAAA) records for {mx}, or remove it from the MX set."),
    ),
    FindingKind(
        "domain.mx_cname",
        WARN,
        N_("MX host {mx} is an alias of {target}"),
        N_(
            "An MX record must name a host with its own address records, not a CNAME "
            "(RFC 2181 section 10.3); some senders refuse it."
        ),
        N_("Point the MX record at {target} directly."),
    ),
    FindingKind(
        "domain.mx_ip_literal",
        WARN,
        N_("MX record of {domain} names an IP address ({mx})"),
        N_(
            "An MX record must name a host, not an address (RFC 7505 section 2, RFC 5321 section 5.1); "
            "senders look up {mx} as a host name and fail."
        ),
        N_("Give the server a host name with an A record and put that name in the MX record."),
    ),
    FindingKind(
        "domain.mx_unreachable",
        CRIT,
        N_("No MX host of {domain} completed an SMTP session"),
        N_(
            "Every MX endpoint failed: {errors}. Mail to the domain stays in senders' queues and "
            "bounces after some days."
        ),
        N_(
            "Check that the mail server runs and that port 25 is open to the internet. Many ISPs "
            "and cloud networks block outgoing port 25: if the probe ran from such a network, "
            "probe again from another one before changing the server."
        ),
        postfix=N_("Check inet_interfaces in main.cf and the smtp service in master.cf."),
        exim=N_("Check daemon_smtp_ports and local_interfaces."),
    ),
    FindingKind(
        "domain.ptr_missing",
        WARN,
        N_("{address} of MX {mx} has no PTR record"),
        N_(
            "Many receivers reject or score mail from addresses without reverse DNS, and the MX "
            "usually sends mail too."
        ),
        N_("Ask the owner of the address block (the hosting provider) to set a PTR record naming {mx}."),
    ),
    FindingKind(
        "domain.fcrdns_failed",
        WARN,
        N_("PTR of {address} ({ptr}) does not resolve back to it"),
        N_("Forward-confirmed reverse DNS of MX {mx} fails: {ptr} resolves to {forward}."),
        N_("Make the A/AAAA records of {ptr} include {address}, or change the PTR record."),
    ),
    FindingKind(
        "domain.dnssec_not_validated",
        INFO,
        N_("DNS answers for {domain} are not DNSSEC-validated"),
        N_(
            "The resolver did not set the AD flag: the zone is not signed, or the resolver does not "
            "validate. DANE needs DNSSEC, and without it DNS answers can be forged."
        ),
        N_("Sign the zone and publish its DS record at the parent; probe through a validating resolver."),
    ),
)

_SPF_KINDS = (
    FindingKind(
        "domain.spf_missing",
        WARN,
        N_("{domain} publishes no SPF record"),
        N_("Receivers cannot tell which servers may send as {domain}, and DMARC can pass only through DKIM."),
        N_('Publish a TXT record such as "v=spf1 mx -all" that lists every server sending as the domain.'),
    ),
    FindingKind(
        "domain.spf_multiple",
        CRIT,
        N_("{domain} publishes {count} SPF records"),
        N_(
            "A domain must have one SPF record (RFC 7208 section 3.2); with more, receivers return "
            "permerror and SPF fails for all mail."
        ),
        N_("Merge the records into one TXT record."),
    ),
    FindingKind(
        "domain.spf_invalid",
        CRIT,
        N_("SPF record of {domain} has syntax errors"),
        N_("{errors}. Receivers treat the record as a permanent error (permerror)."),
        N_(
            "Fix the record; each term is a mechanism such as ip4:192.0.2.0/24 or a modifier such "
            "as redirect=example.com."
        ),
    ),
    FindingKind(
        "domain.spf_lookup_limit",
        CRIT,
        N_("SPF of {domain} needs {lookups} DNS lookups, more than 10"),
        N_(
            "include, a, mx, ptr, exists and redirect count, through every included record (RFC 7208 "
            "section 4.6.4). Over 10, receivers return permerror and DMARC counts SPF as failed."
        ),
        _SPF_FLATTEN,
    ),
    FindingKind(
        "domain.spf_void_lookup_limit",
        CRIT,
        N_("SPF of {domain} has {void} lookups without an answer, more than 2"),
        N_(
            "Lookups that return no record or NXDOMAIN are limited to two (RFC 7208 section 4.6.4); "
            "receivers return permerror. Empty targets: {targets}."
        ),
        N_("Remove mechanisms whose domains no longer exist or have no records."),
    ),
    FindingKind(
        "domain.spf_include_missing",
        CRIT,
        N_("SPF of {domain} includes domains without SPF: {targets}"),
        N_("An include whose domain has no SPF record is a permanent error (RFC 7208 section 5.2)."),
        N_("Remove the include, or correct the domain name of the sending service."),
    ),
    FindingKind(
        "domain.spf_include_multiple",
        CRIT,
        N_("SPF of {domain} includes domains with more than one SPF record: {targets}"),
        N_(
            "A domain reached by include or redirect must publish one SPF record; with two or more, "
            "receivers stop with permerror (RFC 7208 sections 4.5 and 5.2)."
        ),
        N_("Merge the SPF records of each domain listed into one, or remove the include."),
    ),
    FindingKind(
        "domain.spf_loop",
        CRIT,
        N_("SPF of {domain} includes itself"),
        N_("The include or redirect chain loops: {chain}. Receivers stop with permerror."),
        N_("Remove the include or redirect that points back."),
    ),
    FindingKind(
        "domain.spf_mx_limit",
        CRIT,
        N_("An mx mechanism in SPF of {domain} names more than 10 hosts"),
        N_("The mx mechanism may look up at most 10 MX hosts (RFC 7208 section 4.6.4): {targets}."),
        N_("List the sending servers with ip4 and ip6 instead of mx."),
    ),
    FindingKind(
        "domain.spf_plus_all",
        CRIT,
        N_("SPF of {domain} ends with +all"),
        N_("The record {record} lets every address on the internet send as {domain}."),
        N_("End the record with -all (or ~all while testing)."),
    ),
    FindingKind(
        "domain.spf_not_strict",
        WARN,
        N_("SPF of {domain} does not end with -all or ~all"),
        N_(
            "The record ends with ?all or with no all mechanism, so servers not listed get a neutral "
            "result and the record protects nothing against forged senders. The record: {record}."
        ),
        N_("End the record with -all or ~all."),
    ),
    FindingKind(
        "domain.spf_ptr",
        WARN,
        N_("SPF of {domain} uses the ptr mechanism"),
        N_("ptr is slow, unreliable and should not be used (RFC 7208 section 5.5); some receivers skip it."),
        N_("Replace ptr with ip4 and ip6 ranges."),
    ),
    FindingKind(
        "domain.spf_ok",
        OK,
        N_("SPF of {domain} is valid and ends with {all}"),
        N_("DNS lookups used: {lookups} of 10. MX host address lookups, counted apart: {mx_lookups}."),
        N_("Nothing to do."),
    ),
)

_DMARC_KINDS = (
    FindingKind(
        "domain.dmarc_missing",
        WARN,
        N_("{domain} publishes no DMARC record"),
        N_(
            "No record at _dmarc.{domain} or at its organizational domain, so receivers apply no "
            "policy to forged mail and send no reports."
        ),
        N_(
            'Publish "v=DMARC1; p=none; rua=mailto:dmarc@{domain}", read the reports, then move '
            "to p=quarantine or p=reject."
        ),
    ),
    FindingKind(
        "domain.dmarc_multiple",
        CRIT,
        N_("{domain} publishes {count} DMARC records"),
        N_("With more than one record, receivers apply no DMARC policy at all (RFC 7489 section 6.6.3)."),
        N_("Keep exactly one TXT record at _dmarc.{domain}."),
    ),
    FindingKind(
        "domain.dmarc_invalid",
        CRIT,
        N_("DMARC record of {domain} is invalid"),
        N_("{errors}."),
        N_('Fix the record; it starts "v=DMARC1; p=" followed by none, quarantine or reject.'),
    ),
    FindingKind(
        "domain.dmarc_tag_invalid",
        WARN,
        N_("DMARC record of {domain} has invalid tag values"),
        N_("Receivers ignore these tags and use their defaults (RFC 7489 section 6.3): {errors}."),
        N_("Correct the values listed, or remove the tags to use the defaults on purpose."),
    ),
    FindingKind(
        "domain.dmarc_unknown_tag",
        WARN,
        N_("DMARC record of {domain} has unknown tags: {tags}"),
        N_("Receivers ignore unknown tags (RFC 7489 section 6.3), so a misspelt tag silently does nothing."),
        N_("Correct or remove the tags."),
    ),
    FindingKind(
        "domain.dmarc_none_policy",
        WARN,
        N_("DMARC policy of {domain} is p=none"),
        N_("Receivers deliver mail that fails DMARC as usual: p=none asks them for no action."),
        N_(
            "Collect aggregate reports (rua=mailto:...) until every legitimate sender passes, then "
            "move to p=quarantine and then p=reject."
        ),
    ),
    FindingKind(
        "domain.dmarc_sp_none",
        WARN,
        N_("DMARC of {domain} sets sp=none for subdomains"),
        N_("Mail forged from subdomains is delivered although the domain itself uses p={policy}."),
        N_("Remove sp= to apply p= to subdomains, or set sp=quarantine or sp=reject."),
    ),
    FindingKind(
        "domain.dmarc_pct",
        WARN,
        N_("DMARC of {domain} applies its policy to {pct}% of mail"),
        N_("The rest of the failing mail gets the next weaker policy."),
        N_("Raise pct to 100 (or remove the tag) once reports are clean."),
    ),
    FindingKind(
        "domain.dmarc_no_rua",
        INFO,
        N_("DMARC of {domain} requests no aggregate reports"),
        N_("Without rua, nobody learns which servers send as the domain or fail authentication."),
        N_("Add rua=mailto: with a mailbox that collects the reports."),
    ),
    FindingKind(
        "domain.dmarc_rua_unauthorized",
        WARN,
        N_("{destination} has not agreed to receive DMARC reports for {domain}"),
        N_(
            '{uri} sends reports to another domain, which must publish a TXT record "v=DMARC1" '
            "at {record} (RFC 7489 section 7.1); receivers drop the reports otherwise."
        ),
        N_("Publish that record in {destination}, or use a report address within {domain}."),
    ),
    FindingKind(
        "domain.dmarc_inherited",
        INFO,
        N_("{domain} has no DMARC record of its own; the one of {org} applies"),
        N_("Receivers use the organizational domain's record with its subdomain policy {policy}."),
        N_("Publish a record at _dmarc.{domain} if the subdomain needs its own policy."),
    ),
    FindingKind(
        "domain.dmarc_enforced",
        OK,
        N_("DMARC of {domain} enforces p={policy}"),
        N_("The record: {record}."),
        N_("Nothing to do."),
    ),
)

_DKIM_KINDS = (
    FindingKind(
        "domain.dkim_missing",
        WARN,
        N_("No DKIM key at selector {selector}"),
        N_("{name} gave {status}, so mail signed with this selector fails DKIM."),
        N_("Publish the key your mail server or provider shows for selector {selector}."),
    ),
    FindingKind(
        "domain.dkim_revoked",
        INFO,
        N_("DKIM key at selector {selector} is revoked"),
        N_("The record has an empty p= (RFC 6376 section 3.6.1), so signatures with it fail."),
        N_("Nothing to do if the selector is retired; otherwise publish the key."),
    ),
    FindingKind(
        "domain.dkim_invalid",
        CRIT,
        N_("DKIM key at selector {selector} is invalid"),
        N_("{errors}. Signatures with this selector fail."),
        N_("Publish the key again exactly as the signing software exports it."),
    ),
    FindingKind(
        "domain.dkim_key_too_short",
        CRIT,
        N_("DKIM key at selector {selector} has only {bits} bits"),
        N_("Receivers reject RSA keys under 1024 bits (RFC 8301 section 3.2)."),
        N_("Generate a 2048-bit RSA key and publish it under a new selector."),
    ),
    FindingKind(
        "domain.dkim_weak_key",
        WARN,
        N_("DKIM key at selector {selector} has {bits} bits"),
        N_("Signers should use RSA keys of at least 2048 bits (RFC 8301 section 3.2)."),
        N_("Generate a 2048-bit RSA key and publish it under a new selector."),
    ),
    FindingKind(
        "domain.dkim_testing",
        INFO,
        N_("DKIM key at selector {selector} is in testing mode"),
        N_("t=y asks receivers to treat failed signatures like unsigned mail."),
        N_("Remove t=y once signing works."),
    ),
    FindingKind(
        "domain.dkim_ok",
        OK,
        N_("DKIM key at selector {selector}: {key_type} {bits} bits"),
        N_("The key record {name} is valid."),
        N_("Nothing to do."),
    ),
)

_MTA_STS_KINDS = (
    FindingKind(
        "domain.mta_sts_missing",
        INFO,
        N_("{domain} publishes no MTA-STS policy"),
        N_("Senders fall back to opportunistic TLS, which an attacker on the path can strip."),
        N_(
            'Publish _mta-sts.{domain} TXT "v=STSv1; id=..." and a policy at '
            "https://mta-sts.{domain}/.well-known/mta-sts.txt."
        ),
    ),
    FindingKind(
        "domain.mta_sts_record_invalid",
        CRIT,
        N_("The _mta-sts record of {domain} is invalid"),
        N_("{errors}. Senders ignore the policy (RFC 8461 section 3.1)."),
        N_('Publish exactly one TXT record "v=STSv1; id=" with an id of 1 to 32 letters and digits.'),
    ),
    FindingKind(
        "domain.mta_sts_policy_unavailable",
        WARN,
        N_("The MTA-STS policy of {domain} cannot be fetched"),
        N_(
            "{url}: {status}, {detail}. The TXT record announces a policy that senders cannot read, "
            "so those without a cached copy deliver as if there were no MTA-STS (RFC 8461 section 5)."
        ),
        N_(
            "Serve the policy over HTTPS with a valid certificate for mta-sts.{domain}, status 200 and "
            "Content-Type text/plain, without redirects."
        ),
    ),
    FindingKind(
        "domain.mta_sts_policy_invalid",
        CRIT,
        N_("The MTA-STS policy of {domain} is invalid"),
        N_("{errors}. Senders ignore an invalid policy."),
        N_("Fix the policy file: version: STSv1, mode, mx lines and max_age."),
    ),
    FindingKind(
        "domain.mta_sts_testing",
        INFO,
        N_("MTA-STS of {domain} is in testing mode"),
        N_("Senders report failures but deliver anyway."),
        N_("Switch to mode: enforce once TLS reports show no failures."),
    ),
    FindingKind(
        "domain.mta_sts_mode_none",
        INFO,
        N_("MTA-STS of {domain} has mode none"),
        N_("mode: none withdraws the policy."),
        N_("Nothing to do if the policy is meant to be withdrawn."),
    ),
    FindingKind(
        "domain.mta_sts_testing_failures",
        WARN,
        N_("Enforcing the MTA-STS policy of {domain} would stop mail"),
        N_("In testing mode senders only report these problems: {problems}."),
        N_("Fix them before switching to mode: enforce."),
    ),
    FindingKind(
        "domain.mta_sts_mx_mismatch",
        CRIT,
        N_("MX host {mx} is not listed in the MTA-STS policy"),
        N_("The policy's mx patterns are {patterns}; senders that enforce it refuse to deliver to {mx}."),
        N_('Add "mx: {mx}" (or a matching *. pattern) to the policy, then change its id in the TXT record.'),
    ),
    FindingKind(
        "domain.mta_sts_cert_mismatch",
        CRIT,
        N_("The certificate of MX {mx} does not name {mx}"),
        N_(
            "The certificate names {names}. MTA-STS senders check it against the MX host name and "
            "refuse to deliver."
        ),
        N_("Install a certificate that names {mx}."),
        postfix=_MTA_STS_TLS_POSTFIX,
        exim=_MTA_STS_TLS_EXIM,
    ),
    FindingKind(
        "domain.mta_sts_cert_untrusted",
        CRIT,
        N_("The certificate of MX {mx} is not trusted"),
        N_("Verification failed ({error}). MTA-STS senders require a certificate from a trusted CA."),
        N_("Install a certificate from a public CA with its full chain."),
        postfix=_MTA_STS_TLS_POSTFIX,
        exim=_MTA_STS_TLS_EXIM,
    ),
    FindingKind(
        "domain.mta_sts_no_starttls",
        CRIT,
        N_("MX {mx} did not complete STARTTLS"),
        N_("{detail}. Senders that enforce MTA-STS do not deliver without TLS."),
        N_("Enable STARTTLS with a valid certificate on port 25."),
        postfix=_MTA_STS_TLS_POSTFIX,
        exim=_MTA_STS_TLS_EXIM,
    ),
    FindingKind(
        "domain.mta_sts_name_outside_policy",
        INFO,
        N_("MX {mx} calls itself {name}, which no MTA-STS pattern covers"),
        N_(
            "The greeting or EHLO reply names {name}, outside the patterns {patterns}: the server's own "
            "name is set wrong, or another server answers for this MX."
        ),
        N_("Set the server's host name to the MX name."),
        postfix=N_("myhostname in main.cf."),
        exim=N_("primary_hostname."),
    ),
    FindingKind(
        "domain.mta_sts_max_age_short",
        INFO,
        N_("MTA-STS max_age of {domain} is {max_age} s"),
        N_(
            "Senders forget the policy after this time; RFC 8461 suggests weeks, so a short outage of "
            "the policy host does not lift the protection."
        ),
        N_("Set max_age to at least 604800 (one week), for example 1209600."),
    ),
    FindingKind(
        "domain.mta_sts_enforced",
        OK,
        N_("MTA-STS of {domain} is enforced and every MX satisfies it"),
        N_("Each MX is listed, offers STARTTLS and presents a trusted certificate for its name."),
        N_("Nothing to do."),
    ),
)

_TLS_KINDS = (
    FindingKind(
        "domain.tlsrpt_missing",
        INFO,
        N_("{domain} publishes no TLS-RPT record"),
        N_("Senders cannot report TLS failures (RFC 8460), so MTA-STS or DANE problems go unnoticed."),
        N_('Publish _smtp._tls.{domain} TXT "v=TLSRPTv1; rua=mailto:tlsrpt@{domain}".'),
    ),
    FindingKind(
        "domain.tlsrpt_invalid",
        WARN,
        N_("The TLS-RPT record of {domain} is invalid"),
        N_("{errors}. Senders send no reports."),
        N_('Publish one record "v=TLSRPTv1; rua=" with mailto: or https: addresses.'),
    ),
    FindingKind(
        "domain.dane_missing",
        INFO,
        N_("No MX host of {domain} publishes TLSA records"),
        N_("Senders that support DANE (RFC 7672) fall back to opportunistic TLS."),
        N_('Sign the zone with DNSSEC and publish "3 1 1" TLSA records at _25._tcp of each MX host.'),
    ),
    FindingKind(
        "domain.tlsa_match",
        OK,
        N_("TLSA of {mx} matches its certificate ({label})"),
        N_("{name}: {record}."),
        N_("Nothing to do; publish the next key's TLSA before a key change."),
    ),
    FindingKind(
        "domain.tlsa_ta_name_mismatch",
        CRIT,
        N_("TLSA usage 2 of {mx} matches, but its certificate does not name {mx}"),
        N_(
            "With DANE-TA (usage 2), senders also check that the certificate names the MX host "
            "(RFC 7672 section 3.1.2), and this one names {names}. Senders that use DANE refuse "
            "to deliver. The record: {record}."
        ),
        N_(
            "Issue the MX certificate with {mx} as a subject alternative name, or publish a "
            "DANE-EE record (3 1 1) of the server's key, which senders match without a name check."
        ),
    ),
    FindingKind(
        "domain.tlsa_mismatch_unsigned",
        WARN,
        N_("TLSA records of {mx} do not match its certificate, and the zone is not signed"),
        N_(
            "No record of {name} matches the certificate chain presented on port 25 at {address}: "
            "{records}. Senders ignore TLSA records that are not DNSSEC-validated, so mail flows "
            "today, but DANE senders will refuse to deliver once the zone is signed."
        ),
        N_(
            'Publish TLSA records for the certificate now in use (for example "3 1 1" with the SHA-256 '
            "of its public key) before signing the zone, or remove the stale records."
        ),
    ),
    FindingKind(
        "domain.tlsa_mismatch",
        CRIT,
        N_("TLSA records of {mx} do not match its certificate"),
        N_(
            "No record of {name} matches the certificate chain presented on port 25 at {address}: "
            "{records}. Senders that use DANE refuse to deliver."
        ),
        N_(
            'Publish TLSA records for the certificate now in use (for example "3 1 1" with the SHA-256 '
            "of its public key), keeping the old ones until caches expire."
        ),
    ),
    FindingKind(
        "domain.tlsa_unverifiable",
        INFO,
        N_("TLSA record of {mx} could not be checked: {record}"),
        N_(
            "Usage 2 (DANE-TA) matches a CA certificate of the chain the server sent, and this probe "
            "could not read that chain."
        ),
        N_("Check it with a tool that sees the whole certificate chain."),
    ),
    FindingKind(
        "domain.tlsa_not_checked",
        INFO,
        N_("TLSA records of {mx} were not checked"),
        N_("The MX host was not probed, so no certificate was presented to compare with {name}."),
        N_("Fix the MX host's address records, then probe again."),
    ),
    FindingKind(
        "domain.tlsa_pkix_usage",
        WARN,
        N_("TLSA record of {mx} uses usage {usage}, which SMTP ignores"),
        N_(
            "SMTP clients treat PKIX-TA (0) and PKIX-EE (1) records as unusable (RFC 7672 section 3.1.3): "
            "{record}."
        ),
        N_("Use usage 3 (DANE-EE) or 2 (DANE-TA)."),
    ),
    FindingKind(
        "domain.tlsa_invalid",
        WARN,
        N_("TLSA record of {mx} is malformed"),
        N_("{record}: {error}."),
        N_("Publish the record again as usage selector matching-type data."),
    ),
    FindingKind(
        "domain.tlsa_not_validated",
        WARN,
        N_("TLSA records of {mx} are not DNSSEC-validated"),
        N_("Senders use TLSA records only from a signed zone; without the AD flag they ignore them."),
        N_("Sign the zone of {mx} with DNSSEC, or check through a validating resolver."),
    ),
    FindingKind(
        "domain.tlsa_no_tls",
        CRIT,
        N_("{mx} publishes TLSA records but did not complete STARTTLS"),
        N_("{detail}. Senders that use DANE do not deliver without TLS."),
        N_("Enable STARTTLS on port 25 with the certificate the TLSA records name."),
    ),
    FindingKind(
        "domain.submission_srv_missing",
        INFO,
        N_("{domain} publishes no submission SRV records"),
        N_("Mail clients cannot find the submission server automatically (RFC 6186, RFC 8314)."),
        N_('Publish _submissions._tcp.{domain} SRV "0 1 465 host" and _submission._tcp SRV "0 1 587 host".'),
    ),
)

DOMAIN_KINDS: tuple[FindingKind, ...] = (
    *_MX_KINDS,
    *_SPF_KINDS,
    *_DMARC_KINDS,
    *_DKIM_KINDS,
    *_MTA_STS_KINDS,
    *_TLS_KINDS,
)
