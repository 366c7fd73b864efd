"""Record parsers and verdicts of the domain checks, without sockets."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smtplab import ProbeConfig
from smtplab.domain import probe_domain
from smtplab.domain.dane import TlsaRecord, association_data, check_record, issuer_path, parse_tlsa
from smtplab.domain.dkim import parse_dkim
from smtplab.domain.dmarc import is_dmarc, organizational_domain, parse_dmarc, report_domain
from smtplab.domain.fetch import _parse_head, policy_url
from smtplab.domain.findings import DOMAIN_KINDS, DomainFinding
from smtplab.domain.mtasts import parse_policy, parse_sts_record, pattern_matches
from smtplab.domain.spf import is_spf, parse_spf
from smtplab.domain.tlsrpt import parse_tlsrpt


def _certificate_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx.example.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def test_spf_terms_parsed() -> None:
    record = parse_spf(
        "v=spf1 ip4:192.0.2.0/24 -include:_spf.example.test a/24 mx:mail.example.test//64 "
        "redirect=other.test ~all"
    )
    names = [(term.kind, term.qualifier, term.name, term.value) for term in record.terms]
    assert names[0] == ("mechanism", "+", "ip4", "192.0.2.0/24")
    assert names[1] == ("mechanism", "-", "include", "_spf.example.test")
    assert names[2] == ("mechanism", "+", "a", "/24")
    assert names[4] == ("modifier", "", "redirect", "other.test")
    assert record.all_qualifier == "~"
    assert record.errors == ()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("v=spf1 ip4:2001:db8::1 -all", "is not an IPv4 address"),
        ("v=spf1 include -all", "include needs a domain"),
        ("v=spf1 foo:bar -all", "unknown mechanism"),
        ("v=spf1 all:x", "all takes no argument"),
        ("v=spf1 a/33 -all", "invalid prefix length"),
        ("v=spf1 redirect=a.test redirect=b.test", "redirect modifier appears more than once"),
        ("spf1 -all", "must start with v=spf1"),
    ],
)
def test_spf_syntax_errors(text: str, problem: str) -> None:
    assert any(problem in error for error in parse_spf(text).errors)


def test_spf_detection() -> None:
    assert is_spf("v=spf1 -all")
    assert is_spf("V=SPF1")
    assert not is_spf("v=spf10 -all")
    assert not is_spf("google-site-verification=x")


def test_dmarc_record_parsed() -> None:
    record = parse_dmarc(
        "v=DMARC1; p=quarantine; sp=reject; pct=25; rua=mailto:a@x.test,mailto:b@y.test!10m; adkim=s"
    )
    assert record.valid
    assert record.policy == "quarantine"
    assert record.subdomain_policy == "reject"
    assert record.pct == 25
    assert record.rua == ["mailto:a@x.test", "mailto:b@y.test!10m"]
    assert [report_domain(uri) for uri in record.rua] == ["x.test", "y.test"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("v=DMARC1; p=block", "p=block is not one of none, quarantine, reject"),
        ("v=DMARC1; pct=150; p=none", "the p tag must follow v=DMARC1 directly"),
        ("v=DMARC1; p=none; p=reject", "the p tag appears more than once"),
        ("v=DMARC1; sp=none", "the p tag is missing"),
    ],
)
def test_dmarc_record_errors(text: str, problem: str) -> None:
    record = parse_dmarc(text)
    assert problem in "; ".join(record.errors)
    assert not record.valid


@pytest.mark.parametrize(
    "text, problem",
    [
        ("v=DMARC1; p=none; pct=150", "pct=150 is not a number from 0 to 100"),
        ("v=DMARC1; p=none; adkim=x", "adkim=x is not r or s"),
        ("v=DMARC1; p=none; rua=https://r.test/", "is not a mailto: URI"),
        ("v=DMARC1; p=none; fo=2", "fo=2 must list 0, 1, d or s"),
        ("v=DMARC1; p=reject; sp=block", "sp=block is not one of none, quarantine, reject"),
    ],
)
def test_dmarc_tag_errors_keep_record(text: str, problem: str) -> None:
    # Receivers discard invalid tags after v and p and use the defaults (RFC 7489 section 6.3).
    record = parse_dmarc(text)
    assert problem in "; ".join(record.tag_errors)
    assert record.errors == []
    assert record.valid


def test_dmarc_without_p_but_with_rua_is_none() -> None:
    record = parse_dmarc("v=DMARC1; rua=mailto:d@example.test")
    assert record.policy == "none"
    assert record.valid


def test_dmarc_detection_and_unknown_tags() -> None:
    assert is_dmarc("v=DMARC1; p=none")
    assert not is_dmarc("v=DMARC2; p=none")
    assert parse_dmarc("v=DMARC1; p=none; rfu=1").unknown_tags == ["rfu"]


def test_organizational_domain() -> None:
    suffixes = frozenset({"uk", "co.uk", "*.ck", "!www.ck", "test"})
    assert organizational_domain("mail.example.co.uk", suffixes) == "example.co.uk"
    assert organizational_domain("a.b.example.test", suffixes) == "example.test"
    assert organizational_domain("shop.foo.ck", suffixes) == "shop.foo.ck"
    assert organizational_domain("sub.good.test") == "good.test"


def test_dkim_keys() -> None:
    assert parse_dkim("s", "v=DKIM1; p=").revoked
    assert parse_dkim("s", "v=DKIM1; k=ed25519; p=" + "A" * 43 + "=").bits == 256
    assert "the p tag (public key) is missing" in parse_dkim("s", "v=DKIM1; k=rsa").errors
    assert "the p tag is not valid base64" in parse_dkim("s", "p=!!!").errors
    assert parse_dkim("s", "v=DKIM1; t=y:s; p=").testing
    assert "the v tag must be DKIM1 and come first" in parse_dkim("s", "k=rsa; v=DKIM1; p=").errors


def test_mta_sts_policy_parsed() -> None:
    policy = parse_policy(
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
    )
    assert policy.valid
    assert policy.mx == ["mail.example.test", "*.example.net"]
    assert policy.max_age == 604800


@pytest.mark.parametrize(
    "text, problem",
    [
        ("version: STSv1\nmode: enforce\nmax_age: 86400\n", "no mx pattern is listed"),
        ("version: STSv2\nmode: none\nmax_age: 1\n", "version must be STSv1"),
        ("version: STSv1\nmode: strict\nmx: a.test\nmax_age: 1\n", "mode must be enforce, testing or none"),
        ("version: STSv1\nmode: none\nmax_age: 99999999\n", "max_age must be 0 to 31557600"),
        (
            "version: STSv1\nmode: testing\nmx: a.*.test\nmax_age: 1\n",
            "is not a host name or *.domain pattern",
        ),
    ],
)
def test_mta_sts_policy_errors(text: str, problem: str) -> None:
    assert problem in "; ".join(parse_policy(text).errors)


def test_mta_sts_record_and_patterns() -> None:
    assert parse_sts_record("v=STSv1; id=20240101T0000").id == "20240101T0000"
    assert parse_sts_record("v=STSv1; id=a-b").errors
    assert parse_sts_record("v=STSv1").errors == ["the id field is missing"]
    assert pattern_matches("*.example.test", "mx1.example.test")
    assert not pattern_matches("*.example.test", "example.test")
    assert not pattern_matches("*.example.test", "a.mx.example.test")
    assert pattern_matches("MX.example.test.", "mx.example.test")


def test_tlsrpt_record() -> None:
    assert parse_tlsrpt("v=TLSRPTv1; rua=mailto:r@example.test,https://r.example.test/v1").errors == []
    assert parse_tlsrpt("v=TLSRPTv1; rua=ftp://x").errors == ["ftp://x is not a mailto: or https: URI"]


def test_tlsa_matches_presented_certificate() -> None:
    pem = _certificate_pem()
    for selector in (0, 1):
        for matching in (0, 1, 2):
            record = parse_tlsa(f"3 {selector} {matching} {association_data(pem, selector, matching)}")
            assert check_record(record, pem) == "match", record.label
    cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    full = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert check_record(parse_tlsa(f"3 0 1 {full}"), pem) == "match"
    assert check_record(parse_tlsa("3 1 1 " + "0" * 64), pem) == "mismatch"
    assert check_record(parse_tlsa("2 0 1 " + "0" * 64), pem) == "unverifiable"
    assert check_record(parse_tlsa("1 1 1 " + "0" * 64), pem) == "unusable"
    assert check_record(parse_tlsa("3 1 1 " + "0" * 63), pem) == "invalid"
    assert check_record(parse_tlsa("3 1 1 " + "0" * 64), None) == "unverifiable"


def test_http_head_and_url() -> None:
    status, headers = _parse_head(
        "HTTP/1.1 301 Moved\r\nLocation: https://x.test/\r\nContent-Type: text/html"
    )
    assert status == 301
    assert headers["location"] == "https://x.test/"
    assert _parse_head("SSH-2.0-OpenSSH")[0] is None
    assert policy_url("mta-sts.example.test", 443) == "https://mta-sts.example.test/.well-known/mta-sts.txt"
    assert policy_url("mta-sts.example.test", 8443).startswith("https://mta-sts.example.test:8443/")


def test_finding_codes_unique_and_prefixed() -> None:
    codes = [kind.code for kind in DOMAIN_KINDS]
    assert len(codes) == len(set(codes))
    assert all(code.startswith("domain.") for code in codes)
    with pytest.raises(KeyError, match="unknown domain finding code"):
        DomainFinding("domain.nonexistent", "example.test")


def _pems(*items: trustme.CA | trustme.LeafCert) -> list[str]:
    """PEM of each CA certificate or leaf certificate, in the order given."""
    pems = []
    for item in items:
        blob = item.cert_pem if isinstance(item, trustme.CA) else item.cert_chain_pems[0]
        pems.append(blob.bytes().decode("ascii"))
    return pems


def _impostor_of(ca_pem: str) -> str:
    """A self-signed CA certificate with the same subject as ``ca_pem`` but another key."""
    real = x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _usage2(pem: str, selector: int, matching: int) -> TlsaRecord:
    return parse_tlsa(f"2 {selector} {matching} {association_data(pem, selector, matching)}")


@pytest.fixture(scope="module")
def issued_chain() -> tuple[str, str, str]:
    """Leaf, intermediate and root certificates (PEM): the root signed the intermediate,
    which signed the leaf."""
    root = trustme.CA()
    intermediate = root.create_child_ca()
    leaf = intermediate.issue_cert("mx.example.test")
    leaf_pem, intermediate_pem, root_pem = _pems(leaf, intermediate, root)
    return leaf_pem, intermediate_pem, root_pem


def test_tlsa_usage2_matches_sent_issuers(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    for anchor in (intermediate, root):
        for selector in (0, 1):
            for matching in (0, 1, 2):
                record = _usage2(anchor, selector, matching)
                assert check_record(record, leaf, [leaf, intermediate, root]) == "match", record.label


def test_tlsa_usage2_never_matches_leaf(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    for selector in (0, 1):
        for matching in (0, 1, 2):
            record = _usage2(leaf, selector, matching)
            assert check_record(record, leaf, [leaf, intermediate, root]) == "mismatch", record.label


def test_tlsa_usage2_needs_chain(issued_chain: tuple[str, str, str]) -> None:
    leaf, _, root = issued_chain
    record = _usage2(root, 0, 1)
    assert check_record(record, leaf) == "unverifiable"
    assert check_record(record, leaf, None) == "unverifiable"
    assert check_record(record, leaf, []) == "unverifiable"
    assert check_record(record, None, None) == "unverifiable"
    assert check_record(record, leaf, ["not a certificate"]) == "unverifiable"


def test_tlsa_usage2_chain_in_any_order(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    shuffled = [leaf, root, intermediate]
    assert check_record(_usage2(root, 1, 1), leaf, shuffled) == "match"
    assert check_record(_usage2(intermediate, 0, 1), leaf, shuffled) == "match"


def test_tlsa_usage2_root_not_sent(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    sent = [leaf, intermediate]
    # A full record contains the trust anchor, so it verifies the intermediate's signature.
    assert check_record(_usage2(root, 0, 0), leaf, sent) == "match"
    assert check_record(_usage2(root, 1, 0), leaf, sent) == "match"
    # A digest can only be compared with a certificate the server sent.
    assert check_record(_usage2(root, 0, 1), leaf, sent) == "mismatch"
    assert check_record(_usage2(root, 1, 2), leaf, sent) == "mismatch"


def test_tlsa_usage2_full_rsa_key_not_sent() -> None:
    root = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = root.issue_cert("mx.example.test", key_type=trustme.KeyType.RSA)
    leaf_pem, root_pem = _pems(leaf, root)
    other_pem = _pems(trustme.CA(key_type=trustme.KeyType.RSA))[0]
    assert check_record(_usage2(root_pem, 1, 0), leaf_pem, [leaf_pem]) == "match"
    assert check_record(_usage2(other_pem, 1, 0), leaf_pem, [leaf_pem]) == "mismatch"
    assert check_record(_usage2(other_pem, 0, 0), leaf_pem, [leaf_pem]) == "mismatch"


def test_tlsa_usage2_unrelated_certificate_sent(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    stranger = _pems(trustme.CA())[0]
    assert check_record(_usage2(stranger, 0, 1), leaf, [leaf, intermediate, root, stranger]) == "mismatch"


def test_tlsa_usage2_impostor_with_issuer_name(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    impostor = _impostor_of(root)
    # The impostor has the root's name but did not sign the intermediate.
    assert check_record(_usage2(impostor, 1, 1), leaf, [leaf, intermediate, impostor]) == "mismatch"
    assert check_record(_usage2(impostor, 0, 0), leaf, [leaf, intermediate]) == "mismatch"


def test_tlsa_usage2_issuer_path(issued_chain: tuple[str, str, str]) -> None:
    leaf, intermediate, root = issued_chain
    stranger = _pems(trustme.CA())[0]
    sent = (leaf, stranger, root, intermediate)
    chain = [x509.load_pem_x509_certificate(pem.encode("ascii")) for pem in sent]
    path = issuer_path(chain)
    assert path == [chain[0], chain[3], chain[2]]
    assert issuer_path(chain[:1]) == chain[:1]


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"domain": "127.0.0.2"}, ValueError, "not an IP address"),
        ({"domain": "::1"}, ValueError, "not an IP address"),
        ({"domain": None}, TypeError, "must be a str"),
        ({"domain": "a.test", "selectors": "mail"}, TypeError, "not the string 'mail'"),
        ({"domain": "a.test", "selectors": ["bad selector"]}, ValueError, "invalid DKIM selector"),
        ({"domain": "a.test", "mta_sts_port": 70000}, ValueError, "invalid mta_sts_port"),
    ],
)
def test_probe_domain_rejects_bad_arguments(
    arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    # Raised before any lookup: the configured resolver is never asked.
    with pytest.raises(error, match=message):
        probe_domain(config=ProbeConfig(nameserver="127.0.0.1:9"), **arguments)
