"""What the data determines: model sizes and names filled in from the data module, and the fit check."""

from __future__ import annotations

import inspect
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from senn.data import SplitDataModule

COMPONENTS = ("conceptizer", "parametrizer", "aggregator", "network")


def _unset(node: DictConfig, key: str) -> bool:
    """True when ``node`` leaves ``key`` to the data: null, ``???``, or left out although its ``_target_``'s
    constructor takes it."""
    if key in node:
        return OmegaConf.is_missing(node, key) or node[key] is None
    try:
        return key in inspect.signature(get_object(str(node.get("_target_")))).parameters
    except (ImportError, AttributeError, TypeError, ValueError):  # no or unknown target: validation reports it
        return False


def _concept_count(conceptizer: DictConfig) -> int | None:
    """The columns of h a conceptizer config gives: its K (identity: its ``in_features``), plus the bias concept."""
    key = "num_concepts" if "num_concepts" in conceptizer else "in_features"
    if key not in conceptizer or _unset(conceptizer, key):
        return None
    return int(conceptizer[key]) + int(bool(conceptizer.get("bias", False)))


def fill_from_data(model: DictConfig, datamodule: SplitDataModule) -> list[str]:
    """Fill the model config's unset (null) sizes and names, in place: the one place sizes are decided.

    From ``datamodule``: input sizes (``in_features`` for tables; ``in_channels`` and ``image_size`` for
    square images), ``num_classes`` and ``task`` of every component, the model's ``class_names`` /
    ``feature_names``, the identity conceptizer's concept names (its features) and, on data with annotated
    concepts, a conceptizer's K (``num_concepts``) when the config leaves it null and the supervised
    concepts' names (``concept_weight > 0``: the first M concepts are the annotated ones). From the model
    itself: the parametrizer's ``num_concepts``, the columns of h (the conceptizer's K, plus one with a
    bias concept), and a plain network's ``num_concepts=1``. Values the config sets are kept
    (:func:`check_compatible` and the SENN's build-time check report a mismatch). Returns the
    ``key=value`` settings made, for the log.
    """
    shape = tuple(datamodule.input_shape)
    data_values: dict[str, Any] = {"num_classes": datamodule.num_classes, "task": datamodule.task}
    if len(shape) == 1:
        data_values["in_features"] = shape[0]
    elif len(shape) == 3 and shape[1] == shape[2]:
        data_values.update(in_channels=shape[0], image_size=shape[1])
    filled = []
    with open_dict(model):
        for path in ("", *COMPONENTS):
            node = model if not path else model.get(path)
            if not isinstance(node, DictConfig):
                continue
            for key, value in data_values.items():
                if (path or key == "task") and _unset(node, key):
                    node[key] = value
                    filled.append(f"{'model.' + path + '.' if path else 'model.'}{key}={value}")
        annotated = getattr(datamodule, "concept_names", None)  # K of a conceptizer left unset: the data's concepts
        if isinstance(model.get("conceptizer"), DictConfig) and annotated and _unset(model.conceptizer, "num_concepts"):
            model.conceptizer.num_concepts = len(annotated)
            filled.append(f"model.conceptizer.num_concepts={len(annotated)}")
        concepts = {"parametrizer": _concept_count(model.conceptizer) if "conceptizer" in model else None, "network": 1}
        for path, count in concepts.items():
            if isinstance(model.get(path), DictConfig) and _unset(model[path], "num_concepts") and count is not None:
                model[path].num_concepts = count
                filled.append(f"model.{path}.num_concepts={count}")
        parts = [model.get(c) for c in ("aggregator", "network")]
        outputs = [part.get("num_classes") for part in parts if isinstance(part, DictConfig)]
        fits = all(n == datamodule.num_classes for n in outputs)  # else check_compatible names the mismatch
        names = {"class_names": datamodule.class_names if fits else None, "feature_names": datamodule.feature_names}
        if "conceptizer" in model and str(model.conceptizer.get("_target_", "")).endswith("IdentityConceptizer"):
            features = list(datamodule.feature_names or [])
            names["concept_names"] = features + ["bias"] * bool(model.conceptizer.get("bias")) if features else None
        elif annotated and model.get("concept_weight", 0) > 0 and model.conceptizer.get("num_concepts"):
            k = int(model.conceptizer.num_concepts)  # supervised: the first M concepts are the annotated ones
            free = [f"concept {i + 1}" for i in range(len(annotated), k)]
            names["concept_names"] = [*list(annotated)[:k], *free] + ["bias"] * bool(model.conceptizer.get("bias"))
        for key, value in names.items():
            if key in model and model[key] is None and value is not None:
                model[key] = [str(v) for v in value]
    return filled


def check_compatible(datamodule: SplitDataModule, model: nn.Module) -> None:
    """Raise ``ValueError`` if the model's input shape, outputs or task do not fit the data set.

    Uses only what the data module declares, so nothing is read yet (except a user's table, whose
    shape is its content).
    """
    data_name = type(datamodule).__name__
    problems = []
    if model.input_shape is not None and tuple(model.input_shape) != tuple(datamodule.input_shape):
        problems.append(
            f"the model takes inputs of shape {tuple(model.input_shape)} but {data_name} has "
            f"{tuple(datamodule.input_shape)} (set the conceptizer's input size to match, or to null to take it "
            "from the data)"
        )
    num_classes = getattr(model, "num_classes", None)
    if num_classes is not None and num_classes != datamodule.num_classes:
        problems.append(f"the model has num_classes={num_classes} but {data_name} has {datamodule.num_classes} "
                        "(set it to null to take it from the data)")  # fmt: skip
    if model.task != datamodule.task:
        problems.append(f"the model's task is {model.task!r} but {data_name} is a {datamodule.task!r} task")
    if problems:
        raise ValueError("model and data do not fit: " + "; ".join(problems))
