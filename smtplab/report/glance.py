"""The at-a-glance checks of one host: what works and what does not, read from the frames.

Each check has a topic, a state and an outcome key; the report templates turn
the outcome into a sentence in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from smtplab.analysis.interpret import EndpointView
from smtplab.report.reasons import PortReason, login_reasons, relay_reasons


class CheckState(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    """One line of the summary.

    ``ports`` are the ports where the check passed and ``failed_ports`` those where
    it failed; ``mechanisms`` is only set for the AUTH check. ``reasons`` explain
    why the login or the relay test has no result on the other ports.
    """

    topic: str
    state: CheckState
    outcome: str
    ports: tuple[int, ...] = ()
    failed_ports: tuple[int, ...] = ()
    mechanisms: str = ""
    reasons: tuple[PortReason, ...] = ()


def host_checks(endpoints: pd.DataFrame, tls: pd.DataFrame, views: list[EndpointView],
                credentials_given: bool) -> list[Check]:
    """Checks for one host from its rows of the endpoints and TLS frames and its endpoint views.

    The views give what the frames do not: why a login was skipped and where a
    conversation stopped.
    """
    return [
        _connection(endpoints),
        _tls(endpoints),
        _certificate(tls),
        _auth(endpoints),
        _login(endpoints, views, credentials_given),
        _relay(endpoints, views),
    ]


def _ports(rows: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted({int(port) for port in rows["port"]}))


def _connection(endpoints: pd.DataFrame) -> Check:
    reached = endpoints["reachable"].fillna(False).astype(bool)
    # An imported transcript of a host name has no address, but it did connect.
    if endpoints["address"].isna().all() and not reached.any():
        return Check("connection", CheckState.PROBLEM, "unresolved")
    endpoints = endpoints[endpoints["address"].notna() | reached]
    answered = endpoints[endpoints["reachable"].fillna(False).astype(bool)]
    silent = endpoints.drop(answered.index)
    if endpoints.empty or answered.empty:
        return Check("connection", CheckState.PROBLEM, "none", failed_ports=_ports(silent))
    if silent.empty:
        return Check("connection", CheckState.OK, "all", _ports(answered))
    return Check("connection", CheckState.PROBLEM, "some", _ports(answered), _ports(silent))


def _tls(endpoints: pd.DataFrame) -> Check:
    attempted = endpoints[endpoints["tls_ok"].notna()]
    # A port whose STARTTLS got a negative reply has no handshake, so tls_ok is NA there.
    rejected = endpoints[endpoints["tls_ok"].isna() & (endpoints["error_class"] == "starttls_rejected")]
    if attempted.empty and rejected.empty:
        reached = endpoints["auth_plain"].notna().any()
        if reached:
            return Check("tls", CheckState.PROBLEM, "not_offered")
        return Check("tls", CheckState.UNKNOWN, "not_reached")
    working = attempted[attempted["tls_ok"].astype(bool)]
    failed = attempted.drop(working.index)
    if rejected.empty:
        state = CheckState.OK if failed.empty else CheckState.PROBLEM
        return Check("tls", state, "result", _ports(working), _ports(failed))
    outcome = "starttls_rejected" if failed.empty else "failed_or_rejected"
    return Check("tls", CheckState.PROBLEM, outcome, _ports(working), _ports(pd.concat([failed, rejected])))


def _certificate(tls: pd.DataFrame) -> Check:
    if tls.empty:
        return Check("certificate", CheckState.UNKNOWN, "not_seen")
    untrusted = tls[~tls["verified"].fillna(False).astype(bool)]
    mismatched = tls[~tls["name_matches"].fillna(False).astype(bool)]
    if untrusted.empty and mismatched.empty:
        return Check("certificate", CheckState.OK, "valid", _ports(tls))
    if not untrusted.empty:
        return Check("certificate", CheckState.PROBLEM, "untrusted", failed_ports=_ports(untrusted))
    return Check("certificate", CheckState.PROBLEM, "name_mismatch", failed_ports=_ports(mismatched))


def _auth(endpoints: pd.DataFrame) -> Check:
    inside = endpoints[endpoints["auth_tls"].fillna("") != ""]
    before = endpoints[endpoints["auth_plain"].fillna("") != ""]
    if not before.empty:
        return Check("auth", CheckState.PROBLEM, "before_tls", _ports(inside), _ports(before))
    if not inside.empty:
        mechanisms = " ".join(dict.fromkeys(" ".join(inside["auth_tls"]).split()))
        return Check("auth", CheckState.OK, "inside_tls", _ports(inside), mechanisms=mechanisms)
    if endpoints["auth_tls"].notna().any():
        return Check("auth", CheckState.PROBLEM, "none")
    if endpoints["auth_plain"].notna().any():
        return Check("auth", CheckState.UNKNOWN, "tls_not_reached")
    return Check("auth", CheckState.UNKNOWN, "not_reached")


def _login(endpoints: pd.DataFrame, views: list[EndpointView], credentials_given: bool) -> Check:
    results = endpoints["auth_result"]
    accepted = endpoints[results == "accepted"]
    failed = endpoints[results.notna() & ~results.isin(["accepted", "skipped"])]
    reasons = login_reasons(views) if credentials_given else ()
    if not failed.empty:
        return Check("login", CheckState.PROBLEM, "failed", _ports(accepted), _ports(failed),
                     reasons=reasons)
    if not accepted.empty:
        return Check("login", CheckState.OK, "accepted", _ports(accepted), reasons=reasons)
    if not credentials_given:
        return Check("login", CheckState.UNKNOWN, "no_credentials")
    return Check("login", CheckState.UNKNOWN, "not_tried", reasons=reasons)


def _relay(endpoints: pd.DataFrame, views: list[EndpointView]) -> Check:
    results = endpoints["relay_unauth"]
    accepted = endpoints[results == "accepted"]
    denied = endpoints[results == "denied"]
    reasons = relay_reasons(views)
    if not accepted.empty:
        return Check("relay", CheckState.PROBLEM, "open", _ports(denied), _ports(accepted), reasons=reasons)
    if not denied.empty:
        return Check("relay", CheckState.OK, "denied", _ports(denied), reasons=reasons)
    if reasons:
        return Check("relay", CheckState.UNKNOWN, "incomplete", reasons=reasons)
    return Check("relay", CheckState.UNKNOWN, "not_tested")
