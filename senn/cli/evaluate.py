"""``senn-evaluate``: the Hydra entry point around :func:`senn.evaluation.evaluate`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from senn.cli import config_dir, exit_on_user_errors, remove_if_unused

if TYPE_CHECKING:
    from senn.evaluation import Evaluation

log = logging.getLogger("senn-evaluate")


def closing_summary(evaluation: Evaluation, output_dir: str | Path) -> str:
    """Where the report went and the headline figures of every method (medians over the evaluated inputs)."""
    out, e = Path(output_dir), evaluation
    lines = [f"report:  {out / 'report.html'}", f"metrics: {out / 'metrics.json'} and {out / 'per_example.csv'}",
             f"{e.num_examples} {e.split} inputs; medians (faithfulness: higher is better, stability: lower is "
             "better)"]  # fmt: skip
    for method, m in e.methods.items():
        lines.append(f"  {method:>22}  {m.performance()}  faithfulness {m.faithfulness.median:8.4f}  "
                     f"stability {m.stability.median:10.4g}  ({m.seconds:.1f} s)")  # fmt: skip
    if e.concepts is not None:
        lines.append(f"concepts: mean matched AUC {e.concepts.alignment.mean_auc:.3f}, oracle impurity "
                     f"{e.concepts.oracle_impurity:.3f}")  # fmt: skip
    return "senn-evaluate finished\n  " + "\n  ".join(lines)


@hydra.main(config_path=config_dir(), config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Evaluate the checkpoint ``cfg.ckpt_path``, write the report and say where it is."""
    from senn.evaluation import evaluate  # imported here so that `--help` stays fast

    with exit_on_user_errors("senn-evaluate", cleanup=lambda: remove_if_unused(Path(cfg.output_dir))):
        evaluation = evaluate(cfg)
    log.info(closing_summary(evaluation, cfg.output_dir))


if __name__ == "__main__":
    main()
