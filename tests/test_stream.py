"""Streaming a run to a file: identical reload, resume after an interrupt, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import smtplab

from hostile import Script, scripted
from rawserver import Handler, free_port, serve, silent

CONFIG = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=2.0,
                             connect_timeout=2.0, probe_timeout=10.0)


def _counting(counter: list[int]) -> Handler:
    inner = scripted(Script())

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counter.append(1)
        await inner(reader, writer)

    return handler


def test_streamed_file_reloads_identically(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with serve(scripted(Script())) as good:
        result = smtplab.probe_many(["127.0.0.1"], ports=[f"{good}/plain", f"{free_port()}/plain"],
                                    config=CONFIG, output=path)
    kinds = [json.loads(line)["type"] for line in path.read_text().splitlines()]
    assert kinds == ["run", "host", "endpoint", "endpoint", "end"]
    loaded = smtplab.load(path)
    for name, frame in result.frames().items():
        pd.testing.assert_frame_equal(loaded.frames()[name], frame, obj=name)
    assert loaded.run.finished_at == result.run.finished_at


def test_resume_skips_finished_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    connections: list[int] = []
    with serve(_counting(connections)) as first, serve(_counting(connections)) as second:
        ports = [f"{first}/plain", f"{second}/plain"]
        smtplab.probe_many(["127.0.0.1"], ports=ports, config=CONFIG, output=path)
        lines = path.read_text().splitlines()
        endpoint_lines = [line for line in lines if json.loads(line)["type"] == "endpoint"]
        kept = [line for line in lines if json.loads(line)["type"] in ("run", "host")]
        # An interrupted run: one endpoint written, the next cut off mid-line.
        path.write_text("\n".join([*kept, endpoint_lines[0], endpoint_lines[1][:40]]))
        connections.clear()

        resumed = smtplab.probe_many(["127.0.0.1"], ports=ports, config=CONFIG, output=path,
                                     resume=True)

    assert len(connections) == 1
    assert len(resumed.endpoints) == 2
    assert resumed.endpoints["error_class"].isna().all()
    assert len(smtplab.load(path).endpoints) == 2


def test_interrupt_keeps_finished_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with serve(scripted(Script())) as good, serve(silent) as stuck:
        command = [
            sys.executable, "-m", "smtplab.cli", "probe", "127.0.0.1", "--no-dns",
            "--ports", f"{good}/plain,{stuck}/plain", "--timeout", "30", "--save", str(path),
            "--ehlo-name", "client.smtplab.test",
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if path.exists() and '"type":"endpoint"' in path.read_text():
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)

    assert process.returncode == 130
    assert "interrupted" in stderr
    loaded = smtplab.load(path)
    assert loaded.endpoints["port"].tolist() == [good]
    assert loaded.run.finished_at == ""
