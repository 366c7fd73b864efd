"""``from_transcript``: one captured SMTP conversation as a ``ProbeResult``."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.importers.conversation import Line, ParsedTranscript, TranscriptError, split_lines
from smtplab.importers.dialogue import DIALOGUE_LINE, parse_dialogue
from smtplab.importers.openssl import CONNECT_ERRNO, CONNECTED, NEW_SESSION, parse_openssl
from smtplab.importers.swaks import INFO_PREFIX, RECV_PREFIXES, SEND_PREFIXES, parse_swaks
from smtplab.record import EndpointRecord, HostRecord, RunRecord, utc_now_iso
from smtplab.result import ProbeResult
from smtplab.targets import TlsMode, parse_target

log = logging.getLogger("smtplab")

PARSERS: dict[str, Callable[[list[Line]], ParsedTranscript]] = {
    "swaks": parse_swaks,
    "openssl": parse_openssl,
    "dialogue": parse_dialogue,
}
"""The transcript formats by the name ``format=`` takes."""

_SWAKS_PREFIXES = (INFO_PREFIX, *SEND_PREFIXES, *RECV_PREFIXES)
_OPENSSL_SUMMARY = re.compile(r"^SSL handshake has read \d+ bytes")
# s_client prints these verification lines on stderr, with or without -quiet.
_OPENSSL_VERIFY = re.compile(r"^(?:depth=\d+ |verify return:\d+$|verify error:num=\d+:)")


def detect_format(text: str) -> str:
    """Name the format of a transcript: ``openssl``, ``swaks`` or ``dialogue``.

    The first rule that any line matches wins. A ``CONNECTED(``, ``connect:errno=``,
    ``New, ..., Cipher is``, ``SSL handshake has read``, ``depth=N`` or ``verify return:``
    line means openssl. A line starting with one of swaks' prefixes (``=== ``, `` -> ``,
    `` ~> ``, ``<-  ``, ``<~  ``, ``<** ``, ``<~* ``, ``**> ``, ``*~> ``) means swaks.
    An ``S:``, ``C:``, ``<`` or ``>`` line means a dialogue. Raises ValueError when no
    rule matches.
    """
    lines = [line for _, line in split_lines(text) if line.strip()]
    if any(_is_openssl_line(line) for line in lines):
        return "openssl"
    if any(line.startswith(_SWAKS_PREFIXES) for line in lines):
        return "swaks"
    if any(DIALOGUE_LINE.match(line) for line in lines):
        return "dialogue"
    raise ValueError(
        "unknown transcript format: expected swaks output (lines starting '=== ', ' -> ', "
        "'<-  '), openssl s_client output (a 'CONNECTED(' line) or a dialogue (lines "
        "starting 'S:' and 'C:'); pass format='swaks', 'openssl' or 'dialogue' to choose, "
        "for example format='openssl' for the bare SMTP lines of 'openssl s_client -quiet'"
    )


def _is_openssl_line(line: str) -> bool:
    return bool(
        CONNECTED.match(line) or CONNECT_ERRNO.match(line) or NEW_SESSION.match(line)
        or _OPENSSL_SUMMARY.match(line) or _OPENSSL_VERIFY.match(line)
    )


def from_transcript(
    text: str,
    *,
    host: str | None = None,
    port: int | None = None,
    mode: str | None = None,
    format: str | None = None,
) -> ProbeResult:
    """Read one captured SMTP conversation into the result a live probe returns.

    ``text`` is swaks output, ``openssl s_client`` output or an ``S:``/``C:``
    dialogue; ``format`` picks one, None detects it (``detect_format``). ``host``,
    ``port`` and ``mode`` (``starttls``, ``tls`` or ``plain``) override what the
    transcript shows. The host and port must come from one or the other. Without
    either, the mode is ``tls`` when the greeting came inside TLS and ``starttls``
    otherwise. AUTH payloads are masked while the text is read.

    Raises ValueError, naming the line where it can, when the text cannot be read.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("the transcript is empty")
    chosen = format or detect_format(text)
    parser = PARSERS.get(chosen)
    if parser is None:
        raise ValueError(f"unknown transcript format {chosen!r}: expected one of {', '.join(PARSERS)}")
    parsed = parser(split_lines(text))
    _check_not_empty(parsed, chosen)
    run = _run_record(parsed, chosen, host=host, port=port, mode=mode)
    log.info("imported a %s transcript of %s port %s", chosen, run.hosts[0].host, run.endpoints[0].port)
    return ProbeResult(run)


def _check_not_empty(parsed: ParsedTranscript, chosen: str) -> None:
    """Raise TranscriptError when the parser found no connection, handshake or SMTP line."""
    if any(event["kind"] != "end" for event in parsed.events):
        return
    raise TranscriptError(
        0, f"no SMTP lines found in the {chosen} transcript. Expected server replies such as "
        "'220 mail.example.com ESMTP'. Check format= and that the whole output was copied.",
    )


def _run_record(
    parsed: ParsedTranscript, chosen: str, *, host: str | None, port: int | None, mode: str | None
) -> RunRecord:
    target = parse_target(_host_name(parsed, host))
    port_number = _port_number(parsed, port)
    address = _address(parsed, target.host if target.is_literal else None)
    endpoint_mode = _mode(parsed, mode)
    for event in parsed.events:
        if event["kind"] == "connect":
            event["address"], event["port"] = address, port_number
    now = utc_now_iso()
    # NOTE: transcripts carry no dates, so the run is dated at import. Certificate
    # days_left and expiry findings are therefore relative to the import time.
    host_record = HostRecord(
        target.host, target.ascii_host, target.is_literal, [address] if address else []
    )
    endpoint = EndpointRecord(target.host, address, port_number, endpoint_mode, now, parsed.events)
    return RunRecord(
        started_at=now,
        finished_at=now,
        vantage=f"imported:{chosen}",
        config=_config_seen(parsed),
        username=parsed.username,
        hosts=[host_record],
        endpoints=[endpoint],
        tool_version=__version__,
    )


_SENT = {
    "ehlo": re.compile(r"^(?:EHLO|HELO)\s+(\S+)", re.IGNORECASE),
    "mail": re.compile(r"^MAIL FROM:\s*<([^>]*)>", re.IGNORECASE),
    "rcpt": re.compile(r"^RCPT TO:\s*<([^>]*)>", re.IGNORECASE),
}
_CONFIG_FIELDS = {"ehlo": "ehlo_name", "mail": "mail_from", "rcpt": "rcpt_to"}


def _config_seen(parsed: ParsedTranscript) -> dict[str, object]:
    """Return the run settings with the client's EHLO name and relay test addresses from the transcript.

    What the transcript does not show is None, so a report does not present this
    machine's defaults as the client's.
    """
    settings: dict[str, object] = ProbeConfig(resolve=False).to_dict()
    settings.update({field: None for field in _CONFIG_FIELDS.values()})
    for event in parsed.events:
        pattern = _SENT.get(event.get("step") or "")
        if event["kind"] != "send" or pattern is None:
            continue
        field = _CONFIG_FIELDS[event["step"]]
        if settings[field] is None and (match := pattern.match(str(event.get("text", "")))):
            settings[field] = match.group(1)
    return settings


def _host_name(parsed: ParsedTranscript, host: str | None) -> str:
    name = host or parsed.server_name or parsed.address
    if not name:
        raise ValueError("the transcript does not name the server: pass host='mail.example.com'")
    return name


def _port_number(parsed: ParsedTranscript, port: int | None) -> int:
    number = port if port is not None else parsed.port
    if number is None:
        raise ValueError("the transcript does not name the server port: pass port=587 (for example)")
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 65536:
        raise ValueError(f"invalid port {number!r}: expected 1 to 65535")
    return number


def _address(parsed: ParsedTranscript, literal_host: str | None) -> str | None:
    """Return the IP address the client connected to, when the transcript or the host shows it."""
    if parsed.address:
        try:
            return str(ipaddress.ip_address(parsed.address))
        except ValueError:
            pass
    return literal_host


def _mode(parsed: ParsedTranscript, mode: str | None) -> str:
    chosen = mode or parsed.mode or TlsMode.STARTTLS.value
    try:
        return TlsMode(chosen.lower()).value
    except ValueError:
        modes = ", ".join(item.value for item in TlsMode)
        raise ValueError(f"invalid mode {chosen!r}: expected one of {modes}") from None
