"""Typed DataFrames of a domain posture, each with a declared schema."""

from __future__ import annotations

from typing import Any

import pandas as pd

from smtplab.diagnosis.severity import Severity
from smtplab.domain.findings import DomainFinding
from smtplab.domain.lookups import DnsAnswer
from smtplab.domain.model import DkimLookup, DmarcLookup, TlsaCheck
from smtplab.domain.mtasts import matching_patterns
from smtplab.domain.posture import DomainPosture
from smtplab.domain.spf import SpfEvaluation
from smtplab.frames import typed

MX_SCHEMA: dict[str, str] = {
    "domain": "string",
    "preference": "Int64",
    "host": "string",
    "implicit": "boolean",
    "address": "string",
    "address_status": "string",
    "alias_of": "string",
    "ptr": "string",
    "fcrdns": "boolean",
    "reachable": "boolean",
    "starttls": "boolean",
    "tls_version": "string",
    "cert_names": "string",
    "cert_matches_host": "boolean",
    "cert_verified": "boolean",
    "banner_host": "string",
    "ehlo_host": "string",
    "error_class": "string",
}
RECORD_SCHEMA: dict[str, str] = {
    "purpose": "category",
    "name": "string",
    "rdtype": "category",
    "status": "category",
    "value": "string",
    "ttl": "Int64",
    "authenticated": "boolean",
    "valid": "boolean",
    "summary": "string",
    "problems": "string",
}
SPF_SCHEMA: dict[str, str] = {
    "domain": "string",
    "depth": "Int64",
    "term": "string",
    "kind": "category",
    "qualifier": "string",
    "name": "string",
    "value": "string",
    "target": "string",
    "lookups": "Int64",
    "void": "boolean",
    "status": "string",
    "note": "string",
    "error": "string",
}
DMARC_SCHEMA: dict[str, str] = {
    "domain": "string",
    "source": "string",
    "inherited": "boolean",
    "record": "string",
    "p": "string",
    "sp": "string",
    "pct": "Int64",
    "adkim": "string",
    "aspf": "string",
    "rua": "string",
    "ruf": "string",
    "fo": "string",
    "effective_policy": "string",
    "valid": "boolean",
    "errors": "string",
    "tag_errors": "string",
    "unknown_tags": "string",
}
DKIM_SCHEMA: dict[str, str] = {
    "selector": "string",
    "name": "string",
    "status": "string",
    "key_type": "string",
    "bits": "Int64",
    "revoked": "boolean",
    "testing": "boolean",
    "errors": "string",
}
MTA_STS_SCHEMA: dict[str, str] = {
    "mx": "string",
    "address": "string",
    "policy_id": "string",
    "mode": "string",
    "max_age": "Int64",
    "patterns": "string",
    "mx_listed": "boolean",
    "starttls": "boolean",
    "cert_names": "string",
    "cert_matches_mx": "boolean",
    "cert_verified": "boolean",
    "server_names": "string",
    "names_outside_policy": "string",
    "passes": "boolean",
}
TLSA_SCHEMA: dict[str, str] = {
    "mx": "string",
    "name": "string",
    "address": "string",
    "usage": "Int64",
    "selector": "Int64",
    "matching": "Int64",
    "label": "string",
    "data": "string",
    "verdict": "category",
    "authenticated": "boolean",
}
DNS_SCHEMA: dict[str, str] = {
    "name": "string",
    "rdtype": "category",
    "status": "category",
    "value": "string",
    "ttl": "Int64",
    "authenticated": "boolean",
    "canonical_name": "string",
    "ms": "Float64",
}
FINDING_SCHEMA: dict[str, str] = {
    "severity": "category",
    "code": "string",
    "subject": "string",
    "title": "string",
    "detail": "string",
    "evidence": "string",
    "remedy": "string",
}


def findings_frame(findings: list[DomainFinding], lang: str) -> pd.DataFrame:
    rows = [
        {
            "severity": item.severity.value,
            "code": item.code,
            "subject": item.subject,
            "title": item.title(lang),
            "detail": item.detail(lang),
            "evidence": "\n".join(item.evidence),
            "remedy": item.remedy(lang),
        }
        for item in findings
    ]
    order = pd.CategoricalDtype([severity.value for severity in Severity], ordered=True)
    return typed(rows, FINDING_SCHEMA).astype({"severity": order})


def mx_frame(posture: DomainPosture) -> pd.DataFrame:
    reverse = {(check.mx, check.address): check for check in posture.reverse}
    hosts = {host.host: host for host in posture.mx_set.hosts}
    rows = []
    for endpoint in posture.mx_endpoints:
        host = hosts[endpoint.mx]
        check = reverse.get((endpoint.mx, endpoint.address or ""))
        view = endpoint.view
        plain = view.ehlo.get("plain") if view else None
        rows.append(
            {
                "domain": posture.domain,
                "preference": endpoint.preference,
                "host": endpoint.mx,
                "implicit": host.preference is None,
                "address": endpoint.address,
                "address_status": host.address_status,
                "alias_of": host.alias_of,
                "ptr": ", ".join(check.names) if check else None,
                "fcrdns": check.confirmed if check else None,
                "reachable": view.reachable if view else None,
                "starttls": endpoint.starttls_done,
                "tls_version": view.tls.get("version") if view and view.tls else None,
                "cert_names": " ".join(endpoint.cert_names) or None,
                "cert_matches_host": endpoint.cert_matches_mx,
                "cert_verified": endpoint.cert_verified,
                "banner_host": view.banner_host if view else None,
                "ehlo_host": plain.greeting if plain else None,
                "error_class": view.error if view else None,
            }
        )
    return typed(rows, MX_SCHEMA)


def records_frame(posture: DomainPosture) -> pd.DataFrame:
    """Build one row per MX, TXT, TLSA and SRV record that the checks read, with its parse."""
    rows: list[dict[str, Any]] = []
    rows += _answer_rows("mx", posture.mx_set.answer, lambda value: (True, value, ""))
    for node in posture.spf_evaluation.nodes:
        purpose = "spf" if node.depth == 0 else f"spf ({node.via})"
        rows += _spf_rows(purpose, node.answer, node.records) if node.answer else []
    rows += _dmarc_rows(posture.dmarc_lookup)
    for lookup in posture.dkim_lookups:
        key = lookup.key
        rows += _answer_rows(
            "dkim",
            lookup.answer,
            lambda value, key=key: (
                not key.errors if key else None,
                f"k={key.key_type} bits={key.bits} revoked={key.revoked}" if key else "",
                "; ".join(key.errors) if key else "",
            ),
        )
    sts = posture.mta_sts_lookup
    record = sts.record
    rows += _answer_rows(
        "mta-sts",
        sts.answer,
        lambda value: (
            not record.errors if record else None,
            f"id={record.id}" if record else "",
            "; ".join(record.errors) if record else "",
        ),
    )
    tlsrpt = posture.tlsrpt_lookup.record
    rows += _answer_rows(
        "tls-rpt",
        posture.tlsrpt_lookup.answer,
        lambda value: (
            not tlsrpt.errors if tlsrpt else None,
            f"rua={','.join(tlsrpt.rua)}" if tlsrpt else "",
            "; ".join(tlsrpt.errors) if tlsrpt else "",
        ),
    )
    for check in posture.tlsa_checks:
        rows += _tlsa_rows(check)
    for srv in posture.srv:
        rows.append(
            {
                "purpose": "submission",
                "name": srv.name,
                "rdtype": "SRV",
                "status": "ok",
                "value": f"{srv.priority} {srv.weight} {srv.port} {srv.target}",
                "ttl": srv.ttl,
                "valid": True,
                "summary": f"{srv.target}:{srv.port}",
                "problems": "",
            }
        )
    return typed(rows, RECORD_SCHEMA)


def _answer_rows(purpose: str, answer: DnsAnswer, parse: Any) -> list[dict[str, Any]]:
    base = {
        "purpose": purpose,
        "name": answer.name,
        "rdtype": answer.rdtype,
        "status": answer.status,
        "ttl": answer.ttl,
        "authenticated": answer.authenticated,
    }
    if not answer.values:
        return [{**base, "value": None, "valid": None, "summary": None, "problems": None}]
    rows = []
    for value in answer.values:
        valid, summary, problems = parse(value)
        rows.append({**base, "value": value, "valid": valid, "summary": summary, "problems": problems})
    return rows


def _spf_rows(purpose: str, answer: DnsAnswer, records: list[str]) -> list[dict[str, Any]]:
    from smtplab.domain.spf import parse_spf

    def parse(value: str) -> tuple[bool | None, str, str]:
        if value not in records:
            return None, "not SPF", ""
        parsed = parse_spf(value)
        summary = f"{len(parsed.terms)} terms, all={parsed.all_qualifier or '-'}"
        return not parsed.errors and len(records) == 1, summary, "; ".join(parsed.errors)

    return _answer_rows(purpose, answer, parse)


def _dmarc_rows(lookup: DmarcLookup) -> list[dict[str, Any]]:
    from smtplab.domain.dmarc import is_dmarc, parse_dmarc

    def parse(value: str) -> tuple[bool | None, str, str]:
        if not is_dmarc(value):
            return None, "not DMARC", ""
        parsed = parse_dmarc(value)
        summary = f"p={parsed.policy or '-'} sp={parsed.subdomain_policy or '-'} pct={parsed.pct}"
        problems = "; ".join(parsed.errors + parsed.tag_errors)
        return parsed.valid and len(lookup.records) == 1, summary, problems

    rows = _answer_rows("dmarc", lookup.answer, parse)
    if lookup.org_answer is not None:
        rows += _answer_rows("dmarc (organizational)", lookup.org_answer, parse)
    for check in lookup.rua_checks:
        if check.answer is not None:
            rows += _answer_rows(
                "dmarc report authorization",
                check.answer,
                lambda value, check=check: (check.authorized, check.uri, ""),
            )
    return rows


def _tlsa_rows(check: TlsaCheck) -> list[dict[str, Any]]:
    by_text = {record.text: record for record in check.records}
    return _answer_rows(
        "tlsa",
        check.answer,
        lambda value: (by_text[value].error is None, by_text[value].label, by_text[value].error or ""),
    )


def spf_frame(spf: SpfEvaluation) -> pd.DataFrame:
    rows = [
        {
            "domain": step.domain,
            "depth": step.depth,
            "term": step.term.text,
            "kind": step.term.kind,
            "qualifier": step.term.qualifier,
            "name": step.term.name,
            "value": step.term.value,
            "target": step.target,
            "lookups": step.lookups,
            "void": step.void,
            "status": step.status,
            "note": step.note,
            "error": step.term.error,
        }
        for step in spf.steps
    ]
    for node in spf.nodes:
        if node.parsed is None:
            continue
        rows += [
            {
                "domain": node.domain,
                "depth": node.depth,
                "term": term.text,
                "kind": term.kind,
                "qualifier": term.qualifier,
                "name": term.name,
                "value": term.value,
                "target": None,
                "lookups": 0,
                "void": False,
                "status": None,
                "note": "not evaluated",
                "error": term.error,
            }
            for term in node.parsed.terms
            if term.error is not None
        ]
    return typed(rows, SPF_SCHEMA)


def dmarc_frame(lookup: DmarcLookup) -> pd.DataFrame:
    from smtplab.domain.dmarc import parse_dmarc

    rows = []
    for text in lookup.records:
        record = parse_dmarc(text)
        tags = record.tags
        rows.append(
            {
                "domain": lookup.domain,
                "source": lookup.source,
                "inherited": lookup.inherited,
                "record": text,
                "p": tags.get("p"),
                "sp": tags.get("sp"),
                "pct": record.pct,
                "adkim": tags.get("adkim", "r"),
                "aspf": tags.get("aspf", "r"),
                "rua": tags.get("rua"),
                "ruf": tags.get("ruf"),
                "fo": tags.get("fo"),
                "effective_policy": (record.subdomain_policy if lookup.inherited else record.policy)
                if len(lookup.records) == 1
                else None,
                "valid": record.valid and len(lookup.records) == 1,
                "errors": "; ".join(record.errors),
                "tag_errors": "; ".join(record.tag_errors),
                "unknown_tags": ", ".join(record.unknown_tags),
            }
        )
    return typed(rows, DMARC_SCHEMA)


def dkim_frame(lookups: list[DkimLookup]) -> pd.DataFrame:
    rows = []
    for lookup in lookups:
        key = lookup.key
        rows.append(
            {
                "selector": lookup.selector,
                "name": lookup.name,
                "status": lookup.answer.status,
                "key_type": key.key_type if key else None,
                "bits": key.bits if key else None,
                "revoked": key.revoked if key else None,
                "testing": key.testing if key else None,
                "errors": "; ".join(key.errors) if key else None,
            }
        )
    return typed(rows, DKIM_SCHEMA)


def mta_sts_frame(posture: DomainPosture) -> pd.DataFrame:
    """Build one row per MX address with the checks an MTA-STS sender makes; empty without a policy."""
    lookup = posture.mta_sts_lookup
    policy = lookup.policy
    if policy is None:
        return typed([], MTA_STS_SCHEMA)
    base = {
        "policy_id": lookup.record.id if lookup.record else None,
        "mode": policy.mode,
        "max_age": policy.max_age,
        "patterns": " ".join(policy.mx),
    }
    rows = []
    for endpoint in posture.mx_endpoints:
        listed = bool(matching_patterns(policy.mx, endpoint.mx))
        outside = [name for name in endpoint.server_names if not matching_patterns(policy.mx, name)]
        passes = (
            listed
            and endpoint.starttls_done is True
            and endpoint.cert_matches_mx is True
            and (endpoint.cert_verified is True)
        )
        rows.append(
            {
                **base,
                "mx": endpoint.mx,
                "address": endpoint.address,
                "mx_listed": listed,
                "starttls": endpoint.starttls_done,
                "cert_names": " ".join(endpoint.cert_names) or None,
                "cert_matches_mx": endpoint.cert_matches_mx,
                "cert_verified": endpoint.cert_verified,
                "server_names": " ".join(endpoint.server_names) or None,
                "names_outside_policy": " ".join(outside) or None,
                "passes": passes,
            }
        )
    return typed(rows, MTA_STS_SCHEMA)


def tlsa_frame(checks: list[TlsaCheck]) -> pd.DataFrame:
    rows = [
        {
            "mx": check.mx,
            "name": check.name,
            "address": address,
            "usage": record.usage,
            "selector": record.selector,
            "matching": record.matching,
            "label": record.label,
            "data": record.data,
            "verdict": verdict,
            "authenticated": check.answer.authenticated,
        }
        for check in checks
        for address, record, verdict in check.verdicts
    ]
    return typed(rows, TLSA_SCHEMA)


def dns_frame(answers: list[DnsAnswer]) -> pd.DataFrame:
    rows = []
    for answer in answers:
        base = {
            "name": answer.name,
            "rdtype": answer.rdtype,
            "status": answer.status,
            "ttl": answer.ttl,
            "authenticated": answer.authenticated,
            "canonical_name": answer.canonical_name,
            "ms": answer.ms,
        }
        rows.extend({**base, "value": value} for value in (answer.values or (None,)))
    return typed(rows, DNS_SCHEMA)
