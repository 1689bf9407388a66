"""``senn-train``: Hydra entry point around :func:`senn.training.train`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from senn.cli import config_dir


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def main(cfg: DictConfig) -> float | tuple[float, ...]:
    """Train and test; return the best value of ``cfg.monitor``, or of every ``cfg.objectives``, for sweepers."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from senn.training import train  # imported here so that `--help` stays fast

    try:
        metrics = train(cfg)
        if cfg.get("objectives"):
            return tuple(metrics[name] for name in cfg.objectives)
        return metrics[cfg.monitor]
    except SIGTERMException:
        print(f"senn-train: stopped by SIGTERM. Resume from the last epoch's checkpoint with the same overrides and "
              f"hydra.run.dir={cfg.output_dir} ckpt_path=last", file=sys.stderr)  # fmt: skip
        sys.exit(143)


if __name__ == "__main__":
    main()
