"""Loading checkpoints safely: tensors and plain containers only, no pickled code runs."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from senn.checkpoints.zoo import PREFIX, pretrained_path
from senn.models.backbones import restoring_weights
from senn.models.utils import resolve_device
from senn.training.base import SupervisedModule
from senn.training.module import SENNModule
from senn.training.plain import PlainModule

MODULES: dict[str, type[SupervisedModule]] = {"SENNModule": SENNModule, "PlainModule": PlainModule}


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> SupervisedModule:
    """Rebuild the module a ``senn-train`` checkpoint holds, on ``device`` (``"auto"``: a CUDA GPU where
    there is one), in eval mode, with ``weights_only=True`` loading.

    ``path`` may name a model shipped with senn as ``pretrained:<name>`` (see :mod:`senn.checkpoints.zoo`).

    The module class comes from the checkpoint's ``senn`` record; the data config it was trained on is
    restored as ``data_config``, a user's table's preprocessing as ``preprocessing``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: ``device`` is CUDA on a machine without it, or the file is not a readable checkpoint,
            carries pickled objects other than tensors and plain containers (possibly code), is not a senn
            checkpoint, or holds weights of another architecture than its hyperparameters describe.
    """
    device = resolve_device(device)
    if str(path).startswith(PREFIX):  # a model shipped with senn
        path = pretrained_path(str(path))
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; anything else would be read as a pickle
        raise ValueError(f"{path} is not a readable PyTorch checkpoint (truncated, or another kind of file)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"{path} was refused by safe loading (weights_only=True): it holds objects other than tensors and "
            f"plain containers, possibly code. senn never unpickles those; re-save it from trusted code. ({err})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"{path} is not a readable PyTorch checkpoint (truncated or corrupt?): {err}") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint or "hyper_parameters" not in checkpoint:
        raise ValueError(f"{path} is not a senn-train checkpoint: it has no 'state_dict' and 'hyper_parameters'")
    record, hparams = checkpoint.get("senn") or {}, checkpoint["hyper_parameters"]
    name = record.get("module")
    if name not in MODULES:
        raise ValueError(f"{path} is not a senn checkpoint: it records no senn module (found {name!r}; written by "
                         f"senn-train, a checkpoint names one of {sorted(MODULES)})")  # fmt: skip
    try:
        with restoring_weights():  # pretrained backbones: the state dict below replaces their weights
            module = MODULES[name](**hparams)
    except Exception as err:
        raise ValueError(f"{path}: cannot rebuild {name} from the checkpoint's hyperparameters: {err}") from err
    try:
        module.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        problems = _mismatch(module.state_dict(), checkpoint["state_dict"])
        raise ValueError(
            f"{path}: the weights do not fit the {name} its hyperparameters describe ({problems}); "
            "was it written by another version of the model?"
        ) from err
    module.data_config = record.get("data")
    module.preprocessing = record.get("preprocessing")
    return module.to(device).eval()


def _mismatch(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> str:
    """A short account of missing, unexpected and differently shaped weights."""
    groups = {
        "missing": sorted(set(expected) - set(found)),
        "unexpected": sorted(set(found) - set(expected)),
        "shape": [
            f"{name} {tuple(found[name].shape)} vs {tuple(value.shape)}"
            for name, value in expected.items()
            if name in found and found[name].shape != value.shape
        ],
    }
    return "; ".join(
        f"{label}: {', '.join(items[:3])}{' ...' * (len(items) > 3)}" for label, items in groups.items() if items
    )


def pretrained(name: str, device: str = "cpu") -> SupervisedModule:
    """The model shipped with senn as ``name`` (e.g. ``"mnist"``; see :mod:`senn.checkpoints.zoo`) on ``device``."""
    return load_checkpoint(pretrained_path(name), device=device)
