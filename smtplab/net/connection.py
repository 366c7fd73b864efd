"""One SMTP connection that records every line it sends and receives."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
from typing import Any

from smtplab.config import ProbeConfig, mask_proxy_password
from smtplab.errors import ProtocolError, ProxyFailure, ReplyTimeout
from smtplab.limits import wait_for_connect_turn
from smtplab.protocol.reply import Reply, ReplyAssembler
from smtplab.transcript import Recorder

# SOCKS5 reply codes (RFC 1928 section 6) that name a destination problem, as the
# OSError a direct connection would have raised, so both classify alike. These
# replies are about the target: the proxy worked and tried it. Every other reply
# code (general failure, not allowed by the ruleset, ...) is a proxy failure.
_SOCKS_REPLY_ERRORS: dict[int, tuple[type[OSError], int]] = {
    3: (OSError, errno.ENETUNREACH),
    4: (OSError, errno.EHOSTUNREACH),
    5: (ConnectionRefusedError, errno.ECONNREFUSED),
}


async def connect_via_proxy(proxy_url: str, address: str, port: int) -> socket.socket:
    """Connect to ``address`` and ``port`` through a SOCKS proxy; return the connected socket.

    Raises ConnectionRefusedError or OSError (unreachable) when the proxy reports
    that for the destination. Raises ProxyFailure when the proxy cannot be reached,
    rejects the credentials, closes the connection, sends an invalid reply or
    rejects the request for another reason. The messages carry the proxy URL with
    its password masked.
    """
    from python_socks import ProxyConnectionError, ProxyError
    from python_socks.async_.asyncio import Proxy

    proxy = Proxy.from_url(proxy_url, rdns=False)
    # NOTE: a timeout stays a TimeoutError, classified like a direct connect timeout.
    # python-socks 3.2 does not report whether it was still connecting to the proxy
    # or waiting for the proxy to reach the destination, and the second case is a
    # filtered target port, which must stay a finding about the target.
    try:
        return await proxy.connect(dest_host=address, dest_port=port)
    except ProxyConnectionError as exc:
        raise ProxyFailure(f"proxy {mask_proxy_password(proxy_url)}: {exc}") from exc
    except ProxyError as exc:
        message = f"proxy {mask_proxy_password(proxy_url)}: {exc}"
        known = _SOCKS_REPLY_ERRORS.get(exc.error_code or 0)
        if known is None:
            raise ProxyFailure(message) from exc
        error_type, code = known
        raise error_type(code, message) from exc


def acknowledge_promptly(writer: asyncio.StreamWriter) -> None:
    """Make Linux acknowledge the next received segments at once (TCP_QUICKACK).

    A server that writes a TLS 1.3 session ticket and then its reply in two
    segments, with Nagle's algorithm on, keeps the reply back until the ticket
    is acknowledged, and a client's delayed ACK waits up to 40 ms. Probes of
    Postfix 3.7 on Debian 12 stalled that long after every handshake without
    this option (see BENCHMARKS.md). The option is not sticky, so it is set after connecting and
    again after each handshake. Elsewhere it does not exist and nothing happens.
    """
    option = getattr(socket, "TCP_QUICKACK", None)
    sock = writer.get_extra_info("socket")
    if option is None or sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, 1)


def printable(raw: bytes) -> str:
    """Decode a server line; invalid UTF-8 becomes U+FFFD, control bytes become ``\\xNN``."""
    text = raw.decode("utf-8", "replace")
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == "\t" else f"\\x{ord(char):02x}" for char in text)


class SmtpConnection:
    """A client connection that waits for each reply's last line before sending more."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        recorder: Recorder,
        config: ProbeConfig,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._recorder = recorder
        self._config = config

    @classmethod
    async def open(
        cls, address: str, port: int, *, recorder: Recorder, config: ProbeConfig
    ) -> SmtpConnection:
        """Open a TCP connection, through ``config.proxy`` when set.

        Waits first for the run's connection rate limit, outside the connect
        timeout. Raises OSError or TimeoutError on failure, ProxyFailure (an
        OSError) for a proxy that cannot be reached or rejects the request.
        """
        await wait_for_connect_turn()
        async with asyncio.timeout(config.connect_timeout):
            if config.proxy is None:
                reader, writer = await asyncio.open_connection(
                    address, port, limit=config.max_line_bytes
                )
            else:
                recorder.add("note", "connect", text=f"via proxy {mask_proxy_password(config.proxy)}")
                sock = await connect_via_proxy(config.proxy, address, port)
                reader, writer = await asyncio.open_connection(sock=sock, limit=config.max_line_bytes)
        acknowledge_promptly(writer)
        return cls(reader, writer, recorder, config)

    async def read_reply(self, step: str) -> Reply:
        """Read lines up to the reply's last line within the reply timeout."""
        assembler = ReplyAssembler(self._config.max_reply_lines)
        try:
            async with asyncio.timeout(self._config.reply_timeout):
                while True:
                    line = await self._read_line(step)
                    self._recorder.received(step, line)
                    reply = assembler.feed(line)
                    if reply is not None:
                        return reply
        except TimeoutError:
            pending = self._take_buffer()
            if pending:
                self._recorder.add("partial", step, text=printable(pending))
                if b"\r" in pending:
                    raise ProtocolError("reply lines end in a bare CR, not CRLF") from None
            raise ReplyTimeout(
                f"no complete reply within {self._config.reply_timeout:g} s"
            ) from None

    async def _read_line(self, step: str) -> str:
        try:
            raw = await self._reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise ProtocolError(
                f"reply line longer than {self._config.max_line_bytes} bytes"
            ) from None
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                self._recorder.add("partial", step, text=printable(exc.partial))
            raise
        return printable(raw.rstrip(b"\r\n"))

    def _take_buffer(self) -> bytes:
        """Remove and return bytes received but not read yet.

        StreamReader has no public peek, so this reads its private buffer; the
        probe needs it to see data a server sent without being asked.
        """
        buffer: bytearray = self._reader._buffer  # type: ignore[attr-defined]
        pending = bytes(buffer[: self._config.max_line_bytes])
        buffer.clear()
        return pending

    async def send(self, step: str, line: str, *, shown: str | None = None) -> None:
        """Send one command line; ``shown`` replaces it in the transcript (secrets).

        Raise ProtocolError when the server already sent data that no command
        requested, because the reply to this command could not be told apart from it.
        """
        if "\r" in line or "\n" in line:
            raise ValueError(f"command contains CR or LF: {shown or line!r}")
        stray = self._take_buffer()
        if stray:
            self._recorder.add("unsolicited", step, text=printable(stray))
            raise ProtocolError(f"server sent data before {step.upper()} was sent (replies out of step)")
        self._recorder.sent(step, shown if shown is not None else line)
        self._writer.write(line.encode("utf-8") + b"\r\n")
        await self._writer.drain()

    async def command(self, step: str, line: str, *, shown: str | None = None) -> Reply:
        await self.send(step, line, shown=shown)
        return await self.read_reply(step)

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str | None) -> None:
        """Upgrade this connection to TLS; raise ssl.SSLError, OSError or TimeoutError.

        Bytes that arrived after the server's 220 but before the handshake were
        sent in plaintext and must not be read as if protected (the CVE-2011-0411
        class). They are recorded as an ``unsolicited`` event and dropped.
        """
        stray = self._take_buffer()
        if stray:
            self._recorder.add("unsolicited", "starttls", text=printable(stray))
        await self._writer.start_tls(
            context,
            server_hostname=server_hostname,
            ssl_handshake_timeout=self._config.tls_timeout,
        )
        acknowledge_promptly(self._writer)

    def ssl_object(self) -> ssl.SSLObject | None:
        return self._writer.get_extra_info("ssl_object")

    def extra(self, name: str) -> Any:
        return self._writer.get_extra_info(name)

    async def close(self) -> None:
        self._writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            pass
