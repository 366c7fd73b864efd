"""Charts and comparison tables of probe results, for notebooks.

Each ``plot_*`` function takes a ``ProbeResult`` or the frame it reads, and returns a
matplotlib ``Figure`` without showing it. The figures are built without pyplot, so
they hold no global state, and Jupyter draws a figure that a cell returns. The table
functions (``capability_cells``, ``ehlo_diff``, ``latency_frame``,
``certificate_expiry``, ``findings_summary``, ``compare_runs``) need only pandas.

Endpoint columns are labelled ``host:port:phase``. A host that resolved to several
addresses gets ``host[address]:port:phase`` instead, so its addresses stay apart.
"""

from __future__ import annotations

from smtplab.plots._figure import INSTALL_HINT
from smtplab.plots.capabilities import (
    CELL_COLORS,
    CELL_STATES,
    capability_cells,
    plot_capability_matrix,
)
from smtplab.plots.certificates import (
    EXPIRY_COLORS,
    EXPIRY_CRITICAL_DAYS,
    EXPIRY_STATUSES,
    EXPIRY_WARNING_DAYS,
    certificate_expiry,
    plot_certificate_expiry,
)
from smtplab.plots.compare import EndpointKey, compare_runs
from smtplab.plots.ehlo import (
    CHANGE_COLORS,
    CHANGE_MARKS,
    CHANGES,
    DIFF_SCOPES,
    Keywords,
    ehlo_diff,
    plot_ehlo_diff,
)
from smtplab.plots.findings import SEVERITIES, findings_summary, plot_findings
from smtplab.plots.labels import endpoint_label
from smtplab.plots.latency import LATENCY_STAGES, STAGE_COLORS, latency_frame, plot_latency

__all__ = [
    "CELL_COLORS",
    "CELL_STATES",
    "CHANGES",
    "CHANGE_COLORS",
    "CHANGE_MARKS",
    "DIFF_SCOPES",
    "EXPIRY_COLORS",
    "EXPIRY_CRITICAL_DAYS",
    "EXPIRY_STATUSES",
    "EXPIRY_WARNING_DAYS",
    "INSTALL_HINT",
    "LATENCY_STAGES",
    "SEVERITIES",
    "STAGE_COLORS",
    "EndpointKey",
    "Keywords",
    "capability_cells",
    "certificate_expiry",
    "compare_runs",
    "ehlo_diff",
    "endpoint_label",
    "findings_summary",
    "latency_frame",
    "plot_capability_matrix",
    "plot_certificate_expiry",
    "plot_ehlo_diff",
    "plot_findings",
    "plot_latency",
]
