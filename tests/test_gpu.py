"""What a CUDA GPU computes, against the CPU: ``make test-gpu`` on a machine with one.

Each test computes its CPU half first (so it runs everywhere) and then, without a GPU, skips naming what it
would compare. On a GPU the comparisons are recorded in ``REPORT``, which the session prints as a table.
TF32 is turned off for the comparisons: with it, CUDA matrix products round to 10-bit mantissas.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from senn.losses import robustness_loss
from senn.runs import train
from tests.conftest import SMALL, compose_train, make_model, run_command
from tests.runs.test_reliability import interrupted, weights

pytestmark = pytest.mark.gpu

REPORT: list[tuple[str, float, str]] = []
"""(what was compared, the largest difference seen, the tolerance): printed at the end of the session."""

OUTPUTS = {"rtol": 1e-4, "atol": 1e-5}
"""Forward outputs and deterministic robustness estimates, float32."""
PROJECTION = {"rtol": 0.05, "atol": 1e-5}
"""The projection estimator draws its random vectors on each device: 4096 projections agree to 5 %."""
LOSSES = {"rtol": 1e-3, "atol": 1e-5}
"""50 training steps: rounding differences grow through the optimizer's updates."""


def on_gpu_or_skip(what: str) -> torch.device:
    """The CUDA device, or a skip that says what would have been compared."""
    if not torch.cuda.is_available():
        pytest.skip(f"no CUDA GPU here: would compare {what}")
    return torch.device("cuda")


def record(what: str, expected: torch.Tensor, got: torch.Tensor, tolerance: dict[str, float]) -> None:
    """Assert ``got`` (GPU) is within ``tolerance`` of ``expected`` (CPU) and record the comparison."""
    got = got.detach().cpu()
    torch.testing.assert_close(got, expected.detach(), **tolerance, msg=lambda m: f"{what}: {m}")
    REPORT.append((what, float((got - expected.detach()).abs().max()), f"rtol {tolerance['rtol']:g}"))


@pytest.fixture(autouse=True)
def no_tf32() -> Iterator[None]:
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("kind", ["conv", "mlp", "identity"])
def test_outputs_and_robustness_estimators_match_the_cpu(kind):
    model, x = make_model(kind)
    model, x = model.float(), x.float()
    expected = {"logits, concepts, relevances": torch.cat([t.flatten(1) for t in model(x)[:3]], 1)}
    for estimator in ("exact", "jacobian"):
        expected[f"robustness ({estimator})"] = robustness_loss(model, x, estimator)
    expected["robustness (projection)"] = robustness_loss(model, x, "projection", num_projections=4096)
    assert all(torch.isfinite(v).all() for v in expected.values())
    device = on_gpu_or_skip(f"the {kind} SENN's {', '.join(expected)} with the CPU's")
    model, x = model.to(device), x.to(device)
    got = {"logits, concepts, relevances": torch.cat([t.flatten(1) for t in model(x)[:3]], 1)}
    for estimator in ("exact", "jacobian"):
        got[f"robustness ({estimator})"] = robustness_loss(model, x, estimator)
    got["robustness (projection)"] = robustness_loss(model, x, "projection", num_projections=4096)
    for what, value in expected.items():
        record(f"{kind}: {what}", value, got[what], PROJECTION if "projection" in what else OUTPUTS)


class LossHistory(pl.Callback):
    """Writes every training step's loss to ``path`` (JSON) when training ends."""

    def __init__(self, path: str) -> None:
        self.path, self.losses = Path(path), []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))

    def on_train_end(self, trainer, pl_module) -> None:
        self.path.write_text(json.dumps(self.losses))


def fifty_steps(trainer: str, out: Path) -> torch.Tensor:
    """The losses of 50 training steps of the small synthetic SENN (exact regularizer, no dropout)."""
    cfg = compose_train([*SMALL, trainer, "logger=none", "trainer.max_epochs=7", "+trainer.max_steps=50",
                         "trainer.deterministic=true", "model.robustness_estimator=exact", "test=false",
                         f"output_dir={out}", f"+callbacks.history._target_={__name__}.LossHistory",
                         f"+callbacks.history.path={out / 'losses.json'}"])  # fmt: skip
    train(cfg)
    losses = torch.tensor(json.loads((out / "losses.json").read_text()))
    assert len(losses) == 50
    return losses


def test_fifty_training_steps_match_the_cpu(tmp_path):
    expected = fifty_steps("trainer=cpu", tmp_path / "cpu")
    assert torch.isfinite(expected).all() and expected[-1] < expected[0]
    on_gpu_or_skip("the losses of 50 training steps of the small SENN with the CPU's")
    record("50 training steps: losses", expected, fifty_steps("trainer=gpu", tmp_path / "gpu"), LOSSES)


def test_a_terminated_gpu_run_resumes_like_an_uninterrupted_one(tmp_path, capsys, monkeypatch):
    """SIGTERM mid-epoch on the GPU, then ``ckpt_path=last``: the same data order, dropout masks and (with
    deterministic kernels) the same final weights as a run that was never stopped."""
    on_gpu_or_skip("a GPU run stopped by SIGTERM and resumed with an uninterrupted GPU run (weights, bit for bit)")
    run = [*SMALL, "trainer=gpu", "trainer.deterministic=true", "trainer.max_epochs=3", "logger=none"]
    monkeypatch.setenv("WANDB_MODE", "disabled")
    reference = tmp_path / "reference"
    train(compose_train([*run, f"output_dir={reference}"]))
    out = tmp_path / "run"
    stopped = run_command(["senn-train", *run, *interrupted(signal.SIGTERM), f"hydra.run.dir={out}"], tmp_path, capsys)
    assert stopped.code == 143, stopped.err[-2000:]
    train(compose_train([*run, f"output_dir={out}", "ckpt_path=last"]))
    expected, resumed = (weights(folder / "checkpoints" / "last.ckpt") for folder in (reference, out))
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (reference, out)]
    assert {k: v for k, v in metrics[0].items() if k.startswith("test/")} == {
        k: v for k, v in metrics[1].items() if k.startswith("test/")}  # fmt: skip
    REPORT.append(("SIGTERM + resume on the GPU: final weights", 0.0, "bit for bit"))
