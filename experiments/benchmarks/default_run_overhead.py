"""Where a default SENN run's time goes, against the plain baseline's: ``senn-train experiment=mnist`` and
``experiment=mnist_plain``, one after the other, as a new user runs them.

Each run is the installed ``senn-train`` in a process of its own (start-up included), with Lightning's
simple profiler on, for ``--epochs`` epochs on the real MNIST files (``$SENN_DATA_DIR``). Prints per run
the wall time, the test accuracy and the profiler's largest actions, then the SENN/plain ratio. Extra
Hydra overrides for the SENN run (e.g. a cheaper validation) go after ``--senn-overrides``. Usage::

    SENN_DATA_DIR=../shared/data python experiments/benchmarks/default_run_overhead.py [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
    """Both runs, their profiles, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--senn-overrides", nargs="*", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        senn = timed_run("mnist", args.epochs, args.senn_overrides, Path(tmp) / "senn")
        plain = timed_run("mnist_plain", args.epochs, [], Path(tmp) / "plain")
    for record in (senn, plain):
        print(json.dumps(record), flush=True)
    print(json.dumps({"senn_over_plain": round(senn["seconds"] / plain["seconds"], 2), "epochs": args.epochs,
                      "senn_overrides": args.senn_overrides}))  # fmt: skip


if __name__ == "__main__":
    main()
