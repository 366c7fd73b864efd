"""The recorder of one endpoint's conversation: every line and event, secrets masked.

The event list is the source of truth that frames, findings and reports are
derived from, and it is what a saved result stores. Each event is a plain
dict so it round-trips through JSON unchanged. Keys:

- ``t``: milliseconds since the endpoint probe started;
- ``kind``: ``attempt``, ``connect``, ``send``, ``recv``, ``tls``, ``error``, ``end``;
- ``step``: the protocol step (``banner``, ``ehlo``, ``helo``, ``starttls``,
  ``auth``, ``mail``, ``rcpt``, ``rset``, ``quit``, ``connect``, ``tls``);
- ``phase``: ``plain`` before TLS, ``tls`` inside it;
- ``attempt``: 1 for the first connection, 2 for a reconnect after a failure
  that needed one (certificate not verified, plaintext on a TLS port);
- ``check``: present on events of an extra connection that tests one TLS offer
  (``TLSv1``, ``TLSv1.1``, ``weak-ciphers``); such events never change the facts
  of the main conversation;
- kind-specific fields such as ``text``, ``error``, ``detail``;
- on a ``tls`` event with ``ok`` True: ``version``, ``cipher``, ``bits``, ``cert_pem``
  (the leaf certificate) and ``chain_pem``, the list of certificates the server sent,
  leaf first and in the order sent, unverified. ``chain_pem`` is None when the chain
  could not be read. Records saved before chains were kept and imported transcripts
  lack the key, and readers treat both cases as unknown. ``add`` masks only string
  values, so the certificates of the list are stored unmasked.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from smtplab.credentials import Redactor

log = logging.getLogger("smtplab")

Event = dict[str, Any]


class Recorder:
    """Appends events for one endpoint, masking secrets before anything is stored."""

    def __init__(self, label: str, redactor: Redactor) -> None:
        self.label = label
        self.events: list[Event] = []
        self.phase = "plain"
        self.attempt = 1
        self.check: str | None = None
        self._redact = redactor
        self._start = time.monotonic()

    def elapsed_ms(self) -> float:
        return round((time.monotonic() - self._start) * 1000, 1)

    def add(self, kind: str, step: str, **fields: Any) -> Event:
        event: Event = {
            "t": self.elapsed_ms(),
            "kind": kind,
            "step": step,
            "phase": self.phase,
            "attempt": self.attempt,
        }
        if self.check is not None:
            event["check"] = self.check
        for key, value in fields.items():
            event[key] = self._redact(value) if isinstance(value, str) else value
        self.events.append(event)
        return event

    def sent(self, step: str, text: str) -> None:
        event = self.add("send", step, text=text)
        log.debug("%s C: %s", self.label, event["text"])

    def received(self, step: str, text: str) -> None:
        event = self.add("recv", step, text=text)
        log.debug("%s S: %s", self.label, event["text"])

    def error(self, step: str, error: str, detail: str) -> None:
        event = self.add("error", step, error=str(error), detail=detail)
        log.debug("%s error at %s: %s (%s)", self.label, step, error, event["detail"])

    def new_attempt(self, reason: str) -> None:
        self.attempt += 1
        self.phase = "plain"
        self.add("attempt", "connect", reason=reason)
