"""The hostile-server suite: every fault ends classified, within its deadline, without leaks."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import trustme

import smtplab

from hostile import (
    Certificates,
    Script,
    after_command,
    drip,
    endless_continuation,
    implicit_tls,
    raw,
    scripted,
)
from rawserver import Handler, serve

PASSWORD = "s3cret-Hostile-42"
USER = "victim@hostile.test"

FAST = dict(resolve=False, ehlo_name="client.smtplab.test", connect_timeout=2.0, reply_timeout=1.0,
            tls_timeout=1.0, probe_timeout=6.0, max_line_bytes=4096, max_reply_lines=200)


@dataclass(frozen=True)
class Case:
    """A hostile server, the mode it is probed in, and what the probe must conclude."""

    name: str
    server: Callable[[Certificates], Handler]
    mode: str = "starttls"
    error: str | tuple[str, ...] | None = None
    finding: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    login: bool = False


def _plain(script: Script) -> Callable[[Certificates], Handler]:
    return lambda certs: scripted(script)


def _with_tls(factory: Callable[[Certificates], Script]) -> Callable[[Certificates], Handler]:
    return lambda certs: scripted(factory(certs))


def _implicit(context: Callable[[Certificates], Any]) -> Callable[[Certificates], Handler]:
    return lambda certs: implicit_tls(context(certs), scripted(Script()))


def _echo_payload(line: str) -> str:
    return f"535 5.7.8 Authentication failed for {line.split(' ', 2)[-1]}"


CASES = [
    Case("silent", lambda c: raw(b""), error="reply_timeout", finding="probe.timeout"),
    Case("drip banner", lambda c: drip(b"220 slow.hostile.test ESMTP\r\n", 0.2),
         error="reply_timeout"),
    Case("close immediately", lambda c: raw(b"", then_close=True), error="closed"),
    Case("close mid reply", lambda c: after_command("EHLO", "close"), error="closed"),
    Case("reset after EHLO", lambda c: after_command("EHLO", "reset"), error="reset"),
    Case("1 MB line", lambda c: raw(b"220 " + b"x" * 1_000_000 + b"\r\n"), error="protocol_error",
         finding="probe.protocol_error"),
    Case("endless continuation", lambda c: endless_continuation(), error="protocol_error"),
    Case("mismatched codes", _plain(Script(replies={"EHLO": "250-hostile.test\r\n251 PIPELINING"})),
         error="protocol_error"),
    Case("non-numeric code", lambda c: raw(b"hello there\r\n"), error="protocol_error"),
    Case("1-digit code", lambda c: raw(b"2 ok\r\n"), error="protocol_error"),
    Case("8-bit banner", _plain(Script(banner=b"220 caf\xe9.hostile.test ESMTP\r\n")),
         checks={"banner": "caf\ufffd.hostile.test ESMTP"}),
    Case("bare LF", _plain(Script(banner=b"220 lf.hostile.test ESMTP\n")),
         checks={"banner_host": "lf.hostile.test", "starttls": False}),
    Case("bare CR", lambda c: raw(b"220 cr.hostile.test ESMTP\r250 more\r"), error="protocol_error"),
    Case("NUL bytes", _plain(Script(banner=b"220 nul\x00.hostile.test ESMTP\r\n")),
         checks={"banner": "nul\\x00.hostile.test ESMTP"}),
    Case("220 then 421", lambda c: raw(b"220 hostile.test ESMTP\r\n421 4.3.2 Shutting down\r\n"),
         error="protocol_error"),
    Case("421 under load", lambda c: raw(b"421 4.7.0 hostile.test Too many connections\r\n"),
         error="service_unavailable", finding="greeting.unavailable"),
    Case("554 at greeting", lambda c: raw(b"554 5.7.1 Client host blocked\r\n"),
         error="greeting_rejected", finding="greeting.rejected"),
    Case("multi-line greeting", _plain(Script(banner=b"220-hostile.test ESMTP\r\n220-policy text\r\n"
                                                    b"220 ready\r\n")),
         checks={"banner": "hostile.test ESMTP", "banner_host": "hostile.test"}),
    Case("EHLO rejected", _plain(Script(replies={"EHLO": "502 5.5.2 Error: command not recognized"})),
         finding="greeting.ehlo_rejected", checks={"starttls": False}),
    Case("454 to STARTTLS", _plain(Script(ehlo=("STARTTLS",),
                                          replies={"STARTTLS": "454 4.7.0 TLS not available"})),
         error="starttls_rejected", finding="tls.starttls_refused"),
    Case("STARTTLS then plaintext", _plain(Script(ehlo=("STARTTLS",),
                                                  replies={"STARTTLS": "220 Ready\r\n250 plaintext"})),
         error="tls_failed", finding="tls.starttls_failed"),
    Case("extra data after STARTTLS", _with_tls(lambda c: Script(tls=c.context(),
                                                                 after_starttls=b"250 injected\r\n")),
         finding="tls.starttls_extra_data", checks={"tls_ok": True}),
    Case("answers twice", _plain(Script(answer_twice=True)), error="protocol_error"),
    Case("greylisting", _plain(Script(replies={"RCPT": "451 4.7.1 Greylisted, try again later"})),
         finding="relay.deferred", checks={"relay_unauth": "deferred"}),
    Case("open relay", _plain(Script()), finding="relay.open", checks={"relay_unauth": "accepted"}),
    Case("TLS handshake reset", lambda c: raw(b"", reset=True), mode="tls", error="reset"),
    Case("garbage ServerHello", lambda c: raw(b"\x16\x03\x01\x00\x05garbage-garbage"), mode="tls",
         error="tls_failed", finding="tls.implicit_failed"),
    # OpenSSL sends a protocol_version alert and closes; the close can overtake the alert.
    Case("TLS version mismatch", _implicit(lambda c: c.tls10_only()), mode="tls",
         error=("tls_failed", "reset")),
    Case("certificate expired", _implicit(lambda c: c.expired()), mode="tls",
         finding="cert.expired", checks={"cert_verified": False}),
    Case("self-signed", _implicit(lambda c: c.self_signed()), mode="tls",
         finding="cert.self_signed", checks={"cert_verified": False}),
    Case("wrong name", _implicit(lambda c: c.context("wrong.hostile.test")), mode="tls",
         finding="cert.name_mismatch"),
    Case("wrong key usage", _implicit(lambda c: c.client_only_usage()), mode="tls",
         finding="cert.untrusted", checks={"cert_verified": False}),
    Case("accepts any AUTH", _plain(Script(ehlo=("AUTH LOGIN",), replies={"AUTH": "235 2.7.0 Ok"})),
         mode="plain", login=True, finding="auth.accepted_early",
         config={"allow_plaintext_auth": True}, checks={"auth_result": "accepted_early"}),
    Case("echoes AUTH payload", _plain(Script(ehlo=("AUTH PLAIN",), replies={"AUTH": _echo_payload})),
         mode="plain", login=True, finding="auth.rejected", config={"allow_plaintext_auth": True}),
]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    ca = trustme.CA()
    cafile = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return Certificates(ca, str(cafile))


def _secret_forms() -> list[str]:
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    return [PASSWORD, base64.b64encode(PASSWORD.encode()).decode(), plain]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_server(case: Case, certificates: Certificates, tmp_path: Path,
                        caplog: pytest.LogCaptureFixture) -> None:
    config = smtplab.ProbeConfig(**{**FAST, "cafile": certificates.cafile, **case.config})
    credentials = smtplab.Credentials(USER, smtplab.Secret(PASSWORD)) if case.login else None
    caplog.set_level("DEBUG", logger="smtplab")

    with serve(case.server(certificates)) as port:
        started = time.monotonic()
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/{case.mode}"], config=config,
                               credentials=credentials)
        elapsed = time.monotonic() - started

    assert elapsed < config.probe_timeout + 1.0, "probe overran its deadline"
    assert len(result.endpoints) == 1
    row = result.endpoints.iloc[0]
    if case.error is None:
        assert pd.isna(row["error_class"]), f"unexpected error {row['error_class']}: {row['error_detail']}"
    else:
        allowed = case.error if isinstance(case.error, tuple) else (case.error,)
        assert row["error_class"] in allowed, row["error_detail"]
    if case.finding is not None:
        assert case.finding in set(result.findings["code"])
    for column, expected in case.checks.items():
        assert row[column] == expected, f"{column}: {row[column]!r}"

    outputs = "".join(frame.to_csv() for frame in result.frames().values())
    outputs += result.to_markdown() + caplog.text + result.save(tmp_path / "run.jsonl").read_text()
    for form in _secret_forms():
        assert form not in outputs


def test_suite_size() -> None:
    assert len(CASES) >= 30


def test_hostile_endpoint_does_not_delay_others(certificates: Certificates) -> None:
    config = smtplab.ProbeConfig(**{**FAST, "reply_timeout": 3.0, "probe_timeout": 8.0})
    with serve(raw(b"")) as silent_port, serve(scripted(Script())) as good_port:
        result = smtplab.probe("127.0.0.1", ports=[f"{silent_port}/plain", f"{good_port}/plain"],
                               config=config)
    rows = result.endpoints.set_index("port")
    assert rows.loc[silent_port, "error_class"] == "reply_timeout"
    assert pd.isna(rows.loc[good_port, "error_class"])
    good = next(view for view in result.views if view.record.port == good_port)
    assert good.record.events[-1]["t"] < 1000.0, "the good endpoint waited for the silent one"
