"""Post-hoc explainers of plain networks, the baselines a SENN's explanations are compared with.

Every method is Captum's (or senn's excitation pullbacks) behind one calling convention,
``explainer(inputs (N, ...), targets (N,)) -> attributions (N, ...)`` in the inputs' dtype, leaving the inputs
as they were, with settings scaled to the input: image methods work on square pixel patches of side
``max(2, H // 7)`` (4 for MNIST).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from captum._utils.models.linear_model import SkLearnRidge
from captum.attr import InputXGradient, IntegratedGradients, KernelShap, Lime, Occlusion, Saliency
from torch import nn

from senn.explain.pullback import ExcitationPullback
from senn.metrics.stability import Explainer
from senn.models.utils import as_senn, eval_mode
from senn.tasks import explained_output

POSTHOC_METHODS = (
    "saliency",
    "input_x_gradient",
    "integrated_gradients",
    "occlusion",
    "lime",
    "kernel_shap",
    "excitation_pullback",
)


def patch_size(input_shape: tuple[int, ...]) -> int:
    """Side of the pixel patches that perturbation methods treat as one feature: ``max(2, H // 7)``."""
    return max(2, input_shape[1] // 7)


def feature_mask(input_shape: tuple[int, ...]) -> torch.Tensor:
    """Interpretable features for LIME and KernelSHAP: square patches for images (shared across
    channels), single features for vectors; an integer mask of one input's shape."""
    if len(input_shape) != 3:
        return torch.arange(int(torch.tensor(input_shape).prod())).view(input_shape)
    _, h, w = input_shape
    p = patch_size(input_shape)
    rows, cols = torch.arange(h) // p, torch.arange(w) // p
    patches = rows.view(-1, 1) * ((w + p - 1) // p) + cols.view(1, -1)  # (H, W)
    return patches.expand(input_shape).contiguous()


def own_copy(inputs: torch.Tensor, gradients: bool) -> torch.Tensor:
    """The inputs as a tensor of the explainer's own (shared memory, separate autograd state): Captum sets
    ``requires_grad`` on the tensor it is given and can leave it set, which would change the caller's. Gradient
    methods get it set already, so Captum has nothing to set (and no warning to print)."""
    own = inputs.detach()
    return own.requires_grad_(True) if gradients else own


def posthoc_explainer(name: str, model: nn.Module, input_shape: tuple[int, ...], **options: Any) -> Explainer:
    """One post-hoc method applied to ``model`` (logits (N, C)), as ``(inputs, targets) -> attributions``.

    Args:
        name: one of :data:`POSTHOC_METHODS`.
        model: the network explained; each call runs it in eval mode and restores its mode.
        input_shape: the shape of one input, to scale windows and feature masks.
        options: keyword arguments of the method's ``attribute`` (e.g. ``n_samples=500`` for LIME),
            or ``tau`` / ``gate`` / ``steps`` for excitation pullbacks.
    """
    image = len(input_shape) == 3
    if name == "saliency":
        method, kwargs = Saliency(model), {"abs": True}
    elif name == "input_x_gradient":
        method, kwargs = InputXGradient(model), {}
    elif name == "integrated_gradients":
        method, kwargs = IntegratedGradients(model), {"n_steps": 32, "internal_batch_size": 1024}
    elif name == "occlusion":
        if image:
            p = patch_size(input_shape)
            window, stride = (input_shape[0], p, p), (input_shape[0], p // 2, p // 2)
        else:
            window, stride = (1,), 1
        method = Occlusion(model)
        kwargs = {"sliding_window_shapes": window, "strides": stride, "perturbations_per_eval": 64}
    elif name in ("lime", "kernel_shap"):
        # LIME's surrogate is ridge regression as in the original lime package (Captum's default
        # lasso zeroes every weight when the logits vary little).
        method = Lime(model, SkLearnRidge(alpha=1.0)) if name == "lime" else KernelShap(model)
        kwargs = {"feature_mask": feature_mask(input_shape), "n_samples": 200, "perturbations_per_eval": 50}
    elif name == "excitation_pullback":
        pullback = ExcitationPullback(model, **options)

        def pull(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            with eval_mode(model):
                return pullback.attribute(inputs, target).detach()

        return pull
    else:
        raise ValueError(f"unknown post-hoc method {name!r}; choose from {POSTHOC_METHODS}")
    kwargs.update(options)
    mask = kwargs.get("feature_mask")
    gradients = name in ("saliency", "input_x_gradient", "integrated_gradients")

    def explain(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        extra = {"feature_mask": mask.to(inputs.device).expand_as(inputs)} if mask is not None else {}
        with torch.enable_grad(), eval_mode(model), warnings.catch_warnings():
            # a surrogate per example is what a batch asks for: Captum's advice to pass one at a time is noise
            warnings.filterwarnings("ignore", "You are providing multiple inputs for Lime", UserWarning)
            attributions = method.attribute(own_copy(inputs, gradients), target=target, **{**kwargs, **extra})
        return attributions.detach().to(inputs.dtype)  # Captum's perturbation methods answer in float32

    return explain


CONCEPT_LAYER_METHODS = ("layer_gradient", "layer_gradient_x_activation", "layer_integrated_gradients")
"""Captum's layer attributions applied to a SENN's concept layer h: K numbers per input, the space of θ."""


class _ConceptLayer(nn.Module):
    """h(x) as a module of its own, so that Captum's layer methods can attribute to its output."""

    def __init__(self, conceptizer: nn.Module) -> None:
        super().__init__()
        self.conceptizer = conceptizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conceptizer(x)[0]


class SENNLogits(nn.Module):
    """A SENN as a plain logit network, for post-hoc methods; its concept layer is exposed as
    ``self.concepts`` for Captum's layer methods (θ(x) still comes from x)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.senn = as_senn(model)
        self.concepts = _ConceptLayer(self.senn.conceptizer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.senn.aggregator(self.concepts(x), self.senn.parametrizer(x))


def concept_layer_explainer(name: str, model: nn.Module) -> Explainer:
    """A post-hoc method at the concept layer of a SENN: Captum's attribution of the explained logit to
    the concepts h(x), (N, K), comparable entry by entry with the SENN's own θ(x).

    ``layer_gradient`` is ∂logit/∂h, ``layer_gradient_x_activation`` that times h, and
    ``layer_integrated_gradients`` integrates from the concepts of the all-zero input. Binary models
    explain their one logit. Each call runs the SENN in eval mode and restores its mode.
    """
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    net = SENNLogits(model)
    if name == "layer_gradient":
        method, kwargs = LayerGradientXActivation(net, net.concepts, multiply_by_inputs=False), {}
    elif name == "layer_gradient_x_activation":
        method, kwargs = LayerGradientXActivation(net, net.concepts), {}
    elif name == "layer_integrated_gradients":
        method, kwargs = LayerIntegratedGradients(net, net.concepts), {"n_steps": 32, "internal_batch_size": 1024}
    else:
        raise ValueError(f"unknown concept-layer method {name!r}; choose from {CONCEPT_LAYER_METHODS}")

    def explain(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        columns = explained_output(target, net.senn.task)  # a binary model's one logit explains both classes
        with torch.enable_grad(), eval_mode(net.senn):
            return method.attribute(own_copy(inputs, True), target=columns, **kwargs).detach()

    return explain
