"""`senn-evaluate` as a user runs it: one-line errors (the end-to-end run: tests/evaluation/test_evaluate.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "senn-evaluate"


def run(*overrides: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *overrides], cwd=cwd, env={**os.environ, "WANDB_MODE": "disabled"},
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_missing_checkpoint_is_one_line_without_a_traceback(tmp_path):
    result = run(f"ckpt_path={tmp_path / 'nope.ckpt'}", f"hydra.run.dir={tmp_path / 'eval'}", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"senn-evaluate: no checkpoint at {tmp_path / 'nope.ckpt'}" in result.stderr
    assert not (tmp_path / "eval").exists()  # nothing left behind
