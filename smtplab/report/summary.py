"""A short plain-text summary per host for the terminal, in English or Chinese.

``smtplab probe`` prints this after every run, so it is built with gettext and
``%`` formatting instead of Jinja2, whose import and template compilation took
about 40 ms of each run. The message ids are the ones in
``templates/summary.txt.j2`` and ``templates/_words.j2``, which stay their source
for message extraction and give the report its error and step names.
``tests/test_summary_phrases.py`` checks that both give the same text for every
error class and step, in every language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smtplab.analysis.interpret import EndpointView, stopped_step
from smtplab.diagnosis.severity import Severity
from smtplab.i18n import gettext_for
from smtplab.report.reasons import final_error

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

_MARKS = {Severity.CRITICAL: "[!!]", Severity.WARNING: "[! ]", Severity.INFO: "[i ]",
          Severity.OK: "[ok]"}

ERROR_NAMES = {
    "dns_nxdomain": "host name not found",
    "dns_no_address": "no address record",
    "dns_timeout": "DNS lookup timed out",
    "dns_failure": "DNS lookup failed",
    "refused": "connection refused",
    "timeout": "timed out",
    "unreachable": "network unreachable",
    "reset": "connection reset",
    "closed": "connection closed",
    "reply_timeout": "no reply in time",
    "deadline": "deadline exceeded",
    "protocol_error": "protocol error",
    "greeting_rejected": "greeting rejected",
    "service_unavailable": "service unavailable",
    "starttls_rejected": "STARTTLS rejected",
    "tls_failed": "TLS failure",
    "plaintext_on_tls_port": "plaintext SMTP on a TLS port",
    "tls_on_plain_port": "TLS on a plaintext port",
}
"""Message ids of the error classes (``smtplab.errors.ErrorClass``), as in ``error_name`` of ``_words.j2``."""

STEP_NAMES = {
    "dns": "the DNS lookup",
    "connect": "connecting",
    "banner": "the greeting",
    "tls": "the TLS handshake",
}
"""Message ids of the protocol steps that have one, as in ``step_name`` of ``_words.j2``."""

_COMMAND_STEPS = {"mail": "MAIL FROM", "rcpt": "RCPT TO"}
"""Steps named by their SMTP command, which is not translated."""

FAILURE = "%(error)s during %(step)s (%(detail)s)"
STOPPED = "stopped during %(step)s: %(error)s"
NO_AUTH = "no AUTH"


class Phrases:
    """The summary's phrases in one language. Each method mirrors the template macro of the same name."""

    def __init__(self, lang: str) -> None:
        self._gettext: Callable[[str], str] = gettext_for(lang)

    def _text(self, message: str, **values: object) -> str:
        # Always %-format the translation, as Jinja2's newstyle gettext in the templates does.
        return self._gettext(message) % values

    def error_name(self, error: object) -> str:
        message = ERROR_NAMES.get(str(error))
        return str(error) if message is None else self._text(message)

    def step_name(self, step: str | None) -> str:
        message = STEP_NAMES.get(step or "")
        if message is not None:
            return self._text(message)
        return _COMMAND_STEPS.get(step or "", (step or "").upper())

    def failure(self, error: object, step: str | None, detail: object) -> str:
        return self._text(FAILURE, error=self.error_name(error), step=self.step_name(step), detail=detail)

    def stopped(self, error: object, step: str | None) -> str:
        return self._text(STOPPED, error=self.error_name(error), step=self.step_name(step))

    def no_auth(self) -> str:
        return self._text(NO_AUTH)


def render_summary(result: ProbeResult, lang: str = "en") -> str:
    """Render each host's endpoints and finding titles in ``lang`` (``en`` or ``zh-CN``).

    Raises ValueError for any other language.
    """
    phrases = Phrases(lang)
    lines: list[str] = []
    for host in result.run.hosts:
        lines.append(f"== {host.host}")
        for item in result.views:
            if item.record.host == host.host:
                lines.append("   " + _endpoint_line(item, phrases))
        for finding in result.finding_list:
            if finding.host == host.host:
                lines.append(f"   {_MARKS[finding.severity]} {finding.title(lang)}")
    return "\n".join(lines)


def _endpoint_line(item: EndpointView, phrases: Phrases) -> str:
    record = item.record
    # An imported transcript of a host name records no address.
    parts = [f"{record.address or record.host} {record.port}/{record.mode}:"]
    if item.error and (item.reachable is not True or item.banner is None):
        failure = phrases.failure(item.error, stopped_step(item), item.error_detail)
        return " ".join([*parts, failure])
    if item.banner is not None:
        parts.append(f"{item.banner.code} {item.banner.lines[0][:60]}")
    if item.tls is not None:
        parts.append(f"| TLS {item.tls.get('version')}")
    auth = item.auth_mechanisms("tls") or item.auth_mechanisms("plain")
    parts.append(f"| AUTH {' '.join(auth)}" if auth else f"| {phrases.no_auth()}")
    error = final_error(item)
    if error is not None:
        parts.append(f"| {phrases.stopped(error, stopped_step(item))}")
    elif item.error:
        parts.append(f"| {phrases.error_name(item.error)}")
    return " ".join(parts)
