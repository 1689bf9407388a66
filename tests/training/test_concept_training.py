"""Concept supervision end to end: the real presets, shrunk, trained on generated data with annotations."""

from __future__ import annotations

import json

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from senn.checkpoints import load_checkpoint
from senn.evaluation.concept_quality import concept_quality
from senn.runs import train
from tests.conftest import build_module, compose_train

SMALL = ["logger=none", "callbacks.progress_bar.refresh_rate=0", "callbacks.explanations.every_n_epochs=1000",
         "trainer.max_epochs=40"]  # fmt: skip


def trained_quality(experiment: str, tmp_path):
    """Train a shrunk preset on TabularToy and score its concepts on the test split."""
    cfg = compose_train([f"experiment={experiment}", f"output_dir={tmp_path}", *SMALL])
    metrics = train(cfg)
    module = load_checkpoint(json.loads((tmp_path / "metrics.json").read_text())["best_checkpoint"])
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    return metrics, concept_quality(module, datamodule)


def test_supervised_concepts_learn_the_annotations(tmp_path):
    metrics, quality = trained_quality("tabular_toy_supervised", tmp_path)
    assert metrics["test/concept_loss"] < 0.4 and metrics["test/acc"] > 0.85
    assert quality.alignment.matching.tolist() == [0, 1, 2]  # supervised concept j is true concept j
    assert quality.alignment.mean_auc > 0.95 and quality.oracle_impurity < 0.2


def test_bottleneck_predictions_follow_intervened_concepts(tmp_path):
    metrics, quality = trained_quality("tabular_toy_bottleneck", tmp_path)
    assert metrics["test/robustness_loss"] < 1e-6  # θ does not depend on x
    assert quality.interventions.random[-1] > 0.97  # the label is a function of the concepts


def test_without_kept_annotations_the_concept_loss_gives_no_signal(tmp_path):
    cfg = compose_train(["experiment=tabular_toy_supervised", "data.concept_fraction=0.0", f"output_dir={tmp_path}",
                         *SMALL, "trainer.max_epochs=2"])  # fmt: skip
    metrics = train(cfg)
    assert metrics["train/concept_loss"] == 0 and metrics["test/concept_loss"] > 0
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    *_, concepts = next(iter(datamodule.train_dataloader()))
    assert torch.isnan(concepts).all() and not torch.isnan(datamodule.concepts["test"]).any()


def test_training_interventions_put_annotations_in_place_of_concepts():
    module = build_module(["experiment=tabular_toy_supervised", "model.intervention_probability=1.0"])
    x = torch.randn(4, 7)
    annotations = torch.tensor([[1.0, 0.0, 1.0], [0.0, float("nan"), 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    out = module.model(x)
    logits = module._intervened_logits(out, annotations)
    expected_concepts = torch.cat([torch.where(torch.isnan(annotations), out.concepts[:, :3], annotations),
                                   out.concepts[:, 3:]], dim=1)  # fmt: skip
    torch.testing.assert_close(logits, torch.einsum("bk,bkc->bc", expected_concepts, out.relevances))
    module.hparams.intervention_probability = 0.0
    torch.testing.assert_close(module._intervened_logits(out, annotations), out.logits)


def test_training_interventions_need_probability_concepts():
    with pytest.raises(InstantiationException, match="activation=sigmoid"):
        build_module(["experiment=tabular_toy", "model.intervention_probability=0.5"])
