"""Aggregators g(h, θ): combine concepts and relevances into the model's output."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Task = Literal["multiclass", "binary", "regression"]
TASKS: tuple[str, ...] = ("multiclass", "binary", "regression")


class SumAggregator(nn.Module):
    """The paper's aggregator, ``logits_c = Σ_k θ_kc · h_k``.

    The task says how the outputs are read: ``multiclass`` logits go through softmax /
    cross-entropy, ``binary`` has one output read through a sigmoid, ``regression`` outputs are
    the predictions themselves (one per target).

    Args:
        num_classes: C, the number of outputs (must be 1 for ``binary``).
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``.
    """

    def __init__(self, num_classes: int, task: Task = "multiclass") -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"SumAggregator: task={task!r} is not one of {TASKS}")
        if task == "binary" and num_classes != 1:
            raise ValueError(f"SumAggregator: a binary task has one output, got num_classes={num_classes}; set it to 1")
        if task == "multiclass" and num_classes < 2:
            raise ValueError(f"SumAggregator: multiclass needs num_classes >= 2, got {num_classes}; use task=binary")
        self.num_classes = num_classes
        self.task = task

    def forward(self, concepts: torch.Tensor, relevances: torch.Tensor) -> torch.Tensor:
        """Aggregate concepts (B, K) and relevances (B, K, C) into logits (B, C)."""
        return torch.einsum("bk,bkc->bc", concepts, relevances)
