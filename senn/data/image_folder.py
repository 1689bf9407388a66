"""Images from a folder (one subfolder per class) or a CSV of (path, label), read from disk by the loaders."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from senn.data.base import DataError, SplitDataModule
from senn.data.csv import SPLITS, stratified_split
from senn.tasks import classification_task, label_dtype, num_outputs

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
STATISTICS_SAMPLE = 2000
"""Training images the normalization statistics are computed from (a seeded sample)."""


def read_image(path: str | Path, image_size: int, channels: int) -> torch.Tensor:
    """One image file as a float tensor (C, S, S) in [0, 1], converted to ``channels`` and resized to S."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if image.size != (image_size, image_size):
            image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
        array = np.asarray(image, dtype=np.float32) / 255
    return torch.from_numpy(array).reshape(image_size, image_size, channels).permute(2, 0, 1)


class ImageFiles(Dataset):
    """Image files and their labels; each item is read from disk (by the DataLoader's workers) and normalized."""

    def __init__(self, paths: list[str], labels: list[int], image_size: int, channels: int,
                 mean: torch.Tensor, std: torch.Tensor) -> None:  # fmt: skip
        self.paths, self.labels, self.image_size, self.channels = paths, labels, image_size, channels
        self.mean, self.std = mean.view(-1, 1, 1), std.view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = read_image(self.paths[index], self.image_size, self.channels)
        return (image - self.mean) / self.std, torch.tensor(self.labels[index])


class _LazySplits(Mapping):
    """``splits[name]`` loads a whole split into memory on first use (concept metrics of small data);
    training streams from disk and evaluation reads only its sample (:meth:`ImageFolderDataModule.take`)."""

    def __init__(self, owner: ImageFolderDataModule) -> None:
        self.owner = owner
        self.loaded: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def __getitem__(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in self.owner.files:
            raise KeyError(name)
        if name not in self.loaded:
            self.loaded[name] = self.owner.head(name)
        return self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.owner.files)

    def __len__(self) -> int:
        return len(self.owner.files)


class ImageFolderDataModule(SplitDataModule):
    """Your images: ``path`` holds one subfolder per class (torchvision's ``ImageFolder`` layout), or ``csv``
    lists ``path,label`` rows (an optional ``split`` column of train / val / test; relative paths are
    relative to the CSV's folder).

    Images are converted to ``channels`` and resized to ``image_size`` squares, then normalized per
    channel with the training split's mean and standard deviation (computed on a seeded sample of
    2,000 training images unless ``mean`` / ``std`` are given; ``senn-train`` stores them in the
    checkpoint). Files stay on disk: the loaders read them in ``num_workers`` processes, with the
    in-memory modules' guarantees (the order depends only on (seed, epoch), DDP shards it, a resume
    sees the same batches). Evaluation and explanation read only the images they use (:meth:`take`).
    Unreadable files are listed, all of them, before any training.

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
    """

    feature_names = None
    concept_names = None
    resizes_images = True

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
    ) -> None:
        super().__init__()
        if (path is None) == (csv is None):
            raise ValueError("data=image_folder needs data.path=<folder of class subfolders> or data.csv=<file>")
        if channels not in (1, 3):
            raise ValueError(f"data.channels={channels}: must be 1 (grey) or 3 (RGB)")
        if not 0 < test_fraction < 1 or not 0 < val_fraction < 1 or test_fraction + val_fraction >= 1:
            raise ValueError(f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} must be "
                             "positive and sum to less than 1")  # fmt: skip
        self.source = Path(path if path is not None else csv)
        self.from_csv = csv is not None
        self.image_size, self.channels = image_size, channels
        self.mean, self.std = mean, std
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.files: dict[str, tuple[list[str], list[int]]] = {}
        self.classes: list[str] = []
        self.splits = _LazySplits(self)
        self.concepts: dict[str, torch.Tensor] = {}
        self.factors: dict[str, torch.Tensor] = {}

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, image_size, image_size)."""
        return (self.channels, self.image_size, self.image_size)

    @property
    def class_names(self) -> list[str]:
        """The class folder names (or CSV labels), in label order."""
        self._list()
        return self.classes

    @property
    def num_classes(self) -> int:
        """1 output for two classes (binary), else one per class."""
        return num_outputs(len(self.class_names))

    @property
    def task(self) -> str:
        """``binary`` for two classes, else ``multiclass``."""
        return classification_task(len(self.class_names))

    def fitted_arguments(self) -> dict[str, Any]:
        """Constructor arguments fitted on the data (the normalization), for the checkpoint's data config."""
        self.setup()
        return {"mean": list(self.mean), "std": list(self.std)}

    def _list(self) -> None:
        """Find the files and classes, check every file's header, and split (once)."""
        if self.files:
            return
        rows = self._rows()
        problems = []
        unreadable = [p for p in rows.path if not _readable(p)]
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
        if problems:
            raise DataError(str(self.source), problems)
        if "split" in rows:
            parts = {name: np.flatnonzero(rows.split.astype(str).str.lower().to_numpy() == name) for name in SPLITS}
            empty = [name for name, index in parts.items() if len(index) == 0]
            if empty:
                raise DataError(str(self.source), [f"the split column has no {empty} rows (use train / val / test)"])
        else:
            parts = stratified_split(labels, len(rows), self.val_fraction, self.test_fraction, self.seed)
        paths = rows.path.tolist()
        self.files = {name: ([paths[i] for i in index], labels[index].tolist()) for name, index in parts.items()}

    def _rows(self) -> pd.DataFrame:
        """``path``, ``label`` (and ``split``) per image."""
        if not self.source.exists():
            raise DataError(str(self.source), [f"no such {'file' if self.from_csv else 'folder'}: "
                                               f"{self.source.resolve()}"])  # fmt: skip
        if self.from_csv:
            try:
                rows = pd.read_csv(self.source)
            except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
                raise DataError(str(self.source), [f"unreadable as a table: {err}"]) from None
            if not {"path", "label"} <= set(rows.columns):
                raise DataError(str(self.source), [f"needs columns 'path' and 'label', has {list(rows.columns)}"])
            rows["path"] = [str(p if Path(p).is_absolute() else self.source.parent / p) for p in rows.path]
            return rows
        found = [(str(f), folder.name) for folder in sorted(self.source.iterdir()) if folder.is_dir()
                 for f in sorted(folder.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]  # fmt: skip
        if not found:
            raise DataError(str(self.source), ["no images in class subfolders (expected <folder>/<class>/<image>)"])
        return pd.DataFrame(found, columns=["path", "label"])

    def setup(self, stage: str | None = None) -> None:
        """List and split the files, then fit the normalization on the training split (once)."""
        self._list()
        if self.mean is None or self.std is None:
            paths = self.files["train"][0]
            order = torch.randperm(len(paths), generator=torch.Generator().manual_seed(self.seed))
            sample = torch.stack([read_image(paths[i], self.image_size, self.channels)
                                  for i in order[:STATISTICS_SAMPLE].tolist()])  # (N, C, S, S)  # fmt: skip
            self.mean = sample.mean((0, 2, 3)).tolist()
            self.std = sample.std((0, 2, 3)).clamp_min(1e-6).tolist()

    def dataset(self, split: str) -> ImageFiles:
        """The files of one split as a dataset of normalized images."""
        self.setup()
        paths, labels = self.files[split]
        labels = [float(v) for v in labels] if label_dtype(self.task).is_floating_point else labels
        return ImageFiles(paths, labels, self.image_size, self.channels, torch.tensor(self.mean),
                          torch.tensor(self.std))  # fmt: skip

    def split_size(self, split: str) -> int:
        """Number of images in ``split`` (no file is read)."""
        self._list()
        return len(self.files[split][0])

    def take(self, split: str, indices: torch.Tensor | Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalized images and labels at ``indices`` of ``split``, read from disk (only these)."""
        dataset = self.dataset(split)
        items = [dataset[i] for i in torch.as_tensor(indices, dtype=torch.long).tolist()]
        if not items:
            return torch.empty(0, *self.input_shape), torch.empty(0)
        return torch.stack([x for x, _ in items]), torch.stack([y for _, y in items])

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        """Batches of one split read from disk, in the (seed, epoch) order of the in-memory modules."""
        dataset = self.dataset(split)
        return DataLoader(dataset, batch_size=self.batch_size, sampler=self._sampler(len(dataset), shuffle),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)  # fmt: skip


def _readable(path: str) -> bool:
    """Whether PIL recognizes the file as an image (reads the header only)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.size  # noqa: B018
        return True
    except (OSError, UnidentifiedImageError, ValueError):
        return False
