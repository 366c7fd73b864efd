"""Targets, endpoints and settings given by a user."""

from __future__ import annotations

import pytest

from smtplab.config import ProbeConfig, parse_nameserver
from smtplab.targets import DEFAULT_ENDPOINTS, Endpoint, TlsMode, parse_endpoints, parse_target


def test_default_endpoints() -> None:
    assert parse_endpoints(None) == (
        Endpoint(25, TlsMode.STARTTLS),
        Endpoint(587, TlsMode.STARTTLS),
        Endpoint(465, TlsMode.TLS),
    )


def test_explicit_modes() -> None:
    endpoints = parse_endpoints("2525/starttls, 4465/tls,2526/PLAIN,465")
    assert endpoints == (
        Endpoint(2525, TlsMode.STARTTLS),
        Endpoint(4465, TlsMode.TLS),
        Endpoint(2526, TlsMode.PLAIN),
        Endpoint(465, TlsMode.TLS),
    )


@pytest.mark.parametrize("text", ["0", "70000", "abc", "25/ssl", "/tls"])
def test_invalid_endpoint(text: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        parse_endpoints([text])


def test_empty_endpoint_list() -> None:
    with pytest.raises(ValueError, match="no endpoints"):
        parse_endpoints("")


def test_idn_host_is_encoded() -> None:
    target = parse_target("mail.bücher.example")
    assert target.host == "mail.bücher.example"
    assert target.ascii_host == "mail.xn--bcher-kva.example"
    assert target.is_literal is False
    assert target.endpoints == DEFAULT_ENDPOINTS


@pytest.mark.parametrize(("text", "address"), [("192.0.2.1", "192.0.2.1"), ("[::1]", "::1"),
                                               ("2001:DB8::1", "2001:db8::1")])
def test_ip_literal(text: str, address: str) -> None:
    target = parse_target(text)
    assert target.is_literal is True
    assert target.host == address


@pytest.mark.parametrize("text", ["", "  ", "bad..name", "-x-.example"])
def test_invalid_host(text: str) -> None:
    with pytest.raises(ValueError):
        parse_target(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
     ("[::1]:5300", ("::1", 5300)), ("::1", ("::1", 53))],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:x", "::1:5353"])
def test_invalid_nameserver(text: str) -> None:
    with pytest.raises(ValueError, match="nameserver"):
        ProbeConfig(nameserver=text)


@pytest.mark.parametrize(("field", "value"), [("ehlo_name", "a b"), ("mail_from", "x>\r\n"),
                                              ("reply_timeout", 0), ("concurrency", 0)])
def test_invalid_config(field: str, value: object) -> None:
    with pytest.raises(ValueError, match="invalid"):
        ProbeConfig(**{field: value})  # type: ignore[arg-type]
