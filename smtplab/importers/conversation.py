"""Build a live probe's events from the client and server lines of an imported transcript.

The format parsers feed lines in order to ``ConversationBuilder``. It assigns steps
and phases, pairs replies with commands and masks AUTH payloads. For replies that
make a live probe record an error event, it records the same event.

Events follow the schema in ``smtplab.transcript``. Transcripts carry no times, so
every ``t`` is 0.0. Each event has an extra ``line`` field: the 1-based line of the
source text it came from.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from smtplab.analysis.certificate import read_certificate
from smtplab.credentials import Redactor
from smtplab.errors import ErrorClass, ProtocolError
from smtplab.importers.auth import AuthExchange
from smtplab.importers.steps import command_step, infer_step
from smtplab.protocol.reply import Reply, parse_line
from smtplab.transcript import Event

_QUOTE_LIMIT = 80


class TranscriptError(ValueError):
    """A transcript that cannot be read; ``line`` is its 1-based line number (0: none)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


def quote(text: str) -> str:
    """Shorten a transcript line for an error message, masking anything after ``AUTH MECHANISM``."""
    parts = text.split()
    if len(parts) > 2 and parts[0].upper() == "AUTH":
        text = f"{parts[0]} {parts[1]} ********"
    if len(text) > _QUOTE_LIMIT:
        text = text[:_QUOTE_LIMIT] + "..."
    return repr(text)


def classify_message(text: str, *, connecting: bool) -> ErrorClass:
    """Map a client program's error message to the error class a live probe would record."""
    lower = text.lower()
    if "refused" in lower:
        return ErrorClass.REFUSED
    if "timed out" in lower or "timeout" in lower:
        return ErrorClass.TIMEOUT if connecting else ErrorClass.REPLY_TIMEOUT
    if "unreachable" in lower or "no route" in lower:
        return ErrorClass.UNREACHABLE
    if "reset" in lower:
        return ErrorClass.RESET
    if "closed" in lower or "eof" in lower:
        return ErrorClass.CLOSED
    return ErrorClass.UNREACHABLE if connecting else ErrorClass.PROTOCOL_ERROR


Line = tuple[int, str]
"""A 1-based line number and the line's text without its line ending."""


def split_lines(text: str) -> list[Line]:
    """Number the lines of a transcript, dropping a byte order mark and CR characters."""
    text = text.removeprefix("\ufeff")
    return [(number, raw.rstrip("\r")) for number, raw in enumerate(text.split("\n"), start=1)]


@dataclass
class ParsedTranscript:
    """The events of one conversation and the facts about its endpoint that the transcript shows.

    Each hint is None when the transcript does not show it.
    """

    events: list[Event]
    username: str | None
    address: str | None = None
    """The host name or IP address the client connected to."""
    port: int | None = None
    server_name: str | None = None
    """The host name the client asked for (TLS SNI)."""
    mode: str | None = None
    """``starttls``, ``tls`` or ``plain`` when the transcript shows which."""


@dataclass
class _OpenReply:
    """The lines of a multi-line reply whose last line has not been read yet."""

    start: int
    code: int
    lines: list[tuple[int, str]] = field(default_factory=list)


class ConversationBuilder:
    """Turns one conversation's lines into events, in the order the lines are fed."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.phase = "plain"
        self.expect_banner = True
        """The first reply is the greeting; False when the transcript starts later."""
        self.awaiting_tls = False
        """STARTTLS got a 220 reply and no handshake has been recorded yet."""
        self.username: str | None = None
        """The AUTH user name decoded from the transcript, set by ``finish``."""
        self.banner_phase: str | None = None
        self._pending: deque[str] = deque()
        self._reply: _OpenReply | None = None
        self._replies = 0
        self._data_mode = False
        self._after_data = False
        self._auth: AuthExchange | None = None
        self._exchanges: list[AuthExchange] = []
        self._ehlo_code: int | None = None
        self._tls_event: Event | None = None
        self._certificate: str | None = None
        self._connected = False

    # Connection and TLS

    def add(self, kind: str, step: str, line: int, **fields: Any) -> Event:
        event: Event = {"t": 0.0, "kind": kind, "step": step, "phase": self.phase, "attempt": 1}
        event.update(fields)
        event["line"] = line
        self.events.append(event)
        return event

    def connect(self, line: int, address: str | None, port: int | None) -> None:
        self.add("connect", "connect", line, address=address, port=port)

    def connected(self, line: int) -> None:
        self._connected = True
        self.add("connected", "connect", line)

    def _ensure_connected(self, line: int) -> None:
        """Add the connection events when the transcript starts with protocol lines."""
        if self._connected:
            return
        if not any(event["kind"] == "connect" for event in self.events):
            self.connect(line, None, None)
        self.connected(line)

    def note(self, line: int, text: str, step: str | None = None) -> None:
        self.add("note", step or self.current_step(), line, text=text)

    def error(self, line: int, error: ErrorClass, detail: str, step: str | None = None) -> None:
        self.add("error", step or self.current_step(), line, error=str(error), detail=detail)

    def start_tls(
        self,
        line: int,
        *,
        version: str | None = None,
        cipher: str | None = None,
        bits: int | None = None,
        verified: bool | None = None,
    ) -> Event:
        """Record a finished handshake; later lines are in the ``tls`` phase."""
        self._ensure_connected(line)
        self.awaiting_tls = False
        self.phase = "tls"
        self._tls_event = self.add(
            "tls", "tls", line, ok=True, verified=verified, version=version, cipher=cipher,
            bits=bits, cert_pem=self._certificate,
        )
        return self._tls_event

    def attach_certificate(self, line: int, pem: str) -> None:
        """Keep the server's leaf certificate for the handshake event; the first one wins.

        The certificate may come before or after the line that reports the handshake.
        """
        try:
            read_certificate(pem)
        except ValueError as exc:
            raise TranscriptError(line, f"invalid certificate: {exc}") from None
        if self._certificate is not None:
            return
        self._certificate = pem
        if self._tls_event is not None:
            self._tls_event["cert_pem"] = pem

    def attach_chain(self, line: int, chain: list[str]) -> None:
        """Keep the certificates the server sent, leaf first, for the handshake event."""
        for pem in chain:
            try:
                read_certificate(pem)
            except ValueError as exc:
                raise TranscriptError(line, f"invalid certificate in the chain: {exc}") from None
        if self._tls_event is not None:
            self._tls_event["chain_pem"] = list(chain)

    def verify_failed(self, line: int, message: str) -> None:
        """Record that the certificate chain did not verify, as a live probe's first attempt does."""
        self._ensure_connected(line)
        self.add("tls", "tls", line, ok=False, verified=False, verify_error=message)

    def tls_failed(self, line: int, detail: str) -> None:
        self._ensure_connected(line)
        self.awaiting_tls = False
        self.add("tls", "tls", line, ok=False, error=str(ErrorClass.TLS_FAILED), detail=detail)
        self.error(line, ErrorClass.TLS_FAILED, detail, step="tls")

    # Protocol lines

    def current_step(self) -> str:
        for event in reversed(self.events):
            if event["kind"] in ("send", "recv", "tls", "connected"):
                return "tls" if event["kind"] == "tls" else str(event["step"])
        return "connect"

    @property
    def pending_step(self) -> str | None:
        """Step of the oldest command still waiting for its reply."""
        return self._pending[0] if self._pending else None

    @property
    def in_data(self) -> bool:
        """The client is sending message content (after a 354 reply to DATA)."""
        return self._data_mode

    def client(self, line: int, text: str) -> None:
        """Record one line the client sent."""
        self._ensure_connected(line)
        if self._reply is not None:
            raise TranscriptError(
                line, f"client line {quote(text)} inside the reply that started at line "
                f"{self._reply.start}; a multi-line reply must end with 'NNN text' first",
            )
        if self._data_mode:
            self._client_data(line, text)
            return
        if self._auth is not None and self._auth.waiting:
            self._send("auth", self._auth.response(text), line)
            return
        step = command_step(text)
        if step is None:
            raise TranscriptError(line, f"client line {quote(text)} is not an SMTP command")
        shown = text
        if step == "auth":
            shown = self._start_auth(text).shown_command
        self._send(step, shown, line)

    def retract_last_send(self, reason: str) -> bool:
        """Turn the last sent line into a note when it never reached the server."""
        if not self.events or self.events[-1]["kind"] != "send":
            return False
        event = self.events.pop()
        if self._pending:
            self._pending.pop()
        self.note(event["line"], f"not sent: {event['text']} ({reason})", step=event["step"])
        return True

    def server(self, line: int, text: str) -> None:
        """Record one server reply line; a reply's events are added at its last line."""
        self._ensure_connected(line)
        if self._data_mode:
            # The server replies only after the final ".", so a transcript that leaves
            # out the message content still ends it here.
            self.end_data()
        try:
            parsed = parse_line(text)
        except ProtocolError as exc:
            raise TranscriptError(line, str(exc)) from None
        if self._reply is None:
            self._reply = _OpenReply(line, parsed.code)
        elif parsed.code != self._reply.code:
            raise TranscriptError(
                line, f"reply code changed from {self._reply.code} to {parsed.code} inside the "
                f"reply that started at line {self._reply.start}",
            )
        self._reply.lines.append((line, text))
        if parsed.final:
            reply = Reply(parsed.code, tuple(parse_line(raw).text for _, raw in self._reply.lines))
            self._finish_reply(reply)

    def finish(self, line: int) -> list[Event]:
        """Check that nothing is left open, add the end event and mask every secret."""
        if self._reply is not None:
            raise TranscriptError(
                self._reply.start, "the reply that starts here has no last line ('NNN text'); "
                "is the transcript cut off?",
            )
        self.add("end", "end", line)
        secrets = [secret for exchange in self._exchanges for secret in exchange.secrets]
        names = [exchange.username for exchange in self._exchanges if exchange.username]
        self.username = names[-1] if names else None
        redact = Redactor(secrets)
        for event in self.events:
            for key, value in event.items():
                if isinstance(value, str) and key != "cert_pem":
                    event[key] = redact(value)
        return self.events

    def result(
        self,
        line: int,
        *,
        address: str | None = None,
        port: int | None = None,
        server_name: str | None = None,
        mode: str | None = None,
    ) -> ParsedTranscript:
        """Finish the conversation; the mode is ``tls`` when the greeting came inside TLS."""
        events = self.finish(line)
        if mode is None and self.banner_phase == "tls":
            mode = "tls"
        return ParsedTranscript(events, self.username, address, port, server_name, mode)

    def _send(self, step: str, text: str, line: int) -> None:
        self.add("send", step, line, text=text)
        self._pending.append(step)

    def _client_data(self, line: int, text: str) -> None:
        self.add("send", "data", line, text=text)
        if text == ".":
            self._data_mode = False
            self._pending.append("data")

    def end_data(self) -> None:
        """End the message content without a "." line (swaks shows "N lines sent" instead)."""
        if self._data_mode:
            self._data_mode = False
            self._pending.append("data")

    def _finish_reply(self, reply: Reply) -> None:
        assert self._reply is not None
        lines, self._reply = self._reply.lines, None
        step = self._reply_step(reply)
        for number, text in lines:
            self.add("recv", step, number, text=text)
        self._replies += 1
        self._after_reply(step, reply, lines[0][0])

    def _reply_step(self, reply: Reply) -> str:
        if self._replies == 0 and self.expect_banner:
            return "banner"  # the server speaks first (RFC 5321 section 3.1)
        if self._pending:
            return self._pending.popleft()
        return infer_step(reply, in_auth=self._auth is not None, after_data=self._after_data)

    def _after_reply(self, step: str, reply: Reply, line: int) -> None:
        self._after_data = False
        if step == "banner":
            self.banner_phase = self.phase
            self._check_banner(reply, line)
        elif step == "ehlo":
            self._ehlo_code = reply.code
            if reply.code == 421:
                detail = f"server replied {reply.code} to EHLO"
                self.error(line, ErrorClass.SERVICE_UNAVAILABLE, detail, "ehlo")
        elif step == "helo" and reply.code != 250:
            error = ErrorClass.SERVICE_UNAVAILABLE if reply.is_transient else ErrorClass.GREETING_REJECTED
            detail = f"server replied {self._ehlo_code} to EHLO and {reply.code} to HELO"
            self.error(line, error, detail, "helo")
        elif step == "starttls":
            self._after_starttls(reply, line)
        elif step == "data":
            self._data_mode = reply.code == 354
            self._after_data = reply.code == 354
        elif step == "auth":
            self._after_auth(reply)

    def _check_banner(self, reply: Reply, line: int) -> None:
        if reply.code == 220:
            return
        error = ErrorClass.SERVICE_UNAVAILABLE if reply.is_transient else ErrorClass.GREETING_REJECTED
        self.error(line, error, f"greeting {reply.code}: {reply.lines[0][:200]}", "banner")

    def _after_starttls(self, reply: Reply, line: int) -> None:
        if reply.code == 220:
            self.awaiting_tls = True
            return
        self.error(line, ErrorClass.STARTTLS_REJECTED, f"server replied {reply.code} to STARTTLS", "starttls")

    def _after_auth(self, reply: Reply) -> None:
        if self._auth is None:
            # A 334 whose AUTH command the transcript does not show (its step was inferred).
            self._start_auth("AUTH")
        assert self._auth is not None
        if reply.code == 334:
            self._auth.challenge(reply.lines[0] if reply.lines else "")
            return
        self._auth = None

    def _start_auth(self, command: str) -> AuthExchange:
        self._auth = AuthExchange(command)
        self._exchanges.append(self._auth)
        return self._auth
