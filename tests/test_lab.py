"""Checks of smtplab.lab against the running lab, with smtplib and dnspython as clients."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.resolver
import pytest

from smtplab.lab import Lab, LabServer

BROKEN_EHLO = [
    "mail.dev.test",
    "PIPELINING",
    "SIZE 10240000",
    "VRFY",
    "ETRN",
    "STARTTLS",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "DSN",
    "SMTPUTF8",
    "CHUNKING",
]
TIMEOUT = 5.0
OUTSIDE_ADDRESS = "someone@example.org"
STARTTLS_PORTS = (0, 1)  # indexes into LabServer.endpoints for the roles of 25 and 587
IMPLICIT_TLS_PORT = 2  # index for the role of 465


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab() as running:
        yield running


@pytest.fixture
def context(lab: Lab) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=lab.cafile)


class _SMTPSSLByName(smtplib.SMTP_SSL):
    """SMTP_SSL client that connects to an address but verifies the certificate by name.

    smtplib uses the host it connects to as the TLS server name, and lab names resolve
    only through the lab DNS responder.
    """

    def __init__(self, server_hostname: str, context: ssl.SSLContext) -> None:
        self._server_hostname = server_hostname
        super().__init__(context=context, timeout=TIMEOUT)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        self._host = self._server_hostname
        return super()._get_socket(host, port, timeout)


def _port(server: LabServer, index: int) -> int:
    return int(server.endpoints[index].split("/")[0])


def _connect(server: LabServer, index: int) -> tuple[smtplib.SMTP, tuple[int, bytes]]:
    client = smtplib.SMTP(timeout=TIMEOUT)
    greeting = client.connect(server.address, _port(server, index))
    return client, greeting


def _starttls(
    server: LabServer, index: int, context: ssl.SSLContext, server_hostname: str
) -> smtplib.SMTP:
    client, _ = _connect(server, index)
    client.ehlo("client.test")
    # starttls() passes client._host, the address connected to, as the TLS server name.
    client._host = server_hostname
    client.starttls(context=context)
    return client


def _authenticate(
    client: smtplib.SMTP, mechanism: str, username: str, password: str
) -> tuple[int, bytes]:
    """Run AUTH with exactly ``mechanism``; login() would fall back to other mechanisms."""
    client.user = username
    client.password = password
    authobjects = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login}
    return client.auth(mechanism, authobjects[mechanism])


def _ehlo_lines(client: smtplib.SMTP) -> list[str]:
    code, text = client.ehlo("client.test")
    assert code == 250
    return text.decode().split("\n")


def _dns_query(lab: Lab, name: str, rdtype: str, *, tcp: bool = False) -> dns.message.Message:
    host, port = lab.nameserver.split(":")
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, host, port=int(port), timeout=TIMEOUT)
    return dns.query.udp(query, host, port=int(port), timeout=TIMEOUT)


def _resolver(lab: Lab) -> dns.resolver.Resolver:
    host, port = lab.nameserver.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.lifetime = TIMEOUT
    return resolver


def _open_sockets() -> set[str]:
    fd_dir = Path("/proc/self/fd")
    targets = set()
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            targets.add(target)
    return targets


# Public description of the servers


def test_servers_describe_scenarios(lab: Lab) -> None:
    broken = lab.servers["broken"]
    healthy = lab.servers["healthy"]

    assert set(lab.servers) == {"broken", "healthy"}
    assert (broken.name, broken.host, broken.address) == ("broken", "mx.shop.test", "127.0.0.2")
    assert (healthy.name, healthy.host, healthy.address) == (
        "healthy",
        "smtp.healthy.test",
        "127.0.0.3",
    )
    assert [e.split("/")[1] for e in broken.endpoints] == ["starttls", "starttls", "tls"]
    assert [e.split("/")[1] for e in healthy.endpoints] == ["starttls", "starttls", "tls"]
    assert broken.username is None
    assert broken.password is None
    assert healthy.username == "alice@healthy.test"
    assert healthy.password
    assert healthy.description


def test_server_repr_hides_password(lab: Lab) -> None:
    healthy = lab.servers["healthy"]

    assert healthy.password is not None
    assert healthy.password not in repr(healthy)


def test_nameserver_and_cafile(lab: Lab) -> None:
    host, port = lab.nameserver.split(":")

    assert host == "127.0.0.1"
    assert int(port) > 0
    assert lab.cafile.is_file()
    assert lab.cafile.read_text().startswith("-----BEGIN CERTIFICATE-----")


# Scenario "broken"


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_broken_greeting(lab: Lab, index: int) -> None:
    client, greeting = _connect(lab.servers["broken"], index)
    client.quit()

    assert greeting == (220, b"mail.dev.test ESMTP")


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_broken_ehlo_before_tls(lab: Lab, index: int) -> None:
    client, _ = _connect(lab.servers["broken"], index)
    lines = _ehlo_lines(client)
    client.quit()

    assert lines == BROKEN_EHLO


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_broken_ehlo_after_starttls(lab: Lab, context: ssl.SSLContext, index: int) -> None:
    client = _starttls(lab.servers["broken"], index, context, "mail.dev.test")
    lines = _ehlo_lines(client)
    client.quit()

    assert lines == [line for line in BROKEN_EHLO if line != "STARTTLS"]
    assert not any(line.startswith("AUTH") for line in lines)


def test_broken_certificate_names_dev_host(lab: Lab, context: ssl.SSLContext) -> None:
    broken = lab.servers["broken"]

    with pytest.raises(ssl.SSLCertVerificationError):
        _starttls(broken, 0, context, broken.host)

    client = _starttls(broken, 0, context, "mail.dev.test")
    assert isinstance(client.sock, ssl.SSLSocket)
    certificate = client.sock.getpeercert()
    client.quit()

    assert certificate["subjectAltName"] == (("DNS", "mail.dev.test"),)


def test_broken_rejects_auth_inside_tls(lab: Lab, context: ssl.SSLContext) -> None:
    client = _starttls(lab.servers["broken"], 1, context, "mail.dev.test")
    client.ehlo("client.test")
    code, _ = client.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==")
    client.quit()

    assert code == 503


def test_broken_relay_denied(lab: Lab, context: ssl.SSLContext) -> None:
    client = _starttls(lab.servers["broken"], 0, context, "mail.dev.test")
    client.ehlo("client.test")
    mail_reply = client.mail("probe@client.test")
    relay_reply = client.rcpt(OUTSIDE_ADDRESS)
    local_reply = client.rcpt("postmaster@shop.test")
    client.quit()

    assert mail_reply[0] == 250
    assert relay_reply == (454, f"4.7.1 <{OUTSIDE_ADDRESS}>: Relay access denied".encode())
    assert local_reply[0] == 250


def test_broken_relay_denied_without_tls(lab: Lab) -> None:
    client, _ = _connect(lab.servers["broken"], 0)
    client.ehlo("client.test")
    client.mail("probe@client.test")
    relay_reply = client.rcpt(OUTSIDE_ADDRESS)
    client.quit()

    assert relay_reply == (454, f"4.7.1 <{OUTSIDE_ADDRESS}>: Relay access denied".encode())


def test_broken_rset_and_quit(lab: Lab) -> None:
    client, _ = _connect(lab.servers["broken"], 1)
    client.ehlo("client.test")
    client.mail("probe@client.test")
    rset_code, _ = client.rset()
    quit_code, _ = client.quit()

    assert rset_code == 250
    assert quit_code == 221


def test_broken_tls_port_resets_handshake(lab: Lab, context: ssl.SSLContext) -> None:
    broken = lab.servers["broken"]
    sock = socket.create_connection((broken.address, _port(broken, IMPLICIT_TLS_PORT)), TIMEOUT)

    with pytest.raises((ConnectionResetError, ssl.SSLError)), sock:
        context.wrap_socket(sock, server_hostname="mail.dev.test")


# Scenario "healthy"


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_healthy_greeting(lab: Lab, index: int) -> None:
    client, greeting = _connect(lab.servers["healthy"], index)
    client.quit()

    assert greeting == (220, b"smtp.healthy.test ESMTP")


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_healthy_ehlo_before_tls(lab: Lab, index: int) -> None:
    client, _ = _connect(lab.servers["healthy"], index)
    lines = _ehlo_lines(client)
    client.quit()

    assert lines[0] == "smtp.healthy.test"
    assert "STARTTLS" in lines
    assert not any(line.startswith("AUTH") for line in lines)


@pytest.mark.parametrize("index", STARTTLS_PORTS)
def test_healthy_ehlo_after_starttls(lab: Lab, context: ssl.SSLContext, index: int) -> None:
    healthy = lab.servers["healthy"]
    client = _starttls(healthy, index, context, healthy.host)
    lines = _ehlo_lines(client)
    client.quit()

    assert lines[0] == "smtp.healthy.test"
    assert "AUTH PLAIN LOGIN" in lines
    assert "STARTTLS" not in lines


def test_healthy_implicit_tls_offers_auth(lab: Lab, context: ssl.SSLContext) -> None:
    healthy = lab.servers["healthy"]
    client = _SMTPSSLByName(healthy.host, context)
    greeting = client.connect(healthy.address, _port(healthy, IMPLICIT_TLS_PORT))
    lines = _ehlo_lines(client)
    login_reply = client.login(healthy.username or "", healthy.password or "")
    client.quit()

    assert greeting == (220, b"smtp.healthy.test ESMTP")
    assert "AUTH PLAIN LOGIN" in lines
    assert "STARTTLS" not in lines
    assert login_reply[0] == 235


def test_healthy_rejects_auth_before_tls(lab: Lab) -> None:
    client, _ = _connect(lab.servers["healthy"], 1)
    client.ehlo("client.test")
    code, _ = client.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==")
    client.quit()

    assert code == 538


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_healthy_auth_accepts_password(
    lab: Lab, context: ssl.SSLContext, mechanism: str
) -> None:
    healthy = lab.servers["healthy"]
    client = _starttls(healthy, 1, context, healthy.host)
    client.ehlo("client.test")
    reply = _authenticate(client, mechanism, healthy.username or "", healthy.password or "")
    client.quit()

    assert reply == (235, b"2.7.0 Authentication successful")


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize(
    ("username", "password_suffix"),
    [("alice@healthy.test", "-wrong"), ("mallory@healthy.test", "")],
)
def test_healthy_auth_rejects_wrong_credentials(
    lab: Lab, context: ssl.SSLContext, mechanism: str, username: str, password_suffix: str
) -> None:
    healthy = lab.servers["healthy"]
    client = _starttls(healthy, 1, context, healthy.host)
    client.ehlo("client.test")

    with pytest.raises(smtplib.SMTPAuthenticationError) as error:
        _authenticate(client, mechanism, username, (healthy.password or "") + password_suffix)
    client.quit()

    assert error.value.smtp_code == 535
    assert error.value.smtp_error == b"5.7.8 Authentication credentials invalid"


def test_healthy_relay_needs_auth(lab: Lab, context: ssl.SSLContext) -> None:
    healthy = lab.servers["healthy"]
    client = _starttls(healthy, 1, context, healthy.host)
    client.ehlo("client.test")
    client.mail("alice@healthy.test")
    denied_reply = client.rcpt(OUTSIDE_ADDRESS)
    local_reply = client.rcpt("bob@healthy.test")
    client.rset()
    client.login(healthy.username or "", healthy.password or "")
    client.mail("alice@healthy.test")
    relayed_reply = client.rcpt(OUTSIDE_ADDRESS)
    client.quit()

    assert denied_reply == (554, f"5.7.1 <{OUTSIDE_ADDRESS}>: Relay access denied".encode())
    assert local_reply == (250, b"2.1.5 OK")
    assert relayed_reply == (250, b"2.1.5 OK")


def test_healthy_data_accepted_and_discarded(lab: Lab, context: ssl.SSLContext) -> None:
    healthy = lab.servers["healthy"]
    client = _starttls(healthy, 1, context, healthy.host)
    client.ehlo("client.test")
    client.mail("alice@healthy.test")
    client.rcpt("bob@healthy.test")
    code, _ = client.data(b"Subject: lab test\r\n\r\nbody\r\n")
    client.quit()

    assert code == 250


def test_healthy_auth_keeps_password_out_of_logs(
    lab: Lab, context: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    healthy = lab.servers["healthy"]
    username = healthy.username or ""
    password = healthy.password or ""
    caplog.set_level(logging.DEBUG)

    for mechanism in ("PLAIN", "LOGIN"):
        for attempt in (password + "-wrong", password):
            client = _starttls(healthy, 1, context, healthy.host)
            client.ehlo("client.test")
            with contextlib.suppress(smtplib.SMTPAuthenticationError):
                _authenticate(client, mechanism, username, attempt)
            client.quit()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    plain_blob = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    login_blob = base64.b64encode(password.encode()).decode()
    assert any(record.name == "mail.log" for record in caplog.records)
    assert password not in logged
    assert plain_blob not in logged
    assert login_blob not in logged
    assert "deprecated" not in logged


# DNS responder


@pytest.mark.parametrize(
    ("name", "address"),
    [("mx.shop.test", "127.0.0.2"), ("smtp.healthy.test", "127.0.0.3")],
)
def test_dns_a_records(lab: Lab, name: str, address: str) -> None:
    answer = _resolver(lab).resolve(name, "A")

    assert [rdata.to_text() for rdata in answer] == [address]


@pytest.mark.parametrize(
    ("address", "name"),
    [("127.0.0.2", "mx.shop.test."), ("127.0.0.3", "smtp.healthy.test.")],
)
def test_dns_ptr_records(lab: Lab, address: str, name: str) -> None:
    answer = _resolver(lab).resolve_address(address)

    assert [rdata.to_text() for rdata in answer] == [name]


@pytest.mark.parametrize(
    ("domain", "exchange"),
    [("shop.test", "10 mx.shop.test."), ("healthy.test", "10 smtp.healthy.test.")],
)
def test_dns_mx_records(lab: Lab, domain: str, exchange: str) -> None:
    answer = _resolver(lab).resolve(domain, "MX")

    assert [rdata.to_text() for rdata in answer] == [exchange]


@pytest.mark.parametrize("name", ["mx.shop.test", "smtp.healthy.test"])
def test_dns_aaaa_is_empty(lab: Lab, name: str) -> None:
    response = _dns_query(lab, name, "AAAA")

    assert response.rcode() == dns.rcode.NOERROR
    assert response.answer == []
    assert response.flags & dns.flags.AA


def test_dns_unknown_lab_name_is_nxdomain(lab: Lab) -> None:
    name_response = _dns_query(lab, "mail.dev.test", "A")
    reverse_response = _dns_query(lab, "9.0.0.127.in-addr.arpa", "PTR")

    assert name_response.rcode() == dns.rcode.NXDOMAIN
    assert reverse_response.rcode() == dns.rcode.NXDOMAIN


@pytest.mark.parametrize(
    ("name", "rdtype"),
    [("example.com", "A"), ("example.com", "MX"), ("4.3.2.1.in-addr.arpa", "PTR"), (".", "NS")],
)
def test_dns_outside_names_refused(lab: Lab, name: str, rdtype: str) -> None:
    response = _dns_query(lab, name, rdtype)

    assert response.rcode() == dns.rcode.REFUSED
    assert response.answer == []
    assert not response.flags & dns.flags.RA


def test_dns_rejects_other_opcodes_and_classes(lab: Lab) -> None:
    host, port = lab.nameserver.split(":")
    notify = dns.message.make_query("shop.test", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    chaos = dns.message.make_query("mx.shop.test", "TXT", rdclass="CH")

    notify_response = dns.query.udp(notify, host, port=int(port), timeout=TIMEOUT)
    chaos_response = dns.query.udp(chaos, host, port=int(port), timeout=TIMEOUT)

    assert notify_response.rcode() == dns.rcode.NOTIMP
    assert chaos_response.rcode() == dns.rcode.REFUSED


def test_dns_tcp_matches_udp(lab: Lab) -> None:
    udp_response = _dns_query(lab, "mx.shop.test", "A")
    tcp_response = _dns_query(lab, "mx.shop.test", "A", tcp=True)
    refused_response = _dns_query(lab, "example.com", "A", tcp=True)

    assert tcp_response.answer == udp_response.answer
    assert tcp_response.rcode() == dns.rcode.NOERROR
    assert refused_response.rcode() == dns.rcode.REFUSED


# Lifecycle


def test_lab_start_stop_twice_leaves_nothing(lab: Lab) -> None:
    threads_before = set(threading.enumerate())
    sockets_before = _open_sockets()
    passwords = []

    for _ in range(2):
        started = time.monotonic()
        other = Lab().start()
        start_seconds = time.monotonic() - started
        healthy = other.servers["healthy"]
        directory = other.cafile.parent
        ports = [_port(healthy, index) for index in range(3)]
        passwords.append(healthy.password)
        # Open connections of every kind must not keep the lab alive: an SMTP session,
        # an idle connection to the reset port, a TLS handshake that never starts and an
        # idle DNS TCP connection.
        client, _ = _connect(healthy, 0)
        broken = other.servers["broken"]
        nameserver_host, nameserver_port = other.nameserver.split(":")
        idle_sockets = [
            socket.create_connection((broken.address, _port(broken, 2)), TIMEOUT),
            socket.create_connection((healthy.address, _port(healthy, 2)), TIMEOUT),
            socket.create_connection((nameserver_host, int(nameserver_port)), TIMEOUT),
        ]

        started = time.monotonic()
        other.stop()
        stop_seconds = time.monotonic() - started
        client.close()
        for idle in idle_sockets:
            idle.close()

        assert start_seconds < 2.0
        assert stop_seconds < 2.0
        assert not directory.exists()
        for port in ports:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((healthy.address, port), TIMEOUT).close()

    assert set(threading.enumerate()) == threads_before
    # Sockets of earlier tests may close meanwhile, so only new ones count as leaks.
    assert _open_sockets() - sockets_before == set()
    assert passwords[0] != passwords[1]


def test_lab_attributes_need_running_lab() -> None:
    stopped = Lab()

    with pytest.raises(RuntimeError):
        _ = stopped.servers
    with pytest.raises(RuntimeError):
        _ = stopped.nameserver
    with pytest.raises(RuntimeError):
        _ = stopped.cafile


def test_lab_start_twice_raises() -> None:
    with Lab(scenarios=("healthy",)) as running, pytest.raises(RuntimeError):
        running.start()


def test_lab_scenario_subset() -> None:
    with Lab(scenarios=("broken",)) as running:
        servers = dict(running.servers)
        healthy_response = _dns_query(running, "smtp.healthy.test", "A")
        broken_response = _dns_query(running, "mx.shop.test", "A")

    assert list(servers) == ["broken"]
    assert healthy_response.rcode() == dns.rcode.NXDOMAIN
    assert broken_response.rcode() == dns.rcode.NOERROR


def test_lab_unknown_scenario_raises() -> None:
    with pytest.raises(ValueError, match="nosuch"):
        Lab(scenarios=("nosuch",))
