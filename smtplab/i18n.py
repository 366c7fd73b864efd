"""Report and finding languages: English message ids, translations in gettext .po files.

Catalogs live in ``smtplab/locale/<locale>/LC_MESSAGES/smtplab.po`` and are read
with Babel at run time, so no compiled ``.mo`` file is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "zh-CN")
DOMAIN = "smtplab"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction without translating it here."""
    return message


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


def _locale_name(lang: str) -> str:
    return lang.replace("-", "_")


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> dict[str, str]:
    """Message id to translation for a language; empty for English."""
    check_language(lang)
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    path = resources.files("smtplab") / "locale" / _locale_name(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as stream:
        catalog = read_po(stream)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def gettext_for(lang: str) -> Callable[[str], str]:
    table = translations(lang)
    return lambda message: table.get(message, message)


def render(message: str, params: dict[str, Any], lang: str) -> str:
    """Translate a message template, then fill in its ``{name}`` parameters."""
    return gettext_for(lang)(message).format(**params)
