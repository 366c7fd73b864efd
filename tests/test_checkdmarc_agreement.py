"""smtplab's SPF and DMARC verdicts against checkdmarc's, on the test zones.

checkdmarc can open connections of its own, so it runs only inside a new network
namespace that has nothing but loopback: ``crosscheck/checkdmarc_run.py`` is started with
``unshare --net`` and prints both tools' verdicts as JSON. This module never imports
checkdmarc. Each (domain, aspect) pair must agree, except the pairs in
``KNOWN_DIFFERENCES``, which pin both tools' values and state which one RFC 7208 (SPF) or
RFC 7489 (DMARC) supports.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

import pytest

from dnsserver import find_unbound

TESTS_DIR = Path(__file__).parent
RUNNER = "crosscheck.checkdmarc_run"
NOT_ISOLATED = 3
"""Exit status of the runner when it finds more than loopback (see the runner)."""
RUN_TIMEOUT = 300.0
"""Seconds for the whole run, far above the few seconds it takes on an idle 2-core machine."""
LOOKUP_LIMIT = 10
VOID_LOOKUP_LIMIT = 2

DOMAINS = (
    # The shared test zones (good.test, broken.test, edge.test.zone).
    "good.test",
    "broken.test",
    "nullmx.test",
    "fallback.test",
    "unreach.test",
    "sub.good.test",
    "cnamemx.test",
    "iplit.test",
    "records.test",
    "ptrspf.test",
    # crosscheck.test.zone: one rule per domain, explained there.
    "redirect.crosscheck.test",
    "redirectall.crosscheck.test",
    "ten.crosscheck.test",
    "dupinclude.crosscheck.test",
    "nested.crosscheck.test",
    "manymx.crosscheck.test",
    "twovoid.crosscheck.test",
    "existsvoid.crosscheck.test",
    "noinclude.crosscheck.test",
    "noredirect.crosscheck.test",
    "multiinclude.crosscheck.test",
    "loop.crosscheck.test",
    "neutral.crosscheck.test",
    "softfail.crosscheck.test",
    "noall.crosscheck.test",
    "badmech.crosscheck.test",
    "badip.crosscheck.test",
    "badcidr.crosscheck.test",
    "policies.crosscheck.test",
    "badpolicy.crosscheck.test",
    "badpct.crosscheck.test",
    "porder.crosscheck.test",
    "nop.crosscheck.test",
    "extrua.crosscheck.test",
    "extruaok.crosscheck.test",
    "httpsrua.crosscheck.test",
    "deep.walk.crosscheck.test",
    "mail.crosscheck-org.test",
)

SPF_RESULTS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral", None: "neutral"}
"""Result named by the qualifier that ends evaluation. Without all, it is neutral (RFC 7208 section 4.7)."""


@dataclass(frozen=True)
class Difference:
    """The value each tool gives where they disagree."""

    smtplab: object
    checkdmarc: object


def _count_stopped(
    domain: str, lookups: int, void_lookups: int, all_result: str
) -> dict[tuple[str, str], Difference]:
    """Return the differences for a record where checkdmarc stops at an include or redirect error.

    checkdmarc then reports no count and no result of all, while smtplab walks the rest of
    the record and reports them. Both tools give permerror unless another entry gives other values.
    """
    return {
        (domain, "spf_lookups"): Difference(lookups, None),
        (domain, "spf_void_lookups"): Difference(void_lookups, None),
        (domain, "spf_all"): Difference(all_result, None),
    }


KNOWN_DIFFERENCES: dict[tuple[str, str], Difference] = {
    # checkdmarc resolves the A/AAAA records of the ptr target domain and counts the empty
    # answer as void. The ptr mechanism never asks for them: it looks up PTR records of the
    # sender's address, then the addresses of those names (RFC 7208 section 5.5), so no
    # void lookup can be known before a message arrives. smtplab is right.
    ("ptrspf.test", "spf_void_lookups"): Difference(0, 1),
    # checkdmarc never queries exists: targets. An exists: query that gets NXDOMAIN is a
    # void lookup like any other term's (RFC 7208 section 4.6.4), so three of them make
    # the record permerror. smtplab is right.
    ("existsvoid.crosscheck.test", "spf_void_lookups"): Difference(3, 0),
    ("existsvoid.crosscheck.test", "spf_void_limit"): Difference(True, False),
    ("existsvoid.crosscheck.test", "spf_permerror"): Difference(True, False),
    # Both find the record over the limit. check_spf adds an include's lookups only when
    # the included record evaluates without error. _n1 alone needs 11, so it reports 1,
    # and its error text names the 11 of _n1. smtplab counts the whole tree, 12. Any count
    # over 10 is permerror (RFC 7208 section 4.6.4), so only the reported number differs.
    ("nested.crosscheck.test", "spf_lookups"): Difference(12, 1),
    # An include target without SPF record, a redirect= target without SPF record and an
    # include loop are permerror (RFC 7208 sections 5.2, 6.1 and 4.6.4) in both tools.
    **_count_stopped("noinclude.crosscheck.test", 1, 1, "fail"),
    **_count_stopped("loop.crosscheck.test", 2, 0, "fail"),
    **_count_stopped("noredirect.crosscheck.test", 1, 1, "neutral"),
    # An include target with two SPF records is permerror (RFC 7208 sections 4.5 and 5.2)
    # in both tools.
    **_count_stopped("multiinclude.crosscheck.test", 1, 0, "fail"),
    # checkdmarc 6 follows RFC 9989, which removed pct, and applies the policy to all mail
    # with a warning. RFC 7489 section 6.3 applies it to pct percent of the mail that
    # fails DMARC. smtplab is right for RFC 7489.
    ("unreach.test", "dmarc_pct"): Difference(50, 100),
    ("policies.crosscheck.test", "dmarc_pct"): Difference(50, 100),
    # RFC 7489 sections 6.3 and 6.4 require p right after v ("components other than
    # dmarc-version and dmarc-request may appear in any order"). RFC 9989, which
    # checkdmarc 6 follows, allows any order after v, so checkdmarc only warns. smtplab
    # is right for RFC 7489.
    ("porder.crosscheck.test", "dmarc_valid"): Difference(False, True),
    # An https: report URI is a valid URI, but receivers must support only mailto: and may
    # ignore other schemes (RFC 7489 section 6.2). Both tools keep the record valid and warn.
    # smtplab counts the URI as a rua problem, so reports may never arrive; checkdmarc does not.
    ("httpsrua.crosscheck.test", "dmarc_rua_invalid"): Difference(True, False),
    # RFC 7489 section 6.6.3 looks at the author domain and then only at the organizational
    # domain (crosscheck.test, no record). checkdmarc 6 does the RFC 9989 tree walk, which
    # also finds _dmarc.walk.crosscheck.test. smtplab is right for RFC 7489.
    ("deep.walk.crosscheck.test", "dmarc_record"): Difference("none", "single"),
    ("deep.walk.crosscheck.test", "dmarc_location"): Difference(None, "walk.crosscheck.test"),
    ("deep.walk.crosscheck.test", "dmarc_valid"): Difference(None, True),
    ("deep.walk.crosscheck.test", "dmarc_p"): Difference(None, "quarantine"),
    ("deep.walk.crosscheck.test", "dmarc_sp"): Difference(None, "quarantine"),
    ("deep.walk.crosscheck.test", "dmarc_pct"): Difference(None, 100),
    ("deep.walk.crosscheck.test", "dmarc_rua_invalid"): Difference(None, False),
    ("deep.walk.crosscheck.test", "dmarc_rua_unauthorized"): Difference(None, []),
}


def _record_state(count: int) -> str:
    return {0: "none", 1: "single"}.get(count, "multiple")


def smtplab_verdicts(facts: Mapping[str, Any]) -> dict[str, object]:
    """Reduce smtplab's facts for one domain to the aspects compared with checkdmarc."""
    return _smtplab_spf(facts["spf"]) | _smtplab_dmarc(facts["dmarc"])


def _smtplab_spf(spf: Mapping[str, Any]) -> dict[str, object]:
    state = _record_state(len(spf["records"]))
    # A syntax error makes the result permerror before any term is evaluated (RFC 7208
    # section 4.6), so there is no count or result of all to compare.
    evaluated = state == "single" and not spf["syntax_errors"]
    return {
        "spf_record": state,
        "spf_syntax_error": bool(spf["syntax_errors"]),
        "spf_permerror": spf["permerror"] if state == "single" else None,
        # checkdmarc raises its lookup-limit error for more than 10 MX hosts too.
        "spf_lookup_limit": spf["lookups"] > LOOKUP_LIMIT or bool(spf["too_many_mx"]),
        "spf_void_limit": spf["void_lookups"] > VOID_LOOKUP_LIMIT,
        "spf_lookups": spf["lookups"] if evaluated else None,
        "spf_void_lookups": spf["void_lookups"] if evaluated else None,
        "spf_all": SPF_RESULTS[spf["effective_all"]] if evaluated else None,
    }


def _smtplab_dmarc(dmarc: Mapping[str, Any]) -> dict[str, object]:
    state = _record_state(len(dmarc["records"]))
    single = state == "single"
    policy = dmarc.get("policy")
    unauthorized = sorted(
        row["destination"] for row in dmarc["report_destinations"] if row["authorized"] is False
    )
    return {
        "dmarc_record": state,
        "dmarc_location": dmarc["source"] if single else None,
        "dmarc_valid": dmarc["valid"] if single else None,
        "dmarc_p": policy,
        "dmarc_sp": dmarc.get("subdomain_policy"),
        "dmarc_pct": dmarc["pct"] if policy else None,
        "dmarc_rua_invalid": bool(dmarc["rua_errors"]) if single else None,
        "dmarc_rua_unauthorized": unauthorized if single else None,
    }


def checkdmarc_verdicts(facts: Mapping[str, Any]) -> dict[str, object]:
    """Reduce checkdmarc's results for one domain to the same aspects as ``smtplab_verdicts``."""
    return _checkdmarc_spf(facts["spf"]) | _checkdmarc_dmarc(facts["dmarc"])


def _checkdmarc_spf(spf: Mapping[str, Any]) -> dict[str, object]:
    state = "single"
    if spf["error_stage"] == "record":
        state = {"SPFRecordNotFound": "none", "MultipleSPFRTXTRecords": "multiple"}[spf["error_type"]]
    # error_type is the first fatal error only: a record over both limits shows one of them.
    return {
        "spf_record": state,
        "spf_syntax_error": spf["error_type"] == "SPFSyntaxError",
        "spf_permerror": not spf["valid"] if state == "single" else None,
        "spf_lookup_limit": spf["error_type"] == "SPFTooManyDNSLookups",
        "spf_void_limit": spf["error_type"] == "SPFTooManyVoidDNSLookups",
        "spf_lookups": spf["dns_lookups"],
        "spf_void_lookups": spf["void_dns_lookups"],
        "spf_all": spf["all"],
    }


def _checkdmarc_dmarc(dmarc: Mapping[str, Any]) -> dict[str, object]:
    state = "single"
    if dmarc["error_stage"] == "record":
        state = {"DMARCRecordNotFound": "none", "MultipleDMARCRecords": "multiple"}[dmarc["error_type"]]
    single = state == "single"
    tags = dmarc["tags"]
    unauthorized = sorted(
        row["destination"] for row in dmarc["report_destinations"] if row["authorized"] is False
    )
    return {
        "dmarc_record": state,
        "dmarc_location": dmarc["location"] if single else None,
        "dmarc_valid": dmarc["valid"] if single else None,
        "dmarc_p": tags.get("p"),
        "dmarc_sp": tags.get("sp"),
        # checkdmarc 6 keeps no pct tag (RFC 9989 removed it): the policy covers all mail.
        "dmarc_pct": int(tags.get("pct", 100)) if "p" in tags else None,
        "dmarc_rua_invalid": dmarc["error_type"] == "InvalidDMARCReportURI" if single else None,
        "dmarc_rua_unauthorized": unauthorized if single else None,
    }


ASPECTS = (
    "spf_record",
    "spf_syntax_error",
    "spf_permerror",
    "spf_lookup_limit",
    "spf_void_limit",
    "spf_lookups",
    "spf_void_lookups",
    "spf_all",
    "dmarc_record",
    "dmarc_location",
    "dmarc_valid",
    "dmarc_p",
    "dmarc_sp",
    "dmarc_pct",
    "dmarc_rua_invalid",
    "dmarc_rua_unauthorized",
)


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so these tests must run)", pytrace=False)
    pytest.skip(reason)


def _require_tools() -> str:
    """Return the path of ``unshare``, or skip (fail under CI) when something the run needs is missing."""
    if os.geteuid() != 0:
        _skip_or_fail("unshare --net needs root; run pytest as root")
    unshare = shutil.which("unshare")
    if unshare is None:
        _skip_or_fail("unshare not found; apt-get install util-linux")
    if shutil.which("ip") is None:
        _skip_or_fail("ip not found; apt-get install iproute2")
    if find_unbound() is None:
        _skip_or_fail("unbound not found; apt-get install unbound")
    try:
        version("checkdmarc")
    except PackageNotFoundError:
        _skip_or_fail("checkdmarc not installed; pip install -e '.[test]'")
    probe = subprocess.run([unshare, "--net", "--", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        _skip_or_fail(f"unshare --net failed: {probe.stderr.strip()}")
    return unshare


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """Both tools' results per domain, from one run of the runner in a new network namespace."""
    unshare = _require_tools()
    command = [unshare, "--net", "--", sys.executable, "-m", RUNNER, *DOMAINS]
    done = subprocess.run(
        command, cwd=TESTS_DIR, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}"
    return json.loads(done.stdout)["domains"]


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("domain", DOMAINS)
def test_verdict_matches_checkdmarc(report: dict[str, Any], domain: str, aspect: str) -> None:
    ours = smtplab_verdicts(report[domain]["smtplab"])[aspect]
    theirs = checkdmarc_verdicts(report[domain]["checkdmarc"])[aspect]
    known = KNOWN_DIFFERENCES.get((domain, aspect))
    if known is None:
        assert ours == theirs, f"{domain} {aspect}: smtplab gives {ours!r}, checkdmarc {theirs!r}"
    else:
        assert (ours, theirs) == (known.smtplab, known.checkdmarc), (
            f"{domain} {aspect}: the known difference changed. smtplab now gives {ours!r}, "
            f"checkdmarc {theirs!r}. Update KNOWN_DIFFERENCES and its reason."
        )


def test_known_differences_name_checked_cases() -> None:
    unknown = [key for key in KNOWN_DIFFERENCES if key[0] not in DOMAINS or key[1] not in ASPECTS]
    assert unknown == []


def test_spf_mx_limit_reported_as_lookup_error(report: dict[str, Any]) -> None:
    # More than 10 MX hosts: checkdmarc raises its lookup-limit error with the host count,
    # smtplab keeps the lookup count (1) and lists the domain in too_many_mx.
    checkdmarc = report["manymx.crosscheck.test"]["checkdmarc"]["spf"]
    smtplab = report["manymx.crosscheck.test"]["smtplab"]["spf"]
    assert checkdmarc["error_data"] == {"dns_lookups": 11}
    assert smtplab["too_many_mx"] == ["manymx.crosscheck.test"]
    assert smtplab["mx_address_lookups"] == 11


def test_void_lookups_same_count_other_terms(report: dict[str, Any]) -> None:
    # unreach.test: both count 3 void lookups, from different terms. smtplab counts
    # a:gone1, a:gone2 and exists:gone3. checkdmarc skips exists: and counts the include
    # of nospf.unreach.test. That TXT answer contains a record, just not an SPF one, so
    # RFC 7208 section 4.6.4 does not call it void: the totals match by chance.
    smtplab = report["unreach.test"]["smtplab"]["spf"]
    assert smtplab["void_targets"] == ["gone1.unreach.test", "gone2.unreach.test", "gone3.unreach.test"]
    assert smtplab["missing_includes"] == ["nospf.unreach.test"]
    assert report["unreach.test"]["checkdmarc"]["spf"]["void_dns_lookups"] == 3


def test_runner_exits_outside_namespace() -> None:
    if [name for _, name in socket.if_nameindex()] == ["lo"]:
        pytest.skip("this process already runs in a namespace with only loopback")
    done = subprocess.run(
        [sys.executable, "-m", RUNNER, "good.test"],
        cwd=TESTS_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == NOT_ISOLATED
    assert done.stdout == ""
