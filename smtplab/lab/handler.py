"""aiosmtpd handler and protocol subclass that make a server behave as its profile describes."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any, cast

from aiosmtpd.smtp import (
    MISSING,
    SMTP,
    AuthResult,
    Envelope,
    LoginPassword,
    Session,
)

from .profile import ServerProfile
from .shutdown import ConnectionRegistry

# The reply that Postfix sends to AUTH when SASL is off. The lab sends it before and after TLS.
AUTH_DISABLED_REPLY = "503 5.5.1 Error: authentication not enabled"


class LabHandler:
    """Replies for EHLO, AUTH, MAIL, RCPT, DATA, RSET, NOOP and QUIT as ``profile`` describes.

    The replies sent here carry RFC 3463 enhanced status codes, as a server that offers
    ENHANCEDSTATUSCODES must (RFC 2034 section 3). NOTE: replies that aiosmtpd sends on
    its own, such as syntax errors, VRFY and the STARTTLS 220, have no enhanced code.

    The ``handle_*`` method names are aiosmtpd's hook names. aiosmtpd also treats every
    handler attribute whose name starts with ``auth_`` as an AUTH mechanism, so no
    attribute here may use that prefix.
    """

    def __init__(self, profile: ServerProfile, password: str | None) -> None:
        self.profile = profile
        self._password = password

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # aiosmtpd leaves recording the client name to this hook when the hook exists.
        session.host_name = hostname
        tls = is_tls_active(server)
        keywords = self.profile.ehlo_after_tls if tls else self.profile.ehlo_before_tls
        return format_ehlo_reply(self.profile.banner_host, keywords)

    async def handle_AUTH(
        self, server: SMTP, session: Session, envelope: Envelope, args: list[str]
    ) -> Any:
        if self.profile.username is None:
            return AUTH_DISABLED_REPLY
        return MISSING  # aiosmtpd runs its built-in PLAIN and LOGIN, then `authenticate`

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self._may_deliver_to(address, bool(session.authenticated)):
            return self.profile.relay_denied_reply.format(address=address)

        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 2.0.0 OK"

    async def handle_NOOP(
        self, server: SMTP, session: Session, envelope: Envelope, arg: str | None
    ) -> str:
        return "250 2.0.0 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "221 2.0.0 Bye"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        # The lab never stores or forwards mail, so the content is dropped here.
        envelope.content = None
        envelope.original_content = None
        return "250 2.0.0 OK: message discarded"

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: LoginPassword,
    ) -> AuthResult:
        """Accept exactly the profile's username and this lab run's password.

        A failure leaves the reply to aiosmtpd, which sends
        ``535 5.7.8 Authentication credentials invalid``.
        """
        if self.profile.username is None or self._password is None:
            return AuthResult(success=False, handled=False)

        username_ok = hmac.compare_digest(auth_data.login, self.profile.username.encode())
        password_ok = hmac.compare_digest(auth_data.password, self._password.encode())
        if username_ok and password_ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def _may_deliver_to(self, address: str, authenticated: bool) -> bool:
        domain = address.rpartition("@")[2].lower()
        if domain in self.profile.local_domains:
            return True
        return authenticated and self.profile.relay_when_authenticated


class LabSession(Session):
    """aiosmtpd session without the deprecation warning on ``login_data``.

    aiosmtpd 1.4 sets ``login_data`` after every successful AUTH, and the base class logs
    a warning through the ``mail.log`` logger each time it is set or read.
    """

    @property
    def login_data(self) -> Any:
        return self._login_data

    @login_data.setter
    def login_data(self, value: Any) -> None:
        self._login_data = value


class LabSMTP(SMTP):
    """aiosmtpd protocol that registers its connection in ``connections`` while it is open.

    The lab aborts every registered connection when it stops, so no socket outlives it.
    """

    def __init__(
        self, handler: LabHandler, *, connections: ConnectionRegistry, **kwargs: Any
    ) -> None:
        super().__init__(handler, **kwargs)
        self._connections = connections
        self._registered_transport: asyncio.WriteTransport | None = None

    def _create_session(self) -> Session:
        return LabSession(self.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # aiosmtpd calls connection_made a second time after STARTTLS, with the TLS
        # transport. The first transport already owns the socket.
        if self._registered_transport is None:
            self._registered_transport = cast(asyncio.WriteTransport, transport)
            self._connections.add(self._registered_transport)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._registered_transport is not None:
            self._connections.discard(self._registered_transport)
        super().connection_lost(error)


def is_tls_active(server: SMTP) -> bool:
    """Return whether the connection is encrypted, by STARTTLS or by implicit TLS.

    aiosmtpd's own check covers STARTTLS only, so this checks the transport's ssl_object.
    """
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


def format_ehlo_reply(banner_host: str, keywords: tuple[str, ...]) -> list[str]:
    """Build the lines of a multiline 250 EHLO reply (RFC 5321 section 4.1.1.1)."""
    lines = [banner_host, *keywords]
    return [f"250-{line}" for line in lines[:-1]] + [f"250 {lines[-1]}"]


def size_limit(keywords: tuple[str, ...]) -> int | None:
    """Return the message size limit of a ``SIZE n`` keyword, or None for no limit.

    A bare ``SIZE`` or no SIZE keyword means no fixed limit (RFC 1870 section 4).
    """
    for keyword in keywords:
        name, _, value = keyword.partition(" ")
        if name.upper() == "SIZE" and value:
            return int(value)
    return None
