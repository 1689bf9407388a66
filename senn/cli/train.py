"""``senn-train``: Hydra entry point around :func:`senn.training.train`."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from senn.cli import config_dir, exit_on_user_errors, remove_if_unused


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float | tuple[float, ...]:
    """Train and test; return the best value of ``cfg.monitor``, or of every ``cfg.objectives``, for sweepers."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from senn.data import DataError, DataNotFoundError
    from senn.training import train  # imported here so that `--help` stays fast
    from senn.training.validation import ConfigError

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN  # a sweep records a failed job and goes on
    errors = () if multirun else (ConfigError, DataError, DataNotFoundError)  # the user can fix these: say how
    try:
        with exit_on_user_errors("senn-train", errors, cleanup=lambda: remove_if_unused(Path(cfg.output_dir))):
            metrics = train(cfg)
    except SIGTERMException:
        print(f"senn-train: stopped by SIGTERM. Resume from the last epoch's checkpoint with the same overrides and "
              f"hydra.run.dir={cfg.output_dir} ckpt_path=last", file=sys.stderr)  # fmt: skip
        sys.exit(143)
    if cfg.get("objectives"):
        return tuple(metrics[name] for name in cfg.objectives)
    return metrics[cfg.monitor]


if __name__ == "__main__":
    main()
