"""The lab's DNS data and the pure function that builds the response to one query.

No function here touches a socket, so the response logic is testable on its own.
``nameserver`` is the network shell around ``answer_query``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.rrset

from .profile import ServerProfile

TTL = 300

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

    ``names`` contains every owner name, so that a name with records of other types
    gets NOERROR with an empty answer section (NODATA) rather than NXDOMAIN.
    """

    records: dict[RecordKey, dns.rrset.RRset]
    names: frozenset[dns.name.Name]


def build_zone(profiles: Iterable[ServerProfile]) -> Zone:
    """Build the A, PTR and MX records of the given server profiles."""
    rdata_texts: dict[tuple[str, str], list[str]] = {}
    for profile in profiles:
        host = _absolute(profile.host)
        reverse = dns.reversename.from_address(profile.address).to_text()
        rdata_texts.setdefault((host, "A"), []).append(profile.address)
        rdata_texts.setdefault((reverse, "PTR"), []).append(host)
        rdata_texts.setdefault((_absolute(profile.mail_domain), "MX"), []).append(f"10 {host}")

    records: dict[RecordKey, dns.rrset.RRset] = {}
    for (owner, rdtype), texts in rdata_texts.items():
        rrset = dns.rrset.from_text_list(owner, TTL, "IN", rdtype, texts)
        _check_in_origins(rrset.name)
        records[(rrset.name, rrset.rdtype)] = rrset

    names = frozenset(name for name, _ in records)
    return Zone(records=records, names=names)


def answer_query(query: dns.message.Message, zone: Zone) -> dns.message.Message:
    """Build the authoritative response to ``query`` from ``zone`` alone, without recursion.

    Opcodes other than QUERY get NOTIMP, and a message without exactly one question
    gets FORMERR. A question outside the zone origins, or of a class other than IN,
    gets REFUSED.
    """
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.RA

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
    """Build the SOA record that a negative response carries (RFC 2308 section 3)."""
    rdata = f"ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 {TTL}"
    return dns.rrset.from_text(origin, TTL, "IN", "SOA", rdata)


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _check_in_origins(name: dns.name.Name) -> None:
    if _find_origin(name) is None:
        zones = ", ".join(origin.to_text() for origin in ORIGINS)
        raise ValueError(f"lab DNS name {name} is outside the lab zones ({zones})")
