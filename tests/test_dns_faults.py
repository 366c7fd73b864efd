"""DNS faults from a real DNS server on loopback end in classified results."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import smtplab

from faultdns import fault_dns


@pytest.fixture(scope="module")
def nameserver() -> Iterator[str]:
    with fault_dns() as address:
        yield address


def _probe(name: str, nameserver: str) -> smtplab.ProbeResult:
    config = smtplab.ProbeConfig(nameserver=nameserver, dns_timeout=1.5, connect_timeout=1.0,
                                 reply_timeout=1.0, ehlo_name="client.smtplab.test")
    return smtplab.probe(name, ports=["1/plain"], config=config)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("servfail.fault.test", "dns_failure"),
        ("nosuch.fault.test", "dns_nxdomain"),
        ("timeout.fault.test", "dns_timeout"),
        ("loop1.fault.test", "dns_failure"),
    ],
)
def test_dns_fault_is_classified(name: str, error: str, nameserver: str) -> None:
    started = time.monotonic()
    result = _probe(name, nameserver)
    assert time.monotonic() - started < 5.0
    row = result.endpoints.iloc[0]
    assert row["error_class"] == error
    expected = "dns.unresolved" if error in ("dns_nxdomain", "dns_no_address") else "host.dns_failed"
    assert expected in set(result.findings["code"])


def test_truncated_answer_retries_over_tcp(nameserver: str) -> None:
    result = _probe("big.fault.test", nameserver)
    row = result.endpoints.iloc[0]
    assert row["address"] == "127.0.0.1"
    assert row["error_class"] == "refused"


def test_cname_is_followed(nameserver: str) -> None:
    result = _probe("alias.fault.test", nameserver)
    assert result.endpoints.iloc[0]["address"] == "127.0.0.1"
