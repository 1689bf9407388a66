"""Where a default SENN run's time goes, against the plain baseline's: ``senn-train experiment=mnist`` and
``experiment=mnist_plain``, one after the other, as a new user runs them.

Each run is the installed ``senn-train`` in a process of its own (start-up included), with Lightning's
simple profiler on, for ``--epochs`` epochs on the real MNIST files (``$SENN_DATA_DIR``). Prints per run
the wall time, the test accuracy and the profiler's largest actions, then per SENN variant the ratio of its
median time to the plain run's. Each ``--senn-variants`` entry is one SENN run, a string of Hydra overrides
(e.g. ``"model.robustness_every_n_steps=4"``); ``--repeats`` runs them all, and the plain run, that many times
in turn, since one run's time drifts by up to a third on a shared machine. Usage::

    SENN_DATA_DIR=../shared/data python experiments/benchmarks/default_run_overhead.py [--epochs 1] \
        [--senn-variants "" "model.robustness_weight=0"] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(experiment: str, epochs: int, overrides: list[str], folder: Path) -> dict:
    """Run ``senn-train`` once; wall time, test metrics and the profiler's top actions."""
    script = Path(sys.executable).parent / "senn-train"
    command = [str(script), f"experiment={experiment}", f"trainer.max_epochs={epochs}", "logger=csv",
               f"output_dir={folder}", "+trainer.profiler=simple", *overrides]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "disabled"}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    profile = done.stdout + done.stderr  # the profiler's table: action | mean | calls | total | share
    rows = re.findall(r"^\|\s+(\S.*?)\s+\|\s+[\d.e-]+\s+\|\s+\d+\s+\|\s+([\d.e-]+)\s+\|", profile, re.M)
    actions = sorted(((name, float(total)) for name, total in rows if name != "Total"), key=lambda r: -r[1])
    metrics = json.loads((folder / "metrics.json").read_text())
    return {"experiment": experiment, "seconds": round(seconds, 1), "test_acc": metrics.get("test/acc"),
            "test_robustness_loss": metrics.get("test/robustness_loss"),
            "top_actions": [(name, round(total, 1)) for name, total in actions[:12]]}  # fmt: skip


def main() -> None:
    """Every SENN variant and the plain run, in turn, ``--repeats`` times; the medians and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--senn-variants", nargs="+", default=[""], help="SENN runs, each a string of overrides")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of all runs; the median run time is kept")
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeats):
            for i, variant in enumerate([*args.senn_variants, None]):  # None: the plain network
                experiment, overrides = ("mnist", variant.split()) if variant is not None else ("mnist_plain", [])
                record = timed_run(experiment, args.epochs, overrides, Path(tmp) / f"{round_}_{i}")
                print(json.dumps({**record, "senn_overrides": variant}), flush=True)
                times.setdefault("plain" if variant is None else variant, []).append(record["seconds"])
    plain = statistics.median(times.pop("plain"))
    for variant, seconds in times.items():
        ratio = round(statistics.median(seconds) / plain, 2)
        print(json.dumps({"senn_overrides": variant, "epochs": args.epochs, "seconds": seconds, "plain_seconds": plain,
                          "senn_over_plain": ratio}))  # fmt: skip


if __name__ == "__main__":
    main()
