"""The one place that turns recorded runs into typed, tidy DataFrames.

Each frame has a declared schema: nullable booleans and integers, strings,
categoricals and UTC timestamps. Plots, widgets and reports read these frames.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from smtplab.analysis.certificate import name_matches, read_certificate
from smtplab.analysis.interpret import EndpointView
from smtplab.fingerprint import fingerprint
from smtplab.record import RunRecord

ENDPOINT_SCHEMA: dict[str, str] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "mode": "category",
    "reachable": "boolean",
    "connect_ms": "Float64",
    "banner": "string",
    "banner_host": "string",
    "ehlo_host": "string",
    "software": "string",
    "software_confidence": "Float64",
    "starttls": "boolean",
    "tls_ok": "boolean",
    "tls_version": "string",
    "cert_verified": "boolean",
    "old_tls_accepted": "string",
    "auth_plain": "string",
    "auth_tls": "string",
    "auth_result": "string",
    "relay_unauth": "string",
    "relay_auth": "string",
    "error_class": "string",
    "error_step": "string",
    "error_detail": "string",
}

CAPABILITY_SCHEMA: dict[str, str] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "mode": "category",
    "phase": "category",
    "position": "Int64",
    "keyword": "string",
    "params": "string",
}

TLS_SCHEMA: dict[str, str] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "mode": "category",
    "version": "string",
    "cipher": "string",
    "bits": "Int64",
    "subject": "string",
    "common_name": "string",
    "sans": "string",
    "issuer": "string",
    "not_before": "datetime64[us, UTC]",
    "not_after": "datetime64[us, UTC]",
    "days_left": "Int64",
    "self_signed": "boolean",
    "key": "string",
    "verified": "boolean",
    "verify_error": "string",
    "name_matches": "boolean",
    "chain_length": "Int64",
}

DNS_SCHEMA: dict[str, str] = {
    "host": "string",
    "name": "string",
    "rdtype": "category",
    "status": "category",
    "value": "string",
    "ttl": "Int64",
    "ms": "Float64",
}

TRANSCRIPT_SCHEMA: dict[str, str] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "attempt": "Int64",
    "t_ms": "Float64",
    "phase": "category",
    "step": "string",
    "direction": "category",
    "text": "string",
    "check": "string",
}


REPLY_SCHEMA: dict[str, str] = {
    "host": "string",
    "address": "string",
    "port": "Int64",
    "attempt": "Int64",
    "phase": "category",
    "step": "string",
    "command": "string",
    "code": "Int64",
    "enhanced": "string",
    "text": "string",
    "lines": "Int64",
    "elapsed_ms": "Float64",
}


def typed(rows: list[dict[str, Any]], schema: dict[str, str]) -> pd.DataFrame:
    """Build a frame with exactly the schema's columns and dtypes, even when empty."""
    frame = pd.DataFrame(rows, columns=list(schema))
    return frame.astype(schema)


def endpoints_frame(views: list[EndpointView]) -> pd.DataFrame:
    return typed([_endpoint_row(item) for item in views], ENDPOINT_SCHEMA)


def _endpoint_row(item: EndpointView) -> dict[str, Any]:
    record = item.record
    plain = item.ehlo.get("plain")
    tls_ok = None if item.tls is None and item.tls_failure is None else item.tls is not None
    guesses = fingerprint(item)
    return {
        "host": record.host,
        "address": record.address,
        "port": record.port,
        "mode": record.mode,
        "reachable": item.reachable,
        "connect_ms": item.connect_ms,
        "banner": item.banner.text.split("\n")[0] if item.banner else None,
        "banner_host": item.banner_host,
        "ehlo_host": greeting.greeting if (greeting := plain or item.ehlo.get("tls")) else None,
        "software": guesses[0].software if guesses else None,
        "software_confidence": round(guesses[0].confidence, 2) if guesses else None,
        "starttls": item.starttls_offered,
        "tls_ok": tls_ok,
        "tls_version": item.tls.get("version") if item.tls else None,
        "cert_verified": item.verified,
        "old_tls_accepted": _offers(item.accepted_offers()),
        "auth_plain": _mechanisms(item.auth_mechanisms("plain")),
        "auth_tls": _mechanisms(item.auth_mechanisms("tls")),
        "auth_result": item.auth_result,
        "relay_unauth": item.relay_result("unauth"),
        "relay_auth": item.relay_result("auth"),
        "error_class": item.error,
        "error_step": item.error_step,
        "error_detail": item.error_detail,
    }


def _offers(accepted: list[dict[str, Any]] | None) -> str | None:
    """Accepted obsolete offers (``TLSv1 weak-ciphers``), "" when none, None when not tested."""
    return None if accepted is None else " ".join(offer["offer"] for offer in accepted)


def _mechanisms(mechanisms: tuple[str, ...] | None) -> str | None:
    """Space-separated mechanisms, "" when AUTH is absent, None when never checked."""
    return None if mechanisms is None else " ".join(mechanisms)


def replies_frame(views: list[EndpointView]) -> pd.DataFrame:
    """One row per reply: the command it replied to, its code, enhanced code, text and timing."""
    rows = []
    for item in views:
        record = item.record
        for exchange in item.exchanges:
            reply = exchange.reply
            rows.append({
                "host": record.host, "address": record.address, "port": record.port,
                "attempt": exchange.attempt, "phase": exchange.phase, "step": exchange.step,
                "command": exchange.command, "code": reply.code, "enhanced": reply.enhanced,
                "text": reply.text, "lines": len(reply.lines), "elapsed_ms": exchange.elapsed_ms,
            })
    return typed(rows, REPLY_SCHEMA)


def capabilities_frame(views: list[EndpointView]) -> pd.DataFrame:
    rows = []
    for item in views:
        record = item.record
        for phase, ehlo in item.ehlo.items():
            for position, (keyword, params) in enumerate(ehlo.keywords, start=1):
                rows.append({
                    "host": record.host, "address": record.address, "port": record.port,
                    "mode": record.mode, "phase": phase, "position": position,
                    "keyword": keyword, "params": params,
                })
    return typed(rows, CAPABILITY_SCHEMA)


def tls_frame(views: list[EndpointView], run: RunRecord) -> pd.DataFrame:
    measured_at = datetime.fromisoformat(run.started_at)
    rows = []
    for item in views:
        if item.tls is None or not item.tls.get("cert_pem"):
            continue
        cert = read_certificate(item.tls["cert_pem"])
        record = item.record
        rows.append({
            "host": record.host, "address": record.address, "port": record.port,
            "mode": record.mode, "version": item.tls.get("version"),
            "cipher": item.tls.get("cipher"), "bits": item.tls.get("bits"),
            "subject": cert.subject, "common_name": cert.common_name,
            "sans": " ".join(cert.sans), "issuer": cert.issuer,
            "not_before": cert.not_before, "not_after": cert.not_after,
            "days_left": cert.days_left(measured_at), "self_signed": cert.self_signed,
            "key": cert.key, "verified": item.verified, "verify_error": item.verify_error,
            "name_matches": name_matches(_ascii_host(run, record.host), cert.names()),
            "chain_length": len(item.chain_pem) if item.chain_pem else None,
        })
    return typed(rows, TLS_SCHEMA)


def _ascii_host(run: RunRecord, host: str) -> str:
    for record in run.hosts:
        if record.host == host:
            return record.ascii_host
    return host


def dns_frame(run: RunRecord) -> pd.DataFrame:
    rows = []
    for host in run.hosts:
        for entry in host.dns:
            base = {
                "host": host.host, "name": entry["name"], "rdtype": entry["rdtype"],
                "status": entry["status"], "ttl": entry.get("ttl"), "ms": entry.get("ms"),
            }
            values = entry.get("values") or [None]
            rows.extend({**base, "value": value} for value in values)
    return typed(rows, DNS_SCHEMA)


_DIRECTIONS = {"send": "C", "recv": "S", "partial": "S", "unsolicited": "S"}


def transcript_frame(run: RunRecord) -> pd.DataFrame:
    rows = []
    for record in run.endpoints:
        for event in record.events:
            text = _event_text(event)
            if text is None:
                continue
            rows.append({
                "host": record.host, "address": record.address, "port": record.port,
                "attempt": event.get("attempt", 1), "t_ms": event["t"], "phase": event["phase"],
                "step": event["step"], "direction": _DIRECTIONS.get(event["kind"], "*"),
                "text": text, "check": event.get("check"),
            })
    return typed(rows, TRANSCRIPT_SCHEMA)


def _event_text(event: dict[str, Any]) -> str | None:
    """The transcript line of an event: protocol lines as sent, others as a note."""
    kind = event["kind"]
    if kind in ("send", "recv"):
        return event["text"]
    if kind == "connect":
        return f"connecting to {event.get('address')} port {event.get('port')}"
    if kind == "connected":
        return "connected"
    if kind == "tls":
        if event.get("ok"):
            return f"TLS handshake done: {event.get('version')} {event.get('cipher')}"
        if event.get("verify_error"):
            return f"certificate not verified: {event['verify_error']}"
        return f"TLS handshake failed: {event.get('detail')}"
    if kind == "error":
        return f"error {event['error']}: {event.get('detail')}"
    if kind == "attempt":
        return f"reconnecting: {event.get('reason')}"
    if kind == "partial":
        return f"incomplete line received: {event.get('text')}"
    if kind == "unsolicited":
        return f"unsolicited data before {event['step'].upper()}: {event.get('text')}"
    if kind == "tls_offer":
        outcome = {True: "accepted", False: "rejected", None: "not tested"}[event.get("accepted")]
        shown = f" ({event.get('version')} {event.get('cipher')})" if event.get("accepted") else ""
        return f"TLS offer {event.get('offer')} {outcome}{shown}: {event.get('detail') or ''}".rstrip(": ")
    if kind == "note":
        return str(event.get("text"))
    if kind == "auth_skipped":
        return f"credential check skipped: {event.get('text') or event.get('reason')}"
    return None


def capability_matrix(capabilities: pd.DataFrame) -> pd.DataFrame:
    """Keywords down, ``host:port:phase`` across.

    A cell contains the keyword's parameters, ``"yes"`` for a keyword without
    parameters, and NA where the keyword is absent.
    """
    if capabilities.empty:
        return pd.DataFrame(dtype="string")
    columns = (
        capabilities["host"] + ":" + capabilities["port"].astype("string") + ":"
        + capabilities["phase"].astype("string")
    )
    params = capabilities["params"].mask(capabilities["params"] == "", "yes")
    frame = capabilities.assign(column=columns, params=params)
    matrix = frame.pivot_table(
        index="keyword", columns="column", values="params", aggfunc="first", sort=False
    )
    order = list(dict.fromkeys(columns))
    return matrix.reindex(columns=order).astype("string")
