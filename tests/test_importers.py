"""Transcript import: captured swaks, openssl and dialogue sessions against live probes."""

from __future__ import annotations

import base64
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import smtplab
from smtplab.credentials import MASK
from smtplab.importers import TranscriptError, detect_format, from_transcript
from smtplab.lab import Lab, LabServer
from smtplab.result import ProbeResult

from postfix_server import PostfixServer

DATA = Path(__file__).parent / "data" / "transcripts"
FAKE_PASSWORD = "fake-Passw0rd-4-tests"
EHLO_NAME = "client.smtplab.test"
EVENT_KINDS = {"connect", "connected", "send", "recv", "tls", "error", "end", "note", "auth_skipped"}
PROTOCOL_STEPS = {"banner", "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "rset", "quit", "data"}


def read(name: str) -> str:
    return (DATA / name).read_text()


@dataclass(frozen=True)
class Sample:
    """A captured file, how to import it, and the live probe it is compared with.

    ``server`` is a lab scenario or ``postfix``; ``listener`` is the index in the lab
    server's endpoints or a Postfix listener name. ``same`` lists endpoint columns that
    must equal the live probe's, ``unknown`` columns that the transcript cannot show
    (so they must be NA). ``not_shown`` lists the live findings that need what the
    transcript lacks, and ``extra`` the findings only the import may make.
    """

    name: str
    server: str
    listener: int | str
    same: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    not_shown: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()
    import_args: dict[str, Any] = field(default_factory=dict)
    live_by_name: bool = False
    login: bool = False
    trust_ca: bool = True


STARTTLS_FACTS = ("banner", "starttls", "tls_ok", "tls_version", "auth_plain", "auth_tls")
# swaks does not verify the certificate unless asked, so cert_verified stays unknown.
# The PTR check needs the DNS answers of a live probe, which a transcript does not hold.
NO_DNS = frozenset({"name.ptr_banner_mismatch"})
# swaks prints the certificate only with --tls-get-peer-cert.
NO_CERT = frozenset({"cert.name_mismatch"})

SAMPLES = (
    Sample("swaks-healthy-starttls.txt", "healthy", 1, STARTTLS_FACTS,
           unknown=("cert_verified", "relay_unauth"),
           # swaks quit after AUTH, before any relay test.
           not_shown=frozenset({"relay.denied"})),
    Sample("swaks-broken-starttls.txt", "broken", 1, (*STARTTLS_FACTS, "relay_unauth"),
           unknown=("cert_verified",), not_shown=NO_CERT | NO_DNS),
    Sample("swaks-healthy-relay-denied.txt", "healthy", 0, (*STARTTLS_FACTS, "relay_unauth"),
           unknown=("cert_verified",), not_shown=NO_CERT),
    Sample("swaks-healthy-auth-rejected.txt", "healthy", 1, (*STARTTLS_FACTS, "auth_result"),
           unknown=("cert_verified", "relay_unauth"), not_shown=NO_CERT | {"relay.denied"},
           login=True),
    # swaks logged in before MAIL FROM, so only the authenticated relay test was made.
    Sample("swaks-postfix-auth-plain.txt", "postfix", "submission",
           (*STARTTLS_FACTS, "auth_result", "relay_auth"), unknown=("cert_verified", "relay_unauth"),
           not_shown=NO_CERT | {"relay.denied"}, login=True),
    Sample("swaks-postfix-auth-login.txt", "postfix", "submission",
           (*STARTTLS_FACTS, "auth_result", "relay_auth"), unknown=("cert_verified", "relay_unauth"),
           not_shown=NO_CERT | {"relay.denied"}, login=True),
    Sample("swaks-postfix-smtps.txt", "postfix", "smtps",
           ("banner", "tls_ok", "tls_version", "auth_tls", "relay_unauth"),
           unknown=("cert_verified",), not_shown=NO_CERT),
    # s_client -starttls hides the greeting and the plaintext EHLO.
    Sample("openssl-healthy-starttls-typed.txt", "healthy", 1,
           ("tls_ok", "tls_version", "cert_verified", "auth_tls", "auth_result", "relay_auth"),
           unknown=("banner", "starttls", "auth_plain", "relay_unauth"),
           not_shown=frozenset({"relay.denied"}),
           import_args={"host": "smtp.healthy.test", "port": 39997}, live_by_name=True, login=True),
    Sample("openssl-broken-starttls-piped.txt", "broken", 1,
           ("tls_ok", "tls_version", "cert_verified", "auth_tls", "relay_unauth"),
           unknown=("banner", "starttls", "auth_plain"),
           not_shown=NO_DNS | {"name.banner_mismatch"},
           import_args={"host": "mx.shop.test", "port": 35569}, live_by_name=True),
    Sample("openssl-postfix-smtps-typed.txt", "postfix", "smtps",
           ("banner", "tls_ok", "tls_version", "cert_verified", "auth_tls", "relay_unauth"),
           import_args={"host": "127.0.0.1", "port": 44687}, trust_ca=False),
    Sample("dialogue-broken-starttls.txt", "broken", 1,
           ("banner", "starttls", "tls_ok", "auth_plain", "auth_tls", "relay_unauth"),
           unknown=("tls_version", "cert_verified"), not_shown=NO_CERT | NO_DNS,
           import_args={"host": "127.0.0.2", "port": 35569}),
)


@pytest.fixture(scope="module")
def live_results(
    lab: Lab, lab_config: smtplab.ProbeConfig, postfix: PostfixServer
) -> dict[str, smtplab.ProbeResult]:
    """One live probe per sample, of the same server and listener role it was captured from."""
    return {sample.name: _probe_live(sample, lab, lab_config, postfix) for sample in SAMPLES}


def _probe_live(
    sample: Sample, lab: Lab, lab_config: smtplab.ProbeConfig, postfix: PostfixServer
) -> smtplab.ProbeResult:
    if sample.server == "postfix":
        assert isinstance(sample.listener, str)
        mode = "tls" if sample.listener == "smtps" else "starttls"
        config = smtplab.ProbeConfig(
            resolve=False, cafile=str(postfix.cafile) if sample.trust_ca else None, ehlo_name=EHLO_NAME
        )
        credentials = smtplab.Credentials(postfix.username, smtplab.Secret(postfix.password))
        return smtplab.probe(
            postfix.host, ports=[f"{postfix.ports[sample.listener]}/{mode}"], config=config,
            credentials=credentials if sample.login else None,
        )
    server = lab.servers[sample.server]
    assert isinstance(sample.listener, int)
    password = server.password
    if sample.name == "swaks-healthy-auth-rejected.txt":
        password = FAKE_PASSWORD
    credentials = None
    if sample.login:
        assert server.username and password
        credentials = smtplab.Credentials(server.username, smtplab.Secret(password))
    return smtplab.probe(
        server.host if sample.live_by_name else server.address,
        ports=[server.endpoints[sample.listener]], config=lab_config, credentials=credentials,
    )


def imported(sample: Sample) -> smtplab.ProbeResult:
    return from_transcript(read(sample.name), **sample.import_args)


def codes(result: smtplab.ProbeResult) -> set[str]:
    return set(result.findings["code"])


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_import_matches_live_facts(sample: Sample, live_results: dict[str, smtplab.ProbeResult]) -> None:
    live = live_results[sample.name].endpoints.iloc[0]
    row = imported(sample).endpoints.iloc[0]
    for column in sample.same:
        assert str(row[column]) == str(live[column]), column
    for column in sample.unknown:
        assert pd.isna(row[column]), column


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_import_matches_live_findings(sample: Sample, live_results: dict[str, smtplab.ProbeResult]) -> None:
    live = codes(live_results[sample.name])
    found = codes(imported(sample))
    assert live - found == sample.not_shown
    assert found - live <= sample.extra


def test_swaks_auth_after_starttls() -> None:
    result = from_transcript(read("swaks-healthy-starttls.txt"))
    found = codes(result)
    assert "auth.after_starttls" in found
    assert "auth.none" not in found
    assert "auth.submission_missing" not in found
    text = " ".join(result.findings["title"].tolist() + result.findings["detail"].tolist())
    assert "AUTH disabled" not in text
    assert "No port offers AUTH" not in text


def test_swaks_broken_auth_none() -> None:
    result = from_transcript(read("swaks-broken-starttls.txt"))
    found = codes(result)
    assert "auth.none" in found
    assert "auth.after_starttls" not in found
    row = result.endpoints.iloc[0]
    assert row["auth_plain"] == ""
    assert row["auth_tls"] == ""


def test_swaks_endpoint_from_trying_line() -> None:
    result = from_transcript(read("swaks-healthy-starttls.txt"))
    record = result.run.endpoints[0]
    assert record.host == "127.0.0.3"
    assert record.address == "127.0.0.3"
    assert record.port == 39997
    assert record.mode == "starttls"
    assert result.run.hosts[0].is_literal is True


def test_swaks_certificate_reaches_tls_frame() -> None:
    tls = from_transcript(read("swaks-healthy-starttls.txt")).tls
    assert len(tls) == 1
    assert tls["sans"].iloc[0] == "smtp.healthy.test"
    assert tls["cipher"].iloc[0] == "TLS_AES_256_GCM_SHA384"
    assert tls["bits"].iloc[0] == 256
    assert tls["not_after"].iloc[0].year == 3000


def test_swaks_implicit_tls_mode() -> None:
    result = from_transcript(read("swaks-postfix-smtps.txt"))
    assert result.run.endpoints[0].mode == "tls"
    assert result.endpoints["banner"].iloc[0] == "mail.postfix.test ESMTP Postfix"


def test_openssl_certificate_and_protocol() -> None:
    result = from_transcript(read("openssl-broken-starttls-piped.txt"), host="mx.shop.test", port=35569)
    tls = result.tls
    assert tls["version"].iloc[0] == "TLSv1.3"
    assert tls["cipher"].iloc[0] == "TLS_AES_256_GCM_SHA384"
    assert tls["bits"].iloc[0] == 256
    assert tls["sans"].iloc[0] == "mail.dev.test"
    assert tls["verified"].iloc[0] == True  # noqa: E712
    assert tls["name_matches"].iloc[0] == False  # noqa: E712


def test_openssl_verify_error_kept() -> None:
    result = from_transcript(read("openssl-postfix-smtps-typed.txt"), host="127.0.0.1", port=44687)
    tls = result.tls
    assert tls["verified"].iloc[0] == False  # noqa: E712
    assert tls["verify_error"].iloc[0] == "unable to verify the first certificate"
    assert result.run.endpoints[0].mode == "tls"


def test_openssl_piped_steps_inferred() -> None:
    result = from_transcript(read("openssl-broken-starttls-piped.txt"), host="mx.shop.test", port=35569)
    received = result.transcript[result.transcript["direction"] == "S"]
    assert received["step"].tolist() == ["ehlo"] * 10 + ["mail", "rcpt", "quit"]
    assert result.endpoints["relay_unauth"].iloc[0] == "denied"
    notes = result.transcript[result.transcript["direction"] == "*"]["text"].tolist()
    assert any("250 CHUNKING" in note for note in notes)


def test_openssl_typed_steps_from_echo() -> None:
    result = from_transcript(read("openssl-healthy-starttls-typed.txt"), host="smtp.healthy.test", port=39997)
    sent = result.transcript[result.transcript["direction"] == "C"]
    assert sent["step"].tolist() == ["ehlo", "auth", "auth", "auth", "mail", "rcpt", "quit"]
    assert (result.transcript["phase"][result.transcript["direction"] != "*"] == "tls").all()
    assert result.run.username == "alice@healthy.test"


def test_openssl_command_line_names_endpoint() -> None:
    text = (
        "$ openssl s_client -starttls smtp -connect 192.0.2.25:587 -servername mx.example.com -crlf\n"
        + read("openssl-broken-starttls-piped.txt")
    )
    result = from_transcript(text)
    record = result.run.endpoints[0]
    assert record.host == "mx.example.com"
    assert record.address == "192.0.2.25"
    assert record.port == 587
    assert record.mode == "starttls"


def test_openssl_connect_refused() -> None:
    # Output of "openssl s_client -starttls smtp -connect 127.0.0.1:9 -crlf" (OpenSSL 3.0.19).
    text = (
        "40978410097F0000:error:8000006F:system library:BIO_connect:Connection refused:"
        "../crypto/bio/bio_sock2.c:117:calling connect()\n"
        "40978410097F0000:error:10000067:BIO routines:BIO_connect:connect error:"
        "../crypto/bio/bio_sock2.c:119:\n"
        "connect:errno=111\n"
    )
    row = from_transcript(text, host="127.0.0.1", port=9).endpoints.iloc[0]
    assert row["reachable"] == False  # noqa: E712
    assert row["error_class"] == "refused"
    assert row["error_step"] == "connect"


def test_swaks_connect_refused() -> None:
    # Output of "swaks --server 127.0.0.1 --port 9 ..." (swaks 20201014.0).
    text = (
        "=== Trying 127.0.0.1:9...\n"
        "*** Error connecting to 127.0.0.1:9:\n"
        "*** \tIO::Socket::INET6: connect: Connection refused\n"
    )
    result = from_transcript(text)
    row = result.endpoints.iloc[0]
    assert row["reachable"] == False  # noqa: E712
    assert row["error_class"] == "refused"
    assert "port.refused" in codes(result)


def test_swaks_unexpected_close() -> None:
    text = (
        "=== Trying 127.0.0.1:25...\n=== Connected to 127.0.0.1.\n<-  220 mx.example.com ESMTP\n"
        " -> EHLO client.example.com\n*** Remote host closed connection unexpectedly.\n"
    )
    row = from_transcript(text).endpoints.iloc[0]
    assert row["error_class"] == "closed"
    assert row["error_step"] == "ehlo"


@pytest.mark.parametrize(
    ("name", "username"),
    [
        ("swaks-postfix-auth-plain.txt", "tester@postfix.test"),
        ("swaks-postfix-auth-login.txt", "tester@postfix.test"),
        ("openssl-healthy-starttls-typed.txt", "alice@healthy.test"),
    ],
)
def test_password_masked_everywhere(name: str, username: str, tmp_path: Path) -> None:
    raw = read(name)
    forms = [
        FAKE_PASSWORD,
        base64.b64encode(FAKE_PASSWORD.encode()).decode(),
        base64.b64encode(f"\0{username}\0{FAKE_PASSWORD}".encode()).decode(),
    ]
    assert any(form in raw for form in forms[1:])  # the capture does contain the payload
    result = from_transcript(raw, host="127.0.0.1", port=587)
    frames = "\n".join(frame.to_csv() for frame in result.frames().values())
    saved = result.save(tmp_path / "run.jsonl").read_text()
    for form in forms:
        assert form not in frames
        assert form not in saved
    transcript = result.transcript
    auth_sent = transcript[(transcript["step"] == "auth") & (transcript["direction"] == "C")]
    assert MASK in " ".join(auth_sent["text"])
    assert result.run.username == username


def test_login_username_kept() -> None:
    result = from_transcript(read("swaks-postfix-auth-login.txt"))
    sent = result.transcript[result.transcript["direction"] == "C"]["text"].tolist()
    assert base64.b64encode(b"tester@postfix.test").decode() in sent
    assert sent.count(MASK) == 1


def test_plain_password_masked_in_message() -> None:
    payload = base64.b64encode(b"\0me@example.com\0hunter2-secret").decode()
    text = (
        "S: 220 mx.example.com ESMTP\nC: EHLO client.example.com\nS: 250-mx.example.com\n"
        "S: 250 AUTH PLAIN\n"
        f"C: AUTH PLAIN {payload}\nS: 235 2.7.0 ok\nC: DATA\nS: 354 go\n"
        "C: my password is hunter2-secret\nC: .\nS: 250 queued\nC: QUIT\nS: 221 bye\n"
    )
    transcript = from_transcript(text, host="mx.example.com", port=587).transcript
    joined = "\n".join(transcript["text"])
    assert "hunter2-secret" not in joined
    assert payload not in joined
    assert "AUTH PLAIN ********" in joined


def test_record_settings() -> None:
    result = from_transcript(read("swaks-broken-starttls.txt"))
    run = result.run
    assert run.vantage == "imported:swaks"
    defaults = smtplab.ProbeConfig(resolve=False).to_dict()
    shown = {"ehlo_name", "mail_from", "rcpt_to"}
    assert {name: value for name, value in run.config.items() if name not in shown} == {
        name: value for name, value in defaults.items() if name not in shown
    }
    assert run.config["ehlo_name"] == EHLO_NAME
    assert len(run.hosts) == 1
    assert len(run.endpoints) == 1


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_events_follow_schema(sample: Sample) -> None:
    events = imported(sample).run.endpoints[0].events
    for event in events:
        assert {"t", "kind", "step", "phase", "attempt"} <= set(event)
        assert event["kind"] in EVENT_KINDS
        assert event["phase"] in ("plain", "tls")
        assert event["attempt"] == 1
        assert event["t"] == 0.0
        if event["kind"] in ("send", "recv"):
            assert event["step"] in PROTOCOL_STEPS
    assert events[0]["kind"] == "connect"
    assert events[-1]["kind"] == "end"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_format_detected(sample: Sample) -> None:
    assert detect_format(read(sample.name)) == sample.name.split("-")[0]


def test_saved_import_loads_identically(tmp_path: Path) -> None:
    result = from_transcript(read("swaks-postfix-auth-login.txt"))
    loaded = smtplab.load(result.save(tmp_path / "run.jsonl"))
    for name, frame in result.frames().items():
        pd.testing.assert_frame_equal(frame, loaded.frames()[name], obj=name)


def test_dialogue_angle_brackets_and_marker() -> None:
    text = (
        "< 220 mx.example.com ESMTP\n> EHLO client.example.com\n< 250-mx.example.com\n"
        "< 250 STARTTLS\n> STARTTLS\n< 220 go ahead\n"
        "--- TLS TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 ---\n"
        "> EHLO client.example.com\n< 250-mx.example.com\n< 250 AUTH LOGIN\n> QUIT\n< 221 bye\n"
    )
    result = from_transcript(text, host="mx.example.com", port=587)
    row = result.endpoints.iloc[0]
    assert row["tls_version"] == "TLSv1.2"
    assert row["auth_plain"] == ""
    assert row["auth_tls"] == "LOGIN"
    tls_event = next(e for e in result.run.endpoints[0].events if e["kind"] == "tls")
    assert tls_event["cipher"] == "ECDHE-RSA-AES256-GCM-SHA384"
    assert tls_event["bits"] == 256


def test_dialogue_marker_before_greeting() -> None:
    text = "TLS\nS: 220 mx.example.com ESMTP\nC: EHLO a.example\nS: 250 mx.example.com\n"
    result = from_transcript(text, host="mx.example.com", port=465)
    assert result.run.endpoints[0].mode == "tls"
    assert result.endpoints["tls_ok"].iloc[0] == True  # noqa: E712


def test_dialogue_pipelined_replies_in_order() -> None:
    text = (
        "S: 220 mx.example.com ESMTP\nC: EHLO a.example\nS: 250-mx.example.com\nS: 250 PIPELINING\n"
        "C: MAIL FROM:<a@example.com>\nC: RCPT TO:<b@example.net>\nC: RSET\n"
        "S: 250 2.1.0 ok\nS: 554 5.7.1 relay denied\nS: 250 2.0.0 ok\n"
    )
    result = from_transcript(text, host="mx.example.com", port=25)
    received = result.transcript[result.transcript["direction"] == "S"]["step"].tolist()
    assert received[-3:] == ["mail", "rcpt", "rset"]
    assert result.endpoints["relay_unauth"].iloc[0] == "denied"


def test_dialogue_rejected_starttls_error() -> None:
    text = (
        "S: 220 mx.example.com ESMTP\nC: EHLO a.example\nS: 250-mx.example.com\nS: 250 STARTTLS\n"
        "C: STARTTLS\nS: 454 4.7.0 TLS not available\nC: QUIT\nS: 221 bye\n"
    )
    result = from_transcript(text, host="mx.example.com", port=587)
    row = result.endpoints.iloc[0]
    assert row["error_class"] == "starttls_rejected"
    assert any(code.startswith("tls.starttls_") for code in codes(result))


def test_format_override_rejects_mismatch() -> None:
    with pytest.raises(TranscriptError) as error:
        from_transcript(read("dialogue-broken-starttls.txt"), format="swaks", host="a.example", port=25)
    assert error.value.line == 1


# Output of "openssl s_client -quiet -connect 127.0.0.1:PORT 2>&1" (OpenSSL 3.0) against an
# implicit-TLS test server with a certificate from an untrusted test CA.
QUIET_IMPLICIT = """Can't use SSL_get_servername
depth=0 O = trustme v1.2.1, OU = Testing cert #fZlLb4GTRjDrb-vC
verify error:num=20:unable to get local issuer certificate
verify return:1
depth=0 O = trustme v1.2.1, OU = Testing cert #fZlLb4GTRjDrb-vC
verify error:num=21:unable to verify the first certificate
verify return:1
depth=0 O = trustme v1.2.1, OU = Testing cert #fZlLb4GTRjDrb-vC
verify return:1
220 hostile.test ESMTP
250-hostile.test
250-PIPELINING
250 8BITMIME
221 2.0.0 Bye
"""


def test_openssl_quiet_implicit_tls() -> None:
    assert detect_format(QUIET_IMPLICIT) == "openssl"
    result = from_transcript(QUIET_IMPLICIT, host="mx.example.com", port=465)
    row = result.endpoints.iloc[0]
    assert row["mode"] == "tls"
    assert row["banner"] == "hostile.test ESMTP"
    assert row["tls_ok"]
    assert pd.isna(row["tls_version"])
    assert not row["cert_verified"]
    assert "PIPELINING" in set(result.capabilities["keyword"])
    assert "dns.unresolved" not in codes(result)


def test_openssl_quiet_stdout_only() -> None:
    smtp_lines = QUIET_IMPLICIT[QUIET_IMPLICIT.index("220 "):]
    result = from_transcript(smtp_lines, format="openssl", host="mx.example.com", port=465)
    row = result.endpoints.iloc[0]
    assert row["mode"] == "tls"
    assert row["banner"] == "hostile.test ESMTP"
    assert pd.isna(row["cert_verified"])


def test_openssl_quiet_starttls() -> None:
    # "openssl s_client -quiet -starttls smtp" repeats the last plaintext EHLO line first.
    text = "250 STARTTLS\n250-hostile.test\n250-PIPELINING\n250 8BITMIME\n221 2.0.0 Bye\n"
    result = from_transcript(text, format="openssl", host="mx.example.com", port=587)
    row = result.endpoints.iloc[0]
    assert row["mode"] == "starttls"
    assert row["tls_ok"]
    assert "PIPELINING" in set(result.capabilities["keyword"])


@pytest.mark.parametrize("text", [
    "no smtp here\n",
    "Can't use SSL_get_servername\ndepth=0 O = test\nverify return:1\n",
])
def test_openssl_without_smtp_lines(text: str) -> None:
    with pytest.raises(TranscriptError, match="no SMTP lines found"):
        from_transcript(text, format="openssl", host="mx.example.com", port=465)


MALFORMED = [
    ("", None, "empty"),
    ("hello world\n", None, "unknown transcript format"),
    ("S: 220 a.example ESMTP\nC: EHLO b\nS: 250-a.example\nS: 251 oops\n", 4, "reply code changed"),
    ("S: 220 a.example ESMTP\nC: EHLO b\nS: 250-a.example\n", 3, "no last line"),
    ("S: 220 a.example ESMTP\nC: EHLO b\nS: 250-a.example\nC: QUIT\n", 4, "inside the reply"),
    ("S: 220 a.example ESMTP\nS: 2x0 what\n", 2, "invalid reply line"),
    ("S: 220 a.example ESMTP\nC: 12345\n", 2, "not an SMTP command"),
    ("S: 220 a.example ESMTP\nnonsense here\n", 2, "not a dialogue line"),
    ("=== Trying 127.0.0.1:25...\n<-  220 a.example\nrandom text\n", 3, "no swaks prefix"),
    ("S: 220 a.example\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 2,
     "invalid certificate"),
    ("S: 220 a.example\n-----BEGIN CERTIFICATE-----\nAAAA\n", 2, "no END CERTIFICATE"),
]


@pytest.mark.parametrize(("text", "line", "words"), MALFORMED)
def test_malformed_input_names_line(text: str, line: int | None, words: str) -> None:
    with pytest.raises(ValueError, match=words) as error:
        from_transcript(text, host="a.example", port=25)
    if line is not None:
        assert isinstance(error.value, TranscriptError)
        assert error.value.line == line
        assert str(error.value).startswith(f"line {line}: ")


def test_error_message_masks_auth_payload() -> None:
    text = "S: 220 a.example\nS: 250-a.example\nC: AUTH PLAIN AHVzZXIAc2VjcmV0LXBhc3N3b3Jk\n"
    with pytest.raises(TranscriptError) as error:
        from_transcript(text, host="a.example", port=25)
    assert "AHVzZXIAc2VjcmV0LXBhc3N3b3Jk" not in str(error.value)
    assert "********" in str(error.value)


def test_missing_port_asks_for_it() -> None:
    with pytest.raises(ValueError, match="port=") as error:
        from_transcript(read("dialogue-broken-starttls.txt"), host="a.example")
    assert not isinstance(error.value, TranscriptError)


def test_missing_host_asks_for_it() -> None:
    with pytest.raises(ValueError, match="host="):
        from_transcript(read("dialogue-broken-starttls.txt"), port=25)


def test_invalid_mode_rejected() -> None:
    with pytest.raises(ValueError, match="invalid mode"):
        from_transcript(read("swaks-broken-starttls.txt"), mode="ssl")


def test_unknown_format_name_rejected() -> None:
    with pytest.raises(ValueError, match="unknown transcript format"):
        from_transcript(read("swaks-broken-starttls.txt"), format="pcap")


def _mutations(text: str, rng: random.Random) -> list[str]:
    lines = text.split("\n")
    found = []
    for _ in range(20):
        copy = list(lines)
        index = rng.randrange(len(copy))
        choice = rng.randrange(5)
        if choice == 0:
            del copy[index]
        elif choice == 1:
            copy.insert(index, copy[rng.randrange(len(copy))])
        elif choice == 2:
            other = rng.randrange(len(copy))
            copy[index], copy[other] = copy[other], copy[index]
        elif choice == 3:
            copy = copy[:index]
        else:
            line = copy[index]
            position = rng.randrange(len(line) + 1)
            copy[index] = line[:position] + rng.choice("-: 5\t<>~*=x") + line[position:]
        found.append("\n".join(copy))
    return found


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.name)
def test_mutated_input_only_value_errors(sample: Sample) -> None:
    rng = random.Random(sample.name)
    for text in _mutations(read(sample.name), rng):
        try:
            result = from_transcript(text, **sample.import_args)
        except ValueError:
            continue
        assert isinstance(result.frames(), dict)


def _s_client(server: LabServer, cafile: Path, *options: str) -> str:
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("openssl not found (CI is set, so this test must run)", pytrace=False)
        pytest.skip("openssl not found; apt-get install openssl")
    port = server.endpoints[0].split("/")[0]
    command = ["openssl", "s_client", "-starttls", "smtp", "-connect", f"{server.address}:{port}"]
    completed = subprocess.run(
        [*command, "-CAfile", str(cafile), *options], input=b"QUIT\n", capture_output=True, timeout=30
    )
    return completed.stdout.decode()


def test_openssl_showcerts_keeps_chain(lab: Lab, healthy: ProbeResult) -> None:
    server = lab.servers["healthy"]
    port = int(server.endpoints[0].split("/")[0])
    result = from_transcript(_s_client(server, lab.cafile, "-showcerts"), host=server.host, port=port)
    view = result.views[0]
    assert view.chain_pem is not None
    assert len(view.chain_pem) == 2
    assert view.chain_pem in [item.chain_pem for item in healthy.views]
    assert view.tls is not None
    assert view.tls["cert_pem"] == view.chain_pem[0]


def test_openssl_without_showcerts_has_no_chain(lab: Lab) -> None:
    server = lab.servers["healthy"]
    port = int(server.endpoints[0].split("/")[0])
    result = from_transcript(_s_client(server, lab.cafile), host=server.host, port=port)
    view = result.views[0]
    assert view.tls is not None
    assert view.tls["cert_pem"]
    assert view.chain_pem is None


def test_imported_report_shows_the_clients_settings() -> None:
    result = from_transcript(read("swaks-postfix-auth-plain.txt"), host="mail.postfix.test")
    config = result.run.config
    assert (config["ehlo_name"], config["mail_from"], config["rcpt_to"]) == (
        EHLO_NAME, "smtplab@example.com", "smtplab@example.net"
    )
    piped = from_transcript(read("openssl-broken-starttls-piped.txt"), host="mx.shop.test", port=35569)
    assert piped.run.config["ehlo_name"] is None  # s_client sent its own EHLO, which it does not show
    assert "EHLO name `–`" in piped.to_markdown()
