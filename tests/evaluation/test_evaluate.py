"""senn-evaluate end to end on small trained checkpoints: every artifact, sound values, clear refusals."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from senn.evaluation import evaluate
from senn.explain.posthoc import POSTHOC_METHODS
from tests.evaluation.conftest import FAST, evaluate_cfg


def test_every_method_is_evaluated_on_the_same_inputs(evaluated):
    summary, out = evaluated
    assert list(summary["methods"]) == ["senn", *POSTHOC_METHODS]
    with open(out / "per_example.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10 * (1 + len(POSTHOC_METHODS))
    examples = {m: [r["example"] for r in rows if r["method"] == m] for m in summary["methods"]}
    assert all(ids == examples["senn"] for ids in examples.values())
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(summary))


def test_metric_values_are_in_range(evaluated):
    summary, _ = evaluated
    for method, entry in summary["methods"].items():
        assert -1 <= entry["faithfulness"]["median"] <= 1, method
        assert entry["stability"]["median"] > 0, method
        assert 0 <= entry["accuracy"] <= 1
    senn = summary["methods"]["senn"]
    assert senn["concept_stability"]["n"] == 10 and senn["stability_gradient"]["n"] == 10


def test_figures_prototypes_and_report_are_written(evaluated):
    _, out = evaluated
    for name in ["faithfulness.png", "stability.png", "explanation_1.png", "posthoc_examples.png", "report.html"]:
        assert (out / name).stat().st_size > 1000, name
    for j in (1, 2, 3):
        arrays = np.load(out / "prototypes" / f"concept_{j}.npz")
        assert arrays["activation_images"].shape == (4, 1, 14, 14)
        assert arrays["traversal"].shape == (7, 1, 14, 14)
        assert arrays["feature_visualisation"].shape == (1, 14, 14)
        assert (out / "prototypes" / f"concept_{j}.png").exists()
    report = (out / "report.html").read_text()
    assert 'id="metrics"' in report and "http" not in report  # self-contained: nothing to fetch
    assert report.count("data:image/png;base64,") >= 5


def test_a_plain_checkpoint_is_not_taken_for_a_senn(image_checkpoints, tmp_path):
    _, plain = image_checkpoints
    with pytest.raises(ValueError, match="not a SENN"):
        evaluate(evaluate_cfg([f"ckpt_path={plain}", f"output_dir={tmp_path}", *FAST]))


def test_console_script_runs_the_senn_alone_from_another_directory(image_checkpoints, tmp_path):
    senn, _ = image_checkpoints
    script = Path(sys.executable).parent / "senn-evaluate"
    result = subprocess.run(
        [str(script), f"ckpt_path={senn}", f"hydra.run.dir={tmp_path / 'run'}", *FAST, "prototypes.num_examples=0"],
        cwd=tmp_path, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "senn" in result.stdout and "faithfulness" in result.stdout
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert list(summary["methods"]) == ["senn"]


def test_metrics_only_runs_draw_no_examples(image_checkpoints, tmp_path):
    senn, plain = image_checkpoints
    cfg = evaluate_cfg([f"ckpt_path={senn}", f"baseline_ckpt_path={plain}", f"output_dir={tmp_path}", *FAST,
                        "examples_to_plot=0", "prototypes.num_examples=0", "methods=[saliency]"])  # fmt: skip
    assert list(evaluate(cfg)["methods"]) == ["senn", "saliency"]
    assert not list(tmp_path.glob("explanation_*.png")) and not (tmp_path / "posthoc_examples.png").exists()
