"""``senn-train``: Hydra entry point around :func:`senn.training.train`."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from senn.cli import config_dir


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float:
    """Train and test; return the best value of ``cfg.monitor`` for sweepers."""
    from senn.training import train  # imported here so that `--help` stays fast

    return train(cfg)[cfg.monitor]


if __name__ == "__main__":
    main()
