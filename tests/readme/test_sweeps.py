"""The README's sweeps as a user runs them: the grid and its summary, the Bayesian search, DDP, SLURM (the
rest of the README contract: tests/readme/test_commands.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pytest
import yaml
from hydra import compose, initialize_config_dir

from senn.config import config_dir
from tests.readme.workspace import COMMANDS_BY_NAME, check, first


@check(COMMANDS_BY_NAME["grid"])
def test_grid_sweep(ws, capsys):
    sweep = ws.sweep_folder(COMMANDS_BY_NAME["grid"], capsys)
    runs = sorted(sweep.glob("*/metrics.json"))
    assert len(runs) == 15  # 5 values of λ x 3 seeds, each in its own folder
    swept = {tuple(yaml.safe_load((p.parent / ".hydra" / "overrides.yaml").read_text())[1:3]) for p in runs}
    assert len(swept) == 15


@check(first("senn-sweep-summary multirun/mnist/<time>"))
def test_sweep_summary(ws, capsys):
    result = ws.run(first("senn-sweep-summary multirun/mnist/<time>"), capsys)
    summary = ws.sweep_folder(COMMANDS_BY_NAME["grid"], capsys) / "summary"
    assert "senn-sweep-summary finished (15 runs)" in result.out
    runs = json.loads((summary / "runs.json").read_text())
    assert len(runs) == 15 and all(r["stability"] > 0 and -1 <= r["faithfulness"] <= 1 for r in runs)
    table = [line for line in (summary / "summary.md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 5  # the header, then one row per λ (mean ± std over the 3 seeds)
    assert (summary / "tradeoff.png").exists() and (summary / "pareto.png").exists()


@check(first("senn-train -m experiment=compas hparams_search=stability_tradeoff"))
def test_bayesian_search(ws, capsys):
    ws.run(first("senn-train -m experiment=compas hparams_search=stability_tradeoff"), capsys)
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(ws.root / "optuna_compas.journal")))  # fmt: skip
    study = optuna.load_study(study_name="senn_compas_tradeoff", storage=storage)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert all(len(t.values) == 2 for t in study.trials)  # (val/acc, val/robustness_loss): a Pareto front
    (sweep,) = (ws.root / "multirun" / "compas").iterdir()
    assert yaml.safe_load((sweep / "optimization_results.yaml").read_text())["trials"] == 2


@check(first("senn-train experiment=mnist trainer=ddp trainer.devices=2"))
def test_ddp_matches_one_process(ws, capsys):
    """Two processes with half the batch each train, log and checkpoint once, and test like one process with
    the whole batch (the same preset run here; up to floating-point summation order)."""
    command = first("senn-train experiment=mnist trainer=ddp trainer.devices=2")
    result = ws.run(command, capsys)
    assert result.out.count("senn-train finished") == 1  # rank zero summarizes
    run = Path(re.search(r"run folder:\s+(\S+)", result.out)[1])
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch_000.ckpt", "last.ckpt"]
    single = ws.execute(["senn-train", "experiment=mnist", "debug=default", "data.verify_checksums=false",
                         "model.parametrizer.dropout=0", "hydra.run.dir=outputs/single"], capsys)  # fmt: skip
    assert single.code == 0, single.err[-3000:]
    ddp, one = (json.loads((folder / "metrics.json").read_text()) for folder in (run, ws.root / "outputs" / "single"))
    ddp, one = ({k: v for k, v in m.items() if k.startswith("test/")} for m in (ddp, one))
    assert ddp.keys() == one.keys() and "test/robustness_loss" in ddp
    for name, value in one.items():
        assert ddp[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name


@check(first("senn-train -m hydra/launcher=slurm"))
def test_slurm_sweep_config(ws, capsys):
    """No cluster here: the command's config asks submitit for the promised SLURM job shape."""
    words = ws.arguments(first("senn-train -m hydra/launcher=slurm"), capsys)
    overrides = [w.split(",")[0] if w.startswith("seed=") else w for w in words[2:]]  # one point of the sweep
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher") and launcher.partition == "debug"
    assert (launcher.tasks_per_node, launcher.nodes) == (4, 2) == (cfg.trainer.devices, cfg.trainer.num_nodes)
    assert cfg.trainer.strategy == "ddp"
