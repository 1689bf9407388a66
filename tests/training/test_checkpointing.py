"""``last.ckpt`` holds the end of every epoch, also of epochs that did not improve the monitored metric."""

from __future__ import annotations

import torch

from senn.training import train
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
