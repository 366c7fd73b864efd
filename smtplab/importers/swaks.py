"""Read the output of swaks (checked with swaks 20201014.0).

swaks marks every line with a four-character prefix. Lines sent before and inside TLS
start with `` -> `` and `` ~> ``, replies with ``<-  `` and ``<~  ``. ``**> ``,
``*~> ``, ``<** `` and ``<~* `` mark the same when swaks did not expect them (a 554 to
RCPT, for example). ``=== `` starts swaks' own information and ``*** `` its errors. The
``=== Trying HOST:PORT...`` line names the endpoint, and
``=== TLS started with cipher VERSION:CIPHER:BITS`` reports the handshake.
``--tls-get-peer-cert`` prints the server certificate as ``=== `` lines.
"""

from __future__ import annotations

import re

from smtplab.errors import ErrorClass
from smtplab.importers.conversation import (
    ConversationBuilder,
    Line,
    ParsedTranscript,
    TranscriptError,
    classify_message,
    quote,
)
from smtplab.importers.tls import PemCollector
from smtplab.transcript import Event

SEND_PREFIXES = {" -> ": "plain", " ~> ": "tls", "**> ": "plain", "*~> ": "tls"}
RECV_PREFIXES = {"<-  ": "plain", "<~  ": "tls", "<** ": "plain", "<~* ": "tls"}
INFO_PREFIX = "=== "
ERROR_PREFIX = "*** "
# --show-raw-text adds hex dumps of the same bytes, which the importer skips.
_DUMP_PREFIXES = ("  > ", "<   ")

_TRYING = re.compile(r"^Trying (.+):(\d+)\.\.\.$")
_CONNECTED = re.compile(r"^Connected to (.+)\.$")
_TLS_STARTED = re.compile(r"^TLS started with cipher ([^:\s]+):([^:\s]+):(\d+)$")
_DATA_SUMMARY = re.compile(r"^\d+ lines sent$")  # --suppress-data shows this for the message
_REPLY_START = re.compile(r"^[2-5]\d\d(?:[ -]|$)")
_SKIPPED_AUTH = (
    "Host did not advertise authentication",
    "Auth not attempted",
    "Auth advertised but not supported locally",
)


def parse_swaks(lines: list[Line]) -> ParsedTranscript:
    reader = _SwaksReader()
    for number, text in lines:
        reader.feed(number, text)
    return reader.finish(lines[-1][0] if lines else 0)


class _SwaksReader:
    def __init__(self) -> None:
        self.builder = ConversationBuilder()
        self.pem = PemCollector()
        self.address: str | None = None
        self.port: int | None = None
        self._message: tuple[Event, str] | None = None
        """The event of the last ``***`` line and its text field, for continuation lines."""

    def feed(self, number: int, text: str) -> None:
        if not text.strip() or text.startswith(("#", "$ ")):
            return
        prefix, content = text[:4].ljust(4), text[4:]
        if prefix in SEND_PREFIXES:
            self._send(number, content, SEND_PREFIXES[prefix])
        elif prefix in RECV_PREFIXES:
            expected = prefix in ("<-  ", "<~  ")
            self._receive(number, content.rstrip(), RECV_PREFIXES[prefix], expected=expected)
        elif prefix == INFO_PREFIX:
            self._info(number, content.rstrip())
        elif prefix == ERROR_PREFIX:
            self._error(number, content.rstrip())
        elif prefix not in _DUMP_PREFIXES:
            raise TranscriptError(
                number, f"{quote(text)} has no swaks prefix (such as '=== ', ' -> ', '<-  ', "
                "' ~> ', '<~  ', '*** '); is this swaks output?",
            )

    def finish(self, last: int) -> ParsedTranscript:
        self.pem.check_closed()
        return self.builder.result(last, address=self.address, port=self.port)

    def _follow_phase(self, number: int, phase: str) -> None:
        # A "~>" or "<~" line proves TLS even when the "TLS started" line was cut out.
        if phase == "tls" and self.builder.phase == "plain":
            self.builder.start_tls(number)

    def _send(self, number: int, content: str, phase: str) -> None:
        self._follow_phase(number, phase)
        builder = self.builder
        if builder.in_data:
            builder.client(number, content)
            if _DATA_SUMMARY.match(content):
                builder.end_data()
            return
        builder.client(number, content.rstrip())

    def _receive(self, number: int, content: str, phase: str, *, expected: bool) -> None:
        self._follow_phase(number, phase)
        if expected or _REPLY_START.match(content):
            self.builder.server(number, content)
            return
        step = self.builder.pending_step
        if content.startswith("Timeout"):
            self.builder.error(number, ErrorClass.REPLY_TIMEOUT, content, step)
            return
        # swaks prints whatever a server sent when it was no SMTP reply at all.
        self.builder.add("recv", step or self.builder.current_step(), number, text=content)
        self.builder.error(number, ErrorClass.PROTOCOL_ERROR, f"invalid reply line {quote(content)}", step)

    def _info(self, number: int, content: str) -> None:
        if self.pem.feed(number, content):
            if self.pem.first is not None and not self.pem.inside:
                self.builder.attach_certificate(self.pem.first_line, self.pem.first)
            return
        builder = self.builder
        if match := _TRYING.match(content):
            self.address, self.port = match.group(1).strip("[]"), int(match.group(2))
            builder.connect(number, self.address, self.port)
        elif _CONNECTED.match(content):
            builder.connected(number)
        elif match := _TLS_STARTED.match(content):
            builder.start_tls(number, version=match.group(1), cipher=match.group(2), bits=int(match.group(3)))
        elif content.startswith("TLS started"):
            builder.start_tls(number)

    def _error(self, number: int, content: str) -> None:
        if content[:1].isspace() and self._message is not None:
            self._continue_message(content.strip())
            return
        builder = self.builder
        if content.startswith("Error connecting"):
            builder.error(number, classify_message(content, connecting=True), content, "connect")
            self._message = (builder.events[-1], "detail")
        elif content.startswith("TLS startup failed"):
            self._tls_failed(number, content)
        elif "closed connection unexpectedly" in content:
            builder.error(number, ErrorClass.CLOSED, content)
            self._message = (builder.events[-1], "detail")
        elif content.startswith(_SKIPPED_AUTH):
            builder.add("auth_skipped", "auth", number, reason=content)
            self._message = (builder.events[-1], "reason")
        else:
            builder.note(number, content)
            self._message = (builder.events[-1], "text")

    def _continue_message(self, text: str) -> None:
        assert self._message is not None
        event, key = self._message
        event[key] = f"{event[key]} {text}"
        if event["kind"] == "error" and event["step"] == "connect":
            event["error"] = str(classify_message(event[key], connecting=True))

    def _tls_failed(self, number: int, content: str) -> None:
        builder = self.builder
        if "verify failed" in content.lower():
            builder.verify_failed(number, content)
            builder.error(number, ErrorClass.TLS_FAILED, content, "tls")
        else:
            builder.tls_failed(number, content)
        self._message = (builder.events[-1], "detail")
