"""``smtplab demo``: start the embedded lab, probe both servers and both mail domains, and
write the reports (Markdown and HTML).

The summaries of the servers and domains on the terminal and the reports follow ``lang``.
The demo's own lines about the lab stay English. The servers' reports come first, and
the mail posture of the lab's two domains is appended to the same files.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials, Secret
from smtplab.diagnosis.severity import Severity
from smtplab.report.summary import SEVERITY_MARKS
from smtplab.runner import probe_many_async, run_sync
from smtplab.targets import parse_endpoints, parse_target

if TYPE_CHECKING:
    from smtplab.domain.posture import DomainPosture
    from smtplab.lab import Lab
    from smtplab.result import ProbeResult

log = logging.getLogger("smtplab")

REPORT_NAME = "smtplab-demo-report.md"
HTML_REPORT_NAME = "smtplab-demo-report.html"
# The sentence that opens a domain's report section, reused so that the catalog translates it.
DOMAIN_COUNTS_MESSAGE = (
    "Findings by severity: critical %(critical)s, warning %(warning)s, note %(info)s, passed %(ok)s."
)


def run_demo(output: Path, lang: str = "en") -> int:
    from smtplab.lab import Lab

    with Lab() as lab:
        results = _probe_servers(lab, lang)
        postures = _probe_domains(lab, lang)
    from smtplab.report.output import write_report

    domains = ", ".join(posture.domain for posture in postures)
    for name in (REPORT_NAME, HTML_REPORT_NAME):
        path = write_report(results, output / name, lang)
        _append_domain_sections(path, postures, lang)
        sys.stdout.write(f"report written to {path.resolve()} (servers, then the domains {domains})\n")
    return 0


def _probe_servers(lab: Lab, lang: str) -> list[ProbeResult]:
    """Probe each lab server on all its ports, with its login, and print its summary."""
    config = ProbeConfig(
        nameserver=lab.nameserver,
        cafile=str(lab.cafile),
        ehlo_name="client.smtplab.test",
        reply_timeout=5.0,
        probe_timeout=30.0,
    )
    broken, healthy = lab.servers["broken"], lab.servers["healthy"]
    sys.stdout.write("smtplab demo: two lab servers on loopback\n")
    for server in (broken, healthy):
        sys.stdout.write(f"  {server.host}: {server.description}\n")
    sys.stdout.write("\n")
    results = []
    for server in (broken, healthy):
        credentials = None
        if server.username and server.password:
            credentials = Credentials(server.username, Secret(server.password))
        target = parse_target(server.host, parse_endpoints(server.endpoints))
        coroutine = probe_many_async([target], config=config, credentials=credentials)
        result = run_sync(coroutine)
        results.append(result)
        sys.stdout.write(result.summary(lang) + "\n\n")
    return results


def _probe_domains(lab: Lab, lang: str) -> list[DomainPosture]:
    """Check the mail posture of both lab domains at the same time and print a summary of each."""
    from smtplab.domain.probe import probe_domain_async

    servers = [lab.servers["broken"], lab.servers["healthy"]]
    sys.stdout.write("smtplab demo: the mail posture of the two lab domains\n")
    for server in servers:
        sys.stdout.write(f"  {server.domain_description}\n")
    sys.stdout.write(
        "  The lab's DNS zone is not signed, so both domains get a note on DNSSEC\n"
        "  and a warning on TLSA validation.\n\n"
    )

    options = lab.domain_options()

    async def probe_all() -> list[DomainPosture]:
        checks = (probe_domain_async(server.mail_domain, **options) for server in servers)
        return list(await asyncio.gather(*checks))

    postures = run_sync(probe_all())
    for posture in postures:
        sys.stdout.write(_domain_summary(posture, lang) + "\n\n")
    return postures


def _domain_summary(posture: DomainPosture, lang: str) -> str:
    """Build the terminal summary of one domain in ``lang``: counts by severity, then the findings' titles."""
    from smtplab.i18n import gettext_for

    findings = posture.finding_list
    counts = {severity.value: 0 for severity in Severity}
    for item in findings:
        counts[item.severity.value] += 1
    lines = [f"== {posture.domain}", f"   {gettext_for(lang)(DOMAIN_COUNTS_MESSAGE) % counts}"]
    lines += [f"   {SEVERITY_MARKS[item.severity]} {item.title(lang)}" for item in findings]
    return "\n".join(lines)


def _append_domain_sections(path: Path, postures: list[DomainPosture], lang: str) -> None:
    """Append the domains' report sections to the Markdown or HTML report at ``path``.

    A heading of their own keeps the sections apart from the last server's report.
    """
    from smtplab.i18n import gettext_for

    domains = ", ".join(posture.domain for posture in postures)
    heading = gettext_for(lang)("Mail posture of %(domain)s") % {"domain": domains}
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        sections = "\n\n".join(posture.to_markdown(lang) for posture in postures)
        text = f"{text.rstrip()}\n\n# {heading}\n\n{sections}"
    else:
        sections = "".join(posture.to_html(lang) for posture in postures)
        header = f"<header><h1>{escape(heading)}</h1></header>"
        article = f'<article class="report" id="domains">\n{header}\n{sections}</article>\n'
        text = _insert_before_closing_tag(text, article)
    path.write_text(text, encoding="utf-8")


def _insert_before_closing_tag(page: str, fragment: str) -> str:
    """Insert ``fragment`` before the page's last ``</main>``, or ``</body>`` without one."""
    for tag in ("</main>", "</body>"):
        head, found, tail = page.rpartition(tag)
        if found:
            return f"{head}{fragment}{found}{tail}"
    return page + fragment
