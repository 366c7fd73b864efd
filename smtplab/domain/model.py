"""What a domain probe gathered, per record family, before any judgement."""

from __future__ import annotations

from dataclasses import dataclass, field

from smtplab.domain.dane import TlsaRecord
from smtplab.domain.dkim import DkimKey
from smtplab.domain.dmarc import DmarcRecord
from smtplab.domain.fetch import PolicyFetch
from smtplab.domain.lookups import DnsAnswer
from smtplab.domain.mtasts import StsPolicy, StsRecord
from smtplab.domain.tlsrpt import TlsRptRecord


@dataclass
class RuaCheck:
    """Whether an external report destination agreed to receive reports (RFC 7489 section 7.1)."""

    uri: str
    destination: str
    name: str
    answer: DnsAnswer | None

    @property
    def authorized(self) -> bool:
        return self.answer is not None and any(
            value.strip().startswith("v=DMARC1") for value in self.answer.values
        )


@dataclass
class DmarcLookup:
    """The DMARC record that applies to a domain: its own, or the organizational domain's.

    ``source`` is the domain whose record applies; ``inherited`` is True when that is the
    organizational domain.
    """

    domain: str
    answer: DnsAnswer
    records: list[str]
    source: str
    org_domain: str
    org_answer: DnsAnswer | None = None
    parsed: DmarcRecord | None = None
    rua_checks: list[RuaCheck] = field(default_factory=list)

    @property
    def inherited(self) -> bool:
        return self.source != self.domain


@dataclass
class DkimLookup:
    selector: str
    name: str
    answer: DnsAnswer
    key: DkimKey | None


@dataclass
class MtaStsLookup:
    answer: DnsAnswer
    records: list[str]
    record: StsRecord | None = None
    fetch: PolicyFetch | None = None
    policy: StsPolicy | None = None


@dataclass
class TlsRptLookup:
    answer: DnsAnswer
    records: list[str]
    record: TlsRptRecord | None = None


@dataclass
class TlsaCheck:
    """TLSA records of one MX host and the verdict of each against each address's certificates.

    ``verdicts`` holds (address, record, verdict) with the verdicts of ``dane.check_record``,
    given the leaf certificate and, for usage 2, the chain that the address presented.
    """

    mx: str
    name: str
    answer: DnsAnswer
    records: list[TlsaRecord]
    verdicts: list[tuple[str | None, TlsaRecord, str]] = field(default_factory=list)


@dataclass
class SrvRecord:
    """An RFC 6186 submission SRV record; ``target`` "." means the service is not offered."""

    service: str
    name: str
    priority: int
    weight: int
    port: int
    target: str
    ttl: int | None = None
