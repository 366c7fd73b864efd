"""The Markdown report, rendered from a Jinja2 template."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smtplab.report.context import build_content
from smtplab.report.templating import environment

if TYPE_CHECKING:
    from smtplab.result import ProbeResult


def render_markdown(result: ProbeResult, lang: str = "en") -> str:
    """Render the report of one probe run as Markdown in ``lang`` (``en`` or ``zh-CN``)."""
    template = environment(lang, html=False).get_template("report.md.j2")
    return template.render(content=build_content(result))
