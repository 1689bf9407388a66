"""Per-epoch validation metrics, kept in the checkpoint, so that every objective comes from one epoch."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl


class MetricHistory(pl.Callback):
    """Records the ``val/*`` metrics of every validation epoch (``records[i]`` has an ``epoch`` key).

    The records travel in the checkpoint (a callback ``state_dict``), so a resumed run still knows its
    earlier epochs. ``train()`` reads the best epoch's record: a sweep's objectives are then values one
    model had, not the best accuracy next to the last epoch's robustness term.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, float]] = []

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Record this epoch's validation metrics (replacing an earlier record of the same epoch)."""
        if trainer.sanity_checking:
            return
        record = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        self.records = [r for r in self.records if r["epoch"] != trainer.current_epoch]
        self.records.append({"epoch": trainer.current_epoch, **record})

    def best(self, monitor: str, mode: str) -> dict[str, float] | None:
        """The record of the first epoch with the best ``monitor`` (as the checkpoint callback picks it)."""
        scored = [r for r in self.records if monitor in r and not math.isnan(r[monitor])]
        if not scored:
            return None
        sign = 1.0 if mode == "max" else -1.0
        return max(scored, key=lambda r: (sign * r[monitor], -r["epoch"]))

    def state_dict(self) -> dict[str, Any]:
        """The records, saved with every checkpoint."""
        return {"records": self.records}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the records of a resumed run."""
        self.records = list(state_dict["records"])
