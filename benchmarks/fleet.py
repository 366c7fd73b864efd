"""A fleet of small SMTP servers on many loopback addresses, for scan tests and benchmarks.

Every server speaks just enough SMTP for a full probe: a greeting (optionally
after a delay), EHLO with STARTTLS when TLS is on, STARTTLS, MAIL, RCPT
(rejected with "554 relay access denied"), RSET, NOOP and QUIT. One process serves
all of them with asyncio protocols, so the client under test gets the other core.

Run as a program it prints one JSON line, ``{"endpoints": [[address, port], ...],
"cafile": ...}``, once every listener is bound, and serves until its standard
input closes or it gets SIGTERM. ``Fleet`` starts and stops it from Python.
Listeners bind only to 127.0.0.0/8 addresses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import signal
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
HOSTNAME = "fleet.smtplab.test"


@dataclass(frozen=True)
class FleetOptions:
    """Behaviour shared by every server of the fleet."""

    greeting_delay: float = 0.0
    """Seconds between accepting a connection and sending the greeting."""
    tls: bool = False
    """Offer STARTTLS with a certificate from a throwaway CA."""
    broken_tls: bool = False
    """Offer STARTTLS, reply 220 to it, then send plaintext instead of a handshake and close."""


def fleet_addresses(count: int, *, networks: int = 1, second_octet: int = 20) -> list[str]:
    """``count`` loopback addresses spread over ``networks`` /24 networks, round robin.

    Address ``i`` is host ``i // networks + 1`` of network ``i % networks``, the
    networks being 127.S.0.0/24, 127.S.1.0/24 and so on for S = ``second_octet``
    (continuing into S + 1 after 256 networks).
    """
    if not 1 <= networks <= 256 * (255 - second_octet):
        raise ValueError(f"invalid networks {networks!r}")
    if count > 254 * networks:
        raise ValueError(f"{count} addresses do not fit in {networks} /24 networks (254 each)")
    found = []
    for index in range(count):
        network, host = index % networks, index // networks + 1
        address = ipaddress.ip_address(f"127.{second_octet + network // 256}.{network % 256}.{host}")
        if address not in LOOPBACK:
            raise ValueError(f"fleet address {address} is outside 127.0.0.0/8")
        found.append(str(address))
    return found


class FleetSmtp(asyncio.Protocol):
    """One server-side SMTP connection that replies to each command line."""

    def __init__(self, options: FleetOptions, context: ssl.SSLContext | None) -> None:
        self._options = options
        self._context = context
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._in_tls = False
        self._upgrading = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self._options.greeting_delay > 0:
            asyncio.get_running_loop().call_later(self._options.greeting_delay, self._greet)
        else:
            self._greet()

    def _greet(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(f"220 {HOSTNAME} ESMTP fleet\r\n".encode())

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\n" in self._buffer and not self._upgrading:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._answer(line.rstrip(b"\r").decode("ascii", "replace"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def _answer(self, line: str) -> None:
        assert self._transport is not None
        verb = line.split(" ", 1)[0].upper()
        if verb == "EHLO":
            keywords = ["PIPELINING", "SIZE 10240000", "8BITMIME"]
            if (self._context is not None or self._options.broken_tls) and not self._in_tls:
                keywords.append("STARTTLS")
            lines = [HOSTNAME, *keywords]
            last = len(lines) - 1
            reply = "".join(f"250{'-' if i < last else ' '}{text}\r\n" for i, text in enumerate(lines))
        elif verb == "STARTTLS" and self._options.broken_tls:
            self._transport.write(b"220 2.0.0 Ready to start TLS\r\n421 4.7.0 no TLS here after all\r\n")
            self._transport.close()
            return
        elif verb == "STARTTLS" and self._context is not None and not self._in_tls:
            self._transport.write(b"220 2.0.0 Ready to start TLS\r\n")
            self._upgrading = True
            asyncio.get_running_loop().create_task(self._start_tls())
            return
        elif verb == "RCPT":
            reply = "554 5.7.1 Relay access denied\r\n"
        elif verb == "QUIT":
            self._transport.write(b"221 2.0.0 Bye\r\n")
            self._transport.close()
            return
        elif verb in ("HELO", "MAIL", "RSET", "NOOP"):
            reply = "250 2.0.0 Ok\r\n"
        else:
            reply = "502 5.5.2 Command not recognized\r\n"
        self._transport.write(reply.encode())

    async def _start_tls(self) -> None:
        assert self._transport is not None and self._context is not None
        loop = asyncio.get_running_loop()
        try:
            upgraded = await loop.start_tls(self._transport, self, self._context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError):
            if self._transport is not None:
                self._transport.abort()
            return
        if upgraded is None:
            return
        self._transport = upgraded
        self._in_tls = True
        self._upgrading = False
        # A client may send EHLO before start_tls returns here; it waits in the buffer.
        self.data_received(b"")


def _server_context(folder: Path) -> tuple[ssl.SSLContext, Path]:
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert(HOSTNAME)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    cafile = folder / "fleet-ca.pem"
    authority.cert_pem.write_to_path(str(cafile))
    return context, cafile


async def serve(addresses: list[str], port: int, options: FleetOptions, folder: Path,
                stop: asyncio.Event, ready: IO[str]) -> None:
    """Bind every address on one ``port`` (0: the first free one), report, then serve until ``stop``."""
    context, cafile = _server_context(folder) if options.tls else (None, None)
    loop = asyncio.get_running_loop()
    servers = []
    endpoints = []
    for address in addresses:
        server = await loop.create_server(lambda: FleetSmtp(options, context), address, port, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        servers.append(server)
        endpoints.append([address, port])
    ready.write(json.dumps({"endpoints": endpoints, "cafile": str(cafile) if cafile else None}) + "\n")
    ready.flush()
    await stop.wait()
    for server in servers:
        server.close()


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.buffer.read1(1) else None)
    options = FleetOptions(greeting_delay=args.delay, tls=args.tls, broken_tls=args.broken_tls)
    addresses = fleet_addresses(args.count, networks=args.networks, second_octet=args.second_octet)
    await serve(addresses, args.port, options, Path(args.folder), stop, sys.stdout)


@dataclass
class Fleet:
    """A running fleet process: its endpoints as ``(address, port)`` and the CA file for TLS."""

    process: subprocess.Popen[str]
    endpoints: list[tuple[str, int]]
    cafile: str | None
    folder: tempfile.TemporaryDirectory[str] = field(repr=False)

    def targets(self) -> list[str]:
        return [address for address, _ in self.endpoints]


@contextlib.contextmanager
def running_fleet(count: int, *, networks: int | None = None, second_octet: int = 20, port: int = 0,
                  delay: float = 0.0, tls: bool = False, broken_tls: bool = False,
                  timeout: float = 60.0) -> Iterator[Fleet]:
    """Start a fleet of ``count`` servers in a child process; stop it on exit.

    ``networks`` defaults to one /24 per 8 servers, so scans can be partitioned by network.
    """
    folder = tempfile.TemporaryDirectory(prefix="smtplab-fleet-")
    networks = networks or min(256, max(1, -(-count // 8)))
    command = [sys.executable, str(Path(__file__).resolve()), "--count", str(count),
               "--networks", str(networks), "--second-octet", str(second_octet), "--port", str(port),
               "--delay", str(delay), "--folder", folder.name]
    if tls:
        command.append("--tls")
    if broken_tls:
        command.append("--broken-tls")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = _read_line(process, timeout)
        ready: dict[str, Any] = json.loads(line)
        endpoints = [(address, int(number)) for address, number in ready["endpoints"]]
        yield Fleet(process, endpoints, ready["cafile"], folder)
    finally:
        _stop(process)
        folder.cleanup()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise RuntimeError(f"fleet did not start within {timeout:g} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"fleet exited with status {process.wait()} before it was ready")
    return line


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="number of servers (addresses)")
    parser.add_argument("--networks", type=int, default=1, help="/24 networks the addresses are spread over")
    parser.add_argument("--second-octet", type=int, default=20, help="S in the first network, 127.S.0.0/24")
    parser.add_argument("--port", type=int, default=0, help="port on every address (0: pick a free one)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each greeting")
    parser.add_argument("--tls", action="store_true", help="offer STARTTLS")
    parser.add_argument("--broken-tls", action="store_true",
                        help="offer STARTTLS but send plaintext instead of a TLS handshake")
    parser.add_argument("--folder", default=tempfile.gettempdir(), help="folder for the CA file")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
