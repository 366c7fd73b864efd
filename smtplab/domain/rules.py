"""The judgement: findings from a ``DomainPosture``, one function per record family."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.severity import Severity
from smtplab.domain.dane import TlsaRecord
from smtplab.domain.dkim import RSA_MIN_BITS, RSA_RECOMMENDED_BITS
from smtplab.domain.findings import DomainFinding
from smtplab.domain.lookups import DnsAnswer
from smtplab.domain.model import TlsaCheck
from smtplab.domain.mtasts import SHORT_MAX_AGE, matching_patterns
from smtplab.domain.posture import DomainPosture, MxEndpoint
from smtplab.domain.problem import Problem
from smtplab.domain.spf import LOOKUP_LIMIT, VOID_LOOKUP_LIMIT
from smtplab.i18n import N_

Findings = Iterator[DomainFinding]


FAILED_STATUSES = ("timeout", "servfail", "error")
"""DNS response statuses that say nothing about the records, because the lookup itself failed."""


def judge(posture: DomainPosture) -> list[DomainFinding]:
    """Run every rule and sort the findings, the most urgent first.

    A domain that does not exist gets that one finding. A record whose lookup failed is
    not reported missing: ``domain.dns_failed`` names the failed lookups instead.
    """
    if _nonexistent(posture):
        return [DomainFinding("domain.nxdomain", posture.domain, {"domain": posture.domain},
                              (_answer_line(posture.mx_set.answer),))]
    found: list[DomainFinding] = []
    rules = (_dns_failures, _mx, _reverse, _dnssec, _spf, _dmarc, _dkim, _mta_sts, _tlsrpt, _dane)
    for rule in (*rules, _submission):
        found.extend(rule(posture))
    return sorted(found, key=lambda item: item.severity.rank)


def _failed(answer: DnsAnswer | None) -> bool:
    return answer is not None and answer.status in FAILED_STATUSES


def _nonexistent(posture: DomainPosture) -> bool:
    # RFC 8020: below a name that is NXDOMAIN nothing exists either, so no record can help.
    mx_set = posture.mx_set
    return mx_set.answer.status == "nxdomain" and all(
        answer.status == "nxdomain" for answer in mx_set.address_answers
    )


def _dns_failures(posture: DomainPosture) -> Findings:
    failed = [answer for answer in posture.answers if _failed(answer)]
    if failed:
        failures = "; ".join(f"{answer.rdtype} {answer.name}: {answer.status}" for answer in failed)
        yield DomainFinding(
            "domain.dns_failed",
            posture.domain,
            {"domain": posture.domain, "count": len(failed), "failures": failures},
            tuple(_answer_line(answer) for answer in failed),
        )


def _answer_line(answer: DnsAnswer) -> str:
    if not answer.ok:
        return f"{answer.name} {answer.rdtype}: {answer.status}"
    return "; ".join(f"{answer.name} {answer.rdtype} {value}" for value in answer.values)


def _txt_lines(answer: DnsAnswer, values: list[str]) -> tuple[str, ...]:
    return tuple(f'{answer.name} TXT "{value}"' for value in values)


# MX and reverse DNS


def _mx(posture: DomainPosture) -> Findings:
    mx_set, domain = posture.mx_set, posture.domain
    evidence = (_answer_line(mx_set.answer),)
    if mx_set.null_mx:
        code = "domain.null_mx" if mx_set.null_only else "domain.null_mx_mixed"
        yield DomainFinding(
            code, domain, {"domain": domain, "records": ", ".join(mx_set.answer.values)}, evidence
        )
        if mx_set.null_only:
            return
    for literal in mx_set.ip_literals:
        yield DomainFinding("domain.mx_ip_literal", domain, {"domain": domain, "mx": literal}, evidence)
    if mx_set.fallback and mx_set.hosts:
        addresses = ", ".join(mx_set.hosts[0].addresses)
        lines = evidence + tuple(_answer_line(answer) for answer in mx_set.address_answers)
        yield DomainFinding(
            "domain.no_mx_fallback_a", domain, {"domain": domain, "addresses": addresses}, lines
        )
    elif not mx_set.hosts and not mx_set.ip_literals and not _mail_host_lookup_failed(posture):
        status = ", ".join(answer.status for answer in mx_set.address_answers) or mx_set.answer.status
        yield DomainFinding(
            "domain.no_mail_host",
            domain,
            {"domain": domain, "mx_status": mx_set.answer.status, "address_status": status},
            evidence,
        )
    for host in mx_set.hosts:
        if not host.addresses:
            yield DomainFinding(
                "domain.mx_no_address", host.host, {"mx": host.host, "status": host.address_status}, evidence
            )
        if host.alias_of:
            yield DomainFinding(
                "domain.mx_cname",
                host.host,
                {"mx": host.host, "target": host.alias_of},
                (f"{host.host} CNAME {host.alias_of}",),
            )
    yield from _unreachable(posture)


def _mail_host_lookup_failed(posture: DomainPosture) -> bool:
    mx_set = posture.mx_set
    return _failed(mx_set.answer) or any(_failed(answer) for answer in mx_set.address_answers)


def _none_reachable(posture: DomainPosture) -> bool:
    """True when MX endpoints were probed and none completed an SMTP session."""
    endpoints = [item for item in posture.mx_endpoints if item.view is not None]
    return bool(endpoints) and not any(item.view is not None and item.view.ehlo for item in endpoints)


def _unreachable(posture: DomainPosture) -> Findings:
    if not _none_reachable(posture):
        return
    endpoints = [item for item in posture.mx_endpoints if item.view is not None]
    errors = "; ".join(f"{item.mx} [{item.address}]: {item.failure}" for item in endpoints)
    yield DomainFinding("domain.mx_unreachable", posture.domain, {"domain": posture.domain, "errors": errors})


def _reverse(posture: DomainPosture) -> Findings:
    for check in posture.reverse:
        params = {"mx": check.mx, "address": check.address}
        evidence = (_answer_line(check.ptr),)
        if check.confirmed is None:
            yield DomainFinding("domain.ptr_missing", check.mx, params, evidence)
        elif check.confirmed is False:
            forward = "; ".join(
                f"{name}: {', '.join(values) or 'no address'}" for name, values in check.forward.items()
            )
            yield DomainFinding(
                "domain.fcrdns_failed",
                check.mx,
                {**params, "ptr": ", ".join(check.names), "forward": forward},
                evidence,
            )


def _dnssec(posture: DomainPosture) -> Findings:
    if posture.dnssec_validated is False:
        yield DomainFinding(
            "domain.dnssec_not_validated",
            posture.domain,
            {"domain": posture.domain},
            (f"{posture.mx_set.answer.name} MX: AD flag not set",),
        )


# SPF


def _spf(posture: DomainPosture) -> Findings:
    spf, domain = posture.spf_evaluation, posture.domain
    root = spf.root
    params = {"domain": domain}
    if root is None or not root.records:
        if root is not None and _failed(root.answer):
            return
        yield DomainFinding(
            "domain.spf_missing", domain, params, (_answer_line(root.answer),) if root and root.answer else ()
        )
        return
    evidence = _txt_lines(root.answer, root.records) if root.answer else ()
    if len(root.records) > 1:
        yield DomainFinding("domain.spf_multiple", domain, {**params, "count": len(root.records)}, evidence)
        return
    yield from _spf_limits(posture, evidence)
    record = root.records[0]
    if any(term.name == "ptr" for node in spf.nodes if node.parsed for term in node.parsed.terms):
        yield DomainFinding("domain.spf_ptr", domain, params, evidence)
    qualifier = spf.effective_all
    if qualifier == "+":
        yield DomainFinding("domain.spf_plus_all", domain, {**params, "record": record}, evidence)
    elif qualifier not in ("-", "~") and not spf.permerror:
        ending = "?all" if qualifier == "?" else "no all mechanism"
        yield DomainFinding(
            "domain.spf_not_strict", domain, {**params, "all": ending, "record": record}, evidence
        )
    elif not spf.permerror:
        yield DomainFinding(
            "domain.spf_ok",
            domain,
            {
                **params,
                "all": f"{qualifier}all",
                "lookups": spf.lookups,
                "mx_lookups": spf.mx_address_lookups,
            },
            evidence,
        )


def _spf_limits(posture: DomainPosture, evidence: tuple[str, ...]) -> Findings:
    spf, domain = posture.spf_evaluation, posture.domain
    params = {"domain": domain}
    walked = tuple(
        f'{node.domain} TXT "{node.records[0]}"' for node in spf.nodes[1:] if len(node.records) == 1
    )
    if spf.syntax_errors:
        yield DomainFinding(
            "domain.spf_invalid", domain, {**params, "errors": tuple(spf.syntax_errors)}, evidence
        )
    if spf.lookups > LOOKUP_LIMIT:
        yield DomainFinding(
            "domain.spf_lookup_limit", domain, {**params, "lookups": spf.lookups}, evidence + walked
        )
    if spf.void_lookups > VOID_LOOKUP_LIMIT:
        targets = ", ".join(step.target or "" for step in spf.steps if step.void)
        yield DomainFinding(
            "domain.spf_void_lookup_limit",
            domain,
            {**params, "void": spf.void_lookups, "targets": targets},
            evidence,
        )
    if spf.missing_includes:
        yield DomainFinding(
            "domain.spf_include_missing",
            domain,
            {**params, "targets": ", ".join(spf.missing_includes)},
            evidence,
        )
    if spf.multiple_records:
        yield DomainFinding(
            "domain.spf_include_multiple",
            domain,
            {**params, "targets": ", ".join(spf.multiple_records)},
            evidence + walked,
        )
    for chain in spf.loops:
        yield DomainFinding("domain.spf_loop", domain, {**params, "chain": chain}, evidence + walked)
    if spf.too_many_mx:
        yield DomainFinding(
            "domain.spf_mx_limit", domain, {**params, "targets": ", ".join(spf.too_many_mx)}, evidence
        )


# DMARC


def _dmarc(posture: DomainPosture) -> Findings:
    lookup, domain = posture.dmarc_lookup, posture.domain
    params = {"domain": domain}
    answer = lookup.org_answer if lookup.inherited and lookup.org_answer else lookup.answer
    evidence = _txt_lines(answer, lookup.records)
    if not lookup.records:
        if _failed(lookup.answer) or _failed(lookup.org_answer):
            return
        lines = [_answer_line(lookup.answer)]
        if lookup.org_answer is not None:
            lines.append(_answer_line(lookup.org_answer))
        yield DomainFinding("domain.dmarc_missing", domain, params, tuple(lines))
        return
    if len(lookup.records) > 1:
        yield DomainFinding(
            "domain.dmarc_multiple", domain, {**params, "count": len(lookup.records)}, evidence
        )
        return
    record = lookup.parsed
    assert record is not None
    if lookup.inherited:
        yield DomainFinding(
            "domain.dmarc_inherited",
            domain,
            {**params, "org": lookup.source, "policy": record.subdomain_policy or "-"},
            evidence,
        )
    if record.errors:
        yield DomainFinding(
            "domain.dmarc_invalid", domain, {**params, "errors": tuple(record.errors)}, evidence
        )
    if record.tag_errors:
        yield DomainFinding(
            "domain.dmarc_tag_invalid", domain, {**params, "errors": tuple(record.tag_errors)}, evidence
        )
    if record.unknown_tags:
        yield DomainFinding(
            "domain.dmarc_unknown_tag", domain, {**params, "tags": ", ".join(record.unknown_tags)}, evidence
        )
    yield from _dmarc_policy(posture, evidence)


def _dmarc_policy(posture: DomainPosture, evidence: tuple[str, ...]) -> Findings:
    lookup, domain = posture.dmarc_lookup, posture.domain
    record = lookup.parsed
    assert record is not None
    params = {"domain": domain}
    policy = record.subdomain_policy if lookup.inherited else record.policy
    if policy == "none":
        yield DomainFinding("domain.dmarc_none_policy", domain, params, evidence)
    if not lookup.inherited and record.policy in ("quarantine", "reject") and record.tags.get("sp") == "none":
        yield DomainFinding("domain.dmarc_sp_none", domain, {**params, "policy": record.policy}, evidence)
    if record.pct < 100:
        yield DomainFinding("domain.dmarc_pct", domain, {**params, "pct": record.pct}, evidence)
    if not record.rua:
        yield DomainFinding("domain.dmarc_no_rua", domain, params, evidence)
    for check in lookup.rua_checks:
        if not check.authorized:
            yield DomainFinding(
                "domain.dmarc_rua_unauthorized",
                domain,
                {**params, "destination": check.destination, "uri": check.uri, "record": check.name},
                evidence + ((_answer_line(check.answer),) if check.answer else ()),
            )
    if record.valid and policy in ("quarantine", "reject") and record.pct == 100:
        yield DomainFinding(
            "domain.dmarc_enforced", domain, {**params, "policy": policy, "record": record.text}, evidence
        )


# DKIM


def _dkim(posture: DomainPosture) -> Findings:
    for lookup in posture.dkim_lookups:
        params = {"selector": lookup.selector, "name": lookup.name}
        key = lookup.key
        if key is None:
            if _failed(lookup.answer):
                continue
            yield DomainFinding(
                "domain.dkim_missing",
                posture.domain,
                {**params, "status": lookup.answer.status},
                (_answer_line(lookup.answer),),
            )
            continue
        evidence = (f'{lookup.name} TXT "{key.text}"',)
        if key.revoked:
            yield DomainFinding("domain.dkim_revoked", posture.domain, params, evidence)
        elif key.errors:
            yield DomainFinding(
                "domain.dkim_invalid", posture.domain, {**params, "errors": tuple(key.errors)}, evidence
            )
        elif key.key_type == "rsa" and key.bits is not None and key.bits < RSA_RECOMMENDED_BITS:
            code = "domain.dkim_key_too_short" if key.bits < RSA_MIN_BITS else "domain.dkim_weak_key"
            yield DomainFinding(code, posture.domain, {**params, "bits": key.bits}, evidence)
        else:
            yield DomainFinding(
                "domain.dkim_ok",
                posture.domain,
                {**params, "key_type": key.key_type, "bits": key.bits},
                evidence,
            )
        if key.testing:
            yield DomainFinding("domain.dkim_testing", posture.domain, params, evidence)


# MTA-STS


def _mta_sts(posture: DomainPosture) -> Findings:
    lookup, domain = posture.mta_sts_lookup, posture.domain
    params = {"domain": domain}
    if not lookup.records:
        # A domain with a null MX receives no mail, so no sender needs its transport policy.
        if not _failed(lookup.answer) and not posture.mx_set.null_only:
            yield DomainFinding("domain.mta_sts_missing", domain, params, (_answer_line(lookup.answer),))
        return
    evidence = _txt_lines(lookup.answer, lookup.records)
    errors = list(lookup.record.errors) if lookup.record else []
    if len(lookup.records) > 1:
        errors.insert(0, Problem(N_("{count} records published, one is allowed"), count=len(lookup.records)))
    if errors:
        yield DomainFinding(
            "domain.mta_sts_record_invalid", domain, {**params, "errors": tuple(errors)}, evidence
        )
        return
    fetch = lookup.fetch
    if fetch is None or lookup.policy is None:
        if fetch is not None:
            yield DomainFinding(
                "domain.mta_sts_policy_unavailable",
                domain,
                {**params, "url": fetch.url, "status": fetch.status, "detail": fetch.detail or "-"},
                evidence,
            )
        return
    policy = lookup.policy
    evidence = evidence + tuple(f"{fetch.url}: {line}" for line in policy.text.splitlines() if line.strip())
    if not policy.valid:
        yield DomainFinding(
            "domain.mta_sts_policy_invalid", domain, {**params, "errors": tuple(policy.errors)}, evidence
        )
        return
    yield from _mta_sts_policy(posture, evidence)


def _mta_sts_policy(posture: DomainPosture, evidence: tuple[str, ...]) -> Findings:
    policy = posture.mta_sts_lookup.policy
    assert policy is not None
    domain = posture.domain
    if policy.mode == "none":
        yield DomainFinding("domain.mta_sts_mode_none", domain, {"domain": domain}, evidence)
        return
    if policy.max_age is not None and policy.max_age < SHORT_MAX_AGE:
        yield DomainFinding(
            "domain.mta_sts_max_age_short", domain, {"domain": domain, "max_age": policy.max_age}, evidence
        )
    problems = list(_policy_problems(posture, evidence))
    for problem in problems:
        if policy.mode == "enforce" or problem.severity is not Severity.CRITICAL:
            yield problem
    if policy.mode == "testing":
        yield DomainFinding("domain.mta_sts_testing", domain, {"domain": domain}, evidence)
        failing = [f"{item.code} ({item.subject})" for item in problems if item.severity is Severity.CRITICAL]
        if failing:
            yield DomainFinding(
                "domain.mta_sts_testing_failures",
                domain,
                {"domain": domain, "problems": "; ".join(failing)},
                evidence,
            )
    elif not any(item.severity is Severity.CRITICAL for item in problems) and posture.mx_endpoints:
        yield DomainFinding("domain.mta_sts_enforced", domain, {"domain": domain}, evidence)


def _policy_problems(posture: DomainPosture, evidence: tuple[str, ...]) -> Findings:
    """Yield what would stop an MTA-STS sender, per MX, plus names outside the policy (RFC 8461 section 4)."""
    policy = posture.mta_sts_lookup.policy
    assert policy is not None
    patterns = ", ".join(policy.mx)
    seen: set[str] = set()
    for host in posture.mx_set.hosts:
        if not matching_patterns(policy.mx, host.host):
            yield DomainFinding(
                "domain.mta_sts_mx_mismatch",
                host.host,
                {"mx": host.host, "patterns": patterns},
                evidence + (_answer_line(posture.mx_set.answer),),
            )
    # When no MX completes a session, domain.mx_unreachable reports it once for every check.
    silent = _none_reachable(posture)
    for endpoint in posture.mx_endpoints:
        if endpoint.view is None or endpoint.mx in seen or silent:
            continue
        problem = _endpoint_problem(endpoint)
        if problem is not None:
            seen.add(endpoint.mx)
            yield problem
        for name in endpoint.server_names:
            if not matching_patterns(policy.mx, name) and name != endpoint.mx:
                yield DomainFinding(
                    "domain.mta_sts_name_outside_policy",
                    endpoint.mx,
                    {"mx": endpoint.mx, "name": name, "patterns": patterns},
                    _server_lines(endpoint),
                )
                break


def _endpoint_problem(endpoint: MxEndpoint) -> DomainFinding | None:
    label = f"{endpoint.mx} [{endpoint.address}]"
    if endpoint.starttls_done is not True:
        return DomainFinding(
            "domain.mta_sts_no_starttls",
            endpoint.mx,
            {"mx": endpoint.mx, "detail": f"{label}: {endpoint.failure}"},
        )
    names = ", ".join(endpoint.cert_names) or "-"
    if endpoint.cert_matches_mx is False:
        return DomainFinding(
            "domain.mta_sts_cert_mismatch",
            endpoint.mx,
            {"mx": endpoint.mx, "names": names},
            (f"{label} certificate names: {names}",),
        )
    if endpoint.cert_verified is False:
        error = endpoint.view.verify_error if endpoint.view else None
        return DomainFinding(
            "domain.mta_sts_cert_untrusted",
            endpoint.mx,
            {"mx": endpoint.mx, "error": error or "-"},
            (f"{label}: {error}",),
        )
    return None


def _server_lines(endpoint: MxEndpoint) -> tuple[str, ...]:
    view = endpoint.view
    if view is None:
        return ()
    lines = [f"S: {view.banner.code} {view.banner.lines[0]}"] if view.banner else []
    lines += [f"S: 250 {ehlo.greeting} ({phase})" for phase, ehlo in view.ehlo.items()]
    return tuple(lines)


# TLS-RPT and DANE


def _tlsrpt(posture: DomainPosture) -> Findings:
    lookup, domain = posture.tlsrpt_lookup, posture.domain
    if not lookup.records:
        if not _failed(lookup.answer) and not posture.mx_set.null_only:
            yield DomainFinding(
                "domain.tlsrpt_missing", domain, {"domain": domain}, (_answer_line(lookup.answer),)
            )
        return
    if lookup.record:
        errors = list(lookup.record.errors)
    else:
        errors = [Problem(N_("{count} records published"), count=len(lookup.records))]
    if errors:
        yield DomainFinding(
            "domain.tlsrpt_invalid",
            domain,
            {"domain": domain, "errors": tuple(errors)},
            _txt_lines(lookup.answer, lookup.records),
        )


def _dane(posture: DomainPosture) -> Findings:
    checks = [check for check in posture.tlsa_checks if check.records]
    if posture.tlsa_checks and not checks and not any(_failed(check.answer) for check in posture.tlsa_checks):
        yield DomainFinding(
            "domain.dane_missing",
            posture.domain,
            {"domain": posture.domain},
            tuple(_answer_line(check.answer) for check in posture.tlsa_checks),
        )
    for check in checks:
        evidence = tuple(f"{check.name} TLSA {record.text}" for record in check.records)
        params = {"mx": check.mx, "name": check.name}
        if check.answer.authenticated is False:
            yield DomainFinding("domain.tlsa_not_validated", check.mx, params, evidence)
        yield from _tlsa_records(posture, check, params, evidence)


def _tlsa_records(
    posture: DomainPosture, check: TlsaCheck, params: dict[str, object], evidence: tuple[str, ...]
) -> Findings:
    for record in check.records:
        if record.error is not None:
            yield DomainFinding(
                "domain.tlsa_invalid",
                check.mx,
                {**params, "record": record.text, "error": record.error},
                evidence,
            )
        elif record.usage in (0, 1):
            yield DomainFinding(
                "domain.tlsa_pkix_usage",
                check.mx,
                {**params, "record": record.text, "usage": record.usage},
                evidence,
            )
    endpoints = [item for item in posture.mx_endpoints if item.mx == check.mx and item.view is not None]
    silent = _none_reachable(posture)
    signed = check.answer.authenticated is True
    for endpoint in endpoints:
        if silent:
            break
        verdicts = [
            (record, verdict) for address, record, verdict in check.verdicts if address == endpoint.address
        ]
        yield from _tlsa_endpoint(endpoint, verdicts, params, evidence, signed=signed)
    if not endpoints and any(record.error is None and record.usage in (2, 3) for record in check.records):
        yield DomainFinding("domain.tlsa_not_checked", check.mx, params, evidence)


def _tlsa_endpoint(
    endpoint: MxEndpoint,
    verdicts: list[tuple[TlsaRecord, str]],
    params: dict[str, object],
    evidence: tuple[str, ...],
    *,
    signed: bool,
) -> Findings:
    if endpoint.starttls_done is not True:
        yield DomainFinding(
            "domain.tlsa_no_tls",
            endpoint.mx,
            {**params, "detail": f"{endpoint.mx} [{endpoint.address}]: {endpoint.failure}"},
            evidence,
        )
        return
    matched = [record for record, verdict in verdicts if verdict == "match"]
    # DANE-TA (usage 2) authenticates the server only when its certificate also names the MX
    # host (RFC 7672 section 3.1.2). DANE-EE (usage 3) needs no name check.
    misnamed = [record for record in matched if record.usage == 2 and endpoint.cert_matches_mx is False]
    usable = [record for record in matched if record not in misnamed]
    unverifiable = [record for record, verdict in verdicts if verdict == "unverifiable"]
    for record in unverifiable:
        yield DomainFinding(
            "domain.tlsa_unverifiable", endpoint.mx, {**params, "record": record.text}, evidence
        )
    if usable:
        yield DomainFinding(
            "domain.tlsa_match",
            endpoint.mx,
            {**params, "label": usable[0].label, "record": usable[0].text},
            evidence,
        )
    elif misnamed:
        names = ", ".join(endpoint.cert_names) or "-"
        yield DomainFinding(
            "domain.tlsa_ta_name_mismatch",
            endpoint.mx,
            {**params, "names": names, "record": misnamed[0].text},
            evidence + (f"{endpoint.mx} [{endpoint.address}] certificate names: {names}",),
        )
    elif not unverifiable and any(verdict == "mismatch" for _, verdict in verdicts):
        records = "; ".join(record.text for record, verdict in verdicts if verdict == "mismatch")
        # Senders use TLSA records only from a DNSSEC-validated answer (RFC 7672).
        yield DomainFinding(
            "domain.tlsa_mismatch" if signed else "domain.tlsa_mismatch_unsigned",
            endpoint.mx,
            {**params, "address": endpoint.address, "records": records},
            evidence,
        )


def _submission(posture: DomainPosture) -> Findings:
    if posture.submission_requested and not posture.srv:
        yield DomainFinding("domain.submission_srv_missing", posture.domain, {"domain": posture.domain})
