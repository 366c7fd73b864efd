"""Server software fingerprinting: real captures, documented sessions, live servers, expectations.

The files in tests/data/fingerprints/ each name their product in a ``# product:``
line and state where the session came from: captured here from the real software, or
written from the product's source code or documentation.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

import smtplab
from smtplab.analysis.interpret import EndpointView
from smtplab.fingerprint import (
    CONFIDENT,
    PRODUCTS,
    SIGNATURES,
    Clue,
    Guess,
    check_expectation,
    fingerprint,
    identify,
    parse_session,
)
from smtplab.fingerprint.model import banner
from smtplab.lab import Lab
from smtplab.protocol.ehlo import parse_ehlo
from smtplab.protocol.reply import Reply

from postfix_server import PostfixServer

DATA = Path(__file__).parent / "data" / "fingerprints"
SESSIONS = sorted(DATA.glob("*.txt"))
PROBE_RECORDS = sorted(DATA.glob("*-probe.jsonl"))
BASES = {signature.id: signature.based_on for signature in SIGNATURES}


def product_of(path: Path) -> str:
    """Return the product id from the file's ``# product:`` line."""
    for line in path.read_text().splitlines():
        if line.startswith("# product:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path.name} has no '# product:' line")


def ehlo_reply(*lines: str) -> Reply:
    return Reply(250, lines)


# Captured and documented sessions


@pytest.mark.parametrize("path", SESSIONS, ids=lambda path: path.stem)
def test_session_top_guess(path: Path) -> None:
    session = parse_session(path.read_text())
    guesses = identify(session.banner, session.ehlo, session.replies)

    assert guesses, f"nothing identified in {path.name}"
    assert guesses[0].software == product_of(path)
    assert guesses[0].confidence >= CONFIDENT
    assert guesses[0].evidence


@pytest.mark.parametrize("path", SESSIONS, ids=lambda path: path.stem)
def test_session_no_rival_confident(path: Path) -> None:
    session = parse_session(path.read_text())
    guesses = identify(session.banner, session.ehlo, session.replies)
    expected = product_of(path)

    rivals = [
        guess.software for guess in guesses[1:]
        if guess.confidence >= CONFIDENT and guess.software != BASES.get(expected)
    ]
    assert rivals == []


@pytest.mark.parametrize("path", PROBE_RECORDS, ids=lambda path: path.stem)
def test_saved_probe_identified(path: Path) -> None:
    view = smtplab.load(path).views[0]
    guesses = fingerprint(view)

    assert guesses[0].software == product_of(path.with_name(path.name.replace("-probe.jsonl", ".txt")))
    assert guesses[0].confidence >= CONFIDENT


def test_every_product_has_session() -> None:
    covered = {product_of(path) for path in SESSIONS}

    assert covered == set(PRODUCTS)


def test_products_listed() -> None:
    assert list(PRODUCTS) == [
        "postfix", "zimbra", "exim", "sendmail", "opensmtpd", "exchange", "gmail",
        "haraka", "hmailserver", "stalwart", "maddy", "james", "aiosmtpd",
    ]


def test_product_ids_unique() -> None:
    ids = [signature.id for signature in SIGNATURES]

    assert len(ids) == len(set(ids))


def test_clue_weight_out_of_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Clue(banner("x"), 1.5, "invalid")


# Live servers on loopback


@pytest.mark.postfix
def test_live_postfix_identified(postfix: PostfixServer) -> None:
    port = postfix.ports["submission"]
    config = smtplab.ProbeConfig(resolve=False, cafile=str(postfix.cafile), ehlo_name="client.smtplab.test")
    result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=config)
    guesses = fingerprint(result.views[0])

    assert guesses[0].software == "postfix"
    assert guesses[0].confidence >= 0.9
    assert any("Relay access denied" in line for line in guesses[0].evidence)
    assert [guess.software for guess in guesses] == ["postfix"]


@pytest.fixture(scope="module")
def aiosmtpd_port() -> Iterator[int]:
    """A default aiosmtpd Controller (Sink handler) on a free loopback port."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, server_hostname="mail.example.com")
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_live_aiosmtpd_identified(aiosmtpd_port: int) -> None:
    config = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test")
    result = smtplab.probe("127.0.0.1", ports=[f"{aiosmtpd_port}/plain"], config=config)
    guesses = fingerprint(result.views[0])

    assert guesses[0].software == "aiosmtpd"
    assert guesses[0].confidence >= 0.9


@pytest.fixture(scope="module")
def lab_views(lab: Lab, lab_config: smtplab.ProbeConfig) -> dict[str, EndpointView]:
    """The first endpoint (the role of port 25) of each lab server."""
    views = {}
    for name in ("broken", "healthy"):
        server = lab.servers[name]
        result = smtplab.probe(server.host, ports=server.endpoints[:1], config=lab_config)
        views[name] = result.views[0]
    return views


def test_lab_imitation_not_confident_postfix(lab_views: dict[str, EndpointView]) -> None:
    # The broken lab server is aiosmtpd sending Postfix's EHLO keywords and relay text.
    guesses = fingerprint(lab_views["broken"])
    postfix = next((guess for guess in guesses if guess.software == "postfix"), None)

    assert postfix is not None
    assert postfix.confidence < CONFIDENT
    assert any(line.startswith("against:") for line in postfix.evidence)


def test_lab_imitation_top_is_aiosmtpd(lab_views: dict[str, EndpointView]) -> None:
    guesses = fingerprint(lab_views["broken"])

    assert guesses[0].software == "aiosmtpd"


def test_lab_healthy_top_is_aiosmtpd(lab_views: dict[str, EndpointView]) -> None:
    guesses = fingerprint(lab_views["healthy"])

    assert guesses[0].software == "aiosmtpd"


# Unknown servers


@pytest.mark.parametrize(
    "greeting",
    [
        "mail.example.com ESMTP",
        "mail.example.com ESMTP ready",
        "postfix.example.com ESMTP",
        "exim.mail.example.com ESMTP Service ready",
        "sendmail.example.com",
        "smtp.example.net Welcome",
    ],
)
def test_generic_greeting_no_guess(greeting: str) -> None:
    assert identify(Reply(220, (greeting,)), None, []) == []


def test_generic_ehlo_no_guess() -> None:
    generic = ehlo_reply("mail.example.com", "PIPELINING", "SIZE 20000000", "8BITMIME", "STARTTLS")

    assert identify(Reply(220, ("mail.example.com ESMTP",)), generic, []) == []


def test_nothing_observed_no_guess() -> None:
    assert identify(None, None, []) == []


def test_host_named_like_product_ignored() -> None:
    # A host name containing product names; the greeting text and EHLO line say nothing.
    greeting = Reply(220, ("exim.postfix.sendmail.example.com ESMTP",))
    ehlo = ehlo_reply("exim.postfix.sendmail.example.com", "SIZE 1000000")

    assert identify(greeting, ehlo, []) == []


# Evidence details


def test_parsed_ehlo_accepted() -> None:
    session = parse_session((DATA / "exim-4.96.txt").read_text())
    assert session.ehlo is not None
    guesses = identify(None, parse_ehlo(session.ehlo), [])

    assert guesses[0].software == "exim"


def test_evidence_quotes_matched_text() -> None:
    guesses = identify(Reply(220, ("mail.example.com ESMTP Postfix (Debian/GNU)",)), None, [])

    assert guesses[0].software == "postfix"
    assert "ESMTP Postfix (Debian/GNU)" in guesses[0].evidence[0]


def test_other_product_named_counts_against() -> None:
    # Postfix's own EHLO reply behind a greeting that names Exim, as from a relay.
    session = parse_session((DATA / "postfix-3.7.txt").read_text())
    greeting = Reply(220, ("mail.example.com ESMTP Exim 4.96",))
    guesses = identify(greeting, session.ehlo, session.replies)
    confident = [guess.software for guess in guesses if guess.confidence >= CONFIDENT]

    assert guesses[0].software == "exim"
    assert "postfix" not in confident


def test_maddy_capped_below_certainty() -> None:
    session = parse_session((DATA / "maddy.txt").read_text())
    guesses = identify(session.banner, session.ehlo, session.replies)

    assert guesses[0].software == "maddy"
    assert guesses[0].confidence <= 0.8


def test_postfix_help_reply_both_codes() -> None:
    for code in (500, 502):
        found = identify(None, None, [Reply(code, ("5.5.2 Error: command not recognized",))])
        assert [guess.software for guess in found] == ["postfix"], code


# Captured-session parser


def test_parse_session_parts() -> None:
    session = parse_session((DATA / "postfix-3.7.txt").read_text())

    assert session.banner == Reply(220, ("mail.postfix.test ESMTP Postfix",))
    assert session.ehlo is not None
    assert session.ehlo.lines[-1] == "CHUNKING"
    assert Reply(221, ("2.0.0 Bye",)) in session.replies


def test_parse_session_invalid_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_session("S: 220 mail.example.com ESMTP\nhello\n")


def test_parse_session_malformed_reply() -> None:
    with pytest.raises(ValueError, match="line 1"):
        parse_session("S: 2x0 broken\n")


# Expectations


def guess(software: str, confidence: float) -> Guess:
    return Guess(software, confidence, ("test",))


def test_expectation_met() -> None:
    assert check_expectation([guess("postfix", 0.9)], software="postfix") == []


def test_expectation_display_name() -> None:
    assert check_expectation([guess("exim", 0.9)], software="Exim") == []


def test_expectation_other_product() -> None:
    violations = check_expectation([guess("exim", 0.8), guess("postfix", 0.3)], software="postfix")

    assert violations == ["expected Postfix, looks like Exim (0.80); Postfix scored 0.30"]


def test_expectation_weak_other_product() -> None:
    violations = check_expectation([guess("haraka", 0.3)], software="postfix")

    assert violations == ["expected Postfix, weak evidence points to Haraka (0.30)"]


def test_expectation_unidentified() -> None:
    violations = check_expectation([], software="exchange")

    expected = "expected Microsoft Exchange / Office 365, but the software could not be identified"
    assert violations == [expected]


def test_expectation_built_on_expected() -> None:
    assert check_expectation([guess("zimbra", 0.95), guess("postfix", 0.9)], software="postfix") == []


def test_expectation_unknown_product() -> None:
    with pytest.raises(ValueError, match="unknown software 'qmail'"):
        check_expectation([], software="qmail")


def test_expectation_banner_host_needs_view() -> None:
    with pytest.raises(ValueError, match="view="):
        check_expectation([], banner_host="mx.shop.test")


def test_expectation_banner_host_mismatch(lab_views: dict[str, EndpointView]) -> None:
    view = lab_views["broken"]
    violations = check_expectation(fingerprint(view), banner_host="mx.shop.test", view=view)

    assert "banner names mail.dev.test, expected mx.shop.test" in violations
    assert "EHLO reply (plain) names mail.dev.test, expected mx.shop.test" in violations


def test_expectation_banner_host_met(lab_views: dict[str, EndpointView]) -> None:
    view = lab_views["healthy"]

    assert check_expectation(fingerprint(view), banner_host="SMTP.healthy.test.", view=view) == []


def test_expectation_software_and_host(lab_views: dict[str, EndpointView]) -> None:
    view = lab_views["broken"]
    violations = check_expectation(
        fingerprint(view), software="postfix", banner_host="mx.shop.test", view=view
    )

    assert violations[0].startswith("expected Postfix, ")
    assert len(violations) == 4
