"""Every domain finding, raised by real records and servers, and not raised by a near miss.

Each case names a probe that must raise the finding and a near miss that must not:
a record just inside the limit, the neighbouring mode, the same server seen by a
sender that trusts it. The domains are in tests/data/zones (cases.test.zone contains
the ones made for this table). A new finding kind without a case fails the last test.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from unittest import mock

import pytest

from smtplab.domain import DomainPosture
from smtplab.domain.findings import DOMAIN_KINDS

from domainlab import DomainLab, codes


@dataclass(frozen=True)
class Probe:
    """One domain probe and how it runs.

    ``untrusted`` probes with a trust store that lacks the lab CA. ``chainless`` records no
    certificate chain, as on a Python that cannot read it.
    """

    domain: str
    selectors: tuple[str, ...] = ()
    submission: bool = False
    untrusted: bool = False
    chainless: bool = False

    def __str__(self) -> str:
        suffix = " (untrusted)" if self.untrusted else ""
        suffix += " (no chain)" if self.chainless else ""
        return self.domain + suffix


@dataclass(frozen=True)
class Case:
    code: str
    trigger: Probe
    near_miss: Probe
    subject: str | None = None


GOOD = Probe("good.test", ("sel1", "ed"), submission=True)
BROKEN = Probe("broken.test", ("old", "gone", "bad", "nope"))
DKIM = Probe("dkimcases.test", ("short", "testing", "strict"))

CASES = [
    # The domain and its lookups
    Case("nxdomain", Probe("nonexistent.test"), Probe("records.test")),
    # The test unbound refuses every name outside its zones, so this lookup fails on loopback.
    Case("dns_failed", Probe("outside.example"), GOOD),
    # MX and reverse DNS
    Case("null_mx", Probe("nullmx.test"), Probe("nullmixed.test")),
    Case("null_mx_mixed", Probe("nullmixed.test"), Probe("nullmx.test")),
    Case("no_mx_fallback_a", Probe("fallback.test"), GOOD),
    Case("no_mail_host", Probe("records.test"), Probe("fallback.test")),
    Case("mx_no_address", Probe("noaddr.test"), GOOD),
    Case("mx_cname", Probe("cnamemx.test"), GOOD),
    Case("mx_ip_literal", Probe("iplit.test"), GOOD),
    Case("mx_unreachable", Probe("unreach.test"), GOOD),
    Case("ptr_missing", Probe("unreach.test"), GOOD),
    Case("fcrdns_failed", BROKEN, GOOD),
    Case("dnssec_not_validated", GOOD, Probe("signed.test")),
    # SPF
    Case("spf_missing", Probe("cnamemx.test"), GOOD),
    Case("spf_multiple", Probe("records.test"), GOOD),
    Case("spf_invalid", Probe("spfbad.test"), GOOD),
    Case("spf_lookup_limit", BROKEN, Probe("spften.test")),
    Case("spf_void_lookup_limit", Probe("unreach.test"), GOOD),
    Case("spf_include_missing", Probe("unreach.test"), GOOD),
    Case("spf_include_multiple", Probe("multiinclude.crosscheck.test"), Probe("dupinclude.crosscheck.test")),
    Case("spf_loop", Probe("spfloop.test"), Probe("spfdiamond.test")),
    Case("spf_mx_limit", Probe("spfmx.test"), Probe("spfmx10.test")),
    Case("spf_ptr", Probe("ptrspf.test"), GOOD),
    Case("spf_plus_all", Probe("fallback.test"), Probe("spfneutral.test")),
    Case("spf_not_strict", Probe("spfneutral.test"), Probe("fallback.test")),
    Case("spf_ok", GOOD, BROKEN),
    # DMARC
    Case("dmarc_missing", Probe("records.test"), GOOD),
    Case("dmarc_multiple", BROKEN, GOOD),
    Case("dmarc_inherited", Probe("sub.good.test"), GOOD),
    Case("dmarc_invalid", Probe("dmarcbad.test"), GOOD),
    Case("dmarc_tag_invalid", Probe("badpct.crosscheck.test"), GOOD),
    Case("dmarc_unknown_tag", Probe("unreach.test"), GOOD),
    Case("dmarc_none_policy", Probe("fallback.test"), GOOD),
    Case("dmarc_sp_none", Probe("unreach.test"), GOOD),
    Case("dmarc_pct", Probe("unreach.test"), GOOD),
    Case("dmarc_no_rua", Probe("nullmx.test"), GOOD),
    Case("dmarc_rua_unauthorized", Probe("ruaext.test"), Probe("ruaauth.test")),
    Case("dmarc_enforced", GOOD, Probe("unreach.test")),
    # DKIM
    Case("dkim_missing", BROKEN, GOOD),
    Case("dkim_revoked", BROKEN, GOOD),
    Case("dkim_invalid", BROKEN, GOOD),
    Case("dkim_key_too_short", DKIM, BROKEN),
    Case("dkim_weak_key", BROKEN, DKIM),
    Case("dkim_testing", DKIM, GOOD),
    Case("dkim_ok", GOOD, Probe("dkimcases.test", ("short",))),
    # MTA-STS
    Case("mta_sts_missing", Probe("ptrspf.test"), Probe("nullmx.test")),
    Case("mta_sts_record_invalid", Probe("records.test"), GOOD),
    Case("mta_sts_policy_unavailable", Probe("unreach.test"), GOOD),
    Case("mta_sts_policy_invalid", Probe("stsinvalid.test"), Probe("stsnone.test")),
    Case("mta_sts_mode_none", Probe("stsnone.test"), Probe("ststesting.test")),
    Case("mta_sts_max_age_short", BROKEN, GOOD),
    Case("mta_sts_mx_mismatch", BROKEN, GOOD, subject="mx.shop.test"),
    Case("mta_sts_no_starttls", Probe("stsclosed.test"), Probe("allclosed.test")),
    Case("mta_sts_cert_mismatch", BROKEN, GOOD),
    Case("mta_sts_cert_untrusted", dataclasses.replace(GOOD, untrusted=True), GOOD),
    Case("mta_sts_name_outside_policy", BROKEN, GOOD),
    Case("mta_sts_testing", Probe("ststesting.test"), GOOD),
    Case("mta_sts_testing_failures", Probe("fallback.test"), Probe("ststesting.test")),
    Case("mta_sts_enforced", GOOD, dataclasses.replace(GOOD, untrusted=True)),
    # TLS-RPT
    Case("tlsrpt_missing", Probe("ptrspf.test"), Probe("nullmx.test")),
    Case("tlsrpt_invalid", Probe("records.test"), GOOD),
    # DANE
    Case("dane_missing", Probe("unreach.test"), GOOD),
    Case("tlsa_not_validated", GOOD, Probe("signed.test")),
    Case("tlsa_invalid", Probe("tlsabad.test"), GOOD),
    Case("tlsa_pkix_usage", BROKEN, GOOD),
    Case("tlsa_no_tls", Probe("tlsaclosed.test"), Probe("allclosed.test")),
    Case("tlsa_not_checked", Probe("noaddr.test"), GOOD),
    Case("tlsa_unverifiable", dataclasses.replace(GOOD, chainless=True), GOOD),
    Case("tlsa_match", GOOD, Probe("allclosed.test")),
    Case("tlsa_mismatch", Probe("signedwrong.test"), Probe("signed.test")),
    Case("tlsa_mismatch_unsigned", BROKEN, Probe("signedwrong.test")),
    Case("tlsa_ta_name_mismatch", Probe("dane.test"), GOOD),
    # Submission
    Case("submission_srv_missing", Probe("records.test", submission=True), GOOD),
]


@pytest.fixture(scope="module")
def postures(domain_lab: DomainLab) -> dict[Probe, DomainPosture]:
    """Probe results by probe, so a domain used by several cases is probed once."""
    return {}


def _posture(domain_lab: DomainLab, postures: dict[Probe, DomainPosture], probe: Probe) -> DomainPosture:
    if probe not in postures:
        config = domain_lab.config
        if probe.untrusted:
            config = dataclasses.replace(config, cafile=str(domain_lab.policies.cafile))
        chain = mock.patch("smtplab.net.tlscontext.presented_chain", return_value=None)
        with chain if probe.chainless else contextlib.nullcontext():
            postures[probe] = domain_lab.probe(
                probe.domain, config=config, selectors=list(probe.selectors), submission=probe.submission
            )
    return postures[probe]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_trigger_raises_the_finding(
    case: Case, domain_lab: DomainLab, postures: dict[Probe, DomainPosture]
) -> None:
    found = codes(_posture(domain_lab, postures, case.trigger), case.subject)
    assert f"domain.{case.code}" in found, f"{case.trigger}: {sorted(found)}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code)
def test_near_miss_does_not(case: Case, domain_lab: DomainLab, postures: dict[Probe, DomainPosture]) -> None:
    found = codes(_posture(domain_lab, postures, case.near_miss), case.subject)
    assert f"domain.{case.code}" not in found, f"{case.near_miss}: {sorted(found)}"


def test_every_domain_finding_has_a_case() -> None:
    covered = [f"domain.{case.code}" for case in CASES]
    assert len(covered) == len(set(covered)), "a finding code has two cases"
    assert sorted({kind.code for kind in DOMAIN_KINDS} - set(covered)) == []
    assert sorted(set(covered) - {kind.code for kind in DOMAIN_KINDS}) == []


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_finding_renders(
    lang: str, domain_lab: DomainLab, postures: dict[Probe, DomainPosture]
) -> None:
    triggers = {case.trigger for case in CASES}
    for probe in sorted(triggers, key=str):
        posture = _posture(domain_lab, postures, probe)
        frame = posture.findings_frame(lang)
        assert frame["title"].str.len().gt(0).all(), probe
        assert not frame["title"].str.contains("{", regex=False).any(), probe
        assert not frame["detail"].str.contains("{", regex=False).any(), probe

        markdown = posture.to_markdown(lang)
        html = posture.to_html(lang)
        for code in frame["code"]:
            assert code in markdown, (probe, code)
            assert code in html, (probe, code)


def test_chinese_titles_are_translated(domain_lab: DomainLab, postures: dict[Probe, DomainPosture]) -> None:
    for probe in sorted({case.trigger for case in CASES}, key=str):
        posture = _posture(domain_lab, postures, probe)
        english = posture.findings_frame("en")["title"].tolist()
        chinese = posture.findings_frame("zh-CN")["title"].tolist()
        untranslated = [title for title, other in zip(english, chinese, strict=True) if title == other]
        assert untranslated == [], probe
        remedies = posture.findings_frame("zh-CN")["remedy"]
        assert not remedies.str.contains("。 ", regex=False).any(), probe
        assert not remedies.str.contains("Postfix: ", regex=False).any(), probe
