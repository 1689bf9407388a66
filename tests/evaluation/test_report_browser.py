"""The HTML report in a real headless browser (Debian's Chromium): a broken figure fails the check (the
evaluated report itself renders in tests/evaluation/test_evaluate.py, beside the evaluation it reports)."""

from __future__ import annotations

from senn.evaluation import Evaluation, StabilitySettings, write_report
from senn.explain.plots import plot_metric_boxes
from tests.evaluation.browser import needs_browser, render


@needs_browser
def test_a_broken_figure_is_detected(tmp_path):
    """The check of the evaluated report can fail: a report whose image data is corrupt does not pass it."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plot_metric_boxes({"a": np.array([1.0, 2.0])}, "t", "y")
    good = tmp_path / "good.png"
    fig.savefig(good)
    plt.close(fig)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG but not an image")
    evaluation = Evaluation("x", None, "test", 0, StabilitySettings(1.0, 1, "l2", "unit"), methods={})
    images, *_ = render(write_report(tmp_path / "r.html", evaluation, {"good": good, "bad": bad}))
    assert [i["ok"] for i in images] == [True, False]
