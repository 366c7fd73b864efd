"""Real mail servers on loopback for the benchmarks: Postfix (from the tests) and Exim.

Exim conflicts with Postfix as a Debian package, so its ``.deb`` is downloaded
with ``apt-get download`` and unpacked into a folder of its own. It uses the
libraries that Debian already has installed. It runs from its own configuration as a
daemon on 127.0.0.1, offers STARTTLS and denies every recipient, so it can
never deliver mail.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIM_PACKAGE = "exim4-daemon-light"
EXIM_HOSTNAME = "exim.smtplab.test"


@dataclass(frozen=True)
class EximServer:
    host: str
    port: int
    cafile: Path


def exim_binary(cache: Path) -> Path:
    """Return the unpacked ``exim4`` binary, downloading and unpacking the package once."""
    binary = cache / "root" / "usr" / "sbin" / "exim4"
    if binary.exists():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", EXIM_PACKAGE], cwd=cache, check=True, capture_output=True)
    package = next(cache.glob(f"{EXIM_PACKAGE}_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(package), str(cache / "root")], check=True)
    return binary


def _exim_config(folder: Path, port: int) -> str:
    return f"""keep_environment =
primary_hostname = {EXIM_HOSTNAME}
exim_user = nobody
exim_group = nogroup
never_users =
spool_directory = {folder}/spool
log_file_path = {folder}/log/%slog
pid_file_path = {folder}/exim.pid
local_interfaces = <; 127.0.0.1.{port}
daemon_smtp_ports = {port}
tls_advertise_hosts = *
tls_certificate = {folder}/cert.pem
tls_privatekey = {folder}/key.pem
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  deny message = Relay access denied
begin routers
begin transports
"""


@contextlib.contextmanager
def running_exim(cache: Path, port: int) -> Iterator[EximServer]:
    """Run an Exim daemon on 127.0.0.1:``port`` until the block ends."""
    import trustme

    binary = exim_binary(cache)
    folder = Path(tempfile.mkdtemp(prefix="smtplab-exim-"))
    folder.chmod(0o755)
    for name in ("spool", "log"):
        (folder / name).mkdir(mode=0o777)
        (folder / name).chmod(0o777)
    authority = trustme.CA()
    certificate = authority.issue_cert(EXIM_HOSTNAME)
    certificate.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    certificate.private_key_pem.write_to_path(str(folder / "key.pem"))
    (folder / "key.pem").chmod(0o644)
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    (folder / "exim.conf").write_text(_exim_config(folder, port))
    process = subprocess.Popen([str(binary), "-C", str(folder / "exim.conf"), "-bd"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_pid_file(folder / "exim.pid", process)
        yield EximServer("127.0.0.1", port, folder / "ca.pem")
    finally:
        _stop_exim(folder / "exim.pid", process)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_pid_file(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            time.sleep(0.2)
            return
        if process.poll() is not None and not path.exists():
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"exim did not start: {error}")
        time.sleep(0.05)
    raise RuntimeError("exim wrote no pid file within 10 s")


def _stop_exim(pid_file: Path, process: subprocess.Popen[bytes]) -> None:
    """Stop the daemon by the process id it wrote, then reap the launcher."""
    import os
    import signal

    if pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


def postfix_module() -> object:
    """Import the tests' Postfix runner (tests/postfix_server.py)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import postfix_server

    return postfix_server
