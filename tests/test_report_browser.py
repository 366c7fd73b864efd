"""The HTML report in headless Chromium: it loads nothing from any URL and its findings are visible.

Needs Debian's chromium and the playwright Python package (which downloads no
browser here: it drives /usr/bin/chromium).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

import smtplab
from smtplab.lab import Lab
from smtplab.report.findings import group_findings
from smtplab.report.html import render_html

CHROMIUM = "/usr/bin/chromium"
# Chromium flags that keep a headless run quiet and local: no GPU, no QUIC, and no
# background traffic to update, sync or safe-browsing services.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:")


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so these tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """A running sync Playwright; skips (fails under CI) without chromium or the playwright package."""
    if shutil.which(CHROMIUM) is None:
        _skip_or_fail(f"{CHROMIUM} not found; apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright not installed; pip install playwright (no browser download needed)")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def results(lab: Lab, lab_config: smtplab.ProbeConfig) -> list[smtplab.ProbeResult]:
    broken, healthy = lab.servers["broken"], lab.servers["healthy"]
    assert healthy.username and healthy.password
    credentials = smtplab.Credentials(healthy.username, smtplab.Secret(healthy.password))
    return [
        smtplab.probe(broken.host, ports=broken.endpoints, config=lab_config),
        smtplab.probe(healthy.host, ports=healthy.endpoints, config=lab_config, credentials=credentials),
    ]


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_report_loads_offline_and_shows_findings(playwright: Any, results: list[smtplab.ProbeResult],
                                                 tmp_path: Path, lang: str) -> None:
    page_file = tmp_path / f"report-{lang}.html"
    page_file.write_text(render_html(results, lang), encoding="utf-8")
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1200, "height": 1600},
    )
    requested: list[str] = []
    failed: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(page_file.as_uri(), wait_until="load")
        page.screenshot(path=str(tmp_path / f"report-{lang}.png"), full_page=True)

        titles = [group.title(lang) for result in results for group in group_findings(result.finding_list)]
        hidden = [title for title in titles
                  if not page.locator(".finding h3", has_text=title).first.is_visible()]
    finally:
        context.close()

    assert requested, "the page itself should be the one file: request"
    assert [url for url in requested if not url.startswith(LOCAL_SCHEMES)] == []
    assert failed == []
    assert hidden == []
    assert (tmp_path / f"report-{lang}.png").stat().st_size > 10_000
