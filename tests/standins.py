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
