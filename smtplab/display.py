"""HTML and plain-text views of a probe result, for notebooks and widgets.

``result_html`` returns one HTML fragment with its own styles and no scripts or
outside files, so it renders the same in Jupyter, in an exported notebook and in a
saved file. Every value from a server is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from smtplab.result import ProbeResult

SEVERITY_COLORS = {"critical": "#b00020", "warning": "#b26a00", "info": "#1f5fa8", "ok": "#2e7d32"}

# Endpoint frame columns shown in the endpoint table, with their headings.
ENDPOINT_COLUMNS = {
    "host": "host",
    "address": "address",
    "port": "port",
    "mode": "mode",
    "reachable": "reachable",
    "banner": "greeting",
    "starttls": "STARTTLS",
    "tls_version": "TLS",
    "cert_verified": "certificate verified",
    "auth_plain": "AUTH before TLS",
    "auth_tls": "AUTH in TLS",
    "auth_result": "login",
    "relay_unauth": "relay (no login)",
    "relay_auth": "relay (logged in)",
    "error_class": "error",
}

# Columns whose empty string means "offered nothing", unlike NA, which means "not checked".
_EMPTY_MEANS_NONE = {"auth_plain", "auth_tls"}

_STYLE = """
.smtplab { font-family: system-ui, sans-serif; font-size: 13px; color: #222; }
.smtplab h3 { margin: 0.8em 0 0.3em; font-size: 15px; }
.smtplab table { border-collapse: collapse; margin: 0.3em 0 1em; }
.smtplab th, .smtplab td { border: 1px solid #ddd; padding: 3px 6px; text-align: left;
  vertical-align: top; }
.smtplab th { background: #f4f4f4; }
.smtplab .na { color: #999; }
.smtplab .severity { color: white; border-radius: 3px; padding: 1px 6px; font-weight: bold; }
.smtplab .error { color: #b00020; font-weight: bold; }
.smtplab pre { margin: 0; font-size: 12px; white-space: pre-wrap; }
.smtplab .counts span { margin-right: 1em; }
"""


def result_html(result: ProbeResult, *, lang: str = "en", full_document: bool = False) -> str:
    """Render the run's endpoints and findings as one self-contained HTML fragment.

    ``lang`` picks the language of the findings (``en`` or ``zh-CN``). With
    ``full_document`` the fragment is wrapped in a complete HTML page.
    """
    findings = _findings(result, lang)
    parts = [
        f'<div class="smtplab"><style>{_STYLE}</style>',
        _header_html(result),
        _counts_html(findings),
        "<h3>Endpoints</h3>",
        endpoints_html(result.endpoints),
        "<h3>Findings</h3>",
        findings_html(findings),
        "</div>",
    ]
    fragment = "\n".join(parts)
    if not full_document:
        return fragment
    title = html.escape("smtplab: " + ", ".join(host.host for host in result.run.hosts))
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>\n{fragment}\n</body></html>\n"
    )


def _findings(result: ProbeResult, lang: str) -> pd.DataFrame:
    if lang != "en" and hasattr(result, "findings_frame"):
        return result.findings_frame(lang)
    return result.findings


def _header_html(result: ProbeResult) -> str:
    run = result.run
    hosts = ", ".join(host.host for host in run.hosts)
    login = f", login as {run.username}" if run.username else ""
    return (
        f"<h3>smtplab probe of {html.escape(hosts)}</h3>"
        f"<div>{html.escape(run.started_at)} to {html.escape(run.finished_at)}, "
        f"from {html.escape(run.vantage)}{html.escape(login)}, "
        f"smtplab {html.escape(run.tool_version or 'unknown')}</div>"
    )


def _counts_html(findings: pd.DataFrame) -> str:
    counts = findings["severity"].astype(str).value_counts()
    spans = [
        f'<span><span class="severity" style="background:{color}">{name}</span> '
        f"{int(counts.get(name, 0))}</span>"
        for name, color in SEVERITY_COLORS.items()
    ]
    return f'<p class="counts">{"".join(spans)}</p>'


def _cell(value: Any, *, empty_means_none: bool = False) -> str:
    """Render one escaped table cell, with NA as a grey dash and booleans as yes or no."""
    if value is None or _is_na(value):
        return '<span class="na">-</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if not text and empty_means_none:
        return "none"
    return html.escape(text)


def _is_na(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def endpoints_html(endpoints: pd.DataFrame) -> str:
    """Render the endpoints frame as a table; an error cell shows its step and detail on hover."""
    columns = [column for column in ENDPOINT_COLUMNS if column in endpoints.columns]
    head = "".join(f"<th>{html.escape(ENDPOINT_COLUMNS[column])}</th>" for column in columns)
    rows = []
    for record in endpoints.to_dict("records"):
        cells = []
        for column in columns:
            value = record[column]
            if column == "error_class" and not _is_na(value):
                detail = f"{record.get('error_step')}: {record.get('error_detail')}"
                cells.append(f'<td class="error" title="{html.escape(detail)}">{_cell(value)}</td>')
                continue
            cells.append(f"<td>{_cell(value, empty_means_none=column in _EMPTY_MEANS_NONE)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def findings_html(findings: pd.DataFrame) -> str:
    """Render the findings as a table with coloured severities, remedies and evidence lines."""
    if findings.empty:
        return "<p>No findings.</p>"
    head = "".join(f"<th>{name}</th>" for name in ("severity", "code", "where", "finding", "remedy"))
    rows = []
    for record in findings.to_dict("records"):
        severity = str(record["severity"])
        color = SEVERITY_COLORS.get(severity, "#555555")
        where = str(record["host"]) if _is_na(record["port"]) else f"{record['host']}:{record['port']}"
        evidence = record.get("evidence")
        details = ""
        if not _is_na(evidence) and evidence:
            details = f"<details><summary>evidence</summary><pre>{html.escape(str(evidence))}</pre></details>"
        rows.append(
            f'<tr><td><span class="severity" style="background:{color}">{html.escape(severity)}</span></td>'
            f"<td>{_cell(record['code'])}</td><td>{html.escape(where)}</td>"
            f"<td><b>{_cell(record['title'])}</b><br>{_cell(record['detail'])}{details}</td>"
            f"<td>{_cell(record['remedy'])}</td></tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def transcript_html(transcript: pd.DataFrame) -> str:
    """Render one block per endpoint: ``C:`` lines sent, ``S:`` lines received, ``*`` events."""
    if transcript.empty:
        return "<p>No transcript was recorded.</p>"
    blocks = []
    for (host, address, port), group in transcript.groupby(
        ["host", "address", "port"], sort=False, dropna=False
    ):
        lines = [
            f"{row.t_ms:8.1f} ms  {row.direction}: {row.text}" for row in group.itertuples(index=False)
        ]
        blocks.append(
            f"<h3>{html.escape(f'{host} [{address}] port {port}')}</h3>"
            f"<pre>{html.escape(chr(10).join(lines))}</pre>"
        )
    return styled_html("".join(blocks))


def styled_html(fragment: str) -> str:
    """Wrap an HTML fragment of this module in a block with the result's styles."""
    return f'<div class="smtplab"><style>{_STYLE}</style>{fragment}</div>'


def table_html(frame: pd.DataFrame, *, empty_text: str = "Nothing to show.") -> str:
    """Render a frame as an escaped HTML table in the result's style."""
    if frame.empty:
        return styled_html(f"<p>{html.escape(empty_text)}</p>")
    return styled_html(frame.to_html(na_rep="-", escape=True, border=0))


def figure_html(figure: Figure, *, alt: str = "chart", dpi: int = 96) -> str:
    """Render a figure as an ``<img>`` with the PNG inlined as a data URI and ``alt`` as its text."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def result_text(result: ProbeResult, *, lang: str = "en") -> str:
    """Render the run's endpoints as a text table followed by the findings, most urgent first."""
    endpoints = result.endpoints
    columns = [column for column in ENDPOINT_COLUMNS if column in endpoints.columns]
    rows = [
        [_text_cell(record[column], column in _EMPTY_MEANS_NONE) for column in columns]
        for record in endpoints.to_dict("records")
    ]
    lines = [tabulate(rows, headers=[ENDPOINT_COLUMNS[column] for column in columns]), ""]
    findings = _findings(result, lang).sort_values("severity", kind="stable")
    for record in findings.to_dict("records"):
        where = str(record["host"]) if _is_na(record["port"]) else f"{record['host']}:{record['port']}"
        lines.append(f"[{record['severity']}] {record['code']} {where}: {record['title']}")
    if findings.empty:
        lines.append("No findings.")
    return "\n".join(lines)


def _text_cell(value: Any, empty_means_none: bool) -> str:
    if value is None or _is_na(value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "none" if not text and empty_means_none else text


# Blocks of nbconvert's "lab" template that load require.js, MathJax and mermaid from
# CDNs, emptied so that an exported report opens offline.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def notebook_html(notebook: Any, *, hide_code: bool = True) -> str:
    """Export a notebook (an ``nbformat`` node) to one HTML page that loads nothing from outside.

    ``hide_code`` leaves out the code cells' input, as ``jupyter nbconvert --no-input``
    does. Images in the outputs are inlined as data URIs. NOTE: widgets are not
    rendered, because their renderer would have to be loaded from a CDN.
    """
    try:
        import jinja2
        from nbconvert import HTMLExporter
    except ModuleNotFoundError as error:
        hint = "notebook_html needs nbconvert: pip install 'smtplab[notebooks]'"
        raise ModuleNotFoundError(hint) from error
    exporter = HTMLExporter(
        template_name="lab",
        template_file="smtplab_offline.html.j2",
        extra_loaders=[jinja2.DictLoader({"smtplab_offline.html.j2": _OFFLINE_TEMPLATE})],
        exclude_input=hide_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook)
    return str(body)

