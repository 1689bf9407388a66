"""Interventions: set concepts to chosen values, keep the relevances θ(x), and see what the SENN predicts."""

from __future__ import annotations

import torch
from torch import nn

from senn.models.senn import SENNOutput
from senn.models.utils import as_senn, check_inputs, eval_mode, model_device


def replace_concepts(
    concepts: torch.Tensor, columns: torch.Tensor, values: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """A copy of ``concepts`` (B, K) whose ``columns`` (M,) take ``values`` (B, M) where ``mask`` (B, M) is true.

    The one operation behind :func:`intervene`, intervention curves and training-time interventions.
    """
    edited = concepts.clone()
    edited[:, columns] = torch.where(mask, values.to(concepts.dtype), concepts[:, columns])
    return edited


@torch.no_grad()
def intervene(model: nn.Module, x: torch.Tensor, concepts: dict[int, float | torch.Tensor]) -> SENNOutput:
    """The SENN's output on ``x`` with some concept activations replaced and θ(x) unchanged.

    ``logits_c = Σ_k θ_kc(x) · h'_k`` where ``h'_k`` is ``concepts[k]`` for the given concepts and
    ``h_k(x)`` for the others. A value is a number (every input) or a (B,) tensor (one per input). The
    reconstruction is the decoder's picture of the intervened concepts (``None`` without a decoder).
    The model runs in eval mode and is restored to its mode afterwards.

    Args:
        model: a :class:`senn.SENN` or a module holding one as ``.model``.
        x: one input or a batch (B, ...).
        concepts: concept index (0-based) -> value.
    """
    senn = as_senn(model)
    x = check_inputs(x, senn.input_shape, model_device(senn))
    with eval_mode(senn):
        out = senn(x)
        b, k = out.concepts.shape
        values = {i: torch.as_tensor(v, dtype=out.concepts.dtype, device=x.device) for i, v in concepts.items()}
        for index, value in values.items():
            if not 0 <= index < k:
                raise ValueError(f"intervene: concept {index} does not exist; the model has concepts 0 … {k - 1}")
            if not torch.isfinite(value).all():
                raise ValueError(f"intervene: the value of concept {index} is NaN or infinite; give a number")
            if value.dim() > 1 or (value.dim() == 1 and len(value) != b):
                raise ValueError(
                    f"intervene: the value of concept {index} must be a number or one per input ({b},), "
                    f"got shape {tuple(value.shape)}"
                )
        if not values:
            return out
        new = torch.stack([v.expand(b) for v in values.values()], dim=1)  # (B, M)
        columns = torch.tensor(list(values), device=x.device)
        h = replace_concepts(out.concepts, columns, new, torch.ones_like(new, dtype=torch.bool))
        has_decoder = getattr(senn.conceptizer, "decoder", None) is not None
        reconstruction = senn.conceptizer.decode(h) if has_decoder and hasattr(senn.conceptizer, "decode") else None
        return SENNOutput(senn.aggregator(h, out.relevances), h, out.relevances, reconstruction)
