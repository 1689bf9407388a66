"""Rendering a report in a real headless browser (Debian's Chromium), for the report tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = bool(os.environ.get("SENN_REQUIRE_BROWSER"))  # CI sets it: there a missing browser fails, never skips
if REQUIRED and CHROMIUM is None:
    raise RuntimeError("SENN_REQUIRE_BROWSER is set but Chromium is not installed (apt-get install chromium)")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def render(report_path: Path) -> tuple[list[dict], list[str], list[str], list[str]]:
    """Open the report with every non-local request blocked; return what the page shows and asks for: its
    images (drawn or not), the metrics table's rows, the remote requests and the explanations' texts."""
    from playwright.sync_api import sync_playwright

    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.route("http*://**", lambda route: route.abort())
        page.goto(report_path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}))"
        )
        tables = page.evaluate("Array.from(document.querySelectorAll('table#metrics tr')).map(r => r.innerText)")
        texts = page.evaluate("Array.from(document.querySelectorAll('pre.explanation')).map(p => p.innerText)")
        browser.close()
    return images, tables, [u for u in requests if not u.startswith(("file:", "data:"))], texts
