"""Command-line entry points (Hydra applications)."""

from pathlib import Path


def config_dir() -> str:
    """Absolute path of the Hydra configs: packaged beside ``senn`` in a wheel, else the repository's."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "configs", package.parent / "configs"):
        if (candidate / "train.yaml").exists():
            return str(candidate)
    raise FileNotFoundError(f"senn's configs are neither in {package / 'configs'} nor {package.parent / 'configs'}")
