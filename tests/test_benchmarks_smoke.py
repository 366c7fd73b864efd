"""The benchmarks in a short form: each runs end to end on a small fleet and reports sane numbers.

Speed is never asserted: the machine may be busy. The full runs are the
commands in BENCHMARKS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import bench  # noqa: E402


def test_throughput_smoke() -> None:
    result = bench.throughput(count=40, rounds=1, concurrency=20)
    assert result["floor_per_s"] > 0
    assert result["smtplab_per_s"] > 0
    assert result["packets_out"] >= 0


def test_throughput_starttls_smoke() -> None:
    result = bench.throughput(count=20, rounds=1, tls=True, concurrency=10, shared_tls_context=True)
    assert result["smtplab_per_s"] > 0


def test_latency_smoke() -> None:
    result = bench.latency(count=50, delay=0.5)
    assert result["reachable"] == 50
    assert result["errors"] == {}
    # 50 greetings of 0.5 s each, probed one after another, would take 25 s.
    assert result["elapsed_s"] < 10


def test_frames_memory_smoke() -> None:
    result = bench.frames_memory(count=100, sample=10)
    assert result["rows"]["endpoints"] == 100
    assert result["rows"]["tls"] == 100
    assert result["frames_total_mib"] > 0


def test_probe_path_imports_no_frames_library() -> None:
    result = bench.import_check()
    assert result["probe_imports_heavy"] == []
    assert result["probe_imports_dnspython"] is False


def test_scale_interrupt_and_resume_smoke() -> None:
    result = bench.scale(count=200, output_format="jsonl", interrupt_after=0.3, concurrency=20, delay=0.2)
    assert result["interrupted"]["exit"] == 130
    assert result["resumed"]["exit"] == 0
    assert result["endpoints_in_output"] == 200
    resumed = result["resumed"]
    assert resumed["endpoints_resumed"] + resumed["endpoints_probed"] == 200
    assert resumed["endpoints_resumed"] >= 60


def test_dask_smoke() -> None:
    pytest.importorskip("distributed")
    result = bench.dask_speedup(count=60, workers=(1, 2), rounds=1)
    assert set(result["speedup"]) == {1, 2}
