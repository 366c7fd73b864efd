"""SASL payloads of imported AUTH exchanges (RFC 4954), masked before anything is stored."""

from __future__ import annotations

import base64
import binascii

from smtplab.credentials import MASK


class AuthExchange:
    """One AUTH command and the client's responses to its 334 challenges.

    Lines are shown the way a live probe records them: the mechanism stays and every
    payload becomes ``MASK``. The one exception is the LOGIN response to a user name
    prompt, which a live probe also records as sent. ``secrets`` collects each masked
    payload and any password decoded from it, so the caller can mask them anywhere
    else in the transcript.
    """

    def __init__(self, command: str) -> None:
        parts = command.split()
        self.mechanism = parts[1].upper() if len(parts) > 1 else ""
        self.secrets: list[str] = []
        self.username: str | None = None
        self.waiting = False
        """True after a 334 challenge, until the client's response."""
        self._challenge = ""
        self.shown_command = command
        if len(parts) > 2:
            self.shown_command = f"{parts[0]} {parts[1]} {MASK}"
            self._keep_secret(parts[2], initial=True)

    def challenge(self, text: str) -> None:
        """Record the text of a 334 challenge; the next client line is the response to it."""
        self.waiting = True
        self._challenge = text.strip()

    def response(self, text: str) -> str:
        """Return a client response as it may be stored."""
        self.waiting = False
        payload = text.strip()
        if payload == "*":  # the client cancels the exchange (RFC 4954 section 4)
            return text
        if self.mechanism == "LOGIN" and _is_username_prompt(self._challenge):
            self.username = _decode(payload) or self.username
            return text
        self._keep_secret(payload, initial=False)
        return MASK

    def _keep_secret(self, payload: str, *, initial: bool) -> None:
        self.secrets.append(payload)
        decoded = _decode(payload)
        if decoded is None:
            return
        if self.mechanism == "PLAIN":
            # PLAIN message (RFC 4616): authzid NUL authcid NUL password.
            fields = decoded.split("\0")
            if len(fields) == 3:
                self.username = fields[1] or self.username
                self.secrets.append(fields[2])
        elif self.mechanism == "LOGIN":
            # LOGIN's initial response is the user name; a later one is the password.
            if initial:
                self.username = decoded or self.username
            else:
                self.secrets.append(decoded)


def _is_username_prompt(challenge: str) -> bool:
    decoded = _decode(challenge)
    return decoded is not None and decoded.strip().lower().startswith("user")


def _decode(text: str) -> str | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="replace")
