"""Prediction and concept losses of the SENN objective ``L_y + λ L_θ + ξ L_h``."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, task: str = "multiclass") -> torch.Tensor:
    """The prediction loss L_y: cross-entropy (multiclass), binary cross-entropy on one logit, or MSE.

    Args:
        logits: (B, C) model outputs.
        targets: class indices (B,) for ``multiclass``; 0/1 labels (B,) or (B, 1) for ``binary``;
            values (B,) or (B, C) for ``regression``.
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``.
    """
    if task == "multiclass":
        return F.cross_entropy(logits, targets.long())
    if task == "binary":
        return F.binary_cross_entropy_with_logits(logits.squeeze(1), targets.view(-1).to(logits.dtype))
    if task == "regression":
        return F.mse_loss(logits, targets.view_as(logits).to(logits.dtype))
    raise ValueError(f"unknown task {task!r}; expected multiclass, binary or regression")


def reconstruction_loss(reconstruction: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """Mean squared reconstruction error of the concept autoencoder; 0 when there is no decoder."""
    if reconstruction is None:
        return x.new_zeros(())
    return F.mse_loss(reconstruction, x)


def sparsity_loss(concepts: torch.Tensor) -> torch.Tensor:
    """Batch mean of the L1 norm of the concepts, ``mean_b ||h(x_b)||_1``."""
    return concepts.abs().sum(1).mean()
