"""Check with the standard library's smtplib that the Postfix fixture behaves as documented."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from postfix_server import HOSTNAME, PostfixServer

pytestmark = pytest.mark.postfix

# Without local_hostname, smtplib sends socket.getfqdn() in EHLO, which can query DNS.
CLIENT_NAME = "client.smtplab.test"
SENDER = "probe@client.smtplab.test"
REMOTE_RECIPIENT = "someone@example.net"


class FixtureSMTP(smtplib.SMTP):
    """SMTP client that connects to a fixed address but checks TLS against the host name.

    smtplib verifies the server certificate against the host passed to ``connect()``.
    Passing ``HOSTNAME`` there and connecting to ``address`` checks the certificate the
    way an MX client does, without a DNS lookup.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(local_hostname=CLIENT_NAME, timeout=10)

    def connect(
        self, host: str = "localhost", port: int = 0, source_address: tuple[str, int] | None = None
    ) -> tuple[int, bytes]:
        # starttls() takes the TLS server name from the private _host, which Python 3.11
        # sets only in __init__, not in connect().
        self._host = host
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self.address, port), timeout, self.source_address)


class FixtureSMTPSSL(smtplib.SMTP_SSL):
    """Implicit-TLS counterpart of FixtureSMTP."""

    def __init__(self, address: str, context: ssl.SSLContext) -> None:
        self.address = address
        super().__init__(local_hostname=CLIENT_NAME, timeout=10, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self.address, port), timeout, self.source_address)
        return self.context.wrap_socket(raw, server_hostname=host)


def tls_context(server: PostfixServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.cafile))


@contextmanager
def smtp_session(server: PostfixServer, listener: str) -> Iterator[FixtureSMTP]:
    """Connect to a plaintext listener and send EHLO. Leaving the block sends QUIT."""
    with FixtureSMTP(server.host) as client:
        client.connect(HOSTNAME, server.ports[listener])
        client.ehlo()
        yield client


@contextmanager
def starttls_session(server: PostfixServer, listener: str) -> Iterator[FixtureSMTP]:
    """Connect, send EHLO, STARTTLS and EHLO again. Leaving the block sends QUIT."""
    with smtp_session(server, listener) as client:
        client.starttls(context=tls_context(server))
        client.ehlo()
        yield client


def auth_mechanisms(client: smtplib.SMTP) -> list[str]:
    return client.esmtp_features.get("auth", "").upper().split()


@pytest.mark.parametrize("listener", ["smtp", "submission"])
def test_banner_names_hostname(postfix: PostfixServer, listener: str) -> None:
    with FixtureSMTP(postfix.host) as client:
        code, banner = client.connect(HOSTNAME, postfix.ports[listener])

    assert code == 220
    assert HOSTNAME.encode() in banner


def test_submission_before_tls_offers_starttls_only(postfix: PostfixServer) -> None:
    with smtp_session(postfix, "submission") as client:
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")


def test_submission_after_starttls_offers_auth(postfix: PostfixServer) -> None:
    with starttls_session(postfix, "submission") as client:
        mechanisms = auth_mechanisms(client)

    assert "PLAIN" in mechanisms
    assert "LOGIN" in mechanisms


def test_smtp_port_offers_no_auth(postfix: PostfixServer) -> None:
    with smtp_session(postfix, "smtp") as client:
        offers_starttls = client.has_extn("starttls")
        client.starttls(context=tls_context(postfix))
        client.ehlo()
        offers_auth_after_tls = client.has_extn("auth")

    assert offers_starttls
    assert not offers_auth_after_tls


def test_submission_login_succeeds(postfix: PostfixServer) -> None:
    with starttls_session(postfix, "submission") as client:
        code, _ = client.login(postfix.username, postfix.password)

    assert code == 235


def test_submission_wrong_password_gets_535(postfix: PostfixServer) -> None:
    with (
        starttls_session(postfix, "submission") as client,
        pytest.raises(smtplib.SMTPAuthenticationError) as raised,
    ):
        client.login(postfix.username, postfix.password + "-wrong")

    assert raised.value.smtp_code == 535


@pytest.mark.parametrize("listener", ["smtp", "submission"])
def test_relay_denied_without_auth(postfix: PostfixServer, listener: str) -> None:
    with smtp_session(postfix, listener) as client:
        mail_code, _ = client.mail(SENDER)
        rcpt_code, rcpt_message = client.rcpt(REMOTE_RECIPIENT)

    assert mail_code == 250
    assert rcpt_code in (454, 554)
    assert b"Relay access denied" in rcpt_message


def test_relay_permitted_after_login(postfix: PostfixServer) -> None:
    with starttls_session(postfix, "submission") as client:
        client.login(postfix.username, postfix.password)
        client.mail(SENDER)
        rcpt_code, _ = client.rcpt(REMOTE_RECIPIENT)
        # RSET ends the transaction before DATA, so nothing is queued.
        client.rset()

    assert rcpt_code == 250


def test_smtps_speaks_tls_immediately(postfix: PostfixServer) -> None:
    with FixtureSMTPSSL(postfix.host, tls_context(postfix)) as client:
        code, banner = client.connect(HOSTNAME, postfix.ports["smtps"])
        assert isinstance(client.sock, ssl.SSLSocket)
        tls_version = client.sock.version()
        client.ehlo()
        mechanisms = auth_mechanisms(client)

    assert code == 220
    assert HOSTNAME.encode() in banner
    assert tls_version in ("TLSv1.2", "TLSv1.3")
    assert "PLAIN" in mechanisms


def test_smtps_login_succeeds(postfix: PostfixServer) -> None:
    with FixtureSMTPSSL(postfix.host, tls_context(postfix)) as client:
        client.connect(HOSTNAME, postfix.ports["smtps"])
        code, _ = client.login(postfix.username, postfix.password)

    assert code == 235


def test_queue_empty_after_session(postfix: PostfixServer) -> None:
    # This test runs last in the file, so it checks that no test above queued a message.
    assert postfix.queued_messages() == []
