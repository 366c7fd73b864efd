"""Write a report file whose format follows from its extension, and check its path before probing."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".pdf": "pdf"}
REPORT_KINDS = ("html", "markdown", "pdf")
# The extension each kind is named by in messages.
_EXTENSIONS = {"html": ".html", "markdown": ".md", "pdf": ".pdf"}


def report_format(path: str | Path, kinds: Collection[str] = REPORT_KINDS) -> str:
    """Return ``html``, ``markdown`` or ``pdf`` from the file extension.

    Raise ValueError for a name that is only an extension (``.html``), an unknown
    extension, or a format not in ``kinds``.
    """
    target = Path(path)
    # pathlib reads ".html" as a hidden file without a suffix, not as an extension.
    if not target.suffix and target.name.lower() in FORMATS:
        raise ValueError(
            f"invalid report file {str(path)!r}: no file name before {target.name!r}, "
            f"e.g. report{target.name.lower()}"
        )
    suffix = target.suffix.lower()
    kind = FORMATS.get(suffix)
    if kind is None or kind not in kinds:
        raise ValueError(
            f"unsupported report file extension {suffix or '(none)'!r} in {str(path)!r}: "
            f"use {_extension_choices(kinds)}"
        )
    return kind


def _extension_choices(kinds: Collection[str]) -> str:
    """Return the extensions of ``kinds`` as ``.html, .md or .pdf``."""
    extensions = [_EXTENSIONS[item] for item in REPORT_KINDS if item in kinds]
    if len(extensions) == 1:
        return extensions[0]
    return f"{', '.join(extensions[:-1])} or {extensions[-1]}"


def check_writable(path: str | Path, what: str) -> Path:
    """Raise ValueError unless a file can be written at ``path``; checked before probing."""
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} for the {what} does not exist")
    if target.is_dir():
        raise ValueError(f"{str(target)!r} is a folder: give a file name for the {what}")
    import tempfile

    try:
        # os.access reports root as allowed everywhere, even in /proc, so try a real write.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write the {what} to {str(target)!r}: {exc.strerror}") from None
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"cannot write the {what} to {str(target)!r}: permission denied")
    return target


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
