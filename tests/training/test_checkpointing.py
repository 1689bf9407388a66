"""``last.ckpt`` holds the end of every epoch, also of epochs that did not improve the monitored metric."""

from __future__ import annotations

import pytest
import torch

from senn.training import train
from senn.training.validation import ConfigError
from tests.cli.test_senn_train import SMALL
from tests.training.test_configs import compose_train


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
