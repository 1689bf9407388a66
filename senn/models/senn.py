"""The self-explaining neural network: a conceptizer, a relevance parametrizer and an aggregator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, NoReturn

import torch
from torch import nn

if TYPE_CHECKING:
    from senn.data.preprocessing import TablePreprocessor


class SENNOutput(NamedTuple):
    """Everything one forward pass of a :class:`SENN` computes."""

    logits: torch.Tensor
    """(B, C) outputs of the aggregator."""
    concepts: torch.Tensor
    """(B, K) concept activations h(x)."""
    relevances: torch.Tensor
    """(B, K, C) relevances θ(x)."""
    reconstruction: torch.Tensor | None
    """The decoder's reconstruction of x (x's shape), or ``None`` when the encoder has no decoder."""


class SENN(nn.Module):
    """``logits_c(x) = g(h(x), θ(x))``, by default ``Σ_k θ_kc(x) · h_k(x)``.

    Any modules following the component protocol work:

    * ``conceptizer(x) -> (concepts (B, K), reconstruction or None)``
    * ``parametrizer(x) -> relevances (B, K, C)``
    * ``aggregator(concepts, relevances) -> logits (B, C)``

    When the input shape is known (``input_shape``, or the conceptizer's ``input_shape``
    attribute), construction runs one dummy batch through the parts and raises ``ValueError`` with
    the offending shapes if they do not fit together.

    Args:
        conceptizer: the conceptizer h (the concept encoder).
        parametrizer: the relevance parametrizer θ.
        aggregator: the aggregator g.
        input_shape: shape of one input without the batch dimension, for the construction check.
    """

    concept_names: list[str] | None = None
    """A name per concept, for explanations (``None``: numbered from 1)."""
    class_names: list[str] | None = None
    """A name per class (binary: the negative, then the positive class)."""
    feature_names: list[str] | None = None
    """A name per input feature of tabular data."""
    preprocessor: TablePreprocessor | None = None
    """A table's preprocessing: raw rows -> inputs, and back for display."""

    def __init__(
        self,
        conceptizer: nn.Module,
        parametrizer: nn.Module,
        aggregator: nn.Module,
        input_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.conceptizer = conceptizer
        self.parametrizer = parametrizer
        self.aggregator = aggregator
        if hasattr(parametrizer, "attach"):  # θ reads what the conceptizer computes (a backbone, embeddings)
            parametrizer.attach(conceptizer)
        shape = input_shape if input_shape is not None else getattr(conceptizer, "input_shape", None)
        self.input_shape: tuple[int, ...] | None = tuple(shape) if shape is not None else None
        if self.input_shape is not None:
            self._check_shapes()

    @property
    def task(self) -> str:
        """How the logits are read: the aggregator's ``task``, ``"multiclass"`` if it declares none."""
        return getattr(self.aggregator, "task", "multiclass")

    @property
    def num_classes(self) -> int | None:
        """C, the number of outputs, as the aggregator declares it (``None`` if it does not)."""
        return getattr(self.aggregator, "num_classes", None)

    def forward(self, x: torch.Tensor) -> SENNOutput:
        """Compute logits (B, C), concepts (B, K), relevances (B, K, C) and the reconstruction."""
        concepts, reconstruction = self.conceptizer(x)
        relevances = self.parametrizer(x)
        logits = self.aggregator(concepts, relevances)
        return SENNOutput(logits, concepts, relevances, reconstruction)

    @property
    def backbone(self) -> nn.Module | None:
        """The pretrained backbone that h and θ share (:mod:`senn.models.backbones`), if they share one."""
        return self.conceptizer.backbone if getattr(self.parametrizer, "share_backbone", False) else None

    def from_features(self, features: torch.Tensor) -> SENNOutput:
        """The SENN on its shared backbone's features (B, F) instead of inputs: ``forward(x)`` is
        ``from_features(backbone(x))``. The stability regularizer can differentiate in this space."""
        if self.backbone is None:
            raise ValueError("SENN.from_features: the conceptizer and parametrizer share no backbone")
        concepts, reconstruction = self.conceptizer.from_features(features)
        relevances = self.parametrizer.from_features(features)
        return SENNOutput(self.aggregator(concepts, relevances), concepts, relevances, reconstruction)

    @torch.no_grad()
    def _check_shapes(self) -> None:
        """Run a dummy batch of 2 through the parts and check that their shapes agree."""

        def fail(problem: str, err: Exception | None = None) -> NoReturn:
            raise ValueError(f"{type(self).__name__}: {problem}") from err

        shapes = [getattr(part, "input_shape", None) for part in (self.conceptizer, self.parametrizer)]
        if None not in shapes and math.prod(shapes[0]) != math.prod(shapes[1]):  # (flat (D,) takes any D-sized input)
            fail(
                f"the conceptizer takes inputs of shape {tuple(shapes[0])}, the parametrizer {tuple(shapes[1])}; "
                "make them equal (null takes both from the data)"
            )
        param = next(self.parameters(), None)
        x = torch.zeros(2, *self.input_shape) if param is None else param.new_zeros(2, *self.input_shape)
        was_training, outputs = self.training, []
        self.eval()  # no batch-norm statistics updated, no dropout
        try:
            for part in ("conceptizer", "parametrizer"):
                try:
                    outputs.append(getattr(self, part)(x))
                except RuntimeError as err:
                    fail(f"the {part} cannot take inputs of shape {tuple(x.shape)}: {err}", err)
        finally:
            self.train(was_training)
        (concepts, reconstruction), relevances = outputs
        if concepts.dim() != 2 or len(concepts) != 2:
            fail(f"the conceptizer must return concepts of shape (B, K), got {tuple(concepts.shape)}")
        if reconstruction is not None and reconstruction.shape != x.shape:
            fail(f"the conceptizer's reconstruction has shape {tuple(reconstruction.shape)}, input {tuple(x.shape)}")
        k = concepts.shape[1]
        if relevances.dim() != 3 or relevances.shape[:2] != (2, k):
            fail(
                f"the parametrizer must return relevances of shape (B, K, C) with K={k} concepts (the conceptizer's), "
                f"got {tuple(relevances.shape)}; set the parametrizer's num_concepts to {k}"
            )
        c = relevances.shape[2]
        expected = getattr(self.aggregator, "num_classes", c)
        if expected != c:
            fail(
                f"the parametrizer gives C={c} outputs per concept but the aggregator expects num_classes={expected}; "
                "make them equal"
            )
        logits = self.aggregator(concepts, relevances)
        if logits.shape != (2, c):
            fail(f"the aggregator must return logits of shape (B, C=({c})), got {tuple(logits.shape)}")
