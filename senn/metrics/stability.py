"""Stability: the local Lipschitz estimate of an explanation, ``max ||e(x) − e(x')|| / ||d(x) − d(x')||``.

Input mode (any explainer): ``d`` is the input itself. Concept mode (SENN): ``e = θ`` and ``d = h``.
Explanations of different lengths compare fairly only after :func:`normalized` (``"unit"``: each
explanation divided by its L2 norm, so the distance no longer grows with the number of entries).
The max over the ε-ball around x is estimated by random sampling (any explainer) or by projected
gradient ascent (differentiable explainers). Every estimate is a lower bound of the true maximum:
with the same budget, a larger value is a better estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from senn.models.utils import as_senn, check_inputs, eval_mode
from senn.tasks import output_relevances

Explainer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``(inputs (N, ...), targets (N,)) -> explanations (N, ...)``, batched like Captum's ``attribute``."""
Sampler = Callable[[torch.Tensor, int], torch.Tensor]
"""``(x (B, ...), n) -> n perturbed points per input (B, n, ...)``."""
NORMS = ("l2", "linf")


def lipschitz_ratio(
    e: torch.Tensor, e_perturbed: torch.Tensor, d: torch.Tensor, d_perturbed: torch.Tensor
) -> torch.Tensor:
    """``||e − e'||_2 / ||d − d'||_2`` per row (N,), each side flattened."""
    numerator = (e - e_perturbed).flatten(1).norm(dim=1)
    return numerator / (d - d_perturbed).flatten(1).norm(dim=1).clamp_min(1e-12)


def sample_ball(
    x: torch.Tensor, n: int, epsilon: float, norm: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` points drawn uniformly from the ε-ball around each input: (B, n, ...)."""
    shape = (len(x), n, *x.shape[1:])
    if norm == "linf":
        delta = (torch.rand(shape, generator=generator, dtype=x.dtype) * 2 - 1) * epsilon
    else:
        direction = torch.randn(shape, generator=generator, dtype=x.dtype)
        direction = direction / direction.flatten(2).norm(dim=2).view(*shape[:2], *[1] * (x.dim() - 1))
        dim = x[0].numel()
        radius = epsilon * torch.rand(shape[:2], generator=generator, dtype=x.dtype) ** (1 / dim)
        delta = direction * radius.view(*shape[:2], *[1] * (x.dim() - 1))
    return x.unsqueeze(1) + delta.to(x.device)


def project(delta: torch.Tensor, epsilon: float, norm: str) -> torch.Tensor:
    """Project perturbations (N, ...) back onto the ε-ball."""
    if norm == "linf":
        return delta.clamp(-epsilon, epsilon)
    scale = (epsilon / delta.flatten(1).norm(dim=1).clamp_min(1e-12)).clamp(max=1)
    return delta * scale.view(-1, *[1] * (delta.dim() - 1))


def local_lipschitz(
    explain_fn: Explainer,
    x: torch.Tensor,
    target: torch.Tensor,
    epsilon: float = 1.0,
    estimator: str = "sampling",
    budget: int = 20,
    norm: str = "l2",
    distance_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    step_size: float | None = None,
    batch_size: int = 2048,
    generator: torch.Generator | None = None,
    sampler: Sampler | None = None,
) -> torch.Tensor:
    """Local Lipschitz estimate of an explainer at each input (B,).

    Args:
        explain_fn: the explainer, ``(inputs, targets) -> explanations``; must be differentiable in
            the inputs for ``estimator="gradient"``.
        x: inputs (B, ...).
        target: the explained class of each input (B,), kept fixed inside the ball.
        epsilon: radius of the ball.
        estimator: ``"sampling"`` (``budget`` uniform samples in the ball) or ``"gradient"``
            (``budget`` steps of projected gradient ascent from a random start; every visited point
            counts).
        budget: explainer evaluations per input.
        norm: the ball's norm, ``"l2"`` or ``"linf"``.
        distance_fn: what the denominator compares, default the input itself (input mode); a SENN's
            concepts for concept mode.
        step_size: gradient-ascent step, default ``2.5 ε / budget`` (l2 steps are normalized).
        batch_size: perturbed inputs per explainer call when sampling.
        generator: random generator for the samples and the starting points.
        sampler: replaces the uniform ε-ball draws of ``"sampling"`` (e.g. Quantus' Gaussian perturbations,
            as ``tests/metrics/test_quantus_agreement.py`` does).
    """
    x = check_inputs(x)
    if norm not in NORMS:
        raise ValueError(f"norm {norm!r} is not one of {NORMS}")
    if target.shape != (len(x),):
        raise ValueError(f"target has shape {tuple(target.shape)}; give one class per input, shape ({len(x)},)")
    if budget < 1 or epsilon <= 0:
        raise ValueError(f"budget={budget} must be >= 1 and epsilon={epsilon} > 0")
    distance = distance_fn if distance_fn is not None else (lambda z: z)
    with torch.no_grad():
        e, d = explain_fn(x, target).detach(), distance(x).detach()
    if estimator == "sampling":
        if sampler is None:
            sampler = lambda points, n: sample_ball(points, n, epsilon, norm, generator)  # noqa: E731
        return _sampled(explain_fn, distance, x, target, e, d, budget, batch_size, sampler)
    if estimator == "gradient":
        step = step_size if step_size is not None else 2.5 * epsilon / budget
        return _gradient_ascent(explain_fn, distance, x, target, e, d, epsilon, budget, norm, step, generator)
    raise ValueError(f"estimator {estimator!r} is not 'sampling' or 'gradient'")


@torch.no_grad()
def _sampled(explain_fn, distance, x, target, e, d, budget, batch_size, sampler) -> torch.Tensor:
    """Max of the ratio over ``budget`` sampled points per input, evaluated in chunks."""
    b = len(x)
    best = torch.zeros(b, dtype=x.dtype, device=x.device)
    per_chunk = max(1, batch_size // b)
    for start in range(0, budget, per_chunk):
        n = min(per_chunk, budget - start)
        points = sampler(x, n).flatten(0, 1)  # (B, n, ...) -> (B·n, ...)
        rep = torch.arange(b, device=x.device).repeat_interleave(n)
        ratio = lipschitz_ratio(e[rep], explain_fn(points, target[rep]), d[rep], distance(points)).view(b, n)
        best = torch.maximum(best, ratio.max(1).values)
    return best


def _gradient_ascent(explain_fn, distance, x, target, e, d, epsilon, budget, norm, step, generator) -> torch.Tensor:
    """Batched projected gradient ascent on the ratio; returns the best value visited per input."""
    delta = sample_ball(x, 1, epsilon * 0.1, norm, generator)[:, 0] - x  # small random start
    best = torch.zeros(len(x), dtype=x.dtype, device=x.device)
    for _ in range(budget):
        with torch.enable_grad():
            delta = delta.detach().requires_grad_(True)
            point = x + delta
            ratio = lipschitz_ratio(e, explain_fn(point, target), d, distance(point))
            (grad,) = torch.autograd.grad(ratio.sum(), delta)
        best = torch.maximum(best, ratio.detach())
        if norm == "linf":
            move = grad.sign()
        else:
            move = grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (x.dim() - 1))
        delta = project(delta.detach() + step * move, epsilon, norm)
    return best


NORMALIZATIONS = ("none", "max", "unit")


def normalized(explainer: Explainer, how: str = "unit") -> Explainer:
    """The explainer with each explanation rescaled before stability compares it.

    ``"max"``: divided by its largest absolute entry (Quantus' ``normalise``): scale-free, but the L2
    distance between two max-normalized vectors still grows with their length, up to ≈ sqrt(D / K)
    between a D- and a K-entry explanation of the same pattern. ``"unit"``: divided by its L2 norm, a
    dimension-free distance (at most 2) that compares explanations of any length. ``"none"``: as is.
    """
    if how not in NORMALIZATIONS:
        raise ValueError(f"normalize={how!r}: use one of {NORMALIZATIONS}")
    if how == "none":
        return explainer

    def explain(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        e = explainer(inputs, target)
        flat = e.flatten(1)
        scale = flat.abs().amax(1) if how == "max" else flat.norm(dim=1)
        return e / scale.clamp_min(1e-12).view(-1, *[1] * (e.dim() - 1))

    return explain


def senn_explainer(model: nn.Module) -> Explainer:
    """A SENN as an explainer in input mode: its relevances θ_·,target(x) (N, K), computed in eval mode."""
    senn = as_senn(model)

    def explain_fn(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with eval_mode(senn):  # no dropout noise in the explanation; the caller's mode is restored
            theta = senn(inputs).relevances  # (N, K, C)
        return output_relevances(theta, target)

    return explain_fn


def senn_input_explainer(model: nn.Module) -> Explainer:
    """A SENN's explanation mapped to input space: ``θ_·,target(x)ᵀ J_x h(x)`` (x's shape), each concept's
    relevance spread over the inputs through the concept's gradient. It lives where pixel attributions
    live, so their stability compares like for like; it is the input gradient of the logit with θ held
    constant (for raw-feature concepts, θ itself). Computed in eval mode; not differentiable itself (use
    the sampling estimator)."""
    senn = as_senn(model)

    def explain_fn(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x = inputs.detach().requires_grad_(True)
        with eval_mode(senn), torch.enable_grad():
            out = senn(x)
            theta = output_relevances(out.relevances, target)  # (N, K)
            (grad,) = torch.autograd.grad((theta.detach() * out.concepts).sum(), x)  # Σ_k θ_k J_x h_k, (N, ...)
        return grad

    return explain_fn


def concept_lipschitz(model: nn.Module, x: torch.Tensor, **kwargs) -> torch.Tensor:
    """The paper's concept-mode stability of a SENN: max ``||θ(x) − θ(x')|| / ||h(x) − h(x')||`` (B,).

    Keyword arguments are those of :func:`local_lipschitz` (``epsilon``, ``estimator``, ``budget``, ...).
    """
    senn = as_senn(model)
    with eval_mode(senn):
        return local_lipschitz(
            lambda inputs, _: senn(inputs).relevances,
            x,
            torch.zeros(len(x), dtype=torch.long, device=x.device),
            distance_fn=lambda inputs: senn(inputs).concepts,
            **kwargs,
        )
