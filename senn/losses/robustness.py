"""The local-Lipschitz stability (robustness) regularizer ``||J_x f(x) − θ(x)ᵀ J_x h(x)||_F``.

For the sum aggregator, ``logits_c = Σ_k θ_kc(x) h_k(x)`` and the product rule gives

    J_x logits_c = Σ_k h_k J_x θ_kc  +  Σ_k θ_kc J_x h_k

so the residual ``R = J_x logits − θᵀ J_x h`` (C x D per sample) is exactly ``Σ_k h_k(x) J_x θ_kc(x)``:
the gradient through θ alone with h held constant. Estimators:

* ``"exact"``: C vector-Jacobian products through θ, one per class; no Jacobian of h at all.
* ``"projection"``: one VJP per projection with v ~ N(0, I_C) per sample. ``||vᵀR||²`` is an unbiased
  estimate of ``||R||_F²``; the loss averages ``num_projections`` of them per sample and takes the
  square root, so the per-sample value is biased low (by at most a factor sqrt(2/π) ≈ 0.80 with
  one projection, when R has rank 1) but its square is unbiased. Use ``"exact"`` to *report* the
  quantity; the projection is a cheap training signal (senn's training default). With a single
  output (binary, one-output regression) the exact value costs the same one VJP, so it is used.
* ``"jacobian"``: the definition itself, C + K VJPs (J_x logits and J_x h), for any aggregator.

All estimators return per-sample Frobenius norms (logits target), averaged over the batch, so the
weight λ does not depend on the batch size. They assume each sample's outputs depend on that
sample only (no batch-norm in training mode), as the per-sample definition does.

The residual weighs each ``J_x θ_k`` by ``h_k(x)``: a concept near 0 (a sigmoid concept that is off,
a sparse one) leaves its relevance free to vary, so the same λ restrains θ differently for concepts of
different ranges. :func:`relative_relevance_variation` is the option that does not depend on the concepts at
all: the Jacobian of each class's relevances relative to their size, ``J_x θ_·c / ||θ_·c||``, which bounds
the evaluation's scale-free (``unit``) stability over a small ball.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from senn.models.aggregators import SumAggregator
from senn.models.senn import SENNOutput

Estimator = Literal["exact", "projection", "jacobian"]
Target = Literal["logits", "log_probs"]
Reduction = Literal["mean", "batch"]
ESTIMATORS: tuple[str, ...] = ("exact", "projection", "jacobian")
PENALTIES: tuple[str, ...] = ("residual", "relative_relevances")
SPACES: tuple[str, ...] = ("input", "features")
"""What the penalty differentiates w.r.t.: the input, or a shared pretrained backbone's features."""


def robustness_loss(
    model: nn.Module,
    x: torch.Tensor,
    estimator: Estimator = "exact",
    *,
    output: SENNOutput | None = None,
    num_projections: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Batch mean of the per-sample ``||J_x logits − θ(x)ᵀ J_x h(x)||_F``; differentiable.

    Args:
        model: a :class:`senn.SENN` (or any module returning a :class:`SENNOutput`).
        x: input batch (B, ...).
        estimator: ``"exact"``, ``"projection"`` or ``"jacobian"`` (see the module docstring).
        output: ``model(x)`` already computed, to reuse its forward pass; then ``x`` must be the
            tensor it was computed from and must require grad.
        num_projections: projections averaged per sample by the ``"projection"`` estimator.
        generator: random generator for the projections.
    """
    return robustness_residual_norm(
        model, x, estimator, output=output, num_projections=num_projections, generator=generator
    ).mean()


def robustness_residual_norm(
    model: nn.Module,
    x: torch.Tensor,
    estimator: Estimator = "exact",
    *,
    output: SENNOutput | None = None,
    num_projections: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-sample ``||J_x logits − θ(x)ᵀ J_x h(x)||_F`` (B,), as :func:`robustness_loss` estimates it."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"robustness estimator {estimator!r} is not one of {ESTIMATORS}")
    if estimator != "jacobian" and not isinstance(getattr(model, "aggregator", None), SumAggregator):
        raise ValueError(
            f"the {estimator!r} robustness estimator relies on the sum aggregator; "
            "use estimator='jacobian' for other aggregators"
        )
    if num_projections < 1:
        raise ValueError(f"num_projections must be >= 1, got {num_projections}")
    x, output = _forward(model, x, output, "robustness_loss")
    if estimator == "jacobian":
        sq = _jacobian_residual_sq(output, x)
    elif estimator == "exact" or output.relevances.shape[2] == 1:  # one output: exact at a projection's cost
        sq = _exact_residual_sq(output, x)
    else:
        sq = _projected_residual_sq(output, x, num_projections, generator)
    return sq.clamp_min(1e-30).sqrt()


def _forward(
    model: nn.Module, x: torch.Tensor, output: SENNOutput | None, name: str
) -> tuple[torch.Tensor, SENNOutput]:
    """``x`` requiring grad and ``model(x)``: computed here, or the caller's ``output`` (``x`` must require grad)."""
    if output is None:
        x = x.detach().requires_grad_(True)
        return x, model(x)
    if not x.requires_grad:
        raise ValueError(f"{name}: when `output` is given, `x` must require grad and `output` be model(x)")
    return x, output


def _vjp(outputs: torch.Tensor, x: torch.Tensor, grad_outputs: torch.Tensor) -> torch.Tensor:
    """``grad_outputs``-weighted gradient of ``outputs`` w.r.t. ``x``, flattened to (B, D), with graph."""
    (grad,) = torch.autograd.grad(outputs, x, grad_outputs, create_graph=True, allow_unused=True)
    if grad is None:  # outputs do not depend on x
        return x.new_zeros(len(x), x[0].numel())
    return grad.flatten(1)


def _exact_residual_sq(output: SENNOutput, x: torch.Tensor) -> torch.Tensor:
    """``||Σ_k h_k J_x θ_k·||_F²`` per sample with C VJPs through θ."""
    relevances, concepts = output.relevances, output.concepts  # (B, K, C), (B, K)
    sq = x.new_zeros(len(x))
    for c in range(relevances.shape[2]):
        weights = torch.zeros_like(relevances)
        weights[:, :, c] = concepts  # h stays differentiable w.r.t. parameters, constant w.r.t. x
        sq = sq + _vjp(relevances, x, weights).pow(2).sum(1)
    return sq


def _projected_residual_sq(
    output: SENNOutput, x: torch.Tensor, num_projections: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Mean over projections of ``||vᵀR||²`` per sample, v ~ N(0, I_C): unbiased for ``||R||_F²``."""
    relevances, concepts = output.relevances, output.concepts  # (B, K, C), (B, K)
    b, _, c = relevances.shape
    sq = x.new_zeros(b)
    for _ in range(num_projections):
        v = torch.randn(b, c, generator=generator, device=x.device, dtype=x.dtype)  # (B, C)
        weights = concepts.unsqueeze(2) * v.unsqueeze(1)  # (B, K, C)
        sq = sq + _vjp(relevances, x, weights).pow(2).sum(1)
    return sq / num_projections


def _jacobian_residual_sq(output: SENNOutput, x: torch.Tensor, f: torch.Tensor | None = None) -> torch.Tensor:
    """``||J_x f − θᵀ J_x h||_F²`` per sample from the full Jacobians (C + K VJPs); f defaults to the logits."""
    f = output.logits if f is None else f
    concepts, relevances = output.concepts, output.relevances
    jac_f = torch.stack([_vjp(f[:, c], x, torch.ones_like(f[:, c])) for c in range(f.shape[1])], 1)
    jac_h = torch.stack(
        [_vjp(concepts[:, k], x, torch.ones_like(concepts[:, k])) for k in range(concepts.shape[1])], 1
    )  # (B, C, D), (B, K, D)
    residual = jac_f - torch.einsum("bkc,bkd->bcd", relevances, jac_h)  # (B, C, D)
    return residual.pow(2).sum((1, 2))


def relative_relevance_variation(
    model: nn.Module,
    x: torch.Tensor,
    *,
    exact: bool = False,
    output: SENNOutput | None = None,
    num_projections: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-sample ``sqrt(Σ_c ||J_x θ_·c||_F² / ||θ_·c||²)`` (B,), differentiable.

    How fast each class's relevances change as the input moves, relative to their size: the same for
    concepts and relevances of any scale, and unlike a penalty on θ's direction alone, it restrains θ's
    magnitude too (with the direction fixed, θ could still scale freely with x). ``exact`` takes K·C
    vector-Jacobian products; otherwise ``num_projections`` VJPs with v ~ N(0, I_{K·C}) estimate the
    square without bias, as the ``"projection"`` estimator does.

    Args:
        model: a :class:`senn.SENN`.
        x: input batch (B, ...).
        exact: the K·C-VJP value (for reporting) instead of the projection estimate (for training).
        output: ``model(x)`` already computed (``x`` must then require grad).
        num_projections: projections averaged per sample when not ``exact``.
        generator: random generator for the projections.
    """
    x, output = _forward(model, x, output, "relative_relevance_variation")
    theta = output.relevances  # (B, K, C)
    scale = 1 / theta.norm(dim=1, keepdim=True).clamp_min(1e-12)  # (B, 1, C): each class's column at unit size
    if exact:
        eye = torch.eye(theta[0].numel(), device=x.device, dtype=x.dtype).view(-1, 1, *theta.shape[1:])
        sq = sum(_vjp(theta, x, e * scale).pow(2).sum(1) for e in eye)  # one VJP per entry e (1, K, C)
    else:
        draws = [torch.randn(theta.shape, generator=generator, device=x.device, dtype=x.dtype)
                 for _ in range(num_projections)]  # fmt: skip
        sq = sum(_vjp(theta, x, v * scale).pow(2).sum(1) for v in draws) / num_projections
    return sq.clamp_min(1e-30).sqrt()


def published_robustness_loss(
    model: nn.Module,
    x: torch.Tensor,
    target: Target = "log_probs",
    reduction: Reduction = "batch",
    *,
    output: SENNOutput | None = None,
) -> torch.Tensor:
    """The regularizer as the public SENN implementations compute it, for ablations and comparisons.

    They differentiate the log-probabilities instead of the logits, and take one Frobenius norm over
    the whole batch instead of a per-sample norm averaged over it. Each choice can be switched back
    to senn's separately: ``target="logits", reduction="mean"`` is :func:`robustness_loss` with the
    ``"jacobian"`` estimator. With ``"log_probs"`` the residual is not zero even for a constant θ
    (``J_x log p_c = J_x logits_c − Σ_j p_j J_x logits_j``), and with ``"batch"`` the term grows like
    sqrt(batch size). Differentiable; C + K VJPs (multiclass models only for ``"log_probs"``).

    Args:
        model: a :class:`senn.SENN`.
        x: input batch (B, ...).
        target: ``"log_probs"`` (published) or ``"logits"`` (senn).
        reduction: ``"batch"`` (published: one norm over all B·C·D entries) or ``"mean"`` (senn).
        output: ``model(x)`` already computed (``x`` must then require grad), as in :func:`robustness_loss`.
    """
    if target not in ("logits", "log_probs") or reduction not in ("mean", "batch"):
        raise ValueError(
            f"target={target!r} / reduction={reduction!r}: expected target logits|log_probs, reduction mean|batch"
        )
    x, output = _forward(model, x, output, "published_robustness_loss")
    f = output.logits.log_softmax(1) if target == "log_probs" else output.logits
    sq = _jacobian_residual_sq(output, x, f)  # (B,)
    return sq.sum().clamp_min(1e-30).sqrt() if reduction == "batch" else sq.clamp_min(1e-30).sqrt().mean()
