"""What the explorer page carries: per example its input, h(x) and θ(x); per concept its range, name and views.

The page recomputes ``logits_c = Σ_k θ_kc h_k`` itself when a concept is steered, exactly as
:func:`senn.intervene` does (θ(x) stays fixed), so everything it needs is here as plain numbers.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import torch
from PIL import Image

from senn import tasks
from senn.data.base import SplitDataModule
from senn.explain import Explanation, explain
from senn.explain.plots import displayable
from senn.explain.prototypes import concept_activations, decoder_traversal, feature_visualization, top_examples
from senn.metrics import concept_alignment, intervention_plan
from senn.models import SENN
from senn.models.utils import as_senn

DIGITS = 7
"""Significant digits of the embedded numbers: the page's logits match the model's to about 1e-6 relative."""
TOP = 8
"""Top examples shown per concept, by activation and by contrast."""
RANGE_SAMPLE = 2000
"""Training examples whose concept values set each slider's range."""


def png(image: torch.Tensor, scale: tuple[float, float] | None = None) -> str:
    """An image (C, H, W) as a PNG data URI, as the figures show it (:func:`~senn.explain.plots.displayable`)."""
    buffer = io.BytesIO()
    pixels = (displayable(image, scale) * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _round(values: torch.Tensor) -> Any:
    """Nested lists of numbers with :data:`DIGITS` significant digits (compact JSON)."""
    array = values.detach().cpu().double().numpy()
    return np.vectorize(lambda v: float(f"{v:.{DIGITS}g}"), otypes=[float])(array).tolist() if array.size else []


def _examples(senn: SENN, e: Explanation, x: torch.Tensor, y: torch.Tensor, ids: torch.Tensor,
              annotations: torch.Tensor | None) -> list[dict[str, Any]]:  # fmt: skip
    """Per example: its split index, label, input (a PNG, or a table row's raw values), h(x) and θ(x) (from ``e``,
    the explanation of ``x``)."""
    h, theta = _round(e.concepts), _round(e.relevances)  # (N, K), (N, K, C)
    rows = []
    for i in range(len(x)):
        row = {"id": int(ids[i]), "label": float(y[i]) if not tasks.is_classification(senn.task) else int(y[i]),
               "h": h[i], "theta": theta[i]}  # fmt: skip
        if e.raw_inputs is not None:
            row["raw"] = {str(k): v if isinstance(v, str) else float(f"{v:.6g}") for k, v in e.raw_inputs[i].items()}
        elif x.dim() == 4:
            row["image"] = png(x[i])
        else:
            row["raw"] = dict(zip(senn.feature_names or [f"x{j + 1}" for j in range(x[i].numel())],
                                  _round(x[i].flatten()), strict=True))  # fmt: skip
        if annotations is not None:
            row["annotations"] = [None if np.isnan(v) else int(v) for v in annotations[i].tolist()]
        rows.append(row)
    return rows


def _concepts(senn: SENN, train_h: torch.Tensor, x: torch.Tensor, h: torch.Tensor, vis_steps: int) -> list[dict]:
    """Per concept: name, slider range (the training split's 1st–99th percentile, widened by a tenth), and the
    decoder traversal and feature visualization as PNGs where the model has them."""
    k = train_h.shape[1]
    names = list(senn.concept_names or [f"concept {j + 1}" for j in range(k)])
    if senn.concept_names is None and getattr(senn.conceptizer, "bias", False):
        names[-1] = "bias (constant 1)"  # the intercept concept: its θ is an input-dependent bias
    low, high = torch.quantile(train_h.double(), torch.tensor([0.01, 0.99], dtype=torch.double), dim=0)  # (K,) each
    margin = (high - low).clamp_min(1e-3) * 0.1
    concepts = [{"name": names[j], "min": float(f"{low[j] - margin[j]:.4g}"),
                 "max": float(f"{high[j] + margin[j]:.4g}")} for j in range(k)]  # fmt: skip
    if x.dim() == 4 and getattr(senn.conceptizer, "decoder", None) is not None:
        traversals = decoder_traversal(senn, h, 7).cpu()  # (K, steps, C, H, W)
        for j in range(k):
            scale = (float(traversals[j].min()), float(traversals[j].max()))  # one scale: the sweep shows
            concepts[j]["traversal"] = [png(image, scale) for image in traversals[j]]
    if x.dim() == 4 and x.shape[1] in (1, 3) and vis_steps > 0:  # grey or RGB images
        shown = feature_visualization(senn, (float(x.min()), float(x.max())), vis_steps).cpu()  # (K, C, H, W)
        for j in range(k):
            concepts[j]["feature_visualization"] = png(shown[j])
    return concepts


def _ground_truth(module: Any, datamodule: SplitDataModule, split: str, seed: int) -> dict[str, Any] | None:
    """Where the data annotates concepts: the true concepts' names, every learned concept's held-out AUC for
    each, and how "set all true concepts" sets them: per true concept its learned column and the values of
    its states 0 and 1, as the concept section's intervention curve sets them."""
    if split not in datamodule.concepts or "train" not in datamodule.concepts:
        return None
    senn = as_senn(module)
    true = datamodule.concepts[split]
    alignment = concept_alignment(concept_activations(senn, datamodule.splits[split][0]).cpu(), true, seed=seed)
    train_h = concept_activations(senn, datamodule.splits["train"][0]).cpu()
    columns, values = intervention_plan(module, train_h, datamodule.concepts["train"], alignment.matching)
    names = list(datamodule.concept_names or [f"true concept {j + 1}" for j in range(true.shape[1])])
    return {"names": names, "auc": _round(alignment.auc), "columns": columns.tolist(), "values": _round(values)}


def explorer_data(module: Any, datamodule: SplitDataModule, split: str = "test", num_examples: int = 200,
                  seed: int = 0, feature_vis_steps: int = 64, title: str = "") -> dict[str, Any]:  # fmt: skip
    """Everything the explorer page shows of ``module`` (a SENN or a module holding one) on ``num_examples``
    examples of ``split`` (a seeded random subset), as plain containers for JSON."""
    if num_examples < 1:
        raise ValueError(f"the page needs at least one example (num_examples={num_examples})")
    senn = as_senn(module)
    datamodule.setup()
    size = datamodule.split_size(split)
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed))[: min(num_examples, size)]
    order = order.sort().values
    x, y = datamodule.take(split, order)
    annotations = datamodule.concepts[split][order] if split in datamodule.concepts else None
    train_x, _ = datamodule.head("train", RANGE_SAMPLE)
    truth = _ground_truth(module, datamodule, split, seed)
    task = senn.task
    outputs = senn.num_classes or 1
    e = explain(senn, x).cpu()  # h(x) and θ(x) of the examples on the page
    classes = list(senn.class_names or ([f"class {c}" for c in range(tasks.num_class_names(task, outputs) or 0)]))
    data = {
        "title": title,
        "split": split,
        "task": task,
        "classes": classes,
        "outputs": [f"output {c}" for c in range(outputs)] if not tasks.is_classification(task) else
                   [classes[tasks.class_of_output(c, True, task)] for c in range(outputs)],
        "concepts": _concepts(senn, concept_activations(senn, train_x).cpu(), x, e.concepts, feature_vis_steps),
        "truth": truth,
        "examples": _examples(senn, e, x, y, order, annotations),
    }  # fmt: skip
    for mode in ("activation", "contrast"):  # each concept's top examples among those on the page
        for j, top in enumerate(top_examples(e.concepts, TOP, mode).tolist()):
            data["concepts"][j][f"top_{mode}"] = top
    return data
