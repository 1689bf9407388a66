"""CUB-200-2011: 200 bird species, the concept-bottleneck paper's 112 attributes as concepts, read from disk."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from senn.data.base import DataError, default_data_dir, require_files
from senn.data.csv import stratified_split
from senn.data.image_files import ImageFilesDataModule, readable

URL = "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz"
ARCHIVE, ARCHIVE_MD5 = "CUB_200_2011.tgz", "97eceeb196236b17998738112f37df78"
FOLDER = "CUB_200_2011"
METADATA = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt",
            "attributes/image_attribute_labels.txt")  # fmt: skip
ATTRIBUTE_NAMES = ("attributes.txt", f"{FOLDER}/attributes/attributes.txt")  # the archive's root, or beside the labels
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
NOT_VISIBLE = 1
"""The certainty id of an annotation made where the part was not visible."""


def read_fields(path: Path, count: int) -> list[list[str]]:
    """The first ``count`` whitespace-separated fields of every non-empty line (a few lines of the official
    attribute file carry extra fields)."""
    with open(path, encoding="utf-8") as f:
        return [line.split()[:count] for line in f if line.strip()]


def class_attributes(labels: np.ndarray, present: np.ndarray, certainty: np.ndarray, num_classes: int) -> np.ndarray:
    """Each class's attributes (classes, A) in {0, 1}: the majority vote of its images (N,) over their
    annotations (N, A). "Absent" where the part was not visible does not vote; a tie counts as present."""
    votes = np.zeros((2, num_classes, present.shape[1]))  # (absent / present, classes, A)
    counted = (present == 1) | (certainty != NOT_VISIBLE)
    for value in (0, 1):
        np.add.at(votes[value], labels, (present == value) & counted)
    return (votes[1] >= votes[0]).astype(np.float32)


def readable_name(raw: str) -> str:
    """``has_bill_shape::curved_(up_or_down)`` -> ``bill shape: curved (up or down)``; ``001.Black_footed_Albatross``
    -> ``Black footed Albatross``."""
    name = re.sub(r"^\d+\.", "", raw).removeprefix("has_").replace("::", ": ")
    return name.replace("_", " ")


class CUBDataModule(ImageFilesDataModule):
    """CUB-200-2011 (Wah et al. 2011): 11,788 photographs of 200 bird species with 312 binary attributes
    annotated per image, processed as the concept-bottleneck paper (Koh et al. 2020) does:

    * **Class-level concepts.** The per-image annotations are noisy, so each class takes the majority
      vote of its *training* images per attribute ("absent" where the part was not visible does not
      vote; a tie counts as present), and every image gets its class's attributes
      (``class_level=false``: the image's own annotations of the kept attributes instead).
    * **Frequent attributes.** Only attributes present in at least ``min_classes`` classes are kept:
      112 of 312 with the paper's 10 on the real data.
    * **Splits.** The official test split is the test split; ``val_fraction`` of each class's official
      training images (the paper: 20 %) is held out for validation, drawn from ``seed``.

    Images stream from disk (resized to ``image_size`` squares, normalized with ImageNet's statistics,
    which torchvision's pretrained backbones expect; ``augment``: random crops and flips in training).
    Expects ``<data_dir>/CUB_200_2011/`` as the official archive ``CUB_200_2011.tgz`` extracts, with the
    attribute names ``attributes.txt`` beside it; ``download=true`` fetches and checks the archive.

    Args:
        data_dir: the folder holding ``CUB_200_2011/`` (default ``$SENN_DATA_DIR`` or ``./data``).
        image_size: side of the square images the model sees (224 for ImageNet backbones).
        mean: per-channel mean of [0, 1] pixels (ImageNet's).
        std: per-channel standard deviation (ImageNet's).
        val_fraction: share of each class's training images held out for validation.
        min_classes: keep the attributes present in at least this many classes.
        class_level: concepts are the class's majority attributes (the paper) instead of the image's own.
        augment: train on random crops and left-right flips.
        download: download (1.1 GB) and extract the archive when it is missing.
        batch_size: batch size of every loader.
        seed: seed of the validation split and of the data order.
        num_workers: DataLoader processes reading the files.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        image_size: int = 224,
        mean: list[float] | None = IMAGENET_MEAN,
        std: list[float] | None = IMAGENET_STD,
        val_fraction: float = 0.2,
        min_classes: int = 10,
        class_level: bool = True,
        augment: bool = True,
        download: bool = False,
        batch_size: int = 64,
        seed: int = 0,
        num_workers: int = 2,
    ) -> None:
        super().__init__(image_size, 3, mean, std, batch_size, seed, num_workers, augment)
        if not 0 < val_fraction < 1:
            raise ValueError(f"data.val_fraction={val_fraction} must be in (0, 1)")
        if min_classes < 1:
            raise ValueError(f"data.min_classes={min_classes} must be >= 1")
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.val_fraction, self.min_classes, self.class_level = val_fraction, min_classes, class_level
        self.download = download
        self.attribute_names: list[str] = []

    @property
    def concept_names(self) -> list[str]:
        """The kept attributes' names, readable (``bill shape: curved (up or down)``)."""
        self._list()
        return self.attribute_names

    def _find(self) -> tuple[Path, Path]:
        """The extracted folder and the attribute names file, downloading the archive if asked to."""
        from torchvision.datasets.utils import download_and_extract_archive

        root = self.data_dir / FOLDER
        how = (
            f"Download {ARCHIVE} from https://www.vision.caltech.edu/datasets/cub_200_2011/ and extract it in "
            f"{self.data_dir} (tar -xzf {ARCHIVE}), or set data.download=true where there is internet."
        )
        fetch = lambda: download_and_extract_archive(URL, str(self.data_dir), filename=ARCHIVE, md5=ARCHIVE_MD5)  # noqa: E731
        require_files("CUB-200-2011", self.data_dir, FOLDER, METADATA, how, fetch if self.download else None)
        names = next((n for n in ATTRIBUTE_NAMES if (self.data_dir / n).exists()), ATTRIBUTE_NAMES[0])
        require_files("CUB-200-2011", self.data_dir, ".", [names], how)
        return root, self.data_dir / names

    def _list(self) -> None:
        """Read the official lists and annotations, check the images, split, and derive the concepts (once)."""
        if self.files:
            return
        root, names_file = self._find()
        try:
            self._read(root, names_file)
        except DataError:
            raise
        except (ValueError, KeyError, IndexError) as err:  # a truncated or foreign list file
            raise DataError(str(root), [f"unreadable CUB lists ({type(err).__name__}: {err}); extract "
                                        f"{ARCHIVE} again"]) from None  # fmt: skip

    def _read(self, root: Path, names_file: Path) -> None:
        """Parse the lists, check the images, split, and derive the concepts."""
        ids, paths = zip(*[(int(i), str(root / "images" / p)) for i, p in read_fields(root / "images.txt", 2)])
        index = {image_id: row for row, image_id in enumerate(ids)}  # image id -> row
        labels, is_train = np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        for image_id, label in read_fields(root / "image_class_labels.txt", 2):
            labels[index[int(image_id)]] = int(label) - 1
        for image_id, flag in read_fields(root / "train_test_split.txt", 2):
            is_train[index[int(image_id)]] = flag == "1"
        self.classes = [readable_name(name) for _, name in read_fields(root / "classes.txt", 2)]
        table = np.array(read_fields(root / "attributes/image_attribute_labels.txt", 4), dtype=np.int64)  # (N·A, 4)
        num_attributes = int(table[:, 1].max())
        present = np.zeros((len(ids), num_attributes), dtype=np.int64)
        certainty = np.full((len(ids), num_attributes), NOT_VISIBLE, dtype=np.int64)
        rows, columns = [index[i] for i in table[:, 0].tolist()], table[:, 1] - 1
        present[rows, columns], certainty[rows, columns] = table[:, 2], table[:, 3]
        unreadable = [p for p in paths if not readable(p)]
        if unreadable:
            raise DataError(str(root), [f"{len(unreadable)} image file(s) missing or unreadable: {unreadable[:10]}"])
        train_rows = np.flatnonzero(is_train)
        parts = stratified_split(labels[train_rows], len(train_rows), self.val_fraction, 0.0, self.seed)
        split_rows = {"train": train_rows[parts["train"]], "val": train_rows[parts["val"]],
                      "test": np.flatnonzero(~is_train)}  # fmt: skip
        train = split_rows["train"]
        per_class = class_attributes(labels[train], present[train], certainty[train], len(self.classes))
        kept = np.flatnonzero(per_class.sum(0) >= self.min_classes)
        if len(kept) == 0:
            raise DataError(str(root), [f"no attribute is present in {self.min_classes} classes or more: "
                                        "lower data.min_classes"])  # fmt: skip
        raw_names = dict(read_fields(names_file, 2))
        self.attribute_names = [readable_name(raw_names.get(str(a + 1), f"attribute {a + 1}")) for a in kept]
        for split, chosen in split_rows.items():
            values = per_class[labels[chosen]][:, kept] if self.class_level else present[chosen][:, kept]
            self.concepts[split] = torch.from_numpy(values.astype(np.float32))  # (N, M)
            self.files[split] = ([paths[i] for i in chosen], labels[chosen].tolist())
