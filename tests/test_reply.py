"""Reply grammar and EHLO parsing, on replies captured from real servers."""

from __future__ import annotations

import pytest

from smtplab.errors import ProtocolError
from smtplab.protocol.ehlo import greeting_host, parse_ehlo
from smtplab.protocol.reply import Reply, ReplyAssembler, assemble, parse_line

# Postfix 3.7 (Debian 12) answering EHLO on its submission port before STARTTLS,
# captured from the Postfix the tests run.
POSTFIX_EHLO = [
    "250-mail.postfix.test",
    "250-PIPELINING",
    "250-SIZE 10240000",
    "250-VRFY",
    "250-ETRN",
    "250-STARTTLS",
    "250-ENHANCEDSTATUSCODES",
    "250-8BITMIME",
    "250-DSN",
    "250-SMTPUTF8",
    "250 CHUNKING",
]

# A hand-written reply shaped like Exim's, with the pre-standard "AUTH=" line that
# some servers add for old Outlook clients.
EXIM_EHLO = [
    "250-mx.exim.test Hello client.example.net [192.0.2.10]",
    "250-SIZE 52428800",
    "250-8BITMIME",
    "250-PIPELINING",
    "250-AUTH PLAIN LOGIN",
    "250-AUTH=PLAIN LOGIN",
    "250-CHUNKING",
    "250 HELP",
]


def test_parse_line_continued_and_final() -> None:
    continued = parse_line("250-PIPELINING\r\n")
    final = parse_line("250 CHUNKING")

    assert continued.code == 250
    assert continued.final is False
    assert continued.text == "PIPELINING"
    assert final.final is True
    assert final.text == "CHUNKING"


def test_parse_line_code_only() -> None:
    line = parse_line("250")
    assert line.final is True
    assert line.text == ""


@pytest.mark.parametrize("line", ["", "25", "abc hello", "650 nope", "2500 x", "250_x"])
def test_parse_line_rejects_malformed(line: str) -> None:
    with pytest.raises(ProtocolError):
        parse_line(line)


def test_assembler_returns_reply_on_last_line() -> None:
    assembler = ReplyAssembler()
    partial = [assembler.feed(line) for line in POSTFIX_EHLO[:-1]]
    reply = assembler.feed(POSTFIX_EHLO[-1])

    assert partial == [None] * (len(POSTFIX_EHLO) - 1)
    assert reply is not None
    assert reply.code == 250
    assert len(reply.lines) == len(POSTFIX_EHLO)


def test_assembler_rejects_code_change() -> None:
    assembler = ReplyAssembler()
    assembler.feed("250-first")
    with pytest.raises(ProtocolError, match="changed"):
        assembler.feed("451 second")


def test_assembler_bounds_line_count() -> None:
    assembler = ReplyAssembler(max_lines=3)
    for _ in range(3):
        assembler.feed("250-x")
    with pytest.raises(ProtocolError, match="more than 3"):
        assembler.feed("250-x")


def test_assemble_rejects_missing_last_line() -> None:
    with pytest.raises(ProtocolError, match="without a last line"):
        assemble(["250-a", "250-b"])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("454 4.7.1 <smtplab@example.net>: Relay access denied", "4.7.1"),
        ("554 5.7.1 <x@example.net>: Relay access denied", "5.7.1"),
        ("250 2.1.5 Ok", "2.1.5"),
        ("550 4.7.1 mismatched class", None),
        ("220 mail.example.com ESMTP", None),
    ],
)
def test_enhanced_status_code(line: str, expected: str | None) -> None:
    assert assemble([line]).enhanced == expected


def test_parse_ehlo_postfix() -> None:
    ehlo = parse_ehlo(assemble(POSTFIX_EHLO))

    assert ehlo.greeting == "mail.postfix.test"
    assert [name for name, _ in ehlo.keywords][:3] == ["PIPELINING", "SIZE", "VRFY"]
    assert ehlo.params("SIZE") == "10240000"
    assert ehlo.has("STARTTLS")
    assert ehlo.auth_mechanisms == ()


def test_parse_ehlo_exim_auth_forms() -> None:
    ehlo = parse_ehlo(assemble(EXIM_EHLO))

    assert ehlo.greeting == "mx.exim.test"
    assert ehlo.auth_mechanisms == ("PLAIN", "LOGIN")
    assert ehlo.has("AUTH=")


@pytest.mark.parametrize(
    ("banner", "host"),
    [
        ("220 mail.dev.test ESMTP", "mail.dev.test"),
        ("220 mx.google.com ESMTP a1si123 - gsmtp", "mx.google.com"),
        ("220 ESMTP ready", None),
        ("220 MAIL.Example.COM. ESMTP Postfix", "mail.example.com"),
    ],
)
def test_greeting_host(banner: str, host: str | None) -> None:
    assert greeting_host(assemble([banner])) == host


def test_reply_classes() -> None:
    assert Reply(250, ("ok",)).is_positive
    assert Reply(451, ("later",)).is_transient
    assert Reply(554, ("no",)).is_permanent
