"""MNIST from torchvision's raw files, held in memory as normalized tensors."""

from __future__ import annotations

from senn.data.base import DataNotFoundError, InMemoryDataModule, Split, require_files

MEAN, STD = 0.1307, 0.3081
RAW_MD5 = {  # of the unpacked files (torchvision lists only the .gz archives' checksums)
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


class MNISTDataModule(InMemoryDataModule):
    """MNIST digits (1x28x28, 10 classes), normalized with the usual mean 0.1307 / std 0.3081.

    Reads ``<data_dir>/MNIST/raw/*-ubyte`` (torchvision's layout), downloading them with
    torchvision when ``download`` is true and they are missing. 10% of the training set is held out
    for validation.

    Args:
        download: download missing files with torchvision.
        verify_checksums: check the raw files' MD5 against the official ones.
        **kwargs: :class:`InMemoryDataModule` arguments.
    """

    input_shape = (1, 28, 28)
    num_classes = 10
    class_names = tuple(str(digit) for digit in range(10))
    pixel_mean, pixel_std = (MEAN,), (STD,)

    def __init__(self, download: bool = True, verify_checksums: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.download = download
        self.verify_checksums = verify_checksums

    def load(self) -> dict[str, Split]:
        """Read (and if needed download) the raw files; return normalized train and test tensors."""
        from torchvision.datasets import MNIST

        how = "They are the unpacked files from the MNIST site; torchvision downloads them when data.download=true."
        fetch = (lambda: MNIST(str(self.data_dir), download=True)) if self.download else None
        md5 = RAW_MD5 if self.verify_checksums else None
        require_files("MNIST", self.data_dir, "MNIST/raw", list(RAW_MD5), how, fetch, md5)
        return {split: self._read(MNIST, split == "train") for split in ("train", "test")}

    def _read(self, mnist: type, train: bool) -> Split:
        """One split as normalized float images (N, 1, 28, 28) and int64 labels (N,)."""
        try:
            dataset = mnist(str(self.data_dir), train=train, download=False)
        except (RuntimeError, ValueError) as err:
            raise DataNotFoundError(f"cannot read MNIST from {self.data_dir / 'MNIST' / 'raw'}: {err}") from err
        x = (dataset.data.unsqueeze(1).float() / 255 - MEAN) / STD  # (N, 1, 28, 28)
        return x, dataset.targets.long()
