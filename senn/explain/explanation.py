"""``senn.explain``: a SENN's own explanation of its predictions, as a structured result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

import torch
from torch import nn

from senn.models import SENN


@dataclass(frozen=True)
class Explanation:
    """What a SENN says about a batch of inputs: the concepts present and how much each pushes each class.

    ``target`` is the explained output column for every example (the predicted class unless another
    was asked for); the ``target_*`` properties select it.
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

    @property
    def contributions(self) -> torch.Tensor:
        """(B, K, C) each concept's contribution θ_kc · h_k to each output; they sum to the logits."""
        return self.relevances * self.concepts.unsqueeze(-1)

    @property
    def target_relevances(self) -> torch.Tensor:
        """(B, K) relevances θ_k,target of the explained output."""
        return self.relevances.gather(2, self.target.view(-1, 1, 1).expand(-1, self.relevances.shape[1], 1))[..., 0]

    @property
    def target_contributions(self) -> torch.Tensor:
        """(B, K) contributions θ_k,target · h_k to the explained output."""
        return self.target_relevances * self.concepts

    def __len__(self) -> int:
        return len(self.logits)

    def __getitem__(self, index: int | slice | torch.Tensor) -> Explanation:
        """The explanation of some examples (an int keeps a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Explanation(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _as_senn(model: nn.Module) -> SENN:
    """The SENN inside ``model`` (a SENN, or a LightningModule holding one as ``.model``)."""
    inner = model if isinstance(model, SENN) else getattr(model, "model", None)
    if not isinstance(inner, SENN):
        raise TypeError(f"explain needs a senn.SENN or a module holding one as .model, got {type(model).__name__}")
    return inner


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


def _model_device(model: nn.Module) -> torch.device | None:
    """The device of the model's first parameter (None for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else None


@torch.no_grad()
def explain(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor | None = None) -> Explanation:
    """Explain the predictions of a SENN on one input or a batch.

    Args:
        model: a :class:`senn.SENN` or a module holding one as ``.model`` (e.g. ``SENNModule``). It is
            evaluated in eval mode and restored to its mode afterwards.
        x: one input of the model's input shape, or a batch of them.
        target: the output column to explain: ``None`` for the predicted class, an int for the same
            class everywhere, or a (B,) tensor of classes.
    """
    senn = _as_senn(model)
    x = check_inputs(x, senn.input_shape, _model_device(senn))
    with eval_mode(senn):
        out = senn(x)
    logits = out.logits
    num_outputs = logits.shape[1]
    if senn.task == "multiclass":
        probabilities, prediction = logits.softmax(1), logits.argmax(1)
    elif senn.task == "binary":
        probabilities = torch.sigmoid(logits)
        prediction = (logits[:, 0] > 0).long()
    else:
        probabilities, prediction = logits, logits[:, 0]
    if target is None:
        target = prediction if senn.task == "multiclass" else torch.zeros_like(logits[:, 0], dtype=torch.long)
    target = torch.as_tensor(target, device=logits.device).long().expand(len(logits))
    if (target < 0).any() or (target >= num_outputs).any():
        raise ValueError(f"target classes must be in [0, {num_outputs}), got {target.unique().tolist()}")
    return Explanation(logits, probabilities, prediction, target, out.concepts, out.relevances)
