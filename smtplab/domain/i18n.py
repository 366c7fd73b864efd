"""Translations of the domain checks: ``zh_CN.po`` beside this module, then the main catalog.

The domain catalog is read first and falls back to ``smtplab/locale`` when that
exists, so the domain texts translate before and after the catalogs are merged.
"""

from __future__ import annotations

import contextlib
import gettext
from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Any

from smtplab import i18n


@lru_cache(maxsize=len(i18n.LANGUAGES))
def translations(lang: str) -> gettext.NullTranslations:
    """English returns message ids unchanged; other languages compile their .po in memory."""
    i18n.check_language(lang)
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locale = i18n.locale_name(lang)
    with (resources.files("smtplab.domain") / f"{locale}.po").open("rb") as stream:
        catalog = read_po(stream, locale=locale, domain=i18n.DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    own = gettext.GNUTranslations(compiled)
    # Without the main catalog (not installed yet) the domain texts are complete on their own.
    with contextlib.suppress(FileNotFoundError):
        own.add_fallback(i18n.translations(lang))
    return own


def gettext_for(lang: str) -> Any:
    return translations(lang).gettext


def render(message: str, params: dict[str, Any], lang: str) -> str:
    """Translate a message template, then fill in its ``{name}`` parameters."""
    return gettext_for(lang)(message).format(**params)
