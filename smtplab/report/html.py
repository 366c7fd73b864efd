"""The HTML report: one self-contained file with inline CSS, for screen and print.

The page loads nothing: no scripts, fonts, images or style sheets from any URL.
Several probe runs can share one document (the demo writes both lab servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from smtplab.report.context import build_content
from smtplab.report.templating import environment

if TYPE_CHECKING:
    from smtplab.result import ProbeResult


def render_html(results: Sequence[ProbeResult], lang: str = "en") -> str:
    """Render one HTML document with a report per probe run, in ``lang`` (``en`` or ``zh-CN``)."""
    if not results:
        raise ValueError("render_html needs at least one probe result")
    template = environment(lang, html=True).get_template("report.html.j2")
    return template.render(reports=[build_content(result) for result in results])
