"""smtplab's benchmarks. Every server is on 127.0.0.0/8 and every client aims only there.

Each function returns a dict of measurements; ``python -m benchmarks NAME``
runs one and prints it as JSON. Rates compared with each other are measured
in the same run, alternating, and the median of the rounds is reported.
``packets_out`` counts packets sent on interfaces other than loopback while
the benchmark ran: the proof that nothing left the machine (other programs on
the machine can add to it, never subtract).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.fleet import Fleet, running_fleet
from benchmarks.floor import floor_run

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
EHLO_NAME = "client.smtplab.test"


def packets_out() -> int:
    """Packets sent so far on every interface but loopback (from /proc/net/dev)."""
    total = 0
    for line in Path("/proc/net/dev").read_text().splitlines()[2:]:
        name, _, counters = line.partition(":")
        if name.strip() != "lo":
            total += int(counters.split()[9])
    return total


@contextlib.contextmanager
def watch_packets(result: dict[str, Any]) -> Iterator[None]:
    before = packets_out()
    try:
        yield
    finally:
        result["packets_out"] = packets_out() - before


def _config(fleet: Fleet | None = None, **options: Any) -> Any:
    import smtplab

    if fleet is not None:
        options.setdefault("cafile", fleet.cafile)
    return smtplab.ProbeConfig(resolve=False, ehlo_name=EHLO_NAME, **options)


def _cpu_and_wall(run: Callable[[], Any]) -> tuple[Any, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    value = run()
    return value, time.perf_counter() - wall, time.process_time() - cpu


@contextlib.contextmanager
def _shared_tls_contexts() -> Iterator[None]:
    """Make smtplab build one TLS client context per setting instead of one per handshake.

    An experiment for a proposed change to ``smtplab.net.tlscontext``: loading
    the CA file for every handshake costs about 1 ms with a one-certificate
    file and about 50 ms with the system CA bundle.
    """
    import functools

    import smtplab.session

    original = smtplab.session.make_context
    smtplab.session.make_context = functools.lru_cache(maxsize=8)(original)  # type: ignore[assignment]
    try:
        yield
    finally:
        smtplab.session.make_context = original  # type: ignore[assignment]


def throughput(count: int = 2000, rounds: int = 5, tls: bool = False, concurrency: int = 100,
               shared_tls_context: bool = False) -> dict[str, Any]:
    """Full probes by ``smtplab.scan`` against a floor client, on the same fleet, alternating.

    A first round of each, not counted, warms up imports and caches.
    """
    from smtplab.scan import scan

    result: dict[str, Any] = {"benchmark": "throughput", "servers": count, "rounds": rounds,
                              "mode": "starttls" if tls else "plain", "concurrency": concurrency,
                              "shared_tls_context": shared_tls_context}
    floor_rates, scan_rates, floor_cpu, scan_cpu, ratios = [], [], [], [], []
    with contextlib.ExitStack() as stack:
        stack.enter_context(watch_packets(result))
        fleet = stack.enter_context(running_fleet(count, tls=tls))
        if shared_tls_context:
            stack.enter_context(_shared_tls_contexts())
        port = f"{fleet.endpoints[0][1]}/{'starttls' if tls else 'plain'}"
        config = _config(fleet, concurrency=concurrency)
        cafile = fleet.cafile if tls else None
        asyncio.run(floor_run(fleet.endpoints[:100], concurrency=concurrency, cafile=cafile))
        scan(fleet.targets()[:100], ports=[port], config=config)
        for _ in range(rounds):
            (done, _), wall, cpu = _cpu_and_wall(
                lambda: asyncio.run(floor_run(fleet.endpoints, concurrency=concurrency, cafile=cafile)))
            floor_rates.append(done / wall)
            floor_cpu.append(cpu / count * 1e3)
            summary, wall, cpu = _cpu_and_wall(lambda: scan(fleet.targets(), ports=[port], config=config))
            if summary.errors:
                raise RuntimeError(f"scan had errors: {summary.errors}")
            scan_rates.append(summary.endpoints_probed / wall)
            scan_cpu.append(cpu / count * 1e3)
            ratios.append(scan_rates[-1] / floor_rates[-1])
    result |= {
        "floor_per_s": round(statistics.median(floor_rates)),
        "smtplab_per_s": round(statistics.median(scan_rates)),
        "ratio_median": round(statistics.median(ratios), 2), "ratios": [round(value, 2) for value in ratios],
        "floor_cpu_ms": round(statistics.median(floor_cpu), 3),
        "smtplab_cpu_ms": round(statistics.median(scan_cpu), 3),
        "cpu_ratio": round(statistics.median(floor_cpu) / statistics.median(scan_cpu), 2),
    }
    return result


def latency(count: int = 1000, delay: float = 1.0) -> dict[str, Any]:
    """Probe at once a fleet whose every server waits ``delay`` seconds before its greeting."""
    from smtplab.scan import scan

    result: dict[str, Any] = {"benchmark": "latency", "servers": count, "greeting_delay_s": delay}
    with watch_packets(result), running_fleet(count, delay=delay) as fleet:
        config = _config(concurrency=count, per_host_concurrency=1)
        summary, wall, _ = _cpu_and_wall(
            lambda: scan(fleet.targets(), ports=[f"{fleet.endpoints[0][1]}/plain"], config=config,
                         window=count))
    result |= {"elapsed_s": round(wall, 2), "reachable": summary.endpoints_reachable,
               "errors": summary.errors}
    return result


def frames_memory(count: int = 10_000, sample: int = 200) -> dict[str, Any]:
    """Memory of the frames of ``count`` STARTTLS endpoints, made by copying ``sample`` real records."""
    import dataclasses
    import tracemalloc

    import smtplab
    from smtplab.record import HostRecord, RunRecord
    from smtplab.result import ProbeResult

    result: dict[str, Any] = {"benchmark": "frames_memory", "endpoints": count}
    with watch_packets(result), running_fleet(sample, tls=True) as fleet:
        probed = smtplab.probe_many(fleet.targets(), ports=[f"{fleet.endpoints[0][1]}/starttls"],
                                    config=_config(fleet))
    addresses = [f"10.{index // 65536}.{index // 256 % 256}.{index % 256}" for index in range(count)]
    records = [dataclasses.replace(probed.run.endpoints[index % sample], host=address, address=address)
               for index, address in enumerate(addresses)]
    hosts = [HostRecord(address, address, True, [address]) for address in addresses]
    run = RunRecord(**{**probed.run.__dict__, "hosts": hosts, "endpoints": records})
    tracemalloc.start()
    started = time.perf_counter()
    frames = ProbeResult(run).frames()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sizes = {name: frame.memory_usage(deep=True).sum() for name, frame in frames.items()}
    result |= {
        "frames_mib": {name: round(size / 2**20, 1) for name, size in sizes.items()},
        "frames_total_mib": round(sum(sizes.values()) / 2**20, 1),
        "rows": {name: len(frame) for name, frame in frames.items()},
        "build_s": round(elapsed, 1), "build_peak_mib": round(peak / 2**20, 1),
    }
    return result


def dask_speedup(count: int = 2000, workers: tuple[int, ...] = (1, 2, 4), rounds: int = 3) -> dict[str, Any]:
    """``probe_many_dask`` on LocalClusters of 1, 2 and 4 worker processes, against one fleet."""
    from distributed import Client, LocalCluster

    from smtplab.distributed import probe_many_dask

    result: dict[str, Any] = {"benchmark": "dask", "servers": count, "rounds": rounds, "seconds": {}}
    with watch_packets(result), running_fleet(count) as fleet:
        port = f"{fleet.endpoints[0][1]}/plain"
        config = _config(concurrency=100)
        for number in workers:
            cluster = LocalCluster(n_workers=number, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None)
            with cluster, Client(cluster) as client:
                probe_many_dask(fleet.targets()[:50], client=client, ports=[port], config=config)
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    probe_many_dask(fleet.targets(), client=client, ports=[port], config=config,
                                    partitions=4 * number)
                    times.append(time.perf_counter() - started)
            result["seconds"][number] = round(statistics.median(times), 2)
    base = result["seconds"][workers[0]]
    result["speedup"] = {number: round(base / seconds, 2) for number, seconds in result["seconds"].items()}
    return result


def _median_run(command: list[str], rounds: int, expected: tuple[int, ...] = (0, 1)) -> float:
    times = [_timed_run(command, expected) for _ in range(rounds)]
    return statistics.median(times)


def _timed_run(command: list[str], expected: tuple[int, ...] = (0, 1),
               env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    elapsed = time.perf_counter() - started
    if finished.returncode not in expected:
        raise RuntimeError(f"{command[0]} exited {finished.returncode}: {finished.stderr[-500:]}")
    return elapsed


def startup(rounds: int = 10) -> dict[str, Any]:
    """Time a probe of one STARTTLS endpoint by ``smtplab probe`` and by ``swaks --quit-after EHLO -tls``.

    Each round runs four commands one after another. The first is smtplab compiling
    its own modules from source (``PYTHONDONTWRITEBYTECODE=1``, as this environment
    sets it), while installed packages keep their bytecode. The second is smtplab
    with every module's bytecode cached in a temporary ``PYTHONPYCACHEPREFIX`` folder
    that an untimed run fills. Then come swaks and ``python -c pass``. Alternating
    spreads the load of other programs over all four. Medians are reported, with
    smtplab's ratio to swaks. Also lists the heavy modules that the probe path imports.

    NOTE: a ``__pycache__`` folder beside smtplab's sources (left by ``compileall``)
    turns the first command into a cached one too.
    """
    result: dict[str, Any] = {"benchmark": "startup", "rounds": rounds}
    times: dict[str, list[float]] = {"smtplab_probe_s": [], "smtplab_probe_cached_s": [], "swaks_s": [],
                                     "python_start_s": []}
    with contextlib.ExitStack() as stack:
        stack.enter_context(watch_packets(result))
        fleet = stack.enter_context(running_fleet(1, tls=True))
        cache = stack.enter_context(tempfile.TemporaryDirectory(prefix="smtplab-pycache-"))
        address, port = fleet.endpoints[0]
        smtplab_command = [str(Path(PYTHON).with_name("smtplab")), "probe", address, "--no-dns",
                           "--ports", f"{port}/starttls", "--cafile", str(fleet.cafile),
                           "--ehlo-name", EHLO_NAME, "--no-relay-test"]
        swaks = ["swaks", "--server", address, "--port", str(port), "--quit-after", "EHLO", "-tls",
                 "--ehlo", EHLO_NAME] if shutil.which("swaks") else None
        source_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        cached_env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        cached_env["PYTHONPYCACHEPREFIX"] = cache
        _timed_run(smtplab_command, env=cached_env)
        for _ in range(rounds):
            times["smtplab_probe_s"].append(_timed_run(smtplab_command, env=source_env))
            times["smtplab_probe_cached_s"].append(_timed_run(smtplab_command, env=cached_env))
            if swaks is not None:
                times["swaks_s"].append(_timed_run(swaks, expected=(0,)))
            times["python_start_s"].append(_timed_run([PYTHON, "-c", "pass"], expected=(0,)))
    result |= {name: round(statistics.median(values), 3) for name, values in times.items() if values}
    if "swaks_s" in result:
        result["ratio_to_swaks"] = round(result["smtplab_probe_s"] / result["swaks_s"], 2)
        result["cached_ratio_to_swaks"] = round(result["smtplab_probe_cached_s"] / result["swaks_s"], 2)
    result |= import_check()
    return result


def import_check() -> dict[str, Any]:
    """List the heavy modules that the probe path imports, from ``python -X importtime``.

    The path is the command line's: a probe without DNS, then its terminal summary.
    """
    code = ("import smtplab; r = smtplab.probe('127.0.0.1', ports=['9/plain'], "
            "config=smtplab.ProbeConfig(resolve=False, ehlo_name='client.smtplab.test', connect_timeout=1)); "
            "r.summary()")
    finished = subprocess.run([PYTHON, "-X", "importtime", "-c", code], capture_output=True, text=True,
                              timeout=60)
    modules = {line.split("|")[-1].strip() for line in finished.stderr.splitlines() if "|" in line}
    heavy = sorted(name for name in ("pandas", "numpy", "matplotlib", "pyarrow", "dask", "tqdm",
                                     "python_socks", "jinja2", "babel") if name in modules)
    cumulative = 0
    for line in finished.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == "smtplab":
            cumulative = int(parts[1])
    return {"probe_imports_heavy": heavy, "probe_imports_dnspython": "dns" in modules,
            "import_smtplab_ms": round(cumulative / 1000, 1)}


def peers(count: int = 100, swaks_count: int = 30) -> dict[str, Any]:
    """smtplab scan, a swaks loop and nmap smtp-commands on the same STARTTLS fleet."""
    from smtplab.scan import scan

    result: dict[str, Any] = {"benchmark": "peers", "servers": count}
    with watch_packets(result), running_fleet(count, tls=True) as fleet:
        port = fleet.endpoints[0][1]
        _, wall, _ = _cpu_and_wall(lambda: scan(fleet.targets(), ports=[f"{port}/starttls"],
                                                config=_config(fleet)))
        result["smtplab_per_s"] = round(count / wall, 1)
        if shutil.which("swaks"):
            started = time.perf_counter()
            for address in fleet.targets()[:swaks_count]:
                subprocess.run(["swaks", "--server", address, "--port", str(port), "-tls",
                                "--ehlo", EHLO_NAME,
                                "--from", "smtplab@example.com", "--to", "smtplab@example.net",
                                "--quit-after", "RCPT"], capture_output=True, timeout=60)
            result["swaks_loop_per_s"] = round(swaks_count / (time.perf_counter() - started), 1)
        if shutil.which("nmap"):
            result["nmap_per_s"] = round(count / _nmap(fleet.targets(), [port], "smtp-commands"), 1)
    return result


def _nmap(addresses: list[str], ports: list[int], scripts: str) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as targets:
        targets.write("\n".join(addresses) + "\n")
        targets.flush()
        command = ["nmap", "-n", "-Pn", "-p", ",".join(map(str, ports)), "--script", scripts,
                   "-iL", targets.name]
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, timeout=600)
        return time.perf_counter() - started


def real_servers(rounds: int = 5, exim_cache: str | None = None) -> dict[str, Any]:
    """Postfix, Exim and a broken-TLS server: ``smtplab probe`` against nmap with ssl-cert.

    The Exim package is unpacked into ``exim_cache`` (default: a folder in the temporary folder).
    """
    from benchmarks.servers import postfix_module, running_exim

    result: dict[str, Any] = {"benchmark": "real_servers", "rounds": rounds}
    postfix_server: Any = postfix_module()
    with contextlib.ExitStack() as stack:
        stack.enter_context(watch_packets(result))
        postfix = stack.enter_context(postfix_server.running_postfix())
        cache = Path(exim_cache or Path(tempfile.gettempdir()) / "smtplab-exim")
        exim = stack.enter_context(running_exim(cache, _free_port()))
        broken = stack.enter_context(running_fleet(1, broken_tls=True, second_octet=40))
        servers = {
            "postfix": ("127.0.0.1", [f"{postfix.ports['smtp']}/starttls",
                                      f"{postfix.ports['submission']}/starttls",
                                      f"{postfix.ports['smtps']}/tls"], str(postfix.cafile)),
            "exim": (exim.host, [f"{exim.port}/starttls"], str(exim.cafile)),
            "broken_tls": (broken.endpoints[0][0], [f"{broken.endpoints[0][1]}/starttls"], None),
        }
        result["seconds"] = {name: _compare_real(*server, rounds) for name, server in servers.items()}
    return result


def postfix_quickack(rounds: int = 20) -> dict[str, Any]:
    """Time probes of Postfix's three listeners with and without TCP_QUICKACK, alternating."""
    import smtplab
    import smtplab.net.connection as connection
    from benchmarks.servers import postfix_module

    result: dict[str, Any] = {"benchmark": "postfix_quickack", "rounds": rounds}
    postfix_server: Any = postfix_module()
    original = connection.acknowledge_promptly
    timings: dict[str, list[float]] = {"quickack": [], "delayed_ack": []}
    with watch_packets(result), postfix_server.running_postfix() as postfix:
        ports = [f"{postfix.ports['smtp']}/starttls", f"{postfix.ports['submission']}/starttls",
                 f"{postfix.ports['smtps']}/tls"]
        config = _config(cafile=str(postfix.cafile), concurrency=1)
        try:
            for _ in range(rounds):
                for name, function in (("quickack", original), ("delayed_ack", lambda writer: None)):
                    connection.acknowledge_promptly = function  # type: ignore[assignment]
                    started = time.perf_counter()
                    smtplab.probe("127.0.0.1", ports=ports, config=config)
                    timings[name].append(time.perf_counter() - started)
        finally:
            connection.acknowledge_promptly = original  # type: ignore[assignment]
    result["median_ms"] = {name: round(statistics.median(values) * 1000, 1)
                           for name, values in timings.items()}
    return result


def _compare_real(address: str, endpoints: list[str], cafile: str | None, rounds: int) -> dict[str, float]:
    command = [str(Path(PYTHON).with_name("smtplab")), "probe", address, "--no-dns", "--ports",
               ",".join(endpoints), "--ehlo-name", EHLO_NAME]
    if cafile:
        command += ["--cafile", cafile]
    times = {"smtplab": round(_median_run(command, rounds), 3)}
    if shutil.which("nmap"):
        ports = [int(endpoint.split("/")[0]) for endpoint in endpoints]
        times["nmap"] = round(statistics.median(
            _nmap([address], ports, "smtp-commands,ssl-cert") for _ in range(rounds)), 3)
    return times


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scale(count: int = 10_000, output_format: str = "parquet", interrupt_after: float = 0.5,
          concurrency: int = 100, delay: float = 0.0) -> dict[str, Any]:
    """Scan ``count`` targets with the CLI, sampling its memory: Ctrl-C part way, then ``--resume``."""
    result: dict[str, Any] = {"benchmark": "scale", "targets": count, "output": output_format}
    folder = Path(tempfile.mkdtemp(prefix="smtplab-scale-"))
    try:
        networks = min(256, count // 40 or 1)
        with watch_packets(result), running_fleet(count, networks=networks, delay=delay) as fleet:
            targets = folder / "targets.txt"
            targets.write_text("\n".join(fleet.targets()) + "\n")
            output = folder / f"scan.{output_format}"
            command = [PYTHON, "-m", "smtplab.scan_cli", "scan", "-i", str(targets), "--no-dns",
                       "--ports", f"{fleet.endpoints[0][1]}/plain", "--ehlo-name", EHLO_NAME,
                       "--output", str(output), "--format", "json", "--progress", "never",
                       "--concurrency", str(concurrency)]
            first = _run_sampled(command, stop_after_records=(output, int(count * interrupt_after)))
            resumed = _run_sampled([*command, "--resume"])
        from smtplab.stream import read_resume_state

        state = read_resume_state(output)
        result |= {
            "interrupted": {"exit": first["exit"], "rss_mib": first["rss_mib"]},
            "resumed": {"exit": resumed["exit"], "rss_mib": resumed["rss_mib"], **resumed["summary"]},
            "endpoints_in_output": len(state.endpoints),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _records_in(path: Path) -> int:
    if path.is_dir():
        from smtplab.stream import read_resume_state

        return len(read_resume_state(path).endpoints)
    return path.read_text().count('"type":"endpoint"') if path.exists() else 0


def _run_sampled(command: list[str], stop_after_records: tuple[Path, int] | None = None) -> dict[str, Any]:
    """Run a scan, sampling its resident memory every 0.2 s; optionally SIGINT it part way."""
    import json

    import psutil

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        watched = psutil.Process(process.pid)
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                samples.append(watched.memory_info().rss / 2**20)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if stop_after_records is not None:
        path, records = stop_after_records
        while process.poll() is None and _records_in(path) < records:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=1800)
    stop.set()
    sampler.join()
    # Resident memory at each fifth of the run's duration, then the maximum.
    rss = {f"at_{share}%": round(samples[min(len(samples) - 1, len(samples) * share // 100)], 1)
           for share in (20, 40, 60, 80, 100)} if samples else {}
    rss["max"] = round(max(samples), 1) if samples else None
    summary = json.loads(stdout) if process.returncode == 0 and stdout.strip() else {}
    return {"exit": process.returncode, "rss_mib": rss, "summary": summary}


BENCHMARKS: dict[str, Callable[..., dict[str, Any]]] = {
    "throughput": throughput, "latency": latency, "frames_memory": frames_memory, "dask": dask_speedup,
    "startup": startup, "peers": peers, "real_servers": real_servers, "scale": scale,
    "postfix_quickack": postfix_quickack,
}
