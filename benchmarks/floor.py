"""The floor of probe throughput: a minimal asyncio client doing a probe's exchanges, nothing else.

It sends the same commands as a full smtplab probe of a STARTTLS or plaintext
port: it reads the greeting, then sends EHLO, STARTTLS and EHLO again, MAIL
FROM, RCPT TO, RSET and QUIT. It reads each reply to its last line, but it
records, times and interprets nothing. smtplab's rate divided by this one is the
share of the achievable rate that smtplab reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time


async def _reply(reader: asyncio.StreamReader) -> bytes:
    """Read one reply to its last line (a line whose fourth byte is a space)."""
    while True:
        line = await reader.readuntil(b"\n")
        if len(line) < 4 or line[3:4] != b"-":
            return line


async def _command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes) -> bytes:
    writer.write(line)
    await writer.drain()
    return await _reply(reader)


async def floor_probe(address: str, port: int, context: ssl.SSLContext | None) -> bool:
    """Run one conversation; return whether it reached QUIT."""
    reader, writer = await asyncio.open_connection(address, port)
    try:
        await _reply(reader)
        ehlo = await _command(reader, writer, b"EHLO client.smtplab.test\r\n")
        if context is not None:
            await _command(reader, writer, b"STARTTLS\r\n")
            await writer.start_tls(context)
            ehlo = await _command(reader, writer, b"EHLO client.smtplab.test\r\n")
        del ehlo
        await _command(reader, writer, b"MAIL FROM:<smtplab@example.com>\r\n")
        await _command(reader, writer, b"RCPT TO:<smtplab@example.net>\r\n")
        await _command(reader, writer, b"RSET\r\n")
        await _command(reader, writer, b"QUIT\r\n")
        return True
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def _context(cafile: str) -> ssl.SSLContext:
    """Create one context for the whole run that verifies the chain like smtplab, host names unchecked."""
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = False
    return context


async def floor_run(endpoints: list[tuple[str, int]], *, concurrency: int,
                    cafile: str | None) -> tuple[int, float]:
    """Probe every endpoint with at most ``concurrency`` at once; return (completed, seconds).

    With ``cafile`` each port is spoken to with STARTTLS, otherwise in plaintext.
    """
    context = _context(cafile) if cafile else None
    slots = asyncio.Semaphore(concurrency)

    async def one(address: str, port: int) -> bool:
        async with slots:
            try:
                return await floor_probe(address, port, context)
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                return False

    started = time.perf_counter()
    results = await asyncio.gather(*(one(address, port) for address, port in endpoints))
    return sum(results), time.perf_counter() - started
