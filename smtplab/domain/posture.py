"""``DomainPosture``: everything a domain probe gathered, with its frames and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from smtplab.analysis.certificate import name_matches, read_certificate
from smtplab.analysis.interpret import EndpointView
from smtplab.config import ProbeConfig
from smtplab.domain.findings import DomainFinding
from smtplab.domain.lookups import DnsAnswer
from smtplab.domain.model import (
    DkimLookup,
    DmarcLookup,
    MtaStsLookup,
    SrvRecord,
    TlsaCheck,
    TlsRptLookup,
)
from smtplab.domain.mx import MxSet, ReverseCheck
from smtplab.domain.spf import SpfEvaluation
from smtplab.result import ProbeResult

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class MxEndpoint:
    """Facts from the port 25 probe of one MX address; ``view`` is None when it was not probed."""

    mx: str
    preference: int | None
    address: str | None
    view: EndpointView | None

    @property
    def starttls_done(self) -> bool | None:
        """True after a TLS handshake, False when the server greeted but TLS never started,
        None when the probe did not get that far (no connection, no greeting)."""
        if self.view is None or self.view.reachable is not True or self.view.banner is None:
            return None
        return self.view.tls is not None

    @property
    def cert_pem(self) -> str | None:
        return self.view.tls.get("cert_pem") if self.view is not None and self.view.tls else None

    @property
    def cert_names(self) -> tuple[str, ...]:
        pem = self.cert_pem
        return read_certificate(pem).names() if pem else ()

    @property
    def cert_matches_mx(self) -> bool | None:
        return name_matches(self.mx, self.cert_names) if self.cert_pem else None

    @property
    def cert_verified(self) -> bool | None:
        return self.view.verified if self.view is not None and self.cert_pem else None

    @property
    def server_names(self) -> list[str]:
        """Host names the server gave in its greeting and EHLO replies, in order, lowercase."""
        if self.view is None:
            return []
        names = [self.view.banner_host] + [ehlo.greeting for ehlo in self.view.ehlo.values()]
        return list(dict.fromkeys(name.rstrip(".").lower() for name in names if name))

    @property
    def failure(self) -> str:
        if self.view is None:
            return "not probed"
        if self.view.error:
            return f"{self.view.error} at {self.view.error_step}: {self.view.error_detail}"
        if self.view.starttls_offered is False:
            return "STARTTLS not offered"
        return "no TLS session"


@dataclass
class DomainPosture:
    """A domain's mail posture.

    The record families are plain values (``mx_set``, ``spf_evaluation``, ``dmarc_lookup`` ...);
    the frames ``mx``, ``records``, ``spf``, ``dmarc``, ``dkim``, ``mta_sts``, ``tlsa``, ``dns``
    and ``findings`` are built from them on first use.
    ``probe`` is the port 25 probe of the MX hosts (None when no MX host has an address),
    ``submission`` the probe of the submission servers when requested.
    """

    domain: str
    config: ProbeConfig
    started_at: str
    mx_set: MxSet
    reverse: list[ReverseCheck]
    spf_evaluation: SpfEvaluation
    dmarc_lookup: DmarcLookup
    dkim_lookups: list[DkimLookup]
    mta_sts_lookup: MtaStsLookup
    tlsrpt_lookup: TlsRptLookup
    tlsa_checks: list[TlsaCheck]
    srv: list[SrvRecord]
    probe: ProbeResult | None
    submission: ProbeResult | None = None
    submission_requested: bool = False
    answers: list[DnsAnswer] = field(default_factory=list)

    @cached_property
    def mx_endpoints(self) -> list[MxEndpoint]:
        views = self.probe.views if self.probe is not None else []
        rows = []
        for host in self.mx_set.hosts:
            own = [item for item in views if item.record.host == host.host]
            if not own:
                rows.append(MxEndpoint(host.host, host.preference, None, None))
            rows.extend(MxEndpoint(host.host, host.preference, item.record.address, item) for item in own)
        return rows

    @cached_property
    def finding_list(self) -> list[DomainFinding]:
        from smtplab.domain.rules import judge

        return judge(self)

    @property
    def dnssec_validated(self) -> bool | None:
        """The AD flag of the MX answer: True validated, False not, None when no answer came."""
        return self.mx_set.answer.authenticated

    def findings_frame(self, lang: str = "en") -> pd.DataFrame:
        from smtplab.domain.frames import findings_frame

        return findings_frame(self.finding_list, lang)

    @cached_property
    def findings(self) -> pd.DataFrame:
        return self.findings_frame("en")

    @cached_property
    def mx(self) -> pd.DataFrame:
        from smtplab.domain.frames import mx_frame

        return mx_frame(self)

    @cached_property
    def records(self) -> pd.DataFrame:
        from smtplab.domain.frames import records_frame

        return records_frame(self)

    @cached_property
    def spf(self) -> pd.DataFrame:
        from smtplab.domain.frames import spf_frame

        return spf_frame(self.spf_evaluation)

    @cached_property
    def dmarc(self) -> pd.DataFrame:
        from smtplab.domain.frames import dmarc_frame

        return dmarc_frame(self.dmarc_lookup)

    @cached_property
    def dkim(self) -> pd.DataFrame:
        from smtplab.domain.frames import dkim_frame

        return dkim_frame(self.dkim_lookups)

    @cached_property
    def mta_sts(self) -> pd.DataFrame:
        from smtplab.domain.frames import mta_sts_frame

        return mta_sts_frame(self)

    @cached_property
    def tlsa(self) -> pd.DataFrame:
        from smtplab.domain.frames import tlsa_frame

        return tlsa_frame(self.tlsa_checks)

    @cached_property
    def dns(self) -> pd.DataFrame:
        from smtplab.domain.frames import dns_frame

        return dns_frame(self.answers)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "mx": self.mx,
            "records": self.records,
            "spf": self.spf,
            "dmarc": self.dmarc,
            "dkim": self.dkim,
            "mta_sts": self.mta_sts,
            "tlsa": self.tlsa,
            "dns": self.dns,
            "findings": self.findings,
        }

    def to_markdown(self, lang: str = "en") -> str:
        from smtplab.domain.report import to_markdown

        return to_markdown(self, lang)

    def to_html(self, lang: str = "en") -> str:
        from smtplab.domain.report import to_html

        return to_html(self, lang)

    def __repr__(self) -> str:
        hosts = ", ".join(host.host for host in self.mx_set.hosts) or "no MX host"
        return f"<DomainPosture {self.domain}: {hosts}; {len(self.finding_list)} findings>"
