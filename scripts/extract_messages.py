"""Regenerate smtplab/locale/smtplab.pot and update every language's smtplab.po.

The template contains the texts of every finding kind (the endpoint kinds of
``smtplab.diagnosis.catalog`` and the domain kinds of ``smtplab.diagnosis.domain_kinds``)
every string marked in the report templates (``smtplab/report/templates`` and
``smtplab/domain/templates``), and the strings marked with ``N_`` in the modules of
``PYTHON_SOURCES`` (error classes, protocol steps, failure phrases and the problems the
domain record parsers report).
Updating a .po file keeps its translations, adds new message ids untranslated,
marks close matches of changed ids as fuzzy and drops ids no longer used.

Run it from the repository root after changing a finding text or a template:

    .venv/bin/python scripts/extract_messages.py

then translate the entries that are empty or marked fuzzy.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

import smtplab
from smtplab.diagnosis.catalog import ENDPOINT_KINDS, messages
from smtplab.diagnosis.domain_kinds import DOMAIN_KINDS
from smtplab.diagnosis.kind import TEXT_FIELDS, FindingKind
from smtplab.errors import ERROR_NAMES
from smtplab.i18n import DOMAIN, LANGUAGES, locale_name

log = logging.getLogger("extract_messages")

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "smtplab" / "locale"
POT_PATH = LOCALE_DIR / f"{DOMAIN}.pot"
TEMPLATE_DIRS = (ROOT / "smtplab" / "report" / "templates", ROOT / "smtplab" / "domain" / "templates")
CATALOG_SOURCE = "smtplab/diagnosis/catalog.py"
ERRORS_SOURCE = "smtplab/errors.py"
PYTHON_SOURCES = (
    "smtplab/report/words.py",
    "smtplab/domain/problem.py",
    "smtplab/domain/spf.py",
    "smtplab/domain/dmarc.py",
    "smtplab/domain/dkim.py",
    "smtplab/domain/mtasts.py",
    "smtplab/domain/tlsrpt.py",
    "smtplab/domain/dane.py",
    "smtplab/domain/rules.py",
)
"""Modules whose ``N_`` strings are extracted as they are (the error names come from ``ERRORS_SOURCE``)."""
KIND_SOURCES: tuple[tuple[str, Iterable[FindingKind]], ...] = (
    (CATALOG_SOURCE, ENDPOINT_KINDS.values()),
    ("smtplab/diagnosis/domain_kinds.py", DOMAIN_KINDS),
)
"""The modules that define finding kinds, with their kinds. The .pot gives a text's module as its location."""

# The options must match smtplab.report.templating.environment and the environment of
# smtplab.domain.report, so extraction gets the same message ids (trimmed whitespace,
# newstyle %(name)s placeholders) as rendering.
JINJA_OPTIONS = {
    "extensions": "jinja2.ext.i18n",
    "trimmed": "true",
    "newstyle_gettext": "true",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "silent": "false",
}
WRITE_OPTIONS = {"include_lineno": False, "ignore_obsolete": True, "width": 100}


def build_template() -> Catalog:
    """Build the message template: finding catalog texts first, then template strings by file."""
    template = Catalog(project="smtplab", version=smtplab.__version__, domain=DOMAIN,
                       msgid_bugs_address="", charset="utf-8")
    for message, sources, comments in _finding_messages():
        template.add(message, locations=[(source, None) for source in sources], auto_comments=comments)
    for path, message, comments in [*_python_messages(), *_template_messages()]:
        template.add(message, locations=[(path, None)], auto_comments=comments)
    return template


def _finding_messages() -> Iterator[tuple[str, list[str], list[str]]]:
    """Yield each catalog text with the modules that define it and comments naming its users.

    A comment names a finding code and field, such as ``finding auth.none: title``.
    Error class names have no comment.
    """
    sources: dict[str, list[str]] = {text: [] for text in messages()}
    users: dict[str, list[str]] = {text: [] for text in messages()}
    for source, kinds in KIND_SOURCES:
        for kind in kinds:
            for field in TEXT_FIELDS:
                text = getattr(kind, field)
                if not text:
                    continue
                users[text].append(f"finding {kind.code}: {field}")
                if source not in sources[text]:
                    sources[text].append(source)
    for text in ERROR_NAMES.values():
        if ERRORS_SOURCE not in sources[text]:
            sources[text].append(ERRORS_SOURCE)
    unlisted = [text for text, found in sources.items() if not found]
    if unlisted:
        raise RuntimeError(
            f"no module in KIND_SOURCES defines these catalog texts: {unlisted}. "
            "Add the module that defines their finding kinds to KIND_SOURCES."
        )
    for text in sources:
        yield text, sources[text], users[text]


def _python_messages() -> Iterator[tuple[str, str | tuple[str, ...], list[str]]]:
    for relative in PYTHON_SOURCES:
        extracted = extract_from_file("python", str(ROOT / relative), keywords={"N_": None})
        for _line, message, comments, _context in extracted:
            yield relative, message, list(comments)


def _template_messages() -> Iterator[tuple[str, str | tuple[str, ...], list[str]]]:
    paths = [path for directory in TEMPLATE_DIRS for path in sorted(directory.glob("*.j2"))]
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        extracted = extract_from_file(
            "jinja2.ext:babel_extract", str(path), keywords=DEFAULT_KEYWORDS,
            comment_tags=("Translators:",), options=JINJA_OPTIONS,
        )
        for _line, message, comments, _context in extracted:
            yield relative, message, list(comments)


def same_messages(first: Catalog, second: Catalog) -> bool:
    """True when both catalogs contain the same ids, in order, with the same comments and locations."""
    return _signature(first) == _signature(second)


def _signature(catalog: Catalog) -> list[tuple[object, ...]]:
    return [
        (message.id, message.context, tuple(message.auto_comments),
         tuple(sorted(path for path, _ in message.locations)))
        for message in catalog
        if message.id
    ]


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale=locale, domain=DOMAIN)


def catalog_bytes(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_po(buffer, catalog, **WRITE_OPTIONS)
    return buffer.getvalue()


def write_template(template: Catalog) -> bool:
    """Write the .pot unless it already contains the same messages. Returns True when written.

    When the messages are unchanged, ``template`` takes the creation date of the
    existing file, so updating the .po files does not change their header either.
    """
    if POT_PATH.exists():
        existing = read_catalog(POT_PATH)
        if same_messages(existing, template):
            template.creation_date = existing.creation_date
            return False
    POT_PATH.parent.mkdir(parents=True, exist_ok=True)
    POT_PATH.write_bytes(catalog_bytes(template))
    return True


def update_catalog(template: Catalog, lang: str) -> Path:
    """Merge the template into a language's .po file, creating the file when it is missing."""
    locale = locale_name(lang)
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        catalog = read_catalog(path, locale)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN, project="smtplab", version=smtplab.__version__,
                          charset="utf-8")
    catalog.update(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(catalog_bytes(catalog))
    return path


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    template = build_template()
    written = write_template(template)
    log.info("%s %s (%d messages)", "wrote" if written else "unchanged", POT_PATH.relative_to(ROOT),
             len([message for message in template if message.id]))
    for lang in LANGUAGES:
        if lang == "en":
            continue
        path = update_catalog(template, lang)
        catalog = read_catalog(path, locale_name(lang))
        missing = [message for message in catalog if message.id and (message.fuzzy or not message.string)]
        log.info("updated %s: %d entries need a translation", path.relative_to(ROOT), len(missing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
