"""The registry of diagnosis rules: add a rule function to ``RULES`` and nowhere else."""

from __future__ import annotations

from smtplab.diagnosis.rules import (
    auth,
    certificates,
    consistency,
    extensions,
    names,
    reachability,
    relay,
    session,
    software,
    tls,
)
from smtplab.diagnosis.rules.base import Rule

RULES: tuple[Rule, ...] = (
    reachability.dns_unresolved,
    reachability.proxy_failed,
    reachability.host_unreachable,
    reachability.port_unreachable,
    reachability.port25_filtered,
    session.greeting_refused,
    session.greeting_slow,
    session.ehlo_rejected,
    session.stalled,
    tls.implicit_tls_failed,
    tls.starttls_missing,
    tls.starttls_failed,
    tls.starttls_extra_data,
    tls.tls_on_plain_port,
    tls.weak_protocol,
    tls.accepted_offers,
    certificates.certificate_problems,
    auth.host_without_auth,
    auth.submission_without_auth,
    auth.auth_unknown,
    auth.auth_offer,
    auth.auth_outcome,
    relay.relay_unauthenticated,
    relay.relay_authenticated,
    names.banner_name,
    names.ehlo_name,
    names.reverse_dns,
    consistency.ports_differ,
    consistency.addresses_differ,
    software.unexpected_software,
    software.software_differs,
    extensions.size_limit,
    extensions.missing_keywords,
    extensions.harvesting_commands,
)

__all__ = ["RULES", "Rule"]
