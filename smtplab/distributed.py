"""Scans split across Dask workers, and scan results read as Dask DataFrames.

``probe_many_dask`` splits the targets into partitions, runs ``probe_many`` on
each in a worker and merges the records, so it returns the same frames as
``probe_many``. ``scan_dask`` has each worker stream its partition to its own
Parquet folder, so nothing is kept in memory. ``read_frame_dask`` then reads a
frame of any size from those folders lazily, one Parquet part at a time.

Workers get plain strings and settings, never open sockets, and must be able
to reach the targets themselves. Limits apply per partition. IP-literal
targets of one network (``ScanLimits`` prefixes) always go to the same
partition, so per-address and per-network limits hold across the cluster.
The overall concurrency and the connection rate, however, are multiplied by
the number of partitions running at once.
"""

from __future__ import annotations

import ipaddress
import json
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smtplab.config import ProbeConfig
from smtplab.credentials import Credentials
from smtplab.limits import ScanLimits
from smtplab.record import EndpointRecord, RunRecord, canonical_order, utc_now_iso
from smtplab.result import ProbeResult
from smtplab.scan import ScanSummary
from smtplab.stream import endpoint_from_row
from smtplab.targets import parse_endpoints, parse_target

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client

FRAMES_BY_PART = ("endpoints", "capabilities", "tls", "transcript")
"""Frames that ``read_frame_dask`` builds; each row depends on one endpoint record only."""


def partition_targets(
    targets: Sequence[str], partitions: int, limits: ScanLimits | None = None
) -> list[list[str]]:
    """Split target strings into ``partitions`` lists, keeping each network's IP literals together.

    Host names cannot be placed by network before they are resolved; they are
    spread by a hash of the name. Empty partitions are dropped.
    """
    if partitions < 1:
        raise ValueError(f"invalid partitions {partitions!r}: expected 1 or more")
    limits = limits or ScanLimits()
    chunks: list[list[str]] = [[] for _ in range(partitions)]
    for text in targets:
        key = _placement_key(text.split("#", 1)[0].strip(), limits)
        if key is not None:
            chunks[zlib.crc32(key.encode()) % partitions].append(text)
    return [chunk for chunk in chunks if chunk]


def _placement_key(line: str, limits: ScanLimits) -> str | None:
    if not line:
        return None
    host = line.split()[0].strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.lower()
    return limits.network_of(host)


def _worker_count(client: Client) -> int:
    return max(1, len(client.scheduler_info()["workers"]))


def _probe_partition(targets: list[str], ports: list[str], config: ProbeConfig,
                     credentials: Credentials | None, limits: ScanLimits | None) -> RunRecord:
    from smtplab.runner import probe_many

    return probe_many(targets, ports=ports, config=config, credentials=credentials, limits=limits).run


def probe_many_dask(
    targets: Iterable[str],
    *,
    client: Client,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    limits: ScanLimits | None = None,
    partitions: int | None = None,
) -> ProbeResult:
    """Probe the targets on the cluster of ``client``; return the same frames as ``probe_many``.

    ``partitions`` defaults to the number of workers. Every record comes back
    to this process, so the result must fit in memory; use ``scan_dask`` when
    it may not.
    """
    config = config or ProbeConfig()
    endpoints = [str(endpoint) for endpoint in parse_endpoints(ports)]
    texts = list(targets)
    order = {parse_target(text).host: index for index, text in reversed(list(enumerate(texts)))}
    chunks = partition_targets(texts, partitions or _worker_count(client), limits)
    futures = client.map(_probe_partition, chunks, ports=endpoints, config=config,
                         credentials=credentials, limits=limits, pure=False)
    runs: list[RunRecord] = client.gather(futures)
    return ProbeResult(_merge(runs, order))


def _merge(runs: list[RunRecord], order: dict[str, int]) -> RunRecord:
    """Combine the partitions' runs into one, hosts in target order and endpoints in canonical order."""
    first = runs[0]
    hosts = [host for run in runs for host in run.hosts]
    hosts.sort(key=lambda host: order.get(host.host, len(order)))
    endpoints = [endpoint for run in runs for endpoint in run.endpoints]
    return RunRecord(
        started_at=min(run.started_at for run in runs), finished_at=max(run.finished_at for run in runs),
        vantage=first.vantage, config=first.config, username=first.username, hosts=hosts,
        endpoints=canonical_order(hosts, endpoints), tool_version=first.tool_version,
    )


def _scan_partition(number: int, targets: list[str], output: str, ports: list[str], config: ProbeConfig,
                    credentials: Credentials | None, limits: ScanLimits | None, resume: bool) -> ScanSummary:
    from smtplab.scan import scan

    path = Path(output) / f"partition-{number:05d}.parquet"
    return scan(targets, ports=ports, config=config, credentials=credentials, limits=limits,
                output=path, resume=resume)


def scan_dask(
    targets: Iterable[str],
    *,
    client: Client,
    output: str | Path,
    ports: Sequence[str] | str | None = None,
    config: ProbeConfig | None = None,
    credentials: Credentials | None = None,
    limits: ScanLimits | None = None,
    partitions: int | None = None,
    resume: bool = False,
) -> list[ScanSummary]:
    """Scan the targets on the cluster; each partition streams to ``output/partition-NNNNN.parquet``.

    Returns one summary per partition. ``read_frame_dask(output, name)`` reads
    the frames lazily. ``output`` must be a folder every worker can write to;
    a resumed scan must use the same number of partitions.
    """
    config = config or ProbeConfig()
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    endpoints = [str(endpoint) for endpoint in parse_endpoints(ports)]
    chunks = partition_targets(list(targets), partitions or _worker_count(client), limits)
    futures = client.map(_scan_partition, range(len(chunks)), chunks, output=str(folder.resolve()),
                         ports=endpoints, config=config, credentials=credentials, limits=limits,
                         resume=resume, pure=False)
    return list(client.gather(futures))


def _scan_folders(path: Path) -> list[Path]:
    """Find the Parquet scan folders at ``path``: ``path`` itself, or its ``*.parquet`` children."""
    if (path / "run.json").exists():
        return [path]
    folders = sorted(child for child in path.glob("*.parquet") if (child / "run.json").exists())
    if not folders:
        raise ValueError(f"{path}: no Parquet scan folder (with run.json) found")
    return folders


def _sources(folders: list[Path]) -> list[str]:
    sources = [str(part) for folder in folders
               for part in sorted((folder / "endpoints").glob("part-*.parquet"))]
    sources += [str(folder / "journal.jsonl") for folder in folders
                if (folder / "journal.jsonl").exists() and (folder / "journal.jsonl").stat().st_size > 0]
    return sources


def _records_of(source: str) -> tuple[list[EndpointRecord], dict[str, Any]]:
    """Read the endpoint records of one part file or journal, and the header of its scan."""
    path = Path(source)
    if path.suffix == ".jsonl":
        folder = path.parent
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            item = _parse_journal_line(line)
            if item is not None and item.pop("type") == "endpoint":
                records.append(EndpointRecord(**item))
    else:
        import pyarrow.parquet as pq

        folder = path.parent.parent
        records = [endpoint_from_row(row) for row in pq.read_table(path).to_pylist()]
    header = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return records, header


def _parse_journal_line(line: str) -> dict[str, Any] | None:
    try:
        return json.loads(line) if line.strip() else None
    except json.JSONDecodeError:
        return None


def frame_of_source(source: str, name: str) -> pd.DataFrame:
    """Build one frame from the endpoint records of one Parquet part file or journal."""
    records, header = _records_of(source)
    run = RunRecord(started_at=header.get("started_at") or utc_now_iso(), finished_at="",
                    vantage=header.get("vantage", ""), config=header.get("config", {}), username=None,
                    hosts=[], endpoints=records)
    return getattr(ProbeResult(run), name)


def read_frame_dask(path: str | Path, name: str = "endpoints") -> dd.DataFrame:
    """Read one frame of a Parquet scan (or a folder of them, as ``scan_dask`` writes) lazily.

    Each Parquet part file becomes one Dask partition, so the frame may be
    larger than memory. ``name`` is one of ``FRAMES_BY_PART``. An endpoint
    written twice by a resumed scan appears twice.
    """
    import dask.dataframe as dd

    if name not in FRAMES_BY_PART:
        raise ValueError(f"invalid frame {name!r}: expected one of {', '.join(FRAMES_BY_PART)}")
    sources = _sources(_scan_folders(Path(path)))
    meta = _empty_frame(name)
    if not sources:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(frame_of_source, sources, name=name, meta=meta, enforce_metadata=False)


def _empty_frame(name: str) -> pd.DataFrame:
    run = RunRecord(started_at=utc_now_iso(), finished_at="", vantage="", config={}, username=None,
                    hosts=[], endpoints=[])
    return getattr(ProbeResult(run), name)
