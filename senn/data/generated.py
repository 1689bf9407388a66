"""Generated data sets with known concepts: batches carry concept annotations next to the labels."""

from __future__ import annotations

import torch

from senn.data.base import InMemoryDataModule

Generated = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""Inputs (N, ...), labels (N,), binary concepts (N, M) and continuous factors (N, F)."""


def withhold_annotations(concepts: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """A copy of ``concepts`` (N, M) keeping the annotations of a seeded ``fraction`` of the rows, NaN elsewhere."""
    kept = torch.zeros(len(concepts), dtype=torch.bool)
    order = torch.randperm(len(concepts), generator=torch.Generator().manual_seed(seed + 7919))
    kept[order[: round(fraction * len(concepts))]] = True
    return torch.where(kept.unsqueeze(1), concepts, torch.full_like(concepts, float("nan")))


class ConceptDataModule(InMemoryDataModule):
    """Base of the generated data sets with ground-truth concepts, deterministic from ``seed``.

    Subclasses implement :meth:`generate`. Batches are ``(x, y, concepts)``; :attr:`concepts` and
    :attr:`factors` hold every split's annotations (N, M) and generative factors (N, F). The
    validation split is held out of the ``num_train`` generated rows.

    Args:
        num_train: rows generated for training (and validation).
        num_test: rows generated for testing.
        concept_fraction: share of training rows whose concept annotations are kept (the others are
            NaN, which the concept loss skips); validation and test keep all of them.
        **kwargs: :class:`~senn.data.InMemoryDataModule` arguments.
    """

    concept_names: tuple[str, ...]
    factor_names: tuple[str, ...]

    def __init__(self, num_train: int = 2000, num_test: int = 1000, concept_fraction: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_train < 2 or num_test < 1:
            raise ValueError(f"data.num_train={num_train} must be >= 2 and data.num_test={num_test} >= 1")
        if not 0 <= concept_fraction <= 1:
            raise ValueError(f"data.concept_fraction={concept_fraction} must be in [0, 1] (a share of training rows)")
        self.num_train, self.num_test, self.concept_fraction = num_train, num_test, concept_fraction

    def generate(self, n: int, generator: torch.Generator) -> Generated:
        """Draw ``n`` rows: inputs, labels, concepts (N, M) in {0, 1} and factors (N, F)."""
        raise NotImplementedError

    def load(self) -> dict[str, tuple[torch.Tensor, ...]]:
        """Generate the training and test rows from the seed."""
        generator = torch.Generator().manual_seed(self.seed)
        return {"train": self.generate(self.num_train, generator), "test": self.generate(self.num_test, generator)}

    def setup(self, stage: str | None = None) -> None:
        """Generate, split, then withhold the training annotations that ``concept_fraction`` excludes."""
        if self.splits:
            return
        super().setup(stage)
        if self.concept_fraction < 1:
            self.concepts["train"] = withhold_annotations(self.concepts["train"], self.concept_fraction, self.seed)
