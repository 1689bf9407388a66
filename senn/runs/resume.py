"""Resuming a run: ``ckpt_path=last`` resolved to the run folder's ``last.ckpt``, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from senn.runs.validation import ConfigError


def resume_path(cfg: DictConfig) -> str | None:
    """The checkpoint ``cfg.ckpt_path`` names: ``last`` is the run folder's ``checkpoints/last.ckpt``.

    Raises :class:`ConfigError` when the folder has none (naming the latest runs of the same task and
    the command that resumes them) and when that run already finished (all epochs, or stopped early).
    """
    path = cfg.get("ckpt_path")
    if path != "last":
        return path
    run = Path(cfg.output_dir)
    last = run / "checkpoints" / "last.ckpt"
    if not last.is_file():
        found = sorted(run.parent.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
        hint = "; ".join(f"hydra.run.dir={p.parent.parent} ckpt_path=last" for p in found[:3])
        raise ConfigError([f"ckpt_path=last: {run} has no checkpoints/last.ckpt (every run gets a new folder). "
                           + (f"Resume a recent {run.parent.name} run with the same overrides plus: {hint}" if hint
                              else f"No run under {run.parent} has one.")])  # fmt: skip
    checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    epochs, max_epochs = checkpoint["epoch"] + 1, cfg.trainer.get("max_epochs")
    stopped = any(state.get("stopped_epoch", 0) > 0 for key, state in checkpoint.get("callbacks", {}).items()
                  if "EarlyStopping" in key)  # fmt: skip
    if stopped or (max_epochs not in (None, -1) and epochs >= max_epochs):
        why = "early stopping ended it" if stopped else f"it trained all {max_epochs} epochs"
        raise ConfigError([f"ckpt_path=last: the run in {run} already finished after {epochs} epochs ({why}); "
                           "nothing to resume. Raise trainer.max_epochs (and the early-stopping patience) to "
                           "train on."])  # fmt: skip
    return str(last)
