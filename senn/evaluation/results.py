"""What an evaluation found, as typed values that write and read ``metrics.json`` themselves."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from senn.evaluation.concept_quality import ConceptQuality
from senn.explain import Explanation
from senn.explain.prototypes import CollapseReport
from senn.tasks import is_classification


@dataclass(frozen=True)
class Stats:
    """Median, mean, quartiles and count of a metric's finite values over the evaluated inputs."""

    median: float
    mean: float
    q25: float
    q75: float
    n: int

    @classmethod
    def of(cls, values: torch.Tensor | np.ndarray) -> Stats:
        """The statistics of ``values``' finite entries (NaN statistics and ``n = 0`` when there are none)."""
        values = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=float)
        finite = values[np.isfinite(values)]
        if not len(finite):
            return cls(float("nan"), float("nan"), float("nan"), float("nan"), 0)
        q25, median, q75 = np.quantile(finite, [0.25, 0.5, 0.75])
        return cls(float(median), float(finite.mean()), float(q25), float(q75), len(finite))

    def __str__(self) -> str:
        """``median [q25, q75]``, or ``–`` without values."""
        return f"{self.median:.4g} [{self.q25:.3g}, {self.q75:.3g}]" if self.n else "–"


@dataclass(frozen=True)
class MethodScores:
    """One explanation method's scores on the evaluated inputs."""

    accuracy: float | None
    """Of the model the method explains (the SENN, or the plain network for post-hoc methods); None for
    regression, which reports :attr:`mse`."""
    faithfulness: Stats
    stability: Stats
    seconds: float
    concept_stability: Stats | None = None
    """The SENN's only: ‖θ(x) − θ(x′)‖ / ‖h(x) − h(x′)‖."""
    stability_gradient: Stats | None = None
    """The SENN's only: the same stability estimated by gradient ascent."""
    mse: float | None = None
    """Regression: the explained model's mean squared error."""

    def performance(self) -> str:
        """How well the explained model predicts: ``accuracy 0.9712`` or ``MSE 0.1234``."""
        return f"accuracy {self.accuracy:.4f}" if self.accuracy is not None else f"MSE {self.mse:.4g}"


@dataclass(frozen=True)
class MethodRun:
    """One method's per-example results on the evaluated inputs (N of them), on the CPU."""

    prediction: torch.Tensor
    faithfulness: torch.Tensor
    stability: torch.Tensor
    seconds: float
    attributions: torch.Tensor | None = None
    """Post-hoc methods: their attributions (N, ...)."""
    explanation: Explanation | None = None
    """The SENN: its explanations."""
    concept_stability: torch.Tensor | None = None
    stability_gradient: torch.Tensor | None = None

    def scores(self, labels: torch.Tensor, task: str) -> MethodScores:
        """The statistics ``metrics.json`` keeps, with the accuracy (regression: MSE) of the explained model of
        ``task`` on ``labels``."""
        predicted, labels = self.prediction.view(-1), labels.view(-1).to(self.prediction.dtype)
        classification = is_classification(task)
        optional = {
            k: Stats.of(v) for k in ("concept_stability", "stability_gradient") if (v := getattr(self, k)) is not None
        }
        return MethodScores(
            accuracy=float((predicted == labels).float().mean()) if classification else None,
            mse=None if classification else float((predicted - labels).pow(2).mean()),
            faithfulness=Stats.of(self.faithfulness),
            stability=Stats.of(self.stability),
            seconds=round(self.seconds, 2),
            **optional,
        )

    def cpu(self) -> MethodRun:
        """The same results with every tensor on the CPU."""
        moved = {k: v.cpu() for k, v in vars(self).items() if isinstance(v, torch.Tensor | Explanation)}
        return replace(self, **moved)


@dataclass(frozen=True)
class SpaceScore:
    """The stability of one explanation in a like-for-like space (``seconds``: None for the SENN's θ, timed
    with its own scores)."""

    stability: Stats
    seconds: float | None = None


@dataclass(frozen=True)
class StabilitySettings:
    """The ball and budget every method's stability is measured with (``senn-evaluate``'s ``stability``)."""

    epsilon: float
    budget: int
    norm: str
    normalize: str

    @property
    def ball(self) -> dict[str, Any]:
        """The ball and budget as :func:`~senn.metrics.local_lipschitz`'s keyword arguments."""
        return {"epsilon": self.epsilon, "budget": self.budget, "norm": self.norm}


@dataclass(frozen=True)
class Evaluation:
    """Everything ``senn-evaluate`` measured, as written to (and read back from) its ``metrics.json``."""

    ckpt_path: str
    baseline_ckpt_path: str | None
    split: str
    num_examples: int
    stability: StabilitySettings
    methods: dict[str, MethodScores]
    """Method name (``senn`` first) -> its scores."""
    like_for_like: dict[str, dict[str, SpaceScore]] | None = None
    """Space -> explanation (the SENN's first) -> stability, all of the same SENN."""
    concepts: ConceptQuality | None = None
    """On data with annotated concepts."""
    concept_collapse: CollapseReport | None = None
    """On image data, from the prototype pool."""

    def to_dict(self) -> dict[str, Any]:
        """Plain containers for JSON; absent parts are left out."""
        data = asdict(replace(self, concepts=None))
        data["concepts"] = self.concepts.to_dict() if self.concepts is not None else None
        data["methods"] = {name: _without_none(entry) for name, entry in data["methods"].items()}
        return _without_none(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        """The evaluation :meth:`to_dict` wrote."""
        methods = {
            name: MethodScores(
                **{"accuracy": None, **{k: Stats(**v) if isinstance(v, dict) else v for k, v in entry.items()}}
            )
            for name, entry in data["methods"].items()
        }
        like_for_like = {
            space: {name: SpaceScore(Stats(**e["stability"]), e.get("seconds")) for name, e in entries.items()}
            for space, entries in (data.get("like_for_like") or {}).items()
        }
        collapse = data.get("concept_collapse")
        return cls(
            ckpt_path=data["ckpt_path"],
            baseline_ckpt_path=data.get("baseline_ckpt_path"),
            split=data["split"],
            num_examples=data["num_examples"],
            stability=StabilitySettings(**data["stability"]),
            methods=methods,
            like_for_like=like_for_like or None,
            concepts=ConceptQuality.from_dict(data["concepts"]) if data.get("concepts") else None,
            concept_collapse=CollapseReport(collapse["dead"], [tuple(d) for d in collapse["duplicates"]])
            if collapse is not None
            else None,
        )

    def save(self, path: str | Path) -> Path:
        """Write the evaluation as JSON to ``path``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Evaluation:
        """Read an evaluation's ``metrics.json`` (``path`` is the file or the evaluation's folder).

        Raises:
            FileNotFoundError: no such file.
            ValueError: the file is not an evaluation's ``metrics.json`` of this version of senn.
        """
        path = Path(path)
        path = path / "metrics.json" if path.is_dir() else path
        data = json.loads(path.read_text())
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError) as err:
            raise ValueError(
                f"{path} is not a senn-evaluate metrics.json of this senn version ({err!r}); "
                "evaluate the checkpoint again"
            ) from None


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its None values."""
    return {k: v for k, v in data.items() if v is not None}
