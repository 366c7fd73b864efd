"""Probes through a real SOCKS5 proxy (microsocks) on loopback, as from another vantage point.

microsocks binds its outgoing connections to 127.0.0.2, so a server gets
connections from the proxy's address rather than the client's. The tests check
that address to show that a connection went through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

import smtplab
from smtplab.config import mask_proxy_password
from smtplab.lab import Lab
from smtplab.scan import scan

from hostile import Script, scripted
from rawserver import Handler, free_port, serve

PROXY_SOURCE = "127.0.0.2"
USER, PASSWORD = "scanner", "proxy-s3cret"


@dataclass(frozen=True)
class Proxy:
    url: str
    port: int


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so these tests must run)", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def _microsocks(*extra: str) -> Iterator[int]:
    binary = shutil.which("microsocks")
    if binary is None:
        _skip_or_fail("microsocks not found; apt-get install microsocks")
    port = free_port()
    process = subprocess.Popen([binary, "-i", "127.0.0.1", "-p", str(port), "-b", PROXY_SOURCE, *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"microsocks exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"microsocks did not listen on port {port} within 10 s")


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    with _microsocks() as port:
        yield Proxy(f"socks5://127.0.0.1:{port}", port)


@pytest.fixture(scope="module")
def auth_proxy() -> Iterator[Proxy]:
    with _microsocks("-u", USER, "-P", PASSWORD) as port:
        yield Proxy(f"socks5://{USER}:{PASSWORD}@127.0.0.1:{port}", port)


def _recording(peers: list[str]) -> Handler:
    inner = scripted(Script())

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[0])
        await inner(reader, writer)

    return handler


def _config(proxy_url: str | None, **options: object) -> smtplab.ProbeConfig:
    return smtplab.ProbeConfig(resolve=False, ehlo_name="client.smtplab.test", connect_timeout=3.0,
                               reply_timeout=3.0, proxy=proxy_url, **options)  # type: ignore[arg-type]


def test_probe_through_proxy(proxy: Proxy) -> None:
    peers: list[str] = []
    with serve(_recording(peers)) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=_config(proxy.url))

    row = result.endpoints.iloc[0]
    assert row["reachable"]
    assert row["relay_unauth"] == "accepted"
    assert peers == [PROXY_SOURCE]
    notes = result.transcript[result.transcript["text"].str.contains("via proxy", na=False)]
    assert len(notes) == 1


def test_direct_probe_comes_from_client(proxy: Proxy) -> None:
    peers: list[str] = []
    with serve(_recording(peers)) as port:
        smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=_config(None))
    assert peers == ["127.0.0.1"]


def test_proxy_with_password_is_masked(auth_proxy: Proxy, tmp_path: object) -> None:
    peers: list[str] = []
    with serve(_recording(peers)) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=_config(auth_proxy.url))

    assert peers == [PROXY_SOURCE]
    assert result.endpoints.iloc[0]["reachable"]
    saved = result.save(f"{tmp_path}/run.jsonl").read_text()
    assert PASSWORD not in saved
    assert f"{USER}:********@" in saved


def _assert_proxy_failed(result: smtplab.ProbeResult, proxy_url: str, password: str, tmp_path: Path) -> None:
    """Check that the run blames the proxy, not the target, and shows the password nowhere."""
    row = result.endpoints.iloc[0]
    assert not row["reachable"]
    assert row["error_class"] == "proxy_failed"

    codes = result.findings["code"].tolist()
    assert codes.count("proxy.failed") == 1
    assert "host.unreachable" not in codes
    assert "port.unreachable" not in codes
    finding = next(item for item in result.finding_list if item.code == "proxy.failed")
    assert finding.params["proxy"] == mask_proxy_password(proxy_url)

    outputs = {
        "saved run": result.save(tmp_path / "run.jsonl").read_text(),
        "transcript": result.transcript["text"].str.cat(sep="\n"),
        "findings": result.findings.to_string(),
        "markdown report": result.to_markdown(),
        "Chinese report": result.to_markdown("zh-CN"),
    }
    for name, text in outputs.items():
        assert password not in text, name
    assert mask_proxy_password(proxy_url) in outputs["markdown report"]


def test_proxy_rejects_wrong_password(auth_proxy: Proxy, tmp_path: Path) -> None:
    wrong_password = "wrong-proxy-pass"
    wrong = f"socks5://{USER}:{wrong_password}@127.0.0.1:{auth_proxy.port}"
    with serve(scripted(Script())) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=_config(wrong))
    _assert_proxy_failed(result, wrong, wrong_password, tmp_path)
    assert "authentication failure" in result.endpoints.iloc[0]["error_detail"]


def test_destination_refused_through_proxy(proxy: Proxy) -> None:
    result = smtplab.probe("127.0.0.1", ports=[f"{free_port()}/plain"], config=_config(proxy.url))
    assert result.endpoints.iloc[0]["error_class"] == "refused"


def test_proxy_not_running(tmp_path: Path) -> None:
    closed = f"socks5://{USER}:{PASSWORD}@127.0.0.1:{free_port()}"
    with serve(scripted(Script())) as port:
        result = smtplab.probe("127.0.0.1", ports=[f"{port}/plain"], config=_config(closed))
    _assert_proxy_failed(result, closed, PASSWORD, tmp_path)
    errors = result.transcript[result.transcript["text"].str.startswith("error")]["text"].tolist()
    assert len(errors) == 1
    assert "Could not connect to proxy" in errors[0]


def test_scan_with_dead_proxy(tmp_path: Path) -> None:
    closed = f"socks5://{USER}:{PASSWORD}@127.0.0.1:{free_port()}"
    output = tmp_path / "scan.jsonl"
    summary = scan(["127.0.0.2"], ports=["25/starttls", "587/starttls"], config=_config(closed),
                   output=str(output))
    assert summary.errors == {"proxy_failed": 2}

    result = smtplab.load(output)
    codes = result.findings["code"].tolist()
    assert codes == ["proxy.failed"]
    assert result.finding_list[0].params["ports"] == "25, 587"
    assert PASSWORD not in output.read_text()


def test_starttls_and_certificate_through_proxy(
    proxy: Proxy, lab: Lab, lab_config: smtplab.ProbeConfig
) -> None:
    server = lab.servers["healthy"]
    config = dataclasses.replace(lab_config, proxy=proxy.url)
    direct = smtplab.probe(server.host, ports=server.endpoints, config=lab_config)
    proxied = smtplab.probe(server.host, ports=server.endpoints, config=config)

    columns = ["port", "mode", "reachable", "starttls", "tls_ok", "cert_verified", "auth_tls", "error_class"]
    assert proxied.endpoints[columns].equals(direct.endpoints[columns])
    assert proxied.endpoints["tls_ok"].any()


def test_scan_with_proxy_per_target(proxy: Proxy) -> None:
    peers: list[str] = []
    with serve(_recording(peers)) as port:
        summary = scan([f"127.0.0.1 {proxy.url}", "127.0.0.3"], ports=[f"{port}/plain"],
                       config=_config(None))
    assert summary.endpoints_probed == 2
    # The listener is on 127.0.0.1 only, so the direct probe of 127.0.0.3 is refused.
    assert summary.errors == {"refused": 1}
    assert peers == [PROXY_SOURCE]
