"""Image data streamed from disk: files are read (and augmented) by the loaders' workers, never all at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from senn.data.base import ClassesFromData, SplitDataModule
from senn.tasks import label_dtype

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
STATISTICS_SAMPLE = 2000
"""Training images the normalization statistics are computed from (a seeded sample)."""
CROP_MARGIN = 8 / 7
"""Augmentation reads images this much larger and crops the model's size out of them (ImageNet's 256 → 224)."""


def read_image(path: str | Path, image_size: int, channels: int) -> torch.Tensor:
    """One image file as a float tensor (C, S, S) in [0, 1], converted to ``channels`` and resized to S."""
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if image.size != (image_size, image_size):
            image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
        array = np.asarray(image, dtype=np.float32) / 255
    return torch.from_numpy(array).reshape(image_size, image_size, channels).permute(2, 0, 1)


def readable(path: str | Path) -> bool:
    """Whether PIL recognizes the file as an image (reads the header only)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.size  # noqa: B018
        return True
    except (OSError, UnidentifiedImageError, ValueError):
        return False


class ImageFiles(Dataset):
    """Image files with their labels (and concept annotations); each item is read from disk and normalized.

    With ``augment`` each read is a random crop of the image at ``CROP_MARGIN`` times the size, flipped
    left-right half of the time (drawn in the loader's worker, seeded by the run's seed)."""

    def __init__(self, paths: list[str], labels: list[int], image_size: int, channels: int, mean: torch.Tensor,
                 std: torch.Tensor, concepts: torch.Tensor | None = None, augment: bool = False) -> None:  # fmt: skip
        self.paths, self.labels, self.image_size, self.channels = paths, labels, image_size, channels
        self.mean, self.std = mean.view(-1, 1, 1), std.view(-1, 1, 1)
        self.concepts, self.crop_and_flip = concepts, None
        if augment:
            from torchvision.transforms import v2

            self.crop_and_flip = v2.Compose([v2.RandomCrop(image_size), v2.RandomHorizontalFlip()])

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        if self.crop_and_flip is not None:
            image = read_image(self.paths[index], round(self.image_size * CROP_MARGIN), self.channels)
            image = self.crop_and_flip(image)
        else:
            image = read_image(self.paths[index], self.image_size, self.channels)
        item = ((image - self.mean) / self.std, torch.tensor(self.labels[index]))
        return item if self.concepts is None else (*item, self.concepts[index])


class _LazySplits(Mapping):
    """``splits[name]`` loads a whole split into memory on first use (concept metrics of small data);
    training streams from disk and evaluation reads only its sample (:meth:`ImageFilesDataModule.take`)."""

    def __init__(self, owner: ImageFilesDataModule) -> None:
        self.owner = owner
        self.loaded: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def __getitem__(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in self.owner.files:
            raise KeyError(name)
        if name not in self.loaded:
            self.loaded[name] = self.owner.head(name)
        return self.loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self.owner.files  # without loading the split (Mapping's own test would)

    def __iter__(self) -> Iterator[str]:
        return iter(self.owner.files)

    def __len__(self) -> int:
        return len(self.owner.files)


class ImageFilesDataModule(ClassesFromData, SplitDataModule):
    """Base of the data modules whose images stay on disk: subclasses implement :meth:`_list`, which sets
    :attr:`files` (split -> paths, labels), :attr:`classes` and, for annotated data, :attr:`concepts`.

    Images are converted to ``channels`` and resized to ``image_size`` squares, then normalized per
    channel with ``mean`` / ``std`` (null: the training split's, from a seeded sample of 2,000 images;
    ``senn-train`` stores them in the checkpoint). The loaders read the files in ``num_workers``
    processes with the in-memory modules' guarantees (the order depends only on (seed, epoch), DDP
    shards it, a resume sees the same batches). Evaluation and explanation read only the images they
    use (:meth:`take`).
    """

    feature_names = None
    resizes_images = True

    def __init__(self, image_size: int, channels: int, mean: list[float] | None, std: list[float] | None,
                 batch_size: int, seed: int, num_workers: int, augment: bool = False) -> None:  # fmt: skip
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"data.channels={channels}: must be 1 (grey) or 3 (RGB)")
        self.image_size, self.channels, self.mean, self.std = image_size, channels, mean, std
        self.batch_size, self.seed, self.num_workers, self.augment = batch_size, seed, num_workers, augment
        self.files: dict[str, tuple[list[str], list[int]]] = {}
        self.classes: list[str] = []
        self.splits = _LazySplits(self)
        self.concepts: dict[str, torch.Tensor] = {}
        self.factors: dict[str, torch.Tensor] = {}

    def _list(self) -> None:
        """Find the files, their labels and splits (once)."""
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, image_size, image_size)."""
        return (self.channels, self.image_size, self.image_size)

    @property
    def class_names(self) -> list[str]:
        """The class names, in label order."""
        self._list()
        return self.classes

    def fitted_arguments(self) -> dict[str, Any]:
        """Constructor arguments fitted on the data (the normalization), for the checkpoint's data config."""
        self.setup()
        return {"mean": list(self.mean), "std": list(self.std)}

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

    def dataset(self, split: str, augment: bool = False) -> ImageFiles:
        """The files of one split as a dataset of normalized images (``augment``: random crops and flips)."""
        self.setup()
        paths, labels = self.files[split]
        labels = [float(v) for v in labels] if label_dtype(self.task).is_floating_point else labels
        return ImageFiles(paths, labels, self.image_size, self.channels, torch.tensor(self.mean),
                          torch.tensor(self.std), self.concepts.get(split), augment)  # fmt: skip

    def split_size(self, split: str) -> int:
        """Number of images in ``split`` (no file is read)."""
        self._list()
        self.check_split(split)
        return len(self.files[split][0])

    def take(self, split: str, indices: torch.Tensor | Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalized images and labels at ``indices`` of ``split``, read from disk (only these)."""
        dataset = self.dataset(split)
        items = [dataset[i] for i in torch.as_tensor(indices, dtype=torch.long).tolist()]
        if not items:
            return torch.empty(0, *self.input_shape), torch.empty(0)
        return torch.stack([item[0] for item in items]), torch.stack([item[1] for item in items])

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        """Batches of one split read from disk, in the (seed, epoch) order of the in-memory modules; the
        training split augmented when ``augment`` is on."""
        dataset = self.dataset(split, augment=self.augment and split == "train")
        return DataLoader(dataset, batch_size=self.batch_size, sampler=self._sampler(len(dataset), shuffle),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)  # fmt: skip
