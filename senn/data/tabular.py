"""Tabular data sets: an 80/10/10 split with standard scaling fitted on the training part."""

from __future__ import annotations

import numpy as np
import torch

from senn.data.base import InMemoryDataModule, Split, check_fractions
from senn.data.preprocessing import NumericColumn, TablePreprocessor
from senn.tasks import label_dtype


class TabularDataModule(InMemoryDataModule):
    """Base class for tables: subclasses implement :meth:`load_arrays`.

    Args:
        test_fraction: share of the rows held out for testing.
        standardize: scale every feature to zero mean and unit variance (training statistics).
        **kwargs: :class:`InMemoryDataModule` arguments (``val_fraction`` is a share of all rows).
    """

    feature_names: list[str]
    task = "binary"
    num_classes = 1
    preprocessor: TablePreprocessor | None = None
    """The standardization fitted on the training rows (set by :meth:`load`), to show raw values."""

    def __init__(self, test_fraction: float = 0.1, standardize: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        check_fractions(self.val_fraction, test_fraction)
        self.test_fraction = test_fraction
        self.standardize = standardize

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One row: (number of features,)."""
        return (len(self.feature_names),)

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, D) and labels (N,)."""
        raise NotImplementedError

    def load(self) -> dict[str, Split]:
        """Split the rows at random (seeded) and standardize with the training statistics."""
        features, labels = self.load_arrays()
        x = torch.as_tensor(features, dtype=torch.float32)
        y = torch.as_tensor(labels, dtype=label_dtype(self.task))
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed))
        n_test, n_val = round(self.test_fraction * len(x)), round(self.val_fraction * len(x))
        parts = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
        train = x[parts["train"]]
        mean, std = train.mean(0), train.std(0).clamp_min(1e-8)
        if not self.standardize:
            mean, std = torch.zeros_like(mean), torch.ones_like(std)
        median = train.median(0).values
        self.preprocessor = TablePreprocessor([NumericColumn(name, float(m), float(a), float(s)) for name, m, a, s
                                               in zip(self.feature_names, median, mean, std, strict=True)])  # fmt: skip
        x = (x - mean) / std
        return {name: (x[index], y[index]) for name, index in parts.items()}
