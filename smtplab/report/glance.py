"""The at-a-glance checks of one host: what works and what does not, read from the frames.

Each check has a topic, a state and an outcome key; the report templates turn
the outcome into a sentence in the report's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pandas as pd


class CheckState(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    """One line of the summary.

    ``ports`` are the ports where the check passed and ``failed_ports`` those where
    it failed; ``mechanisms`` is only set for the AUTH check.
    """

    topic: str
    state: CheckState
    outcome: str
    ports: tuple[int, ...] = ()
    failed_ports: tuple[int, ...] = ()
    mechanisms: str = ""


def host_checks(endpoints: pd.DataFrame, tls: pd.DataFrame, credentials_given: bool) -> list[Check]:
    """Checks for one host from its rows of the endpoints and TLS frames."""
    return [
        _connection(endpoints),
        _tls(endpoints),
        _certificate(tls),
        _auth(endpoints),
        _login(endpoints, credentials_given),
        _relay(endpoints),
    ]


def _ports(rows: pd.DataFrame) -> tuple[int, ...]:
    return tuple(sorted({int(port) for port in rows["port"]}))


def _connection(endpoints: pd.DataFrame) -> Check:
    if endpoints["address"].isna().all():
        return Check("connection", CheckState.PROBLEM, "unresolved")
    endpoints = endpoints[endpoints["address"].notna()]
    answered = endpoints[endpoints["reachable"].fillna(False).astype(bool)]
    silent = endpoints.drop(answered.index)
    if endpoints.empty or answered.empty:
        return Check("connection", CheckState.PROBLEM, "none", failed_ports=_ports(silent))
    if silent.empty:
        return Check("connection", CheckState.OK, "all", _ports(answered))
    return Check("connection", CheckState.PROBLEM, "some", _ports(answered), _ports(silent))


def _tls(endpoints: pd.DataFrame) -> Check:
    attempted = endpoints[endpoints["tls_ok"].notna()]
    if attempted.empty:
        reached = endpoints["auth_plain"].notna().any()
        if reached:
            return Check("tls", CheckState.PROBLEM, "not_offered")
        return Check("tls", CheckState.UNKNOWN, "not_reached")
    working = attempted[attempted["tls_ok"].astype(bool)]
    failed = attempted.drop(working.index)
    state = CheckState.OK if failed.empty else CheckState.PROBLEM
    return Check("tls", state, "result", _ports(working), _ports(failed))


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


def _login(endpoints: pd.DataFrame, credentials_given: bool) -> Check:
    results = endpoints["auth_result"]
    accepted = endpoints[results == "accepted"]
    failed = endpoints[results.notna() & ~results.isin(["accepted", "skipped"])]
    if not failed.empty:
        return Check("login", CheckState.PROBLEM, "failed", _ports(accepted), _ports(failed))
    if not accepted.empty:
        return Check("login", CheckState.OK, "accepted", _ports(accepted))
    if not credentials_given:
        return Check("login", CheckState.UNKNOWN, "no_credentials")
    return Check("login", CheckState.UNKNOWN, "not_tried")


def _relay(endpoints: pd.DataFrame) -> Check:
    results = endpoints["relay_unauth"]
    accepted = endpoints[results == "accepted"]
    denied = endpoints[results == "denied"]
    if not accepted.empty:
        return Check("relay", CheckState.PROBLEM, "open", _ports(denied), _ports(accepted))
    if not denied.empty:
        return Check("relay", CheckState.OK, "denied", _ports(denied))
    return Check("relay", CheckState.UNKNOWN, "not_tested")
