"""Real data, real presets (``make test-slow``): the accuracies the README and the results pages state, and the
full ``senn-evaluate`` on a trained MNIST model. Skipped without the data (``SENN_DATA_DIR`` with MNIST/raw and
COMPAS/)."""

from __future__ import annotations

import json

import pytest

from senn.checkpoints.zoo import available
from senn.evaluation import evaluate
from senn.explain.posthoc import POSTHOC_METHODS
from senn.runs import train
from tests.conftest import compose_train, shared_data_dir
from tests.evaluation.conftest import evaluate_cfg

pytestmark = pytest.mark.slow
QUIET = ["logger=none", "callbacks.progress_bar.refresh_rate=0", "callbacks.explanations.every_n_epochs=1000"]
ONE_EPOCH_MNIST = 0.96
"""Test accuracy the projection and exact estimators reach after one MNIST epoch (the projection run reached
0.970 validation accuracy after its first epoch, and 99.04 % after five)."""
SLICE = "trainer.limit_train_batches=0.2"
"""The jacobian estimator (C + K VJPs a step, the slowest) trains a fifth of an epoch, beside the exact one on
the same batches: both compute the same loss (their values are checked against a brute-force Jacobian in
tests/losses/test_robustness.py), so the two runs must end alike."""
PRESET_MARGIN = 0.01
"""How far COMPAS and breast cancer (seed 0) may land from the accuracy recorded for the shipped models."""


@pytest.fixture(scope="module")
def mnist_runs(tmp_path_factory):
    """One MNIST epoch per robustness estimator, and a one-epoch plain CNN for the post-hoc baselines."""
    real_data_dir = shared_data_dir()
    if real_data_dir is None:
        pytest.skip("real MNIST files not present (set SENN_DATA_DIR)")
    root = tmp_path_factory.mktemp("mnist")
    runs = {}
    for name, extra in [("projection", []), ("exact", ["model.robustness_estimator=exact"]),
                        ("exact_slice", ["model.robustness_estimator=exact", SLICE]),
                        ("jacobian_slice", ["model.robustness_estimator=jacobian", SLICE]), ("plain", [])]:  # fmt: skip
        experiment = "mnist_plain" if name == "plain" else "mnist"
        cfg = compose_train([f"experiment={experiment}", *extra, "trainer.max_epochs=1", *QUIET,
                             f"data.data_dir={real_data_dir}", f"output_dir={root / name}"])  # fmt: skip
        runs[name] = (train(cfg), root / name)
    return runs


@pytest.mark.parametrize("estimator", ["projection", "exact"])
def test_one_mnist_epoch_with_each_estimator(mnist_runs, estimator):
    metrics, _ = mnist_runs[estimator]
    assert metrics["test/acc"] >= ONE_EPOCH_MNIST, metrics["test/acc"]
    assert metrics["test/robustness_loss"] > 0  # always the exact term in test, whatever trained


def test_the_jacobian_estimator_trains_as_the_exact_one(mnist_runs):
    """The same batches, the same loss by two routes: the same model up to rounding, well above chance."""
    (jacobian, _), (exact, _) = mnist_runs["jacobian_slice"], mnist_runs["exact_slice"]
    assert jacobian["test/acc"] == pytest.approx(exact["test/acc"], abs=0.005) and jacobian["test/acc"] > 0.5
    assert jacobian["test/robustness_loss"] == pytest.approx(exact["test/robustness_loss"], rel=0.02)


@pytest.mark.parametrize("preset", ["compas", "breast_cancer"])
def test_tabular_presets_reach_their_recorded_accuracy(preset, real_data_dir, tmp_path):
    recorded = available()[preset]  # the shipped model's training command, seed and test accuracy
    cfg = compose_train([f"experiment={preset}", f"seed={recorded['seed']}", *QUIET,
                         f"data.data_dir={real_data_dir}", f"output_dir={tmp_path}"])  # fmt: skip
    metrics = train(cfg)
    assert abs(metrics["test/acc"] - recorded["test_accuracy"]) <= PRESET_MARGIN, metrics["test/acc"]


def test_full_senn_evaluate_on_a_trained_mnist_model(mnist_runs, real_data_dir, tmp_path):
    """Every post-hoc method, the like-for-like comparisons and the prototypes, on real MNIST."""
    senn = json.loads((mnist_runs["projection"][1] / "metrics.json").read_text())["best_checkpoint"]
    plain = json.loads((mnist_runs["plain"][1] / "metrics.json").read_text())["best_checkpoint"]
    cfg = evaluate_cfg([f"ckpt_path={senn}", f"baseline_ckpt_path={plain}", f"data_dir={real_data_dir}",
                        "num_examples=10", "prototypes.num_examples=500", "prototypes.feature_vis_steps=32",
                        f"output_dir={tmp_path}"])  # fmt: skip
    evaluation = evaluate(cfg)
    assert list(evaluation.methods) == ["senn", *POSTHOC_METHODS]
    assert evaluation.methods["senn"].accuracy >= 0.8  # 10 test digits after one epoch
    assert all(m.stability.n == 10 for m in evaluation.methods.values())
    assert len(evaluation.like_for_like) == 2 and (tmp_path / "report.html").stat().st_size > 100_000
