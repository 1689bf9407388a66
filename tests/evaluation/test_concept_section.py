"""senn-evaluate on data with annotated concepts: the concept section of metrics.json and the report."""

from __future__ import annotations

from senn.evaluation import evaluate
from tests.evaluation.conftest import FAST, evaluate_cfg, train_checkpoint

SHAPES = ["experiment=shapes_supervised", "data.image_size=16", "data.num_train=300", "data.num_test=300",
          "model.conceptizer.channels=[4,8]", "model.conceptizer.kernel_size=3", "model.parametrizer.channels=[4,8]",
          "model.parametrizer.kernel_size=3", "model.parametrizer.padding=1", "model.parametrizer.hidden_size=16",
          "callbacks.explanations.every_n_epochs=1000"]  # fmt: skip


def test_concept_section_scores_the_concepts_and_labels_the_prototypes(tmp_path):
    ckpt = train_checkpoint(SHAPES, tmp_path / "train", data=False)
    out = tmp_path / "evaluate"
    summary = evaluate(evaluate_cfg([f"ckpt_path={ckpt}", f"output_dir={out}", *FAST]))
    concepts = summary["concepts"]
    assert concepts["concept_names"][3] == "left" and len(concepts["auc"]) == 6  # 5 supervised + the constant
    assert len(set(concepts["matching"])) == 5  # one-to-one
    assert len(concepts["intervention_random"]) == 6 and 0.5 <= concepts["mean_matched_auc"] <= 1
    assert (out / "concept_alignment.png").stat().st_size > 0 and (out / "interventions.png").stat().st_size > 0
    report = (out / "report.html").read_text()
    assert 'id="concepts"' in report and "left: concept" in report and "Interventions: task accuracy" in report
