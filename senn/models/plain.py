"""A plain network (classifier or regressor), the baseline the post-hoc explainers are evaluated on."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class PlainNetwork(nn.Module):
    """A plain network of the same size as a SENN's parametrizer: ``logits(x) = net(x)``.

    ``network`` is any parametrizer (output (B, 1, C)) built with ``num_concepts=1``, so the baseline
    has the SENN's θ architecture with a C-wide instead of a K·C-wide last layer.

    Args:
        network: a module mapping inputs to (B, 1, C) or (B, C).
        task: ``"multiclass"``, ``"binary"`` (one logit) or ``"regression"``.
    """

    class_names: list[str] | None = None
    """A name per class (binary: the negative, then the positive class)."""
    feature_names: list[str] | None = None
    """A name per input feature of tabular data."""
    preprocessor: Any = None
    """A table's :class:`~senn.data.preprocessing.TablePreprocessor`, when trained on one."""

    def __init__(self, network: nn.Module, task: str = "multiclass") -> None:
        super().__init__()
        self.network = network
        self.task = task
        shape = getattr(network, "input_shape", None)
        self.input_shape: tuple[int, ...] | None = tuple(shape) if shape is not None else None
        self.num_classes: int | None = getattr(network, "num_classes", None)
        if getattr(network, "num_concepts", 1) != 1:
            raise ValueError(f"PlainNetwork: the network must have num_concepts=1, got {network.num_concepts}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, C)."""
        out = self.network(x)
        return out.flatten(1)  # (B, 1, C) -> (B, C)
