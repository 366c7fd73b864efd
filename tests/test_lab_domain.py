"""The lab's mail domains: posture records (pure), the MTA-STS policy server over real
HTTPS on loopback, and probe_domain against the running lab."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import ipaddress
import os
import smtplib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from smtplab.diagnosis import Severity
from smtplab.domain import DomainPosture, probe_domain
from smtplab.lab import Lab
from smtplab.lab.mtasts import POLICY_PATH, build_response, parse_request
from smtplab.lab.posture import PostureKeys, generate_keys, policy_id, policy_text
from smtplab.lab.profile import ServerProfile, TlsaKey
from smtplab.lab.scenarios import BROKEN, HEALTHY, SCENARIOS
from smtplab.lab.zone import Zone, answer_query, build_zone, txt_rdata

TIMEOUT = 5.0
# Stand-in key material for the pure zone tests: a DKIM key long enough to need two
# TXT strings, and a digest that is recognisably not of any real key.
DKIM_KEY = "A" * 392
DIGEST = "ab" * 32
KEYS = {name: PostureKeys(dkim_public_key=DKIM_KEY, tlsa_digest=DIGEST) for name in SCENARIOS}


@pytest.fixture(scope="module")
def zone() -> Zone:
    return build_zone(SCENARIOS.values(), KEYS)


def _ask(zone: Zone, name: str, rdtype: str, *, dnssec: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=dnssec)
    return answer_query(query, zone)


def _texts(response: dns.message.Message) -> list[str]:
    return [b"".join(rdata.strings).decode() for rdata in response.answer[0]]


def _spki_sha256(cert_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _open_sockets() -> set[str]:
    targets = set()
    for entry in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(entry)
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            targets.add(target)
    return targets


# Zone records, without sockets


@pytest.mark.parametrize(
    ("name", "rdtype", "expected"),
    [
        ("shop.test", "TXT", "v=spf1 mx ?all"),
        ("_dmarc.shop.test", "TXT", "v=DMARC1; p=none"),
        ("_smtp._tls.shop.test", "TXT", "v=TLSRPTv1; rua=tlsrpt@shop.test"),
        ("healthy.test", "TXT", "v=spf1 mx -all"),
        (
            "_dmarc.healthy.test",
            "TXT",
            "v=DMARC1; p=reject; rua=mailto:dmarc-reports@healthy.test; adkim=s; aspf=s",
        ),
        ("_smtp._tls.healthy.test", "TXT", "v=TLSRPTv1; rua=mailto:tls-reports@healthy.test"),
        ("mail._domainkey.healthy.test", "TXT", f"v=DKIM1; k=rsa; p={DKIM_KEY}"),
        ("mta-sts.shop.test", "A", "127.0.0.2"),
        ("mta-sts.healthy.test", "A", "127.0.0.3"),
        ("_25._tcp.mx.shop.test", "TLSA", f"3 1 1 {DIGEST}"),
        ("_25._tcp.smtp.healthy.test", "TLSA", f"3 1 1 {DIGEST}"),
    ],
)
def test_zone_posture_record(zone: Zone, name: str, rdtype: str, expected: str) -> None:
    response = _ask(zone, name, rdtype)

    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    values = _texts(response) if rdtype == "TXT" else [rdata.to_text() for rdata in response.answer[0]]
    assert values == [expected]


@pytest.mark.parametrize("profile", [BROKEN, HEALTHY], ids=lambda profile: profile.name)
def test_zone_mta_sts_id_follows_policy(zone: Zone, profile: ServerProfile) -> None:
    assert profile.posture is not None
    response = _ask(zone, f"_mta-sts.{profile.mail_domain}", "TXT")

    assert _texts(response) == [f"v=STSv1; id={policy_id(policy_text(profile.posture))}"]


def test_zone_long_txt_split_in_255_byte_strings(zone: Zone) -> None:
    response = _ask(zone, "mail._domainkey.shop.test", "TXT")
    strings = response.answer[0][0].strings

    assert [len(item) for item in strings] == [255, len(f"v=DKIM1; k=rsa; p={DKIM_KEY}") - 255]
    assert b"".join(strings).decode() == f"v=DKIM1; k=rsa; p={DKIM_KEY}"


@pytest.mark.parametrize(
    ("length", "sizes"), [(0, [0]), (255, [255]), (256, [255, 1]), (600, [255, 255, 90])]
)
def test_txt_rdata_chunks(length: int, sizes: list[int]) -> None:
    rdata = txt_rdata("x" * length)

    assert [len(item) for item in rdata.strings] == sizes


def test_zone_without_keys_has_no_posture() -> None:
    zone = build_zone(SCENARIOS.values())
    types = {rdtype for _, rdtype in zone.records}

    assert types == {dns.rdatatype.A, dns.rdatatype.PTR, dns.rdatatype.MX, dns.rdatatype.SOA}
    assert _ask(zone, "shop.test", "TXT").answer == []
    assert _ask(zone, "mta-sts.shop.test", "A").rcode() == dns.rcode.NXDOMAIN


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        ("_tcp.smtp.healthy.test", "TLSA"),  # empty non-terminal above the TLSA owner
        ("_domainkey.healthy.test", "TXT"),  # empty non-terminal above the DKIM key
        ("_25._tcp.smtp.healthy.test", "A"),
        ("mta-sts.healthy.test", "AAAA"),
        ("healthy.test", "TLSA"),
    ],
)
def test_zone_nodata(zone: Zone, name: str, rdtype: str) -> None:
    response = _ask(zone, name, rdtype)

    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []
    assert response.authority[0].rdtype == dns.rdatatype.SOA


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [
        ("other._domainkey.healthy.test", "TXT"),
        ("_25._tcp.mta-sts.healthy.test", "TLSA"),
        ("_mta-sts.dev.test", "TXT"),
        ("mail.dev.test", "A"),
    ],
)
def test_zone_nxdomain(zone: Zone, name: str, rdtype: str) -> None:
    response = _ask(zone, name, rdtype)

    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.answer == []
    assert response.authority[0].rdtype == dns.rdatatype.SOA


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [("_dmarc.example.com", "TXT"), ("_25._tcp.mx.example.org", "TLSA"), ("mta-sts.example.net", "A")],
)
def test_zone_refuses_outside_names(zone: Zone, name: str, rdtype: str) -> None:
    response = _ask(zone, name, rdtype)

    assert response.rcode() == dns.rcode.REFUSED
    assert response.answer == []
    assert not response.flags & dns.flags.AA


def test_zone_answers_apex_soa(zone: Zone) -> None:
    response = _ask(zone, "test.", "SOA")

    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer[0].rdtype == dns.rdatatype.SOA
    assert response.answer[0].name == dns.name.from_text("test.")


def test_zone_copies_do_bit_without_ad(zone: Zone) -> None:
    query = dns.message.make_query("_25._tcp.smtp.healthy.test", "TLSA", want_dnssec=True)
    query.flags |= dns.flags.AD
    plain_query = dns.message.make_query("_25._tcp.smtp.healthy.test", "TLSA", use_edns=0)

    response = answer_query(query, zone)
    plain_response = answer_query(plain_query, zone)

    assert response.ednsflags & dns.flags.DO
    assert not response.flags & dns.flags.AD
    assert plain_response.edns == 0
    assert not plain_response.ednsflags & dns.flags.DO


def test_zone_rejects_posture_outside_lab_zones() -> None:
    outside = dataclasses.replace(HEALTHY, mail_domain="example.com")

    with pytest.raises(ValueError, match="outside the lab zones"):
        build_zone([outside], {outside.name: KEYS[HEALTHY.name]})


def test_policy_text_lines() -> None:
    assert HEALTHY.posture is not None
    assert BROKEN.posture is not None

    assert policy_text(HEALTHY.posture) == (
        "version: STSv1\r\nmode: enforce\r\nmx: smtp.healthy.test\r\nmax_age: 1209600\r\n"
    )
    assert "mx: mail.dev.test\r\n" in policy_text(BROKEN.posture)
    assert "mx.shop.test" not in policy_text(BROKEN.posture)


def test_policy_id_changes_with_policy() -> None:
    assert HEALTHY.posture is not None
    longer = dataclasses.replace(HEALTHY.posture, mta_sts_max_age=2_419_200)

    first, second = policy_id(policy_text(HEALTHY.posture)), policy_id(policy_text(longer))

    assert first != second
    assert first.isalnum()
    assert 1 <= len(first) <= 32


def test_generate_keys_current_and_replaced(lab: Lab) -> None:
    assert HEALTHY.posture is not None
    assert BROKEN.posture is not None
    cert_pem = _presented_certificate(lab.servers["healthy"].address, lab.servers["healthy"].endpoints[0])

    current = generate_keys(HEALTHY.posture, cert_pem)
    replaced = generate_keys(BROKEN.posture, cert_pem)

    assert current.tlsa_digest == _spki_sha256(cert_pem)
    assert replaced.tlsa_digest != _spki_sha256(cert_pem)
    assert BROKEN.posture.tlsa_key is TlsaKey.REPLACED
    for keys, bits in ((current, 2048), (replaced, 1024)):
        public = load_der_public_key(base64.b64decode(keys.dkim_public_key))
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == bits


def _presented_certificate(address: str, endpoint: str) -> str:
    """Return the PEM certificate a lab server presents after STARTTLS, unverified."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(address, int(endpoint.split("/")[0]), timeout=TIMEOUT) as client:
        client.starttls(context=context)
        der = client.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    return ssl.DER_cert_to_PEM_cert(der)


# MTA-STS responses, without sockets

POLICIES = {"mta-sts.healthy.test": "version: STSv1\r\nmode: enforce\r\n"}


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n", 200),
        (f"GET {POLICY_PATH} HTTP/1.1\r\nHost: MTA-STS.Healthy.Test.:8443\r\n\r\n", 200),
        (f"HEAD {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n", 200),
        (f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.shop.test\r\n\r\n", 404),
        ("GET /mta-sts.txt HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n", 404),
        (f"GET {POLICY_PATH} HTTP/1.0\r\n\r\n", 404),
        (f"POST {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n", 405),
        (f"GET {POLICY_PATH} HTTP/1.1\r\n\r\n", 400),
        (f"GET {POLICY_PATH} HTTP/1.1\r\nHost: a.test\r\nHost: mta-sts.healthy.test\r\n\r\n", 400),
        (f"GET {POLICY_PATH} HTTP/1.9\r\nHost: mta-sts.healthy.test\r\n\r\n", 505),
        (f"GET {POLICY_PATH} HTTP/2.0\r\nHost: mta-sts.healthy.test\r\n\r\n", 400),
        ("\x16\x03\x01 not http\r\n\r\n", 400),
        ("", 400),
    ],
)
def test_policy_response_status(head: str, status: int) -> None:
    response = build_response(parse_request(head.encode("latin-1")), POLICIES)

    assert response.status == status


def test_policy_response_bytes() -> None:
    request = parse_request(f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n".encode())
    response = build_response(request, POLICIES)
    policy = POLICIES["mta-sts.healthy.test"].encode()

    full = response.to_bytes()
    head_only = response.to_bytes(include_body=False)

    assert full.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Type: text/plain\r\n" in full
    assert f"\r\nContent-Length: {len(policy)}\r\n".encode() in full
    assert full.endswith(b"\r\n\r\n" + policy)
    assert head_only == full[: -len(policy)]


def test_policy_response_405_lists_methods() -> None:
    request = parse_request(f"PUT {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\n\r\n".encode())

    assert b"\r\nAllow: GET, HEAD\r\n" in build_response(request, POLICIES).to_bytes()


# The policy server over HTTPS on loopback


def _lab_context(lab: Lab) -> ssl.SSLContext:
    """A client context that trusts the lab CA and nothing else."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=lab.cafile)
    return context


def _fetch(
    address: str, port: int, host: str, context: ssl.SSLContext, *, method: str = "GET"
) -> http.client.HTTPResponse:
    """Send one request to ``address`` with ``host`` as SNI and Host header; no resolver is used."""
    raw = socket.create_connection((address, port), TIMEOUT)
    tls = context.wrap_socket(raw, server_hostname=host)
    tls.sendall(f"{method} {POLICY_PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    response = http.client.HTTPResponse(tls, method=method)
    response.begin()
    return response


@pytest.mark.parametrize("name", ["broken", "healthy"])
def test_policy_server_serves_domain(lab: Lab, name: str) -> None:
    server = lab.servers[name]
    profile = SCENARIOS[name]
    assert profile.posture is not None
    port = lab.domain_options()["mta_sts_port"]

    response = _fetch(server.address, port, f"mta-sts.{server.mail_domain}", _lab_context(lab))
    body = response.read().decode()
    response.close()

    assert response.status == 200
    assert response.getheader("Content-Type") == "text/plain"
    assert body == policy_text(profile.posture)


def test_policy_server_head_and_unknown_host(lab: Lab) -> None:
    server = lab.servers["healthy"]
    port = lab.domain_options()["mta_sts_port"]
    context = _lab_context(lab)

    head = _fetch(server.address, port, "mta-sts.healthy.test", context, method="HEAD")
    head_body = head.read()
    head.close()
    # The certificate names both policy hosts, so the shop's host passes TLS on the healthy
    # server's address, and the Host header picks the policy.
    other = _fetch(server.address, port, "mta-sts.shop.test", context)
    other_body = other.read().decode()
    other.close()

    assert head.status == 200
    assert head_body == b""
    assert other.status == 200
    assert "mx: mail.dev.test" in other_body


def test_policy_server_rejects_oversized_request(lab: Lab) -> None:
    server = lab.servers["healthy"]
    port = lab.domain_options()["mta_sts_port"]
    raw = socket.create_connection((server.address, port), TIMEOUT)
    tls = _lab_context(lab).wrap_socket(raw, server_hostname="mta-sts.healthy.test")
    padding = "x" * 9000  # more than the server reads for a request head
    request = f"GET {POLICY_PATH} HTTP/1.1\r\nHost: mta-sts.healthy.test\r\nX-Padding: {padding}\r\n\r\n"

    tls.sendall(request.encode())
    response = http.client.HTTPResponse(tls, method="GET")
    response.begin()
    response.read()
    response.close()

    assert response.status == 400


def test_policy_server_certificate_names_only_policy_hosts(lab: Lab) -> None:
    server = lab.servers["healthy"]
    port = lab.domain_options()["mta_sts_port"]

    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _fetch(server.address, port, "smtp.healthy.test", _lab_context(lab))


def test_policy_server_untrusted_without_lab_ca(lab: Lab) -> None:
    server = lab.servers["healthy"]
    port = lab.domain_options()["mta_sts_port"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # trusts no CA at all

    with pytest.raises(ssl.SSLCertVerificationError):
        _fetch(server.address, port, "mta-sts.healthy.test", context)


def test_policy_server_stops_with_lab() -> None:
    sockets_before = _open_sockets()
    lab = Lab().start()
    try:
        server = lab.servers["healthy"]
        port = lab.domain_options()["mta_sts_port"]
        response = _fetch(server.address, port, "mta-sts.healthy.test", _lab_context(lab))
        response.read()
        response.close()
        idle = socket.create_connection((server.address, port), TIMEOUT)
    finally:
        lab.stop()
    idle.close()

    assert response.status == 200
    for address in ("127.0.0.2", "127.0.0.3"):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), TIMEOUT).close()
    assert _open_sockets() - sockets_before == set()


def test_policy_server_only_for_running_scenarios() -> None:
    with Lab(scenarios=("healthy",)) as running:
        port = running.domain_options()["mta_sts_port"]
        context = _lab_context(running)
        response = _fetch("127.0.0.3", port, "mta-sts.healthy.test", context)
        response.read()
        response.close()
        listening = _listening_addresses(port)
        # Without the broken scenario, the certificate does not name the shop's policy host.
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            _fetch("127.0.0.3", port, "mta-sts.shop.test", context)

    assert response.status == 200
    assert listening == {"127.0.0.3"}


def test_policy_server_listens_on_loopback_only(lab: Lab) -> None:
    port = lab.domain_options()["mta_sts_port"]
    addresses = _listening_addresses(port)

    assert addresses == {"127.0.0.2", "127.0.0.3"}
    assert all(ipaddress.ip_address(address).is_loopback for address in addresses)


def _listening_addresses(port: int) -> set[str]:
    """Return the IPv4 and IPv6 addresses with a TCP socket listening on ``port``, from /proc/net."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A is TCP_LISTEN
                continue
            # The kernel prints the address in host byte order, which is little-endian here.
            raw = bytes.fromhex(address_hex)
            words = b"".join(raw[index : index + 4][::-1] for index in range(0, len(raw), 4))
            addresses.add(str(ipaddress.ip_address(words)))
    return addresses


# DNS over the network, as the domain checks query it


def _validating_resolver(lab: Lab) -> dns.resolver.Resolver:
    """A resolver that sets DO and AD in its queries, as smtplab.domain.lookups does."""
    host, port = lab.nameserver.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.lifetime = TIMEOUT
    resolver.use_edns(0, dns.flags.DO, 1232)
    resolver.flags = dns.flags.RD | dns.flags.AD
    return resolver


def test_lab_dns_serves_dkim_key(lab: Lab) -> None:
    answer = _validating_resolver(lab).resolve("mail._domainkey.healthy.test", "TXT")
    strings = answer.rrset[0].strings  # type: ignore[index]
    text = b"".join(strings).decode()

    assert len(strings) == 2
    assert text.startswith("v=DKIM1; k=rsa; p=MII")
    assert answer.response.ednsflags & dns.flags.DO
    assert not answer.response.flags & dns.flags.AD


def test_lab_dns_tlsa_matches_presented_key(lab: Lab) -> None:
    healthy = lab.servers["healthy"]
    answer = _validating_resolver(lab).resolve("_25._tcp.smtp.healthy.test", "TLSA")
    cert_pem = _presented_certificate(healthy.address, healthy.endpoints[0])

    assert [rdata.to_text() for rdata in answer] == [f"3 1 1 {_spki_sha256(cert_pem)}"]


def test_lab_dns_tlsa_of_broken_names_other_key(lab: Lab) -> None:
    broken = lab.servers["broken"]
    answer = _validating_resolver(lab).resolve("_25._tcp.mx.shop.test", "TLSA")
    cert_pem = _presented_certificate(broken.address, broken.endpoints[0])

    assert len(answer) == 1
    assert answer[0].to_text().startswith("3 1 1 ")
    assert answer[0].to_text() != f"3 1 1 {_spki_sha256(cert_pem)}"


def test_lab_dns_long_txt_same_over_tcp(lab: Lab) -> None:
    host, port = lab.nameserver.split(":")
    query = dns.message.make_query("mail._domainkey.healthy.test", "TXT", want_dnssec=True)

    udp = dns.query.udp(query, host, port=int(port), timeout=TIMEOUT)
    tcp = dns.query.tcp(query, host, port=int(port), timeout=TIMEOUT)

    assert udp.rcode() == tcp.rcode() == dns.rcode.NOERROR
    assert udp.answer == tcp.answer
    assert tcp.ednsflags & dns.flags.DO


# probe_domain against the running lab


@pytest.fixture(scope="module")
def healthy_posture(lab: Lab) -> DomainPosture:
    return probe_domain(lab.servers["healthy"].mail_domain, **lab.domain_options())


@pytest.fixture(scope="module")
def broken_posture(lab: Lab) -> DomainPosture:
    return probe_domain(lab.servers["broken"].mail_domain, **lab.domain_options())


def _codes(posture: DomainPosture) -> dict[str, Severity]:
    return {item.code: item.severity for item in posture.finding_list}


def test_domain_options_values(lab: Lab) -> None:
    options = lab.domain_options()
    config = options["config"]

    assert config.nameserver == lab.nameserver
    assert config.cafile == str(lab.cafile)
    assert options["https_cafile"] == str(lab.cafile)
    assert options["mx_endpoints"] == {
        "mx.shop.test": lab.servers["broken"].endpoints[0],
        "smtp.healthy.test": lab.servers["healthy"].endpoints[0],
    }
    assert options["selectors"] == ["mail"]
    assert options["mta_sts_port"] > 0


def test_domain_options_need_running_lab() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        Lab().domain_options()


def test_healthy_domain_passes(healthy_posture: DomainPosture) -> None:
    codes = _codes(healthy_posture)

    assert {
        "domain.spf_ok",
        "domain.dmarc_enforced",
        "domain.dkim_ok",
        "domain.mta_sts_enforced",
        "domain.tlsa_match",
    } <= set(codes)
    assert [code for code, severity in codes.items() if severity is Severity.CRITICAL] == []
    # The only warning: the lab zone is not signed, so no sender would use the TLSA record.
    assert [code for code, severity in codes.items() if severity is Severity.WARNING] == [
        "domain.tlsa_not_validated"
    ]
    assert "domain.tlsrpt_missing" not in codes
    assert "domain.tlsrpt_invalid" not in codes


def test_healthy_domain_frames(healthy_posture: DomainPosture) -> None:
    mx = healthy_posture.mx.iloc[0]

    assert (mx["host"], mx["address"], mx["ptr"]) == ("smtp.healthy.test", "127.0.0.3", "smtp.healthy.test")
    assert bool(mx["starttls"]) is True
    assert bool(mx["cert_verified"]) is True
    assert bool(mx["cert_matches_host"]) is True
    assert healthy_posture.mta_sts["passes"].tolist() == [True]
    assert set(healthy_posture.tlsa["verdict"].astype(str)) == {"match"}
    assert healthy_posture.dkim.set_index("selector")["bits"].to_dict() == {"mail": 2048}
    assert healthy_posture.dnssec_validated is False


@pytest.mark.parametrize(
    ("code", "subject"),
    [
        ("domain.spf_not_strict", "shop.test"),
        ("domain.dmarc_none_policy", "shop.test"),
        ("domain.dmarc_no_rua", "shop.test"),
        ("domain.dkim_weak_key", "shop.test"),
        ("domain.tlsrpt_invalid", "shop.test"),
        ("domain.mta_sts_mx_mismatch", "mx.shop.test"),
        ("domain.mta_sts_cert_mismatch", "mx.shop.test"),
        ("domain.tlsa_mismatch_unsigned", "mx.shop.test"),
    ],
)
def test_broken_domain_planted_mistake(broken_posture: DomainPosture, code: str, subject: str) -> None:
    subjects = {item.subject for item in broken_posture.finding_list if item.code == code}

    assert subjects == {subject}


def test_broken_domain_mistake_details(broken_posture: DomainPosture) -> None:
    by_code = {item.code: item for item in broken_posture.finding_list}

    assert by_code["domain.mta_sts_mx_mismatch"].params["patterns"] == "mail.dev.test"
    assert by_code["domain.mta_sts_cert_mismatch"].params["names"] == "mail.dev.test"
    assert by_code["domain.dkim_weak_key"].params["bits"] == 1024
    assert by_code["domain.spf_not_strict"].params["all"] == "?all"
    assert "domain.mta_sts_name_outside_policy" not in by_code


def test_broken_domain_has_no_passing_checks(broken_posture: DomainPosture) -> None:
    codes = _codes(broken_posture)

    assert [code for code, severity in codes.items() if severity is Severity.OK] == []
    assert set(broken_posture.tlsa["verdict"].astype(str)) == {"mismatch"}
    assert broken_posture.mta_sts["passes"].tolist() == [False]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_domain_report_sections(
    healthy_posture: DomainPosture, broken_posture: DomainPosture, lang: str
) -> None:
    for posture in (healthy_posture, broken_posture):
        html = posture.to_html(lang)
        markdown = posture.to_markdown(lang)

        assert '<section class="domain-posture">' in html
        assert posture.domain in markdown
        assert "domain.tlsa_not_validated" in html
        has_chinese = any("\u4e00" <= char <= "\u9fff" for char in markdown)
        assert has_chinese is (lang == "zh-CN")


@pytest.fixture
def fresh_lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


def test_keys_change_between_runs(fresh_lab: Lab, lab: Lab) -> None:
    resolver_old, resolver_new = _validating_resolver(lab), _validating_resolver(fresh_lab)

    old = resolver_old.resolve("_25._tcp.smtp.healthy.test", "TLSA")[0].to_text()
    new = resolver_new.resolve("_25._tcp.smtp.healthy.test", "TLSA")[0].to_text()

    assert old != new
