"""Report and finding languages: English message ids, translations in gettext .po files.

Catalogs live in ``smtplab/locale/<locale>/LC_MESSAGES/smtplab.po`` and are read
with Babel at run time, so no compiled ``.mo`` file is shipped. Finding texts use
``{name}`` parameters (``str.format``); report template strings use ``%(name)s``
(Jinja2's newstyle gettext).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

LANGUAGES = ("en", "zh-CN")
DOMAIN = "smtplab"


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction without translating it here."""
    return message


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


def locale_name(lang: str) -> str:
    """The gettext locale folder name of a language tag: ``zh-CN`` -> ``zh_CN``."""
    return lang.replace("-", "_")


def catalog_file(lang: str) -> Traversable:
    """The .po file of a language inside the installed package."""
    # Imported here because English needs no catalog, and importlib.resources
    # loads tempfile, shutil and the compression modules.
    from importlib import resources

    return resources.files("smtplab") / "locale" / locale_name(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> gettext.NullTranslations:
    """Load the gettext translations of a language. English returns the message ids unchanged.

    The .po file is compiled in memory with Babel. Fuzzy and empty entries are left
    out, so their English message id is shown instead.
    """
    check_language(lang)
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_file(lang).open("rb") as stream:
        catalog = read_po(stream, locale=locale_name(lang), domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def render(message: str, params: dict[str, Any], lang: str) -> str:
    """Translate a message template, then fill in its ``{name}`` parameters."""
    return gettext_for(lang)(message).format(**params)
