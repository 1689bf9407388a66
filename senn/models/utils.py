"""Helpers every part of senn uses on a model and its inputs: find the SENN, its device, run it in eval
mode, validate a batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from senn.models.senn import SENN


def as_senn(model: nn.Module) -> SENN:
    """The SENN inside ``model`` (a SENN, or a LightningModule holding one as ``.model``)."""
    inner = model if isinstance(model, SENN) else getattr(model, "model", None)
    if not isinstance(inner, SENN):
        raise TypeError(f"this needs a senn.SENN or a module holding one as .model, got {type(model).__name__}")
    return inner


def concepts_supervised(model: nn.Module) -> bool:
    """Whether a module's SENN learned its first concepts from annotations (trained with a concept weight > 0,
    as the ``*_supervised`` presets are); a bare SENN does not say, so False."""
    return float(getattr(model, "hparams", {}).get("concept_weight", 0.0)) > 0


def check_inputs(x: torch.Tensor, input_shape: tuple[int, ...] | None = None, device: torch.device | None = None,
                 name: str = "x") -> torch.Tensor:  # fmt: skip
    """Validate a batch for the explain and metric APIs; return it (a single input becomes a batch of one).

    Raises ``TypeError`` for non-tensors and non-float dtypes, ``ValueError`` for a wrong shape, an
    empty batch, a device other than the model's, or NaN / infinite values.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} has dtype {x.dtype}; the model takes floating-point inputs (use {name}.float())")
    if input_shape is not None:
        if tuple(x.shape) == tuple(input_shape):
            x = x.unsqueeze(0)  # one input -> a batch of one
        elif tuple(x.shape[1:]) != tuple(input_shape):
            expected = ", ".join(map(str, input_shape))
            raise ValueError(
                f"{name} has shape {tuple(x.shape)}; the model takes (B, {expected}) or one input ({expected})"
            )
    if x.dim() == 0 or len(x) == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)}); pass at least one input")
    if device is not None and x.device != device:
        raise ValueError(
            f"{name} is on {x.device} but the model on {device}; move one of them (e.g. {name}.to('{device}'))"
        )
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).reshape(len(x), -1).any(1).sum())
        raise ValueError(f"{name} holds NaN or infinite values in {bad} of {len(x)} inputs; clean or drop them first")
    return x


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``model`` in eval mode, restoring its previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter (None for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: the CUDA GPU where torch sees one, else the CPU; otherwise the device named. Asking for
    CUDA on a machine without it raises a ``ValueError`` that names the fix."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:  # torch's message lists twenty device types
        raise ValueError(f"device={device!r} is not a device: use cpu, cuda (cuda:<n>) or auto") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device}: this machine has no CUDA GPU that torch can use; use device=cpu or "
                         "device=auto")  # fmt: skip
    return resolved
