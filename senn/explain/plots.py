"""Figures of SENN explanations, as the paper draws them. Plotting stays here, outside the models."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # files, not windows: safe on headless machines and in worker processes

import matplotlib.pyplot as plt
import numpy as np
import torch

from senn.explain.explanation import Explanation

POSITIVE, NEGATIVE = "#2c7bb6", "#d7191c"


def show_input(ax: plt.Axes, x: torch.Tensor, feature_names: Sequence[str] | None = None) -> None:
    """Draw one input: an image (C, H, W) as a picture, a feature vector as horizontal bars."""
    x = x.detach().cpu()
    if x.dim() == 3:
        image = x.permute(1, 2, 0).numpy()
        image = (image - image.min()) / max(float(image.max() - image.min()), 1e-12)
        ax.imshow(image if image.shape[2] == 3 else image.mean(2), cmap="gray")  # RGB, else channel mean
        ax.set_xticks([]), ax.set_yticks([])
    else:
        values = x.flatten().numpy()
        names = feature_names or [f"x{i}" for i in range(len(values))]
        ax.barh(range(len(values)), values, color="gray")
        ax.set_yticks(range(len(values)), names, fontsize=7)
        ax.invert_yaxis()
    ax.set_title("input")


def plot_relevance_bars(
    ax: plt.Axes, values: np.ndarray, names: Sequence[str], title: str, xlabel: str = "relevance"
) -> None:
    """Horizontal bars, blue for positive and red for negative values, first name on top."""
    ax.barh(range(len(values)), values, color=[POSITIVE if v >= 0 else NEGATIVE for v in values])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(values)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)


def plot_explanation(
    explanation: Explanation,
    x: torch.Tensor,
    index: int = 0,
    concept_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
) -> plt.Figure:
    """The paper's per-prediction figure: the input next to the relevances θ_k,ŷ of its explained class.

    A third panel shows the contributions θ_k,ŷ · h_k, which sum to the class's logit.

    Args:
        explanation: from :func:`senn.explain`.
        x: the explained inputs (B, ...), or the single input at ``index``.
        index: which example of the batch to draw.
        concept_names: names of the K concepts (default ``concept 1..K``).
        class_names: names of the classes (default their indices).
        feature_names: names of tabular input features, for the input panel.
    """
    e = explanation[index]
    one = x[index] if len(x) == len(explanation) else x
    k = e.concepts.shape[1]
    names = list(concept_names) if concept_names is not None else [f"concept {i + 1}" for i in range(k)]
    target = int(e.target[0])
    label = class_names[target] if class_names is not None else str(target)
    prob = float(e.probabilities[0, target]) if e.probabilities.shape[1] > target else float("nan")
    fig, axes = plt.subplots(1, 3, figsize=(11, max(2.8, 0.28 * k + 1)), width_ratios=[1, 1.2, 1.2])
    show_input(axes[0], one, feature_names)
    plot_relevance_bars(axes[1], e.target_relevances[0].cpu().numpy(), names, f"relevance θ for class {label}")
    plot_relevance_bars(axes[2], e.target_contributions[0].cpu().numpy(), names, "contribution θ·h", "θ·h")
    fig.suptitle(f"explained class {label} (p = {prob:.3f}), predicted {int(e.prediction[0])}")
    fig.tight_layout()
    return fig


def plot_input_relevance(
    explanation: Explanation, input_shape: Sequence[int], index: int = 0, feature_names: Sequence[str] | None = None
) -> plt.Figure:
    """For raw-feature concepts (h(x) = x): relevances of the explained class over the input itself.

    Images get a diverging heat map over the pixels (channels averaged); feature vectors get bars.
    A trailing bias concept, if present, is left out.
    """
    e = explanation[index]
    size = int(np.prod(input_shape))
    values = e.target_relevances[0, :size].cpu()
    if values.numel() != size:
        raise ValueError(f"{values.numel()} relevances cannot cover an input of shape {tuple(input_shape)}")
    if len(input_shape) == 3:
        heat = values.view(*input_shape).mean(0).numpy()
        bound = float(np.abs(heat).max()) or 1.0
        fig, ax = plt.subplots(figsize=(4, 4))
        image = ax.imshow(heat, cmap="RdBu", vmin=-bound, vmax=bound)
        fig.colorbar(image, ax=ax, fraction=0.046)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"relevance per pixel, class {int(e.target[0])}")
    else:
        names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(size)]
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * size + 1)))
        plot_relevance_bars(ax, values.numpy(), names, f"relevance per feature, class {int(e.target[0])}")
    fig.tight_layout()
    return fig
