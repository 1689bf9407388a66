"""Fault injection: interrupted runs resume losslessly, NaNs stop training cleanly, writes are atomic,
same seed means same run, and an unreachable wandb server never blocks a run."""

from __future__ import annotations

import csv
import os
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

from senn.config import config_dir
from senn.training import load_checkpoint, train
from senn.training.checkpoint import AtomicCheckpointIO
from senn.training.train import wandb_reachable_or_offline
from tests.cli.test_senn_train import SMALL

# Long enough epochs (~1 s) to be killed in the middle of one.
RUN = [*SMALL, "data.num_samples=3000", "data.batch_size=20", "trainer.max_epochs=3", "logger=csv",
       "callbacks.early_stopping.patience=100"]  # fmt: skip
SCRIPT = Path(sys.executable).parent / "senn-train"
ENV = {**os.environ, "WANDB_MODE": "disabled", "PYTHONUNBUFFERED": "1"}


def start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([str(SCRIPT), *RUN, f"hydra.run.dir={out}", *extra], cwd=out.parent, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def finish(process: subprocess.Popen) -> str:
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return err


def test_metrics(out: Path) -> dict[str, str]:
    with open(sorted((out / "csv").glob("version_*/metrics.csv"))[-1]) as f:
        return next(row for row in csv.DictReader(f) if row.get("test/acc"))


test_metrics.__test__ = False  # a helper, not a test


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    finish(start(out))
    return out


def interrupt_mid_epoch(out: Path, sig: signal.Signals) -> tuple[int, str]:
    """Start a run and send ``sig`` once the first epoch's checkpoint exists and the next epoch is under way."""
    process = start(out)
    deadline = time.time() + 300
    while not (out / "checkpoints" / "last.ckpt").exists():
        assert process.poll() is None and time.time() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.05)
    time.sleep(0.2)  # into the second epoch
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_interrupted_run_resumes_to_the_same_result(sig, uninterrupted, tmp_path):
    out = tmp_path / "run"
    code, err = interrupt_mid_epoch(out, sig)
    assert code == (-9 if sig == signal.SIGKILL else 143)
    if sig == signal.SIGTERM:
        assert "ckpt_path=last" in err  # says how to resume
    for checkpoint in (out / "checkpoints").glob("*.ckpt"):  # whatever the kill interrupted, nothing is corrupt
        load_checkpoint(checkpoint)
    assert not list((out / "checkpoints").glob(".*.tmp")) or sig == signal.SIGKILL
    finish(start(out, "ckpt_path=last"))
    # Bitwise: the data order depends only on (seed, epoch) and the RNG state travels in the checkpoint.
    assert test_metrics(out) == test_metrics(uninterrupted)
    reference, resumed = (
        weights(uninterrupted / "checkpoints" / "last.ckpt"),
        weights(out / "checkpoints" / "last.ckpt"),
    )
    assert all(torch.equal(reference[k], resumed[k]) for k in reference)


def compose_small(tmp_path: Path, *extra: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("train", overrides=[*SMALL, "logger=none", f"output_dir={tmp_path}", *extra])


def test_same_seed_same_run(tmp_path):
    runs = [train(compose_small(tmp_path / str(i))) for i in range(2)]
    assert runs[0] == runs[1]
    a, b = (weights(tmp_path / str(i) / "checkpoints" / "last.ckpt") for i in range(2))
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = train(compose_small(tmp_path / "other", "seed=1"))
    assert other != runs[0]


def test_resuming_from_a_malicious_checkpoint_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return Path.touch, (marker,)

    train(compose_small(tmp_path / "run"))
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
