"""What a finished ``senn-train`` run says about itself: its record (``metrics.json``), why it stopped, its summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
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


@dataclass(frozen=True)
class RunRecord:
    """What a finished ``senn-train`` run knows about itself, as its ``metrics.json`` holds it (the metrics at
    the top level, beside the other fields)."""

    metrics: dict[str, float]
    """Every logged metric: ``val/...`` of the best epoch, ``test/...`` of the best checkpoint, ``train/...`` of
    the last epoch."""
    best_checkpoint: str
    best_epoch: int | None
    last_epoch: int
    """Epochs count from 0, as in the checkpoint file names."""
    stop_reason: str
    history: list[dict[str, float]]
    """The ``val/...`` metrics of every epoch (each with its ``epoch``)."""

    def to_dict(self) -> dict[str, Any]:
        """The ``metrics.json`` layout."""
        return {**self.metrics, **{name: getattr(self, name) for name in FIELDS}}

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read a run's ``metrics.json`` (``path`` is the file or the run folder).

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is not a ``senn-train`` run's ``metrics.json`` (e.g. an evaluation's).
        """
        path = Path(path)
        path = path / "metrics.json" if path.is_dir() else path
        data = json.loads(path.read_text())
        missing = [name for name in FIELDS if name not in data]
        if missing:
            raise ValueError(f"{path} is not a senn-train run's metrics.json: it has no {', '.join(missing)}")
        metrics = {k: v for k, v in data.items() if k not in FIELDS}
        return cls(metrics, **{name: data[name] for name in FIELDS})

    def save(self, folder: str | Path) -> Path:
        """Write ``metrics.json`` into ``folder``."""
        path = Path(folder) / "metrics.json"
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    def summary(self, output_dir: str | Path, monitor: str) -> str:
        """senn-train's closing lines: where everything went, the best checkpoint and its epoch, why training
        stopped, the test metrics."""
        lines = [f"run folder:      {output_dir}",
                 f"stopped:         {self.stop_reason} (last epoch {self.last_epoch})"]  # fmt: skip
        if self.best_checkpoint:
            score = f", {monitor} {self.metrics[monitor]:.4g}" if monitor in self.metrics else ""
            lines.append(f"best checkpoint: {self.best_checkpoint} (epoch {self.best_epoch}{score})")
        last = Path(output_dir) / "checkpoints" / "last.ckpt"
        if last.is_file():
            lines.append(f"last checkpoint: {last}")
        tests = {k.removeprefix("test/"): v for k, v in self.metrics.items() if k.startswith("test/")}
        if tests:
            lines.append("test:            " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(tests.items())))
        lines.append(f"metrics:         {Path(output_dir) / 'metrics.json'}")
        return "senn-train finished\n  " + "\n  ".join(lines)


FIELDS = tuple(f.name for f in fields(RunRecord) if f.name != "metrics")
