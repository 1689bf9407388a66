"""Explanations of SENN predictions: ``explain(model, x)`` and plots of them."""

from senn.explain.explanation import Explanation, explain

__all__ = ["Explanation", "explain"]
