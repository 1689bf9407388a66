"""The HTML report in a real headless browser (Debian's Chromium): offline, every image drawn, tables present."""

from __future__ import annotations

import os
import shutil

import pytest

from senn.evaluation import write_report
from senn.explain.plots import plot_metric_boxes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = bool(os.environ.get("SENN_REQUIRE_BROWSER"))  # CI sets it: there a missing browser fails, never skips
if REQUIRED and CHROMIUM is None:
    raise RuntimeError("SENN_REQUIRE_BROWSER is set but Chromium is not installed (apt-get install chromium)")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def render(report_path):
    """Open the report with every non-local request blocked; return what the page shows and asks for."""
    requests = []
    with playwright.sync_playwright() as p:
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


def test_report_renders_offline_in_chromium(evaluated):
    _, out = evaluated
    images, rows, remote, texts = render(out / "report.html")
    assert remote == []
    assert len(texts) == 2 and texts[0].startswith("example 1: predicted")  # each explanation also as words,
    assert {"stroke", "loop", "bar"} <= set(texts[0].split())  # in the concepts' names
    assert len(images) >= 5 and all(i["ok"] for i in images), images
    assert rows[0].split("\t")[:2] == ["method", "accuracy of the explained model"]
    assert {r.split("\t")[0] for r in rows[1:]} >= {"senn", "saliency", "lime"}


def test_a_broken_figure_is_detected(tmp_path):
    """The check above can fail: a report whose image data is corrupt does not pass it."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plot_metric_boxes({"a": np.array([1.0, 2.0])}, "t", "y")
    good = tmp_path / "good.png"
    fig.savefig(good)
    plt.close(fig)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG but not an image")
    summary = {"ckpt_path": "x", "split": "test", "num_examples": 0, "stability": {"budget": 1, "norm": "l2",
               "epsilon": 1.0}, "methods": {}}  # fmt: skip
    images, *_ = render(write_report(tmp_path / "r.html", summary, {"good": good, "bad": bad}))
    assert [i["ok"] for i in images] == [True, False]
