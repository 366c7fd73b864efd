"""The ``smtplab scan`` subcommand: probe many targets, streaming results to a file.

``smtplab.cli`` adds it with ``add_parser(subparsers)`` and runs it with
``run(args)``. Exit status: 0 when the scan finished, 2 for invalid usage,
130 when interrupted. The output then contains every finished endpoint, and
``--resume`` continues from there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smtplab.cli import parse_arguments, positive_integer, positive_rate, positive_seconds
from smtplab.config import ProbeConfig
from smtplab.targets import Endpoint, parse_endpoints

if TYPE_CHECKING:
    from smtplab.scan import ScanItem, ScanSummary

log = logging.getLogger("smtplab")

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``scan`` subcommand and its options to ``subparsers``."""
    parser = subparsers.add_parser(
        "scan", help="probe many mail servers, streaming results to a file",
        description="Probe many targets under concurrency and rate limits. Each finished endpoint is "
                    "written to --output at once, so an interrupted scan loses nothing and --resume "
                    "continues it. Target lines are HOST or HOST socks5://IP:PORT; # starts a comment.",
        allow_abbrev=False,
    )
    parser.add_argument("targets", nargs="*", metavar="HOST", help="host name or IP literal")
    parser.add_argument("-i", "--input", metavar="FILE",
                        help="file with one target per line, or - for standard input")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="results as JSON Lines, or a folder of Parquet files when PATH ends in "
                             ".parquet (smtplab.scan.load_scan reads either)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the endpoints already in --output and probe only the rest")
    parser.add_argument("--ports", default=None,
                        help="comma-separated PORT or PORT/MODE, MODE one of starttls, tls, plain "
                             "(default: 25/starttls,587/starttls,465/tls)")
    limits = parser.add_argument_group("limits")
    limits.add_argument("--concurrency", type=positive_integer, default=100,
                        help="endpoints probed at the same time (default 100)")
    limits.add_argument("--per-host", type=positive_integer, default=3,
                        help="connections at the same time to one address (default 3)")
    limits.add_argument("--per-host-interval", type=float, default=0.0, metavar="SECONDS",
                        help="seconds between connection starts to one address (default 0)")
    limits.add_argument("--per-network", type=positive_integer, default=None,
                        help="endpoints probed at the same time in one network (default: no limit)")
    limits.add_argument("--ipv4-prefix", type=int, default=24,
                        help="prefix length of an IPv4 network for --per-network (default 24)")
    limits.add_argument("--ipv6-prefix", type=int, default=64,
                        help="prefix length of an IPv6 network for --per-network (default 64)")
    limits.add_argument("--rate", type=positive_rate, default=None, metavar="PER_SECOND",
                        help="connections opened per second overall (default: no limit)")
    probe = parser.add_argument_group("probe")
    probe.add_argument("--timeout", type=positive_seconds, default=15.0,
                       help="seconds to wait for a connection, a TLS handshake or one reply (default 15)")
    probe.add_argument("--deadline", type=positive_seconds, default=90.0,
                       help="seconds one endpoint's whole conversation may take (default 90)")
    probe.add_argument("--nameserver", metavar="IP[:PORT]",
                       help="DNS server to query (default: the system resolver)")
    probe.add_argument("--no-dns", action="store_true",
                       help="skip DNS lookups; targets must then be IP literals")
    probe.add_argument("--cafile", help="PEM file of CAs to trust (default: the system CAs)")
    probe.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's host name)")
    probe.add_argument("--no-relay-test", action="store_true", help="skip MAIL FROM / RCPT TO")
    probe.add_argument("--proxy", metavar="URL",
                       help="SOCKS proxy for every connection, socks5://[USER:PASSWORD@]IP:PORT; "
                            "a proxy on a target line takes precedence")
    parser.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="progress bar on stderr: when stderr is a terminal (auto), always or never")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="summary on stdout: a few lines of text, or JSON")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run a scan from parsed arguments; return the exit status.

    Invalid arguments raise ValueError, which the caller reports as usage error 2.
    """
    # Imported here, so that adding the subcommand to the parser does not load the scan engine.
    from smtplab.limits import ScanLimits
    from smtplab.progress import TqdmProgress
    from smtplab.scan import scan

    if args.resume and not args.output:
        raise ValueError("--resume needs --output PATH")
    if args.output:
        _check_output(args.output)
        if Path(args.output).exists() and not args.resume:
            log.warning("%s exists: this scan replaces it (--resume continues it instead)", args.output)
    else:
        log.warning("no --output PATH: the scan prints its counts and keeps no results")
    config = _config(args)
    items = list(_items(args, parse_endpoints(args.ports), config))
    if not items:
        raise ValueError("no targets given: name them as arguments or with --input FILE")
    limits = ScanLimits(per_network_concurrency=args.per_network, ipv4_prefix=args.ipv4_prefix,
                        ipv6_prefix=args.ipv6_prefix, connect_rate=args.rate)
    observers = [] if args.progress == "never" else [TqdmProgress(disable=_progress_disabled(args))]
    try:
        summary = scan(items, ports=args.ports, config=config, limits=limits, output=args.output,
                       resume=args.resume, observers=observers)
    except KeyboardInterrupt:
        kept = f"; finished endpoints are in {args.output}, --resume continues" if args.output else ""
        sys.stderr.write(f"smtplab: scan interrupted{kept}\n")
        return EXIT_INTERRUPTED
    sys.stdout.write(_render(summary, args.format))
    return EXIT_OK


def _check_output(path: str) -> None:
    """Raise ValueError before scanning when the results cannot be written at ``path``.

    A Parquet output is a folder of parts, which may exist already; only its parent must.
    """
    from smtplab.report.output import check_writable
    from smtplab.stream import is_parquet_path

    if not is_parquet_path(path):
        check_writable(path, "results file")
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise ValueError(f"folder {str(target.parent)!r} for the results does not exist")
    if target.exists() and not target.is_dir():
        raise ValueError(f"{path!r} is a file: a Parquet output is a folder of parts")


def _progress_disabled(args: argparse.Namespace) -> bool | None:
    # tqdm's disable=None hides the bar when the stream is not a terminal.
    return None if args.progress == "auto" else False


def _config(args: argparse.Namespace) -> ProbeConfig:
    options: dict[str, Any] = {
        "nameserver": args.nameserver, "resolve": not args.no_dns, "cafile": args.cafile,
        "connect_timeout": args.timeout, "reply_timeout": args.timeout, "tls_timeout": args.timeout,
        "probe_timeout": args.deadline, "relay_test": not args.no_relay_test,
        "concurrency": args.concurrency, "per_host_concurrency": args.per_host,
        "per_host_interval": args.per_host_interval, "proxy": args.proxy,
    }
    if args.ehlo_name:
        options["ehlo_name"] = args.ehlo_name
    return ProbeConfig(**options)


def _items(
    args: argparse.Namespace, endpoints: tuple[Endpoint, ...], config: ProbeConfig
) -> Iterator[ScanItem]:
    """Parse every target line up front, so a typo fails before the scan starts, not hours into it."""
    from smtplab.scan import parse_scan_line

    for source, number, line in _lines(args):
        try:
            item = parse_scan_line(line, endpoints, config)
        except ValueError as exc:
            raise ValueError(f"{source}:{number}: {exc}") from None
        if item is None:
            continue
        target, _ = item
        if args.no_dns and not target.is_literal:
            raise ValueError(
                f"{source}:{number}: {target.host!r} is a host name, but --no-dns needs IP addresses"
            )
        yield item


def _lines(args: argparse.Namespace) -> Iterable[tuple[str, int, str]]:
    for number, text in enumerate(args.targets, start=1):
        yield "argument", number, text
    if args.input is None:
        return
    if args.input == "-":
        yield from (("stdin", number, text) for number, text in enumerate(sys.stdin, start=1))
        return
    path = Path(args.input)
    if not path.is_file():
        raise ValueError(f"target file {args.input!r} not found")
    with path.open(encoding="utf-8") as file:
        yield from ((args.input, number, text) for number, text in enumerate(file, start=1))


def _render(summary: ScanSummary, output_format: str) -> str:
    if output_format == "json":
        data = {
            "output": str(summary.output) if summary.output else None, "started_at": summary.started_at,
            "finished_at": summary.finished_at, "elapsed_s": summary.elapsed_s, "targets": summary.targets,
            "hosts_unresolved": summary.hosts_unresolved, "endpoints_probed": summary.endpoints_probed,
            "endpoints_resumed": summary.endpoints_resumed,
            "endpoints_reachable": summary.endpoints_reachable, "errors": summary.errors,
            "endpoints_per_second": round(summary.rate, 1),
        }
        return json.dumps(data, indent=1) + "\n"
    lines = [
        f"targets: {summary.targets} ({summary.hosts_unresolved} not resolved)",
        f"endpoints probed: {summary.endpoints_probed} in {summary.elapsed_s:.1f} s "
        f"({summary.rate:.1f}/s), {summary.endpoints_reachable} reachable; "
        f"{summary.endpoints_resumed} already done before",
    ]
    if summary.errors:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(summary.errors.items()))
        lines.append(f"errors: {counts}")
    if summary.output is not None:
        lines.append(f"results: {summary.output}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run ``scan`` as a program of its own, until ``smtplab.cli`` wires it in."""
    parser = argparse.ArgumentParser(prog="smtplab", allow_abbrev=False)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v) or every protocol line (-vv) to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parse_arguments(parser, argv)
    level = logging.WARNING
    if args.verbose:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    try:
        return run(args)
    except ValueError as exc:
        parser.error(str(exc))
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
