"""Concept prototypes: what each learned concept responds to, shown three ways (reference §7).

* dataset examples with the highest activation, and with the highest contrast (activation of the
  concept minus the sum of the others); the two often disagree, so both are kept;
* decoder traversals: one concept swept over its observed range, the others at their medians;
* feature visualization by optimization (Olah et al. 2017): an input in a decorrelated Fourier
  basis, optimized to maximize the concept under random jitter / scale / rotation, with a total
  variation penalty.

And a collapse check: concepts that never vary, and pairs that duplicate each other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from senn.models.utils import as_senn, eval_mode, model_device

# Lucid's color decorrelation: the square root of ImageNet's color covariance (rows: R, G, B).
_COLOR_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOR_SQRT = _COLOR_SQRT / _COLOR_SQRT.norm(dim=0).max()


@torch.no_grad()
def concept_activations(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Concepts h(x) (N, K) of a whole data set, in eval mode, ``batch_size`` inputs at a time; each chunk
    moves to the model's device (so ``x`` may stay on the CPU) and the concepts stay there."""
    senn = as_senn(model)
    device = model_device(senn) or x.device
    with eval_mode(senn):
        return torch.cat([senn.conceptizer(chunk.to(device))[0] for chunk in x.split(batch_size)])


def top_examples(concepts: torch.Tensor, k: int, mode: str = "activation") -> torch.Tensor:
    """Indices (K, k) of the examples that most express each concept.

    ``mode="activation"`` ranks by h_j(x); ``"contrast"`` by h_j(x) − Σ_{i≠j} h_i(x).
    """
    if mode == "activation":
        score = concepts
    elif mode == "contrast":
        score = 2 * concepts - concepts.sum(1, keepdim=True)  # h_j − Σ_{i≠j} h_i
    else:
        raise ValueError(f"mode {mode!r} is not 'activation' or 'contrast'")
    return score.topk(min(k, len(score)), dim=0).indices.T  # (k, K) -> (K, k)


@torch.no_grad()
def decoder_traversal(model: nn.Module, concepts: torch.Tensor, steps: int = 7) -> torch.Tensor:
    """Decoded inputs (K, steps, ...) sweeping each concept from its 1st to its 99th percentile.

    The other concepts stay at their medians over ``concepts`` (N, K). Needs a conceptizer with a
    ``decoder`` module (and uses its ``decode`` method where it has one).
    """
    senn = as_senn(model)
    if getattr(senn.conceptizer, "decoder", None) is None:
        raise ValueError(f"{type(senn.conceptizer).__name__} has no decoder, so it has no traversals")
    decode = getattr(senn.conceptizer, "decode", senn.conceptizer.decoder)
    k = concepts.shape[1]
    concepts = concepts.to(model_device(senn) or concepts.device)
    like = {"dtype": concepts.dtype, "device": concepts.device}
    low, high = torch.quantile(concepts, torch.tensor([0.01, 0.99], **like), dim=0)  # (K,), (K,)
    sweep = torch.linspace(0, 1, steps, **like).view(1, steps) * (high - low).view(k, 1)
    grid = concepts.median(0).values.repeat(k, steps, 1)  # (K, steps, K)
    diagonal = torch.arange(k, device=concepts.device)
    grid[diagonal, :, diagonal] = low.view(k, 1) + sweep
    with eval_mode(senn):
        decoded = decode(grid.flatten(0, 1))  # (K·steps, ...)
    return decoded.view(k, steps, *decoded.shape[1:])


def fourier_image(spectrum: torch.Tensor, size: tuple[int, int], decay: float = 1.0) -> torch.Tensor:
    """Images (B, C, H, W) from a learnable spectrum (B, C, H, W//2+1, 2), with 1/f amplitude scaling."""
    h, w = size
    like = {"dtype": spectrum.dtype, "device": spectrum.device}
    fy = torch.fft.fftfreq(h, **like).view(-1, 1)
    fx = torch.fft.rfftfreq(w, **like).view(1, -1)
    scale = 1.0 / torch.sqrt(fy**2 + fx**2).clamp_min(1.0 / max(h, w)) ** decay  # (H, W//2+1)
    image = torch.fft.irfft2(torch.view_as_complex(spectrum) * scale, s=(h, w), norm="ortho")
    return image / 4.0


def _random_affine(images: torch.Tensor, max_shift: float, generator: torch.Generator) -> torch.Tensor:
    """Each image jittered, scaled (±5%) and rotated (±10°) at random; reflected at the borders."""
    b, _, h, w = images.shape
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(10)
    scale = 1 + (torch.rand(b, generator=generator) * 2 - 1) * 0.05
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * max_shift * 2 / torch.tensor([w, h])
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(images, grid, padding_mode="reflection", align_corners=False)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels, per image (B,)."""
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().flatten(1).mean(1)
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().flatten(1).mean(1)
    return dy + dx


@torch.inference_mode(False)  # it optimizes: also when called in no_grad or inference mode (validation hooks)
@torch.enable_grad()
def feature_visualization(
    model: nn.Module,
    value_range: tuple[float, float],
    steps: int = 256,
    lr: float = 0.05,
    tv_weight: float = 0.05,
    seed: int = 0,
) -> torch.Tensor:
    """Images (K, C, H, W) that maximize each concept, optimized together in one batch.

    Parametrised in a decorrelated Fourier basis (color-decorrelated for 3 channels), squashed by a
    sigmoid into ``value_range`` (the data's min and max); random jitter of ``max(1, H/14)`` pixels,
    scaling and rotation every step; a total-variation penalty of weight ``tv_weight`` (relative to
    the value range) against high frequencies. Adam with learning rate ``lr``.
    """
    senn = as_senn(model)
    if senn.input_shape is None or len(senn.input_shape) != 3:
        raise ValueError(f"feature visualization needs image inputs (C, H, W), the model takes {senn.input_shape}")
    c, h, w = senn.input_shape
    if c not in (1, 3):
        raise ValueError(f"feature visualization supports 1- and 3-channel images, not {c}")
    device = model_device(senn)
    with eval_mode(senn), torch.no_grad():
        k = senn.conceptizer(torch.zeros(1, c, h, w, device=device))[0].shape[1]
    low, high = value_range
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same images on every device
    spectrum = (0.01 * torch.randn(k, c, h, w // 2 + 1, 2, generator=generator)).to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([spectrum], lr=lr)
    max_shift = max(1.0, h / 14)

    def render() -> torch.Tensor:
        image = fourier_image(spectrum, (h, w))  # (K, C, H, W)
        if c == 3:
            image = torch.einsum("ij,bjhw->bihw", _COLOR_SQRT.to(image), image)
        return low + (high - low) * torch.sigmoid(image)

    with eval_mode(senn):
        for _ in range(steps):
            images = _random_affine(render(), max_shift, generator)
            activation = senn.conceptizer(images)[0].diagonal()  # (K,): concept j of image j
            loss = -activation.sum() + tv_weight * (high - low) * total_variation(images).sum() * k
            optimizer.zero_grad()
            loss.backward(inputs=[spectrum])
            optimizer.step()
    return render().detach()


@dataclass
class CollapseReport:
    """Concepts that carry no information of their own."""

    dead: list[int]
    """Concepts whose activation never varies over the data (std below the tolerance)."""
    duplicates: list[tuple[int, int, float]]
    """Pairs (i, j, correlation) whose activations correlate above the threshold in absolute value."""

    @property
    def ok(self) -> bool:
        """True when no concept is dead or duplicated."""
        return not self.dead and not self.duplicates


def concept_collapse(
    concepts: torch.Tensor, tolerance: float = 1e-6, threshold: float = 0.95, constant: Sequence[int] = ()
) -> CollapseReport:
    """Dead and duplicated concepts from activations (N, K) over a data set.

    ``constant`` lists concepts that are constant by design (a conceptizer's ``bias`` concept): they are
    neither reported dead nor compared with the others.
    """
    std = concepts.std(0)
    dead = [int(i) for i in torch.nonzero(std <= tolerance).flatten() if int(i) not in constant]
    alive = [i for i in range(concepts.shape[1]) if i not in dead and i not in constant]
    duplicates = []
    if len(alive) > 1:
        corr = torch.corrcoef(concepts[:, alive].T)  # (A, A)
        for a, i in enumerate(alive):
            for b in range(a + 1, len(alive)):
                if abs(float(corr[a, b])) >= threshold:
                    duplicates.append((i, alive[b], round(float(corr[a, b]), 4)))
    return CollapseReport(dead, duplicates)


@dataclass
class Prototypes:
    """Every view of every concept; images have the inputs' shape, grids are (K, n, ...)."""

    by_activation: torch.Tensor
    """(K, k) data-set indices of the top examples by activation."""
    by_contrast: torch.Tensor
    """(K, k) indices by contrast."""
    activation_images: torch.Tensor
    """(K, k, ...) those examples."""
    contrast_images: torch.Tensor
    """(K, k, ...)."""
    collapse: CollapseReport
    traversals: torch.Tensor | None = None
    """(K, steps, ...) decoder traversals, if the encoder has a decoder."""
    feature_visualizations: torch.Tensor | None = None
    """(K, ...) optimized inputs, for image models."""
    concept_names: list[str] = field(default_factory=list)

    def export(self, directory: str | Path) -> list[Path]:
        """Write ``concept_<k>.npz`` (every array of the concept) and ``collapse.json``; return the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        views = {
            "by_activation": self.by_activation,
            "by_contrast": self.by_contrast,
            "activation_images": self.activation_images,
            "contrast_images": self.contrast_images,
            "traversal": self.traversals,
            "feature_visualization": self.feature_visualizations,
        }
        paths = [directory / f"concept_{j + 1}.npz" for j in range(len(self.by_activation))]
        for j, path in enumerate(paths):
            np.savez_compressed(path, **{name: v[j].cpu().numpy() for name, v in views.items() if v is not None})
        collapse = directory / "collapse.json"
        collapse.write_text(json.dumps({"dead": self.collapse.dead, "duplicates": self.collapse.duplicates}) + "\n")
        return [*paths, collapse]


def concept_prototypes(
    model: nn.Module,
    x: torch.Tensor,
    k: int = 8,
    traversal_steps: int = 7,
    feature_vis_steps: int = 256,
) -> Prototypes:
    """All prototype views of a SENN's concepts over the data ``x`` (N, ...).

    Traversals are computed when the conceptizer has a decoder, feature visualizations for image
    inputs (``feature_vis_steps=0`` skips them). The model may sit on any device and ``x`` may stay on
    the CPU; the views come back on the CPU, for figures and files.
    """
    senn = as_senn(model)
    concepts = concept_activations(senn, x)  # (N, K), on the model's device
    by_activation = top_examples(concepts, k, "activation").cpu()  # (K, k) indices into x
    by_contrast = top_examples(concepts, k, "contrast").cpu()
    images = x.cpu()
    has_decoder = getattr(senn.conceptizer, "decoder", None) is not None
    by_design = [concepts.shape[1] - 1] if getattr(senn.conceptizer, "bias", False) else []  # the constant concept
    return Prototypes(
        by_activation=by_activation,
        by_contrast=by_contrast,
        activation_images=images[by_activation],  # (K, k, ...)
        contrast_images=images[by_contrast],
        collapse=concept_collapse(concepts.cpu(), constant=by_design),
        traversals=decoder_traversal(senn, concepts, traversal_steps).cpu() if has_decoder else None,
        feature_visualizations=(
            feature_visualization(senn, (float(x.min()), float(x.max())), feature_vis_steps).cpu()
            if x.dim() == 4 and feature_vis_steps > 0
            else None
        ),
        concept_names=[f"concept {j + 1}" for j in range(concepts.shape[1])],
    )
