"""What a probe run records, and its JSON Lines form.

A saved file contains one ``run`` line, then one line per host and per endpoint.
Loading it gives back the same records, so every frame derived from them is
identical without the network.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class EndpointRecord:
    """One address and port: the events of its conversation."""

    host: str
    address: str | None
    port: int
    mode: str
    started_at: str
    events: list[dict[str, Any]]


@dataclass
class HostRecord:
    """One target host: its DNS answers and, when resolution failed, why."""

    host: str
    ascii_host: str
    is_literal: bool
    addresses: list[str]
    dns: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    detail: str | None = None


@dataclass
class RunRecord:
    """A whole probe run: settings, where it ran from, hosts and endpoints."""

    started_at: str
    finished_at: str
    vantage: str
    config: dict[str, Any]
    username: str | None
    hosts: list[HostRecord]
    endpoints: list[EndpointRecord]
    tool_version: str = ""


def endpoint_key(record: EndpointRecord) -> tuple[str, str, int, str]:
    """What identifies an endpoint within a run: host, address, port and mode."""
    return (record.host, record.address or "", record.port, record.mode)


def canonical_order(hosts: list[HostRecord], endpoints: list[EndpointRecord]) -> list[EndpointRecord]:
    """Endpoints in host order, then address, port and mode, however they completed."""
    rank = {host.host: index for index, host in enumerate(hosts)}
    return sorted(endpoints, key=lambda item: (rank.get(item.host, len(rank)), *endpoint_key(item)[1:]))


def header_line(run: RunRecord) -> dict[str, Any]:
    header = {key: value for key, value in asdict(run).items() if key not in ("hosts", "endpoints")}
    return {"type": "run", "format": FORMAT_VERSION, **header}


def dump_jsonl(run: RunRecord, path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", encoding="utf-8") as stream:
        write_line(stream, header_line(run))
        for host in run.hosts:
            write_line(stream, {"type": "host", **asdict(host)})
        for endpoint in run.endpoints:
            write_line(stream, {"type": "endpoint", **asdict(endpoint)})
    return path


def write_line(stream: Any, item: dict[str, Any]) -> None:
    stream.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")


def load_jsonl(path: str | Path) -> RunRecord:
    """Read a saved or streamed run.

    A streamed run may have been interrupted: a last line cut off mid-write is
    skipped, and a host or endpoint written twice (a resumed run) keeps its last
    version.
    """
    header: dict[str, Any] | None = None
    hosts: dict[str, HostRecord] = {}
    endpoints: dict[tuple[str, str, int, str], EndpointRecord] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ValueError(f"{path}:{number}: invalid JSON in a result file") from None
        kind = item.pop("type", None)
        if kind == "run":
            item.pop("format", None)
            header = header or item
        elif kind == "end":
            if header is not None:
                header["finished_at"] = item["finished_at"]
        elif kind == "host":
            hosts[item["host"]] = HostRecord(**item)
        elif kind == "endpoint":
            record = EndpointRecord(**item)
            endpoints[endpoint_key(record)] = record
        else:
            raise ValueError(f"{path}:{number}: unknown record type {kind!r}")
    if header is None:
        raise ValueError(f"{path}: no run record found; is this an smtplab result file?")
    host_list = list(hosts.values())
    ordered = canonical_order(host_list, list(endpoints.values()))
    return RunRecord(**header, hosts=host_list, endpoints=ordered)
