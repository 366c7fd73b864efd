"""Translations: every message has its zh-CN text with the same placeholders, and the .pot is current.

The messages are the texts of every finding kind (endpoint and domain kinds) and the
strings of the report templates (``smtplab/report`` and ``smtplab/domain``), all in
one catalog per language.
"""

from __future__ import annotations

import importlib.util
import re
import string
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from smtplab.diagnosis import Finding, catalog
from smtplab.diagnosis.catalog import ENDPOINT_KINDS, KINDS, messages
from smtplab.domain.findings import DOMAIN_KINDS, DomainFinding
from smtplab.domain.findings import messages as domain_messages
from smtplab.i18n import LANGUAGES, catalog_file, check_language, locale_name, render, translations

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "smtplab"
POT_PATH = PACKAGE / "locale" / "smtplab.pot"
EXTRACT_SCRIPT = ROOT / "scripts" / "extract_messages.py"
PERCENT_FIELD = re.compile(r"%\((\w+)\)[sdrf]")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_messages", EXTRACT_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale=locale)


@pytest.fixture(scope="module")
def chinese() -> Catalog:
    with catalog_file("zh-CN").open("rb") as stream:
        return read_po(stream, locale="zh_CN")


@pytest.fixture(scope="module")
def template() -> Catalog:
    return _read(POT_PATH)


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _translated(message: Message | None) -> bool:
    if message is None or message.fuzzy:
        return False
    return all(_forms(message.string))


def _brace_fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _percent_fields(text: str) -> set[str]:
    return set(PERCENT_FIELD.findall(text))


def test_every_catalog_message_translated(chinese: Catalog) -> None:
    missing = [text for text in messages() if not _translated(chinese.get(text))]
    assert not missing, f"zh-CN lacks translations; run scripts/extract_messages.py and translate: {missing}"


def test_every_template_message_translated(chinese: Catalog, template: Catalog) -> None:
    missing = [message.id for message in template if message.id and not _translated(chinese.get(message.id))]
    assert not missing, f"zh-CN lacks translations: {missing}"


def test_po_has_only_current_messages(chinese: Catalog, template: Catalog) -> None:
    current = {message.id for message in template if message.id}
    stale = [message.id for message in chinese if message.id and message.id not in current]
    assert not stale, f"zh-CN has messages the sources no longer use: {stale}"


def test_placeholders_match_message_ids(chinese: Catalog) -> None:
    for message in chinese:
        if not message.id or not _translated(message):
            continue
        source = " ".join(_forms(message.id))
        for text in _forms(message.string):
            assert _brace_fields(text) == _brace_fields(source), (message.id, text)
            assert _percent_fields(text) == _percent_fields(source), (message.id, text)


def test_pot_matches_sources(template: Catalog) -> None:
    script = _load_script()
    assert script.same_messages(template, script.build_template()), (
        "smtplab/locale/smtplab.pot is out of date: run scripts/extract_messages.py"
    )


def test_pot_holds_catalog_and_templates(template: Catalog) -> None:
    ids = {message.id for message in template if message.id}
    assert set(messages()) <= ids
    assert set(domain_messages()) <= ids
    assert "SMTP diagnosis: %(hosts)s" in ids
    assert "Mail posture of %(domain)s" in ids


def test_pot_locations_name_every_source(template: Catalog) -> None:
    locations = {path for message in template for path, _ in message.locations}
    assert "smtplab/diagnosis/catalog.py" in locations
    assert "smtplab/diagnosis/domain_kinds.py" in locations
    assert "smtplab/report/templates/report.md.j2" in locations
    assert "smtplab/domain/templates/domain.md.j2" in locations
    assert "smtplab/domain/templates/domain.html.j2" in locations


def test_one_po_file_per_language() -> None:
    found = sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.po"))
    expected = sorted(
        f"locale/{locale_name(lang)}/LC_MESSAGES/smtplab.po" for lang in LANGUAGES if lang != "en"
    )
    assert found == expected


def test_domain_kinds_in_registry() -> None:
    for entry in DOMAIN_KINDS:
        assert catalog.kind(entry.code) is entry
        assert entry.code not in ENDPOINT_KINDS
    assert len(KINDS) == len(ENDPOINT_KINDS) + len(DOMAIN_KINDS)


def test_every_finding_renders_in_chinese() -> None:
    for kind in KINDS.values():
        for text in (kind.title, kind.detail, kind.remedy):
            fields = _brace_fields(text)
            values = {name: f"<{name}>" for name in fields}
            chinese = render(text, values, "zh-CN")
            assert chinese != render(text, values, "en"), (kind.code, text)
            for name in fields:
                assert f"<{name}>" in chinese, (kind.code, name)


def test_chinese_title_of_auth_none() -> None:
    finding = Finding("auth.none", "mx.example")
    assert finding.title("zh-CN") == translations("zh-CN").gettext(KINDS["auth.none"].title)
    assert finding.title("zh-CN") != finding.title("en")


def test_chinese_texts_of_domain_finding() -> None:
    finding = DomainFinding("domain.mx_unreachable", "example.test",
                            {"domain": "example.test", "errors": "mx.example.test: refused"})
    chinese = translations("zh-CN")
    assert finding.title("zh-CN") == chinese.gettext(KINDS["domain.mx_unreachable"].title).format(
        domain="example.test")
    assert finding.title("zh-CN") != finding.title("en")
    assert "mx.example.test: refused" in finding.detail("zh-CN")
    remedy = finding.remedy("zh-CN")
    assert chinese.gettext(KINDS["domain.mx_unreachable"].remedy) in remedy
    assert chinese.gettext(KINDS["domain.mx_unreachable"].postfix or "") in remedy


def test_plural_forms_in_chinese() -> None:
    chinese = translations("zh-CN")
    single = chinese.ngettext("port %(ports)s", "ports %(ports)s", 1)
    several = chinese.ngettext("port %(ports)s", "ports %(ports)s", 3)
    assert single == several
    assert "%(ports)s" in single


def test_unknown_language_rejected() -> None:
    with pytest.raises(ValueError, match="expected one of en, zh-CN"):
        check_language("zh")
