"""Property-based tests: any server input gives a result or a clear parse error."""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtplab.analysis.interpret import view
from smtplab.errors import ProtocolError
from smtplab.net.connection import printable
from smtplab.protocol.ehlo import greeting_host, parse_ehlo
from smtplab.protocol.reply import Reply, ReplyAssembler, parse_line
from smtplab.record import EndpointRecord

codes = st.integers(min_value=200, max_value=599).map(str)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                max_size=80)
reply_lines = st.one_of(
    st.builds(lambda code, sep, text: f"{code}{sep}{text}", codes, st.sampled_from([" ", "-", ""]), texts),
    texts,
)


@given(reply_lines)
def test_parse_line_result_or_protocol_error(line: str) -> None:
    try:
        parsed = parse_line(line)
    except ProtocolError:
        return
    assert 200 <= parsed.code <= 599
    assert line.startswith(str(parsed.code))


@given(st.lists(reply_lines, max_size=30))
def test_assembler_never_crashes(lines: list[str]) -> None:
    assembler = ReplyAssembler(max_lines=20)
    for line in lines:
        try:
            reply = assembler.feed(line)
        except ProtocolError:
            assembler = ReplyAssembler(max_lines=20)
            continue
        if reply is not None:
            assert reply.lines
            assert reply.enhanced is None or reply.enhanced[0] == str(reply.code)[0]


@given(st.lists(texts, min_size=1, max_size=20))
def test_parse_ehlo_any_reply(lines: list[str]) -> None:
    ehlo = parse_ehlo(Reply(250, tuple(lines)))
    assert all(name == name.upper() for name, _ in ehlo.keywords)
    assert isinstance(ehlo.auth_mechanisms, tuple)
    greeting_host(Reply(220, tuple(lines)))


@given(st.binary(max_size=300))
def test_printable_escapes_control_bytes(raw: bytes) -> None:
    text = printable(raw)
    assert all(char.isprintable() or char == "\t" for char in text)


events = st.lists(
    st.fixed_dictionaries({
        "t": st.floats(min_value=0, max_value=1e6, allow_nan=False),
        "kind": st.sampled_from(["send", "recv", "tls", "error", "connect", "connected", "attempt",
                                 "unsolicited", "partial"]),
        "step": st.sampled_from(["banner", "ehlo", "helo", "starttls", "auth", "mail", "rcpt",
                                 "rset", "quit", "tls", "connect"]),
        "phase": st.sampled_from(["plain", "tls"]),
        "attempt": st.integers(min_value=1, max_value=3),
        "text": reply_lines,
        "error": st.sampled_from(["reset", "timeout", "protocol_error"]),
        "ok": st.booleans(),
    }),
    max_size=40,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_view_of_any_event_log(log: list[dict]) -> None:
    record = EndpointRecord("fuzz.test", "127.0.0.1", 25, "starttls", "2026-01-01T00:00:00+00:00", log)
    item = view(record)
    item.auth_result  # noqa: B018 - the property must not raise
    item.relay_result("unauth")
    item.auth_mechanisms("tls")


def test_fuzz_reply_parser_bounded() -> None:
    """Random bytes through the line decoder and reply assembler for a fixed time."""
    fuzz = test_assembler_never_crashes.hypothesis.fuzz_one_input
    deadline = time.monotonic() + float(os.environ.get("SMTPLAB_FUZZ_SECONDS", "3"))
    runs = 0
    while time.monotonic() < deadline:
        fuzz(os.urandom(256))
        runs += 1
    assert runs > 0


transcript_lines = st.lists(
    st.one_of(
        st.builds(lambda prefix, line: prefix + line,
                  st.sampled_from(["S: ", "C: ", "<- ", " -> ", "<~ ", " ~> ", "=== ", "", "TLS "]),
                  reply_lines),
        texts,
    ),
    max_size=30,
)


@settings(deadline=None)  # the first example imports pandas to build the frames
@given(transcript_lines)
def test_importer_result_or_value_error(lines: list[str]) -> None:
    from smtplab.importers import from_transcript

    try:
        result = from_transcript("\n".join(lines), host="fuzz.test", port=25)
    except ValueError:
        return
    assert len(result.run.endpoints) == 1
    result.endpoints  # noqa: B018 - building the frames must not raise
    result.finding_list  # noqa: B018
