"""A real DNS server for tests: unbound on a loopback high port, serving the test zones only.

unbound answers from ``local-data`` lines generated from master-file zones. It can
never recurse: the root zone is refused (``local-zone: "." refuse``), the only
root hint is 127.0.0.1, and ``do-not-query-localhost`` keeps it from asking even
that. Zones are served under ``local-zone ... static``, so names that are not
in them get NXDOMAIN or an empty answer, as from a real authoritative server.

A signed zone is signed here with a fresh ECDSA key and loaded as an ``auth-zone``
that only unbound's own iterator reads (``for-upstream``). Its key is the trust
anchor, so the validator checks every answer from it and sets the AD flag, the
way a validating resolver answers for a signed domain.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import dns.dnssec
import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

ZONE_DIR = Path(__file__).parent / "data" / "zones"
START_TIMEOUT = 15.0
STATIC_ZONES = ("test.", "0.0.127.in-addr.arpa.")
SIGNATURE_LIFETIME = 7 * 86400
"""Seconds the signatures of a signed zone stay valid, far longer than a test run."""
_PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")


@dataclass
class UnboundServer:
    """A running unbound; ``nameserver`` is ``"127.0.0.1:PORT"`` for ``ProbeConfig``."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        path = self.directory / "unbound.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def find_unbound() -> str | None:
    return shutil.which("unbound") or (("/usr/sbin/unbound") if Path("/usr/sbin/unbound").exists() else None)


def fill_placeholders(text: str, values: Mapping[str, object]) -> str:
    """Replace each ``{{NAME}}``; a placeholder without a value raises KeyError."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"zone placeholder {{{{{name}}}}} has no value")
        return str(values[name])

    return _PLACEHOLDER.sub(replace, text)


def local_data(zone_text: str) -> list[str]:
    """The ``local-data`` lines of a master-file zone, one per record."""
    zone = dns.zone.from_text(zone_text, origin=dns.name.root, relativize=False, check_origin=False)
    lines = []
    for name, ttl, rdata in zone.iterate_rdatas():
        rdtype = dns.rdatatype.to_text(rdata.rdtype)
        record = f"{name.to_text()} {ttl} IN {rdtype} {rdata.to_text()}"
        if "'" in record:
            raise ValueError(f"record {record!r} contains a single quote, which local-data cannot hold")
        lines.append(f"    local-data: '{record}'")
    return lines


@dataclass(frozen=True)
class SignedZone:
    """A zone signed for the validator: its origin, signed master file and trust anchor (DS)."""

    origin: str
    text: str
    ds: str


def sign_zone(zone_text: str) -> SignedZone:
    """Sign a master-file zone (with SOA and NS at its origin) with a new ECDSA P-256 key."""
    zone = dns.zone.from_text(zone_text, relativize=False)
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
    with zone.writer() as transaction:
        transaction.add(zone.origin, 300, dnskey)
        dns.dnssec.sign_zone(zone, txn=transaction, keys=[(key, dnskey)], lifetime=SIGNATURE_LIFETIME)
    ds = dns.dnssec.make_ds(zone.origin, dnskey, "SHA256")
    return SignedZone(zone.origin.to_text(), zone.to_text(), ds.to_text())


def write_config(
    directory: Path, port: int, zone_texts: Iterable[str], signed: Iterable[SignedZone] = ()
) -> Path:
    data = [line for text in zone_texts for line in local_data(text)]
    signed = list(signed)
    (directory / "root.hints").write_text(
        ". 3600 IN NS a.root.invalid.\na.root.invalid. 3600 IN A 127.0.0.1\n"
    )
    auth_zones: list[str] = []
    for index, zone in enumerate(signed):
        path = directory / f"signed-{index}.zone"
        path.write_text(zone.text, encoding="utf-8")
        auth_zones += [
            "auth-zone:",
            f'    name: "{zone.origin}"',
            f'    zonefile: "{path}"',
            "    for-upstream: yes",
            "    for-downstream: no",
            "    fallback-enabled: no",
        ]
    config = "\n".join(
        [
            "server:",
            "    interface: 127.0.0.1",
            f"    port: {port}",
            "    do-ip6: no",
            "    do-daemonize: no",
            '    username: ""',
            '    chroot: ""',
            f'    directory: "{directory}"',
            f'    pidfile: "{directory}/unbound.pid"',
            f'    logfile: "{directory}/unbound.log"',
            "    use-syslog: no",
            "    verbosity: 1",
            "    num-threads: 1",
            "    so-reuseport: no",
            "    access-control: 127.0.0.0/8 allow",
            f'    root-hints: "{directory}/root.hints"',
            "    do-not-query-localhost: yes",
            "    trust-anchor-signaling: no",
            "    root-key-sentinel: no",
            '    module-config: "validator iterator"',
            '    local-zone: "." refuse',
            *[f'    local-zone: "{zone}" static' for zone in STATIC_ZONES],
            *[f'    local-zone: "{zone.origin}" transparent' for zone in signed],
            *[f'    trust-anchor: "{zone.origin} DS {zone.ds}"' for zone in signed],
            *data,
            *auth_zones,
            "remote-control:",
            "    control-enable: no",
            "",
        ]
    )
    path = directory / "unbound.conf"
    path.write_text(config, encoding="utf-8")
    return path


def zone_texts(values: Mapping[str, object], pattern: str = "*.zone") -> list[str]:
    """The test zones from ``ZONE_DIR`` matching ``pattern``, with their placeholders filled in."""
    return [
        fill_placeholders(path.read_text(encoding="utf-8"), values) for path in sorted(ZONE_DIR.glob(pattern))
    ]


def start_unbound(texts: Iterable[str], signed: Iterable[str] = (), port: int | None = None) -> UnboundServer:
    """Start unbound on 127.0.0.1 for the given zone texts, signing those in ``signed`` first.

    ``port`` defaults to a free one. Raises RuntimeError with unbound's log when it fails to start.
    """
    binary = find_unbound()
    if binary is None:
        raise RuntimeError("unbound not found; apt-get install unbound")
    directory = Path(tempfile.mkdtemp(prefix="smtplab-unbound-"))
    port = port or _free_port()
    config = write_config(directory, port, texts, [sign_zone(text) for text in signed])
    check = subprocess.run([_checkconf(binary), str(config)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"unbound-checkconf rejected {config}: {check.stdout}{check.stderr}")
    process = subprocess.Popen(
        [binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = UnboundServer(process, port, directory)
    try:
        _wait_ready(server)
    except BaseException:
        stop_unbound(server)
        raise
    return server


def stop_unbound(server: UnboundServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    if server.process.stderr is not None:
        server.process.stderr.close()
    shutil.rmtree(server.directory, ignore_errors=True)


def _checkconf(binary: str) -> str:
    return str(Path(binary).with_name("unbound-checkconf"))


def _free_port() -> int:
    """A port free for UDP and TCP on 127.0.0.1 right now (unbound binds both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port on 127.0.0.1 for unbound")


def _wait_ready(server: UnboundServer) -> None:
    query = dns.message.make_query("good.test.", "MX")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            stderr = server.process.stderr.read().decode(errors="replace") if server.process.stderr else ""
            raise RuntimeError(
                f"unbound exited with status {server.process.returncode}: {stderr}{server.log}"
            )
        try:
            dns.query.udp(query, "127.0.0.1", port=server.port, timeout=0.5)
            return
        except (dns.exception.Timeout, OSError):
            time.sleep(0.1)
    raise RuntimeError(
        f"unbound did not answer on port {server.port} within {START_TIMEOUT:g} s: {server.log}"
    )
