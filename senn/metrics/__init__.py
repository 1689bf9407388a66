"""Explanation-quality metrics: faithfulness and stability, batched over inputs."""

from senn.metrics.faithfulness import class_probability, concept_faithfulness, feature_faithfulness, pearson
from senn.metrics.stability import concept_lipschitz, local_lipschitz, max_normalised, senn_explainer

__all__ = [
    "class_probability",
    "concept_faithfulness",
    "concept_lipschitz",
    "feature_faithfulness",
    "local_lipschitz",
    "max_normalised",
    "pearson",
    "senn_explainer",
]
