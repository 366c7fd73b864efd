"""The result of a probe run: records plus the frames, findings and report derived from them."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab.analysis.interpret import EndpointView, view
from smtplab.diagnosis import Finding, Severity, diagnose
from smtplab.record import RunRecord, dump_jsonl

if TYPE_CHECKING:
    import pandas as pd

FINDING_SCHEMA: dict[str, str] = {
    "severity": "category",
    "code": "string",
    "host": "string",
    "address": "string",
    "port": "Int64",
    "title": "string",
    "detail": "string",
    "evidence": "string",
    "remedy": "string",
}


class ProbeResult:
    """A probe run's records, with its DataFrames built on first use.

    pandas is imported only when a frame is asked for, so a command-line probe
    that prints no frames starts fast.
    """

    def __init__(self, run: RunRecord) -> None:
        self.run = run

    @cached_property
    def views(self) -> list[EndpointView]:
        return [view(record) for record in self.run.endpoints]

    @cached_property
    def finding_list(self) -> list[Finding]:
        return diagnose(self.run, self.views)

    @cached_property
    def endpoints(self) -> pd.DataFrame:
        from smtplab.frames import endpoints_frame

        return endpoints_frame(self.views)

    @cached_property
    def replies(self) -> pd.DataFrame:
        from smtplab.frames import replies_frame

        return replies_frame(self.views)

    @cached_property
    def capabilities(self) -> pd.DataFrame:
        from smtplab.frames import capabilities_frame

        return capabilities_frame(self.views)

    @cached_property
    def tls(self) -> pd.DataFrame:
        from smtplab.frames import tls_frame

        return tls_frame(self.views, self.run)

    @cached_property
    def dns(self) -> pd.DataFrame:
        from smtplab.frames import dns_frame

        return dns_frame(self.run)

    @cached_property
    def transcript(self) -> pd.DataFrame:
        from smtplab.frames import transcript_frame

        return transcript_frame(self.run)

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Findings in English; ``findings_frame(lang)`` gives another language."""
        return self.findings_frame("en")

    def findings_frame(self, lang: str = "en") -> pd.DataFrame:
        from smtplab.frames import typed

        rows = [
            {
                "severity": item.severity.value, "code": item.code, "host": item.host,
                "address": item.address, "port": item.port, "title": item.title(lang),
                "detail": item.detail(lang), "evidence": "\n".join(item.evidence),
                "remedy": item.remedy(lang),
            }
            for item in self.finding_list
        ]
        frame = typed(rows, FINDING_SCHEMA)
        order = [severity.value for severity in Severity]
        return frame.astype({"severity": _severity_dtype(order)})

    def capability_matrix(self) -> pd.DataFrame:
        """Keywords by ``host:port:phase``; a cell contains the parameters, NA when absent."""
        from smtplab.frames import capability_matrix

        return capability_matrix(self.capabilities)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "endpoints": self.endpoints, "replies": self.replies,
            "capabilities": self.capabilities, "tls": self.tls,
            "dns": self.dns, "transcript": self.transcript, "findings": self.findings,
        }

    def save(self, path: str | Path) -> Path:
        """Write the run as JSON Lines; ``smtplab.load`` reads it back."""
        return dump_jsonl(self.run, path)

    def to_markdown(self, lang: str = "en") -> str:
        """Render the narrative report as Markdown, in ``en`` or ``zh-CN``."""
        from smtplab.report.markdown import render_markdown

        return render_markdown(self, lang)

    def to_html(self, lang: str = "en") -> str:
        """Render the narrative report as one self-contained HTML document that loads nothing."""
        from smtplab.report.html import render_html

        return render_html([self], lang)

    def to_pdf(self, path: str | Path, lang: str = "en") -> Path:
        """Write the report as PDF (needs WeasyPrint and Pango; a CJK font for zh-CN)."""
        from smtplab.report.pdf import write_pdf

        return write_pdf([self], path, lang)

    def summary(self, lang: str = "en") -> str:
        from smtplab.report.summary import render_summary

        return render_summary(self, lang)

    def _repr_html_(self) -> str:
        from smtplab.display import result_html

        return result_html(self)

    def __str__(self) -> str:
        from smtplab.display import result_text

        return result_text(self)

    def __repr__(self) -> str:
        hosts = ", ".join(host.host for host in self.run.hosts)
        return f"<ProbeResult {hosts}: {len(self.run.endpoints)} endpoints, {self.run.started_at}>"


def _severity_dtype(order: list[str]) -> object:
    import pandas as pd

    return pd.CategoricalDtype(order, ordered=True)


def load(path: str | Path) -> ProbeResult:
    """Read a saved or streamed result (JSON Lines file or Parquet folder); no network is used."""
    from smtplab.stream import load_records

    return ProbeResult(load_records(path))
