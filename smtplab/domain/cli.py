"""The ``smtplab probe-domain`` command: check a domain's mail posture from the command line.

``add_parser`` registers the subcommand on the main parser's subparsers and ``run``
executes it. Exit status: 0 without critical findings, 1 with one (the submission
servers' findings count too), 2 for invalid usage. ``smtplab.cli.main`` turns Ctrl-C
into exit status 130.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smtplab.cli import port_number, positive_seconds
from smtplab.config import ProbeConfig
from smtplab.i18n import LANGUAGES
from smtplab.report.output import check_writable, report_format
from smtplab.targets import TlsMode, parse_endpoint, parse_target

if TYPE_CHECKING:
    import pandas as pd

    from smtplab.domain.posture import DomainPosture

log = logging.getLogger("smtplab")

EXIT_OK = 0
EXIT_CRITICAL = 1
EXIT_USAGE = 2

@dataclass(frozen=True)
class _Request:
    """Command-line values, validated before the first DNS query."""

    domain: str
    config: ProbeConfig
    mx_endpoints: dict[str, str]
    output: Path | None


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "probe-domain",
        help="check a domain's MX hosts, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE",
        allow_abbrev=False,
    )
    parser.add_argument("domain", metavar="DOMAIN", help="mail domain, for example example.com")
    parser.add_argument(
        "--nameserver", metavar="IP[:PORT]", help="DNS server to query (default: the system resolver)"
    )
    parser.add_argument(
        "--selector",
        action="append",
        default=[],
        metavar="S",
        help="DKIM selector to check; repeat for several",
    )
    parser.add_argument(
        "--submission",
        action="store_true",
        help="also read the RFC 6186 submission SRV records and probe those servers",
    )
    parser.add_argument("--host", metavar="H", help="also probe H on ports 587 (STARTTLS) and 465 (TLS)")
    parser.add_argument(
        "--cafile", help="PEM file of CAs to trust for SMTP and the MTA-STS policy (default: the system CAs)"
    )
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="report language (default: en)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the report; .md or .html sets the format"
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="standard output: findings as a table, or every frame as JSON",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=15.0,
        help="seconds to wait for a connection, a TLS handshake or one reply (default 15)",
    )
    parser.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's host name)")
    parser.add_argument(
        "--mx-endpoint",
        action="append",
        default=[],
        metavar="HOST=PORT[/starttls]",
        help="probe this MX host on another port than 25, still with STARTTLS (test servers)",
    )
    parser.add_argument(
        "--mta-sts-port",
        type=port_number,
        default=443,
        help="HTTPS port of the MTA-STS policy host (default 443)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Probe the domain, print the findings and write the report; returns the exit status."""
    from smtplab.domain.probe import probe_domain

    try:
        request = _parse_request(args)
        posture = probe_domain(
            request.domain,
            config=request.config,
            selectors=args.selector,
            submission=args.submission,
            host=args.host,
            https_cafile=args.cafile,
            mx_endpoints=request.mx_endpoints,
            mta_sts_port=args.mta_sts_port,
        )
    except ValueError as exc:
        sys.stderr.write(f"smtplab probe-domain: {exc}\n")
        return EXIT_USAGE
    _warn_unused_mx_endpoints(posture, request.mx_endpoints)
    sys.stdout.write(_render(posture, args.format, args.lang))
    if request.output is not None:
        _write_report(posture, request.output, args.lang)
        # stderr, so that standard output stays the requested format (JSON).
        sys.stderr.write(f"report written to {request.output}\n")
    return EXIT_CRITICAL if _has_critical(posture) else EXIT_OK


def _parse_request(args: argparse.Namespace) -> _Request:
    """Check every argument, and raise ValueError with the message for the user."""
    output = _output_path(args.output)
    config = _config(args)
    domain = _domain(args.domain)
    if args.host is not None:
        parse_target(args.host)
    return _Request(domain, config, _mx_endpoints(args.mx_endpoint), output)


def _domain(text: str) -> str:
    """Return the domain as given. Raise ValueError for an IP literal or a name with a port."""
    host = text.strip()
    if host.count(":") == 1 and host.rsplit(":", 1)[1].isdigit():
        raise ValueError(
            f"invalid domain {text!r}: expected a domain name without a port. The MX hosts are probed "
            "on port 25, and --mx-endpoint HOST=PORT changes that for test servers"
        )
    if parse_target(text).is_literal:
        raise ValueError(f"invalid domain {text!r}: expected a domain name, not an IP address")
    return text


def _config(args: argparse.Namespace) -> ProbeConfig:
    options: dict[str, Any] = {
        "nameserver": args.nameserver,
        "cafile": args.cafile,
        "connect_timeout": args.timeout,
        "reply_timeout": args.timeout,
        "tls_timeout": args.timeout,
    }
    if args.ehlo_name:
        options["ehlo_name"] = args.ehlo_name
    return ProbeConfig(**options)


def _mx_endpoints(items: list[str]) -> dict[str, str]:
    """Map each ``--mx-endpoint`` host (ASCII, lower case) to ``PORT/starttls``.

    Mail servers deliver to an MX with STARTTLS (RFC 3207), so other modes are rejected.
    """
    endpoints = {}
    for item in items:
        host, sep, text = item.partition("=")
        if not sep or not host.strip() or not text.strip():
            raise ValueError(f"invalid --mx-endpoint {item!r}: expected HOST=PORT or HOST=PORT/starttls")
        endpoint = parse_endpoint(text)
        # A bare port means STARTTLS here, also 465, which parse_endpoint reads as implicit TLS.
        if "/" in text and endpoint.mode is not TlsMode.STARTTLS:
            raise ValueError(
                f"invalid --mx-endpoint {item!r}: an MX is probed with STARTTLS, "
                f"so write {host.strip()}={endpoint.port}/starttls"
            )
        name = parse_target(host).ascii_host.lower().rstrip(".")
        endpoints[name] = f"{endpoint.port}/{TlsMode.STARTTLS}"
    return endpoints


def _output_path(text: str | None) -> Path | None:
    """Check the report path before probing, so that a wrong path costs no probe."""
    if text is None:
        return None
    path = check_writable(text, "report")
    report_format(path, kinds=("markdown", "html"))
    return path


def _warn_unused_mx_endpoints(posture: DomainPosture, mx_endpoints: dict[str, str]) -> None:
    """Log a warning for each ``--mx-endpoint`` host that is not in the domain's MX set."""
    mx_hosts = [item.host for item in posture.mx_set.hosts]
    for host in mx_endpoints:
        if host not in mx_hosts:
            log.warning(
                "--mx-endpoint %s was not used: it is not an MX host of %s (MX hosts: %s)",
                host,
                posture.domain,
                ", ".join(mx_hosts) or "none",
            )


def _has_critical(posture: DomainPosture) -> bool:
    from smtplab.diagnosis.severity import Severity

    findings = list(posture.finding_list)
    if posture.submission is not None:
        findings += posture.submission.finding_list
    return any(item.severity is Severity.CRITICAL for item in findings)


def _render(posture: DomainPosture, form: str, lang: str) -> str:
    if form == "json":
        return _render_json(posture, lang)
    findings = posture.findings_frame(lang)
    if findings.empty:
        text = f"{posture.domain}: no findings\n"
    else:
        table = findings[["severity", "code", "subject", "title"]].to_string(index=False)
        text = f"{posture.domain}\n{table}\n"
    submission = _submission_findings(posture, lang)
    if submission is not None:
        text += _render_submission(submission)
    return text


def _render_json(posture: DomainPosture, lang: str) -> str:
    frames = {name: _records(frame) for name, frame in posture.frames().items()}
    frames["findings"] = _records(posture.findings_frame(lang))
    document: dict[str, Any] = {"domain": posture.domain, "frames": frames}
    if posture.submission is not None:
        document["submission"] = {
            "endpoints": _records(posture.submission.endpoints),
            "findings": _records(posture.submission.findings_frame(lang)),
        }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


def _submission_findings(posture: DomainPosture, lang: str) -> pd.DataFrame | None:
    """Return the submission probe's findings other than ok, as the report's section lists them.

    The ``subject`` column is ``HOST:PORT``, or the host for a finding about the whole host.
    Returns None when no submission server was probed.
    """
    import pandas as pd

    from smtplab.diagnosis.severity import Severity

    if posture.submission is None:
        return None
    findings = posture.submission.findings_frame(lang)
    problems = findings[findings["severity"].astype(str) != Severity.OK.value].copy()
    problems["subject"] = [
        host if pd.isna(port) else f"{host}:{port}"
        for host, port in zip(problems["host"], problems["port"], strict=True)
    ]
    return problems


def _render_submission(findings: pd.DataFrame) -> str:
    if findings.empty:
        return "submission servers: no problems\n"
    table = findings[["severity", "code", "subject", "title"]].to_string(index=False)
    return f"submission servers\n{table}\n"


def _write_report(posture: DomainPosture, path: Path, lang: str) -> None:
    from smtplab.domain.report import to_html_page

    if path.suffix.lower() == ".md":
        path.write_text(posture.to_markdown(lang), encoding="utf-8")
    else:
        path.write_text(to_html_page(posture, lang), encoding="utf-8")
