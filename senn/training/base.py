"""What the SENN and the plain-network LightningModules share: metrics, optimizer, checkpoint metadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from senn import tasks
from senn.data.preprocessing import TablePreprocessor

ComponentSpec = nn.Module | Mapping[str, Any]
STAGES = ("train", "val", "test")


def build(spec: ComponentSpec) -> nn.Module:
    """Return ``spec`` if it is a module, else instantiate it from its Hydra ``_target_`` config."""
    return spec if isinstance(spec, nn.Module) else instantiate(spec)


def plain(spec: Any) -> Any:
    """A config as plain Python containers, so that checkpoints hold no OmegaConf objects."""
    return OmegaConf.to_container(spec, resolve=True) if isinstance(spec, DictConfig | ListConfig) else spec


class SupervisedModule(pl.LightningModule):
    """Base of :class:`~senn.training.SENNModule` and :class:`~senn.training.PlainModule`: a model trained on
    labels, for classification or regression (the task of its ``model``).

    Subclasses build ``self.model`` (with ``task`` and ``num_classes`` attributes), then call
    :meth:`_init_metrics`. The checkpoint records the module class and the data config that
    :func:`senn.runs.train` sets as ``data_config``, so evaluation can rebuild both.
    """

    data_config: dict[str, Any] | None = None
    _preprocessing: dict[str, Any] | None = None

    @property
    def preprocessing(self) -> dict[str, Any] | None:
        """A table's fitted :class:`~senn.data.preprocessing.TablePreprocessor` as plain containers (None for
        images). Setting it also gives ``self.model.preprocessor``, which explanations use to show raw values."""
        return self._preprocessing

    @preprocessing.setter
    def preprocessing(self, state: dict[str, Any] | None) -> None:
        self._preprocessing = state
        self.model.preprocessor = TablePreprocessor.from_dict(state) if state is not None else None

    def _set_names(self, class_names: Sequence[str] | None, feature_names: Sequence[str] | None,
                   concept_names: Sequence[str] | None = None) -> None:  # fmt: skip
        """Attach the names explanations speak in to ``self.model``, after checking their counts."""
        name = type(self).__name__
        task, outputs = self.model.task, getattr(self.model, "num_classes", None)
        expected = {"class_names": tasks.num_class_names(task, outputs),
                    "concept_names": getattr(getattr(self.model, "conceptizer", None), "out_features", None),
                    "feature_names": None}  # fmt: skip
        given = {"class_names": class_names, "concept_names": concept_names, "feature_names": feature_names}
        for key, names in given.items():
            if names is not None and expected[key] is not None and len(names) != expected[key]:
                raise ValueError(
                    f"{name}: {key} has {len(names)} names, the model needs {expected[key]}"
                    + (tasks.CLASS_NAMES_ORDER.get(task, "") if key == "class_names" else "")
                )
            setattr(self.model, key, list(names) if names is not None else None)

    def _init_metrics(self) -> None:
        """One task metric per stage."""
        task, num_classes = self.model.task, getattr(self.model, "num_classes", None)
        self.metrics = nn.ModuleDict({f"{s}_metric": tasks.metric(task, num_classes) for s in STAGES})

    def _log_metrics(self, stage: str, logits: torch.Tensor, y: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        """Log the task metric (``acc`` or ``mse``), the total loss and every loss term under ``stage/``.

        Raises ``FloatingPointError`` naming the term and the step if any term is NaN or infinite:
        training stops before the optimizer step, so no checkpoint ever holds the broken weights.
        """
        for term, value in sorted(terms.items(), key=lambda item: item[0] == "loss"):  # name the term, not the sum
            if not torch.isfinite(value).all():
                kept = getattr(self.trainer.checkpoint_callback, "dirpath", None) if self._trainer else None
                raise FloatingPointError(
                    f"{stage}/{term} is {value.item()} at global step {self.global_step} (epoch {self.current_epoch}): "
                    f"training stopped before this step's update. Checkpoints written so far are intact"
                    + (f" in {kept}" if kept else "")
                    + "; lower the learning rate or the loss weights, or check the inputs for NaN/Inf."
                )
        task = self.model.task
        preds, target = tasks.metric_inputs(logits, y, task)
        metric = self.metrics[f"{stage}_metric"]
        metric(preds, target)
        on_step = stage == "train"
        name = tasks.metric_name(task)
        self.log(f"{stage}/{name}", metric, on_step=on_step, on_epoch=True, prog_bar=True)
        for term, value in terms.items():  # under DDP, every term is averaged over the processes
            self.log(f"{stage}/{term}", value.detach(), on_step=on_step, on_epoch=True, prog_bar=term == "loss",
                     sync_dist=True)  # fmt: skip

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str, batch_idx: int = 0) -> torch.Tensor:
        """The loss of one batch of ``stage``, its metrics logged."""
        raise NotImplementedError

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        """One optimization step's loss."""
        return self._step(batch, "train", batch_idx)

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        """Validation metrics."""
        self._step(batch, "val", batch_idx)

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        """Test metrics."""
        self._step(batch, "test", batch_idx)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """The configured optimizer (default Adam, lr 2e-4) over all parameters."""
        if self.hparams.get("optimizer") is None:
            return torch.optim.Adam(self.parameters(), lr=2e-4)
        return instantiate(self.hparams.optimizer)(params=self.parameters())

    def on_fit_start(self) -> None:
        """Keep a table's preprocessing, fitted in the data module's ``setup``, for the checkpoints."""
        preprocessor = getattr(self.trainer.datamodule, "preprocessor", None)
        if preprocessor is not None and self.preprocessing is None:
            self.preprocessing = preprocessor.to_dict()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Record the module class, the data it was trained on (and a table's preprocessing), and torch's RNG
        states, the CPU's and each visible CUDA device's (so that a resumed run draws the same dropout masks
        as an uninterrupted one)."""
        rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint["senn"] = {"module": type(self).__name__, "data": self.data_config, "rng": rng,
                              "preprocessing": self.preprocessing}  # fmt: skip

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore torch's RNG states when resuming (CUDA states only onto as many devices as were saved)."""
        rng = (checkpoint.get("senn") or {}).get("rng")
        if rng is None:
            return
        if not isinstance(rng, dict):
            raise ValueError("this checkpoint keeps its random-number state in an early 0.1.0 build's format, which "
                             "cannot be resumed; load it with senn.checkpoints.load_checkpoint instead")  # fmt: skip
        torch.set_rng_state(rng["cpu"])
        cuda = rng.get("cuda")
        if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
