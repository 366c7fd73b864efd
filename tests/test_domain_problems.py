"""Record parser problems in zh-CN: the Problem type, and findings whose {errors} are translated.

The parsers return ``Problem`` values that equal their English text. A finding renders
them in the report language, so a zh-CN detail contains no English problem sentence.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from smtplab.domain import DomainPosture
from smtplab.domain.dane import parse_tlsa
from smtplab.domain.dkim import parse_dkim
from smtplab.domain.dmarc import parse_dmarc
from smtplab.domain.findings import DomainFinding
from smtplab.domain.mtasts import parse_policy, parse_sts_record
from smtplab.domain.problem import Problem, join_problems, render_value
from smtplab.domain.spf import parse_spf
from smtplab.domain.tlsrpt import parse_tlsrpt
from smtplab.i18n import N_, catalog_file

from domainlab import DomainLab, finding

ZH = "zh-CN"
EXTRACT_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "extract_messages.py"


def _parser_modules() -> tuple[str, ...]:
    """The domain modules whose N_ strings the message extraction reads."""
    spec = importlib.util.spec_from_file_location("extract_messages", EXTRACT_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(path for path in module.PYTHON_SOURCES if path.startswith("smtplab/domain/"))


PARSER_MODULES = _parser_modules()

# Records with several problems each, one or more per parser family.
SPF_TEXTS = (
    "v=spf1 foo ip4:192.0.2.300 ip6:192.0.2.1 ip4 include: all:x a/40 exists: redirect= 1x -all",
    "v=spf2 ptr:\u00e9 foo=\u00e9 exp=a.test exp=b.test -all",
)
DMARC_TEXTS = ("p=reject; v=DMARC1; v=DMARC2; junk", "v=DMARC2; sp=none")
DMARC_TAGS_TEXT = (
    "v=DMARC1; p=reject; sp=x; np=y; pct=200; adkim=q; aspf=z; fo=9; rf=x; ri=abc; "
    "rua=http://r.example.test,mailto:nobody,bad; ruf=mailto:"
)
POLICY_TEXT = "version: STSv2\nmode: bogus\nmax_age: -1\nmode: enforce\njunk\nmx: bad host!\n"


def _assert_translated(problems: Sequence[Problem], detail: str) -> None:
    """Each problem appears in ``detail`` in Chinese, and its English text does not."""
    for problem in problems:
        chinese = problem.render(ZH)
        assert chinese != str(problem), f"no zh-CN text for {problem.message!r}"
        assert chinese in detail
        assert str(problem) not in detail


def _errors_finding(code: str, problems: Sequence[Problem], **params: object) -> DomainFinding:
    values = {"domain": "example.test", **params, "errors": tuple(problems)}
    return DomainFinding(code, "example.test", values)


# The Problem type


def test_problem_equals_english_text() -> None:
    problem = Problem(N_("{name}={value} is not r or s"), name="adkim", value="q")
    assert problem == "adkim=q is not r or s"
    assert str(problem) == "adkim=q is not r or s"
    assert problem in ["adkim=q is not r or s"]
    assert hash(problem) == hash("adkim=q is not r or s")
    assert f"{problem}" == "adkim=q is not r or s"
    assert "; ".join([problem, problem]) == "adkim=q is not r or s; adkim=q is not r or s"


def test_problem_keeps_message_and_params() -> None:
    problem = Problem(N_("pct={value} is not a number from 0 to 100"), value="200")
    assert problem.message == "pct={value} is not a number from 0 to 100"
    assert dict(problem.params) == {"value": "200"}
    assert repr(problem) == "Problem('pct=200 is not a number from 0 to 100')"


def test_problem_renders_chinese() -> None:
    problem = Problem(N_("pct={value} is not a number from 0 to 100"), value="200")
    assert problem.render("en") == "pct=200 is not a number from 0 to 100"
    assert problem.render(ZH) == "pct=200 不是 0 到 100 之间的数字"


def test_problem_renders_nested_problem() -> None:
    inner = Problem(N_("unknown mechanism"))
    outer = Problem.about("foo", inner)
    assert outer == "foo: unknown mechanism"
    assert outer.render(ZH) == "foo：未知的机制"


def test_problem_is_immutable() -> None:
    problem = Problem(N_("unknown mechanism"))
    with pytest.raises(AttributeError):
        problem.message = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del problem.params


def test_problem_pickles_with_params() -> None:
    inner = Problem(N_("invalid {name} address {value}"), name="ip4", value="x")
    problem = Problem.about("spfbad.test", inner)
    restored = pickle.loads(pickle.dumps(problem))
    assert restored == problem
    assert restored.message == problem.message
    assert restored.render(ZH) == problem.render(ZH)


def test_problem_serializes_as_json_string() -> None:
    problems = (Problem(N_("the p tag is missing")), Problem(N_("the id field is missing")))
    expected = '{"errors": ["the p tag is missing", "the id field is missing"]}'
    assert json.dumps({"errors": problems}) == expected


def test_join_problems_uses_language_separator() -> None:
    problems = [Problem(N_("the p tag is missing")), Problem(N_("the rua field is missing"))]
    assert join_problems(problems, "en") == "the p tag is missing; the rua field is missing"
    assert join_problems(problems, ZH) == "缺少 p 标签；缺少 rua 字段"
    assert join_problems([], ZH) == ""


def test_render_value_leaves_other_values() -> None:
    assert render_value("plain text", ZH) == "plain text"
    assert render_value(3, ZH) == 3
    assert render_value((), ZH) == ()
    assert render_value(("a", "b"), ZH) == ("a", "b")
    assert render_value([Problem(N_("invalid domain"))], ZH) == "无效的域名"


def test_parser_messages_translated_differently() -> None:
    """Every message id of the parser modules has a zh-CN text that is not the English one."""
    with catalog_file(ZH).open("rb") as stream:
        chinese = read_po(stream, locale="zh_CN")
    ids = [
        message.id
        for message in chinese
        if message.id and any(path in PARSER_MODULES for path, _ in message.locations)
    ]
    assert len(ids) > 50
    untranslated = [text for text in ids if chinese[text].string in ("", text)]
    assert not untranslated


# Findings built from records with several problems


@pytest.mark.parametrize("text", SPF_TEXTS)
def test_spf_problems_in_chinese_detail(text: str) -> None:
    problems = parse_spf(text).errors
    assert len(problems) >= 4
    detail = _errors_finding("domain.spf_invalid", problems).detail(ZH)
    _assert_translated(problems, detail)


def test_spf_empty_record_problem_in_chinese() -> None:
    problems = parse_spf("").errors
    assert problems == ("the record must start with v=spf1, not (empty)",)
    assert problems[0].render(ZH) == "记录必须以 v=spf1 开头，但记录为空"


@pytest.mark.parametrize("text", DMARC_TEXTS)
def test_dmarc_problems_in_chinese_detail(text: str) -> None:
    record = parse_dmarc(text)
    assert len(record.errors) >= 2
    _assert_translated(record.errors, _errors_finding("domain.dmarc_invalid", record.errors).detail(ZH))


def test_dmarc_tag_problems_in_chinese_detail() -> None:
    record = parse_dmarc(DMARC_TAGS_TEXT)
    assert len(record.tag_errors) >= 11
    item = _errors_finding("domain.dmarc_tag_invalid", record.tag_errors)
    _assert_translated(record.tag_errors, item.detail(ZH))


@pytest.mark.parametrize(
    "text",
    [
        "k=rsa; v=DKIM1; junk; p=!!!",
        "v=DKIM1; k=ed25519; p=AAAA",
        "v=DKIM1; k=foo; p=AAAA",
        "v=DKIM1; k=rsa; p=AAAA",
        "v=DKIM1; k=rsa; p=MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
        "v=DKIM1; k=rsa",
    ],
)
def test_dkim_problems_in_chinese_detail(text: str) -> None:
    problems = parse_dkim("s", text).errors
    assert problems
    item = _errors_finding("domain.dkim_invalid", problems, selector="s", name="s._domainkey.example.test")
    _assert_translated(problems, item.detail(ZH))


@pytest.mark.parametrize("text", ["v=STSv1; junk; id=a-b", "v=STSv1; junk"])
def test_mta_sts_record_problems_in_chinese_detail(text: str) -> None:
    problems = parse_sts_record(text).errors
    assert len(problems) == 2
    _assert_translated(problems, _errors_finding("domain.mta_sts_record_invalid", problems).detail(ZH))


@pytest.mark.parametrize("text", [POLICY_TEXT, "mode: testing\n", "version: STSv1\nmax_age: x\n"])
def test_mta_sts_policy_problems_in_chinese_detail(text: str) -> None:
    problems = parse_policy(text).errors
    assert len(problems) >= 2
    _assert_translated(problems, _errors_finding("domain.mta_sts_policy_invalid", problems).detail(ZH))


@pytest.mark.parametrize(
    "text", ["v=TLSRPTv1; junk; rua=ftp://x,mailto:nobody", "v=TLSRPTv1; junk", "v=TLSRPTv1; junk; rua=,"]
)
def test_tlsrpt_problems_in_chinese_detail(text: str) -> None:
    problems = parse_tlsrpt(text).errors
    assert len(problems) >= 2
    _assert_translated(problems, _errors_finding("domain.tlsrpt_invalid", problems).detail(ZH))


@pytest.mark.parametrize(
    "text",
    ["3 1", "4 1 1 00", "3 2 1 00", "3 1 3 00", "3 1 1 00", "3 1 2 00"],
)
def test_tlsa_problem_in_chinese_detail(text: str) -> None:
    record = parse_tlsa(text)
    assert record.error is not None
    params = {"mx": "mx.example.test", "name": "_25._tcp.mx.example.test", "record": text}
    item = DomainFinding("domain.tlsa_invalid", "mx.example.test", {**params, "error": record.error})
    detail = item.detail(ZH)
    _assert_translated([record.error], detail)


def test_english_detail_joins_with_semicolons() -> None:
    problems = parse_dmarc(DMARC_TEXTS[0]).errors
    detail = _errors_finding("domain.dmarc_invalid", problems).detail("en")
    assert "; ".join(problems) in detail


# Findings of real records served by the lab's DNS


@pytest.fixture(scope="module")
def postures(domain_lab: DomainLab) -> dict[str, DomainPosture]:
    return {
        "spfbad.test": domain_lab.probe("spfbad.test"),
        "dmarcbad.test": domain_lab.probe("dmarcbad.test"),
        "htmlrecord.test": domain_lab.probe("htmlrecord.test"),
        "records.test": domain_lab.probe("records.test"),
        "broken.test": domain_lab.probe("broken.test", selectors=["bad"]),
        "tlsabad.test": domain_lab.probe("tlsabad.test"),
        "stsinvalid.test": domain_lab.probe("stsinvalid.test"),
    }


@pytest.mark.parametrize(
    ("domain", "code", "parameter"),
    [
        ("spfbad.test", "domain.spf_invalid", "errors"),
        ("dmarcbad.test", "domain.dmarc_invalid", "errors"),
        ("htmlrecord.test", "domain.dmarc_invalid", "errors"),
        ("records.test", "domain.mta_sts_record_invalid", "errors"),
        ("records.test", "domain.tlsrpt_invalid", "errors"),
        ("broken.test", "domain.dkim_invalid", "errors"),
        ("stsinvalid.test", "domain.mta_sts_policy_invalid", "errors"),
        ("tlsabad.test", "domain.tlsa_invalid", "error"),
    ],
)
def test_lab_finding_detail_in_chinese(
    postures: dict[str, DomainPosture], domain: str, code: str, parameter: str
) -> None:
    item = finding(postures[domain], code)
    value = item.params[parameter]
    problems = [value] if isinstance(value, Problem) else list(value)
    assert problems
    assert all(isinstance(problem, Problem) for problem in problems)
    _assert_translated(problems, item.detail(ZH))


def test_lab_findings_frame_in_chinese(postures: dict[str, DomainPosture]) -> None:
    posture = postures["stsinvalid.test"]
    item = finding(posture, "domain.mta_sts_policy_invalid")
    frame = posture.findings_frame(ZH)
    detail = frame.loc[frame["code"] == item.code, "detail"].iloc[0]
    _assert_translated(item.params["errors"], detail)


def test_lab_findings_frame_in_english(postures: dict[str, DomainPosture]) -> None:
    posture = postures["stsinvalid.test"]
    item = finding(posture, "domain.mta_sts_policy_invalid")
    frame = posture.findings_frame("en")
    detail = frame.loc[frame["code"] == item.code, "detail"].iloc[0]
    assert "; ".join(item.params["errors"]) in detail
