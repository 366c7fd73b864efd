"""The lab's DNS data and the pure function that builds the response to one query.

No function here touches a socket, so the response logic is testable on its own.
``nameserver`` is the network shell around ``answer_query``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.reversename
import dns.rrset

from .posture import PostureKeys, posture_records
from .profile import ServerProfile

TTL = 300
# Maximum length of one character-string in a TXT record (RFC 1035 section 3.3).
MAX_STRING_BYTES = 255

# The lab is authoritative for these zones only. A name outside them gets REFUSED, so the
# responder can never act as a resolver for real domains.
ORIGINS = (
    dns.name.from_text("test."),
    dns.name.from_text("0.0.127.in-addr.arpa."),
)

RecordKey = tuple[dns.name.Name, dns.rdatatype.RdataType]


@dataclass(frozen=True)
class Zone:
    """Resource record sets keyed by owner name and type.

    ``names`` contains every owner name and every name between an owner and its zone
    origin, so that such a name without records of the requested type gets NOERROR with
    an empty answer section (NODATA) rather than NXDOMAIN.
    """

    records: dict[RecordKey, dns.rrset.RRset]
    names: frozenset[dns.name.Name]


def build_zone(
    profiles: Iterable[ServerProfile], keys: Mapping[str, PostureKeys] | None = None
) -> Zone:
    """Build the A, PTR and MX records of the given server profiles, the mail posture
    records of each profile whose name is in ``keys``, and the SOA record of each zone.

    Raises ValueError for a record outside the lab zones.
    """
    keys = keys or {}
    entries: list[tuple[str, str, str]] = []
    for profile in profiles:
        host = _absolute(profile.host)
        reverse = dns.reversename.from_address(profile.address).to_text()
        entries.append((host, "A", profile.address))
        entries.append((reverse, "PTR", host))
        entries.append((_absolute(profile.mail_domain), "MX", f"10 {host}"))
        if profile.name in keys:
            entries.extend(posture_records(profile, keys[profile.name]))

    rdatas: dict[RecordKey, list[dns.rdata.Rdata]] = {}
    for owner, rdtype, value in entries:
        name = dns.name.from_text(_absolute(owner))
        _check_in_origins(name)
        rdata = _rdata(rdtype, value)
        rdatas.setdefault((name, rdata.rdtype), []).append(rdata)

    records = {key: dns.rrset.from_rdata_list(key[0], TTL, items) for key, items in rdatas.items()}
    for origin in ORIGINS:
        if any(name.is_subdomain(origin) for name, _ in records):
            records[(origin, dns.rdatatype.SOA)] = _soa(origin)
    return Zone(records=records, names=_existing_names(name for name, _ in records))


def answer_query(query: dns.message.Message, zone: Zone) -> dns.message.Message:
    """Build the authoritative response to ``query`` from ``zone`` alone, without recursion.

    Opcodes other than QUERY get NOTIMP, and a message without exactly one question
    gets FORMERR. A question outside the zone origins, or of a class other than IN,
    gets REFUSED.
    """
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA
    # The response copies the DO bit of the query (RFC 3225 section 3). The AD flag stays
    # clear because the zone is not signed, so no answer is authentic (RFC 4035 section
    # 3.1.6).
    if query.edns >= 0 and query.ednsflags & dns.flags.DO:
        response.want_dnssec(True)

    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response

    question = query.question[0]
    origin = _find_origin(question.name)
    if origin is None or question.rdclass != dns.rdataclass.IN:
        response.set_rcode(dns.rcode.REFUSED)
        return response

    response.flags |= dns.flags.AA
    rrset = zone.records.get((question.name, question.rdtype))
    if rrset is not None:
        response.answer.append(rrset)
    elif question.name not in zone.names:
        response.set_rcode(dns.rcode.NXDOMAIN)
    if not response.answer:
        response.authority.append(_soa(origin))
    return response


def _find_origin(name: dns.name.Name) -> dns.name.Name | None:
    for origin in ORIGINS:
        if name.is_subdomain(origin):
            return origin
    return None


def _soa(origin: dns.name.Name) -> dns.rrset.RRset:
    """Build the zone's SOA record, which negative responses carry too (RFC 2308 section 3)."""
    rdata = f"ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 {TTL}"
    return dns.rrset.from_text(origin, TTL, "IN", "SOA", rdata)


def _existing_names(owners: Iterable[dns.name.Name]) -> frozenset[dns.name.Name]:
    """Return the owner names and every name between each one and its zone origin.

    A name without records but with names below it, such as ``_tcp.smtp.healthy.test``,
    exists and gets NODATA rather than NXDOMAIN (RFC 8020).
    """
    names: set[dns.name.Name] = set()
    for owner in owners:
        origin = _find_origin(owner)
        assert origin is not None, "build_zone checks that every owner is in a lab zone"
        name = owner
        while name != origin:
            names.add(name)
            name = name.parent()
        names.add(origin)
    return frozenset(names)


def _rdata(rdtype: str, value: str) -> dns.rdata.Rdata:
    if rdtype == "TXT":
        return txt_rdata(value)
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, value)


def txt_rdata(text: str) -> dns.rdata.Rdata:
    """Build a TXT record whose strings hold ``text`` in chunks of at most 255 bytes.

    A character-string has a one-byte length (RFC 1035 section 3.3), so a longer text
    such as a DKIM key needs several strings, which SPF and DKIM readers join without a
    separator (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2).
    """
    data = text.encode("utf-8")
    chunks = [data[start : start + MAX_STRING_BYTES] for start in range(0, len(data), MAX_STRING_BYTES)]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks or [b""])


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _check_in_origins(name: dns.name.Name) -> None:
    if _find_origin(name) is None:
        zones = ", ".join(origin.to_text() for origin in ORIGINS)
        raise ValueError(f"lab DNS name {name} is outside the lab zones ({zones})")
