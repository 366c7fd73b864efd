"""The PDF report: the HTML report laid out for print by WeasyPrint.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0),
and Chinese text needs a CJK font that fontconfig can find (Debian:
fonts-wqy-zenhei, named first in the zh-CN font stack of report.css).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab.report.html import render_html

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

INSTALL_HINT = (
    "PDF reports need WeasyPrint and Pango: pip install weasyprint, and on Debian "
    "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-zenhei"
)


def write_pdf(results: Sequence[ProbeResult], path: str | Path, lang: str = "en") -> Path:
    """Render the reports of ``results`` into one PDF file at ``path``.

    Raises RuntimeError with an install hint when WeasyPrint or Pango is missing.
    """
    document = render_html(results, lang)
    html_class, fetcher = load_weasyprint()
    target = Path(path)
    # The report embeds everything it shows, and the fetcher rejects any URL except data:,
    # so rendering fetches nothing from the network or from files. Fonts come from fontconfig.
    weasyprint_log = logging.getLogger("weasyprint")
    screen_rules = _ScreenCssFilter()
    weasyprint_log.addFilter(screen_rules)
    try:
        html_class(string=document, url_fetcher=fetcher).write_pdf(target)
    finally:
        weasyprint_log.removeFilter(screen_rules)
    return target


class _ScreenCssFilter(logging.Filter):
    """Drop WeasyPrint's warnings about the style sheet's rules for screens.

    The report's CSS serves browsers too: WeasyPrint ignores what it does not support
    (overflow-x, print-color-adjust, width media queries) and logs a warning on every run.
    Other warnings, such as a missing font, still pass.
    """

    _KNOWN = ("Ignored `", "Expected a media type", "Invalid media type")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self._KNOWN)


def load_weasyprint() -> tuple[type, object]:
    """Import WeasyPrint and return its HTML class with a URL fetcher that allows only data: URLs.

    Raises RuntimeError with an install hint when WeasyPrint or Pango is missing.
    """
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no Pango library
        raise RuntimeError(f"{INSTALL_HINT} ({exc})") from exc
    return HTML, URLFetcher(allowed_protocols={"data"})
