"""``senn-sweep-summary``: one table and the trade-off figures for every run of one or more sweeps."""

from __future__ import annotations

import argparse
from pathlib import Path

from senn.runs.sweep import collect_runs, evaluate_runs, write_summary


def main(argv: list[str] | None = None) -> None:
    """Collect the runs under the given multirun folders, optionally evaluate them, write the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directories", nargs="+", help="multirun folders (e.g. multirun/mnist/<time>)")
    parser.add_argument("--evaluate-examples", type=int, default=0,
                        help="evaluate the SENN of each run on this many test inputs (0: reuse results)")  # fmt: skip
    parser.add_argument("--evaluate-overrides", nargs="*", default=[], help="extra senn-evaluate overrides")
    parser.add_argument("--evaluation", default="evaluation",
                        help="each run's sub-folder with (or for) senn-evaluate results: another name keeps "
                             "results of other evaluation settings apart")  # fmt: skip
    parser.add_argument("--out", help="output folder (default <first directory>/summary)")
    args = parser.parse_args(argv)

    rows = collect_runs(args.directories, args.evaluation)
    if not rows:
        parser.error(f"no finished runs (metrics.json + .hydra/overrides.yaml, or offline wandb runs) under "
                     f"{args.directories}")  # fmt: skip
    if args.evaluate_examples > 0:
        evaluate_runs(rows, args.evaluate_examples, args.evaluate_overrides, args.evaluation)
    paths = write_summary(rows, args.out or Path(args.directories[0]) / "summary")
    print(paths["summary"].read_text())
    print(f"senn-sweep-summary finished ({len(rows)} runs)\n  "
          + "\n  ".join(f"{name + ':':<9} {path}" for name, path in paths.items()))  # fmt: skip


if __name__ == "__main__":
    main()
