"""CIFAR-10 from the python-pickle batches, read with a restricted unpickler, held in memory."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from senn.data.base import DataNotFoundError, InMemoryDataModule, Split, require_files

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
FOLDER = "cifar-10-batches-py"
BATCH_NAMES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")


def batch_md5() -> dict[str, str]:
    """File name -> MD5 of every batch, from torchvision's own checksum lists."""
    from torchvision.datasets import CIFAR10

    return dict(CIFAR10.train_list + CIFAR10.test_list)


class _ArraysOnly(pickle.Unpickler):
    """Unpickler that builds only plain containers and NumPy arrays, never arbitrary objects."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> type:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: CIFAR-10 batches hold only arrays")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) of one CIFAR-10 python batch file."""
    try:
        with open(path, "rb") as f:
            entry = _ArraysOnly(f, encoding="latin1").load()
        images = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry.get("labels", entry.get("fine_labels")), dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
        raise DataNotFoundError(f"{path} is not a readable CIFAR-10 batch: {err}") from err
    return images, labels


class CIFAR10DataModule(InMemoryDataModule):
    """CIFAR-10 (3x32x32, 10 classes), normalized per channel.

    Reads ``<data_dir>/cifar-10-batches-py/{data_batch_1..5,test_batch}`` (torchvision's layout),
    downloading them with torchvision when ``download`` is true and they are missing. 10% of the
    training set is held out for validation.

    Args:
        download: download missing files with torchvision.
        verify_checksums: check the batches' MD5 against the official ones.
        **kwargs: :class:`InMemoryDataModule` arguments.
    """

    input_shape = (3, 32, 32)
    num_classes = 10
    pixel_mean, pixel_std = MEAN, STD
    class_names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    def __init__(self, download: bool = True, verify_checksums: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.download = download
        self.verify_checksums = verify_checksums

    def load(self) -> dict[str, Split]:
        """Read (and if needed download) the batches; return normalized train and test tensors."""
        from torchvision.datasets import CIFAR10

        folder = self.data_dir / FOLDER
        how = "They are the python version's batches; torchvision downloads them when data.download=true."
        fetch = (lambda: CIFAR10(str(self.data_dir), download=True)) if self.download else None
        md5 = batch_md5() if self.verify_checksums else None
        require_files("CIFAR-10", self.data_dir, FOLDER, BATCH_NAMES, how, fetch, md5)
        train = [read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
        return {
            "train": self._normalize(np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train])),
            "test": self._normalize(*read_batch(folder / "test_batch")),
        }

    @staticmethod
    def _normalize(images: np.ndarray, labels: np.ndarray) -> Split:
        """uint8 images to normalized float tensors (N, 3, 32, 32), labels to int64 (N,)."""
        mean = torch.tensor(MEAN).view(1, 3, 1, 1)
        std = torch.tensor(STD).view(1, 3, 1, 1)
        x = (torch.from_numpy(images).float() / 255 - mean) / std
        return x, torch.from_numpy(labels)
