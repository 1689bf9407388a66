"""Losses of the SENN objective: prediction, concept reconstruction + sparsity, and robustness."""

from senn.losses.objectives import classification_loss, concept_loss, reconstruction_loss, sparsity_loss
from senn.losses.robustness import (
    ESTIMATORS,
    PENALTIES,
    SPACES,
    published_robustness_loss,
    relative_relevance_variation,
    robustness_loss,
    robustness_residual_norm,
)

__all__ = [
    "ESTIMATORS",
    "PENALTIES",
    "SPACES",
    "classification_loss",
    "concept_loss",
    "published_robustness_loss",
    "reconstruction_loss",
    "relative_relevance_variation",
    "robustness_loss",
    "robustness_residual_norm",
    "sparsity_loss",
]
