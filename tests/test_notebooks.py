"""Run every notebook in notebooks/ headless through papermill and check its outputs.

The notebooks probe only the embedded lab, always through the lab's own DNS
responder, and read the recorded samples in data/. The kernel is this test run's
own Python, so the notebooks import the smtplab under test.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from smtplab.result import ProbeResult

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "smtplab-test"
# Generous: each notebook takes about 5 s on a 2-core machine, most of it kernel start
# and imports.
CELL_TIMEOUT_SECONDS = 120
# The parameters every notebook's parameters cell must define, unless listed here.
SERVER_PARAMETERS = ("target_hosts", "ports", "password_env", "language")
PARAMETERS = {"04-domain-posture": ("target_domains", "nameserver", "selectors", "language")}


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernel spec that runs ipykernel with this interpreter, found through JUPYTER_PATH."""
    data_dir = tmp_path_factory.mktemp("jupyter")
    spec_dir = data_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "smtplab tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(data_dir))
        yield KERNEL_NAME


def execute(name: str, kernel_name: str, tmp_path: Path, **parameters: Any) -> nbformat.NotebookNode:
    import papermill

    output = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"), str(output), parameters=parameters,
        kernel_name=kernel_name, cwd=str(NOTEBOOKS), progress_bar=False,
        execution_timeout=CELL_TIMEOUT_SECONDS,
    )
    return nbformat.read(output, as_version=4)


def output_types(notebook: nbformat.NotebookNode) -> Counter[str]:
    """How many outputs of each MIME type (and of each stream name) the cells produced."""
    counts: Counter[str] = Counter()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                counts[output["name"]] += 1
            counts.update(output.get("data", {}).keys())
    return counts


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts.extend(str(data.get(mime, "")) for mime in ("text/plain", "text/html"))
    return "\n".join(parts)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_notebook_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] for cell in code_cells)
    assert all(cell.execution_count is None for cell in code_cells)
    tagged = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in PARAMETERS.get(path.stem, SERVER_PARAMETERS):
        assert f"{name} = " in tagged[0].source


def test_notebooks_all_covered() -> None:
    names = {path.stem for path in NOTEBOOKS.glob("*.ipynb")}
    assert names == {
        "01-investigate-one-server",
        "02-compare-servers",
        "03-shareable-report",
        "04-domain-posture",
    }


def test_investigate_one_server(kernel_name: str, tmp_path: Path) -> None:
    notebook = execute("01-investigate-one-server", kernel_name, tmp_path, language="zh-CN")
    types = output_types(notebook)
    text = text_of(notebook)

    assert "stderr" not in types
    assert types["image/png"] >= 5
    assert types["text/html"] >= 6
    assert "mx.shop.test" in text
    assert "no AUTH inside TLS" in text
    assert "auth.none" in text
    assert "tls.implicit_failed" in text
    assert any("\u4e00" <= char <= "\u9fff" for char in text)  # findings in Chinese
    assert "Connection reset by peer" in text


def test_compare_servers(kernel_name: str, tmp_path: Path) -> None:
    notebook = execute("02-compare-servers", kernel_name, tmp_path)
    types = output_types(notebook)
    text = text_of(notebook)

    assert "stderr" not in types
    assert types["image/png"] >= 6
    assert types["text/html"] >= 5
    for host in ("mx.shop.test", "smtp.healthy.test", "mail.postfix.test", "mail.exim.test",
                 "mail.opensmtpd.test"):
        assert host in text
    assert "fixed: tls.implicit_plaintext (critical)" in text


def test_shareable_report(kernel_name: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    notebook = execute("03-shareable-report", kernel_name, tmp_path, output_dir=str(reports),
                       report_name="lab", language="zh-CN")
    types = output_types(notebook)
    page = (reports / "lab.html").read_text(encoding="utf-8")
    markdown = (reports / "lab.md").read_text(encoding="utf-8")

    assert "stderr" not in types
    assert types["text/markdown"] == 1
    for title in ("Findings by severity", "EHLO capabilities", "EHLO differences", "Certificate expiry",
                  "Latency per endpoint"):
        assert f'<img alt="{title}" src="data:image/png;base64,' in page
    assert "mx.shop.test" in page
    assert "smtp.healthy.test" in page
    assert "<script src=" not in page
    assert "plots.plot_findings" not in page  # the code cells' input is hidden
    assert "mx.shop.test" in markdown
    assert "SMTP 诊断" in markdown  # smtplab's Markdown report follows the notebook's language
    if hasattr(ProbeResult, "to_html"):
        assert "mx.shop.test" in (reports / "lab-smtplab.html").read_text(encoding="utf-8")


def test_domain_posture(kernel_name: str, tmp_path: Path) -> None:
    notebook = execute("04-domain-posture", kernel_name, tmp_path, language="zh-CN")
    types = output_types(notebook)
    text = text_of(notebook)

    assert "stderr" not in types
    assert types["text/html"] >= 20  # seven frames per domain, two comparisons, four report sections
    assert "<DomainPosture shop.test: mx.shop.test; " in text
    assert "<DomainPosture healthy.test: smtp.healthy.test; " in text
    for code in ("domain.mta_sts_mx_mismatch", "domain.tlsa_mismatch", "domain.spf_ok", "domain.tlsa_match"):
        assert code in text
    assert '<section class="domain-posture">' in text
    assert "Mail posture of shop.test" in text  # the English report section
    assert "shop.test 的邮件安全状况" in text  # the Chinese report section
