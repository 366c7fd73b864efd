"""Write a report file whose format follows from its extension."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".pdf": "pdf"}


def report_format(path: str | Path) -> str:
    """Return ``html``, ``markdown`` or ``pdf`` from the file extension, or raise ValueError for any other."""
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(
            f"unsupported report file extension {suffix or '(none)'!r} in {str(path)!r}: "
            "use .html, .md or .pdf"
        ) from None


def check_pdf_support() -> None:
    """Raise RuntimeError with an install hint when WeasyPrint or Pango cannot be loaded."""
    from smtplab.report.pdf import load_weasyprint

    load_weasyprint()


def write_report(results: Sequence[ProbeResult], path: str | Path, lang: str = "en") -> Path:
    """Write the reports of ``results`` to ``path`` in the format its extension names.

    Markdown reports of several runs follow each other; HTML and PDF hold them in
    one document.
    """
    target = Path(path)
    kind = report_format(target)
    if kind == "pdf":
        from smtplab.report.pdf import write_pdf

        return write_pdf(results, target, lang)
    if kind == "html":
        from smtplab.report.html import render_html

        text = render_html(results, lang)
    else:
        text = "\n\n".join(result.to_markdown(lang) for result in results)
    target.write_text(text, encoding="utf-8")
    return target
