"""Aggregators g(h, θ): combine concepts and relevances into the model's output."""

from __future__ import annotations

import torch
from torch import nn

from senn.tasks import TASKS, Task, check_outputs

__all__ = ["TASKS", "SumAggregator", "Task"]


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
        try:
            check_outputs(task, num_classes)
        except ValueError as err:
            raise ValueError(f"SumAggregator: {err}") from None
        self.num_classes = num_classes
        self.task = task

    def forward(self, concepts: torch.Tensor, relevances: torch.Tensor) -> torch.Tensor:
        """Aggregate concepts (B, K) and relevances (B, K, C) into logits (B, C)."""
        return torch.einsum("bk,bkc->bc", concepts, relevances)
