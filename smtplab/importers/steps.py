"""Step names of imported lines, the same names a live probe records.

A client line names its step by its command verb. A server reply takes the step of
the oldest command still waiting for a reply. When a transcript does not show the
commands (``openssl s_client`` does not echo what was typed into a pipe),
``infer_step`` guesses the step from the reply's shape.
"""

from __future__ import annotations

from smtplab.protocol.reply import Reply

# Verbs of RFC 5321 section 4.1, STARTTLS (RFC 3207), AUTH (RFC 4954), BDAT
# (RFC 3030) and LHLO (RFC 2033), mapped to the probe's step names.
COMMAND_STEPS: dict[str, str] = {
    "EHLO": "ehlo",
    "LHLO": "ehlo",
    "HELO": "helo",
    "STARTTLS": "starttls",
    "AUTH": "auth",
    "MAIL": "mail",
    "RCPT": "rcpt",
    "RSET": "rset",
    "QUIT": "quit",
    "DATA": "data",
    "BDAT": "data",
}

UNKNOWN_STEP = "unknown"
"""Step of a reply whose command is neither shown nor recognisable from the reply."""

# Enhanced status subjects (RFC 3463 section 3.2) that name the sender (X.1.0,
# X.1.7, X.1.8) or a recipient (X.1.1 to X.1.6).
_SENDER_DETAILS = {"1.0", "1.7", "1.8"}
_RECIPIENT_DETAILS = {"1.1", "1.2", "1.3", "1.4", "1.5", "1.6"}


def command_step(text: str) -> str | None:
    """Step of a client command line; the lower-case verb for other verbs, None for no verb."""
    verb = text.split(" ", 1)[0].upper()
    if verb in COMMAND_STEPS:
        return COMMAND_STEPS[verb]
    if verb.isascii() and verb.isalpha():
        return verb.lower()
    return None


def infer_step(reply: Reply, *, in_auth: bool, after_data: bool) -> str:
    """Guess the step of a reply whose command the transcript does not show.

    ``in_auth`` is true while an AUTH exchange waits for its outcome (after a 334),
    ``after_data`` right after a 354 reply to DATA. The first matching rule wins:

    - 334 and 235, or any reply inside AUTH, are ``auth``;
    - 354, and the reply after the message, are ``data``;
    - 221 is ``quit``, and a multi-line 250 is ``ehlo``;
    - an enhanced status code about the sender is ``mail``, one about a recipient ``rcpt``;
    - a reply that denies relaying (X.7.1 or the word "relay") is ``rcpt``;
    - anything else is ``unknown``.
    """
    code = reply.code
    if in_auth or code in (334, 235):
        return "auth"
    if after_data or code == 354:
        return "data"
    if code == 221:
        return "quit"
    if code == 250 and len(reply.lines) > 1:
        return "ehlo"
    detail = (reply.enhanced or "")[2:]
    if detail in _SENDER_DETAILS:
        return "mail"
    if detail in _RECIPIENT_DETAILS:
        return "rcpt"
    if detail == "7.1" or "relay" in reply.text.lower():
        return "rcpt"
    return UNKNOWN_STEP
