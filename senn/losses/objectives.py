"""Prediction and concept losses of the SENN objective ``L_y + λ L_θ + ξ L_h``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from senn import tasks


def classification_loss(logits: torch.Tensor, targets: torch.Tensor, task: str = "multiclass") -> torch.Tensor:
    """The prediction loss L_y: cross-entropy (multiclass), binary cross-entropy on one logit, or MSE.

    Args:
        logits: (B, C) model outputs.
        targets: class indices (B,) for ``multiclass``; 0/1 labels (B,) or (B, 1) for ``binary``;
            values (B,) or (B, C) for ``regression``.
        task: ``"multiclass"``, ``"binary"`` or ``"regression"``.
    """
    return tasks.loss(logits, targets, task)


def reconstruction_loss(reconstruction: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """Mean squared reconstruction error of the concept autoencoder; 0 when there is no decoder."""
    if reconstruction is None:
        return x.new_zeros(())
    return F.mse_loss(reconstruction, x)


def sparsity_loss(concepts: torch.Tensor) -> torch.Tensor:
    """Batch mean of the L1 norm of the concepts, ``mean_b ||h(x_b)||_1``."""
    return concepts.abs().sum(1).mean()


def concept_loss(concepts: torch.Tensor, targets: torch.Tensor, probabilities: bool = False) -> torch.Tensor:
    """Binary cross-entropy of the first M concepts against annotations (B, M); NaN annotations are skipped.

    Args:
        concepts: (B, K) concept activations, K >= M; the first M are supervised, the rest stay free.
        targets: (B, M) annotations in {0, 1}, NaN where an example's annotation is withheld.
        probabilities: the concepts are probabilities (a sigmoid activation); otherwise they are read
            as logits (positive: present).

    Returns 0 when no annotation in the batch is known.
    """
    if targets.shape[1] > concepts.shape[1]:
        raise ValueError(
            f"concept_loss: {targets.shape[1]} annotated concepts but the model has only {concepts.shape[1]}; "
            "set num_concepts >= the number of annotated concepts"
        )
    known = ~torch.isnan(targets)  # (B, M)
    if not known.any():
        return concepts.new_zeros(())
    predicted, target = concepts[:, : targets.shape[1]][known], targets[known].to(concepts.dtype)
    if probabilities:
        return F.binary_cross_entropy(predicted.clamp(1e-6, 1 - 1e-6), target)
    return F.binary_cross_entropy_with_logits(predicted, target)
