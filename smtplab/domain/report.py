"""The domain posture's report section in Markdown and HTML, rendered in English or zh-CN.

Template strings are marked with ``{% trans %}`` and ``_()`` (Jinja2's newstyle
gettext, ``%(name)s`` placeholders) and translated through ``smtplab.i18n``.
"""

from __future__ import annotations

from html import escape
from importlib import resources
from typing import Any

import jinja2

from smtplab.diagnosis.severity import Severity
from smtplab.domain.posture import DomainPosture
from smtplab.i18n import check_language, translations
from smtplab.report.templating import html_cell, markdown_cell, markdown_text
from smtplab.report.words import Phrases

MAX_VALUE_CHARS = 120
"""Longer record values (DKIM keys) are shortened in tables; the records frame keeps them whole."""


def to_markdown(posture: DomainPosture, lang: str = "en") -> str:
    """Render the Markdown section: MX hosts, records and findings with evidence and remedies."""
    return _environment(lang, html=False).get_template("domain.md.j2").render(_context(posture, lang))


def to_html(posture: DomainPosture, lang: str = "en") -> str:
    """Render the same section as an HTML ``<section>`` element, without a page around it."""
    return _environment(lang, html=True).get_template("domain.html.j2").render(_context(posture, lang))


def to_html_page(posture: DomainPosture, lang: str = "en") -> str:
    """Render a whole HTML document around the section, styled like the server report."""
    css = (resources.files("smtplab.report") / "templates" / "report.css").read_text(encoding="utf-8")
    title = escape(translations(lang).gettext("Mail posture of %(domain)s") % {"domain": posture.domain})
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>\n{css}</style>\n</head>\n<body>\n<main>\n"
        f'<article class="report">\n{to_html(posture, lang)}</article>\n</main>\n</body>\n</html>\n'
    )


def _environment(lang: str, *, html: bool) -> jinja2.Environment:
    check_language(lang)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("smtplab.domain", "templates"),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["cell"] = html_cell if html else markdown_cell
    env.filters["as_text"] = str if html else markdown_text
    env.filters["yesno"] = _yes_no
    phrases = Phrases(lang)
    env.globals.update(error_name=phrases.error_name, mode_name=phrases.mode_name)
    return env


def _context(posture: DomainPosture, lang: str) -> dict[str, Any]:
    findings = posture.finding_list
    return {
        "posture": posture,
        "domain": posture.domain,
        "counts": {
            severity.value: sum(1 for item in findings if item.severity is severity) for severity in Severity
        },
        "mx_rows": _rows(posture.mx),
        "record_rows": [{**row, "value": _shorten(row["value"])} for row in _rows(posture.records)],
        "findings": [
            {
                "severity": item.severity.value,
                "code": item.code,
                "subject": item.subject,
                "title": item.title(lang),
                "detail": item.detail(lang),
                "remedy": item.remedy(lang),
                "evidence": list(item.evidence),
            }
            for item in findings
        ],
        "validated": posture.dnssec_validated,
        "submission": _submission(posture, lang),
    }


def _submission(posture: DomainPosture, lang: str) -> dict[str, Any] | None:
    """Collect the submission endpoints and their problems, or None when submission was not probed."""
    result = posture.submission
    if result is None:
        return None
    findings = result.findings_frame(lang)
    problems = findings[findings["severity"].astype(str) != Severity.OK.value]
    return {
        "rows": _rows(result.endpoints),
        "problems": [
            {"severity": row["severity"], "title": row["title"], "remedy": row["remedy"]}
            for row in _rows(problems)
        ],
    }


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [
        {key: (None if _missing(value) else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN and pandas NA compare unequal to themselves
    except TypeError:
        return True  # pandas.NA raises on bool()


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[: MAX_VALUE_CHARS - 1] + "…"
    return value


def _yes_no(value: Any) -> str:
    if value is None:
        return "–"
    return "✓" if value else "✗"
