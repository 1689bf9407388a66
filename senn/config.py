"""Where senn's Hydra configs live, and composing one of them from Python."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig


def config_dir() -> str:
    """Absolute path of the Hydra configs: packaged beside ``senn`` in a wheel, else the repository's."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "configs", package.parent / "configs"):
        if (candidate / "train.yaml").exists():
            return str(candidate)
    raise FileNotFoundError(f"senn's configs are neither in {package / 'configs'} nor {package.parent / 'configs'}")


def compose_config(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``name`` (``train``, ``evaluate``, ``explain``) composed with command-line ``overrides``."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(name, overrides=list(overrides))
