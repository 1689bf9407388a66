"""`senn-train` end to end, from another directory, with wandb offline (the installed script itself runs in
tests/readme/test_sweeps.py's trainer=ddp command)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import torch

from senn.data import SyntheticDataModule
from senn.training import SENNModule
from tests.conftest import SMALL, run_command


def accuracy_of(checkpoint: Path) -> float:
    """Test accuracy of a reloaded checkpoint on the synthetic test split."""
    module = SENNModule.load_from_checkpoint(checkpoint)
    dm = SyntheticDataModule(num_samples=400, batch_size=50)
    dm.setup()
    x, y = dm.splits["test"]
    with torch.no_grad():
        return float((module.model.eval()(x).logits.argmax(1) == y).float().mean())


def test_senn_train_writes_checkpoints_and_logs_offline(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    result = run_command(["senn-train", *SMALL, "logger=[wandb,csv]", f"hydra.run.dir={out}"], tmp_path, capsys)
    assert result.code == 0, result.err[-3000:]
    # the closing summary, on the console and in the run's log file
    summary = result.out[result.out.index("senn-train finished") :]
    assert f"run folder:      {out}" in summary and "stopped:         max_epochs=3 reached (last epoch 2)" in summary
    assert f"best checkpoint: {out / 'checkpoints' / 'epoch_'}" in summary and "test:            acc " in summary
    assert "senn-train finished" in next(out.glob("*.log")).read_text()
    assert "Tip:" not in result.out + result.err  # Lightning's advertising
    assert (out / ".hydra" / "config.yaml").exists()
    assert (out / "checkpoints" / "last.ckpt").exists()
    assert list((out / "wandb").glob("offline-run-*")), "no offline wandb run"
    best = [p for p in (out / "checkpoints").glob("epoch_*.ckpt")]
    assert len(best) == 1
    with open(next((out / "csv").glob("version_*/metrics.csv"))) as f:
        logged = [row for row in csv.DictReader(f) if row.get("test/acc")]
    # the reloaded best checkpoint predicts exactly what was tested
    assert accuracy_of(best[0]) == pytest.approx(float(logged[-1]["test/acc"]), abs=1e-6)


def test_train_returns_the_best_monitored_value_and_test_metrics(small_run):
    metrics, run = small_run
    assert metrics["test/acc"] > 0.5  # 3 classes: well above chance after 3 epochs
    assert metrics["val/acc"] == json.loads((run / "metrics.json").read_text())["val/acc"]  # the best epoch's
    assert {"val/acc", "test/robustness_loss", "test/loss"} <= set(metrics)


def test_a_refused_table_gets_one_message_and_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    """Every data problem in one message on stderr, no traceback, exit 1, and no output folder left."""
    table = tmp_path / "t.csv"
    table.write_text("a,b,empty,y\n1,x,,0\n2,y,,1\n3,z,,0\n4,x,,1\n5,y,,0\n6,z,,1\n")
    out = tmp_path / "run"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    result = run_command(["senn-train", "experiment=tabular", f"data.path={table}", "data.target=label",
                          "data.drop=[nope]", f"hydra.run.dir={out}"], tmp_path, capsys)  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err
    assert "no target column 'label' (data.target); the columns are ['a', 'b', 'empty', 'y']" in result.err
    assert "data.drop names columns the table does not have: ['nope']" in result.err  # listed together
    assert not out.exists()


def test_missing_data_is_named_before_a_logger_starts_and_leaves_no_run_folder(tmp_path, capsys, monkeypatch):
    """Data that is not there stops the run before wandb creates its offline run in the run folder."""
    out = tmp_path / "run"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    empty = tmp_path / "empty"
    argv = ["senn-train", "experiment=mnist", f"data.data_dir={empty}", "data.download=false", "logger=wandb"]
    result = run_command([*argv, f"hydra.run.dir={out}"], tmp_path, capsys)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"MNIST data not found: expected {empty / 'MNIST' / 'raw'}" in result.err
    assert not out.exists()


def test_a_missing_extra_is_named_before_hydra_starts(monkeypatch):
    from senn.cli import train as cli

    assert cli.missing_extra(["hparams_search=stability_tradeoff", "hydra/launcher=local"]) is None  # installed here
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: None)  # as in a core install
    assert cli.missing_extra(["experiment=mnist", "hydra/launcher=slurm"]) == (
        "senn-train: hydra/launcher=slurm needs the slurm extra: pip install 'senn[slurm]'")  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["senn-train", "-m", "hparams_search=stability_tradeoff"])
    with pytest.raises(SystemExit, match=r"needs the search extra: pip install 'senn\[search\]'"):
        cli.main()
