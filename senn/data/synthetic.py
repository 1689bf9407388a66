"""A synthetic data set with a learnable target, for tests and quick checks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from senn.data.base import InMemoryDataModule, Split
from senn.tasks import label_dtype


class SyntheticDataModule(InMemoryDataModule):
    """Gaussian inputs of any shape labelled by a random two-layer teacher network.

    Args:
        input_shape: shape of one input, e.g. ``[10]`` (tabular) or ``[1, 28, 28]`` (images).
        num_classes: number of classes (1 makes a binary task with one output).
        num_samples: training samples; the test set has a quarter as many.
        **kwargs: :class:`InMemoryDataModule` arguments.
    """

    def __init__(
        self, input_shape: Sequence[int] = (10,), num_classes: int = 3, num_samples: int = 1000, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if num_classes < 1 or num_samples < 2:
            raise ValueError(f"data.num_classes={num_classes} must be >= 1 and data.num_samples={num_samples} >= 2")
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.task = "binary" if num_classes == 1 else "multiclass"
        self.num_samples = num_samples

    def load(self) -> dict[str, Split]:
        """Draw train and test sets from the seeded teacher."""
        g = torch.Generator().manual_seed(self.seed)
        d = int(torch.tensor(self.input_shape).prod())
        hidden = torch.randn(d, 16, generator=g) / d**0.5
        out = torch.randn(16, max(self.num_classes, 2), generator=g)

        def draw(n: int) -> Split:
            x = torch.randn(n, *self.input_shape, generator=g)
            scores = torch.tanh(x.flatten(1) @ hidden) @ out  # (n, classes)
            y = scores.argmax(1)
            return x, y.to(label_dtype(self.task))

        return {"train": draw(self.num_samples), "test": draw(max(self.num_samples // 4, 1))}
