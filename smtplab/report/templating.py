"""The Jinja2 environment of the report templates, with gettext and per-format filters.

Templates mark every string for translation (``{% trans %}`` and ``_()``, Jinja2's
newstyle gettext, so ``%(name)s`` placeholders). The same message ids serve the
Markdown and the HTML form: filters decorate values (code spans, bold) in the
syntax of each format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from babel.lists import format_list
from markupsafe import Markup

from smtplab.i18n import check_language, locale_name, translations
from smtplab.protocol.sasl import SUPPORTED_MECHANISMS
from smtplab.report.words import Phrases

TEMPLATE_PACKAGE = ("smtplab.report", "templates")
EXTENSIONS = ["jinja2.ext.i18n"]
MASK = "********"
"""Shown wherever a password would be. The report never contains the real one."""


def environment(lang: str, *, html: bool) -> jinja2.Environment:
    """Build an environment that renders in ``lang``. ``html`` turns on autoescaping and HTML filters.

    The globals ``error_name``, ``step_name`` and ``mode_name`` name error classes, protocol steps
    and endpoint modes in ``lang``.
    """
    check_language(lang)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(*TEMPLATE_PACKAGE),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        extensions=EXTENSIONS,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_common_filters(lang))
    env.filters.update(_html_filters() if html else _markdown_filters())
    phrases = Phrases(lang)
    env.globals.update(
        lang=lang,
        mask=MASK,
        supported_mechanisms=SUPPORTED_MECHANISMS,
        error_name=phrases.error_name,
        step_name=phrases.step_name,
        mode_name=phrases.mode_name,
    )
    return env


def _common_filters(lang: str) -> dict[str, Callable[..., Any]]:
    locale = locale_name(lang)

    def port_list(ports: Iterable[int]) -> str:
        return _format_list([str(port) for port in ports], locale, "standard")

    def or_list(items: Iterable[str]) -> str:
        return _format_list(list(items), locale, "or")

    def and_list(items: Iterable[str]) -> str:
        return _format_list(list(items), locale, "standard")

    def keywords(items: Iterable[tuple[str, str]]) -> str:
        return _format_list([f"{name} {params}".strip() for name, params in items], locale, "standard")

    return {"port_list": port_list, "or_list": or_list, "and_list": and_list, "keywords": keywords}


def _format_list(items: list[str], locale: str, style: str) -> str:
    if not items:
        return ""
    return format_list(items, style=style, locale=locale)


def _markdown_filters() -> dict[str, Callable[..., Any]]:
    def code(value: Any) -> str:
        text = str(value)
        fence = "``" if "`" in text else "`"
        return f"{fence}{text}{fence}"

    def bold(value: Any) -> str:
        return f"**{value}**"

    def note(value: Any) -> str:
        return str(value)

    return {"code": code, "bold": bold, "note": note, "cell": markdown_cell, "as_text": markdown_text}


def _html_filters() -> dict[str, Callable[..., Any]]:
    def code(value: Any) -> Markup:
        return Markup("<code>{}</code>").format(value)

    def bold(value: Any) -> Markup:
        return Markup("<strong>{}</strong>").format(value)

    def note(value: Any) -> Markup:
        return Markup('<span class="note">{}</span>').format(value)

    def as_text(value: Any) -> str:
        return str(value)  # autoescaping already makes it text

    return {"code": code, "bold": bold, "note": note, "cell": html_cell, "as_text": as_text}


def html_cell(value: Any) -> str:
    """Format a value as an HTML table cell's text, with "–" for None or empty text (autoescaped later)."""
    return "–" if value is None or value == "" else str(value)


def markdown_text(value: Any) -> str:
    """Escape ``&``, ``<`` and ``>`` so that a Markdown renderer shows server or DNS text as text.

    A hostile banner or TXT record could otherwise become HTML (a script, an image).
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_cell(value: Any) -> str:
    """Format a value as a one-line Markdown table cell, with "–" for None or empty text and pipes escaped."""
    if value is None or value == "":
        return "–"
    return markdown_text(value).replace("|", "\\|").replace("\n", " ")
