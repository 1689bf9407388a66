"""Explanation-quality metrics (faithfulness, stability) and concept-quality metrics against ground truth."""

from senn.metrics.faithfulness import concept_faithfulness, feature_faithfulness, pearson
from senn.metrics.ground_truth import (
    ConceptAlignment,
    DCIScores,
    concept_alignment,
    concept_completeness,
    dci,
    niche_impurity,
    oracle_impurity,
)
from senn.metrics.interventions import InterventionCurve, intervention_curve, intervention_plan, intervention_values
from senn.metrics.stability import (
    Explainer,
    concept_lipschitz,
    local_lipschitz,
    normalized,
    senn_explainer,
    senn_input_explainer,
)
from senn.tasks import class_probability

__all__ = [
    "ConceptAlignment",
    "DCIScores",
    "Explainer",
    "InterventionCurve",
    "class_probability",
    "concept_alignment",
    "concept_completeness",
    "concept_faithfulness",
    "concept_lipschitz",
    "dci",
    "feature_faithfulness",
    "intervention_curve",
    "intervention_plan",
    "intervention_values",
    "local_lipschitz",
    "niche_impurity",
    "normalized",
    "oracle_impurity",
    "pearson",
    "senn_explainer",
    "senn_input_explainer",
]
