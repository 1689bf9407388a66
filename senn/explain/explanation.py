"""``senn.explain``: a SENN's own explanation of its predictions, as a structured result."""

from __future__ import annotations

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
    if senn.input_shape is not None and x.dim() == len(senn.input_shape):
        x = x.unsqueeze(0)  # one input -> batch of one
    was_training = senn.training
    senn.eval()
    try:
        out = senn(x)
    finally:
        senn.train(was_training)
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
