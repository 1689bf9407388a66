"""senn-evaluate end to end on small trained checkpoints: every artifact, sound values, clear refusals."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

from senn.checkpoints import load_checkpoint
from senn.evaluation import Evaluation, evaluate
from senn.evaluation.evaluate import CONCEPT_SPACE, INPUT_SPACE, removal_baseline
from senn.explain import explain
from senn.explain.posthoc import POSTHOC_METHODS
from senn.metrics import concept_faithfulness
from tests.evaluation.browser import needs_browser, render
from tests.evaluation.conftest import FAST, evaluate_cfg, train_checkpoint
from tests.test_devices import DEVICES


def test_every_method_is_evaluated_on_the_same_inputs(evaluated):
    evaluation, out = evaluated
    assert list(evaluation.methods) == ["senn", *POSTHOC_METHODS]
    with open(out / "per_example.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10 * (1 + len(POSTHOC_METHODS))
    examples = {m: [r["example"] for r in rows if r["method"] == m] for m in evaluation.methods}
    assert all(ids == examples["senn"] for ids in examples.values())
    for method, m in evaluation.methods.items():  # the scores are the per-example values' statistics
        mine = [r for r in rows if r["method"] == method]
        assert m.faithfulness.median == pytest.approx(np.nanmedian([float(r["faithfulness"]) for r in mine]))
        assert m.stability.median == pytest.approx(np.median([float(r["stability"]) for r in mine]))
        assert m.accuracy == pytest.approx(np.mean([r["prediction"] == r["label"] for r in mine]))
    senn = evaluation.methods["senn"]
    assert senn.concept_stability.n == 10 and senn.stability_gradient.n == 10


def test_metrics_json_reads_back_as_the_evaluation(evaluated, tmp_path):
    """The one loader of an evaluation's metrics.json gives back what evaluate() returned, field for field."""
    evaluation, out = evaluated
    loaded = Evaluation.load(out)
    assert json.dumps(loaded.to_dict()) == json.dumps(evaluation.to_dict())
    assert loaded.methods["saliency"].stability == evaluation.methods["saliency"].stability
    foreign = tmp_path / "metrics.json"
    foreign.write_text(json.dumps({"methods": {}, "split": "test"}))  # e.g. a file of another senn version
    with pytest.raises(ValueError, match=r"not a senn-evaluate metrics\.json"):
        Evaluation.load(tmp_path)


def test_per_example_values_are_the_models_on_those_inputs(evaluated, image_checkpoints):
    """Recomputed from the checkpoint on the inputs per_example.csv names: labels, predictions, faithfulness."""
    _, out = evaluated
    module = load_checkpoint(image_checkpoints[0])
    with open(out / "per_example.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "senn"]
    datamodule = instantiate(module.data_config)
    x, y = datamodule.take("test", [int(r["example"]) for r in rows])
    assert [int(r["label"]) for r in rows] == y.tolist()
    assert [int(r["prediction"]) for r in rows] == explain(module, x).prediction.tolist()
    expected = concept_faithfulness(module, x).numpy()
    np.testing.assert_allclose([float(r["faithfulness"]) for r in rows], expected, rtol=1e-4, atol=1e-6)


def test_like_for_like_stability_compares_within_one_space(evaluated):
    """Captum's gradient at the concept layer is θ itself, so its stability is exactly the SENN's; every
    space holds the SENN and each configured method, unit-normalized by default."""
    evaluation, _ = evaluated
    like = evaluation.like_for_like
    concept, inputs = like[CONCEPT_SPACE], like[INPUT_SPACE]
    assert list(concept) == ["senn θ", "layer_gradient", "layer_gradient_x_activation", "layer_integrated_gradients"]
    assert list(inputs) == ["senn θᵀ J_x h", "saliency", "input_x_gradient", "integrated_gradients"]
    assert concept["layer_gradient"].stability.median == pytest.approx(concept["senn θ"].stability.median)
    assert concept["layer_gradient"].stability.q75 == pytest.approx(concept["senn θ"].stability.q75)
    assert evaluation.stability.normalize == "unit"
    assert all(0 < e.stability.median for space in like.values() for e in space.values())


def test_figures_prototypes_and_report_are_written(evaluated):
    _, out = evaluated
    for name in ["faithfulness.png", "stability.png", "explanation_1.png", "posthoc_examples.png", "report.html"]:
        assert (out / name).stat().st_size > 1000, name
    for j in (1, 2, 3):
        arrays = np.load(out / "prototypes" / f"concept_{j}.npz")
        assert arrays["activation_images"].shape == (4, 1, 14, 14)
        assert arrays["traversal"].shape == (7, 1, 14, 14)
        assert arrays["feature_visualization"].shape == (1, 14, 14)
        assert (out / "prototypes" / f"concept_{j}.png").exists()
    report = (out / "report.html").read_text()
    assert 'id="metrics"' in report and "http" not in report  # self-contained: nothing to fetch
    assert report.count("data:image/png;base64,") >= 5


def test_a_plain_checkpoint_is_not_taken_for_a_senn(image_checkpoints, tmp_path):
    _, plain = image_checkpoints
    with pytest.raises(ValueError, match="not a SENN"):
        evaluate(evaluate_cfg([f"ckpt_path={plain}", f"output_dir={tmp_path}", *FAST]))


def test_a_split_or_sample_that_is_not_there_is_named(image_checkpoints, tmp_path):
    senn, _ = image_checkpoints
    common = [f"ckpt_path={senn}", f"output_dir={tmp_path}", *FAST]
    with pytest.raises(ValueError, match=r"split='valid': the data has the splits \['test', 'train', 'val'\]"):
        evaluate(evaluate_cfg([*common, "split=valid"]))
    with pytest.raises(ValueError, match="num_examples=0: evaluate at least one input"):
        evaluate(evaluate_cfg([*common, "num_examples=0"]))


def test_console_script_runs_the_senn_alone_from_another_directory(image_checkpoints, tmp_path):
    senn, _ = image_checkpoints
    script = Path(sys.executable).parent / "senn-evaluate"
    result = subprocess.run(
        [str(script), f"ckpt_path={senn}", f"hydra.run.dir={tmp_path / 'run'}", *FAST, "prototypes.num_examples=0",
         "like_for_like=null", "explorer.num_examples=0"],
        cwd=tmp_path, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    closing = result.stdout[result.stdout.index("senn-evaluate finished") :]  # says where the report is
    assert f"report:  {tmp_path / 'run' / 'report.html'}" in closing and "10 test inputs" in closing
    assert "senn  accuracy " in closing and "senn-evaluate finished" in (tmp_path / "run" / "evaluate.log").read_text()
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert list(summary["methods"]) == ["senn"]


def test_metrics_only_runs_draw_no_examples(image_checkpoints, tmp_path):
    senn, plain = image_checkpoints
    cfg = evaluate_cfg([f"ckpt_path={senn}", f"baseline_ckpt_path={plain}", f"output_dir={tmp_path}", *FAST,
                        "examples_to_plot=0", "prototypes.num_examples=0", "methods=[saliency]"])  # fmt: skip
    assert list(evaluate(cfg).methods) == ["senn", "saliency"]
    assert not list(tmp_path.glob("explanation_*.png")) and not (tmp_path / "posthoc_examples.png").exists()


@pytest.mark.parametrize("device", DEVICES)
def test_senn_evaluate_on_the_device(device, image_checkpoints, tmp_path):
    senn, plain = image_checkpoints
    """The checkpoints were trained on the CPU; evaluation moves them, the inputs and the metrics to the device."""
    cfg = evaluate_cfg([f"ckpt_path={senn}", f"baseline_ckpt_path={plain}", f"output_dir={tmp_path}",
                        f"device={device}", "methods=[saliency,excitation_pullback]", *FAST])  # fmt: skip
    evaluation = evaluate(cfg)
    assert set(evaluation.methods) == {"senn", "saliency", "excitation_pullback"}
    assert json.loads((tmp_path / "metrics.json").read_text())["num_examples"] == 10
    assert list((tmp_path / "prototypes").glob("*.png"))


@needs_browser
def test_report_renders_offline_in_chromium(evaluated):
    _, out = evaluated
    images, rows, remote, texts = render(out / "report.html")
    assert remote == []
    assert len(texts) == 2 and texts[0].startswith("example 1: predicted")  # each explanation also as words,
    assert {"stroke", "loop", "bar"} <= set(texts[0].split())  # in the concepts' names
    assert len(images) >= 5 and all(i["ok"] for i in images), images
    assert rows[0].split("\t")[:2] == ["method", "explained model"]
    assert rows[1].split("\t")[1].startswith("accuracy 0.")  # a classifier: the model's accuracy
    assert {r.split("\t")[0] for r in rows[1:]} >= {"senn", "saliency", "lime"}


def test_a_regression_model_is_evaluated_with_its_mse(image_checkpoints, tmp_path):
    """senn-evaluate on a table's regression SENN and plain network: their MSE instead of an accuracy, the output
    itself in place of a class probability, and the SENN's faithfulness the correlation of θ with the output's
    drop θ_k·(h_k − median_k) when feature k is set to its training median."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 4))
    frame = pd.DataFrame(features, columns=["a", "b", "c", "d"]).assign(y=features @ [1.0, -2.0, 0.5, 0.0])
    frame.to_csv(tmp_path / "table.csv", index=False)
    data = [
        "data=csv",
        f"data.path={tmp_path / 'table.csv'}",
        "data.target=y",
        "data.task=regression",
        "monitor=val/mse",
        "monitor_mode=min",
    ]
    senn = train_checkpoint(["experiment=tabular", *data], tmp_path / "senn", data=False)
    plain = train_checkpoint(["experiment=breast_cancer_plain", *data], tmp_path / "plain", data=False)
    logged = json.loads((tmp_path / "senn" / "metrics.json").read_text())
    assert "val/regression_loss" in logged and "val/mse" in logged and "val/classification_loss" not in logged
    out = tmp_path / "evaluation"
    cfg = evaluate_cfg(
        [
            f"ckpt_path={senn}",
            f"baseline_ckpt_path={plain}",
            f"output_dir={out}",
            *FAST,
            "methods=[saliency,occlusion]",
            "like_for_like=null",
        ]
    )
    evaluation = evaluate(cfg)
    with open(out / "per_example.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] == "senn"]
    module = load_checkpoint(senn)
    datamodule = instantiate(module.data_config)
    x, y = datamodule.take("test", [int(r["example"]) for r in rows])
    with torch.no_grad():
        out_senn = module.model(x)
    np.testing.assert_allclose([float(r["prediction"]) for r in rows], out_senn.logits[:, 0], rtol=1e-5)
    np.testing.assert_allclose([float(r["label"]) for r in rows], y, rtol=1e-6)
    scores = evaluation.methods["senn"]
    assert scores.accuracy is None and scores.mse == pytest.approx(float((out_senn.logits[:, 0] - y).pow(2).mean()))
    assert all(m.accuracy is None and m.mse > 0 for m in evaluation.methods.values())
    theta, h = out_senn.relevances[:, :, 0], out_senn.concepts  # (N, K)
    median = removal_baseline(module.model, datamodule)
    drops = theta * (h - median)  # the output's drop when feature k is removed, θ(x) fixed
    expected = [np.corrcoef(t, d)[0, 1] for t, d in zip(theta.numpy(), drops.numpy(), strict=True)]
    np.testing.assert_allclose([float(r["faithfulness"]) for r in rows], expected, rtol=1e-4, atol=1e-6)
    assert Evaluation.load(out).methods["occlusion"].mse == evaluation.methods["occlusion"].mse
    assert "MSE" in (out / "report.html").read_text()
    other = [f"ckpt_path={senn}", f"baseline_ckpt_path={image_checkpoints[1]}", f"output_dir={tmp_path / 'no'}", *FAST]
    with pytest.raises(
        ValueError, match=r"has \(input shape, outputs, task\) \(\(1, 14, 14\), 3, 'multiclass'\), the SENN"
    ):
        evaluate(evaluate_cfg(other))  # a baseline of another data set: named before anything is measured
