"""``Lab``: runs the lab's DNS responder and SMTP servers on an event loop in a daemon thread."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .ca import LabCA
from .mtasts import PolicyServer, start_policy_server
from .nameserver import NameServer, start_nameserver
from .posture import generate_keys, mta_sts_host, policy_text
from .profile import ServerProfile
from .scenarios import SCENARIOS
from .servers import RunningListener, start_listeners
from .shutdown import ConnectionRegistry, close_servers
from .zone import build_zone

logger = logging.getLogger(__name__)

# Maximum seconds that start() and stop() wait for the lab's event loop. Both limits are
# far above the normal times, so reaching either means that the loop is stuck.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# The EHLO name of the client settings that domain_options() returns.
CLIENT_EHLO_NAME = "client.smtplab.test"


@dataclass(frozen=True)
class LabServer:
    """One running lab server, as probes and tests see it.

    ``endpoints`` lists ``"PORT/starttls"`` or ``"PORT/tls"`` in the order of the
    profile's listeners, which stand in for ports 25, 587 and 465. ``username`` and
    ``password`` are the only credentials that AUTH accepts, or None when the server
    does not offer AUTH. The password is new on every start and kept out of ``repr``.
    ``mail_domain`` is the domain whose MX this server is, and ``domain_description``
    describes what that domain's mail records get right or wrong, or is None when the domain
    publishes nothing beyond its MX record.
    """

    name: str
    host: str
    address: str
    endpoints: list[str]
    username: str | None
    password: str | None = field(repr=False)
    description: str
    mail_domain: str
    domain_description: str | None = None


@dataclass
class _Running:
    """State of a started lab. ``Lab.stop`` closes what it lists and discards it."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    directory: Path
    cafile: Path
    intermediate_file: Path | None = None
    nameserver: NameServer | None = None
    policy_server: PolicyServer | None = None
    listeners: list[RunningListener] = field(default_factory=list)
    connections: ConnectionRegistry = field(default_factory=set)
    servers: dict[str, LabServer] = field(default_factory=dict)


class Lab:
    """The lab's DNS responder and SMTP servers on loopback, with a throwaway CA.

    Use it as a context manager, or call ``start`` and ``stop``. A stopped lab can be
    started again, which issues a new CA, new keys, new ports and new passwords. The
    attributes ``nameserver``, ``cafile``, ``intermediate_file`` and ``servers``, and
    ``domain_options``, raise RuntimeError while the lab is stopped.

    Each server's mail domain publishes SPF, DMARC, DKIM, MTA-STS, TLS-RPT and TLSA
    records as its profile's ``posture`` describes, and an HTTPS server on the servers'
    addresses serves the domains' MTA-STS policies.
    """

    def __init__(self, scenarios: Iterable[str] = tuple(SCENARIOS)) -> None:
        names = tuple(scenarios)
        unknown = [name for name in names if name not in SCENARIOS]
        if unknown:
            raise ValueError(
                f"unknown lab scenario(s) {unknown}; choose from {sorted(SCENARIOS)}"
            )
        self._profiles = tuple(SCENARIOS[name] for name in dict.fromkeys(names))
        self._running: _Running | None = None

    @property
    def nameserver(self) -> str:
        """``"127.0.0.1:PORT"`` of the DNS responder, the same port for UDP and TCP."""
        running = self._require_running()
        assert running.nameserver is not None
        return running.nameserver.address

    @property
    def cafile(self) -> Path:
        """The lab's root CA certificate in PEM form, for clients to trust."""
        return self._require_running().cafile

    @property
    def intermediate_file(self) -> Path:
        """The lab's intermediate CA certificate in PEM form, which issued every server
        certificate and which servers send after their own."""
        running = self._require_running()
        assert running.intermediate_file is not None
        return running.intermediate_file

    @property
    def servers(self) -> dict[str, LabServer]:
        """The running servers keyed by scenario name, as a new dict on each access."""
        return dict(self._require_running().servers)

    def domain_options(self) -> dict[str, Any]:
        """Return the keyword arguments that point ``smtplab.domain.probe_domain`` at this lab.

        With them, ``probe_domain(server.mail_domain, **lab.domain_options())`` queries the
        lab's DNS responder (``config``) and probes each MX host on its server's listener
        for port 25 (``mx_endpoints``). It trusts the lab CA for SMTP and for the MTA-STS
        policy (``https_cafile``), and fetches policies from the lab's policy server
        (``mta_sts_port``). ``selectors`` lists the DKIM selectors that the domains publish.
        The values are valid while this lab runs.
        """
        # The only import from the rest of smtplab: a client setting, which no server uses.
        from smtplab.config import ProbeConfig

        running = self._require_running()
        config = ProbeConfig(
            nameserver=self.nameserver,
            cafile=str(self.cafile),
            ehlo_name=CLIENT_EHLO_NAME,
            connect_timeout=5.0,
            reply_timeout=5.0,
            probe_timeout=30.0,
        )
        options: dict[str, Any] = {
            "config": config,
            "mx_endpoints": self._mx_endpoints(running),
            "https_cafile": str(self.cafile),
            "selectors": list(
                dict.fromkeys(profile.posture.dkim_selector for profile in self._profiles if profile.posture)
            ),
        }
        if running.policy_server is not None:
            options["mta_sts_port"] = running.policy_server.port
        return options

    def start(self) -> Lab:
        """Start the DNS responder and every server, and return this lab.

        Raises RuntimeError if the lab is already running. If a step fails, whatever
        was started is stopped before the error propagates.
        """
        if self._running is not None:
            raise RuntimeError("the lab is already running; call stop() first")

        directory = Path(tempfile.mkdtemp(prefix="smtplab-lab-"))
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name="smtplab-lab", daemon=True
        )
        thread.start()
        self._running = _Running(
            loop=loop, thread=thread, directory=directory, cafile=directory / "lab-ca.pem"
        )
        try:
            ca = LabCA(directory)
            self._running.intermediate_file = ca.intermediate_file
            future = asyncio.run_coroutine_threadsafe(
                _start_services(self._running, self._profiles, ca), loop
            )
            future.result(timeout=START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

        logger.info(
            "lab started: DNS on %s, servers %s", self.nameserver, ", ".join(self.servers)
        )
        return self

    def stop(self) -> None:
        """Close every listener and connection, end the thread and delete the CA files.

        Does nothing if the lab is not running.
        """
        running = self._running
        if running is None:
            return
        self._running = None

        try:
            future = asyncio.run_coroutine_threadsafe(_stop_services(running), running.loop)
            future.result(timeout=STOP_TIMEOUT)
        finally:
            running.loop.call_soon_threadsafe(running.loop.stop)
            running.thread.join(timeout=STOP_TIMEOUT)
            shutil.rmtree(running.directory, ignore_errors=True)
        if running.thread.is_alive():
            logger.warning("lab event loop thread did not end within %.0f s", STOP_TIMEOUT)
        else:
            logger.info("lab stopped")

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _mx_endpoints(self, running: _Running) -> dict[str, str]:
        """Map each server's host name to the endpoint of its listener for port 25."""
        endpoints = {}
        for profile in self._profiles:
            server = running.servers[profile.name]
            for listener, endpoint in zip(profile.listeners, server.endpoints, strict=True):
                if listener.role == 25:
                    endpoints[profile.host] = endpoint
        return endpoints

    def _require_running(self) -> _Running:
        if self._running is None:
            raise RuntimeError("the lab is not running; call start() or use `with Lab()`")
        return self._running


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Run ``loop`` until stopped, then close it in the same thread."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _start_services(
    running: _Running, profiles: tuple[ServerProfile, ...], ca: LabCA
) -> None:
    certificates = {profile.name: ca.issue(profile.certificate_host) for profile in profiles}
    keys = {
        profile.name: generate_keys(profile.posture, certificates[profile.name].cert_pem)
        for profile in profiles
        if profile.posture is not None
    }
    running.nameserver = await start_nameserver(build_zone(profiles, keys), running.connections)
    for profile in profiles:
        password = secrets.token_urlsafe(18) if profile.username is not None else None
        context = certificates[profile.name].context
        listeners = await start_listeners(profile, context, password, running.connections)
        running.listeners.extend(listeners)
        running.servers[profile.name] = LabServer(
            name=profile.name,
            host=profile.host,
            address=profile.address,
            endpoints=[listener.endpoint for listener in listeners],
            username=profile.username,
            password=password,
            description=profile.description,
            mail_domain=profile.mail_domain,
            domain_description=profile.posture.description if profile.posture else None,
        )
    running.policy_server = await _start_policy_server(profiles, ca, running.connections)


async def _start_policy_server(
    profiles: tuple[ServerProfile, ...], ca: LabCA, connections: ConnectionRegistry
) -> PolicyServer | None:
    """Serve the MTA-STS policy of every domain with a posture, on the address that its
    ``mta-sts`` host resolves to, or return None when no domain has a posture."""
    policies: dict[str, str] = {}
    addresses: list[str] = []
    for profile in profiles:
        if profile.posture is not None:
            policies[mta_sts_host(profile)] = policy_text(profile.posture)
            addresses.append(profile.address)
    if not policies:
        return None
    context = ca.server_context(*policies)
    return await start_policy_server(policies, list(dict.fromkeys(addresses)), context, connections)


async def _stop_services(running: _Running) -> None:
    servers = [listener.server for listener in running.listeners]
    if running.policy_server is not None:
        servers.extend(running.policy_server.servers)
    if running.nameserver is not None:
        running.nameserver.udp_transport.close()
        servers.append(running.nameserver.tcp_server)
    await close_servers(servers, running.connections)
