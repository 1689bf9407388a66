"""What a task makes of a model's outputs, decided in one place: the prediction, the probabilities, the output
column an explanation explains, the relevances of an output or of a class, and the metric's name.

A model's task is one of ``multiclass`` (C ≥ 2 logits, softmax), ``binary`` (one logit, the score of the
positive class, sigmoid) or ``regression`` (the outputs themselves). Every function is pure and keeps its
inputs' device; none detaches.
"""

from __future__ import annotations

from typing import Literal

import torch

Task = Literal["multiclass", "binary", "regression"]
TASKS: tuple[str, ...] = ("multiclass", "binary", "regression")


def predict(logits: torch.Tensor, task: str) -> torch.Tensor:
    """(B,) the prediction from (B, C) outputs: the class (0/1 for binary: the logit's sign), or for
    regression the first output."""
    if task == "multiclass":
        return logits.argmax(1)
    if task == "binary":
        return (logits[:, 0] > 0).long()
    return logits[:, 0]


def probabilities(logits: torch.Tensor, task: str) -> torch.Tensor:
    """(B, C) softmax for multiclass, the sigmoid of the one logit for binary, the outputs for regression."""
    if task == "multiclass":
        return logits.softmax(1)
    if task == "binary":
        return torch.sigmoid(logits)
    return logits


def explained_output(prediction: torch.Tensor, task: str) -> torch.Tensor:
    """(B,) the output column that explains a prediction: the predicted class's logit for multiclass, the one
    output otherwise (a binary model's logit explains both of its classes)."""
    if task == "multiclass":
        return prediction.long()
    return torch.zeros(len(prediction), dtype=torch.long, device=prediction.device)


def output_relevances(relevances: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """(B, K) the relevances θ_k,c(x) of output column ``columns[b]`` (B,) from (B, K, C) relevances."""
    b, k, _ = relevances.shape
    return relevances.gather(2, columns.view(b, 1, 1).expand(b, k, 1))[..., 0]  # (B, K)


def class_relevances(relevances: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """(B, K) each concept's relevance towards class ``classes[b]``: its output column for multiclass; for
    binary the one logit's, negated towards class 0 (θ pushes the logit up, that is away from class 0)."""
    if task == "binary":
        return relevances[..., 0] * (2 * classes.unsqueeze(1) - 1).to(relevances.dtype)
    return output_relevances(relevances, classes)


def class_probability(logits: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """p(class | x) for logits (..., C) and classes (...): softmax, or the sigmoid of the one binary logit."""
    if task == "binary":
        p1 = torch.sigmoid(logits[..., 0])
        return torch.where(classes.bool(), p1, 1 - p1)
    return logits.softmax(-1).gather(-1, classes.unsqueeze(-1))[..., 0]


def metric_name(task: str) -> str:
    """The task's metric as logged (``val/acc``, ``test/mse``, ...): accuracy, or mean squared error."""
    return "mse" if task == "regression" else "acc"
