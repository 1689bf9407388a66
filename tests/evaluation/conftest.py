"""Small trained checkpoints for the evaluation tests: the real mnist presets, shrunk to 1x14x14 synthetic images."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from senn.config import config_dir
from senn.evaluation import evaluate
from senn.runs import train

DATA = ["data=synthetic", "data.input_shape=[1,14,14]", "data.num_classes=3", "data.num_samples=300",
        "data.batch_size=50"]  # fmt: skip
RUN = ["logger=none", "trainer.max_epochs=2", "callbacks.progress_bar.refresh_rate=0"]
SENN = [
    "experiment=mnist",
    "model.conceptizer.num_concepts=3",
    "model.conceptizer.channels=[4,8]",
    "model.conceptizer.kernel_size=3",
    "model.parametrizer.channels=[4,8]",
    "model.parametrizer.kernel_size=3",
    "model.parametrizer.hidden_size=16",
    "model.optimizer.lr=0.01",
    "model.concept_names=[stroke,loop,bar]",
]
PLAIN = ["experiment=mnist_plain", "model.network.channels=[4,8]", "+model.network.kernel_size=3",
         "model.network.hidden_size=16", "model.optimizer.lr=0.01"]  # fmt: skip


def train_checkpoint(overrides: list[str], out: Path, data: bool = True) -> Path:
    """Train through ``train(cfg)`` (on the synthetic images unless ``data=False``) and return the best checkpoint."""
    data_overrides = DATA if data else []
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=[*overrides, *data_overrides, *RUN, f"output_dir={out}", "test=false"])
    train(cfg)
    return next((out / "checkpoints").glob("epoch_*.ckpt"))


@pytest.fixture(scope="session")
def image_checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    """(SENN checkpoint, plain-network checkpoint) trained on the same synthetic images."""
    root = tmp_path_factory.mktemp("trained")
    return train_checkpoint(SENN, root / "senn"), train_checkpoint(PLAIN, root / "plain")


FAST = ["num_examples=10", "stability.budget=3", "prototypes.num_examples=40", "prototypes.k=4",
        "prototypes.feature_vis_steps=8", "examples_to_plot=2", "explorer.num_examples=12",
        "explorer.feature_vis_steps=4"]  # fmt: skip


def evaluate_cfg(overrides: list[str]):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("evaluate", overrides=overrides)


@pytest.fixture(scope="session")
def evaluated(image_checkpoints, tmp_path_factory) -> tuple[dict, Path]:
    senn, plain = image_checkpoints
    out = tmp_path_factory.mktemp("evaluate")
    cfg = evaluate_cfg([f"ckpt_path={senn}", f"baseline_ckpt_path={plain}", f"output_dir={out}", *FAST])
    return evaluate(cfg), out
