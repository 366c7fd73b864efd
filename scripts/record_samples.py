"""Record the sample results in data/ from real mail servers on loopback.

Run as root on Debian 12 from the repository root::

    sudo .venv/bin/python scripts/record_samples.py            # all samples into data/
    sudo .venv/bin/python scripts/record_samples.py --only exim,lab

The script first fetches what it needs from Debian. Postfix and Cyrus SASL must be
installed already, as scripts/install-system-packages.sh does. Exim and OpenSMTPD
conflict with Postfix as packages, so their .deb files are downloaded with ``apt-get
download`` and unpacked with ``dpkg-deb -x`` into the work directory, and only their
libraries are installed. Then the script runs itself again inside new network and mount namespaces
(``unshare --net --mount``), where only a loopback interface exists, so neither the
servers nor the probes can reach another host. There it starts the servers on
127.0.0.x high ports, serves their names from a DNS responder of its own, probes each
server and saves the result with ``ProbeResult.save``.

CI never runs this script; data/README.md describes each file it writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
sys.path.insert(0, str(REPOSITORY / "tests"))

import dns.rrset  # noqa: E402
import trustme  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from smtplab import Credentials, ProbeConfig, ProbeResult, Secret, probe  # noqa: E402
from smtplab.lab import Lab  # noqa: E402
from smtplab.lab.nameserver import NameServer, start_nameserver  # noqa: E402
from smtplab.lab.zone import Zone  # noqa: E402

log = logging.getLogger("record_samples")

SAMPLES = ("postfix", "exim", "opensmtpd", "lab")
INSIDE_FLAG = "--inside-namespace"

EHLO_NAME = "client.smtplab.test"
POSTFIX_HOST = "mail.postfix.test"
POSTFIX_ADDRESS = "127.0.0.1"  # tests/postfix_server.py always listens there
EXIM_HOST = "mail.exim.test"
EXIM_ADDRESS = "127.0.0.21"
OPENSMTPD_HOST = "mail.opensmtpd.test"
OPENSMTPD_ADDRESS = "127.0.0.22"
SAMPLE_USER_PASSWORD = "sample-password-not-secret"
# Exim's certificate is self-signed and short-lived on purpose, so that its sample
# shows an unverified certificate close to expiry.
EXIM_CERTIFICATE_DAYS = 20

DEBIAN_DOWNLOADS = ("exim4-base", "exim4-daemon-light", "opensmtpd")
# The shared libraries of exim4-daemon-light and opensmtpd in Debian 12 (from their
# Depends fields), installed normally because they do not conflict with Postfix.
DEBIAN_LIBRARIES = (
    "libdb5.3", "libgnutls-dane0", "libgnutls30", "libidn12", "libidn2-0", "libnsl2",
    "libpcre2-8-0", "libevent-2.1-7", "libpam0g", "libssl3", "openssl",
)
APT_LOCK_TIMEOUT_SECONDS = 600
SERVER_START_TIMEOUT = 20.0


# Preparing packages (outside the namespaces, where the Debian mirror is reachable)


def prepare_packages(work_dir: Path) -> Path:
    """Download and unpack Exim and OpenSMTPD into ``work_dir/root``; return that root."""
    root = work_dir / "root"
    if (root / "usr/sbin/exim4").exists() and (root / "usr/sbin/smtpd").exists():
        return root
    downloads = work_dir / "debs"
    downloads.mkdir(parents=True, exist_ok=True)
    apt_lock = f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}"
    _run(["apt-get", "-o", apt_lock, "install", "-y", "-q", *DEBIAN_LIBRARIES])
    _run(["apt-get", "download", *DEBIAN_DOWNLOADS], cwd=downloads)
    for package in sorted(downloads.glob("*.deb")):
        _run(["dpkg-deb", "-x", str(package), str(root)])
    return root


def ensure_opensmtpd_users() -> None:
    """Create the system users that OpenSMTPD 6.8 drops privileges to, as its package would."""
    for user in ("opensmtpd", "opensmtpq"):
        if subprocess.run(["getent", "passwd", user], capture_output=True, check=False).returncode:
            _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
    Path("/var/lib/opensmtpd/empty").mkdir(parents=True, exist_ok=True)


def _run(command: list[str], *, cwd: Path | None = None, input_text: str | None = None) -> str:
    log.info("running %s", " ".join(command))
    result = subprocess.run(command, cwd=cwd, input=input_text, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip()
        raise RuntimeError(f"{command[0]} failed with exit status {result.returncode}: {detail}")
    return result.stdout


def enter_namespaces(argv: list[str]) -> int:
    """Run this script again in new network and mount namespaces with only loopback."""
    command = [
        "unshare", "--net", "--mount", "--propagation", "private", "--",
        sys.executable, str(Path(__file__).resolve()), INSIDE_FLAG, *argv,
    ]
    return subprocess.run(command, check=False).returncode


# DNS for the sample servers' names


@dataclass
class SampleDns:
    """A DNS responder for the sample names on its own event loop thread."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    server: NameServer

    @property
    def address(self) -> str:
        return self.server.address

    def stop(self) -> None:
        async def close() -> None:
            self.server.udp_transport.close()
            self.server.tcp_server.close()
            await self.server.tcp_server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def sample_zone() -> Zone:
    """A, PTR and MX records of the three sample servers."""
    entries = [
        (POSTFIX_HOST, POSTFIX_ADDRESS, "postfix.test"),
        (EXIM_HOST, EXIM_ADDRESS, "exim.test"),
        (OPENSMTPD_HOST, OPENSMTPD_ADDRESS, "opensmtpd.test"),
    ]
    records = {}
    for host, address, domain in entries:
        reverse = ".".join(reversed(address.split("."))) + ".in-addr.arpa."
        for owner, rdtype, text in (
            (host + ".", "A", address), (reverse, "PTR", host + "."), (domain + ".", "MX", f"10 {host}."),
        ):
            rrset = dns.rrset.from_text(owner, 300, "IN", rdtype, text)
            records[(rrset.name, rrset.rdtype)] = rrset
    return Zone(records=records, names=frozenset(name for name, _ in records))


def start_dns() -> SampleDns:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sample-dns", daemon=True)
    thread.start()
    future = asyncio.run_coroutine_threadsafe(start_nameserver(sample_zone(), set()), loop)
    return SampleDns(loop, thread, future.result(timeout=10))


# Certificates


def write_ca_signed(directory: Path, ca: trustme.CA, host: str) -> tuple[Path, Path]:
    leaf = ca.issue_cert(host)
    key, cert = directory / f"{host}.key", directory / f"{host}.crt"
    leaf.private_key_pem.write_to_path(str(key))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    return key, cert


def write_self_signed(directory: Path, host: str, days: int) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{host}.key", directory / f"{host}.crt"
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


# Running servers


def free_ports(address: str, count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((address, 0))
        return [sock.getsockname()[1] for sock in sockets]


def wait_for_banner(address: str, port: int, *, implicit_tls: bool = False) -> None:
    """Wait until the port sends a 220 greeting (or, for implicit TLS, accepts TCP)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=2) as sock:
                if implicit_tls:
                    return
                if sock.recv(512).startswith(b"220"):
                    return
        except OSError as error:
            last_error = error
        time.sleep(0.2)
    raise RuntimeError(f"no greeting on {address}:{port} after {SERVER_START_TIMEOUT} s: {last_error}")


@contextlib.contextmanager
def running(command: list[str], log_file: Path, endpoints: list[tuple[str, int, bool]]) -> Iterator[None]:
    """Run a server in the foreground of a child process until the block ends."""
    with log_file.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        for address, port, implicit_tls in endpoints:
            wait_for_banner(address, port, implicit_tls=implicit_tls)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# The samples


@dataclass
class Recorder:
    output: Path
    work_dir: Path
    packages: Path | None
    dns_address: str

    def config(self, cafile: Path | None) -> ProbeConfig:
        return ProbeConfig(
            nameserver=self.dns_address, cafile=str(cafile) if cafile else None,
            ehlo_name=EHLO_NAME, reply_timeout=5.0, probe_timeout=30.0,
        )

    def save(self, result: ProbeResult, name: str) -> None:
        # The CA file lives in a temporary folder of the recording machine: keep its name only.
        cafile = result.run.config.get("cafile")
        if cafile:
            result.run.config["cafile"] = Path(cafile).name
        path = result.save(self.output / name)
        log.info("wrote %s (%d endpoints, %d bytes)", path, len(result.run.endpoints), path.stat().st_size)


def record_postfix(recorder: Recorder) -> None:
    """Record Postfix as tests/postfix_server.py configures it, and a misconfigured variant.

    ``postfix-before.jsonl``: ``smtpd_tls_auth_only = no`` and port 465 without
    ``smtpd_tls_wrappermode``, so it speaks plaintext SMTP. ``postfix.jsonl``: the same
    instance after the fix, reloaded with the test configuration.
    """
    from postfix_server import start_postfix, stop_postfix

    server = start_postfix()
    try:
        credentials = Credentials(server.username, Secret(server.password))
        ports = [f"{server.ports['smtp']}/starttls", f"{server.ports['submission']}/starttls",
                 f"{server.ports['smtps']}/tls"]
        config = recorder.config(server.cafile)
        master_cf = server.config_dir / "master.cf"
        fixed_master = master_cf.read_text()

        _postconf(server.config_dir, "smtpd_tls_auth_only=no")
        _write_backdated(master_cf, fixed_master.replace("  -o smtpd_tls_wrappermode=yes\n", ""))
        _reload_postfix(server.config_dir)
        before = probe(POSTFIX_HOST, ports=ports, config=config, credentials=credentials)
        recorder.save(before, "postfix-before.jsonl")

        _postconf(server.config_dir, "smtpd_tls_auth_only=yes")
        _write_backdated(master_cf, fixed_master)
        _reload_postfix(server.config_dir)
        after = probe(POSTFIX_HOST, ports=ports, config=config, credentials=credentials)
        recorder.save(after, "postfix.jsonl")
    finally:
        stop_postfix(server)


def _postconf(config_dir: Path, setting: str) -> None:
    _run(["/usr/sbin/postconf", "-c", str(config_dir), "-e", setting])
    main_cf = config_dir / "main.cf"
    _write_backdated(main_cf, main_cf.read_text())


def _write_backdated(path: Path, text: str) -> None:
    # Postfix waits until a configuration file is a second old before reading it.
    path.write_text(text)
    backdated = time.time() - 60
    os.utime(path, (backdated, backdated))


def _reload_postfix(config_dir: Path) -> None:
    _run(["/usr/sbin/postfix", "-c", str(config_dir), "reload"])
    # Idle smtpd processes of the old configuration exit soon after the reload.
    # NOTE: this wait is an estimate, so check in the saved transcripts which
    # configuration the server used.
    time.sleep(3)


# Exim expands "$" and braces itself, so the placeholders here are @NAME@ words.
EXIM_CONFIG = """\
# Written by scripts/record_samples.py.
primary_hostname = @HOST@
qualify_domain = exim.test
local_interfaces = @ADDRESS@
daemon_smtp_ports = @SMTP@ : @SUBMISSION@ : @SMTPS@
tls_on_connect_ports = @SMTPS@
exim_user = nobody
exim_group = nogroup
never_users = root
spool_directory = @WORK@/spool
log_file_path = @WORK@/log/%slog
pid_file_path = @WORK@/exim.pid
host_lookup =
rfc1413_hosts =
tls_advertise_hosts = *
tls_certificate = @CERT@
tls_privatekey = @KEY@
# AUTH only inside TLS, and never on the port in the role of 25.
auth_advertise_hosts = ${if or{{eq{$tls_in_cipher}{}}{eq{$received_port}{@SMTP@}}}{}{*}}
domainlist local_domains = exim.test
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl
acl_check_rcpt:
  accept domains = +local_domains
  accept authenticated = *
  deny message = Relay not permitted
acl_check_data:
  deny message = this sample server accepts no mail

begin routers
begin transports
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and{{eq{$auth2}{@USER@}}{eq{$auth3}{@PASSWORD@}}}}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and{{eq{$auth1}{@USER@}}{eq{$auth2}{@PASSWORD@}}}}
  server_set_id = $auth1
"""


def record_exim(recorder: Recorder) -> None:
    """Record Exim 4.96 (GnuTLS) with a self-signed certificate and AUTH only inside TLS."""
    assert recorder.packages is not None
    work = Path(tempfile.mkdtemp(prefix="smtplab-exim-", dir=recorder.work_dir))
    work.chmod(0o755)
    for name in ("spool", "log"):
        (work / name).mkdir()
        shutil.chown(work / name, "nobody", "nogroup")
    key, cert = write_self_signed(work, EXIM_HOST, EXIM_CERTIFICATE_DAYS)
    key.chmod(0o644)  # Exim reads the key after dropping privileges to nobody
    smtp, submission, smtps = free_ports(EXIM_ADDRESS, 3)
    user = "tester@exim.test"
    values = {
        "HOST": EXIM_HOST, "ADDRESS": EXIM_ADDRESS, "SMTP": smtp, "SUBMISSION": submission,
        "SMTPS": smtps, "WORK": work, "CERT": cert, "KEY": key, "USER": user,
        "PASSWORD": SAMPLE_USER_PASSWORD,
    }
    text = EXIM_CONFIG
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    config_file = work / "exim.conf"
    config_file.write_text(text)
    command = [str(recorder.packages / "usr/sbin/exim4"), "-C", str(config_file), "-bdf"]
    endpoints = [(EXIM_ADDRESS, smtp, False), (EXIM_ADDRESS, submission, False), (EXIM_ADDRESS, smtps, True)]
    with running(command, work / "exim.out", endpoints):
        result = probe(
            EXIM_HOST, ports=[f"{smtp}/starttls", f"{submission}/starttls", f"{smtps}/tls"],
            config=recorder.config(None), credentials=Credentials(user, Secret(SAMPLE_USER_PASSWORD)),
        )
    recorder.save(result, "exim.jsonl")


OPENSMTPD_CONFIG = """\
# Written by scripts/record_samples.py.
pki {host} cert "{cert}"
pki {host} key "{key}"
table creds file:{creds}
listen on {address} port {smtp} tls pki {host} hostname {host}
listen on {address} port {submission} tls-require pki {host} hostname {host} auth <creds>
listen on {address} port {smtps} smtps pki {host} hostname {host} auth <creds>
action "local" mbox
match from any for domain "opensmtpd.test" action "local"
"""


def record_opensmtpd(recorder: Recorder, ca: trustme.CA, cafile: Path) -> None:
    """Record OpenSMTPD 6.8, whose TLS handshakes fail with Debian 12's OpenSSL 3."""
    assert recorder.packages is not None
    ensure_opensmtpd_users()
    work = Path(tempfile.mkdtemp(prefix="smtplab-opensmtpd-", dir=recorder.work_dir))
    work.chmod(0o755)
    key, cert = write_ca_signed(work, ca, OPENSMTPD_HOST)
    key.chmod(0o600)
    user = "tester@opensmtpd.test"
    hashed = _run(["openssl", "passwd", "-6", "-stdin"], input_text=SAMPLE_USER_PASSWORD).strip()
    creds = work / "creds"
    creds.write_text(f"{user} {hashed}\n")
    creds.chmod(0o640)
    smtp, submission, smtps = free_ports(OPENSMTPD_ADDRESS, 3)
    config_file = work / "smtpd.conf"
    config_file.write_text(OPENSMTPD_CONFIG.format(
        host=OPENSMTPD_HOST, cert=cert, key=key, creds=creds, address=OPENSMTPD_ADDRESS,
        smtp=smtp, submission=submission, smtps=smtps,
    ))
    # OpenSMTPD's spool and control socket paths are built in, so a mount namespace
    # of its own gives it empty ones without touching the system's.
    spool, run_dir = work / "spool", work / "run"
    spool.mkdir(mode=0o711)
    spool.chmod(0o711)
    run_dir.mkdir()
    smtpd = recorder.packages / "usr/sbin/smtpd"
    inner = (f"mount --bind {spool} /var/spool/smtpd && mount --bind {run_dir} /run && "
             f"exec {smtpd} -d -f {config_file}")
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner]
    endpoints = [(OPENSMTPD_ADDRESS, smtp, False), (OPENSMTPD_ADDRESS, submission, False),
                 (OPENSMTPD_ADDRESS, smtps, True)]
    with running(command, work / "smtpd.out", endpoints):
        result = probe(
            OPENSMTPD_HOST, ports=[f"{smtp}/starttls", f"{submission}/starttls", f"{smtps}/tls"],
            config=recorder.config(cafile), credentials=Credentials(user, Secret(SAMPLE_USER_PASSWORD)),
        )
    recorder.save(result, "opensmtpd.jsonl")


def record_lab(recorder: Recorder) -> None:
    """Record the embedded lab's broken server, and its healthy server with a login."""
    with Lab() as lab:
        config = ProbeConfig(nameserver=lab.nameserver, cafile=str(lab.cafile), ehlo_name=EHLO_NAME,
                             reply_timeout=5.0, probe_timeout=30.0)
        broken, healthy = lab.servers["broken"], lab.servers["healthy"]
        recorder.save(probe(broken.host, ports=broken.endpoints, config=config), "lab-broken.jsonl")
        assert healthy.username is not None and healthy.password is not None
        credentials = Credentials(healthy.username, Secret(healthy.password))
        result = probe(healthy.host, ports=healthy.endpoints, config=config, credentials=credentials)
        recorder.save(result, "lab-healthy.jsonl")


def log_versions(packages: Path | None) -> None:
    """Log the server versions, for data/README.md."""
    commands = [["/usr/sbin/postconf", "-d", "-h", "mail_version"]]
    if packages is not None:
        commands += [[str(packages / "usr/sbin/exim4"), "-bV"], [str(packages / "usr/sbin/smtpd"), "-h"]]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        first = (result.stdout or result.stderr).strip().splitlines()
        log.info("%s: %s", Path(command[0]).name, first[0] if first else "no output")
    log.info("OpenSSL: %s", ssl.OPENSSL_VERSION)


def record(args: argparse.Namespace) -> None:
    _run(["ip", "link", "set", "lo", "up"])
    work_dir = Path(args.work_dir)
    packages = work_dir / "root" if {"exim", "opensmtpd"} & set(args.only) else None
    log_versions(packages)
    dns_server = start_dns()
    try:
        ca = trustme.CA(organization_name="smtplab samples")
        cafile = work_dir / "samples-ca.pem"
        ca.cert_pem.write_to_path(str(cafile))
        recorder = Recorder(Path(args.output), work_dir, packages, dns_server.address)
        if "postfix" in args.only:
            record_postfix(recorder)
        if "exim" in args.only:
            record_exim(recorder)
        if "opensmtpd" in args.only:
            record_opensmtpd(recorder, ca, cafile)
        if "lab" in args.only:
            record_lab(recorder)
    finally:
        dns_server.stop()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(REPOSITORY / "data"), help="directory for the .jsonl files")
    parser.add_argument("--work-dir", default="/var/tmp/smtplab-samples",
                        help="directory for the unpacked packages and the servers' files")
    parser.add_argument("--only", default=",".join(SAMPLES),
                        help=f"comma-separated samples to record, from {', '.join(SAMPLES)}")
    parser.add_argument(INSIDE_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [name for name in re.split(r"[,\s]+", args.only) if name]
    unknown = sorted(set(args.only) - set(SAMPLES))
    if unknown:
        parser.error(f"unknown samples {unknown}: choose from {', '.join(SAMPLES)}")
    return args


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    args = parse_args(argv)
    if os.geteuid() != 0:
        log.error("run as root: the servers and the namespaces need it")
        return 2
    if args.inside_namespace:
        record(args)
        return 0
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    Path(args.output).mkdir(parents=True, exist_ok=True)
    if {"exim", "opensmtpd"} & set(args.only):
        prepare_packages(Path(args.work_dir))
    return enter_namespaces(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
