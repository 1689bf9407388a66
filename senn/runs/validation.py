"""Config validation before anything runs: a schema check driven by the constructors' signatures.

:func:`validate_config` walks every ``_target_`` node of a composed ``senn-train`` config and checks
that the target exists, that every key is one of its constructor's arguments, and that values obey
the rules below; then it dry-runs the model on the ``meta`` device (no memory, no data) to check
that encoder, parametrizer, aggregator and data set fit together. Every problem is reported at once,
each naming the key, the value and what is allowed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from senn.data import DataError, DataNotFoundError, SplitDataModule
from senn.losses import ESTIMATORS, PENALTIES, SPACES
from senn.models.conceptizers import CONCEPT_ACTIVATIONS
from senn.models.parametrizers import OUTPUT_ACTIVATIONS
from senn.runs.sizes import check_compatible, fill_from_data
from senn.tasks import TASKS, is_classification

Rule = tuple[Callable[[Any], bool], str]
log = logging.getLogger(__name__)


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _non_negative(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v >= 0


SIZES = ("num_concepts", "num_classes", "in_features", "in_channels", "image_size", "kernel_size", "batch_size")
WEIGHTS = ("robustness_weight", "reconstruction_weight", "sparsity_weight", "concept_weight", "beta")
PROBABILITIES = ("concept_fraction", "intervention_probability", "dependency")
RULES: dict[str, Rule] = {
    **{key: (_positive_int, "an integer >= 1") for key in (*SIZES, "num_projections", "robustness_every_n_steps")},
    **{key: (_non_negative, "a number >= 0") for key in WEIGHTS},
    **{key: (lambda v: _non_negative(v) and v <= 1, "a number in [0, 1]") for key in PROBABILITIES},
    "num_samples": (lambda v: _positive_int(v) and v >= 2, "an integer >= 2"),
    "activation": (lambda v: v in CONCEPT_ACTIVATIONS, f"one of {list(CONCEPT_ACTIVATIONS)}"),
    "lr": (lambda v: _non_negative(v) and v > 0, "a number > 0"),
    "dropout": (lambda v: _non_negative(v) and v < 1, "a number in [0, 1)"),
    "val_fraction": (lambda v: _non_negative(v) and 0 < v < 1, "a number in (0, 1)"),
    "robustness_estimator": (lambda v: v in ESTIMATORS, f"one of {list(ESTIMATORS)}"),
    "robustness_penalty": (lambda v: v in PENALTIES, f"one of {list(PENALTIES)}"),
    "robustness_space": (lambda v: v in SPACES, f"one of {list(SPACES)}"),
    "robustness_eval_examples": (lambda v: v is None or _positive_int(v), "an integer >= 1, or null for every example"),
    "output_activation": (lambda v: v in OUTPUT_ACTIVATIONS, f"one of {list(OUTPUT_ACTIVATIONS)}"),
    "task": (lambda v: v in TASKS, f"one of {list(TASKS)}"),
    "max_epochs": (lambda v: v is None or (isinstance(v, int) and v >= -1), "an integer >= -1 (-1: no limit)"),
    "devices": (
        lambda v: v == "auto" or _positive_int(v) or v == -1 or isinstance(v, list | str),
        "'auto', -1 or >= 1",
    ),
}
"""Per config key wherever it appears: the check its value must pass and what is allowed, for the message."""


DATA_KEYS = ("num_concepts", "num_classes", "in_features", "in_channels", "image_size", "task")
"""Keys that may be null in a config: :func:`~senn.runs.sizes.fill_from_data` sets them from the data."""


def _strategies() -> list[str]:
    from pytorch_lightning.strategies import StrategyRegistry

    return ["auto", *StrategyRegistry.available_strategies()]


class ConfigError(ValueError):
    """One or more invalid config values; the message lists every one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid config:\n  - " + "\n  - ".join(problems))

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:
        """Pickle with the problem list (a process pool re-raises it in the parent intact)."""
        return type(self), (self.problems,)


def _nodes(node: Any, path: str = "") -> Iterator[tuple[str, DictConfig]]:
    """Every dict node of the tree with its dotted path."""
    if isinstance(node, DictConfig):
        yield path, node
        for key in node:
            child = node._get_node(key)
            if isinstance(child, DictConfig | ListConfig):
                yield from _nodes(node[key], f"{path}.{key}" if path else str(key))


def _schema_problems(cfg: DictConfig, unset_ok: bool) -> list[str]:
    """Unknown targets, unknown keys and values that break the rules; with ``unset_ok``, the sizes the data
    determines (:data:`DATA_KEYS`) may still be null."""
    problems = []
    for path, node in _nodes(cfg):
        target = node.get("_target_")
        if target is not None:
            try:
                obj = get_object(str(target))
            except (ImportError, AttributeError):
                problems.append(f"{path}._target_={target!r}: no such class or function (check the spelling and the "
                                f"config group option, e.g. data=mnist)")  # fmt: skip
                continue
            signature = inspect.signature(obj)
            params = signature.parameters
            open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
            for key in node:
                if not str(key).startswith("_") and key not in params and not open_kwargs:
                    problems.append(f"{path}.{key}: not an argument of {target} (allowed: {', '.join(params)})")
        for key in node:
            if OmegaConf.is_missing(node, key) and key not in DATA_KEYS:  # ??? in the config: the user must say
                name = f"{path}.{key}" if path else str(key)
                problems.append(f"{name} is required: set {name}=...")
            rule = RULES.get(str(key))
            if rule is None:
                continue
            try:
                value = None if OmegaConf.is_missing(node, key) else node[key]
            except InterpolationResolutionError as err:
                problems.append(f"{path}.{key}: {err}")
                continue
            if isinstance(value, DictConfig | ListConfig) and key != "devices":
                continue
            if value is None and key in DATA_KEYS:
                if not unset_ok and path.startswith("model"):
                    problems.append(f"{path}.{key} is unset and the data does not determine it: set it")
                continue
            check, allowed = rule
            if not check(value):
                problems.append(f"{path}.{key}={value!r}: must be {allowed}")
    strategy = cfg.get("trainer", {}).get("strategy", "auto")
    if isinstance(strategy, str) and strategy not in _strategies():
        problems.append(f"trainer.strategy={strategy!r}: unknown; use one of {_strategies()[:6]} ... "
                        "(Lightning's StrategyRegistry)")  # fmt: skip
    accelerator = str(cfg.get("trainer", {}).get("accelerator", "auto"))
    apple_gpu = accelerator == "gpu" and torch.backends.mps.is_available()  # Lightning's "gpu" is CUDA or MPS
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available() and not apple_gpu:
        problems.append(f"trainer.accelerator={accelerator}: this machine has no GPU that torch can use "
                        f"(torch {torch.__version__}); use trainer=cpu, or trainer.accelerator=auto to take a GPU "
                        "where there is one")  # fmt: skip
    return problems


def validate_config(cfg: DictConfig) -> SplitDataModule:
    """Raise :class:`ConfigError` naming every invalid value of a ``senn-train`` config; fill in what the data
    determines; return the data module it built (training uses it, so a table is read once).

    Model sizes and names the config leaves null are set from the data module, in place (see
    :func:`~senn.runs.sizes.fill_from_data`; the settings made are logged). Reads no data
    (except a user's table, whose columns are its shape, and whose problems are reported as a
    :class:`~senn.data.csv.DataError`) and allocates no weights: the model is dry-run on the
    ``meta`` device.
    """
    problems = _schema_problems(cfg, unset_ok=True)
    if problems:
        raise ConfigError(problems)
    datamodule = _instantiate_or_report(cfg.data)  # declares its shapes; reads nothing (tables: reads them)
    filled = fill_from_data(cfg.model, datamodule)
    if filled:
        log.info("from the data: %s", " ".join(filled))
    problems = _schema_problems(cfg, unset_ok=False)  # the filled values obey the rules too
    task = OmegaConf.select(cfg, "model.aggregator.task") or OmegaConf.select(cfg, "model.task")
    if task is not None and not is_classification(task) and str(cfg.get("monitor", "")).endswith("/acc"):
        problems.append(f"monitor={cfg.monitor}: a regression model reports mse, not accuracy; set "
                        "monitor=val/mse monitor_mode=min")  # fmt: skip
    if problems:
        raise ConfigError(problems)
    try:
        with torch.device("meta"):
            module = instantiate(cfg.model, _recursive_=False)
        check_compatible(datamodule, module.model)
    except Exception as err:  # Hydra wraps the constructors' own errors; keep their message
        cause = err.__cause__ if err.__cause__ is not None else err
        raise ConfigError([str(cause)]) from err
    return datamodule


def _instantiate_or_report(data: DictConfig) -> SplitDataModule:
    """The data module; its constructor's errors become a :class:`ConfigError`, data problems stay as they are."""
    try:
        datamodule = instantiate(data)
        datamodule.input_shape  # a user's table is read (and checked) here  # noqa: B018
    except Exception as err:  # Hydra wraps the constructors' own errors; keep their message
        cause = err.__cause__ if err.__cause__ is not None else err
        if isinstance(cause, DataError | DataNotFoundError):
            raise cause from None
        raise ConfigError([str(cause)]) from err
    return datamodule
