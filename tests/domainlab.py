"""The domain test lab: a loopback unbound serving the test zones, an MTA-STS policy server
and the probe settings that reach the embedded lab's SMTP servers through them."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smtplab import ProbeConfig
from smtplab.domain import DomainFinding, DomainPosture, probe_domain
from smtplab.lab import Lab

from dnsserver import UnboundServer, start_unbound, stop_unbound, zone_texts
from mtasts_server import PolicyServer, Reply, start_policy_server

GOOD_POLICY = "version: STSv1\nmode: enforce\nmx: smtp.healthy.test\nmax_age: 1209600\n"
# broken.test's MX set is mx.shop.test and smtp.healthy.test, but the policy lists only the second.
BROKEN_POLICY = "version: STSv1\r\nmode: enforce\r\nmx: smtp.healthy.test\r\nmax_age: 86400\r\n"
TESTING_POLICY = "version: STSv1\nmode: testing\nmx: *.healthy.test\nmax_age: 604800\n"
NONE_POLICY = "version: STSv1\nmode: none\nmx: smtp.healthy.test\nmax_age: 604800\n"
# No mode line: RFC 8461 section 3.2 requires it.
INVALID_POLICY = "version: STSv1\nmx: smtp.healthy.test\nmax_age: 604800\n"
# The first MX listed has nothing listening, so no STARTTLS can happen there.
CLOSED_POLICY = "version: STSv1\nmode: enforce\nmx: mx.unreach.test\nmx: smtp.healthy.test\nmax_age: 604800\n"
# The domain's only MX has nothing listening.
ALL_CLOSED_POLICY = "version: STSv1\nmode: enforce\nmx: mx.allclosed.test\nmax_age: 604800\n"

POLICIES = {
    "mta-sts.good.test": Reply(GOOD_POLICY),
    "mta-sts.broken.test": Reply(BROKEN_POLICY),
    "mta-sts.fallback.test": Reply(TESTING_POLICY),
    "mta-sts.unreach.test": Reply("moved\n", status=301, location="https://example.com/"),
    "mta-sts.stsnone.test": Reply(NONE_POLICY),
    "mta-sts.stsinvalid.test": Reply(INVALID_POLICY),
    "mta-sts.stsclosed.test": Reply(CLOSED_POLICY),
    "mta-sts.allclosed.test": Reply(ALL_CLOSED_POLICY),
    "mta-sts.ststesting.test": Reply(TESTING_POLICY),
}


@dataclass(frozen=True)
class DomainLab:
    """The running servers and the probe settings that reach them."""

    dns: UnboundServer
    policies: PolicyServer
    config: ProbeConfig
    mx_endpoints: dict[str, str]

    def probe(self, domain: str, *, config: ProbeConfig | None = None, **options: object) -> DomainPosture:
        return probe_domain(
            domain,
            config=config or self.config,
            mx_endpoints=self.mx_endpoints,
            https_cafile=str(self.policies.cafile),
            mta_sts_port=self.policies.port,
            **options,
        )  # type: ignore[arg-type]


def spki_sha256(address: str, endpoint: str) -> str:
    """The SHA-256 of the public key the server presents after STARTTLS, for a 3 1 1 TLSA record."""
    port = int(endpoint.split("/")[0])
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(address, port, timeout=10) as client:
        client.starttls(context=context)
        der = client.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    cert = x509.load_der_x509_certificate(der)
    return hashlib.sha256(
        cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).hexdigest()


@contextmanager
def running_domain_lab(lab: Lab) -> Iterator[DomainLab]:
    """Start unbound with the test zones and the policy server; stop both on exit."""
    healthy, broken = lab.servers["healthy"], lab.servers["broken"]
    values = {
        "HEALTHY_587": healthy.endpoints[1].split("/")[0],
        "HEALTHY_465": healthy.endpoints[2].split("/")[0],
        "HEALTHY_SPKI_SHA256": spki_sha256(healthy.address, healthy.endpoints[0]),
        "OTHER_SPKI_SHA256": hashlib.sha256(b"not the certificate of mx.shop.test").hexdigest(),
        "LAB_INTERMEDIATE_SHA256": hashlib.sha256(
            ssl.PEM_cert_to_DER_cert(lab.intermediate_file.read_text())
        ).hexdigest(),
        "LAB_ROOT_SHA256": hashlib.sha256(ssl.PEM_cert_to_DER_cert(lab.cafile.read_text())).hexdigest(),
        "LAB_ROOT_SPKI": x509.load_pem_x509_certificate(lab.cafile.read_bytes())
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        .hex(),
    }
    policies = start_policy_server(POLICIES)
    try:
        dns_server = start_unbound(zone_texts(values), signed=zone_texts(values, "*.dnssec"))
    except BaseException:
        policies.stop()
        raise
    config = ProbeConfig(
        nameserver=dns_server.nameserver,
        cafile=str(lab.cafile),
        ehlo_name="client.smtplab.test",
        connect_timeout=5.0,
        reply_timeout=5.0,
        probe_timeout=30.0,
    )
    endpoints = {
        "smtp.healthy.test": healthy.endpoints[0],
        "mx.shop.test": broken.endpoints[0],
        "fallback.test": healthy.endpoints[0],
        "mx.signed.test": healthy.endpoints[0],
        "mx.signedwrong.test": healthy.endpoints[0],
        "mx.tlsabad.test": healthy.endpoints[0],
        "mx.dane.test": healthy.endpoints[0],
        "mx.daneroot.test": healthy.endpoints[0],
        "mx.danewrong.test": healthy.endpoints[0],
    }
    try:
        yield DomainLab(dns_server, policies, config, endpoints)
    finally:
        stop_unbound(dns_server)
        policies.stop()


def codes(posture: DomainPosture, subject: str | None = None) -> set[str]:
    """The finding codes of a posture, for one subject or all."""
    return {item.code for item in posture.finding_list if subject is None or item.subject == subject}


def finding(posture: DomainPosture, code: str, subject: str | None = None) -> DomainFinding:
    """The first finding with this code (and subject); fails the test when there is none."""
    matches = [
        item
        for item in posture.finding_list
        if item.code == code and (subject is None or item.subject == subject)
    ]
    assert matches, f"no {code} finding for {subject or 'any subject'}: {sorted(codes(posture))}"
    return matches[0]
