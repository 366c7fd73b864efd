"""The conversation with one endpoint: greeting, EHLO, STARTTLS, AUTH, relay test, QUIT.

Each step records what it sent and received; nothing here decides what a
reply means beyond what the next step needs. Failures end as an error event
with a class from ``ErrorClass``, never as an exception to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials, Redactor
from smtplab.errors import ErrorClass, ProtocolError, classify
from smtplab.net.connection import SmtpConnection
from smtplab.net.tlscontext import handshake_facts, make_context
from smtplab.protocol import sasl
from smtplab.protocol.ehlo import Ehlo, parse_ehlo
from smtplab.protocol.reply import Reply
from smtplab.record import EndpointRecord, utc_now_iso
from smtplab.targets import Endpoint, Target, TlsMode
from smtplab.transcript import Recorder

log = logging.getLogger("smtplab")

# How long to wait for a plaintext greeting when checking whether a failed
# implicit-TLS port is in fact a plaintext SMTP server.
_PLAINTEXT_CHECK_SECONDS = 5.0

# OpenSSL reasons for a handshake that failed because client and server share
# no protocol version or cipher. Such a server may still accept the obsolete
# offers of ``tls_scan``, so the scan runs after these failures too.
# NOTE: tests cover only TLSV1_ALERT_PROTOCOL_VERSION (a TLS 1.0/1.1-only server).
_NEGOTIATION_FAILURES = frozenset({
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
    "NO_SHARED_CIPHER",
    "NO_CIPHERS_AVAILABLE",
})


class _Retry(Exception):
    """End this attempt and start a new connection for the reason given."""

    def __init__(self, reason: str, *, verify: bool, mode: str) -> None:
        super().__init__(reason)
        self.verify = verify
        self.mode = mode


@dataclass
class _Plan:
    verify: bool = True
    mode: str = "normal"  # "normal", "plaintext_check" or "tls_check"


class Conversation:
    """Runs the steps against one address and port, recording every line."""

    def __init__(
        self,
        target: Target,
        address: str,
        endpoint: Endpoint,
        config: ProbeConfig,
        credentials: Credentials | None,
    ) -> None:
        self.target = target
        self.address = address
        self.endpoint = endpoint
        self.config = config
        self.credentials = credentials
        redactor = Redactor([credentials.password.reveal()] if credentials else [])
        self.redactor = redactor
        self.recorder = Recorder(f"{target.ascii_host}[{address}]:{endpoint.port}", redactor)
        self._negotiation_failed = False

    @property
    def server_hostname(self) -> str | None:
        return None if self.target.is_literal else self.target.ascii_host

    async def run(self) -> EndpointRecord:
        started_at = utc_now_iso()
        try:
            async with asyncio.timeout(self.config.probe_timeout):
                await self._run_attempts()
                if self.config.tls_scan and self._tls_negotiable():
                    await self._scan_tls_offers()
        except TimeoutError:
            self.recorder.error(
                "deadline",
                ErrorClass.DEADLINE,
                f"probe exceeded its deadline of {self.config.probe_timeout:g} s",
            )
        self.recorder.add("end", "end")
        return EndpointRecord(
            host=self.target.host,
            address=self.address,
            port=self.endpoint.port,
            mode=str(self.endpoint.mode),
            started_at=started_at,
            events=self.recorder.events,
        )

    def _tls_negotiable(self) -> bool:
        """Return True when a handshake worked or failed only because no version or cipher was shared."""
        if self._negotiation_failed:
            return True
        return any(event["kind"] == "tls" and event.get("ok") for event in self.recorder.events)

    async def _scan_tls_offers(self) -> None:
        from smtplab.tlsscan import OFFERS, try_offer

        for offer in OFFERS:
            self.recorder.check = offer.name
            self.recorder.phase = "plain"
            try:
                await try_offer(self, offer)
            finally:
                self.recorder.check = None

    async def connect_for_check(self) -> SmtpConnection | None:
        """Open one more connection for a TLS offer check; None when it fails (recorded)."""
        return await self._connect()

    async def _run_attempts(self) -> None:
        plan = _Plan()
        for _ in range(3):
            try:
                await self._attempt(plan)
                return
            except _Retry as retry:
                self.recorder.new_attempt(str(retry))
                plan = _Plan(verify=retry.verify, mode=retry.mode)

    async def _attempt(self, plan: _Plan) -> None:
        connection = await self._connect()
        if connection is None:
            return
        try:
            await self._converse(connection, plan)
        except _Retry:
            raise
        except _Stop:
            pass
        except Exception as exc:  # every failure ends as a classified error event
            step = self._current_step()
            error, detail = classify(exc)
            self.recorder.error(step, error, detail)
        finally:
            await connection.close()

    async def _connect(self) -> SmtpConnection | None:
        self.recorder.add("connect", "connect", address=self.address, port=self.endpoint.port)
        try:
            connection = await SmtpConnection.open(
                self.address, self.endpoint.port, recorder=self.recorder, config=self.config
            )
        except Exception as exc:
            error, detail = classify(exc, connecting=True)
            self.recorder.error("connect", error, detail)
            return None
        self.recorder.add("connected", "connect")
        return connection

    def _current_step(self) -> str:
        for event in reversed(self.recorder.events):
            if event["kind"] in ("send", "recv", "tls", "connected"):
                return "tls" if event["kind"] == "tls" else str(event["step"])
        return "connect"

    async def _converse(self, connection: SmtpConnection, plan: _Plan) -> None:
        if plan.mode == "plaintext_check":
            await self._check_plaintext(connection)
            return
        if plan.mode == "tls_check":
            await self._check_tls(connection)
            return
        if self.endpoint.mode is TlsMode.TLS:
            await self._handshake(connection, plan, implicit=True)
        banner = await self._read_banner(connection)
        if banner is None:
            await self._quit(connection)
            return
        ehlo = await self._greet(connection)
        if ehlo is False:
            return
        if self.endpoint.mode is TlsMode.STARTTLS and isinstance(ehlo, Ehlo) and ehlo.has("STARTTLS"):
            ehlo = await self._starttls(connection, plan)
            if ehlo is False:
                return
        if self.config.relay_test:
            await self._relay_test(connection)
        logged_in = self.credentials is not None and await self._authenticate(connection, ehlo)
        if logged_in and self.config.relay_test:
            await self._relay_test(connection)
        await self._quit(connection)

    async def _read_banner(self, connection: SmtpConnection) -> Reply | None:
        try:
            banner = await connection.read_reply("banner")
        except TimeoutError as exc:
            if self.endpoint.mode is not TlsMode.TLS and self.recorder.attempt == 1:
                self.recorder.error("banner", *classify(exc))
                raise _Retry(
                    "no greeting on a plaintext port; checking whether it speaks TLS",
                    verify=False,
                    mode="tls_check",
                ) from None
            raise
        if banner.code == 220:
            return banner
        error = ErrorClass.SERVICE_UNAVAILABLE if banner.is_transient else ErrorClass.GREETING_REJECTED
        self.recorder.error("banner", error, f"greeting {banner.code}: {banner.lines[0][:200]}")
        return None

    async def _greet(self, connection: SmtpConnection) -> Ehlo | None | bool:
        """Send EHLO, falling back to HELO; False means the session cannot go on."""
        reply = await connection.command("ehlo", f"EHLO {self.config.ehlo_name}")
        if reply.code == 250:
            return parse_ehlo(reply)
        if reply.code == 421:
            detail = f"server replied {reply.code} to EHLO"
            self.recorder.error("ehlo", ErrorClass.SERVICE_UNAVAILABLE, detail)
            return False
        helo = await connection.command("helo", f"HELO {self.config.ehlo_name}")
        if helo.code != 250:
            error = ErrorClass.SERVICE_UNAVAILABLE if helo.is_transient else ErrorClass.GREETING_REJECTED
            self.recorder.error("helo", error, f"server replied {reply.code} to EHLO and {helo.code} to HELO")
            return False
        return None

    async def _starttls(self, connection: SmtpConnection, plan: _Plan) -> Ehlo | None | bool:
        reply = await connection.command("starttls", "STARTTLS")
        if reply.code != 220:
            self.recorder.error(
                "starttls", ErrorClass.STARTTLS_REJECTED, f"server replied {reply.code} to STARTTLS"
            )
            return None
        await self._handshake(connection, plan, implicit=False)
        return await self._greet(connection)

    async def _handshake(self, connection: SmtpConnection, plan: _Plan, *, implicit: bool) -> None:
        """Run the TLS handshake; on success later events are in the ``tls`` phase."""
        context = make_context(verify=plan.verify, cafile=self.config.cafile)
        try:
            await connection.start_tls(context, self.server_hostname)
        except ssl.SSLCertVerificationError as exc:
            self.recorder.add(
                "tls", "tls", ok=False, verified=False,
                verify_error=exc.verify_message or str(exc),
            )
            raise _Retry(
                "certificate not verified; continuing without verification",
                verify=False,
                mode="normal",
            ) from None
        except (ssl.SSLError, OSError, TimeoutError, ProtocolError) as exc:
            error, detail = classify(exc)
            self.recorder.add("tls", "tls", ok=False, error=str(error), detail=detail)
            self.recorder.error("tls", error, detail)
            if isinstance(exc, ssl.SSLError) and exc.reason in _NEGOTIATION_FAILURES:
                self._negotiation_failed = True
            if implicit and isinstance(exc, ssl.SSLError):
                raise _Retry(
                    "TLS handshake failed on an implicit-TLS port; checking for plaintext SMTP",
                    verify=False,
                    mode="plaintext_check",
                ) from None
            raise _Stop() from None
        facts = handshake_facts(connection.ssl_object())
        self.recorder.phase = "tls"
        self.recorder.add("tls", "tls", ok=True, verified=True if plan.verify else None, **facts)

    async def _check_plaintext(self, connection: SmtpConnection) -> None:
        try:
            async with asyncio.timeout(min(_PLAINTEXT_CHECK_SECONDS, self.config.reply_timeout)):
                banner = await connection.read_reply("banner")
        except (TimeoutError, ProtocolError, OSError, asyncio.IncompleteReadError) as exc:
            self.recorder.add("note", "banner", text=f"no plaintext greeting either: {classify(exc)[1]}")
            return
        self.recorder.error(
            "banner",
            ErrorClass.PLAINTEXT_ON_TLS_PORT,
            f"implicit-TLS port answered in plaintext: {banner.code} {banner.lines[0][:200]}",
        )
        await self._quit(connection)

    async def _check_tls(self, connection: SmtpConnection) -> None:
        context = make_context(verify=False, cafile=None)
        try:
            await connection.start_tls(context, self.server_hostname)
        except (ssl.SSLError, OSError, TimeoutError) as exc:
            self.recorder.add("note", "tls", text=f"no TLS handshake either: {classify(exc)[1]}")
            return
        self.recorder.phase = "tls"
        facts = handshake_facts(connection.ssl_object())
        self.recorder.add("tls", "tls", ok=True, verified=None, **facts)
        self.recorder.error(
            "tls", ErrorClass.TLS_ON_PLAIN_PORT, "plaintext port completed a TLS handshake"
        )
        await connection.read_reply("banner")
        await self._quit(connection)

    async def _relay_test(self, connection: SmtpConnection) -> None:
        """MAIL FROM and RCPT TO to reserved domains, then RSET; DATA is never sent."""
        mail = await connection.command("mail", f"MAIL FROM:<{self.config.mail_from}>")
        if mail.is_positive:
            await connection.command("rcpt", f"RCPT TO:<{self.config.rcpt_to}>")
        await connection.command("rset", "RSET")

    async def _authenticate(self, connection: SmtpConnection, ehlo: Ehlo | None | bool) -> bool:
        assert self.credentials is not None
        offered = ehlo.auth_mechanisms if isinstance(ehlo, Ehlo) else ()
        if self.recorder.phase != "tls" and not self.config.allow_plaintext_auth:
            self.recorder.add("auth_skipped", "auth", reason="no_tls",
                              text="no TLS, so the credentials were not sent")
            return False
        mechanism = sasl.choose_mechanism(offered, self.credentials.mechanism)
        if mechanism is None:
            self.recorder.add("auth_skipped", "auth", reason="no_mechanism",
                              text="no supported mechanism offered")
            return False
        reply = await self._run_mechanism(connection, mechanism)
        return reply.code == 235

    async def _run_mechanism(self, connection: SmtpConnection, mechanism: str) -> Reply:
        assert self.credentials is not None
        user = self.credentials.username
        password = self.credentials.password.reveal()
        if mechanism == "PLAIN":
            payload = sasl.plain_initial_response(user, password)
            self.redactor.add(payload)
            return await connection.command(
                "auth", f"AUTH PLAIN {payload}", shown="AUTH PLAIN ********"
            )
        if mechanism == "LOGIN":
            reply = await connection.command("auth", "AUTH LOGIN")
            if reply.code != 334:
                return reply
            reply = await connection.command("auth", sasl.b64(user))
            if reply.code != 334:
                return reply
            return await connection.command("auth", sasl.b64(password), shown="********")
        reply = await connection.command("auth", "AUTH CRAM-MD5")
        if reply.code != 334:
            return reply
        answer = sasl.cram_md5_response(user, password, reply.lines[0])
        self.redactor.add(answer)
        return await connection.command("auth", answer, shown="********")

    async def _quit(self, connection: SmtpConnection) -> None:
        try:
            await connection.command("quit", "QUIT")
        except Exception as exc:  # a server may close the connection before its reply to QUIT
            log.debug("QUIT to %s failed: %s", self.recorder.label, exc)


class _Stop(Exception):
    """End the attempt after an error that is already recorded."""


async def probe_endpoint(
    target: Target,
    address: str,
    endpoint: Endpoint,
    config: ProbeConfig,
    credentials: Credentials | None = None,
) -> EndpointRecord:
    """Probe one address and port and return its record; never raises for server faults."""
    return await Conversation(target, address, endpoint, config, credentials).run()
