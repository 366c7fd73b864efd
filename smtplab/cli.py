"""The ``smtplab`` command: probe servers, write a report, or run the demo against the embedded lab.

Exit status: 0 when no critical finding was made, 1 when at least one was,
2 for invalid usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.domain.cli import add_parser as add_domain_parser
from smtplab.i18n import LANGUAGES
from smtplab.scan_cli import add_parser as add_scan_parser
from smtplab.targets import parse_endpoints, parse_target

if TYPE_CHECKING:
    from smtplab.result import ProbeResult

# The modules that probe, diagnose and write reports are imported by the function
# that runs a command, so building the parser and ``--help`` stay cheap and each
# command loads only what it uses.

log = logging.getLogger("smtplab")

EXIT_OK = 0
EXIT_CRITICAL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING
    if args.verbose == 1:
        level = logging.INFO
    elif args.verbose > 1:
        level = logging.DEBUG
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "demo":
        from smtplab.demo import run_demo

        output = Path(args.output)
        try:
            check_writable(output / "smtplab-demo-report.md", "demo report")
        except ValueError:
            parser.error(f"--output {args.output!r} is not a writable folder")
        return run_demo(output, args.lang)
    if args.command == "probe-domain":
        return int(args.run(args))
    try:
        if args.command == "scan":
            from smtplab.scan_cli import run as run_scan

            return run_scan(args)
        if args.command == "report":
            return run_report(args)
        return run_probe(args)
    except ValueError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        saved = f"; finished endpoints are in {args.save}" if getattr(args, "save", None) else ""
        sys.stderr.write(f"smtplab: interrupted{saved}\n")
        return EXIT_INTERRUPTED
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smtplab",
        description="Diagnose SMTP servers: ports, banner, EHLO, STARTTLS, TLS, AUTH and relay.",
        epilog="Exit status: 0 no critical finding, 1 critical findings, 2 invalid usage.",
    )
    parser.add_argument("--version", action="version", version=f"smtplab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v) or every protocol line (-vv) to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_probe_parser(commands)
    _add_report_parser(commands)
    add_domain_parser(commands)
    add_scan_parser(commands)
    demo = commands.add_parser("demo", help="probe the embedded lab's two servers and write a report")
    demo.add_argument("--output", default=".", help="folder for the reports (default: current folder)")
    _add_lang_option(demo)
    return parser


def _add_probe_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    probe = commands.add_parser("probe", help="probe one or more mail servers")
    add_probe_options(probe)
    probe.add_argument("--format", choices=("table", "json", "csv"), default="table",
                       help="output: summary table, the whole result as JSON, or endpoints as CSV")
    probe.add_argument("--report", metavar="FILE.md", help="write the Markdown report there")
    probe.add_argument("--save", metavar="FILE.jsonl",
                       help="stream each finished endpoint to this file (smtplab.load reads it)")
    probe.add_argument("--resume", action="store_true",
                       help="with --save: keep the file's finished endpoints and probe only the rest")


def _add_report_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="probe mail servers and write the narrative report as HTML, Markdown or PDF"
    )
    add_probe_options(report)
    _add_lang_option(report)
    report.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="report file; its extension (.html, .md or .pdf) sets the format")


def _add_lang_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="report language (default: en)")


def add_probe_options(probe: argparse.ArgumentParser) -> None:
    """Add the target, credential and probe settings shared by ``probe`` and ``report``."""
    probe.add_argument("hosts", nargs="+", metavar="HOST", help="host name or IP literal")
    probe.add_argument("--ports", default=None,
                       help="comma-separated PORT or PORT/MODE, MODE one of starttls, tls, plain "
                            "(default: 25/starttls,587/starttls,465/tls)")
    probe.add_argument("--user", help="user name for the credential check")
    secret = probe.add_mutually_exclusive_group()
    secret.add_argument("--password-env", metavar="VAR",
                        help="environment variable that contains the password")
    secret.add_argument("--ask-password", action="store_true", help="prompt for the password")
    probe.add_argument("--mechanism", type=str.upper, choices=("PLAIN", "LOGIN", "CRAM-MD5"),
                       help="SASL mechanism (default: the first of CRAM-MD5, PLAIN, LOGIN offered)")
    probe.add_argument("--cafile", help="PEM file of CAs to trust (default: the system CAs)")
    probe.add_argument("--nameserver", metavar="IP[:PORT]",
                       help="DNS server to query (default: the system resolver)")
    probe.add_argument("--no-dns", action="store_true",
                       help="skip DNS lookups; HOST must then be an IP literal")
    probe.add_argument("--timeout", type=float, default=15.0,
                       help="seconds to wait for a connection, a TLS handshake or one reply (default 15)")
    probe.add_argument("--deadline", type=float, default=90.0,
                       help="seconds one endpoint's whole conversation may take (default 90)")
    probe.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's host name)")
    probe.add_argument("--tls-scan", action="store_true",
                       help="also try TLS 1.0, TLS 1.1 and weak ciphers (three extra connections per "
                            "TLS endpoint) and report what the server still accepts")
    probe.add_argument("--expect-software", metavar="NAME",
                       help="software that should serve every port, e.g. postfix or exim; "
                            "ports that look like other software are reported")
    probe.add_argument("--expect-banner", metavar="HOST",
                       help="host name the greeting and EHLO reply should show")
    probe.add_argument("--mail-from", default="smtplab@example.com", help="relay test sender")
    probe.add_argument("--rcpt-to", default="smtplab@example.net", help="relay test recipient")
    probe.add_argument("--no-relay-test", action="store_true", help="skip MAIL FROM / RCPT TO")


def check_writable(path: str | Path, what: str) -> Path:
    """Raise ValueError unless a file can be written at ``path``; checked before probing."""
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} for the {what} does not exist")
    if target.is_dir():
        raise ValueError(f"{str(target)!r} is a folder: give a file name for the {what}")
    import tempfile

    try:
        # os.access reports root as allowed everywhere, even in /proc, so try a real write.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write the {what} to {str(target)!r}: {exc.strerror}") from None
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"cannot write the {what} to {str(target)!r}: permission denied")
    return target


def run_probe(args: argparse.Namespace) -> int:
    from smtplab.runner import probe_many

    if args.report:
        check_writable(args.report, "report")
        if Path(args.report).suffix.lower() not in (".md", ".markdown"):
            raise ValueError("--report writes Markdown: name a .md file, or use smtplab report -o FILE.html")
    if args.save:
        check_writable(args.save, "results file")
    config = _config(args)
    endpoints = parse_endpoints(args.ports)
    targets = [parse_target(host, endpoints) for host in args.hosts]
    credentials = _credentials(args)
    if args.resume and not args.save:
        raise ValueError("--resume needs --save FILE.jsonl")
    result = probe_many(targets, config=config, credentials=credentials, output=args.save,
                        resume=args.resume)
    _write_output(result, args.format)
    if args.report:
        Path(args.report).write_text(result.to_markdown(), encoding="utf-8")
        log.info("report written to %s", args.report)
    return _exit_status(result)


def run_report(args: argparse.Namespace) -> int:
    """Probe, then write the report; the output path is checked before any connection."""
    from smtplab.report.output import check_pdf_support, report_format, write_report
    from smtplab.runner import probe_many

    output = Path(args.output)
    if report_format(output) == "pdf":
        try:
            check_pdf_support()
        except RuntimeError as exc:
            raise ValueError(str(exc)) from exc
    check_writable(output, "report")
    config = _config(args)
    endpoints = parse_endpoints(args.ports)
    targets = [parse_target(host, endpoints) for host in args.hosts]
    result = probe_many(targets, config=config, credentials=_credentials(args))
    write_report([result], output, args.lang)
    sys.stdout.write(result.summary(args.lang) + "\n")
    sys.stdout.write(f"report written to {output}\n")
    return _exit_status(result)


def _exit_status(result: ProbeResult) -> int:
    from smtplab.diagnosis.severity import Severity

    critical = any(item.severity is Severity.CRITICAL for item in result.finding_list)
    return EXIT_CRITICAL if critical else EXIT_OK


def _config(args: argparse.Namespace) -> ProbeConfig:
    options = {
        "nameserver": args.nameserver,
        "resolve": not args.no_dns,
        "cafile": args.cafile,
        "connect_timeout": args.timeout,
        "reply_timeout": args.timeout,
        "tls_timeout": args.timeout,
        "probe_timeout": args.deadline,
        "mail_from": args.mail_from,
        "rcpt_to": args.rcpt_to,
        "relay_test": not args.no_relay_test,
        "expect_software": args.expect_software,
        "tls_scan": args.tls_scan,
        "expect_banner_host": args.expect_banner,
    }
    if args.ehlo_name is not None:
        options["ehlo_name"] = args.ehlo_name
    return ProbeConfig(**options)


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if args.user is None:
        if args.password_env or args.ask_password:
            raise ValueError("--password-env and --ask-password need --user")
        return None
    if args.password_env:
        return Credentials.from_env(args.user, args.password_env, args.mechanism)
    if args.ask_password:
        return Credentials.from_prompt(args.user, args.mechanism)
    raise ValueError("--user needs --password-env VAR or --ask-password")


def _write_output(result: ProbeResult, output_format: str) -> None:
    if output_format == "table":
        sys.stdout.write(result.summary() + "\n")
    elif output_format == "csv":
        sys.stdout.write(result.endpoints.to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(result_to_json(result), ensure_ascii=False, indent=1) + "\n")


def result_to_json(result: ProbeResult) -> dict[str, object]:
    """Return every frame as records (NA as null) plus the run's settings."""
    run = result.run
    header = {
        "started_at": run.started_at, "finished_at": run.finished_at, "vantage": run.vantage,
        "tool_version": run.tool_version, "config": run.config, "username": run.username,
    }
    frames = {
        name: json.loads(frame.to_json(orient="records", date_format="iso"))
        for name, frame in result.frames().items()
    }
    return {"run": header, "frames": frames}


if __name__ == "__main__":
    raise SystemExit(main())
