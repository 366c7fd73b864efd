"""The Markdown report, rendered from a Jinja2 template."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2

from smtplab.diagnosis import Severity
from smtplab.report.advice import recommend

if TYPE_CHECKING:
    from smtplab.result import ProbeResult


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("smtplab.report", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def cell(value: Any) -> str:
    """A Markdown table cell: NA as "-", pipes escaped."""
    if value is None or (not isinstance(value, str) and value != value):
        return "-"
    text = str(value)
    if text in ("<NA>", "nan"):
        return "-"
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: ProbeResult) -> str:
    template = _environment().get_template("report.md.j2")
    findings = result.finding_list
    return template.render(
        run=result.run,
        endpoints=result.endpoints.to_dict("records"),
        findings=findings,
        problems=[item for item in findings if item.severity in (Severity.CRITICAL, Severity.WARNING)],
        fine=[item for item in findings if item.severity is Severity.OK],
        settings={host.host: recommend([v for v in result.views if v.record.host == host.host],
                                       result.run.username)
                  for host in result.run.hosts},
        cell=cell,
    )
