"""The concept section of an evaluation: a SENN's concepts against a data set's annotated ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from senn.data import InMemoryDataModule
from senn.metrics import (
    ConceptAlignment,
    DCIScores,
    InterventionCurve,
    concept_alignment,
    concept_completeness,
    dci,
    intervention_curve,
    intervention_plan,
    niche_impurity,
    oracle_impurity,
)
from senn.models.utils import eval_mode, model_device
from senn.tasks import predict
from senn.training import SENNModule

DCI_SCORES = ("disentanglement", "completeness", "informativeness")


@dataclass(frozen=True)
class ConceptQuality:
    """Every concept-quality number of one model on one split, and what the figures need."""

    alignment: ConceptAlignment
    oracle_impurity: float
    niche_impurity: float
    dci: DCIScores | None
    """Against the data set's generative factors, where it has any."""
    completeness: float
    accuracy: float
    interventions: InterventionCurve
    concept_names: list[str]
    """The true (annotated) concepts' names."""
    learned_names: list[str]
    """The model's concepts' names (``concept 1`` … without names)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain containers for ``metrics.json``, with the derived numbers a reader of the file wants (matched
        AUCs, curve areas) beside the ones :meth:`from_dict` reads back."""
        a, i = self.alignment, self.interventions
        dci = {name: getattr(self.dci, name) if self.dci else float("nan") for name in DCI_SCORES}
        return {
            "concept_names": self.concept_names,
            "learned_names": self.learned_names,
            "auc": a.auc.tolist(),
            "matching": a.matching.tolist(),
            "sign": a.sign.tolist(),
            "matched_auc": a.matched_auc.tolist(),
            "mean_matched_auc": a.mean_auc,
            "oracle_impurity": self.oracle_impurity,
            "niche_impurity": self.niche_impurity,
            "dci": {**dci, "importance": self.dci.importance.tolist()} if self.dci else dci,
            "completeness": self.completeness,
            "task_accuracy": self.accuracy,
            "intervention_random": i.random.tolist(),
            "intervention_uncertain_first": i.uncertain_first.tolist(),
            "intervention_area": i.random_area,
            "intervention_area_uncertain_first": i.uncertain_first_area,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConceptQuality:
        """The concept quality :meth:`to_dict` wrote (tensors in the dtypes the metrics give)."""
        d, array = data["dci"], lambda values: torch.as_tensor(np.asarray(values))  # as the metrics' numpy results
        dci = DCIScores(*(d[name] for name in DCI_SCORES), array(d["importance"])) if "importance" in d else None
        return cls(
            alignment=ConceptAlignment(array(data["auc"]), array(data["matching"]), array(data["sign"])),
            oracle_impurity=data["oracle_impurity"],
            niche_impurity=data["niche_impurity"],
            dci=dci,
            completeness=data["completeness"],
            accuracy=data["task_accuracy"],
            interventions=InterventionCurve(array(data["intervention_random"]),
                                            array(data["intervention_uncertain_first"])),
            concept_names=list(data["concept_names"]),
            learned_names=list(data["learned_names"]),
        )  # fmt: skip

    def matched_names(self) -> list[str]:
        """Per learned concept: its name, the true concept it ranks best and that AUC ("no match" at chance)."""
        auc, names, learned = self.alignment.auc, self.concept_names, self.learned_names
        return [
            f"{learned[i]}\n≈ {names[j]}\n(AUC {auc[i, j]:.2f})" if auc[i, j] > 0.5 else f"{learned[i]}\nno match"
            for i, j in enumerate(auc.argmax(1).tolist())
        ]


def concept_quality(
    module: SENNModule, datamodule: InMemoryDataModule, split: str = "test", seed: int = 0
) -> ConceptQuality:
    """Alignment, OIS, NIS, DCI, completeness and intervention curves of ``module``'s concepts on ``split``.

    Supervised concepts stand for their own annotations (concept j is learned concept j) and, with a
    sigmoid activation, are set to 0 / 1 in interventions; unsupervised ones are matched by
    :func:`~senn.metrics.concept_alignment` and set to the values :func:`~senn.metrics.intervention_values`
    reads off the training split.
    """
    if split not in datamodule.concepts:
        raise ValueError(f"{type(datamodule).__name__} has no concept annotations for its {split!r} split")
    senn = module.model
    x, y = datamodule.splits[split]
    true = datamodule.concepts[split]
    h, logits = _outputs(senn, x)  # (N, K), (N, C)
    m = true.shape[1]
    alignment = concept_alignment(h, true, seed=seed)
    train_h, _ = _outputs(senn, datamodule.splits["train"][0])
    matching, values = intervention_plan(module, train_h, datamodule.concepts["train"], alignment.matching)
    predicted = predict(logits, senn.task)
    accuracy = float((predicted == y.long()).float().mean())
    factors = datamodule.factors.get(split)
    try:
        completeness = concept_completeness(h, y.long(), accuracy, seed=seed)
    except ValueError:  # a model at chance: nothing to explain
        completeness = float("nan")
    return ConceptQuality(
        alignment=alignment,
        oracle_impurity=oracle_impurity(h, true, matching=alignment.matching, seed=seed),
        niche_impurity=niche_impurity(h, true, seed=seed),
        dci=dci(h, factors, seed=seed) if factors is not None and h.shape[1] >= 2 else None,
        completeness=completeness,
        accuracy=accuracy,
        interventions=intervention_curve(senn, x.to(model_device(senn)), y, true, matching, values, seed=seed),
        concept_names=list(datamodule.concept_names or [f"concept {j + 1}" for j in range(m)]),
        learned_names=list(senn.concept_names or [f"concept {i + 1}" for i in range(h.shape[1])]),
    )


@torch.no_grad()
def _outputs(senn: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Concepts (N, K) and logits (N, C) of a whole split on the CPU, computed in eval mode on the model's device."""
    device = model_device(senn)
    with eval_mode(senn):
        outputs = [senn(chunk.to(device)) for chunk in x.split(batch_size)]
    return torch.cat([o.concepts.cpu() for o in outputs]), torch.cat([o.logits.cpu() for o in outputs])
