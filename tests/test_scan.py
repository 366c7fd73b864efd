"""Scans of many targets: limits, observers, Parquet output, flat memory, interrupt and resume."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import smtplab
from smtplab.limits import Limits, ScanLimits
from smtplab.progress import ProbeObserver, TqdmProgress
from smtplab.scan import load_scan, parse_scan_line, scan
from smtplab.stream import ParquetStream, load_records
from smtplab.targets import parse_endpoints

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.fleet import Fleet, running_fleet  # noqa: E402

CONFIG = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=5.0,
                             connect_timeout=5.0, probe_timeout=20.0, concurrency=50)


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    """60 plaintext servers on 127.21.N.H, spread over 8 /24 networks."""
    with running_fleet(60, networks=8, second_octet=21) as running:
        yield running


def _port(fleet: Fleet) -> str:
    return f"{fleet.endpoints[0][1]}/plain"


class Collector(ProbeObserver):
    def __init__(self) -> None:
        self.started: list[tuple[int | None, int]] = []
        self.records: list[smtplab.EndpointRecord] = []  # type: ignore[name-defined]
        self.finished = 0

    def on_start(self, expected: int | None, resumed: int) -> None:
        self.started.append((expected, resumed))

    def on_endpoint_done(self, record: object) -> None:
        self.records.append(record)  # type: ignore[arg-type]

    def on_finish(self) -> None:
        self.finished += 1


def test_scan_streams_records_and_returns_counts(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "scan.jsonl"
    collector = Collector()
    summary = scan(fleet.targets(), ports=[_port(fleet)], config=CONFIG, output=path, observers=[collector])

    assert summary.targets == 60
    assert summary.endpoints_probed == 60
    assert summary.endpoints_reachable == 60
    assert summary.errors == {}
    assert collector.started == [(60, 0)]
    assert len(collector.records) == 60
    assert collector.finished == 1
    loaded = summary.load()
    assert len(loaded.endpoints) == 60
    assert loaded.endpoints["error_class"].isna().all()
    assert loaded.endpoints["relay_unauth"].eq("denied").all()
    assert loaded.run.finished_at == summary.finished_at


def test_tqdm_progress_counts_endpoints(fleet: Fleet) -> None:
    output = io.StringIO()
    progress = TqdmProgress(file=output, disable=False)
    scan(fleet.targets()[:10], ports=[_port(fleet)], config=CONFIG, observers=[progress])
    assert "10/10" in output.getvalue()


def test_failing_observer_does_not_stop_scan(fleet: Fleet) -> None:
    class Broken:
        def on_endpoint_done(self, record: object) -> None:
            raise RuntimeError("display gone")

    collector = Collector()
    summary = scan(fleet.targets()[:5], ports=[_port(fleet)], config=CONFIG, observers=[Broken(), collector])
    assert summary.endpoints_probed == 5
    assert len(collector.records) == 5


def test_probe_many_calls_observer(fleet: Fleet) -> None:
    collector = Collector()
    result = smtplab.probe_many(fleet.targets()[:4], ports=[_port(fleet)], config=CONFIG,
                                observers=[collector])
    assert len(result.endpoints) == 4
    assert sorted(record.address for record in collector.records) == sorted(fleet.targets()[:4])


def test_unreachable_and_unresolved_targets_are_counted(tmp_path: Path) -> None:
    config = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", connect_timeout=2.0)
    summary = scan(["127.0.0.1", "mail.invalid"], ports=["9/plain"], config=config,
                   output=tmp_path / "scan.jsonl")
    assert summary.hosts_unresolved == 1
    assert summary.endpoints_probed == 2
    assert summary.errors == {"refused": 1, "dns_failure": 1}


def test_parquet_output_reloads_identical_frames(fleet: Fleet, tmp_path: Path) -> None:
    result = smtplab.probe_many(fleet.targets()[:7], ports=[_port(fleet), "9/plain"], config=CONFIG)
    path = tmp_path / "run.parquet"
    stream = ParquetStream(path, result.run, batch_size=3)
    for host in result.run.hosts:
        stream.host(host)
    for record in result.run.endpoints:
        stream.endpoint(record)
    stream.finish(result.run.finished_at)

    assert len(list((path / "endpoints").glob("part-*.parquet"))) == 5
    assert (path / "journal.jsonl").read_text() == ""
    loaded = load_scan(path)
    assert loaded.run.finished_at == result.run.finished_at
    for name, frame in result.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], frame, obj=name)
    table = pd.read_parquet(path / "endpoints")
    assert len(table) == 14


def test_interrupted_parquet_stream_keeps_journal(fleet: Fleet, tmp_path: Path) -> None:
    result = smtplab.probe_many(fleet.targets()[:5], ports=[_port(fleet)], config=CONFIG)
    path = tmp_path / "run.parquet"
    stream = ParquetStream(path, dataclasses.replace(result.run, finished_at=""), batch_size=3)
    for host in result.run.hosts:
        stream.host(host)
    for record in result.run.endpoints:
        stream.endpoint(record)
    stream.close()  # no finish: as after an interrupt

    journal_lines = (path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in journal_lines] == ["endpoint", "endpoint"]
    loaded = load_records(path)
    assert len(loaded.endpoints) == 5
    assert loaded.finished_at == ""


@pytest.mark.parametrize("name", ["scan.jsonl", "scan.parquet"])
def test_resume_probes_only_missing_endpoints(fleet: Fleet, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    first = scan(fleet.targets()[:20], ports=[_port(fleet)], config=CONFIG, output=path)
    assert first.endpoints_probed == 20

    resumed = scan(fleet.targets()[:30], ports=[_port(fleet)], config=CONFIG, output=path, resume=True)

    assert resumed.endpoints_resumed == 20
    assert resumed.endpoints_probed == 10
    loaded = load_scan(path)
    assert len(loaded.endpoints) == 30
    assert loaded.endpoints["address"].is_unique
    assert loaded.run.started_at == first.started_at


def test_scan_cli_interrupt_then_resume(tmp_path: Path) -> None:
    """Ctrl-C keeps every finished endpoint; --resume probes only the rest."""
    path = tmp_path / "scan.parquet"
    with running_fleet(40, networks=4, second_octet=22, delay=0.3) as slow:
        targets = tmp_path / "targets.txt"
        targets.write_text("# slow fleet\n\n" + "\n".join(slow.targets()) + "\n")
        command = [sys.executable, "-m", "smtplab.scan_cli", "scan", "--input", str(targets),
                   "--ports", f"{slow.endpoints[0][1]}/plain", "--no-dns", "--ehlo-name",
                   "client.smtplab.test", "--concurrency", "4", "--output", str(path), "--format", "json"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_records(path, 8)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130, stderr
        assert "--resume continues" in stderr
        kept = len(load_records(path).endpoints)
        assert 8 <= kept < 40

        finished = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)

    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["endpoints_resumed"] == kept
    assert summary["endpoints_probed"] == 40 - kept
    loaded = load_scan(path)
    assert len(loaded.endpoints) == 40
    assert loaded.endpoints["error_class"].isna().all()


def _wait_for_records(path: Path, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        journal = path / "journal.jsonl"
        if journal.exists() and journal.read_text().count('"type":"endpoint"') >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} endpoints written to {path} within 30 s")


def test_scan_cli_reads_stdin(fleet: Fleet, tmp_path: Path) -> None:
    lines = "\n".join(fleet.targets()[:3]) + "\n"
    command = [sys.executable, "-m", "smtplab.scan_cli", "scan", "-i", "-", fleet.targets()[3],
               "--ports", _port(fleet), "--no-dns", "--ehlo-name", "client.smtplab.test",
               "--progress", "never", "--format", "json"]
    finished = subprocess.run(command, input=lines, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["targets"] == 4
    assert summary["endpoints_reachable"] == 4
    assert summary["output"] is None


def test_scan_cli_rejects_invalid_line(tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text("127.0.0.1\nbad host name here\n")
    command = [sys.executable, "-m", "smtplab.scan_cli", "scan", "-i", str(targets), "--no-dns"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert f"{targets}:2: invalid target line" in finished.stderr


# Should a check regress, the scan stays on loopback: port 9 of 127.0.0.1 is closed.
LOOPBACK_SCAN = ["scan", "127.0.0.1", "--ports", "9/plain"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "127.0.0.1", "smtp.healthy.test", "--ports", "9/plain", "--no-dns"],
         "argument:2: 'smtp.healthy.test' is a host name, but --no-dns needs IP addresses"),
        ([*LOOPBACK_SCAN, "--concurrency", "0"], "argument --concurrency: invalid value '0'"),
        ([*LOOPBACK_SCAN, "--per-host", "0"], "argument --per-host: invalid value '0'"),
        ([*LOOPBACK_SCAN, "--timeout", "0"], "argument --timeout: invalid value '0'"),
        ([*LOOPBACK_SCAN, "--rate", "0"], "argument --rate: invalid value '0'"),
        ([*LOOPBACK_SCAN, "--conc", "5"], "unrecognized arguments: --conc"),
    ],
)
def test_scan_cli_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from smtplab.cli import main
    from smtplab.scan_cli import main as scan_main

    for entry in (main, scan_main):
        with pytest.raises(SystemExit) as exit_info:
            entry(args)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing/x.jsonl", "for the results file does not exist"),
        (".", "is a folder: give a file name for the results file"),
        ("missing/x.parquet", "for the results does not exist"),
        ("file.parquet", "is a file: a Parquet output is a folder"),
    ],
)
def test_scan_cli_checks_output_first(
    output: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtplab.cli import main

    (tmp_path / "file.parquet").write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        main([*LOOPBACK_SCAN, "--no-dns", "-o", str(tmp_path / output)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_scan_line_with_proxy() -> None:
    endpoints = parse_endpoints("2525/plain")
    item = parse_scan_line("192.0.2.7  socks5://127.0.0.1:1080  # via the lab proxy", endpoints, CONFIG)
    assert item is not None
    target, config = item
    assert target.host == "192.0.2.7"
    assert config.proxy == "socks5://127.0.0.1:1080"
    assert parse_scan_line("  # only a comment", endpoints, CONFIG) is None
    with pytest.raises(ValueError, match="expected socks5"):
        parse_scan_line("192.0.2.7 http://127.0.0.1:8080", endpoints, CONFIG)


def test_proxy_password_masked_in_settings() -> None:
    config = smtplab.ProbeConfig(proxy="socks5://scanner:s3cret@127.0.0.1:1080")
    assert config.to_dict()["proxy"] == "socks5://scanner:********@127.0.0.1:1080"


async def _peak_per_key(limits: Limits, addresses: list[str], key_of: dict[str, str]) -> dict[str, int]:
    """Hold a slot per address for 50 ms each; return the peak of slots held at once per key."""
    active: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def hold(address: str) -> None:
        async with limits.slot(address):
            key = key_of[address]
            active[key] = active.get(key, 0) + 1
            peak[key] = max(peak.get(key, 0), active[key])
            await asyncio.sleep(0.05)
            active[key] -= 1

    await asyncio.gather(*(hold(address) for address in addresses))
    assert limits.tracked_addresses == 0
    return peak


def test_per_network_limit_ipv4_and_ipv6() -> None:
    config = smtplab.ProbeConfig(concurrency=100, per_host_concurrency=5)
    limits = Limits(config, ScanLimits(per_network_concurrency=2, ipv4_prefix=24, ipv6_prefix=64))
    key_of = {f"192.0.2.{host}": "v4-a" for host in range(1, 7)}
    key_of |= {f"198.51.100.{host}": "v4-b" for host in range(1, 4)}
    key_of |= {f"2001:db8::{host}": "v6-a" for host in range(1, 5)}
    key_of |= {f"2001:db8:0:1::{host}": "v6-b" for host in range(1, 4)}

    peak = asyncio.run(_peak_per_key(limits, list(key_of), key_of))

    assert peak == {"v4-a": 2, "v4-b": 2, "v6-a": 2, "v6-b": 2}


def test_per_host_limit_with_many_addresses() -> None:
    limits = Limits(smtplab.ProbeConfig(concurrency=100, per_host_concurrency=1))
    addresses = ["192.0.2.1"] * 4 + ["192.0.2.2"] * 4
    peak = asyncio.run(_peak_per_key(limits, addresses, {"192.0.2.1": "a", "192.0.2.2": "b"}))
    assert peak == {"a": 1, "b": 1}


def test_connect_rate_spaces_connections(fleet: Fleet) -> None:
    limits = ScanLimits(connect_rate=40.0)
    started = time.monotonic()
    summary = scan(fleet.targets()[:21], ports=[_port(fleet)], config=CONFIG, limits=limits)
    elapsed = time.monotonic() - started
    assert summary.endpoints_reachable == 21
    # 21 connections at 40/s: the last starts 0.5 s after the first.
    assert elapsed >= 0.45


def test_scan_memory_stays_flat(tmp_path: Path) -> None:
    """Python memory at peak grows far less than the number of endpoints scanned.

    JSON Lines output, because a Parquet output buffers a batch of up to 1,000
    records by design.
    """
    peaks = {}
    with running_fleet(1000, networks=125, second_octet=23) as big:
        port = f"{big.endpoints[0][1]}/plain"
        for count in (250, 1000):
            tracemalloc.start()
            scan(big.targets()[:count], ports=[port], config=CONFIG, output=tmp_path / f"scan-{count}.jsonl")
            peaks[count] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    # Keeping the records would make the peak grow about fourfold.
    assert peaks[1000] < 1.5 * peaks[250], peaks


def test_scan_cli_warns_before_replacing_output(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from smtplab.cli import main

    output = tmp_path / "old.jsonl"
    output.write_text("")
    with caplog.at_level("WARNING", logger="smtplab"):
        main([*LOOPBACK_SCAN, "--no-dns", "--progress", "never", "-o", str(output)])
    assert f"{output} exists: this scan replaces it" in caplog.text
