"""What a finished ``senn-train`` run says about itself: why it stopped, and its closing summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping


def stop_reason(trainer: pl.Trainer, callbacks: list[pl.Callback]) -> str:
    """Why ``trainer.fit`` ended, for a person: early stopping (when and why) or the epoch / step limit."""
    stopper = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
    if stopper is not None and stopper.stopped_epoch > 0:
        return (f"early stopping after epoch {stopper.stopped_epoch}: {stopper.monitor} had not improved for "
                f"{stopper.patience} validation epochs")  # fmt: skip
    if trainer.max_epochs is not None and trainer.max_epochs >= 0 and trainer.current_epoch >= trainer.max_epochs:
        return f"max_epochs={trainer.max_epochs} reached"
    if trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps:
        return f"max_steps={trainer.max_steps} reached"
    return f"stopped after epoch {trainer.current_epoch - 1} (max_time or another limit)"


def run_summary(output_dir: str | Path, monitor: str, record: dict[str, Any]) -> str:
    """senn-train's closing lines from a run's ``metrics.json`` record: where everything went, the best
    checkpoint and its epoch, why training stopped, the test metrics. Epochs count from 0 as in the
    checkpoint file names."""
    lines = [f"run folder:      {output_dir}", f"stopped:         {record['stop_reason']} (last epoch "
             f"{record['last_epoch']})"]  # fmt: skip
    if record.get("best_checkpoint"):
        score = f", {monitor} {record[monitor]:.4g}" if monitor in record else ""
        lines.append(f"best checkpoint: {record['best_checkpoint']} (epoch {record['best_epoch']}{score})")
    last = Path(output_dir) / "checkpoints" / "last.ckpt"
    if last.is_file():
        lines.append(f"last checkpoint: {last}")
    tests = {k.removeprefix("test/"): v for k, v in record.items() if k.startswith("test/")}
    if tests:
        lines.append("test:            " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(tests.items())))
    lines.append(f"metrics:         {Path(output_dir) / 'metrics.json'}")
    return "senn-train finished\n  " + "\n  ".join(lines)
