"""The ``smtplab`` command: probe servers, write a report, or run the demo against the embedded lab.

Exit status: 0 when no critical finding was made, 1 when at least one was,
2 for invalid usage, 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from smtplab import __version__
from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.i18n import LANGUAGES
from smtplab.report.output import check_writable
from smtplab.targets import Target, parse_endpoints, parse_target

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

# A POSIX environment variable name. Anything else given to --password-env is
# more likely the password itself, so no message repeats it.
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
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
    try:
        if args.command == "probe-domain":
            return int(args.run(args))
        if args.command == "scan":
            from smtplab.scan_cli import run as run_scan

            return run_scan(args)
        if args.command == "report":
            return run_report(args)
        return run_probe(args)
    except ValueError as exc:
        _subcommand_parser(parser, args.command).error(_option_names(str(exc)))
    except KeyboardInterrupt:
        return _exit_interrupted(getattr(args, "save", None))
    return EXIT_USAGE


# ProbeConfig names its fields in messages; the command line user typed the options.
_OPTION_NAMES = {"ehlo_name": "--ehlo-name", "mail_from": "--mail-from", "rcpt_to": "--rcpt-to"}


def _option_names(message: str) -> str:
    for field_name, option in _OPTION_NAMES.items():
        message = message.replace(f"invalid {field_name} ", f"invalid {option} ")
    return message


def _subcommand_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """Return the parser of ``command``, so a usage error shows that command's usage line."""
    for action in parser._actions:  # argparse keeps its subcommands only in this private list
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def _exit_interrupted(saved: str | None = None) -> int:
    """Write the one-line notice of a Ctrl-C to stderr and return exit status 130.

    ``saved`` is the file that keeps the endpoints finished before the interrupt.
    """
    kept = f"; finished endpoints are in {saved}" if saved else ""
    sys.stderr.write(f"smtplab: interrupted{kept}\n")
    return EXIT_INTERRUPTED


def parse_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse ``argv`` like ``parser.parse_args``, but never repeat the value of an unknown option.

    argparse lists every unrecognized argument in its error, so a mistyped option
    such as ``--password hunter2`` would print the password.
    """
    args, unrecognized = parser.parse_known_args(argv)
    if unrecognized:
        parser.error(f"unrecognized arguments: {_describe_unrecognized(unrecognized)}")
    return args


def _describe_unrecognized(arguments: list[str]) -> str:
    """List unknown options by name only, and leave out the values that follow an unknown option.

    The argument right after an unknown option is hidden even when it starts with ``-``,
    because a password may start with one.
    """
    shown: list[str] = []
    values_hidden = False
    after_option = False
    value_expected = False
    for argument in arguments:
        looks_like_option = argument.startswith("-") and len(argument) > 1
        if looks_like_option and not value_expected:
            name, equals, _ = argument.partition("=")
            shown.append(name)
            values_hidden = values_hidden or bool(equals)
            after_option = True
            value_expected = not equals
        elif after_option:
            values_hidden = True
            value_expected = False
        else:
            shown.append(argument)
    text = " ".join(shown)
    if values_hidden:
        text += " (values not shown)"
    return text


def positive_seconds(text: str) -> float:
    """Parse an argparse option value in seconds that must be finite and above 0."""
    return _positive_number(text, "seconds > 0")


def positive_rate(text: str) -> float:
    """Parse an argparse option value in connections per second that must be finite and above 0."""
    return _positive_number(text, "connections per second > 0")


def _positive_number(text: str, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected {expected}")
    return value


def positive_integer(text: str) -> int:
    """Parse an argparse option value that must be a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a whole number of 1 or more")
    return value


def port_number(text: str) -> int:
    """Parse an argparse option value that must be a TCP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected 1 to 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    # Imported here, so that the subcommand modules can import this module's helpers.
    from smtplab.domain.cli import add_parser as add_domain_parser
    from smtplab.scan_cli import add_parser as add_scan_parser

    parser = argparse.ArgumentParser(
        prog="smtplab",
        description="Diagnose SMTP servers: ports, banner, EHLO, STARTTLS, TLS, AUTH and relay.",
        epilog="Exit status: 0 no critical finding, 1 critical findings, 2 invalid usage, 130 interrupted. "
        "scan writes its results without judging them, so it exits 0 when it finished.",
        # Without this, argparse expands a prefix: --password would become --password-env.
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"smtplab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v) or every protocol line (-vv) to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_probe_parser(commands)
    _add_report_parser(commands)
    add_domain_parser(commands)
    add_scan_parser(commands)
    demo = commands.add_parser(
        "demo",
        help="probe the embedded lab's two servers and its two mail domains, and write the reports",
        description="Start the embedded lab on loopback, probe its two SMTP servers, check the mail "
                    "posture of its two domains (shop.test and healthy.test), print the diagnoses and "
                    "write smtplab-demo-report.md and smtplab-demo-report.html.",
        allow_abbrev=False,
    )
    demo.add_argument("--output", default=".", help="folder for the reports (default: current folder)")
    _add_lang_option(demo)
    return parser


def _add_probe_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    probe = commands.add_parser("probe", help="probe one or more mail servers", allow_abbrev=False)
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
        "report",
        help="probe mail servers and write the narrative report as HTML, Markdown or PDF",
        allow_abbrev=False,
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
    probe.add_argument("--timeout", type=positive_seconds, default=15.0,
                       help="seconds to wait for a connection, a TLS handshake or one reply (default 15)")
    probe.add_argument("--deadline", type=positive_seconds, default=90.0,
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


def run_probe(args: argparse.Namespace) -> int:
    from smtplab.runner import probe_many

    if args.report:
        check_writable(args.report, "report")
        if Path(args.report).suffix.lower() not in (".md", ".markdown"):
            raise ValueError("--report writes Markdown: name a .md file, or use smtplab report -o FILE.html")
    if args.save:
        check_writable(args.save, "results file")
        if Path(args.save).exists():
            log.warning("%s exists: this run replaces the results in it", args.save)
    if args.resume and not args.save:
        raise ValueError("--resume needs --save FILE.jsonl")
    config = _config(args)
    targets = _targets(args)
    credentials = _credentials(args)
    result = probe_many(targets, config=config, credentials=credentials, output=args.save,
                        resume=args.resume)
    _write_output(result, args.format)
    if args.report:
        Path(args.report).write_text(result.to_markdown(), encoding="utf-8")
        # stderr, so that standard output stays the requested format (JSON or CSV).
        sys.stderr.write(f"report written to {args.report}\n")
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
    targets = _targets(args)
    result = probe_many(targets, config=config, credentials=_credentials(args))
    write_report([result], output, args.lang)
    sys.stdout.write(result.summary(args.lang) + "\n")
    sys.stderr.write(f"report written to {output}\n")
    return _exit_status(result)


def _targets(args: argparse.Namespace) -> list[Target]:
    """Parse the hosts and ``--ports``. With ``--no-dns``, every host must be an IP literal."""
    endpoints = parse_endpoints(args.ports)
    targets = [parse_target(host, endpoints) for host in args.hosts]
    names = [target.host for target in targets if not target.is_literal]
    if args.no_dns and names:
        raise ValueError(
            f"--no-dns needs IP addresses, but {names[0]!r} is a host name: "
            "give its address or leave out --no-dns"
        )
    return targets


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
        if not _VARIABLE_NAME.fullmatch(args.password_env):
            # The value is not repeated: it may be the password typed in the wrong place.
            raise ValueError(
                "invalid --password-env: expected the name of an environment variable "
                "(letters, digits and _), not the password itself"
            )
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
