"""Wall time of the explanation-quality evaluation: the SENN's and every post-hoc baseline's.

Runs ``senn.evaluation.evaluate`` (the code behind ``senn-evaluate``) twice: the SENN alone on
``--senn-examples`` inputs, then every post-hoc method on ``--baseline-examples`` inputs, each with
faithfulness and stability (sampling, the same ε and budget for all). Prints one JSON line per
method: the seconds its faithfulness + stability took and the inputs it covered.

Usage::

    SENN_DATA_DIR=../shared/data python experiments/benchmarks/evaluation_speed.py \\
        --senn outputs/<mnist run>/checkpoints/<best>.ckpt --baseline outputs/<mnist_plain run>/checkpoints/<best>.ckpt
"""

from __future__ import annotations

import argparse
import json
import tempfile

import torch
from hydra import compose, initialize_config_dir

from senn.config import config_dir
from senn.evaluation import evaluate
from senn.evaluation.results import Evaluation


def run(overrides: list[str]) -> Evaluation:
    """One evaluation without figures, prototypes, like-for-like table or explorer page; returns what it measured."""
    with tempfile.TemporaryDirectory() as out, initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("evaluate", overrides=[f"output_dir={out}", "prototypes.num_examples=0", "examples_to_plot=0",
                                             "like_for_like=null", "explorer.num_examples=0", *overrides])  # fmt: skip
        return evaluate(cfg)


def main() -> None:
    """Time the SENN and the baselines; print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senn", required=True, help="SENN checkpoint")
    parser.add_argument("--baseline", help="plain-network checkpoint for the post-hoc methods")
    parser.add_argument("--senn-examples", type=int, default=1000)
    parser.add_argument("--baseline-examples", type=int, default=100)
    parser.add_argument("--overrides", nargs="*", default=[], help="extra senn-evaluate overrides, e.g. data=mnist")
    args = parser.parse_args()

    plans = [(args.senn_examples, [f"ckpt_path={args.senn}", "methods=[]"])]
    if args.baseline:
        plans.append((args.baseline_examples, [f"ckpt_path={args.senn}", f"baseline_ckpt_path={args.baseline}"]))
    for examples, overrides in plans:
        summary = run([*overrides, f"num_examples={examples}", *args.overrides])
        for method, scores in summary.methods.items():
            if method == "senn" and examples != args.senn_examples:
                continue
            record = {
                "method": method,
                "examples": summary.num_examples,
                "seconds": scores.seconds,
                "seconds_per_100": round(100 * scores.seconds / summary.num_examples, 2),
                "budget": summary.stability.budget,
                "threads": torch.get_num_threads(),
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
