"""The optional TLS scan: obsolete versions and weak ciphers a server still accepts."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator

import pandas as pd
import pytest
import trustme

import smtplab
from smtplab.lab import Lab

from hostile import Script, implicit_tls, scripted
from rawserver import serve


@pytest.fixture(scope="module")
def permissive_context() -> ssl.SSLContext:
    """A server context that still allows TLS 1.0 and every cipher, like an old server."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


@pytest.fixture(scope="module")
def old_only_context() -> ssl.SSLContext:
    """A server context that speaks nothing newer than TLS 1.1, so a modern handshake fails."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _serve_smtp_session(connection: socket.socket, context: ssl.SSLContext, *, starttls: bool) -> None:
    """Speak minimal SMTP. A failed handshake ends the session after OpenSSL sends its alert."""
    stream: socket.socket = connection
    if not starttls:
        stream = context.wrap_socket(connection, server_side=True)
    stream.sendall(b"220 old.test ESMTP\r\n")
    reader = stream.makefile("rb")
    while raw := reader.readline():
        verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
        if verb == "EHLO":
            extensions = b"250 STARTTLS\r\n" if stream is connection and starttls else b"250 8BITMIME\r\n"
            stream.sendall(b"250-old.test\r\n" + extensions)
        elif verb == "STARTTLS":
            stream.sendall(b"220 ready\r\n")
            reader.close()
            stream = context.wrap_socket(connection, server_side=True)
            reader = stream.makefile("rb")
        elif verb == "QUIT":
            stream.sendall(b"221 bye\r\n")
            return
        else:
            stream.sendall(b"250 OK\r\n")


@contextlib.contextmanager
def _blocking_tls_server(context: ssl.SSLContext, *, starttls: bool) -> Iterator[int]:
    """Serve SMTP with the ssl module's blocking sockets on 127.0.0.1; yield the port.

    An asyncio server resets the connection when a handshake fails, but a
    blocking ssl socket sends the TLS alert a real server sends
    (protocol_version when no version is shared).
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopping = threading.Event()

    def session(connection: socket.socket) -> None:
        connection.settimeout(10)
        with contextlib.suppress(OSError), connection:
            _serve_smtp_session(connection, context, starttls=starttls)

    def accept_loop() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=session, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


def _config(**options: object) -> smtplab.ProbeConfig:
    return smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=3.0,
                               tls_scan=True, relay_test=False, **options)  # type: ignore[arg-type]


def test_old_server_accepts_tls10(permissive_context: ssl.SSLContext) -> None:
    with serve(implicit_tls(permissive_context, scripted(Script()))) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/tls"], config=_config())
    row = result.endpoints.iloc[0]
    assert "TLSv1" in str(row["old_tls_accepted"]).split()
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert row["tls_version"] == "TLSv1.3"
    finding = result.findings.set_index("code").loc["tls.obsolete_accepted"]
    assert finding["severity"] == "warning"
    assert "TLS offer TLSv1 accepted: TLSv1" in finding["evidence"]


def test_old_server_over_starttls(permissive_context: ssl.SSLContext) -> None:
    with serve(scripted(Script(tls=permissive_context))) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=_config())
    row = result.endpoints.iloc[0]
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert row["auth_tls"] == ""
    assert "tls.obsolete_accepted" in set(result.findings["code"])


def test_scan_does_not_change_main_facts(permissive_context: ssl.SSLContext) -> None:
    with serve(scripted(Script(tls=permissive_context))) as port:
        plain = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"],
                              config=_config().__class__(**{**_config().to_dict(), "tls_scan": False}))
        scanned = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=_config())
    same = ["banner", "starttls", "tls_ok", "tls_version", "auth_plain", "auth_tls", "error_class"]
    pd.testing.assert_series_equal(plain.endpoints.iloc[0][same], scanned.endpoints.iloc[0][same],
                                   check_names=False)
    assert pd.isna(plain.endpoints.iloc[0]["old_tls_accepted"])
    checks = scanned.transcript[scanned.transcript["check"].notna()]
    assert set(checks["check"]) == {"TLSv1", "TLSv1.1", "weak-ciphers"}


def test_modern_server_rejects_old_offers(lab: Lab) -> None:
    server = lab.servers["healthy"]
    config = _config(nameserver=lab.nameserver, cafile=str(lab.cafile))
    result = smtplab.probe(server.host, ports=server.endpoints, config=config)
    assert (result.endpoints["old_tls_accepted"] == "").all()
    codes = set(result.findings["code"])
    assert "tls.obsolete_accepted" not in codes
    assert "tls.weak_cipher_accepted" not in codes


def test_old_only_server_over_implicit_tls(old_only_context: ssl.SSLContext) -> None:
    with _blocking_tls_server(old_only_context, starttls=False) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/tls"], config=_config())
    row = result.endpoints.iloc[0]
    assert row["error_class"] == "tls_failed"
    assert "PROTOCOL_VERSION" in row["error_detail"]
    assert "TLSv1" in str(row["old_tls_accepted"]).split()
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert "tls.obsolete_accepted" in set(result.findings["code"])


def test_old_only_server_over_starttls(old_only_context: ssl.SSLContext) -> None:
    with _blocking_tls_server(old_only_context, starttls=True) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/starttls"], config=_config())
    row = result.endpoints.iloc[0]
    assert row["error_class"] == "tls_failed"
    assert "PROTOCOL_VERSION" in row["error_detail"]
    assert "TLSv1.1" in str(row["old_tls_accepted"]).split()
    assert "tls.obsolete_accepted" in set(result.findings["code"])


def test_plaintext_on_tls_port_skips_scan() -> None:
    with serve(scripted(Script())) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/tls"], config=_config())
    row = result.endpoints.iloc[0]
    assert row["error_class"] == "plaintext_on_tls_port"
    assert pd.isna(row["old_tls_accepted"])
