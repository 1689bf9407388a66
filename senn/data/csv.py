"""Any table from a CSV or Parquet file: checked, split (stratified by seed) and preprocessed on training rows."""

from __future__ import annotations

import csv as csv_module
import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from senn.data.base import ClassesFromData, DataError, InMemoryDataModule, check_fractions
from senn.data.preprocessing import MISSING_POLICIES, TablePreprocessor, as_categories, to_numbers
from senn.tasks import is_classification, label_dtype

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")
NUMERIC_SHARE = 0.9
"""A text column whose non-missing values are at least this share numbers is a numeric column with typos."""


def read_table(path: Path) -> pd.DataFrame:
    """A comma-separated CSV (``.parquet`` / ``.pq``: Parquet) file as a DataFrame.

    Raises :class:`DataError` for a missing or unreadable file and for duplicate column names.
    """
    if not path.is_file():
        raise DataError(str(path), [f"no file at {path.resolve()} (set data.path to your CSV or Parquet file)"])
    parquet = path.suffix.lower() in (".parquet", ".pq")
    if parquet and importlib.util.find_spec("pyarrow") is None:
        raise DataError(str(path), ["reading Parquet needs pyarrow: pip install 'senn[parquet]' (or save it as CSV)"])
    try:
        if parquet:
            frame = pd.read_parquet(path)
            header = [str(c) for c in frame.columns]
        else:
            with open(path, newline="", encoding="utf-8-sig") as f:
                header = next(csv_module.reader(f), [])
            frame = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, ImportError) as err:
        raise DataError(str(path), [f"unreadable as a table: {err}"]) from None
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(str(path), [f"duplicate column names {duplicates}: every column needs its own name"])
    if frame.empty:
        raise DataError(str(path), ["the table has no rows"])
    return frame


def stratified_split(labels: np.ndarray | None, n: int, val_fraction: float, test_fraction: float,
                     seed: int) -> dict[str, np.ndarray]:  # fmt: skip
    """Row indices per split, drawn from ``seed``; per class when ``labels`` (N,) are given."""
    generator = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)] if labels is not None else [np.arange(n)]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for rows in groups:
        rows = generator.permutation(rows)
        n_test = max(1, round(test_fraction * len(rows))) if test_fraction > 0 else 0  # 0: the data has a test split
        n_val = max(1, round(val_fraction * len(rows)))
        parts["test"].append(rows[:n_test])
        parts["val"].append(rows[n_test : n_test + n_val])
        parts["train"].append(rows[n_test + n_val :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def column_splits(column: pd.Series, name: str, problems: list[str]) -> dict[str, np.ndarray]:
    """Row indices per split named by a column of ``train`` / ``val`` / ``test`` (any case); other values and
    splits without rows are added to ``problems``."""
    values = column.astype(str).str.strip().str.lower()
    other = sorted(set(values) - set(SPLITS))
    if other:
        problems.append(f"split column {name!r} holds {other}; use only {list(SPLITS)}")
    parts = {split: np.flatnonzero(values.to_numpy() == split) for split in SPLITS}
    problems += [f"split column {name!r} names no {split!r} rows" for split, rows in parts.items() if not len(rows)]
    return parts


class CSVDataModule(ClassesFromData, InMemoryDataModule):
    """A table from a file: a target column and feature columns, for classification or regression.

    Non-numeric columns (and those listed in ``categorical``) are one-hot encoded as ``column=value``;
    numeric columns are standardized with the training split's statistics. Missing feature values
    are counted and logged, then imputed (training median / most frequent category) or their rows
    dropped; rows without a target are dropped. The split is stratified by class and drawn from
    ``seed``, or read from ``split_column`` (values ``train``, ``val``, ``test``). Every problem with
    the data is reported at once, as a :class:`DataError`, before any training.

    The fitted :attr:`preprocessor` (columns, categories, statistics, class names) is stored in the
    checkpoint by ``senn-train``, so raw rows can be explained later exactly as training saw them.

    Args:
        path: the CSV or Parquet file.
        target: the column to predict.
        features: the feature columns (default: every column but the target, ``drop`` and ``split_column``).
        drop: columns to ignore (IDs, free text).
        categorical: numeric-looking columns to treat as categories (codes, ZIPs).
        missing: ``impute`` or ``drop`` rows with missing feature values.
        task: ``None`` for classification, binary or multiclass by the target's number of values;
            ``regression`` for a numeric target.
        split_column: a column naming each row's split instead of a random one.
        test_fraction: share of the rows (per class) held out for testing.
        **kwargs: :class:`~senn.data.InMemoryDataModule` arguments (``val_fraction``: share of the rows).
    """

    def __init__(
        self,
        path: str,
        target: str,
        features: list[str] | None = None,
        drop: list[str] | None = None,
        categorical: list[str] | None = None,
        missing: str = "impute",
        task: str | None = None,
        split_column: str | None = None,
        test_fraction: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not path or not target:
            raise ValueError("data=csv needs data.path=<your .csv or .parquet file> and data.target=<column>")
        if missing not in MISSING_POLICIES:
            raise ValueError(f"data.missing={missing!r}: must be one of {list(MISSING_POLICIES)}")
        if task is not None and is_classification(task):
            raise ValueError(f"data.task={task!r}: must be null (classification from the target) or regression")
        check_fractions(self.val_fraction, test_fraction)
        self.path, self.target = Path(path), target
        self.features, self.drop, self.categorical = features, list(drop or []), list(categorical or [])
        self.missing, self.requested_task, self.split_column = missing, task, split_column
        self.test_fraction = test_fraction
        self._prepared: dict[str, tuple[torch.Tensor, ...]] | None = None
        self.preprocessor: TablePreprocessor | None = None
        self.split_rows: dict[str, np.ndarray] = {}
        """Per split, each row's position among the file's data rows (0 = the line after the header)."""

    # what the data determines, read on first use
    @property
    def input_shape(self) -> tuple[int, ...]:
        """One row: (number of model input features,)."""
        return (len(self.prepared_preprocessor().feature_names),)

    @property
    def feature_names(self) -> list[str]:
        """Numeric columns, then one ``column=value`` per category."""
        return self.prepared_preprocessor().feature_names

    @property
    def class_names(self) -> list[str] | None:
        """The target's values in label order (None for regression)."""
        return self.prepared_preprocessor().classes

    def prepared_preprocessor(self) -> TablePreprocessor:
        """The fitted preprocessing (reads, checks and splits the file on first use)."""
        if self.preprocessor is None:
            self._prepared = self._prepare()
        assert self.preprocessor is not None
        return self.preprocessor

    def load(self) -> dict[str, tuple[torch.Tensor, ...]]:
        """The three splits as tensors."""
        self.prepared_preprocessor()
        assert self._prepared is not None
        return dict(self._prepared)

    def _prepare(self) -> dict[str, tuple[torch.Tensor, ...]]:
        """Read, check (every problem at once), split, fit the preprocessing and transform."""
        frame = read_table(self.path)
        problems = self._column_problems(frame)
        if problems:
            raise DataError(str(self.path), problems)
        features = self.features or [c for c in frame.columns if c not in {self.target, self.split_column, *self.drop}]
        categorical, numeric = self._column_kinds(frame, features, problems)
        frame = self._drop_missing(frame, features)
        labels, classes = self._labels(frame, problems)
        if problems:
            raise DataError(str(self.path), problems)
        parts = self._split(frame, labels, classes, problems)
        if problems:
            raise DataError(str(self.path), problems)
        train = frame.iloc[parts["train"]]
        self.preprocessor = TablePreprocessor.fit(train, numeric, categorical, self.target, classes)
        x = self.preprocessor.transform(frame)
        self.split_rows = {name: frame.index[parts[name]].to_numpy() for name in SPLITS}
        y = torch.tensor(labels, dtype=label_dtype(self.task))
        log.info("%s: %d rows (train %d, val %d, test %d), %d columns -> %d features, %s%s", self.path.name,
                 len(frame), *(len(parts[s]) for s in SPLITS), len(features), x.shape[1], self.task,
                 f" ({', '.join(classes)})" if classes else "")  # fmt: skip
        return {name: (x[index], y[index]) for name, index in ((s, torch.as_tensor(parts[s])) for s in SPLITS)}

    def _column_problems(self, frame: pd.DataFrame) -> list[str]:
        """Configured columns the table does not have."""
        have = list(map(str, frame.columns))
        problems = []
        if self.target not in have:
            problems.append(f"no target column {self.target!r} (data.target); the columns are {have}")
        for key, names in (("features", self.features or []), ("drop", self.drop), ("categorical", self.categorical),
                           ("split_column", [self.split_column] if self.split_column else [])):  # fmt: skip
            absent = [n for n in names if n not in have]
            if absent:
                problems.append(f"data.{key} names columns the table does not have: {absent} (it has {have})")
        return problems

    def _column_kinds(self, frame: pd.DataFrame, features: list[str], problems: list[str]) -> tuple[list, list]:
        """Split the features into categorical and numeric; flag all-missing columns and text among numbers."""
        categorical, numeric = [], []
        for name in features:
            column = frame[name]
            if column.isna().all():
                problems.append(f"column {name!r} is empty (every value missing): drop it with data.drop=[{name}]")
                continue
            numbers = to_numbers(column)
            text = column.notna() & numbers.isna()
            if name in self.categorical or (text.any() and text.mean() / column.notna().mean() > 1 - NUMERIC_SHARE):
                categorical.append(name)
            elif text.any():
                rows = [int(i) + 2 for i in np.flatnonzero(text.to_numpy())[:5]]  # file lines: header is line 1
                problems.append(f"column {name!r} is numeric but holds text {column[text].iloc[0]!r} on lines {rows}"
                                f" (fix those values, or list it in data.categorical)")  # fmt: skip
            else:
                numeric.append(name)
        return categorical, numeric

    def _drop_missing(self, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
        """Log the missing values; drop rows without a target (and, with ``missing=drop``, any missing feature)."""
        counts = frame[features].isna().sum()
        counts = counts[counts > 0]
        if len(counts):
            action = "imputed (median / most frequent)" if self.missing == "impute" else "their rows dropped"
            log.info("%s: %d missing values in %s, %s", self.path.name, int(counts.sum()),
                     ", ".join(f"{n} ({c})" for n, c in counts.items()), action)  # fmt: skip
        keep = frame[self.target].notna()
        if (~keep).any():
            log.info("%s: %d rows without a target value dropped", self.path.name, int((~keep).sum()))
        if self.missing == "drop":
            keep &= frame[features].notna().all(axis=1)
        return frame[keep]  # the index keeps each row's position in the file

    def _labels(self, frame: pd.DataFrame, problems: list[str]) -> tuple[np.ndarray, list[str] | None]:
        """Labels (N,) and class names (None for regression)."""
        target = frame[self.target]
        if self.requested_task is not None:  # regression, the one task a table is told to have
            values = to_numbers(target)
            if values.isna().any():
                problems.append(f"target {self.target!r} holds text {target[values.isna()].iloc[0]!r}, not a number "
                                "(data.task=regression needs a numeric target)")  # fmt: skip
            return values.to_numpy(np.float32), None
        names = as_categories(target)
        classes = sorted(names.unique(), key=_natural)
        if len(classes) < 2:
            problems.append(f"target {self.target!r} has {len(classes)} value(s) {classes}: classification needs at "
                            "least two classes")  # fmt: skip
        labels = names.map({c: i for i, c in enumerate(classes)}).to_numpy(np.int64)
        return labels, classes

    def _split(self, frame: pd.DataFrame, labels: np.ndarray, classes: list[str] | None,
               problems: list[str]) -> dict[str, np.ndarray]:  # fmt: skip
        """Row indices per split: from ``split_column``, else stratified and seeded."""
        if self.split_column:
            parts = column_splits(frame[self.split_column], self.split_column, problems)
            if classes is not None and len(parts["train"]):
                absent = [c for i, c in enumerate(classes) if not (labels[parts["train"]] == i).any()]
                if absent:
                    problems.append(f"classes {absent} have no training rows in split column {self.split_column!r}")
            return parts
        if classes is not None:
            counts = np.bincount(labels, minlength=len(classes))
            small = [f"{c!r} ({n} rows)" for c, n in zip(classes, counts, strict=True) if n < 3]
            if small:
                problems.append(f"classes too small for a stratified train / val / test split (3 rows each at least): "
                                f"{', '.join(small)}; drop or merge them, or give data.split_column")  # fmt: skip
                return {}
        return stratified_split(labels if classes is not None else None, len(frame), self.val_fraction,
                                self.test_fraction, self.seed)  # fmt: skip


def _natural(name: str) -> tuple[int, float | str]:
    """Sort key: numbers by value, then text alphabetically."""
    try:
        return (0, float(name))
    except ValueError:
        return (1, name)
