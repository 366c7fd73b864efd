"""Read an endpoint's recorded events back into the facts of its conversation.

This is the one place that turns events into meaning: frames, findings and
reports all read ``EndpointView``. Facts that were never probed stay None
(unknown), so "no AUTH" and "AUTH not checked" are different values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smtplab.errors import ProtocolError
from smtplab.protocol.ehlo import Ehlo, greeting_host, parse_ehlo
from smtplab.protocol.reply import Reply, ReplyAssembler
from smtplab.record import EndpointRecord


@dataclass(frozen=True, slots=True)
class Exchange:
    """A command (None for the greeting) and the reply it got, with timings in ms."""

    step: str
    phase: str
    attempt: int
    command: str | None
    reply: Reply
    sent_ms: float | None
    replied_ms: float

    @property
    def elapsed_ms(self) -> float:
        return round(self.replied_ms - (self.sent_ms or 0.0), 1)


@dataclass
class EndpointView:
    """The facts one endpoint's conversation showed."""

    record: EndpointRecord
    exchanges: list[Exchange] = field(default_factory=list)
    connect_ms: float | None = None
    reachable: bool | None = None
    banner: Reply | None = None
    ehlo: dict[str, Ehlo] = field(default_factory=dict)
    helo_only: dict[str, bool] = field(default_factory=dict)
    starttls_offered: bool | None = None
    starttls_reply: Reply | None = None
    tls: dict[str, Any] | None = None
    tls_failure: dict[str, Any] | None = None
    verified: bool | None = None
    verify_error: str | None = None
    auth_reply: Reply | None = None
    auth_mechanism: str | None = None
    auth_skipped: str | None = None
    auth_last_command: str | None = None
    unsolicited: list[dict[str, Any]] = field(default_factory=list)
    tls_offers: list[dict[str, Any]] = field(default_factory=list)
    """Results of the extra handshakes that tested obsolete TLS offers (``tls_scan``)."""
    relay: dict[str, Exchange] = field(default_factory=dict)
    mail_reply: dict[str, Reply] = field(default_factory=dict)
    error: str | None = None
    error_step: str | None = None
    error_detail: str | None = None
    attempts: int = 1

    @property
    def banner_host(self) -> str | None:
        return greeting_host(self.banner) if self.banner else None

    @property
    def chain_pem(self) -> list[str] | None:
        """Certificates the server sent in the last finished handshake, leaf first, in the
        order sent (PEM); None without a handshake or when the chain was not recorded."""
        chain = self.tls.get("chain_pem") if self.tls else None
        return list(chain) if chain else None

    def auth_mechanisms(self, phase: str) -> tuple[str, ...] | None:
        """Mechanisms offered in a phase; None when that phase's EHLO was never seen."""
        ehlo = self.ehlo.get(phase)
        if ehlo is None:
            return () if self.helo_only.get(phase) else None
        return ehlo.auth_mechanisms

    @property
    def auth_result(self) -> str | None:
        """``accepted``, ``accepted_early`` (235 before the password was sent), ``rejected``,
        ``needs_encryption``, ``unsupported``, ``deferred`` or ``skipped``; None when not tried."""
        if self.auth_reply is None:
            return "skipped" if self.auth_skipped else None
        code = self.auth_reply.code
        if code == 235:
            # A 235 counts only once the step that carries the password was sent.
            return "accepted" if _carries_secret(self.auth_last_command) else "accepted_early"
        if code in (534, 538):
            return "needs_encryption"
        if code == 504:
            return "unsupported"
        if 400 <= code < 500:
            return "deferred"
        return "rejected"

    def accepted_offers(self) -> list[dict[str, Any]] | None:
        """Return the obsolete TLS offers the server accepted; None when none was tested."""
        tested = [offer for offer in self.tls_offers if offer.get("accepted") is not None]
        if not tested:
            return None
        return [offer for offer in tested if offer["accepted"]]

    def relay_result(self, kind: str) -> str | None:
        """Outcome of the relay test ``unauth`` or ``auth``; None when not run."""
        mail = self.mail_reply.get(kind)
        rcpt = self.relay.get(kind)
        if rcpt is None:
            return None if mail is None or mail.is_positive else "mail_rejected"
        return classify_rcpt(rcpt.reply)


def classify_rcpt(reply: Reply) -> str:
    """``accepted``, ``denied`` or ``deferred`` (greylisting, rate limits: inconclusive)."""
    if reply.is_positive:
        return "accepted"
    # 4.7.1 is used both for "Relay access denied" (Postfix, 454) and for greylisting
    # (451), so a temporary reply counts as a denial only when its text names one.
    text = reply.text.lower()
    denial = "relay" in text or "denied" in text
    if reply.is_transient and not denial:
        return "deferred"
    return "denied"


def view(record: EndpointRecord) -> EndpointView:
    """Replay an endpoint's events into an EndpointView."""
    result = EndpointView(record=record)
    main = [event for event in record.events if "check" not in event]
    result.tls_offers = [event for event in record.events if event["kind"] == "tls_offer"]
    result.exchanges = exchanges(main)
    _read_events(result, main)
    _read_exchanges(result)
    return result


def exchanges(events: list[dict[str, Any]]) -> list[Exchange]:
    """Pair each command with its reply, rebuilding multi-line replies from their lines."""
    found: list[Exchange] = []
    assembler = ReplyAssembler(max_lines=10_000)
    command: str | None = None
    sent_ms: float | None = None
    for event in events:
        kind = event["kind"]
        if kind == "send":
            command, sent_ms = event["text"], event["t"]
            assembler = ReplyAssembler(max_lines=10_000)
        elif kind == "attempt":
            command, sent_ms = None, None
            assembler = ReplyAssembler(max_lines=10_000)
        elif kind == "recv":
            try:
                reply = assembler.feed(event["text"])
            except ProtocolError:
                assembler = ReplyAssembler(max_lines=10_000)
                continue
            if reply is not None:
                found.append(
                    Exchange(
                        event["step"], event["phase"], event["attempt"],
                        command, reply, sent_ms, event["t"],
                    )
                )
                command, sent_ms = None, None
    return found


def _read_events(result: EndpointView, events: list[dict[str, Any]]) -> None:
    connect_started: float | None = None
    for event in events:
        kind = event["kind"]
        result.attempts = max(result.attempts, event.get("attempt", 1))
        if kind == "connect":
            connect_started = event["t"]
        elif kind == "connected":
            if result.connect_ms is None:
                result.connect_ms = round(event["t"] - (connect_started or 0.0), 1)
            result.reachable = True
        elif kind == "tls":
            _read_tls(result, event)
        elif kind == "unsolicited":
            result.unsolicited.append(event)
        elif kind == "auth_skipped":
            result.auth_skipped = event.get("reason")
        elif kind == "error":
            if event["step"] == "connect" and result.reachable is None:
                result.reachable = False
            result.error = event["error"]
            result.error_step = event["step"]
            result.error_detail = event.get("detail")


def _read_tls(result: EndpointView, event: dict[str, Any]) -> None:
    if event.get("ok"):
        result.tls = event
        result.tls_failure = None
        if event.get("verified") is True:
            result.verified = True
        return
    if event.get("verify_error"):
        result.verified = False
        result.verify_error = event["verify_error"]
    else:
        result.tls_failure = event


def _read_exchanges(result: EndpointView) -> None:
    authenticated = False
    last_attempt = result.attempts
    for exchange in result.exchanges:
        if exchange.attempt != last_attempt and exchange.step != "banner":
            continue
        step, reply = exchange.step, exchange.reply
        if step == "banner":
            if exchange.attempt == last_attempt or result.banner is None:
                result.banner = reply
        elif step == "ehlo" and reply.code == 250:
            result.ehlo[exchange.phase] = parse_ehlo(reply)
        elif step == "helo" and reply.code == 250:
            result.helo_only[exchange.phase] = True
        elif step == "starttls":
            result.starttls_reply = reply
        elif step == "auth":
            result.auth_reply = reply
            result.auth_last_command = exchange.command
            result.auth_mechanism = _mechanism_of(exchange.command) or result.auth_mechanism
            authenticated = reply.code == 235
        elif step == "mail":
            result.mail_reply["auth" if authenticated else "unauth"] = reply
        elif step == "rcpt":
            result.relay["auth" if authenticated else "unauth"] = exchange
    plain = result.ehlo.get("plain")
    if plain is not None:
        result.starttls_offered = plain.has("STARTTLS")
    elif result.helo_only.get("plain"):
        result.starttls_offered = False


def _carries_secret(command: str | None) -> bool:
    """True for the masked command that carried the password or the whole PLAIN response."""
    return command is not None and command.endswith("********")


def _mechanism_of(command: str | None) -> str | None:
    if command and command.upper().startswith("AUTH "):
        return command.split()[1].upper()
    return None


def stopped_step(item: EndpointView) -> str | None:
    """Return the protocol step of the conversation at its last error, or None without an error.

    A probe deadline is recorded with the step ``deadline``, so the step comes from
    the last line sent or received (or the TLS handshake) before the error. Once the
    connection is established, the step is what the server must send first: the TLS
    handshake on an implicit-TLS port, the greeting on any other.
    """
    step: str | None = None
    stopped: str | None = None
    for event in item.record.events:
        if "check" in event:
            continue
        if event["kind"] == "connected":
            step = "tls" if item.record.mode == "tls" else "banner"
        elif event["kind"] in ("connect", "send", "recv", "tls"):
            step = event["step"]
        elif event["kind"] == "error":
            stopped = step or event["step"]
    return stopped
