"""A Lightning callback that shows what the SENN has learned while it trains."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger

from senn.data.base import SplitDataModule
from senn.explain import explain
from senn.explain.plots import plot_explanation, plot_prototypes, save_figure
from senn.explain.prototypes import concept_prototypes
from senn.explore import write_explorer
from senn.training.module import SENNModule


class ExplanationLogger(pl.Callback):
    """Every ``every_n_epochs`` validation epochs: example explanations and concept prototypes of the
    validation data, saved as PNG under ``<default_root_dir>/explanations/epoch_<n>/`` with the explorer
    page of the validation split (``explorer.html``), and logged to wandb (the page as an HTML panel) when
    a ``WandbLogger`` is attached. Only on rank zero; a no-op for non-SENN modules.

    Args:
        every_n_epochs: how often (in epochs).
        num_examples: explained validation examples.
        prototype_pool: validation examples searched for prototypes (image data only; 0 skips them).
        k: top examples per concept.
        feature_vis_steps: optimization steps of the feature visualizations (0 skips them; they cost
            seconds per epoch).
        explorer_examples: validation examples on the explorer page (0: no page).
    """

    def __init__(
        self,
        every_n_epochs: int = 1,
        num_examples: int = 4,
        prototype_pool: int = 1000,
        k: int = 6,
        feature_vis_steps: int = 0,
        explorer_examples: int = 100,
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"ExplanationLogger: every_n_epochs={every_n_epochs} must be >= 1")
        self.every_n_epochs, self.num_examples = every_n_epochs, num_examples
        self.prototype_pool, self.k, self.feature_vis_steps = prototype_pool, k, feature_vis_steps
        self.explorer_examples = explorer_examples

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Draw, save and log the figures of this epoch."""
        epoch = trainer.current_epoch
        if trainer.sanity_checking or not trainer.is_global_zero or not isinstance(pl_module, SENNModule):
            return
        if (epoch + 1) % self.every_n_epochs:
            return
        x = self._validation_inputs(trainer, max(self.num_examples, self.prototype_pool))
        if x is None:
            return
        x = x.to(pl_module.device)
        directory = Path(trainer.default_root_dir) / "explanations" / f"epoch_{epoch:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        shown = x[: self.num_examples]
        explanation = explain(pl_module.model, shown)
        prototypes = None
        if self.prototype_pool > 0 and x.dim() == 4:
            prototypes = concept_prototypes(
                pl_module.model, x[: self.prototype_pool], self.k, 7, self.feature_vis_steps
            )
        figures = {f"explanation_{i + 1}": plot_explanation(explanation, shown, i, prototypes=prototypes)
                   for i in range(len(shown))}  # fmt: skip
        if prototypes is not None:
            figures["prototypes"] = plot_prototypes(prototypes)
        paths = [save_figure(fig, directory / f"{name}.png", dpi=90) for name, fig in figures.items()]
        page = None
        if self.explorer_examples > 0 and isinstance(trainer.datamodule, SplitDataModule):
            page = write_explorer(directory / "explorer.html", pl_module, trainer.datamodule, split="val",
                                  num_examples=self.explorer_examples, feature_vis_steps=self.feature_vis_steps,
                                  title=f"senn explorer: epoch {epoch}, validation split")  # fmt: skip
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image("explanations", [str(p) for p in paths], step=trainer.global_step,
                                 caption=[p.stem for p in paths])  # fmt: skip
                if page is not None:
                    import wandb

                    logger.experiment.log({"explorer": wandb.Html(page.read_text(encoding="utf-8"))},
                                          step=trainer.global_step)  # fmt: skip

    @staticmethod
    def _validation_inputs(trainer: pl.Trainer, n: int) -> torch.Tensor | None:
        """The first ``n`` validation inputs of a senn data module, else the first validation batch."""
        datamodule = trainer.datamodule
        if isinstance(datamodule, SplitDataModule):
            return datamodule.head("val", n)[0]
        loaders = trainer.val_dataloaders
        loader = loaders[0] if isinstance(loaders, list) else loaders
        return next(iter(loader))[0] if loader is not None else None
