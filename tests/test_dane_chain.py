"""The presented certificate chain: recorded from the lab, saved and reloaded, and used
for DANE-TA (TLSA usage 2) verdicts against a real unbound."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import smtplab
from smtplab.domain import DomainPosture
from smtplab.lab import Lab
from smtplab.net.tlscontext import handshake_facts

from domainlab import DomainLab, codes, finding

SAMPLE = Path(__file__).parent.parent / "data" / "lab-healthy.jsonl"


def _der(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


@pytest.fixture(scope="module")
def dane(domain_lab: DomainLab) -> DomainPosture:
    return domain_lab.probe("dane.test")


@pytest.fixture(scope="module")
def dane_root(domain_lab: DomainLab) -> DomainPosture:
    return domain_lab.probe("daneroot.test")


@pytest.fixture(scope="module")
def dane_wrong(domain_lab: DomainLab) -> DomainPosture:
    return domain_lab.probe("danewrong.test")


def test_lab_sends_leaf_and_intermediate(healthy: smtplab.ProbeResult, lab: Lab) -> None:
    intermediate_der = _der(lab.intermediate_file.read_text())
    root_der = _der(lab.cafile.read_text())
    assert len(healthy.views) == 3
    for item in healthy.views:
        assert item.tls is not None, item.record.port
        chain = item.chain_pem
        assert chain is not None, item.record.port
        assert len(chain) == 2
        assert chain[0] == item.tls["cert_pem"]
        assert _der(chain[1]) == intermediate_der
        assert root_der not in [_der(pem) for pem in chain]


def test_tls_frame_chain_length(healthy: smtplab.ProbeResult) -> None:
    assert healthy.tls["chain_length"].tolist() == [2, 2, 2]


def test_chain_survives_save_and_load(healthy: smtplab.ProbeResult, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    healthy.save(path)
    loaded = smtplab.load(path)
    assert [item.chain_pem for item in loaded.views] == [item.chain_pem for item in healthy.views]
    pd.testing.assert_frame_equal(loaded.tls, healthy.tls)


def test_old_record_without_chain_loads() -> None:
    result = smtplab.load(SAMPLE)
    assert result.views
    for item in result.views:
        assert item.tls is not None
        assert "chain_pem" not in item.tls
        assert item.chain_pem is None
    tls = result.tls
    assert len(tls) == len(result.views)
    assert tls["chain_length"].isna().all()
    assert tls["subject"].notna().all()


class _FakeSSLObject:
    """An ``ssl.SSLObject`` stand-in with the leaf only, as on a Python without chain access."""

    def __init__(self, leaf_der: bytes) -> None:
        self._leaf_der = leaf_der

    def cipher(self) -> tuple[str, str, int]:
        return ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)

    def version(self) -> str:
        return "TLSv1.3"

    def getpeercert(self, binary_form: bool = False) -> bytes:
        assert binary_form
        return self._leaf_der


class _PublicChain(_FakeSSLObject):
    """The Python 3.13 form: ``get_unverified_chain`` on the object, returning DER bytes."""

    def __init__(self, leaf_der: bytes, chain: list[bytes]) -> None:
        super().__init__(leaf_der)
        self._chain = chain

    def get_unverified_chain(self) -> list[bytes]:
        return self._chain


class _BrokenChain(_FakeSSLObject):
    def get_unverified_chain(self) -> list[bytes]:
        raise ssl.SSLError("chain not available")


def _facts(ssl_object: Any) -> dict[str, Any]:
    return handshake_facts(ssl_object)


def test_handshake_facts_without_chain_access(lab: Lab) -> None:
    leaf_der = _der(lab.intermediate_file.read_text())
    facts = _facts(_FakeSSLObject(leaf_der))
    assert facts["cert_pem"] == ssl.DER_cert_to_PEM_cert(leaf_der)
    assert facts["chain_pem"] is None
    assert _facts(_BrokenChain(leaf_der))["chain_pem"] is None
    assert _facts(_PublicChain(leaf_der, []))["chain_pem"] is None


def test_handshake_facts_public_chain_method(lab: Lab) -> None:
    ca_der = _der(lab.cafile.read_text())
    facts = _facts(_PublicChain(ca_der, [ca_der, ca_der]))
    assert facts["chain_pem"] == [ssl.DER_cert_to_PEM_cert(ca_der)] * 2


def test_dane_ta_matches_intermediate(dane: DomainPosture) -> None:
    # The record matches the chain, but the lab certificate names smtp.healthy.test, not
    # mx.dane.test, and DANE-TA senders check the name too.
    item = finding(dane, "domain.tlsa_ta_name_mismatch", "mx.dane.test")
    assert item.params["names"] == "smtp.healthy.test"
    assert item.params["record"].startswith("2 0 1 ")
    assert not {"domain.tlsa_match", "domain.tlsa_mismatch", "domain.tlsa_unverifiable"} & codes(dane)
    tlsa = dane.tlsa
    assert len(tlsa) == 1
    assert tlsa["address"].tolist() == ["127.0.0.3"]
    assert tlsa["usage"].tolist() == [2]
    assert tlsa["verdict"].astype(str).tolist() == ["match"]


def test_dane_ta_full_key_of_root(dane_root: DomainPosture) -> None:
    item = finding(dane_root, "domain.tlsa_ta_name_mismatch", "mx.daneroot.test")
    assert item.params["record"].startswith("2 1 0 ")
    assert not {"domain.tlsa_mismatch", "domain.tlsa_unverifiable"} & codes(dane_root)
    assert dane_root.tlsa["verdict"].astype(str).tolist() == ["match"]


def test_dane_ta_mismatch(dane_wrong: DomainPosture) -> None:
    item = finding(dane_wrong, "domain.tlsa_mismatch_unsigned", "mx.danewrong.test")
    assert item.params["address"] == "127.0.0.3"
    assert not {"domain.tlsa_match", "domain.tlsa_unverifiable"} & codes(dane_wrong)
    verdicts = dict(zip(dane_wrong.tlsa["label"], dane_wrong.tlsa["verdict"].astype(str), strict=True))
    # The root's digest cannot match because the server does not send the root, and the
    # server's own key never counts as a trust anchor.
    assert verdicts == {"DANE-TA Cert SHA2-256": "mismatch", "DANE-TA SPKI SHA2-256": "mismatch"}


def test_dane_ta_with_named_certificate(domain_lab: DomainLab) -> None:
    # good.test's MX is smtp.healthy.test, the name on the lab certificate.
    posture = domain_lab.probe("good.test")
    tlsa = posture.tlsa
    usage_two = tlsa[tlsa["usage"] == 2]
    assert usage_two["verdict"].astype(str).tolist() == ["match"]
    assert "domain.tlsa_ta_name_mismatch" not in codes(posture)
    assert "domain.tlsa_match" in codes(posture, "smtp.healthy.test")
