"""One SMTP connection that records every line it sends and receives."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from smtplab.config import ProbeConfig
from smtplab.errors import ProtocolError, ReplyTimeout
from smtplab.protocol.reply import Reply, ReplyAssembler
from smtplab.transcript import Recorder


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
        """Open a TCP connection; raise OSError or TimeoutError on failure."""
        async with asyncio.timeout(config.connect_timeout):
            reader, writer = await asyncio.open_connection(
                address, port, limit=config.max_line_bytes
            )
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
