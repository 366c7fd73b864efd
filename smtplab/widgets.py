"""An ipywidgets explorer: enter hosts and settings, probe, and read the result in tabs.

::

    from smtplab.widgets import Explorer

    explorer = Explorer(hosts=["mail.example.com"], nameserver="192.0.2.53")
    explorer            # shows the form in Jupyter
    explorer.result     # the last ProbeResult, after "Probe" was clicked

The explorer probes one host and endpoint at a time with ``smtplab.probe``, so the
progress bar advances per endpoint, and merges the runs into one result. The
password field is emptied when a run ends, and the password is kept only in the
``Credentials`` of that run, which the result never stores.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials, Secret
from smtplab.display import (
    figure_html,
    findings_html,
    result_html,
    styled_html,
    table_html,
    transcript_html,
)
from smtplab.record import RunRecord
from smtplab.result import ProbeResult
from smtplab.runner import probe
from smtplab.targets import Endpoint, parse_endpoints, parse_target

if TYPE_CHECKING:
    import ipywidgets

log = logging.getLogger("smtplab")

INSTALL_HINT = "smtplab.widgets needs ipywidgets: pip install 'smtplab[notebooks]'"

TAB_NAMES = ("summary", "capability matrix", "EHLO differences", "findings", "transcript")
DEFAULT_PORTS = "25/starttls, 587/starttls, 465/tls"

# The DNS timeout is capped because a DNS answer that takes longer than this is a
# failure in its own right, whatever the SMTP timeouts are.
_DNS_TIMEOUT_MAX = 5.0
# One endpoint's whole conversation is a handful of replies, each bounded by the timeout.
_PROBE_TIMEOUT_FACTOR = 6


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error
    return ipywidgets


def done_message(count: int) -> str:
    """Return the status line shown after a run that probed ``count`` endpoints."""
    noun = "endpoint" if count == 1 else "endpoints"
    return f"Done: {count} {noun} probed."


def parse_hosts(text: str) -> list[str]:
    """Split host names or IP literals separated by commas, spaces or new lines."""
    return list(dict.fromkeys(part for part in re.split(r"[\s,]+", text) if part))


def merge_results(results: Sequence[ProbeResult]) -> ProbeResult:
    """Join runs of the same settings into one result, keeping the first record of each host."""
    if not results:
        raise ValueError("no results to merge")
    hosts = {}
    for result in results:
        for host in result.run.hosts:
            hosts.setdefault(host.host, host)
    first = results[0].run
    run: RunRecord = replace(
        first,
        finished_at=results[-1].run.finished_at,
        hosts=list(hosts.values()),
        endpoints=[endpoint for result in results for endpoint in result.run.endpoints],
    )
    return ProbeResult(run)


class Explorer:
    """A form that probes the hosts it is given and shows the result in tabs.

    Tests drive it without a browser: set the fields' ``value``, call
    ``run_button.click()`` and read ``tab_html(name)``, or call ``run()``.
    """

    def __init__(
        self,
        *,
        hosts: Sequence[str] = (),
        ports: str = DEFAULT_PORTS,
        nameserver: str = "",
        cafile: str = "",
        ehlo_name: str = "",
        timeout: float = 10.0,
    ) -> None:
        widgets = _ipywidgets()
        self.result: ProbeResult | None = None
        self.hosts = widgets.Textarea(value="\n".join(hosts), description="hosts",
                                      placeholder="one host name or IP address per line")
        self.ports = widgets.Text(value=ports, description="ports",
                                  placeholder="PORT/MODE with MODE starttls, tls or plain")
        self.username = widgets.Text(description="username", placeholder="optional login")
        self.password = widgets.Password(description="password")
        self.nameserver = widgets.Text(value=nameserver, description="nameserver",
                                       placeholder="IP or IP:PORT; empty uses the system resolver")
        self.cafile = widgets.Text(value=cafile, description="CA file",
                                   placeholder="PEM file; empty uses the system CAs")
        self.ehlo_name = widgets.Text(value=ehlo_name, description="EHLO name",
                                      placeholder="empty uses this machine's name")
        self.timeout = widgets.BoundedFloatText(value=timeout, min=0.5, max=300.0, step=0.5,
                                                description="timeout (s)")
        self.run_button = widgets.Button(description="Probe", button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="endpoints")
        self.status = widgets.HTML()
        self.panels = {name: widgets.HTML() for name in TAB_NAMES}
        self.tabs = widgets.Tab(children=list(self.panels.values()), titles=list(TAB_NAMES))
        form = widgets.VBox([
            self.hosts, self.ports, self.username, self.password, self.nameserver, self.cafile,
            self.ehlo_name, self.timeout, widgets.HBox([self.run_button, self.progress]), self.status,
        ])
        self.widget = widgets.VBox([form, self.tabs])
        self.run_button.on_click(self._on_click)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def tab_html(self, name: str) -> str:
        """Return the HTML shown in the tab called ``name`` (one of ``TAB_NAMES``)."""
        if name not in self.panels:
            raise ValueError(f"unknown tab {name!r}: expected one of {', '.join(TAB_NAMES)}")
        return str(self.panels[name].value)

    def _on_click(self, _button: ipywidgets.Button) -> None:
        self.run()

    def run(self) -> ProbeResult | None:
        """Probe every host and endpoint in the form; None when the form is invalid.

        The password field is emptied when the run ends, whether it succeeded or not.
        """
        self.run_button.disabled = True
        try:
            return self._run()
        finally:
            self.password.value = ""
            self.run_button.disabled = False

    def _run(self) -> ProbeResult | None:
        try:
            hosts, endpoints, config, credentials = self._read_form()
        except ValueError as error:
            self._show_status(f"Invalid input: {error}", error=True)
            return None
        jobs = [(host, endpoint) for host in hosts for endpoint in endpoints]
        self.progress.max = len(jobs)
        self.progress.value = 0
        results = []
        for host, endpoint in jobs:
            self._show_status(f"Probing {host} port {endpoint} ({self.progress.value + 1} of {len(jobs)})")
            results.append(probe(host, ports=[str(endpoint)], config=config, credentials=credentials))
            self.progress.value += 1
        self.result = merge_results(results)
        self._fill_tabs(self.result)
        self._show_status(done_message(len(self.result.run.endpoints)))
        return self.result

    def _read_form(self) -> tuple[list[str], tuple[Endpoint, ...], ProbeConfig, Credentials | None]:
        hosts = parse_hosts(self.hosts.value)
        if not hosts:
            raise ValueError("no host given: enter at least one host name or IP address")
        for host in hosts:
            parse_target(host)
        endpoints = parse_endpoints(self.ports.value)
        timeout = float(self.timeout.value)
        options: dict[str, Any] = {
            "nameserver": self.nameserver.value.strip() or None,
            "cafile": self.cafile.value.strip() or None,
            "connect_timeout": timeout,
            "reply_timeout": timeout,
            "tls_timeout": timeout,
            "dns_timeout": min(timeout, _DNS_TIMEOUT_MAX),
            "probe_timeout": timeout * _PROBE_TIMEOUT_FACTOR,
        }
        if self.ehlo_name.value.strip():
            options["ehlo_name"] = self.ehlo_name.value.strip()
        return hosts, endpoints, ProbeConfig(**options), self._credentials()

    def _credentials(self) -> Credentials | None:
        username = self.username.value.strip()
        if not username:
            return None
        if not self.password.value:
            raise ValueError(f"no password given for {username}: enter it or clear the username")
        return Credentials(username, Secret(self.password.value))

    def _show_status(self, text: str, *, error: bool = False) -> None:
        color = "#b00020" if error else "#222222"
        self.status.value = f'<span style="color:{color}">{html.escape(text)}</span>'

    def _fill_tabs(self, result: ProbeResult) -> None:
        from smtplab import plots

        self.panels["summary"].value = result_html(result)
        self.panels["capability matrix"].value = _capability_html(result)
        self.panels["EHLO differences"].value = table_html(
            plots.ehlo_diff(result.capabilities), empty_text="No EHLO keyword differs."
        )
        self.panels["findings"].value = styled_html(findings_html(result.findings))
        self.panels["transcript"].value = transcript_html(result.transcript)


def _capability_html(result: ProbeResult) -> str:
    """Render the heatmap (when matplotlib is installed) followed by the matrix as a table."""
    from smtplab import plots

    table = table_html(result.capability_matrix(), empty_text="No EHLO reply was recorded.")
    try:
        figure = plots.plot_capability_matrix(result)
    except ModuleNotFoundError as error:
        log.info("capability heatmap left out: %s", error)
        return table
    return figure_html(figure) + table
