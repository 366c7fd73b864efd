"""Streaming a run to a JSON Lines file as it goes, so an interrupt loses nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from smtplab.record import (
    EndpointRecord,
    HostRecord,
    RunRecord,
    endpoint_key,
    header_line,
    load_jsonl,
    write_line,
)

log = logging.getLogger("smtplab")


def _drop_cut_line(path: Path) -> None:
    """Remove a last line that an interrupt cut off mid-write, so appends start clean."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines:
        return
    last = lines[-1]
    try:
        complete = last.endswith("\n") and bool(json.loads(last))
    except json.JSONDecodeError:
        complete = False
    if not complete:
        path.write_text("".join(lines[:-1]), encoding="utf-8")


class ResultStream:
    """Appends host and endpoint records to a file, each flushed when it completes.

    With ``resume`` an existing file is kept: its endpoints count as done and are
    not probed again.
    """

    def __init__(self, path: str | Path, header: RunRecord, *, resume: bool = False) -> None:
        self.path = Path(path)
        self.previous: RunRecord | None = None
        if resume and self.path.exists() and self.path.stat().st_size > 0:
            _drop_cut_line(self.path)
            self.previous = load_jsonl(self.path)
            log.info("resuming %s: %d endpoints already done", self.path, len(self.previous.endpoints))
            self._file: IO[str] = self.path.open("a", encoding="utf-8")
        else:
            self._file = self.path.open("w", encoding="utf-8")
            self._write(header_line(header))

    def done(self) -> dict[tuple[str, str, int, str], EndpointRecord]:
        if self.previous is None:
            return {}
        return {endpoint_key(record): record for record in self.previous.endpoints}

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
