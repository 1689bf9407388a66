"""Generated stand-ins for the data sets a user downloads, in the layouts senn reads: tiny, deterministic,
and good enough to run every command end to end where the real files are not (and fast where they are)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from PIL import Image

from senn.data.compas import COLUMNS as COMPAS_COLUMNS
from senn.data.compas import FILE as COMPAS_FILE


def digit_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, 28, 28) uint8 "digits": faint noise with a bright 6x6 block whose place is the label's."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        row, col = 3 + 8 * (int(label) // 4), 3 + 6 * (int(label) % 4)
        image[row : row + 6, col : col + 6] = 250
    return images


def write_mnist(data_dir: Path, num_train: int = 600, num_test: int = 200) -> Path:
    """``<data_dir>/MNIST/raw/*-ubyte`` in the IDX format torchvision reads (not the real files: their
    checksums differ, so load it with ``verify_checksums=false``)."""
    raw = data_dir / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", num_train, 0), ("t10k", num_test, 1)):
        labels = np.arange(n, dtype=np.uint8) % 10
        images = digit_images(labels, seed)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())
    return data_dir


def write_compas(data_dir: Path, rows: int = 600, seed: int = 0) -> Path:
    """``<data_dir>/COMPAS/compas-scores-two-years.csv`` with ProPublica's columns and random values."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "days_b_screening_arrest": rng.integers(-40, 40, rows),
        "is_recid": rng.integers(0, 2, rows),
        "c_charge_degree": rng.choice(["F", "M"], rows),
        "priors_count": rng.poisson(2, rows),
        "age_cat": rng.choice(["Less than 25", "25 - 45", "Greater than 45"], rows),
        "race": rng.choice(["African-American", "Caucasian", "Hispanic", "Other"], rows),
        "sex": rng.choice(["Male", "Female"], rows),
        "two_year_recid": rng.integers(0, 2, rows),
    })  # fmt: skip
    frame["score_text"] = np.where(frame.priors_count + rng.normal(0, 1, rows) > 2, "High", "Low")
    path = data_dir / COMPAS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    frame[COMPAS_COLUMNS].to_csv(path, index=False)
    return path


def write_digit_png(path: Path, label: int = 3, seed: int = 2) -> Path:
    """One 28x28 grey "digit" PNG, as a user's scanned digit."""
    Image.fromarray(digit_images(np.array([label]), seed)[0], mode="L").save(path)
    return path


def write_image_folder(folder: Path, classes: tuple[str, ...] = ("circle", "bar"), per_class: int = 20) -> Path:
    """torchvision's ImageFolder layout: ``<folder>/<class>/<i>.png``, 32x32 RGB, a class per pattern."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 80, size=(32, 32, 3), dtype=np.uint8)
            image[4 + 12 * c : 16 + 12 * c, 8:24] = 230
            Image.fromarray(image).save(folder / name / f"{i}.png")
    return folder


CUB_ATTRIBUTES = ("has_bill_shape::cone", "has_wing_color::red", "has_wing_color::blue", "has_breast_pattern::solid",
                  "has_tail_shape::notched_tail", "has_crown_color::yellow")  # fmt: skip
CUB_CLASSES = ("001.Red_Finch", "002.Blue_Jay", "003.Solid_Wren", "004.Yellow_Notched_Tit")
CUB_TABLE = ((1, 1, 0, 0, 0, 0), (0, 0, 1, 1, 0, 0), (1, 0, 0, 1, 1, 0), (0, 0, 0, 0, 1, 1))
"""Which attribute each class shows (every image of the class; one annotation per image is flipped)."""


def write_cub(data_dir: Path, per_class: int = 8, size: tuple[int, int] = (40, 30)) -> Path:
    """A small CUB-200-2011 in the official archive's layout under ``data_dir``: 4 classes, ``per_class``
    JPEGs each (a quarter of them in the official test split), 6 attributes whose colours are drawn in
    the images, and the official files' quirks (a line with extra fields, "not visible" annotations)."""
    root = data_dir / "CUB_200_2011"
    (root / "attributes").mkdir(parents=True, exist_ok=True)
    colours = ((200, 40, 40), (40, 40, 200), (120, 120, 120), (230, 210, 40))
    images, labels, split, annotations = [], [], [], []
    for c, name in enumerate(CUB_CLASSES):
        (root / "images" / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image_id = len(images) + 1
            path = f"{name}/{name.split('.')[1]}_{i:04d}.jpg"
            pixels = np.full((size[1], size[0], 3), 90 + 10 * i, dtype=np.uint8)
            pixels[5:25, 8:32] = colours[c]
            pixels[: 3 + i % 4] = 255 - pixels[: 3 + i % 4]
            Image.fromarray(pixels).save(root / "images" / path, quality=90)
            images.append(f"{image_id} {path}")
            labels.append(f"{image_id} {c + 1}")
            split.append(f"{image_id} {int(i >= per_class // 4)}")
            for a, shown in enumerate(CUB_TABLE[c]):
                value = 1 - shown if a == i % 6 and i % 3 == 1 else shown  # a noisy annotation in some images
                certainty = 1 if value == 0 and i % 4 == 3 else 3  # some absent annotations "not visible"
                extra = " 0 extra" if image_id == 2 and a == 0 else ""  # the official file's odd lines
                annotations.append(f"{image_id} {a + 1} {value} {certainty} 1.5{extra}")
    for name, lines in (("images.txt", images), ("image_class_labels.txt", labels), ("train_test_split.txt", split),
                        ("classes.txt", [f"{c + 1} {n}" for c, n in enumerate(CUB_CLASSES)]),
                        ("attributes/image_attribute_labels.txt", annotations)):  # fmt: skip
        (root / name).write_text("\n".join(lines) + "\n")
    (data_dir / "attributes.txt").write_text("".join(f"{a + 1} {n}\n" for a, n in enumerate(CUB_ATTRIBUTES)))
    return data_dir
