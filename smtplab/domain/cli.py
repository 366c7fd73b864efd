"""The ``smtplab probe-domain`` command: check a domain's mail posture from the command line.

``add_parser`` registers the subcommand on the main parser's subparsers and ``run``
executes it. Exit status: 0 without critical findings, 1 with one, 2 for invalid usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from smtplab.config import ProbeConfig
from smtplab.i18n import LANGUAGES
from smtplab.targets import parse_endpoint, parse_target

EXIT_OK = 0
EXIT_CRITICAL = 1
EXIT_USAGE = 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "probe-domain",
        help="check a domain's MX hosts, reverse DNS, SPF, DMARC, DKIM, MTA-STS, TLS-RPT and DANE",
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
        type=float,
        default=15.0,
        help="seconds to wait for a connection, a TLS handshake or one reply (default 15)",
    )
    parser.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's host name)")
    parser.add_argument(
        "--mx-endpoint",
        action="append",
        default=[],
        metavar="HOST=PORT/MODE",
        help="probe this MX host on another endpoint than 25/starttls (test servers)",
    )
    parser.add_argument(
        "--mta-sts-port", type=int, default=443, help="HTTPS port of the MTA-STS policy host (default 443)"
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Probe the domain, print the findings and write the report; returns the exit status."""
    from smtplab.diagnosis.severity import Severity
    from smtplab.domain.probe import probe_domain

    try:
        output = _output_path(args.output)
        config = _config(args)
        endpoints = _mx_endpoints(args.mx_endpoint)
        for spec in endpoints.values():
            parse_endpoint(spec)
        parse_target(args.domain)
        posture = probe_domain(
            args.domain,
            config=config,
            selectors=args.selector,
            submission=args.submission,
            host=args.host,
            https_cafile=args.cafile,
            mx_endpoints=endpoints,
            mta_sts_port=args.mta_sts_port,
        )
    except ValueError as exc:
        sys.stderr.write(f"smtplab probe-domain: {exc}\n")
        return EXIT_USAGE
    sys.stdout.write(_render(posture, args.format, args.lang))
    if output is not None:
        _write_report(posture, output, args.lang)
        sys.stdout.write(f"report written to {output}\n")
    critical = any(item.severity is Severity.CRITICAL for item in posture.finding_list)
    return EXIT_CRITICAL if critical else EXIT_OK


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
    endpoints = {}
    for item in items:
        host, sep, endpoint = item.partition("=")
        if not sep or not host or not endpoint:
            raise ValueError(f"invalid --mx-endpoint {item!r}: expected HOST=PORT/MODE")
        endpoints[host.strip().lower().rstrip(".")] = endpoint.strip()
    return endpoints


def _output_path(text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text)
    if path.suffix.lower() not in (".md", ".html"):
        raise ValueError(f"invalid report file {text!r}: the name must end in .md or .html")
    if not path.parent.is_dir():
        raise ValueError(f"folder {str(path.parent)!r} for the report does not exist")
    return path


def _render(posture: Any, form: str, lang: str) -> str:
    if form == "json":
        frames = {
            name: json.loads(frame.to_json(orient="records", date_format="iso"))
            for name, frame in posture.frames().items()
        }
        frames["findings"] = json.loads(posture.findings_frame(lang).to_json(orient="records"))
        return json.dumps({"domain": posture.domain, "frames": frames}, ensure_ascii=False, indent=2) + "\n"
    findings = posture.findings_frame(lang)
    if findings.empty:
        return f"{posture.domain}: no findings\n"
    table = findings[["severity", "code", "subject", "title"]].to_string(index=False)
    return f"{posture.domain}\n{table}\n"


def _write_report(posture: Any, path: Path, lang: str) -> None:
    from smtplab.domain.report import to_html_page

    if path.suffix.lower() == ".md":
        path.write_text(posture.to_markdown(lang), encoding="utf-8")
    else:
        path.write_text(to_html_page(posture, lang), encoding="utf-8")
