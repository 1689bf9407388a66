"""``senn.explain``: a SENN's own explanation of its predictions, as a structured result."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import pandas as pd
import torch
from torch import nn

from senn import tasks
from senn.models.utils import as_senn, check_inputs, eval_mode, model_device
from senn.tasks import output_relevances


@dataclass(frozen=True)
class Explanation:
    """What a SENN says about a batch of inputs: the concepts present and how much each pushes each class.

    ``target`` is the explained output column for every example (the predicted class unless another
    was asked for); the ``target_*`` properties select it. A binary model has one output, the score
    of the positive class: that is what its explanation explains, whatever the prediction.

    ``str(explanation)`` reads as text (the prediction, then the concepts ranked by the size of their
    contribution); :meth:`to_frame` and :meth:`to_json` give the same as a table and as JSON.
    """

    logits: torch.Tensor
    """(B, C) model outputs."""
    probabilities: torch.Tensor
    """(B, C) softmax for multiclass, sigmoid for binary; the outputs themselves for regression."""
    prediction: torch.Tensor
    """(B,) predicted class (0/1 for binary); for regression the first output."""
    target: torch.Tensor
    """(B,) explained output column (0 for binary and single-output regression)."""
    concepts: torch.Tensor
    """(B, K) concept activations h(x)."""
    relevances: torch.Tensor
    """(B, K, C) relevances θ(x)."""
    concept_names: tuple[str, ...] | None = None
    """A name per concept (``None``: ``concept 1`` … ``concept K``)."""
    class_names: tuple[str, ...] | None = None
    """A name per class (binary: the negative, then the positive class)."""
    task: str = "multiclass"
    """``multiclass``, ``binary`` or ``regression``: how the outputs read."""
    feature_names: tuple[str, ...] | None = None
    """A name per input feature of tabular data."""
    raw_inputs: tuple[dict[str, Any], ...] | None = None
    """Per example, a table's raw column values (the stored preprocessing undone); None for images."""

    @property
    def concept_labels(self) -> list[str]:
        """The concepts' names, or ``concept 1`` … ``concept K``."""
        k = self.concepts.shape[1]
        return list(self.concept_names) if self.concept_names is not None else [f"concept {i + 1}" for i in range(k)]

    def class_label(self, column: int, positive: bool = True) -> str:
        """The name of output ``column``'s class (``class 3`` without names); for a binary model the positive
        (or negative) class."""
        if not tasks.is_classification(self.task):
            return f"output {column}"
        index = tasks.class_of_output(column, positive, self.task)
        return self.class_names[index] if self.class_names is not None else f"class {index}"

    @property
    def target_probabilities(self) -> torch.Tensor:
        """(B,) the probability of the explained class (binary: of the positive class; regression: the output)."""
        return self.probabilities.gather(1, self.target.view(-1, 1))[:, 0]

    @property
    def prediction_probabilities(self) -> torch.Tensor:
        """(B,) the probability of the predicted class (regression: the output)."""
        return tasks.predicted_probability(self.probabilities, self.prediction, self.task)

    @property
    def contributions(self) -> torch.Tensor:
        """(B, K, C) each concept's contribution θ_kc · h_k to each output; they sum to the logits."""
        return self.relevances * self.concepts.unsqueeze(-1)

    @property
    def target_relevances(self) -> torch.Tensor:
        """(B, K) relevances θ_k,target of the explained output."""
        return output_relevances(self.relevances, self.target)

    @property
    def target_contributions(self) -> torch.Tensor:
        """(B, K) contributions θ_k,target · h_k to the explained output."""
        return self.target_relevances * self.concepts

    def __len__(self) -> int:
        return len(self.logits)

    def cpu(self) -> Explanation:
        """The same explanation with every tensor on the CPU."""
        return replace(self, **{k: v.cpu() for k, v in vars(self).items() if isinstance(v, torch.Tensor)})

    def __getitem__(self, index: int | slice | torch.Tensor) -> Explanation:
        """The explanation of some examples (an int keeps a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        elif isinstance(index, list):
            index = torch.as_tensor(index, dtype=torch.long)
        rows = torch.arange(len(self))[index.cpu() if isinstance(index, torch.Tensor) else index].tolist()
        parts = {f.name: value[index] if isinstance(value := getattr(self, f.name), torch.Tensor) else value
                 for f in fields(self)}  # fmt: skip
        if self.raw_inputs is not None:
            parts["raw_inputs"] = tuple(self.raw_inputs[i] for i in rows)
        return Explanation(**parts)

    def to_records(self) -> list[dict[str, Any]]:
        """Per example: prediction, explained class, their probabilities, the explained logit and every
        concept (name, value, relevance, contribution), ranked by the size of its contribution."""
        records = []
        names = self.concept_labels
        values, relevances = self.concepts.tolist(), self.target_relevances.tolist()  # (B, K) each, computed once
        contributions = self.target_contributions.tolist()
        predicted_p, target_p = self.prediction_probabilities.tolist(), self.target_probabilities.tolist()
        for i, (prediction, target) in enumerate(zip(self.prediction.tolist(), self.target.tolist(), strict=True)):
            order = sorted(range(len(names)), key=lambda k: -abs(contributions[i][k]))
            records.append({
                "prediction": float(prediction) if not tasks.is_classification(self.task)
                else self.class_label(int(prediction), positive=prediction == 1),
                "prediction_probability": predicted_p[i],
                "explained": self.class_label(target),
                "explained_probability": target_p[i],
                "explained_logit": float(self.logits[i, target]),
                **({"input": self.raw_inputs[i]} if self.raw_inputs is not None else {}),
                "concepts": [{"name": names[k], "value": values[i][k], "relevance": relevances[i][k],
                              "contribution": contributions[i][k]} for k in order],
            })  # fmt: skip
        return records

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_records` as JSON (keyword arguments go to :func:`json.dumps`, e.g. ``indent=2``)."""
        return json.dumps(self.to_records(), **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """One row per (example, concept), ranked within each example: the long table of :meth:`to_records`."""
        rows = [
            {"example": i, "rank": rank + 1, "prediction": r["prediction"], "explained": r["explained"],
             "explained_probability": r["explained_probability"], "concept": c["name"], "value": c["value"],
             "relevance": c["relevance"], "contribution": c["contribution"]}
            for i, r in enumerate(self.to_records()) for rank, c in enumerate(r["concepts"])
        ]  # fmt: skip
        return pd.DataFrame(rows)

    def to_text(self, top: int | None = 10, labels: Sequence[str] | None = None) -> str:
        """The explanations as text: per example (headed ``labels[i]``, default ``example i``), the prediction
        and the ``top`` concepts by |contribution|."""
        blocks = []
        for i, r in enumerate(self.to_records()):
            head = f"{labels[i] if labels is not None else f'example {i}'}: {self.headline(r)}"
            if "input" in r:
                items = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["input"].items()]
                head += "\n  input: " + ", ".join(items[:12]) + (f", … ({len(items) - 12} more)" * (len(items) > 12))
            shown = r["concepts"][:top] if top is not None else r["concepts"]
            width = max([len("concept"), *(len(c["name"]) for c in shown)])
            lines = [head, f"  {'concept':<{width}}  {'value':>9}  {'relevance':>9}  {'contribution':>12}"]
            lines += [f"  {c['name']:<{width}}  {c['value']:>9.4g}  {c['relevance']:>9.4g}  {c['contribution']:>12.4g}"
                      for c in shown]  # fmt: skip
            rest = r["concepts"][len(shown) :]
            if rest:
                lines.append(f"  … {len(rest)} more concepts, contributing {sum(c['contribution'] for c in rest):.4g}")
            total = sum(c["contribution"] for c in r["concepts"])
            summed = abs(total - r["explained_logit"]) <= 1e-4 * max(1.0, abs(total))
            score = "logit" if tasks.is_classification(self.task) else "output"
            lines.append(f"  {score} {r['explained_logit']:.4g}" + " = the sum of the contributions" * summed)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def headline(self, record: dict[str, Any]) -> str:
        """One example's :meth:`to_records` record in a line: ``predicted A (p = …)``, and the explained class
        with its own probability where it differs (binary: the positive class's score explains a negative)."""
        if not tasks.is_classification(self.task):
            return f"output {record['prediction']:.4g}"
        head = f"predicted {record['prediction']} (p = {record['prediction_probability']:.3f})"
        if record["explained"] != record["prediction"]:
            head += f"; explaining {record['explained']} (p = {record['explained_probability']:.3f})"
        return head

    def __str__(self) -> str:
        return self.to_text()


def class_output(model: nn.Module, target: str | int) -> int:
    """The output column that explains class ``target`` of a SENN, given by name or class index.

    Raises ``ValueError`` for an unknown class, and for a binary model's negative class: its one output
    scores the positive class, and towards the negative one every relevance only flips its sign.
    """
    senn = as_senn(model)
    names = list(senn.class_names or [])
    if target in names:
        index = names.index(target)
    elif str(target).isdigit():
        index = int(target)
    else:
        raise ValueError(f"target={target!r} is not a class of this model (its classes: {names})")
    column = tasks.output_of_class(index, senn.task)
    if column is None:  # a binary model's negative class
        positive = names[1] if names else "class 1"
        raise ValueError(
            f"target={target!r}: this binary model has one output, the score of {positive!r}, which is what it "
            f"explains; towards {target!r} every relevance is the same with its sign flipped. Leave target unset"
        )
    return column


@torch.no_grad()
def explain(model: nn.Module, x: torch.Tensor, target: int | str | torch.Tensor | None = None) -> Explanation:
    """Explain the predictions of a SENN on one input or a batch.

    Args:
        model: a :class:`senn.SENN` or a module holding one as ``.model`` (e.g. ``SENNModule``). It is
            evaluated in eval mode and restored to its mode afterwards.
        x: one input of the model's input shape, or a batch of them.
        target: the output column to explain: ``None`` for the predicted class, an int for the same
            column everywhere, or a (B,) tensor of columns; or a class name (:func:`class_output`).
    """
    senn = as_senn(model)
    x = check_inputs(x, senn.input_shape, model_device(senn))
    with eval_mode(senn):
        out = senn(x)
    logits = out.logits
    num_outputs = logits.shape[1]
    prediction = tasks.predict(logits, senn.task)
    if target is None:
        target = tasks.explained_output(prediction, senn.task)
    elif isinstance(target, str):
        target = class_output(senn, target)
    target = torch.as_tensor(target, device=logits.device).long().expand(len(logits))
    if (target < 0).any() or (target >= num_outputs).any():
        raise ValueError(f"target classes must be in [0, {num_outputs}), got {target.unique().tolist()}")
    names = {"concept_names": senn.concept_names, "class_names": senn.class_names, "feature_names": senn.feature_names}
    raw = senn.preprocessor.raw_values(x) if senn.preprocessor is not None and x.dim() == 2 else None
    # Identity concepts are the input tensor itself: the explanation keeps a copy of its own, so that it
    # neither changes with the caller's tensor nor inherits a requires_grad that something later sets on it.
    concepts = out.concepts.clone()
    probabilities = tasks.probabilities(logits, senn.task)
    return Explanation(logits, probabilities, prediction, target, concepts, out.relevances, task=senn.task,
                       raw_inputs=tuple(raw) if raw is not None else None,
                       **{k: tuple(v) if v is not None else None for k, v in names.items()})  # fmt: skip
