"""Stability against accuracy for supervised concepts: the `*_supervised` presets along λ, per penalty.

For shapes and TabularToy, every point of a grid of the regularizer's weight λ and penalty (the paper's
residual, and ``relative_relevances``: ``||J_x θ|| / ||θ||``, which does not depend on the concepts'
scale) trains the ``*_supervised`` preset on seeds 0-2 and scores it with ``concept_quality.py``'s protocol:
task accuracy, matched AUC, accuracy with every true concept set, and the scale-free stability of θ and of
the contributions θ·h. Beside them: the paper autoencoder (anchor), the concept bottleneck and the plain
network, on seeds 0-4.

The point chosen is the steadiest (scale-free θ) whose seed-0-2 means meet the targets: task accuracy at least
the bottleneck's mean − 0.5 points, matched AUC ≥ 0.95, accuracy with every true concept set ≥ 99 %. It is
then confirmed on seeds 3 and 4, which chose nothing, and its 5-seed figures are set against half the
anchor's scale-free stability. Runs are shared with ``concept_quality.py`` (``outputs/concepts/``) and not
redone; writes ``experiments/results/supervised_pareto.{json,md,png}``.

Usage::

    python experiments/supervised_pareto.py            # the study, 2 runs at a time
    python experiments/supervised_pareto.py --report   # tables and figure from finished runs only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concept_quality import RESULTS, RUNS, mean_std, run

from senn.explain.plots import save_figure

DATA = ["shapes", "tabular_toy"]
GRID = {"residual": [1e-4, 1e-3, 1e-2, 1e-1], "relative_relevances": [0.01, 0.1, 1.0]}
PAPER = ("residual", 1e-4)  # the presets' setting before this study: concept_quality.py's "supervised" row
DEFAULT = ("relative_relevances", 0.01)
"""The presets' setting since this study (see the page): confirmed on seeds 3 and 4 on both data sets."""
REFERENCES = ["anchor", "bottleneck", "plain"]
SEARCH, CONFIRM = [0, 1, 2], [3, 4]
TARGETS = {"auc": 0.95, "all_set": 0.99, "below_bottleneck": 0.005}


def point_row(penalty: str, weight: float) -> str:
    """The run folder's name of a grid point."""
    return "supervised" if (penalty, weight) == PAPER else f"supervised_{penalty}_{weight:g}"


def point_spec(penalty: str, weight: float) -> tuple[str, str, list[str]]:
    """concept_quality.py's row spec of a grid point: the supervised preset with λ and penalty set."""
    label = f"supervised, {penalty}, λ = {weight:g}"
    return label, "_supervised", [f"model.robustness_weight={weight}", f"model.robustness_penalty={penalty}"]


def run_all(jobs: list[tuple[str, str, int, tuple | None]], workers: int, report: bool) -> list[dict[str, Any]]:
    """Run (or read back) every job, ``workers`` at a time; with ``report``, only read back the finished ones."""
    if report:
        paths = [RUNS / data / row / f"seed{seed}" / "concepts.json" for data, row, seed, _ in jobs]
        return [json.loads(path.read_text()) for path in paths if path.exists()]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(run, *zip(*jobs))) if jobs else []


def mean(runs: list[dict[str, Any]], key: str) -> float:
    """The mean of ``key`` over runs that have it (nan if none)."""
    values = [r[key] for r in runs if key in r]
    return statistics.mean(values) if values else float("nan")


def meets(runs: list[dict[str, Any]], bottleneck_acc: float) -> bool:
    """Whether a point's means meet the accuracy and concept targets."""
    return (mean(runs, "task_accuracy") >= bottleneck_acc - TARGETS["below_bottleneck"]
            and mean(runs, "mean_matched_auc") >= TARGETS["auc"]
            and mean(runs, "intervention_all") >= TARGETS["all_set"])  # fmt: skip


def cell(runs: list[dict[str, Any]], key: str, percent: bool = False) -> str:
    """mean ± std of ``key`` over runs, as the results pages print it."""
    values = [100 * r[key] if percent else r[key] for r in runs if key in r]
    return mean_std(values, 1 if percent else 3) if values else "–"


COLUMNS = [  # key, header, percent?
    ("task_accuracy", "task acc %", True),
    ("mean_matched_auc", "matched AUC", False),
    ("intervention_all", "acc., all concepts set %", True),
    ("stability_unit", "θ stability, scale-free ↓", False),
    ("stability_median", "θ stability in θ's units", False),
    ("stability_contributions", "θ·h stability, scale-free ↓", False),
]


def main() -> None:
    """Run the grid and the references, choose, confirm, and write the page and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only rebuild the page from finished runs")
    args = parser.parse_args()
    start = time.perf_counter()
    points = [(p, w) for p, weights in GRID.items() for w in weights]
    jobs = [(d, point_row(*pt), s, point_spec(*pt)) for s in SEARCH for d in DATA for pt in points]
    jobs += [(d, row, s, None) for s in SEARCH + CONFIRM for d in DATA for row in REFERENCES]
    found = {(r["setting"], r["row"], r["seed"]): r for r in run_all(jobs, args.jobs, args.report)}

    def runs(data: str, row: str, seeds: list[int]) -> list[dict[str, Any]]:
        return [found[(data, row, s)] for s in seeds if (data, row, s) in found]

    chosen = {}
    for data in DATA:
        bottleneck = mean(runs(data, "bottleneck", SEARCH), "task_accuracy")
        eligible = [pt for pt in points if meets(runs(data, point_row(*pt), SEARCH), bottleneck)]
        if eligible:
            chosen[data] = min(eligible, key=lambda pt: mean(runs(data, point_row(*pt), SEARCH), "stability_unit"))
    picks = {(d, pt) for d, pt in chosen.items()} | {(d, DEFAULT) for d in DATA}
    confirm = [(d, point_row(*pt), s, point_spec(*pt)) for d, pt in sorted(picks) for s in CONFIRM]
    for r in run_all(confirm, args.jobs, args.report):
        found[(r["setting"], r["row"], r["seed"])] = r
    minutes = (time.perf_counter() - start) / 60
    write_page(points, chosen, runs, found, minutes)


def write_page(points, chosen, runs, found, minutes: float) -> None:
    """supervised_pareto.{json,md,png}."""
    (RESULTS / "supervised_pareto.json").write_text(json.dumps(sorted(found.values(), key=lambda r: (
        r["setting"], r["row"], r["seed"])), indent=2) + "\n")  # fmt: skip
    seconds = sum(r["seconds"] for r in found.values()) / 60
    lines = ["# Supervised concepts: stability against accuracy", "",
             f"`python experiments/supervised_pareto.py`: {len(found)} runs, {seconds:.0f} min of run time (one "
             f"thread each, two at a time); this invocation {minutes:.0f} min on the clock (runs kept in "
             "`outputs/concepts/` are read back, not redone). Test split; stability is the median input-mode local "
             "Lipschitz estimate over 100 test inputs (ε = 1, 20 samples), each explanation divided by its L2 norm. "
             "Grid points: seeds 0-2; references: seeds 0-4. Targets: task accuracy ≥ the bottleneck's mean − 0.5 "
             "points, matched AUC ≥ 0.95, accuracy with every true concept set ≥ 99 %, θ stability ≤ half the "
             "anchor's."]  # fmt: skip
    fig, axes = plt.subplots(1, len(DATA), figsize=(6 * len(DATA), 4.5))
    for ax, data in zip(axes, DATA):
        anchor = runs(data, "anchor", SEARCH + CONFIRM)
        bottleneck = runs(data, "bottleneck", SEARCH + CONFIRM)
        half = mean(anchor, "stability_unit") / 2
        lines += ["", f"## {data}", "", "| model | seeds | " + " | ".join(h for _, h, _ in COLUMNS) + " |",
                  "|---" * (len(COLUMNS) + 2) + "|"]  # fmt: skip
        for label, row, seeds in [("SENN, paper autoencoder (anchor)", "anchor", SEARCH + CONFIRM),
                                  ("concept bottleneck (θ constant)", "bottleneck", SEARCH + CONFIRM),
                                  ("plain network", "plain", SEARCH + CONFIRM),
                                  *[(point_spec(*pt)[0], point_row(*pt), SEARCH) for pt in points]]:  # fmt: skip
            got = runs(data, row, seeds)
            if got:
                lines.append(f"| {label} | {len(got)} | " + " | ".join(cell(got, k, pc) for k, _, pc in COLUMNS) + " |")
        for penalty, marker in (("residual", "o"), ("relative_relevances", "s")):
            pts = [(w, runs(data, point_row(penalty, w), SEARCH)) for w in GRID[penalty]]
            pts = [(w, got) for w, got in pts if got]
            xs = [mean(got, "stability_unit") for _, got in pts]
            ys = [100 * mean(got, "task_accuracy") for _, got in pts]
            ax.plot(xs, ys, marker=marker, label=f"supervised SENN, {penalty}")
            for (w, _), x, y in zip(pts, xs, ys):
                ax.annotate(f"λ={w:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.scatter([mean(anchor, "stability_unit")], [100 * mean(anchor, "task_accuracy")], marker="*", s=150,
                   color="black", label="paper autoencoder (anchor)", zorder=3)  # fmt: skip
        ax.axvline(half, color="grey", ls="--", lw=1, label="half the anchor's stability")
        ax.axhline(100 * mean(bottleneck, "task_accuracy") - 0.5, color="grey", ls=":", lw=1,
                   label="bottleneck accuracy − 0.5")  # fmt: skip
        ax.set(title=data, xlabel="θ stability, scale-free (lower: steadier)", ylabel="test accuracy %")
        ax.legend(fontsize=7)
        pick = chosen.get(data)
        if pick is None:
            lines += ["", "No grid point meets the accuracy and concept targets on seeds 0-2."]
            continue
        for title, point in (("Chosen on seeds 0-2", pick), ("The presets' default", DEFAULT)):
            five = runs(data, point_row(*point), SEARCH + CONFIRM)
            verdict = "meets" if mean(five, "stability_unit") <= half else "does not meet"
            floor = 100 * mean(bottleneck, "task_accuracy") - 0.5
            lines += ["", f"{title}: **{point_spec(*point)[0]}**. On all {len(five)} seeds: "
                      + ", ".join(f"{h} {cell(five, k, pc)}" for k, h, pc in COLUMNS)
                      + f"; half the anchor's θ stability is {half:.3f}: it {verdict} that target; the bottleneck's "
                      f"task accuracy − 0.5 points is {floor:.1f} %."]  # fmt: skip
    save_figure(fig, RESULTS / "supervised_pareto.png")
    (RESULTS / "supervised_pareto.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
