"""Faithfulness: removing what an explanation calls important should lower the prediction accordingly.

All functions are batched and vectorised over the inputs; they return one score per input (B,).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from senn.models.utils import as_senn, check_inputs, eval_mode, model_device
from senn.tasks import class_logit, class_probability, class_relevances, predict


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of the rows of ``a`` and ``b`` (B, N) -> (B,); NaN where a row is constant."""
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))


@torch.no_grad()
def concept_faithfulness(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | None = None,
    baseline: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """The paper's concept-removal faithfulness of a SENN, one Pearson correlation per input (B,).

    For each concept k: replace h_k(x) by ``baseline`` with θ(x) held fixed and record the drop in
    the probability of the explained class; the score is the correlation over k between θ_k,ŷ(x)
    and those drops. For binary models the relevance towards class 0 is −θ.

    Args:
        model: a SENN (or a module holding one as ``.model``).
        x: inputs (B, ...).
        target: classes to explain (B,), default the predicted ones.
        baseline: the value of a removed concept: 0 (the paper), or (K,) per-concept values such as
            training medians of raw-feature concepts.
    """
    senn = as_senn(model)
    x = check_inputs(x, senn.input_shape, model_device(senn))
    with eval_mode(senn):
        out = senn(x)
    h, theta, task = out.concepts, out.relevances, senn.task  # (B, K), (B, K, C)
    if target is None:
        target = predict(out.logits, task)
    b, k = h.shape
    removed = h.unsqueeze(1).repeat(1, k, 1)  # (B, K, K): row j has concept j removed
    eye = torch.eye(k, dtype=torch.bool, device=h.device)
    removed[:, eye] = torch.as_tensor(baseline, dtype=h.dtype, device=h.device).expand(k)
    logits = senn.aggregator(removed.reshape(b * k, k), theta.repeat_interleave(k, 0)).view(b, k, -1)  # (B, K, C)
    drops = class_probability(out.logits, target, task).unsqueeze(1) - class_probability(
        logits, target.unsqueeze(1).expand(b, k), task
    )  # (B, K)
    return pearson(class_relevances(theta, target, task), drops)  # relevance towards the explained class


@torch.no_grad()
def feature_faithfulness(
    forward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    attributions: torch.Tensor,
    target: torch.Tensor,
    baseline: float | str | torch.Tensor = 0.0,
    group_size: int = 1,
    output: str = "probability",
    batch_size: int = 1024,
    task: str | None = None,
) -> torch.Tensor:
    """Feature-removal faithfulness of any attribution method, one Pearson correlation per input (B,).

    Features (pixels, or square patches of ``group_size`` for images) are removed one group at a
    time by setting them to ``baseline``; the score correlates, over groups, the attribution summed
    over each group with the drop of the target's output.

    Args:
        forward: the model, mapping inputs (N, ...) to logits (N, C); without ``task``, a single output (N, 1) is
            a binary model's logit of class 1 (``target`` then holds 0 / 1 and attributions point towards it).
        x: inputs (B, ...): feature vectors (B, D) or images (B, C, H, W).
        attributions: one attribution per input element, x's shape.
        target: explained classes (B,) (regression: the predictions; the first output is explained).
        baseline: value of removed features: a number, ``"min"`` (each input's minimum, Quantus'
            "black"), ``"mean"`` (each input's mean), or a tensor of one input's shape.
        group_size: side of the square pixel patches removed together (images only).
        output: ``"probability"`` (softmax; sigmoid for one output) or ``"logit"`` of the target.
        batch_size: perturbed inputs evaluated per forward call.
        task: the model's task (default: ``binary`` for one output, else ``multiclass``); for ``regression``
            either ``output`` is the first output's value.
    """
    x = check_inputs(x)
    if attributions.shape != x.shape:
        raise ValueError(f"attributions have shape {tuple(attributions.shape)}, the inputs {tuple(x.shape)}")
    groups = _feature_groups(x.shape[1:], group_size).to(x.device)  # (G, *input_shape) bool
    fill = _baseline(x, baseline)  # (B, *input_shape)
    b, g = len(x), len(groups)

    def score(inputs: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        logits = torch.cat([forward(chunk) for chunk in inputs.split(batch_size)])
        kind = task or ("binary" if logits.shape[1] == 1 else "multiclass")  # binary: z scores class 1, −z class 0
        return (class_logit if output == "logit" else class_probability)(logits, classes, kind)

    before = score(x, target)  # (B,)
    perturbed = torch.where(groups.unsqueeze(0), fill.unsqueeze(1), x.unsqueeze(1))  # (B, G, *input_shape)
    after = score(perturbed.flatten(0, 1), target.repeat_interleave(g)).view(b, g)
    summed = (attributions.unsqueeze(1) * groups.unsqueeze(0)).flatten(2).sum(2)  # (B, G)
    return pearson(summed, before.unsqueeze(1) - after)


def _feature_groups(shape: torch.Size, group_size: int) -> torch.Tensor:
    """Boolean masks (G, *shape) of the feature groups: single features, or square patches of images."""
    if len(shape) == 3 and group_size > 1:
        _, h, w = shape
        masks = []
        for top in range(0, h, group_size):
            for left in range(0, w, group_size):
                mask = torch.zeros(shape, dtype=torch.bool)
                mask[:, top : top + group_size, left : left + group_size] = True
                masks.append(mask)
        return torch.stack(masks)
    n = int(torch.tensor(shape).prod())
    return torch.eye(n, dtype=torch.bool).view(n, *shape)


def _baseline(x: torch.Tensor, baseline: float | str | torch.Tensor) -> torch.Tensor:
    """The removal value for every input element (B, *input_shape)."""
    if isinstance(baseline, str):
        reduce = {"min": torch.amin, "mean": torch.mean}.get(baseline)
        if reduce is None:
            raise ValueError(f"baseline {baseline!r} is not 'min', 'mean', a number or a tensor")
        dims = tuple(range(1, x.dim()))
        return reduce(x, dim=dims, keepdim=True).expand_as(x)
    return torch.as_tensor(baseline, dtype=x.dtype, device=x.device).expand_as(x)
