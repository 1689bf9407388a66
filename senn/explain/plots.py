"""Figures of SENN explanations, as the paper draws them. Plotting stays here, outside the models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.image import AxesImage

from senn.explain.explanation import Explanation
from senn.explain.prototypes import Prototypes

POSITIVE, NEGATIVE = "#2c7bb6", "#d7191c"


def show_input(ax: plt.Axes, x: torch.Tensor, feature_names: Sequence[str] | None = None,
               raw: Mapping[str, object] | None = None) -> None:  # fmt: skip
    """Draw one input: an image (C, H, W) as a picture, a feature vector as horizontal bars (the model's
    standardized inputs), each labelled with its name and, given ``raw`` values by column, the raw value."""
    x = x.detach().cpu()
    if x.dim() == 3:
        ax.imshow(displayable(x), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
    else:
        values = x.flatten().numpy()
        names = list(feature_names or [f"x{i}" for i in range(len(values))])
        if raw is not None:
            names = [f"{n} = {raw[n]:.4g}" if isinstance(raw.get(n), float) else n for n in names]
        ax.barh(range(len(values)), values, color="gray")
        ax.set_yticks(range(len(values)), names, fontsize=7)
        ax.invert_yaxis()
    ax.set_title("input" if x.dim() == 3 or raw is None else "input (bars: standardized)")


def plot_relevance_bars(
    ax: plt.Axes, values: np.ndarray, names: Sequence[str] | None, title: str, xlabel: str = "relevance"
) -> None:
    """Horizontal bars, blue for positive and red for negative values, first name on top (no names: no ticks)."""
    ax.barh(range(len(values)), values, color=[POSITIVE if v >= 0 else NEGATIVE for v in values])
    ax.axvline(0, color="black", linewidth=0.8)
    if names is None:
        ax.set_yticks([])
    else:
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
    prototypes: Prototypes | None = None,
    thumbnails: int = 4,
) -> plt.Figure:
    """The paper's per-prediction figure: the input next to the relevances θ_k,ŷ of its explained class.

    A third panel shows the contributions θ_k,ŷ · h_k, which sum to the class's logit. Given the
    concepts' ``prototypes`` (image data), a fourth shows what each concept is, beside its bar: its
    ``thumbnails`` top examples by activation, as the SENN paper's figures do.

    Args:
        explanation: from :func:`senn.explain`.
        x: the explained batch (B, ...), or the one input of a one-example explanation.
        index: which example of the batch to draw.
        concept_names: names of the K concepts (default: the explanation's, else ``concept 1..K``).
        class_names: names of the classes (default: the explanation's, else their indices).
        feature_names: names of tabular input features, for the input panel.
        prototypes: the concepts' prototypes (image data), to show each concept's top examples.
        thumbnails: how many top examples per concept.
    """
    e = explanation[index]
    one = _one_input(x, explanation, index)
    if concept_names is not None or class_names is not None:
        e = replace(e, concept_names=tuple(concept_names) if concept_names is not None else e.concept_names,
                    class_names=tuple(class_names) if class_names is not None else e.class_names)  # fmt: skip
    (record,) = e.to_records()
    names = e.concept_labels
    images = prototypes.activation_images[:, :thumbnails] if prototypes is not None else None  # (K, n, C, H, W)
    widths = [1, 1.2, 1.2] + ([0.2 * images.shape[1]] if images is not None else [])
    height = max(2.8, (0.28 if images is None else 0.55) * len(names) + 1)
    fig, axes = plt.subplots(1, len(widths), figsize=(11 + 2 * (images is not None), height), width_ratios=widths)
    show_input(axes[0], one, feature_names or e.feature_names, e.raw_inputs[0] if e.raw_inputs else None)
    plot_relevance_bars(axes[1], e.target_relevances[0].cpu().numpy(), names, f"relevance θ for {record['explained']}")
    plot_relevance_bars(axes[2], e.target_contributions[0].cpu().numpy(), names, "contribution θ·h", "θ·h")
    if images is not None:
        _show_thumbnails(axes[3], images, axes[2])
    fig.suptitle(e.headline(record))
    fig.tight_layout()
    return fig


def _show_thumbnails(ax: plt.Axes, images: torch.Tensor, bars: plt.Axes) -> None:
    """Row k of ``images`` (K, n, C, H, W) beside bar k of ``bars``: the same vertical positions."""
    for k, row in enumerate(images):
        for j, image in enumerate(row):
            ax.imshow(displayable(image), cmap="gray", vmin=0, vmax=1, extent=(j, j + 0.92, k + 0.46, k - 0.46))
    ax.set_xlim(0, images.shape[1])
    ax.set_ylim(bars.get_ylim())
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title("top examples", fontsize=9)


def _one_input(x: torch.Tensor, explanation: Explanation, index: int) -> torch.Tensor:
    """Example ``index`` of the explained batch ``x``, or ``x`` itself when it is the one explained input."""
    single = x.dim() in (1, 3)  # one feature vector (D,) or image (C, H, W); batches are (B, D) or (B, C, H, W)
    if single and len(explanation) == 1:
        return x
    if not single and len(x) == len(explanation):
        return x[index]
    raise ValueError(f"x holds {len(x)} inputs but the explanation {len(explanation)}: pass the explained batch")


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
        fig, ax = plt.subplots(figsize=(4, 4))
        fig.colorbar(_heat_map(ax, values.view(*input_shape).mean(0)), ax=ax, fraction=0.046)
        ax.set_title(f"relevance per pixel, {e.class_label(int(e.target[0]))}")
    else:
        names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(size)]
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * size + 1)))
        plot_relevance_bars(ax, values.numpy(), names, f"relevance per feature, {e.class_label(int(e.target[0]))}")
    fig.tight_layout()
    return fig


def _heat_map(ax: plt.Axes, heat: torch.Tensor) -> AxesImage:
    """A diverging map of signed values (H, W) around 0, without axes."""
    bound = float(heat.abs().max()) or 1.0
    ax.axis("off")
    return ax.imshow(heat.numpy(), cmap="RdBu", vmin=-bound, vmax=bound)


def displayable(image: torch.Tensor, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """An image (C, H, W) as values in [0, 1], scaled from ``value_range`` (default its own range): (H, W, 3) for
    RGB, else (H, W), the mean over the channels."""
    image = image.detach().cpu().float()
    low, high = value_range if value_range is not None else (float(image.min()), float(image.max()))
    image = ((image - low) / max(high - low, 1e-12)).clamp(0, 1)
    return image.permute(1, 2, 0).numpy() if image.shape[0] == 3 else image.mean(0).numpy()


def plot_prototypes(prototypes: Prototypes, concepts: Sequence[int] | None = None) -> plt.Figure:
    """One row per concept: top examples by activation, by contrast, the decoder traversal and the
    feature visualization, side by side (image data only)."""
    rows = list(concepts) if concepts is not None else list(range(len(prototypes.by_activation)))
    blocks = [("top by activation", prototypes.activation_images), ("top by contrast", prototypes.contrast_images)]
    if prototypes.traversals is not None:  # one brightness scale per row, so that the sweep shows
        blocks.append(("decoder traversal (low → high)", prototypes.traversals))
    if prototypes.feature_visualizations is not None:
        blocks.append(("feature vis.", prototypes.feature_visualizations.unsqueeze(1)))
    widths = [images.shape[1] for _, images in blocks]
    fig = plt.figure(figsize=(0.75 * (sum(widths) + len(blocks)), 0.85 * len(rows) + 0.5))
    grid = fig.add_gridspec(len(rows), len(blocks), width_ratios=widths, wspace=0.08)
    for r, concept in enumerate(rows):
        for b, (title, images) in enumerate(blocks):
            cell = grid[r, b].subgridspec(1, images.shape[1], wspace=0.03)
            for i in range(images.shape[1]):
                ax = fig.add_subplot(cell[0, i])
                row = images[concept]
                scale = (float(row.min()), float(row.max())) if images is prototypes.traversals else None
                ax.imshow(displayable(row[i], scale), cmap="gray", vmin=0, vmax=1)
                ax.axis("off")
                if r == 0 and i == 0:
                    ax.set_title(title, fontsize=8, loc="left")
                if b == 0 and i == 0:
                    name = prototypes.concept_names[concept] if prototypes.concept_names else f"concept {concept + 1}"
                    ax.text(-0.15, 0.5, name, transform=ax.transAxes, ha="right", va="center", fontsize=8)
    return fig


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG cropped to what it draws, close it (figures hold memory until closed), return
    the path."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def save_prototype_figures(prototypes: Prototypes, directory: str | Path) -> list[Path]:
    """``prototypes.png`` with every concept, and ``concept_<k>.png`` per concept; return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures = [("prototypes", None), *[(f"concept_{j + 1}", [j]) for j in range(len(prototypes.by_activation))]]
    return [save_figure(plot_prototypes(prototypes, rows), directory / f"{name}.png") for name, rows in figures]


def plot_metric_boxes(values: Mapping[str, np.ndarray], title: str, ylabel: str, log: bool = True) -> plt.Figure:
    """Box plots of one metric for every method (the paper's Fig. 3-5 style); NaNs are left out."""
    names = list(values)
    data = [np.asarray(values[n], dtype=float)[np.isfinite(values[n])] for n in names]
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 1.5, 3.6))
    ax.boxplot(data, showfliers=True)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=8)
    if log and all(len(d) and (d > 0).all() for d in data):
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_attributions(
    x: torch.Tensor, attributions: Mapping[str, torch.Tensor], feature_names: Sequence[str] | None = None
) -> plt.Figure:
    """Inputs (N, ...) in the first column, each method's attributions (N, ...) in the next ones:
    diverging heat maps over pixels for images (channels summed), bars for feature vectors. One input
    (an image (C, H, W) or a feature vector (D,)) with attributions of its shape is drawn as a row."""
    if x.dim() in (1, 3):  # one example without a batch dimension
        x, attributions = x[None], {k: v[None] if v.dim() == x.dim() else v for k, v in attributions.items()}
    n, methods = len(x), list(attributions)
    image = x.dim() == 4
    fig, axes = plt.subplots(n, len(methods) + 1, figsize=(1.9 * (len(methods) + 1), 1.9 * n if image else 3.0 * n),
                             squeeze=False)  # fmt: skip
    for i in range(n):
        show_input(axes[i, 0], x[i], feature_names)
        axes[i, 0].set_title("input" if i == 0 else "")
        for j, method in enumerate(methods, start=1):
            ax, values = axes[i, j], attributions[method][i].detach().cpu().float()
            if image:
                _heat_map(ax, values.sum(0))
            else:
                plot_relevance_bars(ax, values.flatten().numpy(), None, "", xlabel="")
            if i == 0:
                ax.set_title(method, fontsize=8)
    fig.tight_layout()
    return fig


def plot_concept_alignment(auc: np.ndarray, true_names: Sequence[str], matching: Sequence[int],
                           learned_names: Sequence[str] | None = None) -> plt.Figure:  # fmt: skip
    """Heatmap of the learned × true concept AUCs (K, M), matched pairs outlined; rows named ``learned_names``."""
    auc = np.asarray(auc, dtype=float)
    k, m = auc.shape
    fig, ax = plt.subplots(figsize=(1.1 * m + 2.2, 0.45 * k + 1.6))
    image = ax.imshow(auc, vmin=0.5, vmax=1.0, cmap="viridis")
    for i in range(k):
        for j in range(m):
            ax.text(j, i, f"{auc[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if auc[i, j] > 0.8 else "white")  # fmt: skip
    for j, i in enumerate(matching):
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_xticks(range(m), list(true_names), rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(k), list(learned_names or [f"concept {i + 1}" for i in range(k)]), fontsize=8)
    ax.set_xlabel("true concept")
    ax.set_title("held-out AUC of each learned concept for each true one (red: matched)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_intervention_curve(curves: Mapping[str, np.ndarray]) -> plt.Figure:
    """Task accuracy against the number of concepts set to their true values, one line per order."""
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for name, curve in curves.items():
        curve = np.asarray(curve, dtype=float)
        ax.plot(range(len(curve)), 100 * curve, marker="o", label=name)
    ax.set_xticks(range(len(curve)))
    ax.set_ylim(0, 100)  # the whole scale: a small change looks small
    ax.set_xlabel("true concepts set")
    ax.set_ylabel("task accuracy %")
    ax.set_title("Interventions: concepts set to their true values, θ(x) kept", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
