"""The terminal summary's phrases, formatted without Jinja2, against the template macros they mirror.

``smtplab.report.summary`` repeats the message ids of ``summary.txt.j2`` and
``_words.j2``. These tests fail when the two drift apart in any language.
"""

from __future__ import annotations

from typing import Any

import pytest

from smtplab.errors import ErrorClass
from smtplab.i18n import LANGUAGES
from smtplab.report.summary import Phrases
from smtplab.report.templating import environment

STEPS = ["dns", "connect", "banner", "ehlo", "helo", "starttls", "tls", "auth", "mail", "rcpt", "rset",
         "quit", "deadline", "not_a_step", "", None]
"""Every step of a transcript event, plus values no event has, for the fallback branch."""

ERRORS: list[Any] = [*ErrorClass, *(error.value for error in ErrorClass), "not_an_error", None]


def _macros(lang: str) -> Any:
    return environment(lang, html=False).get_template("summary.txt.j2").module


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_names_match_template(lang: str) -> None:
    phrases, macros = Phrases(lang), _macros(lang)
    for error in ERRORS:
        assert phrases.error_name(error) == str(macros.error_name(error)), error


@pytest.mark.parametrize("lang", LANGUAGES)
def test_step_names_match_template(lang: str) -> None:
    phrases = Phrases(lang)
    words = environment(lang, html=False).get_template("_words.j2").module
    for step in STEPS:
        assert phrases.step_name(step) == str(words.step_name(step)), step


@pytest.mark.parametrize("lang", LANGUAGES)
def test_failure_and_stopped_match_template(lang: str) -> None:
    phrases, macros = Phrases(lang), _macros(lang)
    for error in ERRORS:
        for step in STEPS:
            for detail in ("[Errno 111] Connect call failed", None, "50% done"):
                expected = str(macros.failure(error, step, detail))
                assert phrases.failure(error, step, detail) == expected, (error, step, detail)
            assert phrases.stopped(error, step) == str(macros.stopped(error, step)), (error, step)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_auth_matches_template(lang: str) -> None:
    assert Phrases(lang).no_auth() == str(_macros(lang).no_auth())


def test_chinese_phrases_translated() -> None:
    english, chinese = Phrases("en"), Phrases("zh-CN")
    assert chinese.no_auth() != english.no_auth()
    for error in ErrorClass:
        assert chinese.error_name(error) != english.error_name(error), error
    for step in ("dns", "connect", "banner", "tls"):
        assert chinese.step_name(step) != english.step_name(step), step


def test_phrases_reject_unknown_language() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        Phrases("fr")
