"""``senn-train``: Hydra entry point around :func:`senn.runs.train`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from senn.cli import config_dir, exit_on_user_errors, remove_if_unused

SUBMITIT = "hydra_plugins.hydra_submitit_launcher"
EXTRAS = {"hparams_search=": ("optuna", "search"), "hydra/launcher=local": (SUBMITIT, "slurm"),
          "hydra/launcher=slurm": (SUBMITIT, "slurm")}  # fmt: skip
"""Command-line choices that need an optional extra: the module they import and the extra that has it."""


def missing_extra(arguments: list[str]) -> str | None:
    """A message naming the extra to install, if an argument needs one that is not installed."""
    for argument in arguments:
        for prefix, (module, extra) in EXTRAS.items():
            if argument.startswith(prefix) and importlib.util.find_spec(module) is None:
                return f"senn-train: {argument} needs the {extra} extra: pip install 'senn[{extra}]'"
    return None


def main() -> None:
    """The console script: name a missing extra before Hydra starts, then run :func:`run`."""
    message = missing_extra(sys.argv[1:])
    if message:
        sys.exit(message)
    run()


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="train")
def run(cfg: DictConfig) -> float | tuple[float, ...]:
    """Train and test; return the best value of ``cfg.monitor``, or of every ``cfg.objectives``, for sweepers."""
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from senn.data import DataError, DataNotFoundError
    from senn.runs import train  # imported here so that `--help` stays fast
    from senn.runs.validation import ConfigError

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
