"""What a probe run records, and its JSON Lines form.

A saved file holds one ``run`` line, then one line per host and per endpoint.
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


def dump_jsonl(run: RunRecord, path: str | Path) -> Path:
    path = Path(path)
    with path.open("w", encoding="utf-8") as stream:
        header = {key: value for key, value in asdict(run).items() if key not in ("hosts", "endpoints")}
        _write(stream, {"type": "run", "format": FORMAT_VERSION, **header})
        for host in run.hosts:
            _write(stream, {"type": "host", **asdict(host)})
        for endpoint in run.endpoints:
            _write(stream, {"type": "endpoint", **asdict(endpoint)})
    return path


def _write(stream: Any, item: dict[str, Any]) -> None:
    stream.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")


def load_jsonl(path: str | Path) -> RunRecord:
    header: dict[str, Any] | None = None
    hosts: list[HostRecord] = []
    endpoints: list[EndpointRecord] = []
    with Path(path).open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            kind = item.pop("type", None)
            if kind == "run":
                item.pop("format", None)
                header = item
            elif kind == "host":
                hosts.append(HostRecord(**item))
            elif kind == "endpoint":
                endpoints.append(EndpointRecord(**item))
            else:
                raise ValueError(f"{path}:{number}: unknown record type {kind!r}")
    if header is None:
        raise ValueError(f"{path}: no run record found; is this an smtplab result file?")
    return RunRecord(**header, hosts=hosts, endpoints=endpoints)
