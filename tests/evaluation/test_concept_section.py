"""senn-evaluate on data with annotated concepts: the concept section of metrics.json and the report."""

from __future__ import annotations

import json

import torch
from hydra.utils import instantiate

import senn
from senn.checkpoints import load_checkpoint
from senn.evaluation import Evaluation, evaluate
from tests.evaluation.conftest import FAST, evaluate_cfg, train_checkpoint

SHAPES = ["experiment=shapes_supervised", "data.image_size=16", "data.num_train=300", "data.num_test=300",
          "model.conceptizer.channels=[4,8]", "model.conceptizer.kernel_size=3", "model.parametrizer.channels=[4,8]",
          "model.parametrizer.kernel_size=3", "model.parametrizer.padding=1", "model.parametrizer.hidden_size=16",
          "callbacks.explanations.every_n_epochs=1000"]  # fmt: skip


def test_concept_section_scores_the_concepts_and_labels_the_prototypes(tmp_path):
    ckpt = train_checkpoint(SHAPES, tmp_path / "train", data=False)
    out = tmp_path / "evaluate"
    concepts = evaluate(evaluate_cfg([f"ckpt_path={ckpt}", f"output_dir={out}", *FAST])).concepts
    assert concepts.concept_names[3] == "left" and len(concepts.alignment.auc) == 6  # 5 supervised + the constant
    # every true concept set: the curve's end is what senn.intervene predicts with the annotations as concepts
    module = load_checkpoint(ckpt)
    datamodule = instantiate(module.data_config)
    datamodule.setup()
    (x, y), true = datamodule.splits["test"], datamodule.concepts["test"]
    edited = senn.intervene(module, x, {j: true[:, j] for j in range(5)})
    assert len(concepts.interventions.random) == 6
    assert float(concepts.interventions.random[-1]) == float((edited.logits.argmax(1) == y).float().mean())
    loaded = Evaluation.load(out).concepts  # metrics.json keeps every number of the concept section
    assert torch.equal(loaded.alignment.auc, concepts.alignment.auc)
    assert torch.equal(loaded.interventions.random, concepts.interventions.random)
    assert json.dumps(loaded.to_dict()) == json.dumps(concepts.to_dict())
    assert (out / "concept_alignment.png").stat().st_size > 0 and (out / "interventions.png").stat().st_size > 0
    report = (out / "report.html").read_text()
    assert 'id="concepts"' in report and "left: left (" in report and "Interventions: task accuracy" in report
