"""In-memory LightningDataModules: every split is a pair of tensors, batches are sliced at once."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from senn.tasks import classification_task, num_outputs


class DataNotFoundError(FileNotFoundError):
    """The data set's files are missing (or corrupt) and could not be downloaded."""


class DataError(ValueError):
    """Problems with a user's data, all of them listed in one message."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        super().__init__(f"cannot use the data in {source}:\n  - " + "\n  - ".join(problems))

    def __reduce__(self) -> tuple[type, tuple[str, list[str]]]:
        """Pickle with its arguments (a process pool re-raises it in the parent intact)."""
        return type(self), (self.source, self.problems)


def default_data_dir() -> Path:
    """The data location: ``$SENN_DATA_DIR`` if set, else ``./data``."""
    return Path(os.environ.get("SENN_DATA_DIR", "./data"))


def require_files(
    name: str,
    data_dir: Path,
    folder: str | Path,
    files: Sequence[str],
    how: str,
    download: Callable[[], object] | None = None,
    md5: Mapping[str, str] | None = None,
) -> None:
    """Make sure ``data_dir / folder`` holds ``files``, or raise :class:`DataNotFoundError` saying which are
    missing, where, ``how`` to provide them and how to point senn at ``data_dir``, the data location.

    When some are missing, ``download`` is called first; its failure is a one-line warning (torchvision's
    multi-line error folded into it), not an error. With ``md5``, each named file's checksum is checked.
    """
    folder = data_dir / folder
    if download is not None and not all((folder / f).exists() for f in files):
        try:
            download()
        except Exception as err:  # no network, server down, a changed or truncated file
            warnings.warn(
                f"{name} download failed ({' '.join(str(err).split())}); looking for the files already there",
                stacklevel=3,
            )
    missing = [folder / f for f in files if not (folder / f).exists()]
    if missing:
        raise DataNotFoundError(
            f"{name} data not found: expected {', '.join(map(str, missing))}. {how} Set the location with "
            f"data.data_dir=... or the SENN_DATA_DIR environment variable (now looking in {data_dir})."
        )
    from torchvision.datasets.utils import calculate_md5

    for f, expected in (md5 or {}).items():
        if (actual := calculate_md5(str(folder / f))) != expected:
            raise DataNotFoundError(
                f"{folder / f} is corrupt or not the expected file (MD5 {actual}, expected {expected}); delete it to "
                "download it again, or set data.verify_checksums=false for a re-packed copy"
            )


class TensorBatchDataset(TensorDataset):
    """torch's :class:`~torch.utils.data.TensorDataset`, fetched a whole batch at a time (one gather per tensor)."""

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        """Called by the DataLoader with a batch of indices."""
        return self[torch.as_tensor(indices)]


SEED_STRIDE = 100_003
"""Epoch ``e`` of seed ``s`` is shuffled with ``s * SEED_STRIDE + e``, so that neighbouring seeds never share
an epoch's order (the order every recorded result was trained with)."""


def keep_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate function for :class:`TensorBatchDataset`: the batch is already assembled."""
    return batch


Split = tuple[torch.Tensor, torch.Tensor]
"""A split's inputs and labels."""


class SplitDataModule(pl.LightningDataModule):
    """The loaders every senn data module shares: train / val / test from :meth:`_loader`, each in a data order
    that depends only on ``(seed, epoch)``, sharded over the trainer's processes.

    The order is torch's :class:`~torch.utils.data.DistributedSampler` with explicit replicas and rank: a
    run resumed at an epoch boundary sees exactly the batches an uninterrupted run would, and under DDP
    process ``rank`` takes positions ``rank, rank + world_size, ...`` of the same order, so the
    processes' batches together are the single-process batch (padded by wrapping around so that every
    process has as many). Lightning calls ``set_epoch`` every epoch.
    """

    seed: int

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        """The DataLoader of one split."""
        raise NotImplementedError

    def _sampler(self, num_samples: int, shuffle: bool) -> DistributedSampler:
        """The seeded order of a split, this process's share of it under DDP."""
        trainer = self.trainer
        rank, world_size = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        return DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=shuffle,
                                  seed=self.seed * SEED_STRIDE)  # fmt: skip

    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches."""
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        """Validation batches in order."""
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """Test batches in order."""
        return self._loader("test", shuffle=False)

    def check_split(self, split: str) -> None:
        """Raise ``ValueError`` naming the splits there are unless the data has ``split`` (set up first)."""
        if split not in self.splits:
            raise ValueError(f"split={split!r}: the data has the splits {sorted(self.splits)}")

    def split_size(self, split: str) -> int:
        """Number of examples in ``split`` (without reading them where the data streams from disk)."""
        self.setup()
        self.check_split(split)
        return len(self.splits[split][0])

    def take(self, split: str, indices: torch.Tensor | Sequence[int]) -> Split:
        """The inputs and labels at ``indices`` of ``split``: evaluation, explanation and prototypes read
        only these, so a split larger than memory can be evaluated."""
        self.setup()
        x, y = self.splits[split]
        index = torch.as_tensor(indices, dtype=torch.long)
        return x[index], y[index]

    def head(self, split: str, n: int | None = None) -> Split:
        """The first ``n`` examples of ``split`` (all of them for None or a larger ``n``), read as :meth:`take`."""
        size = self.split_size(split)
        return self.take(split, range(size if n is None else min(n, size)))


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise ``ValueError`` unless both held-out shares are positive and leave training rows."""
    if not 0 < val_fraction < 1 or not 0 < test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise ValueError(
            f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} must be positive "
            "and sum to less than 1"
        )


class ClassesFromData:
    """``task`` and ``num_classes`` of a data module that finds its classes in the data (``class_names``, None for
    a regression target)."""

    class_names: Sequence[str] | None

    @property
    def task(self) -> str:
        """``binary`` for two classes, ``multiclass`` for more, ``regression`` without classes."""
        return "regression" if self.class_names is None else classification_task(len(self.class_names))

    @property
    def num_classes(self) -> int:
        """Model outputs: 1 for binary and regression, else one per class."""
        return 1 if self.class_names is None else num_outputs(len(self.class_names))


class InMemoryDataModule(SplitDataModule):
    """Base class: subclasses implement :meth:`load`; this class splits, serves and describes the data.

    Args:
        data_dir: where the data lives (default ``$SENN_DATA_DIR`` or ``./data``).
        batch_size: batch size of every loader.
        val_fraction: share of the training data held out for validation when the data set has
            no validation split.
        seed: seed of the train / validation split.
        num_workers: DataLoader workers (0 is right for in-memory tensors).
    """

    input_shape: tuple[int, ...]
    num_classes: int
    task: str = "multiclass"
    concept_names: Sequence[str] | None = None
    """Names of the annotated concepts, for data sets whose :meth:`load` returns concept annotations."""
    feature_names: Sequence[str] | None = None
    """Names of the input features of tabular data (None for images)."""
    class_names: Sequence[str] | None = None
    """Names of the classes in label order (for binary tasks: the negative, then the positive class)."""
    pixel_mean: Sequence[float] | None = None
    """Image data: the per-channel mean subtracted from [0, 1] pixels (None: none), so image files can be
    normalized as training saw them."""
    pixel_std: Sequence[float] | None = None
    """Image data: the per-channel standard deviation the pixels are divided by (None: 1)."""
    resizes_images = False
    """Whether the data module resizes image files to the model's size (then so does ``senn-explain``)."""

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 200,
        val_fraction: float = 0.1,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"data.batch_size={batch_size} must be >= 1")
        if not 0 < val_fraction < 1:
            raise ValueError(f"data.val_fraction={val_fraction} must be in (0, 1)")
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.seed = seed
        self.num_workers = num_workers
        self.splits: dict[str, Split] = {}
        self.concepts: dict[str, torch.Tensor] = {}
        """Per split, the concept annotations (N, M) (NaN where an annotation is withheld); empty without any."""
        self.factors: dict[str, torch.Tensor] = {}
        """Per split, the continuous generative factors (N, F) of generated data sets; empty otherwise."""

    def load(self) -> dict[str, tuple[torch.Tensor, ...]]:
        """Read the data: ``{"train": (x, y), "test": (x, y)}``, optionally ``"val"`` too.

        Data sets with annotated concepts return ``(x, y, concepts)`` or ``(x, y, concepts, factors)``
        per split; :meth:`setup` files them under :attr:`concepts` and :attr:`factors`.
        """
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        """Load once and hold out the validation split if the data set has none."""
        if self.splits:
            return
        splits = self.load()
        if "val" not in splits:
            train = splits["train"]
            order = torch.randperm(len(train[0]), generator=torch.Generator().manual_seed(self.seed))
            n_val = round(self.val_fraction * len(train[0]))
            splits["val"] = tuple(t[order[:n_val]] for t in train)
            splits["train"] = tuple(t[order[n_val:]] for t in train)
        for name, (x, *_) in splits.items():
            if tuple(x.shape[1:]) != tuple(self.input_shape):
                raise ValueError(
                    f"{type(self).__name__}: {name} inputs have shape {tuple(x.shape[1:])}, "
                    f"expected {tuple(self.input_shape)}"
                )
        self.splits = {name: (parts[0], parts[1]) for name, parts in splits.items()}
        self.concepts = {name: parts[2] for name, parts in splits.items() if len(parts) > 2}
        self.factors = {name: parts[3] for name, parts in splits.items() if len(parts) > 3}

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        """A DataLoader over one split that slices whole batches out of the tensors.

        Batches are ``(x, y)``, or ``(x, y, concepts)`` for data sets with concept annotations.
        """
        x, y = self.splits[split]
        tensors = (x, y, self.concepts[split]) if split in self.concepts else (x, y)
        return DataLoader(
            TensorBatchDataset(*tensors),
            batch_size=self.batch_size,
            sampler=self._sampler(len(x), shuffle),
            collate_fn=keep_batch,
            num_workers=self.num_workers,
        )
