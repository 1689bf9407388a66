"""Table preprocessing fitted on the training rows: one-hot categories, standardized numbers, imputation.

:class:`TablePreprocessor` is plain data (lists, dicts, numbers, strings), so it travels in a
checkpoint that loads with ``weights_only=True`` and turns a raw row into exactly the vector the
model was trained on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

MISSING_POLICIES = ("impute", "drop")


@dataclass
class NumericColumn:
    """A numeric column: its training median (the imputed value), mean and standard deviation."""

    name: str
    median: float
    mean: float
    std: float


@dataclass
class CategoricalColumn:
    """A categorical column: its training categories (one output feature each) and most frequent one."""

    name: str
    categories: list[str]
    mode: str


@dataclass
class TablePreprocessor:
    """Raw table columns -> model inputs, fitted with :meth:`fit` on the training rows only.

    Numeric columns are standardized (missing values become the training median before scaling);
    categorical columns become one 0/1 feature per training category, named ``column=value`` (a
    missing value is the most frequent category; a category unseen in training is all zeros).
    """

    numeric: list[NumericColumn] = field(default_factory=list)
    categorical: list[CategoricalColumn] = field(default_factory=list)
    target: str = ""
    classes: list[str] | None = None
    """Class names in label order (None for regression)."""

    @classmethod
    def fit(cls, frame: pd.DataFrame, numeric: list[str], categorical: list[str], target: str,
            classes: list[str] | None) -> TablePreprocessor:  # fmt: skip
        """Statistics of ``frame`` (the training rows) for the given numeric and categorical columns."""
        numbers = []
        for name in numeric:
            values = to_numbers(frame[name])
            std = float(values.std(ddof=1)) if values.notna().sum() > 1 else 1.0
            numbers.append(NumericColumn(name, float(values.median()), float(values.mean()),
                                         std if np.isfinite(std) and std > 1e-8 else 1.0))  # fmt: skip
        categories = []
        for name in categorical:
            values = as_categories(frame[name].dropna())
            categories.append(CategoricalColumn(name, sorted(values.unique()), str(values.mode().iloc[0])))
        return cls(numbers, categories, target, classes)

    @property
    def feature_names(self) -> list[str]:
        """Names of the model's input features, in order: numeric columns, then ``column=value``."""
        return [c.name for c in self.numeric] + [f"{c.name}={v}" for c in self.categorical for v in c.categories]

    @property
    def columns(self) -> list[str]:
        """The raw columns a row must have."""
        return [c.name for c in self.numeric] + [c.name for c in self.categorical]

    def transform(self, frame: pd.DataFrame) -> torch.Tensor:
        """Model inputs (N, D) for raw rows; raises ``ValueError`` naming missing columns or bad values."""
        absent = [name for name in self.columns if name not in frame.columns]
        if absent:
            have = [str(c) for c in frame.columns]
            raise ValueError(f"the rows lack the columns {absent} the model was trained on (they have {have})")
        parts = []
        for c in self.numeric:
            values = to_numbers(frame[c.name])
            text = frame[c.name].notna() & values.isna()
            if text.any():
                raise ValueError(f"column {c.name!r} is numeric but holds {frame[c.name][text].iloc[0]!r}")
            parts.append(((values.fillna(c.median) - c.mean) / c.std).to_numpy(np.float32)[:, None])
        for c in self.categorical:
            values = as_categories(frame[c.name]).where(frame[c.name].notna(), c.mode).to_numpy()
            parts.append((values[:, None] == np.array(c.categories, dtype=object)[None, :]).astype(np.float32))
        return torch.from_numpy(np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0), np.float32))

    def raw_values(self, x: torch.Tensor) -> list[dict[str, Any]]:
        """Undo :meth:`transform` for display: per row, each raw column's value (imputed values as imputed)."""
        x = x.detach().cpu().reshape(len(x), -1).double().numpy()
        rows = [{} for _ in range(len(x))]
        for j, c in enumerate(self.numeric):
            digits = 6 - int(np.floor(np.log10(c.std)))  # float32 round trip: 6 digits at the column's scale
            for row, value in zip(rows, x[:, j] * c.std + c.mean, strict=True):
                row[c.name] = float(f"{round(float(value), digits) + 0.0:.6g}")  # + 0.0: no "-0"
        start = len(self.numeric)
        for c in self.categorical:
            block = x[:, start : start + len(c.categories)]  # (N, categories of this column)
            for row, hot, any_hot in zip(rows, block.argmax(1), block.max(1) > 0.5, strict=True):
                row[c.name] = c.categories[hot] if any_hot else None
            start += len(c.categories)
        return rows

    def to_dict(self) -> dict[str, Any]:
        """Plain containers, for checkpoints."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TablePreprocessor:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(
            [NumericColumn(**c) for c in state["numeric"]],
            [CategoricalColumn(**c) for c in state["categorical"]],
            state["target"],
            state["classes"],
        )


def to_numbers(values: pd.Series) -> pd.Series:
    """A column as floats; text that is not a number becomes NaN (booleans become 0 / 1)."""
    if values.dtype == bool:
        return values.astype(float)
    return pd.to_numeric(values, errors="coerce").astype(float)


def as_categories(values: pd.Series) -> pd.Series:
    """A column's values as category names: ``3.0`` and ``3`` are both ``"3"`` (a column of whole
    numbers reads as floats when it has missing values), text stays as it is."""

    def name(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return values.map(name, na_action="ignore").astype(object)
