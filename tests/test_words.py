"""Error classes, protocol steps and failure phrases in words, in both languages."""

from __future__ import annotations

import pytest

from smtplab.errors import ERROR_NAMES, ErrorClass
from smtplab.report.templating import environment
from smtplab.report.words import STEP_NAMES, Phrases


def test_every_error_class_has_a_name() -> None:
    assert set(ERROR_NAMES) == {error.value for error in ErrorClass}


@pytest.mark.parametrize("error", list(ErrorClass))
def test_error_names_translated(error: ErrorClass) -> None:
    english, chinese = Phrases("en"), Phrases("zh-CN")
    assert english.error_name(error) == ERROR_NAMES[error.value]
    assert english.error_name(error.value) == english.error_name(error)
    assert chinese.error_name(error) != english.error_name(error)


@pytest.mark.parametrize("step", sorted(STEP_NAMES))
def test_step_names_translated(step: str) -> None:
    assert Phrases("zh-CN").step_name(step) != Phrases("en").step_name(step)


def test_other_steps_keep_their_command() -> None:
    phrases = Phrases("zh-CN")
    assert phrases.step_name("mail") == "MAIL FROM"
    assert phrases.step_name("rcpt") == "RCPT TO"
    assert phrases.step_name("starttls") == "STARTTLS"
    assert phrases.step_name(None) == ""


def test_unknown_error_shown_as_is() -> None:
    assert Phrases("zh-CN").error_name("not_an_error") == "not_an_error"


def test_failure_and_stopped_phrases() -> None:
    english = Phrases("en")
    assert english.failure(ErrorClass.REFUSED, "connect", "50% done") == (
        "connection refused during connecting (50% done)"
    )
    assert english.stopped("reset", "tls") == "stopped during the TLS handshake: connection reset"
    chinese = Phrases("zh-CN")
    assert chinese.failure("refused", "connect", "x") != english.failure("refused", "connect", "x")
    assert chinese.no_auth() != english.no_auth()


@pytest.mark.parametrize("error", [ErrorClass.DNS_TIMEOUT, ErrorClass.DNS_FAILURE, ErrorClass.DNS_NXDOMAIN,
                                   ErrorClass.DNS_NO_ADDRESS])
@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_dns_failure_omits_step(error: ErrorClass, lang: str) -> None:
    phrases = Phrases(lang)
    text = phrases.failure(error, "dns", "A: timeout, AAAA: timeout")
    assert phrases.step_name("dns") not in text
    assert text.startswith(phrases.error_name(error))
    assert "A: timeout, AAAA: timeout" in text


def test_dns_failure_phrase() -> None:
    failure = Phrases("en").failure(ErrorClass.DNS_TIMEOUT, "dns", "A: timeout, AAAA: timeout")
    assert failure == "DNS lookup timed out (A: timeout, AAAA: timeout)"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_templates_use_the_same_words(lang: str) -> None:
    template_globals = environment(lang, html=False).globals
    phrases = Phrases(lang)
    for error in ErrorClass:
        assert template_globals["error_name"](error.value) == phrases.error_name(error.value)
    assert template_globals["step_name"]("tls") == phrases.step_name("tls")


def test_phrases_reject_unknown_language() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        Phrases("fr")
