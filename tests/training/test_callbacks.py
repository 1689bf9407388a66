"""The ExplanationLogger callback draws explanations and prototypes during training, on schedule."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl

from senn.data import SyntheticDataModule
from senn.training import SENNModule
from senn.training.callbacks import ExplanationLogger

CONCEPTIZER = {"_target_": "senn.models.ConvConceptizer", "in_channels": 1, "image_size": 12, "num_concepts": 3,
               "channels": [4, 6], "kernel_size": 3}  # fmt: skip
PARAMETRIZER = {"_target_": "senn.models.LeNetParametrizer", "in_channels": 1, "image_size": 12, "num_concepts": 3,
                "num_classes": 3, "channels": [4], "kernel_size": 3, "hidden_size": 8}  # fmt: skip


def test_figures_are_written_every_n_epochs(tmp_path):
    module = SENNModule(CONCEPTIZER, PARAMETRIZER, {"_target_": "senn.models.SumAggregator", "num_classes": 3})
    trainer = pl.Trainer(max_epochs=3, default_root_dir=tmp_path, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[ExplanationLogger(every_n_epochs=2, num_examples=2, k=3)])  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(input_shape=(1, 12, 12), num_samples=120, batch_size=40))
    epochs = sorted(p.name for p in (tmp_path / "explanations").iterdir())
    assert epochs == ["epoch_001"]  # epochs 0, 1, 2 -> only the second
    written = sorted(p.name for p in (tmp_path / "explanations" / "epoch_001").iterdir())
    assert written == ["explanation_1.png", "explanation_2.png", "prototypes.png"]


def test_schedule_must_be_positive():
    with pytest.raises(ValueError, match="every_n_epochs"):
        ExplanationLogger(every_n_epochs=0)
