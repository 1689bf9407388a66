"""``senn-evaluate``: the Hydra entry point around :func:`senn.evaluation.evaluate`."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from senn.cli import config_dir
from senn.evaluation import evaluate


@hydra.main(config_path=config_dir(), config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Evaluate the checkpoint ``cfg.ckpt_path`` and write the report."""
    summary = evaluate(cfg)
    for method, entry in summary["methods"].items():
        print(f"{method:>22}  faithfulness {entry['faithfulness']['median']:8.4f}  "
              f"stability {entry['stability']['median']:10.4g}  ({entry['seconds']:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
