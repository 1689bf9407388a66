"""Naming learned concepts after inspecting them: the names are stored in the checkpoint itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from senn.checkpoints.loading import load_checkpoint
from senn.checkpoints.saving import AtomicCheckpointIO
from senn.checkpoints.zoo import PREFIX, pretrained_path


def read_names(path: str | Path) -> list[str]:
    """The concept names in a JSON file: ``{"concept_names": [...]}`` (the explorer page's export) or a list.

    Raises ``ValueError`` naming the problem when the file is not JSON or holds no list of strings.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read concept names from {path}: {err}") from None
    names = data.get("concept_names") if isinstance(data, dict) else data
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f'{path} holds no list of names: expected {{"concept_names": ["...", ...]}}')
    return names


def name_concepts(ckpt_path: str | Path, names: Sequence[str], output: str | Path | None = None) -> Path:
    """Store ``names`` (one per concept) as the model's ``concept_names`` in a checkpoint; return its path.

    Writes ``output`` (default: the checkpoint itself, replaced atomically; a shipped ``pretrained:<name>``
    model needs an ``output``). The checkpoint is first loaded safely, so a foreign or corrupt file, or a
    wrong number of names, is refused with the reason and nothing is written.
    """
    if str(ckpt_path).startswith(PREFIX):  # a shipped model: read from the package, never changed there
        if output is None:
            raise ValueError(f"{ckpt_path} is a model shipped with senn and is not changed in place: pass "
                             "--output <file>.ckpt to write a named copy")  # fmt: skip
        ckpt_path = pretrained_path(str(ckpt_path))
    module = load_checkpoint(ckpt_path)  # refuses foreign / unsafe files
    count = getattr(getattr(module.model, "conceptizer", None), "out_features", None)
    if count is None:
        raise ValueError(f"{ckpt_path} holds a {type(module).__name__}, which has no concepts to name")
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{len(names)} names given for the model's {count} concepts (concept 1 … {count}, in order)")
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    checkpoint["hyper_parameters"]["concept_names"] = names
    target = Path(output) if output is not None else Path(ckpt_path)
    AtomicCheckpointIO().save_checkpoint(checkpoint, target)
    return target
