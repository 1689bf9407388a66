"""``last.ckpt`` holds the end of every epoch, also of epochs that did not improve the monitored metric."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from senn.runs import train
from senn.runs.validation import ConfigError
from tests.conftest import SMALL, compose_train


def test_last_checkpoint_is_the_final_epoch_even_without_improvement(tmp_path):
    # lr 1e-12: validation accuracy never changes, so only epoch 0 "improves" and gets a top-k checkpoint
    overrides = [*SMALL, "logger=none", "model.optimizer.lr=1e-12", "trainer.max_epochs=4",
                 "callbacks.early_stopping.patience=10", f"output_dir={tmp_path}"]  # fmt: skip
    train(compose_train(overrides))
    folder = tmp_path / "checkpoints"
    assert sorted(p.name for p in folder.glob("epoch_*.ckpt")) == ["epoch_000.ckpt"]
    last = torch.load(folder / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 3 and last["global_step"] == 4 * 8  # 4 epochs of 8 batches (360 rows, batch 50)
    resumed = tmp_path / "resumed"
    train(compose_train([*overrides[:-2], "trainer.max_epochs=5", f"ckpt_path={folder / 'last.ckpt'}",
                         f"output_dir={resumed}"]))  # fmt: skip
    again = torch.load(resumed / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert again["epoch"] == 4 and again["global_step"] == 5 * 8  # only the one new epoch was trained


def test_ckpt_path_last_resumes_the_run_folder_or_says_why_not(tmp_path):
    run = tmp_path / "task" / "run"
    overrides = [*SMALL, "logger=none", "trainer.max_epochs=2", f"output_dir={run}"]
    train(compose_train(overrides))
    with pytest.raises(ConfigError, match=r"already finished after 2 epochs \(it trained all 2 epochs\)"):
        train(compose_train([*overrides, "ckpt_path=last"]))
    with pytest.raises(ConfigError, match=rf"other has no checkpoints/last.ckpt .* hydra.run.dir={run} ckpt_path=last"):
        train(compose_train([*overrides[:-1], f"output_dir={tmp_path / 'task' / 'other'}", "ckpt_path=last"]))
    train(compose_train([*overrides[:-2], "trainer.max_epochs=3", f"output_dir={run}", "ckpt_path=last"]))
    last = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["epoch"] == 2 and last["global_step"] == 3 * 8  # resumed: one more epoch


def test_objectives_and_the_run_record_come_from_the_best_epoch(tmp_path):
    """A sweep's objectives are one epoch's values: here the robustness term is monitored (lowest at an
    early epoch) while accuracy still rises, so the last epoch's accuracy would pair numbers no model had."""
    overrides = [*SMALL, "logger=csv", "trainer.max_epochs=4", "monitor=val/robustness_loss", "monitor_mode=min",
                 "model.robustness_weight=0", "objectives=[val/acc,val/robustness_loss]",
                 f"output_dir={tmp_path}"]  # fmt: skip
    metrics = train(compose_train(overrides))
    with open(next((tmp_path / "csv").glob("version_*/metrics.csv"))) as f:
        logged = {int(r["epoch"]): r for r in csv.DictReader(f) if r.get("val/acc")}  # per-epoch, as Lightning logged
    best = min(logged, key=lambda e: float(logged[e]["val/robustness_loss"]))
    assert best < 3 and logged[best]["val/acc"] != logged[3]["val/acc"]  # the case that used to mix epochs
    assert metrics["val/acc"] == pytest.approx(float(logged[best]["val/acc"]), abs=1e-6)
    assert metrics["val/robustness_loss"] == pytest.approx(float(logged[best]["val/robustness_loss"]), abs=1e-6)
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["best_epoch"] == best and record["best_checkpoint"].endswith(f"epoch_{best:03d}.ckpt")
    assert record["last_epoch"] == 3 and record["stop_reason"] == "max_epochs=4 reached"
    assert [r["epoch"] for r in record["history"]] == [0, 1, 2, 3]


def test_an_early_stopped_run_says_so_after_testing_an_older_checkpoint(tmp_path):
    """Testing the best checkpoint reloads the early-stopping state saved with it (not stopped yet): the record
    still says the run stopped early, and when. Here the "best" epoch is the one of lowest accuracy, the first,
    and no later epoch improves on it by 10, so patience 2 stops the run after epoch 2."""
    stopping = ["callbacks.early_stopping.patience=2", "+callbacks.early_stopping.min_delta=10"]
    overrides = [*SMALL, "logger=none", "trainer.max_epochs=5", "monitor_mode=min", *stopping, f"output_dir={tmp_path}"]
    train(compose_train(overrides))
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["best_epoch"] == 0 and record["last_epoch"] == 2
    assert record["stop_reason"] == "early stopping after epoch 2: val/acc had not improved for 2 validation epochs"
