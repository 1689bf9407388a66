"""Explanation-quality evaluation of trained models: the ``evaluate(cfg)`` behind ``senn-evaluate``."""

from senn.evaluation.evaluate import evaluate
from senn.evaluation.report import write_report

__all__ = ["evaluate", "write_report"]
