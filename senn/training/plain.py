"""The LightningModule that trains a plain network, the baseline explained post hoc."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from senn.losses import classification_loss
from senn.models.plain import PlainNetwork
from senn.training.base import ComponentSpec, SupervisedModule, build, plain


class PlainModule(SupervisedModule):
    """Trains a :class:`senn.models.plain.PlainNetwork` with the task loss alone.

    Same logging, checkpoints and reloading as :class:`~senn.training.SENNModule`, so a baseline goes
    through exactly the SENN's pipeline (``senn-train experiment=mnist_plain``).

    Args:
        network: the network or its config: a parametrizer with ``num_concepts=1``.
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``.
        optimizer: a partial optimizer config, as for ``SENNModule``; default Adam with lr 2e-4.
        class_names: a name per class (binary: the negative, then the positive class); from the data.
        feature_names: a name per input feature of tabular data; from the data.
    """

    def __init__(
        self,
        network: ComponentSpec,
        task: str = "multiclass",
        optimizer: Mapping[str, Any] | None = None,
        class_names: list[str] | None = None,
        feature_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["network"] if isinstance(network, torch.nn.Module) else None)
        self.hparams.update({name: plain(value) for name, value in self.hparams.items()})
        self.model = PlainNetwork(build(network), task)
        self._set_names(class_names, feature_names)
        self._init_metrics()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, C)."""
        return self.model(x)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str, batch_idx: int = 0) -> torch.Tensor:
        """The task loss and metric of one batch of ``stage``."""
        x, y, *_ = batch  # concept annotations, if the data has them, are not used
        logits = self.model(x)
        loss = classification_loss(logits, y, self.model.task)
        self._log_metrics(stage, logits, y, {"loss": loss})
        return loss
