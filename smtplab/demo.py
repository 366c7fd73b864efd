"""``smtplab demo``: start the embedded lab, probe both servers, write the reports (Markdown and HTML)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials, Secret
from smtplab.runner import probe_many_async, run_sync
from smtplab.targets import parse_endpoints, parse_target

log = logging.getLogger("smtplab")

REPORT_NAME = "smtplab-demo-report.md"
HTML_REPORT_NAME = "smtplab-demo-report.html"


def run_demo(output: Path, lang: str = "en") -> int:
    from smtplab.lab import Lab

    with Lab() as lab:
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
    from smtplab.report.output import write_report

    for name in (REPORT_NAME, HTML_REPORT_NAME):
        path = write_report(results, output / name, lang)
        sys.stdout.write(f"report written to {path.resolve()}\n")
    return 0
