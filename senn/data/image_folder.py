"""Your images: a folder with one subfolder per class, or a CSV of (path, label), read from disk by the loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from senn.data.base import DataError, check_fractions
from senn.data.csv import column_splits, read_table, stratified_split
from senn.data.image_files import IMAGE_SUFFIXES, ImageFilesDataModule, readable


class ImageFolderDataModule(ImageFilesDataModule):
    """Your images: ``path`` holds one subfolder per class (torchvision's ``ImageFolder`` layout), or ``csv``
    lists ``path,label`` rows (an optional ``split`` column of train / val / test; relative paths are
    relative to the CSV's folder).

    Images are read as :class:`~senn.data.image_files.ImageFilesDataModule` says (resized, normalized with
    the training split's statistics unless ``mean`` / ``std`` are given, streamed from disk). Unreadable
    files are listed, all of them, before any training.

    Args:
        path: the folder of class subfolders.
        csv: a CSV of ``path,label`` (instead of ``path``).
        image_size: side of the square images the model sees.
        channels: 1 (grey) or 3 (RGB).
        mean: per-channel mean of [0, 1] pixels (null: from the training split).
        std: per-channel standard deviation (null: from the training split).
        val_fraction: share of each class held out for validation (without a split column).
        test_fraction: share of each class held out for testing (without a split column).
        batch_size: batch size of every loader.
        seed: seed of the split and of the data order.
        num_workers: DataLoader processes reading the files.
        augment: train on random crops (of the image read 8/7 larger) flipped left-right half of the time.
    """

    concept_names = None

    def __init__(
        self,
        path: str | None = None,
        csv: str | None = None,
        image_size: int = 32,
        channels: int = 3,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 2,
        augment: bool = False,
    ) -> None:
        super().__init__(image_size, channels, mean, std, batch_size, seed, num_workers, augment)
        if (path is None) == (csv is None):
            raise ValueError("data=image_folder needs data.path=<folder of class subfolders> or data.csv=<file>")
        check_fractions(val_fraction, test_fraction)
        self.source = Path(path if path is not None else csv)
        self.from_csv = csv is not None
        self.val_fraction, self.test_fraction = val_fraction, test_fraction

    def _list(self) -> None:
        """Find the files and classes, check every file's header, and split (once)."""
        if self.files:
            return
        rows = self._rows()
        problems = []
        unreadable = [p for p in rows.path if not readable(p)]
        if unreadable:
            problems.append(f"{len(unreadable)} unreadable image file(s): {unreadable[:10]}"
                            + (" ..." if len(unreadable) > 10 else ""))  # fmt: skip
        self.classes = sorted(rows.label.astype(str).unique())
        if len(self.classes) < 2:
            problems.append(f"{len(self.classes)} class(es) {self.classes}: classification needs at least two")
        labels = rows.label.astype(str).map({c: i for i, c in enumerate(self.classes)}).to_numpy()
        counts = np.bincount(labels, minlength=len(self.classes))
        small = [f"{c!r} ({n} images)" for c, n in zip(self.classes, counts, strict=True) if n < 3]
        if small and "split" not in rows:
            problems.append(f"classes too small for a train / val / test split (3 images each at least): {small}")
        parts = column_splits(rows.split, "split", problems) if "split" in rows else None
        if problems:
            raise DataError(str(self.source), problems)
        if parts is None:
            parts = stratified_split(labels, len(rows), self.val_fraction, self.test_fraction, self.seed)
        paths = rows.path.tolist()
        self.files = {name: ([paths[i] for i in index], labels[index].tolist()) for name, index in parts.items()}

    def _rows(self) -> pd.DataFrame:
        """``path``, ``label`` (and ``split``) per image."""
        if not self.source.exists():
            raise DataError(str(self.source), [f"no such {'file' if self.from_csv else 'folder'}: "
                                               f"{self.source.resolve()}"])  # fmt: skip
        if self.from_csv:
            rows = read_table(self.source)
            if not {"path", "label"} <= set(rows.columns):
                raise DataError(str(self.source), [f"needs columns 'path' and 'label', has {list(rows.columns)}"])
            rows["path"] = [str(p if Path(p).is_absolute() else self.source.parent / p) for p in rows.path]
            return rows
        found = [(str(f), folder.name) for folder in sorted(self.source.iterdir()) if folder.is_dir()
                 for f in sorted(folder.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]  # fmt: skip
        if not found:
            raise DataError(str(self.source), ["no images in class subfolders (expected <folder>/<class>/<image>)"])
        return pd.DataFrame(found, columns=["path", "label"])
