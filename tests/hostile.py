"""Hostile and broken SMTP servers for the fault suite, each a handler for rawserver.serve."""

from __future__ import annotations

import asyncio
import datetime
import ssl
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rawserver import Handler

Reply = str | Callable[[str], str]


@dataclass(frozen=True)
class Script:
    """A scripted SMTP server: its greeting, EHLO keywords and replies per command verb."""

    banner: bytes = b"220 hostile.test ESMTP\r\n"
    ehlo: tuple[str, ...] = ("PIPELINING", "8BITMIME")
    replies: Mapping[str, Reply] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    after_starttls: bytes = b""
    answer_twice: bool = False


def scripted(script: Script) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(script.banner)
        while True:
            line = (await reader.readline()).decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            reply = _reply_to(script, verb, line)
            writer.write(reply.encode() * (2 if script.answer_twice else 1))
            if verb == "STARTTLS" and script.tls is not None and reply.startswith("220"):
                writer.write(script.after_starttls)
                await writer.drain()
                await writer.start_tls(script.tls)
            await writer.drain()
            if verb == "QUIT":
                return

    return handler


def _reply_to(script: Script, verb: str, line: str) -> str:
    configured = script.replies.get(verb)
    if configured is not None:
        text = configured(line) if callable(configured) else configured
        return text if text.endswith("\r\n") else text + "\r\n"
    if verb == "EHLO":
        lines = ["hostile.test", *script.ehlo, *(["STARTTLS"] if script.tls else [])]
        return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{text}\r\n" for i, text in enumerate(lines))
    if verb == "STARTTLS":
        return "220 2.0.0 Ready to start TLS\r\n" if script.tls else "502 5.5.1 not here\r\n"
    if verb == "QUIT":
        return "221 2.0.0 Bye\r\n"
    return "250 2.0.0 Ok\r\n"


def raw(data: bytes, *, then_close: bool = False, reset: bool = False) -> Handler:
    """Send ``data`` at once, then wait, close or reset the connection."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        if reset:
            _reset(writer)
            return
        if then_close:
            return
        await reader.read()

    return handler


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    import socket
    import struct

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def after_command(verb: str, action: str, banner: bytes = b"220 hostile.test ESMTP\r\n") -> Handler:
    """Greet, answer until ``verb`` arrives, then ``close`` mid-reply or ``reset``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        while line := await reader.readline():
            if line.upper().startswith(verb.encode()):
                if action == "close":
                    writer.write(b"250-hostile.test\r\n250-PIPE")
                    await writer.drain()
                else:
                    _reset(writer)
                return
            writer.write(b"250 Ok\r\n")

    return handler


def drip(data: bytes, interval: float) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for index in range(len(data)):
            writer.write(data[index:index + 1])
            await writer.drain()
            await asyncio.sleep(interval)
        await reader.read()

    return handler


def endless_continuation(limit: int = 100_000) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 hostile.test ESMTP\r\n")
        await reader.readline()
        for _ in range(limit):
            writer.write(b"250-PIPELINING\r\n")
            await writer.drain()

    return handler


def implicit_tls(context: ssl.SSLContext, inner: Handler) -> Handler:
    """Run ``inner`` after a server-side TLS handshake on connect."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await writer.start_tls(context)
        await inner(reader, writer)

    return handler


class Certificates:
    """A test CA and server certificates with the faults the suite needs."""

    def __init__(self, ca: trustme.CA, cafile: str) -> None:
        self.ca = ca
        self.cafile = cafile

    def context(self, *names: str, **options: object) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*(names or ("127.0.0.1",)), **options).configure_cert(context)  # type: ignore[arg-type]
        return context

    def expired(self) -> ssl.SSLContext:
        now = datetime.datetime.now(datetime.UTC)
        return self.context("127.0.0.1", not_before=now - datetime.timedelta(days=60),
                            not_after=now - datetime.timedelta(days=3))

    def self_signed(self) -> ssl.SSLContext:
        return self._custom(issuer_is_subject=True, usage=ExtendedKeyUsageOID.SERVER_AUTH)

    def client_only_usage(self) -> ssl.SSLContext:
        return self._custom(issuer_is_subject=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH)

    def _custom(self, *, issuer_is_subject: bool, usage: x509.ObjectIdentifier) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.test")])
        ca_cert = x509.load_pem_x509_certificate(self.ca.cert_pem.bytes())
        ca_key = serialization.load_pem_private_key(self.ca.private_key_pem.bytes(), None)
        signing_key = key if issuer_is_subject else ca_key
        now = datetime.datetime.now(datetime.UTC)
        import ipaddress

        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if issuer_is_subject else ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(signing_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="smtplab-hostile-"))
        (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        return context

    def tls10_only(self) -> ssl.SSLContext:
        context = self.context()
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with warnings.catch_warnings():
            # Python deprecates TLS 1.0; this server exists to offer nothing newer.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.maximum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("ALL:@SECLEVEL=0")
        return context
