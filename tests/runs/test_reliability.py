"""Fault injection: interrupted runs resume losslessly, NaNs stop training cleanly, writes are atomic,
same seed means same run, and an unreachable wandb server never blocks a run."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from senn.checkpoints import AtomicCheckpointIO, load_checkpoint
from senn.config import config_dir
from senn.runs import train
from senn.runs.train import wandb_reachable_or_offline
from tests.conftest import SMALL, run_command

RUN = [*SMALL, "trainer.max_epochs=3", "logger=csv", "callbacks.early_stopping.patience=100"]
KILL_STEP = 12
"""A global step in the middle of the second epoch (8 steps per epoch)."""


class SignalAt(pl.Callback):
    """Sends ``signal`` to its own process before training step ``step``: an interruption at a known point."""

    def __init__(self, step: int, signal: int) -> None:
        self.step, self.signal = step, signal

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signal)


def interrupted(sig: signal.Signals) -> list[str]:
    return [f"+callbacks.interrupt._target_={__name__}.SignalAt", f"+callbacks.interrupt.step={KILL_STEP}",
            f"+callbacks.interrupt.signal={int(sig)}"]  # fmt: skip


def test_metrics(out: Path) -> dict[str, str]:
    with open(sorted((out / "csv").glob("version_*/metrics.csv"))[-1]) as f:
        return next(row for row in csv.DictReader(f) if row.get("test/acc"))


test_metrics.__test__ = False  # a helper, not a test


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    train(compose_small(out, *RUN[len(SMALL) :]))
    return out


def assert_resumes_to_the_same_result(out: Path, reference: Path) -> None:
    """Nothing the interruption left is corrupt, and the resumed run ends bit for bit like the reference."""
    for checkpoint in (out / "checkpoints").glob("*.ckpt"):
        load_checkpoint(checkpoint)
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 0  # the first epoch's end
    train(compose_small(out, *RUN[len(SMALL) :], "ckpt_path=last"))
    with open(sorted((out / "csv").glob("version_*/metrics.csv"))[-1]) as f:
        trained = {row["epoch"] for row in csv.DictReader(f) if row.get("train/loss_epoch")}
    assert trained == {"1", "2"}  # resumed: the first epoch was not trained again
    # Bitwise: the data order depends only on (seed, epoch) and the RNG state travels in the checkpoint.
    assert test_metrics(out) == test_metrics(reference)
    expected, resumed = (weights(run / "checkpoints" / "last.ckpt") for run in (reference, out))
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_a_killed_run_resumes_to_the_same_result(uninterrupted, tmp_path):
    """SIGKILL mid-epoch (in a process of its own: nothing of it survives but its files)."""
    out = tmp_path / "run"
    script = Path(sys.executable).parent / "senn-train"
    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    killed = subprocess.run([str(script), *RUN, *interrupted(signal.SIGKILL), f"hydra.run.dir={out}"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert_resumes_to_the_same_result(out, uninterrupted)


def test_a_terminated_run_says_how_to_resume_and_does(uninterrupted, tmp_path, capsys, monkeypatch):
    """SIGTERM (a scheduler's preemption) mid-epoch: exit status 143, the resume command, then the same result."""
    out = tmp_path / "run"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    result = run_command(["senn-train", *RUN, *interrupted(signal.SIGTERM), f"hydra.run.dir={out}"], tmp_path, capsys)
    assert result.code == 143 and f"hydra.run.dir={out} ckpt_path=last" in result.err
    assert not list((out / "checkpoints").glob(".*.tmp"))  # no write was cut short
    assert_resumes_to_the_same_result(out, uninterrupted)


def compose_small(tmp_path: Path, *extra: str):
    """The small synthetic run's config, writing into ``tmp_path`` (``extra`` overrides last)."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("train", overrides=[*SMALL, "logger=none", f"output_dir={tmp_path}", *extra])


def test_same_seed_same_run(small_run, tmp_path):
    first, folder = small_run  # the same config, trained earlier in this session
    assert train(compose_small(tmp_path / "again")) == first
    a, b = (weights(run / "checkpoints" / "last.ckpt") for run in (folder, tmp_path / "again"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = train(compose_small(tmp_path / "other", "seed=1"))
    assert other != first


def test_resuming_from_a_malicious_checkpoint_is_refused(small_run, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return Path.touch, (marker,)

    shutil.copytree(small_run[1], tmp_path / "run")
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    content = torch.load(last, weights_only=True)
    content["loops"] = Payload()
    torch.save(content, last)
    with pytest.raises(Exception, match="Weights only load failed"):
        train(compose_small(tmp_path / "run", "ckpt_path=last"))
    assert not marker.exists()


class PoisonAt(pl.Callback):
    """Fills a parametrizer weight with inf before the given step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.model.parametrizer.parameters()).fill_(float("inf"))


def test_a_nan_loss_stops_training_naming_term_and_step(tmp_path, monkeypatch):
    cfg = compose_small(tmp_path)
    OmegaConf.set_struct(cfg, False)
    cfg.callbacks.poison = {"_target_": f"{__name__}.PoisonAt", "step": 12}  # epoch 0 has 8 steps
    with pytest.raises(FloatingPointError, match=r"train/classification_loss is nan at global step 12 \(epoch 1\)"):
        train(cfg)
    kept = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")  # epoch 0's checkpoint, intact and finite
    assert all(torch.isfinite(p).all() for p in kept.parameters())


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    io, path = AtomicCheckpointIO(), tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)

    def crash_midway(obj, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # the process dies while writing

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path, weights_only=True)["state_dict"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


@pytest.fixture
def silent_server():
    """A local server that accepts connections and never answers: how a blocked network looks to wandb."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.parametrize("kind", ["refused", "silent", "no_dns"])
def test_unreachable_wandb_falls_back_to_offline_quickly(kind, silent_server, monkeypatch):
    url = {"refused": "http://127.0.0.1:9", "silent": silent_server, "no_dns": "https://wandb.invalid"}[kind]
    monkeypatch.setenv("WANDB_BASE_URL", url)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    cfg = OmegaConf.create({"_target_": "pytorch_lightning.loggers.WandbLogger", "offline": False})
    start_time = time.perf_counter()
    with pytest.warns(UserWarning, match="unreachable"):
        switched = wandb_reachable_or_offline(cfg, timeout=1.0)
    assert switched.offline is True and cfg.offline is False
    assert time.perf_counter() - start_time < 5
