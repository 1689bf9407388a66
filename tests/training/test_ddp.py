"""trainer=ddp: 2 CPU processes (gloo) train, log and checkpoint once, and match one process."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_senn_train import SMALL

SCRIPT = Path(sys.executable).parent / "senn-train"


def run(out: Path, *extra: str) -> dict[str, float]:
    result = subprocess.run(
        [str(SCRIPT), *SMALL, "logger=csv", f"hydra.run.dir={out}", *extra],
        cwd=out.parent, env={**os.environ, "WANDB_MODE": "disabled"}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    versions = list((out / "csv").glob("version_*"))
    assert len(versions) == 1, versions  # one logger, on rank zero
    with open(versions[0] / "metrics.csv") as f:
        row = next(r for r in csv.DictReader(f) if r.get("test/acc"))
    return {k: float(v) for k, v in row.items() if k.startswith("test/") and v}


def test_two_processes_match_one_with_half_the_batch_each(tmp_path):
    single = run(tmp_path / "single", "data.batch_size=50")
    ddp = run(tmp_path / "ddp", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "data.batch_size=25")
    # The processes' batches together are the single process's batches and DDP averages their gradients,
    # so the runs agree up to floating-point summation order (the robustness term included).
    assert ddp.keys() == single.keys()
    for name, value in single.items():
        assert ddp[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    checkpoints = sorted(p.name for p in (tmp_path / "ddp" / "checkpoints").iterdir())
    assert len(checkpoints) == 2 and "last.ckpt" in checkpoints  # best + last, written once
