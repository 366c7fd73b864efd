"""Error classes, protocol steps and failure phrases in words, in one language.

The terminal summary and the report templates both use ``Phrases``, so an error or a
step reads the same everywhere. The texts are English message ids marked with ``N_``,
which ``scripts/extract_messages.py`` extracts from this module and ``smtplab.errors``.
"""

from __future__ import annotations

from collections.abc import Callable

from smtplab.errors import ERROR_NAMES, ErrorClass
from smtplab.i18n import N_, gettext_for

STEP_NAMES = {
    "dns": N_("the DNS lookup"),
    "connect": N_("connecting"),
    "banner": N_("the greeting"),
    "tls": N_("the TLS handshake"),
}
"""Message ids of the protocol steps that are not named by an SMTP command."""

_DNS_ERRORS = frozenset({ErrorClass.DNS_NXDOMAIN, ErrorClass.DNS_NO_ADDRESS, ErrorClass.DNS_TIMEOUT,
                         ErrorClass.DNS_FAILURE})
"""Error classes of the DNS step, each named as a DNS result, so a phrase need not add the step."""

COMMAND_STEPS = {"mail": "MAIL FROM", "rcpt": "RCPT TO"}
"""Steps named by their SMTP command, which stays untranslated. Other steps are upper-cased."""

MODE_NAMES = {"tls": N_("implicit TLS"), "plain": N_("plain SMTP")}
"""Message ids of the endpoint modes other than STARTTLS, which keeps its protocol name."""

FAILURE = N_("%(error)s during %(step)s (%(detail)s)")
FAILURE_WITHOUT_STEP = N_("%(error)s (%(detail)s)")
"""The failure phrase for an error whose name already says the step, as "DNS lookup timed out" does."""
STOPPED = N_("stopped during %(step)s: %(error)s")
NO_AUTH = N_("no AUTH")


class Phrases:
    """The words and phrases for errors and steps in one language (``en`` or ``zh-CN``)."""

    def __init__(self, lang: str) -> None:
        self._gettext: Callable[[str], str] = gettext_for(lang)

    def _text(self, message: str, **values: object) -> str:
        # %-format every translation, as Jinja2's newstyle gettext does in the templates.
        return self._gettext(message) % values

    def error_name(self, error: object) -> str:
        """Name an error class; a value that is no error class is returned as it is."""
        message = ERROR_NAMES.get(str(error))
        return str(error) if message is None else self._text(message)

    def step_name(self, step: str | None) -> str:
        """Name a protocol step (the ``step`` of a transcript event)."""
        message = STEP_NAMES.get(step or "")
        if message is not None:
            return self._text(message)
        return COMMAND_STEPS.get(step or "", (step or "").upper())

    def mode_name(self, mode: str | None) -> str:
        """Name an endpoint mode: STARTTLS, implicit TLS or plain SMTP."""
        message = MODE_NAMES.get(mode or "")
        return "STARTTLS" if message is None else self._text(message)

    def failure(self, error: object, step: str | None, detail: object) -> str:
        if step == "dns" and str(error) in _DNS_ERRORS:
            return self._text(FAILURE_WITHOUT_STEP, error=self.error_name(error), detail=detail)
        return self._text(FAILURE, error=self.error_name(error), step=self.step_name(step), detail=detail)

    def stopped(self, error: object, step: str | None) -> str:
        return self._text(STOPPED, error=self.error_name(error), step=self.step_name(step))

    def no_auth(self) -> str:
        return self._text(NO_AUTH)
