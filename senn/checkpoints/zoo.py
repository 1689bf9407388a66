"""The model zoo: trained checkpoints of the paper's presets, shipped in ``pretrained/``: ``senn.pretrained("mnist")``.

Every command takes them as ``ckpt_path=pretrained:<name>``. Each file holds the weights, the
hyperparameters, the data config (``data_dir`` unset: ``$SENN_DATA_DIR`` or ``./data`` at load time)
and a ``pretrained`` record: the training command, seed, epoch and test accuracy. They load with
``weights_only=True`` like every senn checkpoint. ``experiments/pretrained.py`` re-makes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "pretrained"
PREFIX = "pretrained:"


def available() -> dict[str, dict[str, Any]]:
    """Name -> record (command, seed, epoch, test accuracy) of every shipped checkpoint."""
    path = FOLDER / "registry.json"
    return json.loads(path.read_text()) if path.exists() else {}


def pretrained_path(name: str) -> Path:
    """The file of a shipped checkpoint (``name`` with or without the ``pretrained:`` prefix)."""
    name = name.removeprefix(PREFIX)
    models = available()
    if name not in models:
        raise FileNotFoundError(f"no pretrained model {name!r}; there are {sorted(models)} (pretrained:<name>)")
    return FOLDER / f"{name}.ckpt"
