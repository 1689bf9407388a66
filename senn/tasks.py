"""What a task makes of a model's outputs, decided in one place: the outputs it needs, its labels' dtype, the
loss, the prediction and probabilities, the output column an explanation explains, the relevances of an
output or of a class, and the metric.

A model's task is one of ``multiclass`` (C ≥ 2 logits, softmax), ``binary`` (one logit, the score of the
positive class, sigmoid) or ``regression`` (the outputs themselves). Every function is pure and keeps its
inputs' device; none detaches.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
import torchmetrics

Task = Literal["multiclass", "binary", "regression"]
TASKS: tuple[str, ...] = ("multiclass", "binary", "regression")


def check_outputs(task: str, num_outputs: int) -> None:
    """Raise a ``ValueError`` naming the fix unless ``task`` is known and fits ``num_outputs`` outputs."""
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not one of {TASKS}")
    if task == "binary" and num_outputs != 1:
        raise ValueError(f"a binary task has one output, got num_classes={num_outputs}; set it to 1")
    if task == "multiclass" and num_outputs < 2:
        raise ValueError(f"multiclass needs num_classes >= 2, got {num_outputs}; use task=binary")


def classification_task(num_classes: int) -> str:
    """The task of a classifier of ``num_classes`` classes: ``binary`` for two (one output), else ``multiclass``."""
    return "binary" if num_classes == 2 else "multiclass"


def num_outputs(num_classes: int) -> int:
    """The outputs a classifier of ``num_classes`` classes has: one logit for two classes, else one per class."""
    return 1 if num_classes == 2 else num_classes


CLASS_NAMES_ORDER = {"binary": " (binary: the negative class, then the positive one)"}
"""How a task's class names are ordered, where that is not one name per output (said in errors about them)."""


def is_classification(task: str) -> bool:
    """Whether the outputs score classes (multiclass, binary) rather than being the predicted values."""
    return task != "regression"


def num_class_names(task: str, outputs: int | None) -> int | None:
    """How many class names a model of ``outputs`` outputs speaks in: 2 for binary (the negative class, then
    the positive one), one per output for multiclass, none for regression."""
    return {"binary": 2, "multiclass": outputs}.get(task)


def label_dtype(task: str) -> torch.dtype:
    """The dtype of a data set's labels: class indices (int64) for multiclass, float 0/1 or values otherwise."""
    return torch.int64 if task == "multiclass" else torch.float32


def loss(logits: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    """The prediction loss: cross-entropy (multiclass), binary cross-entropy on the one logit, or MSE.

    ``targets``: class indices (B,) for multiclass; 0/1 labels (B,) or (B, 1) for binary; values (B,) or (B, C)
    for regression.
    """
    if task == "multiclass":
        return F.cross_entropy(logits, targets.long())
    if task == "binary":
        return F.binary_cross_entropy_with_logits(logits.squeeze(1), targets.view(-1).to(logits.dtype))
    if task == "regression":
        return F.mse_loss(logits, targets.view_as(logits).to(logits.dtype))
    raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")


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


def predicted_probability(probabilities: torch.Tensor, prediction: torch.Tensor, task: str) -> torch.Tensor:
    """(B,) the probability of the predicted class (regression: the first output itself)."""
    if task == "binary":
        return torch.where(prediction == 1, probabilities[:, 0], 1 - probabilities[:, 0])
    if task == "regression":
        return probabilities[:, 0]
    return probabilities.gather(1, prediction.view(-1, 1))[:, 0]


def class_of_output(column: int, positive: bool, task: str) -> int:
    """The class an output column stands for: itself for multiclass; for binary's one output, the positive
    class (1) or, ``positive=False``, the negative one (0)."""
    return int(positive) if task == "binary" else column


def output_of_class(index: int, task: str) -> int | None:
    """The output column that scores class ``index``: itself for multiclass (and a regression output's index);
    for binary, the one logit for the positive class (1), and None for the negative class, whose score is
    that logit negated."""
    if task == "binary":
        return 0 if index == 1 else None
    return index


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


def towards_classes(scores: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """Scores of the explained output (B, ...) read towards class ``classes[b]``: unchanged, except for binary,
    whose one logit speaks for class 1 and is negated towards class 0."""
    if task != "binary":
        return scores
    sign = (2 * classes - 1).to(scores.dtype)  # (B,) +1 towards class 1, -1 towards class 0
    return scores * sign.view(-1, *[1] * (scores.dim() - 1))


def class_relevances(relevances: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """(B, K) each concept's relevance towards class ``classes[b]``: its output column's (binary: the one
    logit's, negated towards class 0)."""
    return towards_classes(output_relevances(relevances, explained_output(classes, task)), classes, task)


def class_probability(logits: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """p(class | x) for logits (..., C) and classes (...): softmax, or the sigmoid of the one binary logit; for
    regression the explained (first) output itself, whatever the predicted values ``classes`` are."""
    if task == "binary":
        p1 = torch.sigmoid(logits[..., 0])
        return torch.where(classes.bool(), p1, 1 - p1)
    if task == "regression":
        return logits[..., 0]
    return logits.softmax(-1).gather(-1, classes.unsqueeze(-1))[..., 0]


def class_logit(logits: torch.Tensor, classes: torch.Tensor, task: str) -> torch.Tensor:
    """(B,) the logit of class ``classes[b]`` from logits (B, C): binary's one logit negated towards class 0;
    for regression the explained (first) output."""
    return towards_classes(logits.gather(1, explained_output(classes, task).view(-1, 1))[:, 0], classes, task)


def loss_name(task: str) -> str:
    """The prediction loss as logged (``train/classification_loss``, ``val/regression_loss``, ...)."""
    return "classification_loss" if is_classification(task) else "regression_loss"


def metric_name(task: str) -> str:
    """The task's metric as logged (``val/acc``, ``test/mse``, ...): accuracy, or mean squared error."""
    return "acc" if is_classification(task) else "mse"


def metric(task: str, num_classes: int | None) -> torchmetrics.Metric:
    """The task's metric: accuracy for classification, mean squared error for regression."""
    if task == "multiclass":
        return torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)
    if task == "binary":
        return torchmetrics.Accuracy(task="binary")
    return torchmetrics.MeanSquaredError()


def metric_inputs(logits: torch.Tensor, targets: torch.Tensor, task: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(predictions, targets) as :func:`metric` takes them: logits and classes, the positive class's
    probability and 0/1 labels, or outputs and values of the same shape."""
    if task == "binary":
        return torch.sigmoid(logits[:, 0]), targets.view(-1)  # (B,), (B,)
    if task == "regression":
        return logits, targets.view_as(logits)
    return logits, targets
