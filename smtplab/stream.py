"""Streaming a run to disk as it goes, so an interrupt loses nothing, and reading it back.

Two formats, chosen by the output path:

- JSON Lines (any other name): one ``run`` line, then one line per host and
  endpoint as each completes, then an ``end`` line.
- Parquet (a path ending in ``.parquet``): a folder with ``run.json`` (the run's
  settings), ``hosts/part-NNNNN.parquet`` and ``endpoints/part-NNNNN.parquet``
  written in batches, and ``journal.jsonl``, which contains the records of the
  batch not yet written as Parquet. Every record is in the journal as soon as
  it completes, so an interrupt loses nothing in either format.

Records are flushed to the operating system, not synced to the disk: a killed
process loses nothing, a power cut may.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from smtplab.record import (
    EndpointRecord,
    HostRecord,
    RunRecord,
    canonical_order,
    endpoint_key,
    header_line,
    load_jsonl,
    write_line,
)

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("smtplab")

EndpointKey = tuple[str, str, int, str]

PARQUET_SUFFIX = ".parquet"
PARQUET_BATCH_SIZE = 1000
"""Endpoints per Parquet part file; the journal contains at most this many records."""

_TAIL_BYTES = 1 << 16


class RecordSink(Protocol):
    """Destination of a run's records as they complete: a file or a folder."""

    def host(self, record: HostRecord) -> None: ...

    def endpoint(self, record: EndpointRecord) -> None: ...

    def finish(self, finished_at: str) -> None: ...

    def close(self) -> None: ...


@dataclass
class ResumeState:
    """Endpoints and hosts that an earlier, interrupted run of the same output finished.

    Only keys and addresses are kept, not the records, so resuming a large
    scan needs little memory.
    """

    header: dict[str, Any] | None = None
    endpoints: set[EndpointKey] = field(default_factory=set)
    host_addresses: dict[str, list[str]] = field(default_factory=dict)

    def add_item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "endpoint":
            self.endpoints.add((item["host"], item["address"] or "", item["port"], item["mode"]))
        elif kind == "host":
            self.host_addresses[item["host"]] = list(item["addresses"])
        elif kind == "run" and self.header is None:
            self.header = {key: value for key, value in item.items() if key not in ("type", "format")}


def is_parquet_path(path: str | Path) -> bool:
    return str(path).rstrip("/").endswith(PARQUET_SUFFIX)


def open_stream(path: str | Path, header: RunRecord, *, resume: bool = False) -> JsonlStream | ParquetStream:
    """Open the sink for ``path``: a Parquet folder for ``*.parquet``, JSON Lines otherwise."""
    if is_parquet_path(path):
        return ParquetStream(path, header, resume=resume)
    return JsonlStream(path, header, resume=resume)


def read_resume_state(path: str | Path) -> ResumeState:
    """Read the keys of the records in ``path``, streaming through it; empty when it does not exist."""
    state = ResumeState()
    path = Path(path)
    if is_parquet_path(path):
        _read_parquet_state(path, state)
    elif path.exists():
        for item in _iter_jsonl(path):
            state.add_item(item)
    return state


def load_records(path: str | Path) -> RunRecord:
    """Read a run written by a JSON Lines or Parquet stream (or ``ProbeResult.save``)."""
    if is_parquet_path(path):
        return _load_parquet(Path(path))
    return load_jsonl(path)


# JSON Lines


def _drop_cut_line(path: Path) -> None:
    """Remove a last line that an interrupt cut off mid-write, so appends start clean."""
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return
        start = max(0, size - _TAIL_BYTES)
        file.seek(start)
        tail = file.read()
        if tail.endswith(b"\n") and _is_json(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]):
            return
        cut = tail.rfind(b"\n", 0, len(tail) - 1 if tail.endswith(b"\n") else len(tail))
        if cut < 0 and start > 0:
            raise ValueError(f"{path}: last line longer than {_TAIL_BYTES} bytes and not valid JSON")
        file.truncate(start + cut + 1 if cut >= 0 else 0)


def _is_json(line: bytes) -> bool:
    try:
        return bool(json.loads(line))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Parse each complete line; a last line cut off mid-write is skipped."""
    with path.open(encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise ValueError(f"{path}: invalid JSON in a result file") from None
                log.warning("%s: skipping a last line cut off mid-write", path)


class JsonlStream:
    """Appends host and endpoint records to a JSON Lines file, each flushed when it completes.

    With ``resume`` an existing file is kept, a line cut off mid-write is
    removed, and new records are appended.
    """

    def __init__(self, path: str | Path, header: RunRecord, *, resume: bool = False) -> None:
        self.path = Path(path)
        self.resumed = resume and self.path.exists() and self.path.stat().st_size > 0
        if self.resumed:
            _drop_cut_line(self.path)
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        else:
            self._file = self.path.open("w", encoding="utf-8")
            self._write(header_line(header))

    def host(self, record: HostRecord) -> None:
        self._write({"type": "host", **asdict(record)})

    def endpoint(self, record: EndpointRecord) -> None:
        self._write({"type": "endpoint", **asdict(record)})

    def finish(self, finished_at: str) -> None:
        self._write({"type": "end", "finished_at": finished_at})
        self.close()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def _write(self, item: dict[str, Any]) -> None:
        write_line(self._file, item)
        self._file.flush()


class ResultStream(JsonlStream):
    """A JSON Lines stream that also returns the records an earlier run finished.

    ``done()`` loads every earlier record, which ``probe_many`` needs to return
    them; a scan uses ``read_resume_state`` instead, which keeps only keys.
    """

    def __init__(self, path: str | Path, header: RunRecord, *, resume: bool = False) -> None:
        super().__init__(path, header, resume=resume)
        self.previous: RunRecord | None = load_jsonl(self.path) if self.resumed else None
        if self.previous is not None:
            log.info("resuming %s: %d endpoints already done", self.path, len(self.previous.endpoints))

    def done(self) -> dict[EndpointKey, EndpointRecord]:
        if self.previous is None:
            return {}
        return {endpoint_key(record): record for record in self.previous.endpoints}


# Parquet


def _endpoint_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([
        ("host", pa.string()), ("address", pa.string()), ("port", pa.int32()), ("mode", pa.string()),
        ("started_at", pa.string()), ("events", pa.string()),
    ])


def _host_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([
        ("host", pa.string()), ("ascii_host", pa.string()), ("is_literal", pa.bool_()),
        ("addresses", pa.list_(pa.string())), ("dns", pa.string()), ("error", pa.string()),
        ("detail", pa.string()),
    ])


def _endpoint_row(item: dict[str, Any]) -> dict[str, Any]:
    """Convert a journal item to a Parquet row; events become JSON text because their fields differ."""
    row = {key: item[key] for key in ("host", "address", "port", "mode", "started_at")}
    row["events"] = json.dumps(item["events"], ensure_ascii=False, separators=(",", ":"))
    return row


def _host_row(item: dict[str, Any]) -> dict[str, Any]:
    row = {key: item.get(key) for key in ("host", "ascii_host", "is_literal", "addresses", "error", "detail")}
    row["dns"] = json.dumps(item.get("dns", []), ensure_ascii=False, separators=(",", ":"))
    return row


class ParquetStream:
    """Writes a run as a folder of Parquet part files, with a journal for the open batch.

    Each record is appended to ``journal.jsonl`` when it completes. Once
    ``batch_size`` endpoints are buffered, they and the buffered hosts are
    written as one part file per table (to a temporary name, then renamed)
    and the journal starts over. A resumed stream first turns the journal of
    the interrupted run into part files.
    """

    def __init__(self, path: str | Path, header: RunRecord, *, resume: bool = False,
                 batch_size: int = PARQUET_BATCH_SIZE) -> None:
        self.path = Path(path)
        self._batch_size = batch_size
        self._hosts: list[dict[str, Any]] = []
        self._endpoints: list[dict[str, Any]] = []
        self.resumed = resume and (self.path / "run.json").exists()
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} exists and is not a folder; a Parquet output is a folder")
        if self.resumed:
            self._header = json.loads((self.path / "run.json").read_text(encoding="utf-8"))
            self._recover_journal()
        else:
            _clear_parquet_folder(self.path)
            self._header = header_line(header)
            self._write_header()
        self._journal: IO[str] = (self.path / "journal.jsonl").open("a", encoding="utf-8")

    def host(self, record: HostRecord) -> None:
        self._append({"type": "host", **asdict(record)})

    def endpoint(self, record: EndpointRecord) -> None:
        self._append({"type": "endpoint", **asdict(record)})
        if len(self._endpoints) >= self._batch_size:
            self.flush()

    def finish(self, finished_at: str) -> None:
        self.flush()
        self._header["finished_at"] = finished_at
        self._write_header()
        self.close()

    def close(self) -> None:
        """Close the journal; records not yet in a part file stay in it for the next load."""
        if not self._journal.closed:
            self._journal.close()

    def flush(self) -> None:
        """Write the buffered records as part files and empty the journal."""
        if not self._hosts and not self._endpoints:
            return
        self._write_parts()
        self._journal.seek(0)
        self._journal.truncate()
        self._journal.flush()

    def _append(self, item: dict[str, Any]) -> None:
        write_line(self._journal, item)
        self._journal.flush()
        self._buffer(item)

    def _buffer(self, item: dict[str, Any]) -> None:
        if item["type"] == "endpoint":
            self._endpoints.append(_endpoint_row(item))
        elif item["type"] == "host":
            self._hosts.append(_host_row(item))

    def _write_parts(self) -> None:
        import pyarrow as pa

        number = _next_part_number(self.path)
        for name, rows, schema in (("hosts", self._hosts, _host_schema()),
                                   ("endpoints", self._endpoints, _endpoint_schema())):
            if rows:
                _write_part(self.path / name, number, pa.Table.from_pylist(rows, schema=schema))
        log.debug("%s: wrote part %d (%d hosts, %d endpoints)", self.path, number, len(self._hosts),
                  len(self._endpoints))
        self._hosts.clear()
        self._endpoints.clear()

    def _recover_journal(self) -> None:
        journal = self.path / "journal.jsonl"
        if not journal.exists():
            return
        for item in _iter_jsonl(journal):
            self._buffer(item)
        if self._hosts or self._endpoints:
            self._write_parts()
        journal.write_text("", encoding="utf-8")

    def _write_header(self) -> None:
        target = self.path / "run.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self._header, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)


def _clear_parquet_folder(path: Path) -> None:
    """Create the folder, removing only the files an earlier Parquet stream wrote there."""
    for name in ("hosts", "endpoints"):
        folder = path / name
        if folder.is_dir():
            for part in folder.glob("part-*.parquet*"):
                part.unlink()
    for name in ("run.json", "journal.jsonl"):
        (path / name).unlink(missing_ok=True)
    (path / "hosts").mkdir(parents=True, exist_ok=True)
    (path / "endpoints").mkdir(parents=True, exist_ok=True)


def _next_part_number(path: Path) -> int:
    numbers = [int(part.name[5:10]) for name in ("hosts", "endpoints")
               for part in (path / name).glob("part-*.parquet")]
    return max(numbers, default=-1) + 1


def _write_part(folder: Path, number: int, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"part-{number:05d}.parquet"
    temporary = folder / f"part-{number:05d}.parquet.tmp"
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, target)


def _part_files(path: Path, name: str) -> list[Path]:
    return sorted((path / name).glob("part-*.parquet"))


def _read_rows(path: Path, name: str, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    for part in _part_files(path, name):
        for batch in pq.ParquetFile(part).iter_batches(columns=columns):
            yield from batch.to_pylist()


def _read_parquet_state(path: Path, state: ResumeState) -> None:
    header = path / "run.json"
    if not header.exists():
        return
    state.add_item({"type": "run", **json.loads(header.read_text(encoding="utf-8"))})
    for row in _read_rows(path, "hosts", ["host", "addresses"]):
        state.add_item({"type": "host", **row})
    for row in _read_rows(path, "endpoints", ["host", "address", "port", "mode"]):
        state.add_item({"type": "endpoint", **row})
    journal = path / "journal.jsonl"
    if journal.exists():
        for item in _iter_jsonl(journal):
            state.add_item(item)


def endpoint_from_row(row: dict[str, Any]) -> EndpointRecord:
    """Rebuild an endpoint record from a row of an ``endpoints`` Parquet table."""
    return EndpointRecord(host=row["host"], address=row["address"], port=int(row["port"]),
                          mode=row["mode"], started_at=row["started_at"],
                          events=json.loads(row["events"]))


def host_from_row(row: dict[str, Any]) -> HostRecord:
    """Rebuild a host record from a row of a ``hosts`` Parquet table."""
    return HostRecord(host=row["host"], ascii_host=row["ascii_host"], is_literal=bool(row["is_literal"]),
                      addresses=list(row["addresses"] or []), dns=json.loads(row["dns"]),
                      error=row["error"], detail=row["detail"])


def _load_parquet(path: Path) -> RunRecord:
    header_path = path / "run.json"
    if not header_path.exists():
        raise ValueError(f"{path}: no run.json found; is this an smtplab Parquet result folder?")
    header = json.loads(header_path.read_text(encoding="utf-8"))
    header.pop("type", None)
    header.pop("format", None)
    hosts = {row["host"]: host_from_row(row) for row in _read_rows(path, "hosts")}
    endpoints: dict[EndpointKey, EndpointRecord] = {}
    for row in _read_rows(path, "endpoints"):
        record = endpoint_from_row(row)
        endpoints[endpoint_key(record)] = record
    journal = path / "journal.jsonl"
    if journal.exists():
        for item in _iter_jsonl(journal):
            kind = item.pop("type", None)
            if kind == "host":
                hosts[item["host"]] = HostRecord(**item)
            elif kind == "endpoint":
                record = EndpointRecord(**item)
                endpoints[endpoint_key(record)] = record
    host_list = list(hosts.values())
    ordered = canonical_order(host_list, list(endpoints.values()))
    return RunRecord(**header, hosts=host_list, endpoints=ordered)


def remove_output(path: str | Path) -> None:
    """Delete a JSON Lines file or a Parquet result folder written by a stream."""
    path = Path(path)
    if is_parquet_path(path) and path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
