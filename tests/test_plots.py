"""Tests of the chart data, comparisons and HTML views, on the recorded samples in data/."""

from __future__ import annotations

import dataclasses
import html
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import smtplab
from smtplab import plots
from smtplab.display import notebook_html, result_html, result_text
from smtplab.report.ehlo_diff import ParamChange, ehlo_changes
from smtplab.result import ProbeResult

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = ("lab-broken", "lab-healthy", "postfix", "postfix-before", "exim", "opensmtpd")


@pytest.fixture(scope="module")
def samples() -> dict[str, ProbeResult]:
    return {name: smtplab.load(DATA / f"{name}.jsonl") for name in SAMPLES}


def capability_rows(*rows: tuple[str, str, int, str, str, str]) -> pd.DataFrame:
    """A capabilities frame from (host, address, port, phase, keyword, params) tuples."""
    from smtplab.frames import CAPABILITY_SCHEMA, typed

    records = [
        {"host": host, "address": address, "port": port, "mode": "starttls", "phase": phase,
         "position": index, "keyword": keyword, "params": params}
        for index, (host, address, port, phase, keyword, params) in enumerate(rows, start=1)
    ]
    return typed(records, CAPABILITY_SCHEMA)


def port_of(result: ProbeResult, *, mode: str, with_auth: bool | None = None) -> int:
    """The port of the endpoint with this mode (and, for STARTTLS, with or without AUTH in TLS)."""
    frame = result.endpoints[result.endpoints["mode"] == mode]
    if with_auth is not None:
        has_auth = frame["auth_tls"].fillna("") != ""
        frame = frame[has_auth if with_auth else ~has_auth]
    assert len(frame) == 1, frame
    return int(frame["port"].iloc[0])


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_loads_with_frames(samples: dict[str, ProbeResult], name: str) -> None:
    result = samples[name]
    assert len(result.endpoints) == 3
    assert not result.transcript.empty
    assert not result.findings.empty


def test_capability_cells_states(samples: dict[str, ProbeResult]) -> None:
    cells = plots.capability_cells(samples["lab-broken"])
    by_cell = cells.set_index(["keyword", "column"])
    port = int(samples["lab-broken"].endpoints["port"].iloc[0])
    plain, tls = f"mx.shop.test:{port}:plain", f"mx.shop.test:{port}:tls"

    assert by_cell.loc[("SIZE", plain), "state"] == "parameter"
    assert by_cell.loc[("SIZE", plain), "params"] == "10240000"
    assert by_cell.loc[("PIPELINING", plain), "state"] == "present"
    assert pd.isna(by_cell.loc[("PIPELINING", plain), "params"])
    assert by_cell.loc[("STARTTLS", plain), "state"] == "present"
    assert by_cell.loc[("STARTTLS", tls), "state"] == "absent"


def test_capability_cells_complete_grid(samples: dict[str, ProbeResult]) -> None:
    result = samples["lab-healthy"]
    cells = plots.capability_cells(result)
    keywords = result.capabilities["keyword"].unique()
    phases = result.capabilities.drop_duplicates(["port", "phase"])

    assert len(cells) == len(keywords) * len(phases)
    assert list(dict.fromkeys(cells["keyword"]))[0] == result.capabilities["keyword"].iloc[0]
    auth = cells[(cells["keyword"] == "AUTH") & (cells["state"] == "parameter")]
    assert set(auth["params"]) == {"PLAIN LOGIN"}


def test_capability_cells_empty() -> None:
    cells = plots.capability_cells(capability_rows())
    assert cells.empty
    assert list(cells.columns) == ["keyword", "column", "state", "params"]


def test_capability_cells_label_addresses() -> None:
    frame = capability_rows(
        ("mx.example.test", "192.0.2.1", 25, "plain", "PIPELINING", ""),
        ("mx.example.test", "192.0.2.2", 25, "plain", "PIPELINING", ""),
    )
    columns = set(plots.capability_cells(frame)["column"])
    assert columns == {"mx.example.test[192.0.2.1]:25:plain", "mx.example.test[192.0.2.2]:25:plain"}


def test_ehlo_diff_after_starttls(samples: dict[str, ProbeResult]) -> None:
    diff = plots.ehlo_diff(samples["lab-healthy"])
    starttls = diff[diff["scope"] == "starttls"]
    auth = starttls[starttls["keyword"] == "AUTH"]
    lost = starttls[starttls["keyword"] == "STARTTLS"]

    assert list(diff.columns) == ["scope", "host", "left", "right", "keyword", "change",
                                  "left_params", "right_params"]
    assert len(auth) == 2  # the two STARTTLS ports; the implicit-TLS port has no plain phase
    assert set(auth["change"]) == {"gained"}
    assert set(auth["right_params"]) == {"PLAIN LOGIN"}
    assert auth["left_params"].isna().all()
    assert set(lost["change"]) == {"lost"}
    assert "same" not in set(diff["change"])


def test_ehlo_diff_include_same(samples: dict[str, ProbeResult]) -> None:
    diff = plots.ehlo_diff(samples["lab-healthy"], include_same=True)
    same = diff[(diff["scope"] == "starttls") & (diff["change"] == "same")]
    assert set(same["keyword"]) == {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8"}


def test_ehlo_diff_across_ports(samples: dict[str, ProbeResult]) -> None:
    result = samples["postfix"]
    endpoints = result.endpoints
    first_port = int(endpoints["port"].iloc[0])
    with_auth = {int(port) for port in endpoints[endpoints["auth_tls"].fillna("") != ""]["port"]}
    diff = plots.ehlo_diff(result)
    ports = diff[diff["scope"] == "ports"]
    auth = ports[ports["keyword"] == "AUTH"]

    assert set(ports["left"].str.split(":").str[1]) == {str(first_port)}
    assert len(auth) == 1  # only the port in the role of 25 lacks AUTH inside TLS
    row = auth.iloc[0]
    left_port, right_port = (int(label.split(":")[1]) for label in (row["left"], row["right"]))
    assert (left_port in with_auth) != (right_port in with_auth)
    assert row["change"] == ("gained" if right_port in with_auth else "lost")


def test_ehlo_diff_between_hosts(samples: dict[str, ProbeResult]) -> None:
    capabilities = pd.concat([samples["postfix"].capabilities, samples["exim"].capabilities])
    diff = plots.ehlo_diff(capabilities)
    hosts = diff[diff["scope"] == "hosts"].set_index(["right", "keyword"])

    assert hosts.loc[("mail.exim.test:*:plain", "SIZE"), "change"] == "changed"
    assert hosts.loc[("mail.exim.test:*:plain", "SIZE"), "left_params"] == "10240000"
    assert hosts.loc[("mail.exim.test:*:plain", "SIZE"), "right_params"] == "52428800"
    assert hosts.loc[("mail.exim.test:*:plain", "VRFY"), "change"] == "lost"
    assert hosts.loc[("mail.exim.test:*:plain", "PIPECONNECT"), "change"] == "gained"
    assert set(diff[diff["scope"] == "hosts"]["left"]) == {"mail.postfix.test:*:plain",
                                                           "mail.postfix.test:*:tls"}


def test_ehlo_diff_changed_params() -> None:
    frame = capability_rows(
        ("mx.example.test", "192.0.2.1", 587, "plain", "AUTH", "LOGIN"),
        ("mx.example.test", "192.0.2.1", 587, "tls", "AUTH", "PLAIN LOGIN"),
    )
    diff = plots.ehlo_diff(frame)
    assert diff["change"].tolist() == ["changed"]
    assert diff["left_params"].tolist() == ["LOGIN"]
    assert diff["right_params"].tolist() == ["PLAIN LOGIN"]


def test_ehlo_diff_empty() -> None:
    assert plots.ehlo_diff(capability_rows()).empty


def test_ehlo_diff_row_order() -> None:
    frame = capability_rows(
        ("mx.example.test", "192.0.2.1", 587, "plain", "PIPELINING", ""),
        ("mx.example.test", "192.0.2.1", 587, "plain", "STARTTLS", ""),
        ("mx.example.test", "192.0.2.1", 587, "plain", "SIZE", "100"),
        ("mx.example.test", "192.0.2.1", 587, "tls", "AUTH", "PLAIN"),
        ("mx.example.test", "192.0.2.1", 587, "tls", "SIZE", "200"),
        ("mx.example.test", "192.0.2.1", 587, "tls", "PIPELINING", ""),
    )
    diff = plots.ehlo_diff(frame, include_same=True)
    # The plain reply's keywords come first in its order, then the keywords gained.
    assert diff["keyword"].tolist() == ["PIPELINING", "STARTTLS", "SIZE", "AUTH"]
    assert diff["change"].astype(str).tolist() == ["same", "lost", "changed", "gained"]


@pytest.mark.parametrize("fixture", ["broken", "healthy"])
def test_ehlo_diff_agrees_with_report(request: pytest.FixtureRequest, fixture: str) -> None:
    result: ProbeResult = request.getfixturevalue(fixture)
    changes = ehlo_changes(result.capabilities)
    diff = plots.ehlo_diff(result, include_same=True)
    starttls = diff[diff["scope"] == "starttls"]
    labels = {plots.endpoint_label(change.host, change.address, change.port, "tls"): change
              for change in changes}

    assert changes
    assert set(starttls["right"]) == set(labels)
    for label, change in labels.items():
        rows = starttls[starttls["right"] == label]
        gained = rows[rows["change"] == "gained"]
        lost = rows[rows["change"] == "lost"]
        changed = rows[rows["change"] == "changed"]
        assert tuple(zip(gained["keyword"], gained["right_params"], strict=True)) == change.gained
        assert tuple(zip(lost["keyword"], lost["left_params"], strict=True)) == change.lost
        # Changed keywords are compared as sets, because the plot rows follow the plain reply's order
        # and the report follows the TLS reply's order.
        assert {
            ParamChange(keyword, before, after)
            for keyword, before, after in zip(
                changed["keyword"], changed["left_params"], changed["right_params"], strict=True
            )
        } == set(change.changed)


def test_latency_starttls_stages(samples: dict[str, ProbeResult]) -> None:
    result = samples["lab-healthy"]
    port = port_of(result, mode="tls")
    frame = plots.latency_frame(result)
    starttls = frame[frame["port"] != port]

    for _, stages in starttls.groupby("port"):
        assert stages["stage"].astype(str).tolist() == [
            "connect", "banner", "ehlo", "starttls", "tls_handshake", "ehlo_after_starttls"
        ]
        assert stages["start_ms"].is_monotonic_increasing
    assert (frame["ms"] >= 0).all()
    assert frame["ok"].all()


def test_latency_implicit_tls_order(samples: dict[str, ProbeResult]) -> None:
    result = samples["lab-healthy"]
    frame = plots.latency_frame(result)
    implicit = frame[frame["port"] == port_of(result, mode="tls")]
    assert implicit["stage"].astype(str).tolist() == ["connect", "tls_handshake", "banner", "ehlo"]


def test_latency_failed_handshake(samples: dict[str, ProbeResult]) -> None:
    result = samples["lab-broken"]
    frame = plots.latency_frame(result)
    implicit = frame[frame["port"] == port_of(result, mode="tls")]
    handshake = implicit[implicit["stage"] == "tls_handshake"]
    assert handshake["ok"].tolist() == [False]
    assert "banner" not in set(implicit["stage"].astype(str))


def test_latency_plot_hatches_failed_stage(samples: dict[str, ProbeResult]) -> None:
    frame = plots.latency_frame(samples["lab-broken"])
    figure = plots.plot_latency(frame)
    bars = figure.axes[0].patches
    assert len(bars) == len(frame)
    failed = frame["ok"].eq(False).fillna(False).tolist()
    assert any(failed)
    for bar, stage_failed in zip(bars, failed, strict=True):
        assert bar.get_hatch() == ("//" if stage_failed else None)


def test_latency_plot_unknown_ok_not_hatched(samples: dict[str, ProbeResult]) -> None:
    frame = plots.latency_frame(samples["lab-broken"]).head(1)
    frame.loc[:, "ok"] = pd.NA
    figure = plots.plot_latency(frame)
    assert figure.axes[0].patches[0].get_hatch() is None


def test_latency_keeps_every_attempt(samples: dict[str, ProbeResult]) -> None:
    result = samples["opensmtpd"]
    frame = plots.latency_frame(result)
    implicit = frame[frame["port"] == port_of(result, mode="tls")]
    first, second = implicit[implicit["attempt"] == 1], implicit[implicit["attempt"] == 2]

    assert first["stage"].astype(str).tolist() == ["connect", "tls_handshake"]
    assert first["ok"].tolist() == [True, False]
    assert second["stage"].astype(str).tolist() == ["connect"]  # the plaintext check got no greeting
    assert second["start_ms"].min() >= first["start_ms"].max()


def test_certificate_expiry_status(samples: dict[str, ProbeResult]) -> None:
    exim = plots.certificate_expiry(samples["exim"])
    postfix = plots.certificate_expiry(samples["postfix"])
    assert len(exim) == 3
    assert set(exim["status"]) == {"warning"}  # a 20-day self-signed certificate
    assert set(postfix["status"]) == {"ok"}
    assert plots.certificate_expiry(samples["opensmtpd"]).empty  # no handshake completed


@pytest.mark.parametrize(("days", "status"), [
    (-3, "expired"), (0, "critical"), (13, "critical"), (14, "warning"), (29, "warning"), (30, "ok"),
])
def test_certificate_expiry_thresholds(samples: dict[str, ProbeResult], days: int, status: str) -> None:
    tls = samples["postfix"].tls.assign(days_left=days)
    expiry = plots.certificate_expiry(tls.astype({"days_left": "Int64"}))
    assert set(expiry["status"]) == {status}


def test_findings_summary_counts(samples: dict[str, ProbeResult]) -> None:
    findings = pd.concat([samples["lab-broken"].findings, samples["opensmtpd"].findings])
    summary = plots.findings_summary(findings)
    assert list(summary.columns) == ["critical", "warning", "info", "ok"]
    assert list(summary.index) == ["mx.shop.test", "mail.opensmtpd.test"]
    assert int(summary.to_numpy().sum()) == len(findings)
    critical = findings[findings["severity"] == "critical"]
    assert summary.loc["mail.opensmtpd.test", "critical"] == (critical["host"] == "mail.opensmtpd.test").sum()


def test_compare_runs_after_fix(samples: dict[str, ProbeResult]) -> None:
    before, after = samples["postfix-before"], samples["postfix"]
    changes = plots.compare_runs(before, after)
    smtps = port_of(after, mode="tls")
    submission = port_of(after, mode="starttls", with_auth=True)
    rows = changes.set_index(["port", "aspect", "item"], drop=False)

    error = changes[(changes["port"] == smtps) & (changes["aspect"] == "error_class")]
    assert error["change"].tolist() == ["disappeared"]
    assert error["before"].tolist() == ["plaintext_on_tls_port"]
    tls_version = changes[(changes["port"] == smtps) & (changes["aspect"] == "tls_version")]
    assert tls_version["change"].tolist() == ["appeared"]
    plain_auth = changes[(changes["port"] == submission) & (changes["aspect"] == "auth")]
    assert plain_auth["phase"].tolist() == ["plain"]
    assert plain_auth["change"].tolist() == ["disappeared"]
    assert rows.loc[(smtps, "finding", "tls.implicit_plaintext"), "change"] == "disappeared"
    assert rows.loc[(submission, "keyword", "AUTH"), "phase"] == "plain"


def test_compare_runs_same_run(samples: dict[str, ProbeResult]) -> None:
    assert plots.compare_runs(samples["exim"], samples["exim"]).empty


def test_compare_runs_other_hosts(samples: dict[str, ProbeResult]) -> None:
    changes = plots.compare_runs(samples["lab-broken"], samples["lab-healthy"])
    assert set(changes["aspect"]) == {"endpoint"}
    assert changes["change"].astype(str).value_counts().to_dict() == {"disappeared": 3, "appeared": 3}


@pytest.mark.parametrize("draw", [
    plots.plot_capability_matrix, plots.plot_ehlo_diff, plots.plot_latency,
    plots.plot_certificate_expiry, plots.plot_findings,
])
@pytest.mark.parametrize("name", ["lab-broken", "opensmtpd"])
def test_plot_returns_figure(samples: dict[str, ProbeResult], draw: object, name: str) -> None:
    from matplotlib.figure import Figure

    figure = draw(samples[name])  # type: ignore[operator]
    assert isinstance(figure, Figure)
    assert figure.axes
    assert figure.axes[0].get_title()


def test_plot_capability_matrix_fifty_columns() -> None:
    rows = [("mx.example.test", "192.0.2.1", 1000 + index, phase, "SIZE", "1000")
            for index in range(25) for phase in ("plain", "tls")]
    figure = plots.plot_capability_matrix(capability_rows(*rows))
    axes = figure.axes[0]
    assert len(axes.get_xticklabels()) == 50
    assert not axes.texts  # parameters are left out of cells beyond 16 columns


def test_plots_import_leaves_matplotlib_unloaded() -> None:
    code = "import sys, smtplab.plots\nprint('matplotlib' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "False"


def test_plot_ehlo_diff_invalid_scope(samples: dict[str, ProbeResult]) -> None:
    with pytest.raises(ValueError, match="invalid scope"):
        plots.plot_ehlo_diff(samples["lab-healthy"], scope="everything")


def with_banner(result: ProbeResult, banner: str) -> ProbeResult:
    """A copy of the result whose first endpoint greets with ``banner``."""
    endpoints = list(result.run.endpoints)
    first = endpoints[0]
    events = [
        {**event, "text": banner} if event["kind"] == "recv" and event["step"] == "banner" else event
        for event in first.events
    ]
    endpoints[0] = dataclasses.replace(first, events=events)
    return ProbeResult(dataclasses.replace(result.run, endpoints=endpoints))


def test_result_html_escapes_server_text(samples: dict[str, ProbeResult]) -> None:
    result = with_banner(samples["lab-healthy"], "220 <script>alert(1)</script> ESMTP")
    page = result_html(result)
    assert "<script>" not in page
    assert html.escape("<script>alert(1)</script>") in page


def test_result_html_content(samples: dict[str, ProbeResult]) -> None:
    result = samples["lab-broken"]
    page = result_html(result)
    assert page.startswith('<div class="smtplab">')
    assert "mx.shop.test" in page
    assert "#b00020" in page  # critical findings coloured
    for code in result.findings["code"]:
        assert code in page
    assert "<script" not in page
    assert "<link" not in page
    assert " src=" not in page


def test_result_html_full_document(samples: dict[str, ProbeResult]) -> None:
    page = result_html(samples["exim"], full_document=True)
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_result_text(samples: dict[str, ProbeResult]) -> None:
    result = samples["opensmtpd"]
    text = result_text(result)
    lines = text.splitlines()
    table = lines[:lines.index("")]
    assert "TLS" in table[0]
    assert sum("tls_failed" in line for line in table) == 3
    findings = [line for line in lines if line.startswith("[")]
    assert len(findings) == len(result.findings)
    assert findings[0].startswith("[critical]")


def test_notebook_html_offline(samples: dict[str, ProbeResult]) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("display_data", data={"text/html": result_html(samples["exim"])})
    notebook.cells = [nbformat.v4.new_code_cell("secret_code_marker()", outputs=[output])]
    page = notebook_html(notebook)
    assert "mail.exim.test" in page
    assert "secret_code_marker" not in page
    assert "<script src=" not in page
