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
                         callbacks=[ExplanationLogger(every_n_epochs=2, num_examples=2, k=3,
                                                      feature_vis_steps=2)])  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(input_shape=(1, 12, 12), num_samples=120, batch_size=40))
    epochs = sorted(p.name for p in (tmp_path / "explanations").iterdir())
    assert epochs == ["epoch_001"]  # epochs 0, 1, 2 -> only the second
    written = sorted(p.name for p in (tmp_path / "explanations" / "epoch_001").iterdir())
    assert written == ["explanation_1.png", "explanation_2.png", "explorer.html", "prototypes.png"]
    page = (tmp_path / "explanations" / "epoch_001" / "explorer.html").read_text()
    assert "epoch 1, validation split" in page and page.count('"theta"') == 12  # the validation split's 12
    assert page.count('"feature_visualization"') == 3  # optimized inside Lightning's validation (inference mode)


def test_the_explorer_page_goes_to_wandb_as_an_html_panel(tmp_path, monkeypatch):
    """With a WandbLogger (offline here), the epoch's explorer page is logged as a wandb.Html panel."""
    import wandb
    from pytorch_lightning.loggers import WandbLogger

    monkeypatch.setenv("WANDB_MODE", "offline")
    logged = []
    module = SENNModule(CONCEPTIZER, PARAMETRIZER, {"_target_": "senn.models.SumAggregator", "num_classes": 3})
    logger = WandbLogger(save_dir=str(tmp_path), project="senn-test")
    monkeypatch.setattr(type(logger.experiment), "log", lambda self, data, **kwargs: logged.append(data))
    trainer = pl.Trainer(max_epochs=1, default_root_dir=tmp_path, logger=logger, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[ExplanationLogger(num_examples=1, prototype_pool=0,
                                                      explorer_examples=5)])  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(input_shape=(1, 12, 12), num_samples=120, batch_size=40))
    wandb.finish()
    wandb.teardown()
    panels = [entry["explorer"] for entry in logged if "explorer" in entry]
    assert len(panels) == 1 and isinstance(panels[0], wandb.Html)


def test_schedule_must_be_positive():
    with pytest.raises(ValueError, match="every_n_epochs"):
        ExplanationLogger(every_n_epochs=0)
