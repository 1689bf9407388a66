"""The README is a contract: every command in its ``bash`` blocks and every ``python`` block runs and does what
the README says it does. This module: training, explaining, evaluating and naming, the Python snippets, and
the check that no command is left out; the sweeps and DDP: tests/readme/test_sweeps.py (a module of its own,
so that the two halves run in parallel)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

import senn
from senn.checkpoints import load_checkpoint, name_concepts
from senn.checkpoints.zoo import available
from senn.training import PlainModule
from tests.conftest import REPO, run_command, shared_data_dir
from tests.readme import test_sweeps
from tests.readme.workspace import (
    CHECKED,
    COMMANDS,
    COMMANDS_BY_NAME,
    MAKE,
    TRAIN,
    assert_trained,
    check,
    first,
    readme_blocks,
    written_to,
)


def test_every_readme_command_is_checked():
    """A command added to the README gets a check here, or this fails (the set-up commands aside)."""
    assert test_sweeps.__name__ in sys.modules  # its checks are registered too
    checked = {*TRAIN, *CHECKED}
    unchecked = [c for c in COMMANDS if c not in checked and c not in MAKE]
    assert not unchecked, f"README commands without a check in tests/readme/: {unchecked}"
    assert len(COMMANDS) >= 30 and len(readme_blocks("python")) == 3
    makefile = (REPO / "Makefile").read_text()
    assert "senn-train experiment=mnist $(ARGS)" in makefile  # make train runs the first command below


@pytest.mark.parametrize("command", TRAIN)
def test_training_command(ws, command, capsys):
    run = assert_trained(ws, command, capsys)
    if command == COMMANDS_BY_NAME["mnist"]:  # the default layout: outputs/<experiment>/<time>/
        assert run.parent == ws.root / "outputs" / "mnist"
    if "logger=csv" in command:
        assert list(run.glob("csv/version_*/metrics.csv"))
    if "ckpt_path=last" in command:  # resumed the first run, in its own folder, for the one epoch left
        assert run == ws.run_folder(COMMANDS_BY_NAME["mnist"], capsys)
        last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
        assert last["epoch"] == 1 and last["global_step"] == 4
    if "experiment=mnist_plain" in command:
        assert isinstance(load_checkpoint(run / "checkpoints" / "last.ckpt"), PlainModule)
    elif "experiment=shapes_supervised" in command:
        assert "test/concept_loss" in json.loads((run / "metrics.json").read_text())


@check(COMMANDS_BY_NAME["wine_csv"])
def test_wine_table_written(ws, capsys):
    ws.run(COMMANDS_BY_NAME["wine_csv"], capsys)
    table = pd.read_csv(ws.root / "wine.csv")
    assert len(table) == 178 and set(table.target) == {"class_0", "class_1", "class_2"}


@check(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt 'input=[0,1]'"))
def test_explain_test_rows_as_text_and_figures(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt 'input=[0,1]'"), capsys)
    assert "test[0]: predicted class_" in result.out and "test[1]: predicted" in result.out
    assert "= the sum of the contributions" in result.out and "input: alcohol=" in result.out
    out = written_to(result)
    assert [r["source"] for r in json.loads((out / "explanations.json").read_text())] == ["test[0]", "test[1]"]
    assert (out / "explanation_2.png").stat().st_size > 10_000


@check(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt input=new_rows.csv format=json"))
def test_explain_raw_rows_as_json(ws, capsys):
    ws.run(COMMANDS_BY_NAME["wine_csv"], capsys)
    rows = pd.read_csv(ws.root / "wine.csv").drop(columns=["target"]).iloc[:3]  # a user's new rows
    rows.to_csv(ws.root / "new_rows.csv", index=False)
    result = ws.run(first("senn-explain ckpt_path=outputs/wine/checkpoints/last.ckpt input=new_rows.csv"), capsys)
    records = json.loads(result.out)  # stdout is JSON only
    assert [r["source"] for r in records] == [f"new_rows.csv row {i}" for i in (1, 2, 3)]
    assert records[0]["input"]["alcohol"] == pytest.approx(rows.alcohol[0])  # the raw values, read back


@check(first("senn-explain ckpt_path=outputs/mine/checkpoints/last.ckpt"))
def test_explain_image_files(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=outputs/mine/checkpoints/last.ckpt"), capsys)
    module = load_checkpoint(ws.root / "outputs" / "mine" / "checkpoints" / "last.ckpt")
    assert module.model.input_shape == (1, 28, 28) and module.model.class_names == ["bar", "circle"]
    assert "0.png: predicted" in result.out and "1.png: predicted" in result.out
    assert (written_to(result) / "explanation_2.png").exists()


@check(first("senn-explain ckpt_path=pretrained:mnist input=digit.png"))
def test_explain_a_digit_with_the_pretrained_model(ws, capsys):
    result = ws.run(first("senn-explain ckpt_path=pretrained:mnist input=digit.png"), capsys)
    assert "digit.png: predicted " in result.out and "= the sum of the contributions" in result.out
    assert (written_to(result) / "explanation_1.png").stat().st_size > 10_000
    # the thumbnails' training data is not here (the stand-in fails MNIST's checksums): one line, no download
    printed = result.out + result.err
    assert "download" not in printed and printed.count("no concept thumbnails") == 1


@check(first("senn-evaluate ckpt_path=pretrained:breast_cancer"))
def test_evaluate_a_pretrained_table_model(ws, capsys):
    """A table model's evaluation draws its explanation figures (it crashed in plot_explanation before)."""
    result = ws.run(first("senn-evaluate ckpt_path=pretrained:breast_cancer"), capsys)
    report = Path(re.search(r"report:\s+(\S+)", result.out)[1])
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert metrics["num_examples"] == 4 and metrics["methods"]["senn"]["accuracy"] >= 0.5
    assert (report.parent / "explanation_2.png").exists() and "SENN explanation of example 1" in report.read_text()


@check(first("senn-name-concepts pretrained:mnist"))
def test_name_the_concepts_of_a_pretrained_model(ws, capsys):
    result = ws.run(first("senn-name-concepts pretrained:mnist"), capsys)
    assert "named 5 concepts" in result.out
    assert load_checkpoint(ws.root / "mnist_named.ckpt").model.concept_names == ["loop", "stroke", "bar", "curve",
                                                                                  "blank"]  # fmt: skip
    assert load_checkpoint("pretrained:mnist").model.concept_names is None  # the shipped file is unchanged


@check(first("senn-explore outputs/wine/checkpoints/last.ckpt"))
def test_explore_a_table_model(ws, capsys):
    result = ws.run(first("senn-explore outputs/wine/checkpoints/last.ckpt"), capsys)
    page = ws.root / "wine_explorer.html"
    assert f"wrote {page.name}" in result.out and "no server needed" in result.out
    content = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', page.read_text(),
                                   flags=re.S)[1])  # fmt: skip
    rows = pd.read_csv(ws.root / "wine.csv")
    assert len(content["examples"]) == 18 and content["classes"] == ["class_0", "class_1", "class_2"]  # the test split
    assert set(content["examples"][0]["raw"]) == set(rows.columns) - {"target"}  # raw values, named by column


@check(first("senn-name-concepts outputs/wine/checkpoints/last.ckpt --from concept_names.json"))
def test_store_names_exported_from_the_explorer(ws, capsys):
    checkpoint = ws.root / "outputs" / "wine" / "checkpoints" / "last.ckpt"
    ws.run(COMMANDS_BY_NAME["wine"], capsys)
    before = load_checkpoint(checkpoint).model.concept_names
    names = [f"{name} (renamed)" for name in before]
    (ws.root / "concept_names.json").write_text(json.dumps({"concept_names": names}))  # as the page exports
    ws.run(first("senn-name-concepts outputs/wine/checkpoints/last.ckpt --from concept_names.json"), capsys)
    assert load_checkpoint(checkpoint).model.concept_names == names
    name_concepts(checkpoint, before)  # the other checks read the wine model as trained


@check(first("senn-evaluate ckpt_path=<senn.ckpt> baseline_ckpt_path=<plain.ckpt>"))
def test_evaluate_against_post_hoc_methods(ws, capsys):
    result = ws.run(first("senn-evaluate ckpt_path=<senn.ckpt> baseline_ckpt_path=<plain.ckpt>"), capsys)
    report = Path(re.search(r"report:\s+(\S+)", result.out)[1])
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert list(metrics["methods"]) == ["senn", "saliency", "input_x_gradient", "integrated_gradients", "occlusion",
                                        "lime", "kernel_shap", "excitation_pullback"]  # fmt: skip
    assert "like_for_like" in metrics and (report.parent / "prototypes").is_dir()
    assert "senn-evaluate finished" in result.out and report.stat().st_size > 10_000


def test_python_snippets(ws, capsys, tmp_path, monkeypatch):
    """The three Python blocks, run in order in one namespace, with the inputs the README's prose gives them:
    ``x`` a batch from the trained MNIST run, ``x_test`` more of its test split, ``target`` their classes;
    ``module`` and ``datamodule`` of a run on data with annotated concepts for the last block."""
    mnist = ws.run_folder(COMMANDS_BY_NAME["mnist"], capsys)
    shapes = ws.run_folder(COMMANDS_BY_NAME["shapes_supervised"], capsys)
    module = load_checkpoint(mnist / "checkpoints" / "last.ckpt")

    datamodule = instantiate({**module.data_config, "data_dir": str(ws.root / "data"), "verify_checksums": False})
    x_test, _ = datamodule.head("test", 60)
    namespace = {"x": x_test[:4], "x_test": x_test, "target": torch.zeros(4, dtype=torch.long)}
    monkeypatch.chdir(tmp_path)
    use, explanations, concepts = readme_blocks("python")
    exec(compile(use, "README: Use from Python", "exec"), namespace)
    out = namespace["out"]
    assert (out.logits.shape, out.concepts.shape, out.relevances.shape) == ((8, 10), (8, 5), (8, 5, 10))
    assert namespace["loss"].ndim == 0 and torch.isfinite(namespace["loss"])
    explanations = explanations.replace("outputs/mnist/<run>", str(mnist))
    exec(compile(explanations, "README: Explanations", "exec"), namespace)
    assert namespace["e"].target_relevances.shape == (4, 5)
    assert sorted(p.name for p in (tmp_path / "prototypes").glob("concept_*.npz")) == [
        f"concept_{k}.npz" for k in range(1, 6)]  # fmt: skip
    namespace["module"] = load_checkpoint(shapes / "checkpoints" / "last.ckpt")
    namespace["datamodule"] = instantiate({**namespace["module"].data_config, "num_train": 300, "num_test": 300})
    namespace["datamodule"].setup()
    exec(compile(concepts, "README: Concepts you can check", "exec"), namespace)
    q, x_shapes, y_shapes = namespace["q"], *namespace["datamodule"].splits["test"][:2]
    accuracy = (senn.explain(namespace["module"], x_shapes).prediction == y_shapes).float().mean()
    assert q.accuracy == pytest.approx(float(accuracy))  # scored on the test split, as the comment says
    assert len(q.alignment.matched_auc) == 5 and len(q.interventions.random) == 5 + 1  # per true concept; 0..5 set


@pytest.mark.parametrize("name", sorted(available()))
def test_evaluate_every_pretrained_model_whose_data_is_here(name, tmp_path, capsys, monkeypatch):
    """``ckpt_path=pretrained:<name>`` in senn-evaluate, on the real data (breast cancer ships with
    scikit-learn; MNIST and COMPAS where ``$SENN_DATA_DIR`` has them)."""
    if name != "breast_cancer" and shared_data_dir() is None:
        pytest.skip(f"the real {name} data is not here (set SENN_DATA_DIR)")
    if shared_data_dir() is not None:
        monkeypatch.setenv("SENN_DATA_DIR", str(shared_data_dir()))
    monkeypatch.setenv("WANDB_MODE", "disabled")
    result = run_command(["senn-evaluate", f"ckpt_path=pretrained:{name}", "num_examples=8", "stability.budget=2",
                          "prototypes.num_examples=30", "prototypes.feature_vis_steps=4", "examples_to_plot=1",
                          f"hydra.run.dir={tmp_path}"], tmp_path, capsys)  # fmt: skip
    assert result.code == 0, result.err[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["methods"]["senn"]["accuracy"] >= 0.5 and (tmp_path / "explanation_1.png").exists()


def test_console_scripts_are_the_entry_points():
    """Each installed script calls the function these tests run (the pyproject's [project.scripts])."""
    from importlib.metadata import entry_points

    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts") if ep.value.startswith("senn.")}
    assert scripts == {"senn-train": "senn.cli.train:main", "senn-evaluate": "senn.cli.evaluate:main",
                       "senn-explain": "senn.cli.explain:main", "senn-name-concepts": "senn.cli.name_concepts:main",
                       "senn-sweep-summary": "senn.cli.sweep_summary:main",
                       "senn-explore": "senn.cli.explore:main"}  # fmt: skip
    for name in scripts:
        assert os.access(Path(sys.executable).parent / name, os.X_OK), name
