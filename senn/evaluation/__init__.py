"""Explanation-quality evaluation of trained models: the ``evaluate(cfg)`` behind ``senn-evaluate``, and its results."""

from senn.evaluation.concept_quality import ConceptQuality, concept_quality
from senn.evaluation.evaluate import evaluate
from senn.evaluation.report import write_report
from senn.evaluation.results import Evaluation, MethodScores, SpaceScore, StabilitySettings, Stats

__all__ = [
    "ConceptQuality",
    "Evaluation",
    "MethodScores",
    "SpaceScore",
    "StabilitySettings",
    "Stats",
    "concept_quality",
    "evaluate",
    "write_report",
]
