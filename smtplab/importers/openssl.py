"""Read the output of ``openssl s_client`` (checked with OpenSSL 3.0.19).

The output starts with the handshake dump: the certificate chain, the server
certificate in PEM form, ``New, TLSv1.3, Cipher is ...`` and ``Verify return code``.
With ``-showcerts`` the chain section shows every certificate the server sent, which
the import keeps (``chain_pem``) for DANE-TA checks.
The SMTP lines follow the ``---`` after that code. s_client does not print what was
typed, so the rules for the lines after the dump are:

- a line of the SMTP reply grammar (``NNN text`` or ``NNN-text``) is a server line;
- any other line is a client line. A terminal echoes what was typed, so a copy of a
  terminal session contains the commands between the replies;
- a reply with no client line before it gets a step guessed from its shape
  (``smtplab.importers.steps.infer_step``).

With ``-starttls smtp``, s_client sends EHLO and STARTTLS itself and shows neither
them nor the greeting, so the plaintext phase stays unknown. Such a session is told
apart from implicit TLS by a pasted ``openssl s_client ...`` command line, when there
is one, or else by the first reply after the dump: a 220 greeting means implicit TLS.

With ``-quiet`` there is no dump, so the SMTP lines start at once, after the
``depth=``/``verify`` lines when stderr was captured too. The handshake then counts
as done with unknown version, cipher and certificate, and a ``verify error`` line
marks the certificate as not verified.
"""

from __future__ import annotations

import errno
import os
import re
import shlex

from smtplab.errors import ErrorClass
from smtplab.importers.conversation import (
    ConversationBuilder,
    Line,
    ParsedTranscript,
    classify_message,
)
from smtplab.importers.tls import PemCollector, cipher_bits

CONNECTED = re.compile(r"^CONNECTED\(")
CONNECT_ERRNO = re.compile(r"^connect:errno=(\d+)$")
NEW_SESSION = re.compile(r"^New, (\S+), Cipher is (\S+)$")
_PROTOCOL = re.compile(r"^\s*Protocol\s*:\s*(\S+)$")
_CIPHER = re.compile(r"^\s*Cipher\s*:\s*(\S+)$")
_VERIFY = re.compile(r"^Verify return code: (\d+) \((.*)\)$")
_VERIFY_ERROR = re.compile(r"^verify error:num=\d+:(.*)$")
# OpenSSL's error queue: "HEX:error:HEXCODE:library:function:reason:file:line:".
_OPENSSL_ERROR = re.compile(r"^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:([^:]*):([^:]*):([^:]*)")
_REPLY_START = re.compile(r"^[2-5]\d\d(?:[ -]|$)")
_SINGLE_250 = re.compile(r"^250(?: |$)")
_NOISE = re.compile(
    r"^(?:---|read R BLOCK|closed|DONE|RENEGOTIATING|KEYUPDATE|(?:read|write):errno=\d+"
    r"|depth=\d+ .*|verify (?:return|error):.*)$"
)
_BLOCK_STARTS = ("Post-Handshake New Session Ticket arrived:", "SSL-Session:")
_CONNECT_ERRORS = {
    errno.ECONNREFUSED: ErrorClass.REFUSED,
    errno.ETIMEDOUT: ErrorClass.TIMEOUT,
    errno.EHOSTUNREACH: ErrorClass.UNREACHABLE,
    errno.ENETUNREACH: ErrorClass.UNREACHABLE,
    errno.ECONNRESET: ErrorClass.RESET,
}
# The s_client manual lists command letters at the start of a typed line: R
# renegotiates, k and K update keys. s_client then prints RENEGOTIATING or KEYUPDATE.
# NOTE: the importer assumes such a line did not reach the server; not checked.
_COMMAND_LETTERS = {"RENEGOTIATING": ("R",), "KEYUPDATE": ("k", "K")}


def parse_openssl(lines: list[Line]) -> ParsedTranscript:
    reader = _OpensslReader()
    for number, text in lines:
        reader.feed(number, text)
    return reader.finish(lines[-1][0] if lines else 0)


class _OpensslReader:
    def __init__(self) -> None:
        self.builder = ConversationBuilder()
        self.pem = PemCollector()
        self.address: str | None = None
        self.port: int | None = None
        self.server_name: str | None = None
        self.mode: str | None = None
        self._state = "handshake"  # then "protocol", or "block" inside a session ticket dump
        self._errors: list[str] = []
        self._version: str | None = None
        self._cipher: str | None = None
        self._failed = False
        self._verify: tuple[int, str] | None = None
        self._seen_protocol = False
        self._starttls_noted = False
        self._typed_seen = False
        self._chain: list[str] | None = None
        self._verify_error: str | None = None

    def feed(self, number: int, text: str) -> None:
        if self._state == "handshake":
            self._handshake_line(number, text.rstrip())
        elif self._state == "block":
            if text.strip() == "---":
                self._state = "protocol"
        else:
            self._protocol_line(number, text)

    def finish(self, last: int) -> ParsedTranscript:
        self.pem.check_closed()
        return self.builder.result(
            last, address=self.address, port=self.port, server_name=self.server_name, mode=self.mode
        )

    # The handshake dump

    def _handshake_line(self, number: int, text: str) -> None:
        if self.pem.feed(number, text):
            return
        if text == "Server certificate" and self._chain is None:
            # With -showcerts the chain section above this line contains every certificate
            # the server sent, and the leaf is not printed again below it.
            self._chain = list(self.pem.certificates)
        if "s_client" in text and not self.builder.events:
            self._read_command(text)
        elif _REPLY_START.match(text) and not self.builder.events and self._verify is None:
            self._quiet_handshake(number)
            self._protocol_line(number, text)
        elif (match := _VERIFY_ERROR.match(text)) and self._verify_error is None:
            self._verify_error = match.group(1)
        elif CONNECTED.match(text):
            self.builder.connect(number, self.address, self.port)
            self.builder.connected(number)
        elif match := CONNECT_ERRNO.match(text):
            self._connect_failed(number, int(match.group(1)))
        elif match := _OPENSSL_ERROR.match(text):
            self._errors.append(f"{match.group(1)}: {match.group(3)}")
        elif text.startswith("Didn't find STARTTLS"):
            self.builder.note(number, text, "starttls")
            self.mode = "starttls"
        elif match := NEW_SESSION.match(text):
            self._read_session(match.group(1), match.group(2))
        elif (match := _PROTOCOL.match(text)) and self._version is None:
            self._version = match.group(1)
        elif (match := _CIPHER.match(text)) and self._cipher is None:
            self._cipher = match.group(1)
        elif match := _VERIFY.match(text):
            self._verify = (int(match.group(1)), match.group(2))
        elif text == "---" and self._verify is not None:
            self._handshake_done(number)

    def _read_command(self, text: str) -> None:
        """Take the endpoint from a pasted ``openssl s_client ...`` command line."""
        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        options = dict(zip(words, [*words[1:], ""], strict=True))
        if target := options.get("-connect"):
            host, _, port = target.rpartition(":")
            self.address = host.strip("[]") or None
            self.port = int(port) if port.isdigit() else None
        self.server_name = options.get("-servername") or None
        self.mode = "starttls" if "-starttls" in options else "tls"

    def _connect_failed(self, number: int, code: int) -> None:
        builder = self.builder
        if not builder.events:
            builder.connect(number, self.address, self.port)
        error = _CONNECT_ERRORS.get(code, ErrorClass.UNREACHABLE)
        detail = "; ".join([*self._errors, f"connect errno {code} ({os.strerror(code)})"])
        builder.error(number, error, detail, "connect")
        self._state = "protocol"

    def _read_session(self, version: str, cipher: str) -> None:
        if cipher == "(NONE)":
            self._failed = True
            return
        # OpenSSL 1.0 printed "TLSv1/SSLv3" here; the Protocol line of the session has it then.
        if version.startswith(("TLSv", "SSLv")) and "/" not in version:
            self._version = version
        self._cipher = cipher

    def _handshake_done(self, number: int) -> None:
        self._state = "protocol"
        builder = self.builder
        if self._failed:
            builder.tls_failed(number, "; ".join(self._errors) or "TLS handshake failed")
            return
        assert self._verify is not None
        code, message = self._verify
        if code != 0:
            builder.verify_failed(number, message)
        builder.start_tls(
            number, version=self._version, cipher=self._cipher, bits=cipher_bits(self._cipher),
            verified=True if code == 0 else None,
        )
        if self.pem.first is not None:
            builder.attach_certificate(self.pem.first_line, self.pem.first)
        if self._chain:
            builder.attach_chain(self.pem.first_line, self._chain)
        if self.mode == "starttls":
            self._note_starttls(number)

    def _quiet_handshake(self, number: int) -> None:
        """Record the handshake of ``-quiet`` output, which printed an SMTP line and no dump."""
        self._state = "protocol"
        builder = self.builder
        if self._verify_error is not None:
            builder.verify_failed(number, self._verify_error)
        builder.start_tls(number, verified=None)
        builder.note(
            number, "openssl s_client -quiet output: TLS version, cipher and certificate "
            "are not shown", "tls",
        )
        if self.mode == "starttls":
            self._note_starttls(number)

    def _note_starttls(self, number: int) -> None:
        if self._starttls_noted:
            return
        self._starttls_noted = True
        self.mode = "starttls"
        self.builder.expect_banner = False
        self.builder.note(
            number, "openssl s_client read the greeting and sent EHLO and STARTTLS before the "
            "handshake; its output does not show that plaintext part", "tls",
        )

    # The SMTP lines after the dump

    def _protocol_line(self, number: int, text: str) -> None:
        builder = self.builder
        if builder.in_data and self._typed_seen:
            # Only a session with echoed commands shows the message content. Without
            # echo, the line after the 354 is already the reply to the final ".".
            self._data_line(number, text)
            return
        stripped = text.rstrip()
        if not stripped:
            return
        if stripped.startswith(_BLOCK_STARTS):
            self._state = "block"
        elif _NOISE.match(stripped):
            self._noise(stripped)
        elif match := _OPENSSL_ERROR.match(stripped):
            self._late_error(number, f"{match.group(1)}: {match.group(3)}")
        elif _REPLY_START.match(stripped):
            self._reply_line(number, stripped)
        else:
            if not self._seen_protocol and self.mode != "tls":
                self._note_starttls(number)
            self._seen_protocol = True
            self._typed_seen = True
            builder.client(number, stripped)

    def _data_line(self, number: int, text: str) -> None:
        # Message content is sent as typed, so a line that looks like a reply is content too.
        self.builder.client(number, text.rstrip("\r"))

    def _reply_line(self, number: int, text: str) -> None:
        first = not self._seen_protocol
        self._seen_protocol = True
        if first and self.mode is None and text.startswith("220"):
            self.mode = "tls"  # a greeting right after the handshake: implicit TLS
        elif first and self.mode != "tls":
            self._note_starttls(number)
            if _SINGLE_250.match(text):
                # NOTE: OpenSSL 3.0.19 prints the last line of the plaintext EHLO reply
                # once more after the dump; other versions may not.
                self.builder.note(
                    number, f"line left over from the plaintext EHLO reply: {text}", "tls"
                )
                return
        self.builder.server(number, text)

    def _noise(self, text: str) -> None:
        letters = _COMMAND_LETTERS.get(text)
        if letters is None:
            return
        last = self.builder.events[-1] if self.builder.events else None
        if last is not None and last["kind"] == "send" and str(last["text"]).startswith(letters):
            self.builder.retract_last_send(f"s_client took it as its {text.lower()} command")

    def _late_error(self, number: int, detail: str) -> None:
        # A server that closes after 221 without a TLS close_notify makes OpenSSL report
        # "unexpected eof"; after QUIT that is the normal end, not an error.
        if self.builder.current_step() == "quit":
            return
        self.builder.error(number, classify_message(detail, connecting=False), detail)
