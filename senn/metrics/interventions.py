"""Intervention curves: task accuracy as true concept values are put into a SENN, one concept at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from senn.metrics.probes import Array, as_matrix, check_binary
from senn.models.conceptizers import concepts_are_probabilities
from senn.models.intervene import replace_concepts
from senn.models.utils import as_senn, check_inputs, concepts_supervised, eval_mode, model_device
from senn.tasks import predict


def intervention_values(learned: Array, true: Array, matching: Array) -> torch.Tensor:
    """The value (M, 2) that represents each true concept's state 0 and 1 on its matched learned concept.

    From training inputs: for true concept j matched to learned concept i, state 1 is the 95th percentile
    of ``ĥ_i`` over inputs with ``c_j = 1`` and state 0 the 5th percentile over inputs with ``c_j = 0``
    when ``ĥ_i`` grows with ``c_j`` (the 5th / 95th the other way round when it shrinks): confidently in
    the state, as the training data shows it. For concepts supervised through a sigmoid, pass
    ``[[0, 1]] * M`` instead: the annotation itself.
    """
    h, c = as_matrix(learned, "learned concepts"), as_matrix(true, "true concepts")
    check_binary(c)
    rows = np.asarray(matching)
    values = np.empty((c.shape[1], 2))
    for j, i in enumerate(rows):
        on, off = h[c[:, j] == 1, i], h[c[:, j] == 0, i]
        if on.mean() >= off.mean():
            values[j] = np.quantile(off, 0.05), np.quantile(on, 0.95)
        else:
            values[j] = np.quantile(off, 0.95), np.quantile(on, 0.05)
    return torch.as_tensor(values)


def intervention_plan(
    model: nn.Module, learned: torch.Tensor, true: torch.Tensor, matching: Array
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which learned concept of ``model`` stands for each true one (M,), and its values (M, 2) for the states 0, 1.

    Supervised concepts (:func:`~senn.models.utils.concepts_supervised`) stand for their own annotations (true
    concept j is learned concept j) and, through a sigmoid, take the annotations themselves; unsupervised ones
    stand where ``matching`` (e.g. :func:`~senn.metrics.concept_alignment`'s) puts them and take
    :func:`intervention_values` read off ``learned`` (N, K) and ``true`` (N, M), the training split's concepts
    and annotations (rows with a missing annotation skipped).
    """
    m, supervised = true.shape[1], concepts_supervised(model)
    columns = torch.arange(m) if supervised else torch.as_tensor(np.asarray(matching))
    if supervised and concepts_are_probabilities(as_senn(model).conceptizer):
        return columns, torch.tensor([[0.0, 1.0]] * m)
    known = ~torch.isnan(true).any(1)
    return columns, intervention_values(learned[known], true[known], columns)


@dataclass(frozen=True)
class InterventionCurve:
    """Task accuracy after setting 0, 1, …, M concepts to their true values."""

    random: torch.Tensor
    """(M + 1,) accuracy, concepts set in random order (mean over orders)."""
    uncertain_first: torch.Tensor
    """(M + 1,) accuracy, concepts set most-uncertain first (nearest the midpoint of their two values)."""

    @staticmethod
    def area(curve: torch.Tensor) -> float:
        """Normalized area under a curve over 0 … M concepts: its trapezoid mean, in [0, 1]."""
        return float(np.trapezoid(curve.numpy(), dx=1.0) / (len(curve) - 1))

    @property
    def random_area(self) -> float:
        """Normalized area under the random-order curve."""
        return self.area(self.random)

    @property
    def uncertain_first_area(self) -> float:
        """Normalized area under the most-uncertain-first curve."""
        return self.area(self.uncertain_first)


@torch.no_grad()
def intervention_curve(
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    true: torch.Tensor,
    matching: Array,
    values: torch.Tensor,
    num_orders: int = 20,
    seed: int = 0,
) -> InterventionCurve:
    """Accuracy of a SENN as its concepts matched to true concepts are set to the true states, θ(x) kept.

    Args:
        model: a :class:`senn.SENN` or a module holding one.
        x: inputs (B, ...).
        labels: task labels (B,).
        true: true concepts (B, M) in {0, 1}.
        matching: (M,) the learned concept standing for each true concept (e.g.
            :attr:`~senn.metrics.ground_truth.ConceptAlignment.matching`, or ``range(M)`` for supervised ones).
        values: (M, 2) the learned value of each true concept's state 0 and 1 (:func:`intervention_values`).
        num_orders: random orders averaged.
        seed: seed of the random orders.
    """
    senn = as_senn(model)
    x = check_inputs(x, senn.input_shape, model_device(senn))
    c = as_matrix(true, "true concepts")
    check_binary(c)
    m = c.shape[1]
    rows = torch.as_tensor(np.asarray(matching), dtype=torch.long, device=x.device)
    if rows.shape != (m,) or values.shape != (m, 2):
        raise ValueError(f"matching must be ({m},) and values ({m}, 2), got {tuple(rows.shape)}, {tuple(values.shape)}")
    with eval_mode(senn):
        out = senn(x)
    h, theta = out.concepts, out.relevances  # (B, K), (B, K, C)
    c_t = torch.as_tensor(c, dtype=torch.long, device=x.device)
    values = values.to(h)
    target = values[torch.arange(m, device=x.device), c_t]  # (B, M): the true state's value per concept
    labels = labels.to(x.device).view(-1).long()

    def accuracy(order: torch.Tensor, steps: int) -> float:
        """Accuracy with the first ``steps`` concepts of each row's ``order`` (B, M) set."""
        mask = torch.zeros_like(target, dtype=torch.bool).scatter_(1, order[:, :steps], True)  # (B, M)
        logits = senn.aggregator(replace_concepts(h, rows, target, mask), theta)
        predicted = predict(logits, senn.task)
        return float((predicted == labels).float().mean())

    g = torch.Generator().manual_seed(seed)
    orders = [torch.rand(len(h), m, generator=g).argsort(1).to(h.device) for _ in range(num_orders)]
    random = torch.tensor([np.mean([accuracy(o, s) for o in orders]) for s in range(m + 1)], dtype=torch.float64)
    midpoint, spread = values.mean(1), (values[:, 1] - values[:, 0]).abs().clamp_min(1e-12)
    certainty = ((h[:, rows] - midpoint) / spread).abs()  # (B, M): small = uncertain
    uncertain = certainty.argsort(1)
    return InterventionCurve(random, torch.tensor([accuracy(uncertain, s) for s in range(m + 1)], dtype=torch.float64))
