"""The checkpoint callback: Lightning's, with ``last.ckpt`` written at the end of every epoch."""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint


class EveryEpochCheckpoint(ModelCheckpoint):
    """:class:`~pytorch_lightning.callbacks.ModelCheckpoint` whose ``last.ckpt`` (``save_last=True``) holds
    the end of every epoch, whether or not the monitored metric improved.

    Lightning itself writes ``last.ckpt`` only when it also writes a top-k checkpoint, so a run whose
    last epochs do not improve ends with ``last.ckpt`` at its best epoch: the final weights are lost
    and a resume redoes the later epochs. Arguments are ``ModelCheckpoint``'s.
    """

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Lightning's save, then ``last.ckpt`` if it skipped it (when checkpoints are taken after training)."""
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_skipped(trainer)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Lightning's save, then ``last.ckpt`` if it skipped it (when checkpoints are taken after validation)."""
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_skipped(trainer)

    def _save_last_if_skipped(self, trainer: pl.Trainer) -> None:
        """Write ``last.ckpt`` unless a checkpoint of this step exists (or the trainer is not fitting)."""
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
