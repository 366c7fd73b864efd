"""Scans split across a local Dask cluster of worker processes return the same frames."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import smtplab
from smtplab.limits import ScanLimits

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")

from smtplab.distributed import (  # noqa: E402
    partition_targets,
    probe_many_dask,
    read_frame_dask,
    scan_dask,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.fleet import Fleet, running_fleet  # noqa: E402

CONFIG = smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", reply_timeout=5.0,
                             connect_timeout=5.0, probe_timeout=20.0, concurrency=50)
# Columns that do not depend on timing.
STABLE = ["host", "address", "port", "mode", "reachable", "banner", "ehlo_host", "starttls",
          "relay_unauth", "error_class"]


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with running_fleet(80, networks=10, second_octet=24) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as running:
        yield running


def _targets(fleet: Fleet) -> list[str]:
    return [*fleet.targets(), "127.0.0.1"]


def test_partitions_keep_networks_together() -> None:
    targets = [f"192.0.2.{host}" for host in range(1, 20)] + [f"198.51.100.{host}" for host in range(1, 20)]
    chunks = partition_targets([*targets, "mail.example.com", "# comment", ""], 8, ScanLimits())
    for chunk in chunks:
        networks = {text.rsplit(".", 1)[0] for text in chunk if text[0].isdigit()}
        assert len(networks) <= 2
    assert sorted(text for chunk in chunks for text in chunk) == sorted([*targets, "mail.example.com"])


def test_probe_many_dask_matches_local(fleet: Fleet, client: distributed.Client) -> None:
    ports = [f"{fleet.endpoints[0][1]}/plain"]
    local = smtplab.probe_many(_targets(fleet), ports=ports, config=CONFIG)
    spread = probe_many_dask(_targets(fleet), client=client, ports=ports, config=CONFIG, partitions=4)

    pd.testing.assert_frame_equal(spread.endpoints[STABLE], local.endpoints[STABLE])
    assert [host.host for host in spread.run.hosts] == _targets(fleet)
    assert spread.endpoints["reachable"].sum() == 80
    assert spread.endpoints.iloc[-1]["error_class"] == "refused"
    pd.testing.assert_frame_equal(spread.findings[["code", "host", "port"]],
                                  local.findings[["code", "host", "port"]])


def test_scan_dask_reads_back_as_dask_frame(fleet: Fleet, client: distributed.Client, tmp_path: Path) -> None:
    ports = [f"{fleet.endpoints[0][1]}/plain"]
    summaries = scan_dask(fleet.targets(), client=client, output=tmp_path / "scan", ports=ports,
                          config=CONFIG, partitions=3)

    assert sum(summary.endpoints_probed for summary in summaries) == 80
    frame = read_frame_dask(tmp_path / "scan", "endpoints")
    assert frame.npartitions == 3
    computed = frame.compute().sort_values("address", ignore_index=True)
    local = smtplab.probe_many(fleet.targets(), ports=ports, config=CONFIG).endpoints
    expected = local.sort_values("address", ignore_index=True)
    pd.testing.assert_frame_equal(computed[STABLE], expected[STABLE])
    capabilities = read_frame_dask(tmp_path / "scan", "capabilities").compute()
    assert set(capabilities["keyword"]) >= {"PIPELINING", "8BITMIME"}


def test_read_frame_dask_rejects_unknown_frame(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid frame 'findings'"):
        read_frame_dask(tmp_path, "findings")
