"""Run a throwaway Postfix instance on 127.0.0.1 for integration tests.

Each instance gets its own configuration, queue and data directories under a fresh
temporary directory, so it never reads or changes /etc/postfix and parallel runs do
not collide. It listens on three free high ports:

- ``smtp`` (the role of port 25): STARTTLS offered, no AUTH.
- ``submission`` (the role of port 587): STARTTLS offered, SASL AUTH (PLAIN, LOGIN)
  offered only after STARTTLS.
- ``smtps`` (the role of port 465): implicit TLS, SASL AUTH offered.

Only SASL-authenticated clients may relay. Everyone else gets "554 5.7.1 Relay access
denied". The local recipients are ``postmaster`` and ``tester`` in ``postfix.test``
and ``mail.postfix.test``. Mail is never delivered. Every accepted message stays in
the queue, where tests can list it, because all transports are deferred and master.cf
defines no SMTP or LMTP client. Postfix makes no DNS or NIS lookups and does not look
up the names of connecting clients.

Postfix has to be started as root: its daemons drop privileges to the ``postfix``
user. Tested with Debian 12's postfix 3.7 and Cyrus SASL 2.1.28.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import json
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import trustme

logger = logging.getLogger(__name__)

HOSTNAME = "mail.postfix.test"
DOMAIN = "postfix.test"
SASL_USER = "tester"
LISTENER_NAMES = ("smtp", "submission", "smtps")
SASL_MECHANISMS = ("PLAIN", "LOGIN")
REQUIRED_COMMANDS = ("postfix", "postconf", "postqueue", "postsuper", "saslpasswd2", "saslpluginviewer")

# Debian installs the Postfix and Cyrus SASL commands in /usr/sbin, which is not on
# every user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/sbin")
_START_ATTEMPTS = 3
_PORT_IN_USE_MARKER = "Address already in use"


class PostfixError(RuntimeError):
    """A Postfix command failed, or the instance did not become ready in time."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PostfixServer:
    """A running Postfix instance and the credentials to use it.

    ``ports`` maps each name in ``LISTENER_NAMES`` to its TCP port on ``host``.
    ``cafile`` is the PEM file of the test CA that signed the server certificate,
    which is valid for ``HOSTNAME`` only (not for the IP address).
    ``username`` and ``password`` log in by SASL PLAIN or LOGIN.
    """

    host: str
    ports: Mapping[str, int]
    cafile: Path
    username: str
    password: str
    base_dir: Path
    config_dir: Path
    queue_dir: Path
    data_dir: Path
    maillog_file: Path

    def queued_messages(self) -> list[dict[str, Any]]:
        """Return the messages in the queue, one ``postqueue -j`` record each."""
        return list_queued_messages(self.config_dir)

    def delete_queued_messages(self) -> None:
        """Delete every message in the queue (``postsuper -d ALL``)."""
        _run_checked([str(_require_command("postsuper")), "-c", str(self.config_dir), "-d", "ALL"])

    def read_maillog(self) -> str:
        """Return the Postfix log so far, or an empty string if there is none yet."""
        return _read_text(self.maillog_file)


def find_command(name: str) -> Path | None:
    """Return the path of a Postfix or Cyrus SASL command, or None if not installed."""
    search_path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN_DIRS])
    found = shutil.which(name, path=search_path)
    return Path(found) if found else None


def find_missing_sasl_mechanisms() -> list[str]:
    """Return the names in SASL_MECHANISMS that the Cyrus SASL server library lacks.

    Debian ships the PLAIN and LOGIN plugins in libsasl2-modules. Without them smtpd
    starts normally but offers no AUTH mechanism.
    """
    output = _run_checked([str(_require_command("saslpluginviewer")), "-s"])
    available = set(re.findall(r"SASL mechanism: ([A-Z0-9-]+),", output))
    return [name for name in SASL_MECHANISMS if name not in available]


def start_postfix(*, startup_timeout: float = 30.0) -> PostfixServer:
    """Build a Postfix instance in a new temporary directory and start it.

    Returns once every listener has sent its SMTP banner (over TLS for ``smtps``).
    Raises PostfixError with the Postfix log when a command fails or the listeners
    are not ready within ``startup_timeout`` seconds. Nothing is left running or on
    disk when it raises.
    """
    base_dir = Path(tempfile.mkdtemp(prefix="smtplab-postfix-"))
    try:
        server = _build_instance(base_dir)
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
    try:
        return _start_with_free_ports(server, startup_timeout)
    except BaseException:
        # The error message already contains the maillog, so the files can go.
        stop_postfix(server)
        raise


def stop_postfix(server: PostfixServer, *, timeout: float = 15.0, remove_files: bool = True) -> None:
    """Stop the instance, kill any of its processes still alive, then delete its files.

    ``postfix stop`` itself waits up to five seconds before it kills the master's
    process group. After ``timeout`` seconds every process whose working directory
    is this instance's queue directory gets SIGKILL.
    """
    started = time.monotonic()
    if _instance_pids(server.queue_dir):
        try:
            _run_postfix(server, "stop", timeout=timeout)
        except PostfixError as error:
            logger.warning("postfix stop failed, killing the processes instead: %s", error)
    remaining = max(0.0, timeout - (time.monotonic() - started))
    if not _wait_for_exit(server.queue_dir, remaining):
        _kill_instance_processes(server.queue_dir)
    if remove_files:
        shutil.rmtree(server.base_dir, ignore_errors=True)
    logger.info("Postfix in %s stopped after %.2f s", server.base_dir, time.monotonic() - started)


@contextlib.contextmanager
def running_postfix(*, startup_timeout: float = 30.0) -> Iterator[PostfixServer]:
    """Start an instance for the duration of a ``with`` block and stop it afterwards."""
    server = start_postfix(startup_timeout=startup_timeout)
    try:
        yield server
    finally:
        stop_postfix(server)


def list_queued_messages(config_dir: Path) -> list[dict[str, Any]]:
    """Return the queued messages of the instance configured in ``config_dir``.

    Each item is one JSON record of ``postqueue -j`` (keys such as ``queue_name``,
    ``queue_id``, ``sender`` and ``recipients``). ``postqueue -c`` with a
    non-default directory is allowed for root only.
    """
    output = _run_checked([str(_require_command("postqueue")), "-c", str(config_dir), "-j"])
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# Building the instance


def _build_instance(base_dir: Path) -> PostfixServer:
    # The daemons run as the postfix user and open the sasldb through this path, so
    # the directory must be searchable by others (mkdtemp creates it with mode 0700).
    base_dir.chmod(0o755)
    config_dir = base_dir / "config"
    queue_dir = base_dir / "queue"
    data_dir = base_dir / "data"
    for directory in (config_dir, config_dir / "sasl", config_dir / "tls", queue_dir):
        directory.mkdir(mode=0o755)
    data_dir.mkdir(mode=0o700)
    os.chown(data_dir, pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid)

    cafile = _write_certificates(base_dir, config_dir / "tls")
    password = secrets.token_urlsafe(18)
    _write_sasl_config(config_dir / "sasl", password)

    return PostfixServer(
        host="127.0.0.1",
        ports=MappingProxyType({}),
        cafile=cafile,
        username=f"{SASL_USER}@{DOMAIN}",
        password=password,
        base_dir=base_dir,
        config_dir=config_dir,
        queue_dir=queue_dir,
        data_dir=data_dir,
        maillog_file=base_dir / "maillog",
    )


def _write_certificates(base_dir: Path, tls_dir: Path) -> Path:
    ca = trustme.CA()
    cafile = base_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))

    # smtpd_tls_chain_files takes the private key first, then the certificate chain.
    chain_file = tls_dir / "server.pem"
    chain_file.touch(mode=0o600)
    ca.issue_cert(HOSTNAME).private_key_and_cert_chain_pem.write_to_path(str(chain_file))
    return cafile


def _write_sasl_config(sasl_dir: Path, password: str) -> None:
    sasldb = sasl_dir / "sasldb2"
    saslpasswd2 = str(_require_command("saslpasswd2"))
    # -p reads the password from standard input, so it never appears in a process list.
    _run_checked([saslpasswd2, "-p", "-c", "-f", str(sasldb), "-u", DOMAIN, SASL_USER], input_text=password)
    # smtpd reads the sasldb after dropping privileges to the postfix user.
    os.chown(sasldb, 0, grp.getgrnam("postfix").gr_gid)
    sasldb.chmod(0o640)

    smtpd_conf = f"""\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: {" ".join(SASL_MECHANISMS)}
sasldb_path: {sasldb}
"""
    (sasl_dir / "smtpd.conf").write_text(smtpd_conf)


def _main_cf(server: PostfixServer) -> str:
    config_dir = server.config_dir
    return f"""\
# Generated by tests/postfix_server.py for one test run.
compatibility_level = 3.6
queue_directory = {server.queue_dir}
data_directory = {server.data_dir}
maillog_file = {server.maillog_file}
maillog_file_prefixes = {server.base_dir}

myhostname = {HOSTNAME}
mydomain = {DOMAIN}
myorigin = $myhostname
mydestination = $myhostname, $mydomain, localhost
inet_interfaces = {server.host}
inet_protocols = ipv4

# No DNS or NIS lookups, and no reverse lookup of connecting clients.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =

# Never deliver, and keep every accepted message visible in the queue. "nodelivery" is
# not a master.cf service, and defer_transports keeps the queue manager from even
# trying it. The transport names "error" and "retry" would not work, because smtpd
# rejects recipients that resolve to them at RCPT time (550 or 450). That would hide
# that authenticated clients may relay.
default_transport = nodelivery
relay_transport = nodelivery
local_transport = nodelivery
virtual_transport = nodelivery
defer_transports = nodelivery
local_recipient_maps = inline:{{ postmaster=ok, {SASL_USER}=ok }}
biff = no

# mynetworks is empty, so a client on 127.0.0.1 may relay only after it logs in.
mynetworks =
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination

smtpd_tls_security_level = may
smtpd_tls_chain_files = {config_dir}/tls/server.pem
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {config_dir}/sasl
"""


def _master_cf(ports: Mapping[str, int], host: str) -> str:
    # No service runs chrooted, because a chroot jail would need copies of the sasldb
    # and of system files inside the queue directory.
    return f"""\
# Generated by tests/postfix_server.py for one test run.
# service    type  private unpriv chroot wakeup maxproc command
{host}:{ports["smtp"]} inet n - n - - smtpd
  -o syslog_name=postfix/smtp
{host}:{ports["submission"]} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
{host}:{ports["smtps"]} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n - - trivial-rewrite
bounce     unix  - - n - 0 bounce
defer      unix  - - n - 0 bounce
trace      unix  - - n - 0 bounce
verify     unix  - - n - 1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
showq      unix  n - n - - showq
error      unix  - - n - - error
retry      unix  - - n - - error
discard    unix  - - n - - discard
anvil      unix  - - n - 1 anvil
scache     unix  - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


# Starting


def _start_with_free_ports(server: PostfixServer, startup_timeout: float) -> PostfixServer:
    """Start the instance, picking new ports when another process took one first.

    The ports are free when picked but only bound later by the Postfix master, so a
    busy machine can take one in between.
    """
    _write_config_file(server.config_dir / "main.cf", _main_cf(server))
    for attempt in range(1, _START_ATTEMPTS + 1):
        picked = zip(LISTENER_NAMES, _pick_free_ports(server.host), strict=True)
        ports = MappingProxyType(dict(picked))
        server = dataclasses.replace(server, ports=ports)
        _write_config_file(server.config_dir / "master.cf", _master_cf(ports, server.host))
        # Earlier attempts stay in the maillog, so each attempt checks only its own lines.
        log_offset = len(server.read_maillog())
        try:
            _start_and_wait(server, startup_timeout, log_offset)
        except PostfixError:
            port_in_use = _PORT_IN_USE_MARKER in server.read_maillog()[log_offset:]
            if attempt == _START_ATTEMPTS or not port_in_use:
                raise
            logger.warning("Postfix start attempt %d found a port in use, retrying", attempt)
            _kill_instance_processes(server.queue_dir)
            continue
        return server
    raise AssertionError("unreachable: the last attempt returns or raises")


def _write_config_file(path: Path, text: str) -> None:
    path.write_text(text)
    # Postfix rereads a configuration file every 0.3 s until its mtime is at least a
    # second older than the start of the read, to avoid reading a half-written file
    # (dict_load_file in Postfix's util library). Without the backdating, each postfix
    # command run right after writing the file waited about 2 s.
    backdated = time.time() - 60
    os.utime(path, (backdated, backdated))


def _pick_free_ports(host: str) -> list[int]:
    # Hold all sockets open together so the kernel returns three different ports.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in LISTENER_NAMES]
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]


def _start_and_wait(server: PostfixServer, startup_timeout: float, log_offset: int) -> None:
    started = time.monotonic()
    _validate_config(server)
    _run_postfix(server, "check", timeout=startup_timeout)
    _run_postfix(server, "start", timeout=startup_timeout)
    deadline = started + startup_timeout
    for name in LISTENER_NAMES:
        _wait_for_banner(server, name, deadline)
    _check_startup_log(server, log_offset)
    logger.info(
        "Postfix in %s ready after %.2f s on %s",
        server.base_dir,
        time.monotonic() - started,
        dict(server.ports),
    )


def _validate_config(server: PostfixServer) -> None:
    """Raise PostfixError if postconf reports any problem in main.cf or master.cf.

    A broken main.cf makes ``postfix`` exit with status 1 before it can log anything,
    but ``postconf`` prints the reason to stderr.
    """
    postconf = str(_require_command("postconf"))
    for option, file_name in (("-n", "main.cf"), ("-M", "master.cf")):
        command = [postconf, "-c", str(server.config_dir), option]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        problems = result.stderr.strip()
        if result.returncode != 0 or problems:
            raise PostfixError(
                f"postconf {option} rejected {server.config_dir / file_name} "
                f"(exit status {result.returncode}): {problems}"
            )


def _check_startup_log(server: PostfixServer, log_offset: int) -> None:
    """Raise PostfixError if Postfix logged a warning or worse after ``log_offset``.

    Some mistakes only produce a warning: smtpd starts without TLS, for example, when
    it cannot read the certificate file.
    """
    problems = [
        line
        for line in server.read_maillog()[log_offset:].splitlines()
        if any(marker in line for marker in (" warning: ", " error: ", " fatal: ", " panic: "))
    ]
    if problems:
        detail = f"Postfix logged {len(problems)} problems while starting, the first: {problems[0]}"
        raise PostfixError(_failure_message(server, detail))


def _run_postfix(server: PostfixServer, action: str, *, timeout: float) -> None:
    command = [str(_require_command("postfix")), "-c", str(server.config_dir), action]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        detail = f"postfix {action} timed out after {timeout} s"
        raise PostfixError(_failure_message(server, detail)) from error
    if result.returncode != 0:
        # postfix logs its errors only to the maillog when stderr is not a terminal.
        detail = f"postfix {action} failed with exit status {result.returncode}"
        if result.stderr.strip():
            detail += f"; stderr: {result.stderr.strip()}"
        raise PostfixError(_failure_message(server, detail))


def _wait_for_banner(server: PostfixServer, name: str, deadline: float) -> None:
    port = server.ports[name]
    tls_context = _client_tls_context(server.cafile) if name == "smtps" else None
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            banner = _read_banner(server.host, port, tls_context, deadline - time.monotonic())
        except (OSError, ValueError) as error:
            last_error = error
            time.sleep(0.1)
            continue
        if banner.startswith("220"):
            return
        last_error = ValueError(f"unexpected banner {banner!r}")
        time.sleep(0.1)
    message = f"{name} listener on {server.host}:{port} sent no 220 banner: {last_error}"
    raise PostfixError(_failure_message(server, message))


def _read_banner(host: str, port: int, tls_context: ssl.SSLContext | None, timeout: float) -> str:
    with socket.create_connection((host, port), timeout=max(timeout, 0.1)) as raw:
        if tls_context is None:
            return _read_line(raw)
        with tls_context.wrap_socket(raw, server_hostname=HOSTNAME) as tls:
            return _read_line(tls)


def _read_line(sock: socket.socket) -> str:
    with sock.makefile("rb") as stream:
        line = stream.readline(1024)
    if not line:
        raise ValueError("connection closed before the banner")
    return line.decode("ascii", errors="replace").rstrip("\r\n")


def _client_tls_context(cafile: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile))


def _failure_message(server: PostfixServer, detail: str) -> str:
    log = server.read_maillog().strip() or "(empty)"
    return f"{detail}\n--- Postfix maillog {server.maillog_file} ---\n{log}"


# Stopping


def _instance_pids(queue_dir: Path) -> list[int]:
    """Return the processes whose working directory is ``queue_dir``.

    The Postfix master and every daemon it spawns change into the queue directory,
    which is unique to this instance, so this finds all of them and nothing else.
    """
    target = queue_dir.resolve()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cwd").resolve(strict=True) == target:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _wait_for_exit(queue_dir: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _instance_pids(queue_dir):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _kill_instance_processes(queue_dir: Path) -> None:
    for pid in _instance_pids(queue_dir):
        logger.warning("killing leftover Postfix process %d of %s", pid, queue_dir)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_for_exit(queue_dir, 5.0)


# Helpers


def _run_checked(command: list[str], *, input_text: str | None = None) -> str:
    """Run a Postfix or Cyrus SASL command and return its standard output."""
    result = subprocess.run(
        command, input=input_text, capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        name = Path(command[0]).name
        raise PostfixError(f"{name} failed with exit status {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def _require_command(name: str) -> Path:
    path = find_command(name)
    if path is None:
        raise PostfixError(
            f"command {name!r} not found; install the Debian packages postfix, sasl2-bin and libsasl2-modules"
        )
    return path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
