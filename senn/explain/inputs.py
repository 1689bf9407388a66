"""What a user asks to explain, read into model inputs: test-split indices, raw table rows or image files."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from hydra.utils import get_class, instantiate

from senn.data.base import SplitDataModule
from senn.data.image_files import IMAGE_SUFFIXES, read_image
from senn.data.preprocessing import TablePreprocessor

TABLES = (".csv", ".parquet", ".pq")


class InputError(ValueError):
    """An input that does not fit the model; the message names the problem in one line."""


def read_inputs(spec: Any, module: Any, split: str = "test", data_dir: str | None = None
                ) -> tuple[torch.Tensor, list[str]]:  # fmt: skip
    """Model inputs (N, ...) for ``spec`` and a label per input saying where it came from.

    ``spec`` is one of: indices of ``split`` of the data the checkpoint was trained on (an int, a
    list of ints, or ``"0,5,17"``); a CSV / Parquet file of raw rows, which go through the
    checkpoint's stored table preprocessing; image files (paths, a comma-separated string or a glob),
    scaled to [0, 1] and normalized as the training data was.
    """
    kind, value = parse_input(spec)
    if kind == "indices":
        return _split_rows(value, module, split, data_dir)
    if kind == "table":
        if module.preprocessing is None:
            raise InputError(f"{value} is a table of raw rows, but the model was not trained on a table senn "
                             "preprocessed (data=csv or a preset table); pass test-split indices instead")  # fmt: skip
        return _table_rows(Path(value), TablePreprocessor.from_dict(module.preprocessing))
    return _images(value, module)


def parse_input(spec: Any) -> tuple[str, Any]:
    """``("indices", [int])``, ``("table", path)`` or ``("images", [paths])`` for what the user gave."""
    if isinstance(spec, int) and not isinstance(spec, bool):
        return "indices", [spec]
    items = [str(s).strip() for s in spec] if isinstance(spec, Sequence) and not isinstance(spec, str) else \
        [s.strip() for s in str(spec).split(",") if s.strip()]  # fmt: skip
    if not items:
        raise InputError("input= is empty: give test-split indices (input=0,5), a CSV of rows or image files")
    if all(s.lstrip("-").isdigit() for s in items):
        return "indices", [int(s) for s in items]
    if len(items) == 1 and Path(items[0]).suffix.lower() in TABLES:
        return "table", items[0]
    paths = []
    for item in items:
        matched = sorted(glob.glob(item)) if any(c in item for c in "*?[") else [item]
        if not matched:
            raise InputError(f"no files match {item!r}")
        paths += matched
    for path in paths:
        if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"{path}: not an image ({', '.join(IMAGE_SUFFIXES)}) or table ({', '.join(TABLES)}) file, "
                             "nor a test-split index")  # fmt: skip
        if not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    return "images", paths


def recorded_data(module: Any, split: str, data_dir: str | None = None, download: bool = True) -> SplitDataModule:
    """The data module the checkpoint records, checked to have ``split`` (``data_dir``: where that data lives
    now; ``download=False``: only files already there are read)."""
    if module.data_config is None:
        raise InputError("the checkpoint does not record its data set, so indices mean nothing: pass files")
    config = dict(module.data_config)
    if data_dir is not None:
        config["data_dir"] = data_dir
    if not download and "download" in config:
        config["download"] = False
    datamodule = instantiate(config)
    datamodule.setup()
    datamodule.check_split(split)
    return datamodule


def _split_rows(indices: list[int], module: Any, split: str, data_dir: str | None) -> tuple[torch.Tensor, list[str]]:
    """Rows of a split of the data the checkpoint records (only these are read)."""
    datamodule = recorded_data(module, split, data_dir)
    size = datamodule.split_size(split)
    bad = [i for i in indices if not -size <= i < size]
    if bad:
        raise InputError(f"indices {bad} are outside the {split} split's {size} rows")
    return datamodule.take(split, [i % size for i in indices])[0], [f"{split}[{i}]" for i in indices]


def _table_rows(path: Path, preprocessor: TablePreprocessor) -> tuple[torch.Tensor, list[str]]:
    """Raw rows through the stored preprocessing (extra columns, such as the target, are ignored)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() != ".csv" else pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, ImportError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: unreadable as a table ({err})") from None
    try:
        x = preprocessor.transform(frame)
    except ValueError as err:
        raise InputError(f"{path}: {err}") from None
    return x, [f"{path.name} row {i + 1}" for i in range(len(frame))]


def _images(paths: list[str], module: Any) -> tuple[torch.Tensor, list[str]]:
    """Image files as a normalized batch (N, C, H, W) of the model's input shape."""
    from PIL import Image, UnidentifiedImageError

    shape = module.model.input_shape
    if shape is None or len(shape) != 3:
        raise InputError(f"the model takes inputs of shape {shape}, not images: pass a CSV of rows or indices")
    channels, height, width = shape
    mean, std = _normalization(module.data_config, channels)
    resizes = getattr(_data_class(module.data_config), "resizes_images", False)  # as training read them
    images = []
    for path in paths:
        try:
            with Image.open(path) as image:
                size = image.size
            if size != (width, height) and not resizes:
                raise InputError(f"{path} is {size[0]}x{size[1]} pixels; the model takes {width}x{height}")
            images.append((read_image(path, height, channels) - mean) / std)  # (C, H, W)
        except (OSError, UnidentifiedImageError) as err:
            raise InputError(f"{path}: unreadable image ({err})") from None
    return torch.stack(images), [Path(p).name for p in paths]


def _normalization(data_config: dict[str, Any] | None, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (C, 1, 1) that the training data module applied to [0, 1] pixels."""
    mean, std = [0.0] * channels, [1.0] * channels
    if data_config is not None and data_config.get("mean") is not None:  # fitted on the training split
        mean, std = data_config["mean"], data_config["std"]
    else:  # a preset's constants
        cls = _data_class(data_config)
        mean, std = list(getattr(cls, "pixel_mean", None) or mean), list(getattr(cls, "pixel_std", None) or std)
    return torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)


def _data_class(data_config: dict[str, Any] | None) -> type | None:
    """The data module class a checkpoint's data config names (None without one)."""
    return get_class(data_config["_target_"]) if data_config is not None else None
