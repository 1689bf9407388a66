"""Sweep summaries: every run of a multirun in one table, mean ± std over seeds, trade-off figures.

A run is a folder with ``.hydra/overrides.yaml`` and the ``metrics.json`` that ``train`` writes, or
an offline wandb run; its explanation quality comes from ``evaluation/metrics.json`` (written by
:func:`evaluate_runs` with ``senn-evaluate``'s code, or by the user).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from senn.config import compose_config
from senn.evaluation import evaluate
from senn.evaluation.results import Evaluation
from senn.explain.plots import save_figure
from senn.runs.record import RunRecord

IGNORED = {"seed", "hparams_search", "hydra.sweep.dir", "hydra.run.dir", "output_dir"}
SCORES = {"test/acc": "test accuracy", "test/mse": "test MSE (lower is better)"}
"""The test metric of the runs, classification's or regression's, as the figures label it."""
ACCURACY_SPAN = 0.01
"""The least accuracy range the figures show (1 point), so that 0.1 % does not look like a cliff."""


def _row(run: Path, overrides: list[str], metrics: dict[str, Any]) -> dict[str, Any]:
    """One run's table row: its overrides as keys and values (read by Hydra's own override parser, so quoting,
    ``+``/``++``/``~`` and typed values come out as on the command line), then its metrics."""
    row: dict[str, Any] = {"run": str(run)}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        if not override.is_delete():
            row[override.key_or_group] = override.value()
    row.update(metrics)
    return row


def collect_runs(directories: Iterable[str | Path], evaluation: str = "evaluation") -> list[dict[str, Any]]:
    """One row per finished run under ``directories``: its overrides and its metrics.

    A run is a ``senn-train`` output folder (``.hydra/overrides.yaml`` + ``metrics.json``), or an
    offline wandb run whose output folder is not there, e.g. wandb folders copied back from a cluster:
    read from the ``files/metrics.json`` and ``files/overrides.json`` that ``train`` writes there. Stability
    and faithfulness come from ``<run>/<evaluation>/metrics.json`` where it exists.
    """
    rows = []
    for directory in directories:
        runs = []
        for metrics_file in sorted(Path(directory).glob("**/metrics.json")):
            run = metrics_file.parent
            overrides_file = run / ".hydra" / "overrides.yaml"
            if not overrides_file.exists():
                continue  # an evaluation's metrics.json, not a training run's
            runs.append(run)
            row = _row(run, yaml.safe_load(overrides_file.read_text()) or [], RunRecord.load(metrics_file).to_dict())
            if (run / evaluation / "metrics.json").exists():
                row.update(_quality(Evaluation.load(run / evaluation)))
            rows.append(row)
        seen = set()  # run ids: wandb's `latest-run` link (or a copy of it) repeats a run
        for wandb_file in sorted(Path(directory).glob("**/offline-run-*/run-*.wandb")):
            if wandb_file.name in seen or any(run in wandb_file.parents for run in runs):
                continue  # its output folder was read above
            seen.add(wandb_file.name)
            files = wandb_file.parent / "files"
            if not (files / "metrics.json").is_file() or not (files / "overrides.json").is_file():
                reason = "no files/metrics.json (unfinished, or older than senn 0.1.0)"
                warnings.warn(f"skipped {files.parent}: {reason}", stacklevel=2)
                continue
            overrides = json.loads((files / "overrides.json").read_text())
            rows.append(_row(wandb_file.parent, overrides, RunRecord.load(files).to_dict()))
    return rows


def evaluate_runs(
    rows: list[dict[str, Any]], num_examples: int, overrides: Sequence[str] = (), evaluation: str = "evaluation"
) -> None:
    """Run the SENN part of ``senn-evaluate`` on each run's best checkpoint, into ``<run>/<evaluation>``
    (skipping runs evaluated there already)."""
    for row in rows:
        if "stability" in row or not row.get("best_checkpoint"):
            continue
        out = Path(row["run"]) / evaluation
        settings = [f"ckpt_path={row['best_checkpoint']}", f"output_dir={out}", f"num_examples={num_examples}",
                    "methods=[]", "prototypes.num_examples=0", "examples_to_plot=0", "like_for_like=null",
                    "explorer.num_examples=0",
                    *overrides]  # fmt: skip
        row.update(_quality(evaluate(compose_config("evaluate", settings))))


def _quality(evaluation: Evaluation) -> dict[str, float]:
    """A run's explanation quality in the sweep table: the medians of the SENN's stability and faithfulness."""
    senn = evaluation.methods["senn"]
    return {"stability": senn.stability.median, "faithfulness": senn.faithfulness.median}


def _score(rows: list[dict[str, Any]]) -> str:
    """The test metric the runs report: accuracy, or regression runs' MSE."""
    regression = any("test/mse" in row for row in rows) and not any("test/acc" in row for row in rows)
    return "test/mse" if regression else "test/acc"


def _columns(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """The summary's columns: the test metric, the explanation quality and the validation regularizer."""
    return (_score(rows), "stability", "faithfulness", "val/robustness_loss")


def swept_keys(rows: list[dict[str, Any]]) -> list[str]:
    """Override keys whose value differs between runs (the seed aside)."""
    keys = {k for row in rows for k in row if "." in k or k in ("experiment", "data", "model")}
    keys = {k for k in keys if k not in IGNORED and not k.startswith(("hydra.", "callbacks."))}
    return sorted(k for k in keys if len({json.dumps(row.get(k), sort_keys=True) for row in rows}) > 1)


def summary_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by the swept keys: the number of runs, then the mean and std over seeds of every column
    (std NaN for a single run: there is no spread to report)."""
    keys, columns = swept_keys(rows), _columns(rows)
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=list(columns), dtype=float)
    frame["group"] = [json.dumps([row.get(k) for k in keys]) for row in rows]  # values may be lists: group by text
    stats = frame.groupby("group", sort=False)[list(columns)].agg(["mean", "std"])  # pandas' std: ddof 1
    sizes = frame.groupby("group", sort=False).size()
    table = []
    for group, members in zip(stats.index, sizes, strict=True):
        entry = dict(zip(keys, json.loads(group), strict=True))
        entry["runs"] = int(members)
        for column in columns:
            entry[column] = float(stats.at[group, (column, "mean")])
            entry[f"{column} std"] = float(stats.at[group, (column, "std")])
        table.append(entry)
    return sorted(table, key=lambda e: [str(e[k]) if not isinstance(e[k], int | float) else e[k] for k in keys])


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated when maximizing the first and minimizing the second value."""
    front = []
    for i, (acc, stab) in enumerate(points):
        dominated = any(a >= acc and s <= stab and (a > acc or s < stab) for j, (a, s) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return front


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def mean_std(mean: float, std: float) -> str:
    """``mean ± std`` at one precision: the spread to two significant digits and the mean to the same decimal
    place (``0.130 ± 0.015``, not ``0.13 ± 0.01466``); in scientific notation below 1e-4 or above 1e4."""
    if not std > 0:  # no spread (or NaN): the mean alone decides
        return f"{mean:.4g} ± {std:g}"
    exponent = math.floor(math.log10(float(f"{std:.2g}")))  # of the spread as shown: 0.000999 shows as 0.0010
    if not -4 <= exponent <= 4:
        scale = 10.0**exponent
        return f"({mean / scale:.1f} ± {std / scale:.1f})e{exponent}"
    decimals = max(0, 1 - exponent)
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _mean_std_cell(entry: dict[str, Any], column: str) -> str:
    """``mean ± std``; ``mean ± n/a`` for one run; ``–`` without values."""
    mean, std = entry[column], entry[f"{column} std"]
    if math.isnan(mean):
        return "–"
    return f"{_fmt(mean)} ± n/a" if entry["runs"] == 1 else mean_std(mean, std)


def _scale(ax: plt.Axes, axis: str, values: Sequence[float]) -> None:
    """Log scale only where the positive values span a decade or more; else linear with at most four ticks,
    so that close values get readable tick labels instead of overlapping ones."""
    positive = [v for v in values if v > 0]
    if len(positive) == len(values) and positive and max(positive) / min(positive) >= 10:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        return
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(4))  # 0.04771…0.04775: four full-valued ticks that do not overlap
    target.set_major_formatter(ScalarFormatter(useOffset=False))


def _min_span(ax: plt.Axes, values: Sequence[float], span: float) -> None:
    """Show at least ``span`` on the y axis around ``values`` (plus a margin), so that a tiny difference does
    not fill the plot and no point sits on the frame."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return
    low, high = min(finite), max(finite)
    half = max(span, high - low) * 0.6  # 10 % margin on either side
    middle = (low + high) / 2
    ax.set_ylim(middle - half, middle + half)


def _span(score: str, values: Sequence[float]) -> float:
    """The least range of a test score's axis: one point of accuracy, or 1 % of the largest MSE."""
    if score == "test/acc":
        return ACCURACY_SPAN
    return 0.01 * max((abs(v) for v in values if not math.isnan(v)), default=0)


LAMBDA = "model.robustness_weight"
"""The swept key the trade-off figure puts on its x axis."""


def write_summary(rows: list[dict[str, Any]], out: str | Path) -> dict[str, Path]:
    """``runs.json``, ``summary.md`` and the trade-off figures in ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table, keys, score = summary_table(rows), swept_keys(rows), _score(rows)
    stability = "stability" if any("stability" in r for r in rows) else "val/robustness_loss"
    paths = {"runs": out / "runs.json", "summary": out / "summary.md"}
    paths["runs"].write_text(json.dumps(rows, indent=2) + "\n")
    paths["summary"].write_text(summary_markdown(rows, table, keys, stability))
    if LAMBDA in keys:
        paths["tradeoff"] = save_figure(_tradeoff_figure(table, stability, score), out / "tradeoff.png")
    scatter = [(r.get(score), r.get(stability), r.get(LAMBDA)) for r in rows]
    scatter = [(a, s, label) for a, s, label in scatter if a is not None and s is not None]
    if scatter:
        paths["pareto"] = save_figure(_pareto_figure(scatter, stability, score), out / "pareto.png")
    return paths


def summary_markdown(rows: list[dict[str, Any]], table: list[dict[str, Any]], keys: list[str], stability: str) -> str:
    """``summary.md``: what stability means here, then a row per setting with mean ± std over its runs."""
    columns = _columns(rows)
    header = [*keys, "runs", *(f"{c} (mean ± std)" for c in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in table:
        cells = [_fmt(entry[k]) for k in keys] + [str(entry["runs"])]
        cells += [_mean_std_cell(entry, c) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    stability_note = ("median input-mode local Lipschitz estimate (senn-evaluate)" if stability == "stability"
                      else "the exact robustness term on validation (no senn-evaluate results found)")  # fmt: skip
    return f"# Sweep summary\n\n{len(rows)} runs. Stability: {stability_note}.\n\n" + "\n".join(lines) + "\n"


def _tradeoff_figure(table: list[dict[str, Any]], stability: str, score: str = "test/acc") -> plt.Figure:
    """The test ``score`` (left axis) and stability (right axis) against λ, with the spread over seeds."""
    points = sorted((e for e in table if isinstance(e[LAMBDA], int | float)), key=lambda e: e[LAMBDA])
    fig, left = plt.subplots(figsize=(5.5, 3.6))
    x = [e[LAMBDA] for e in points]
    accuracy = [e[score] for e in points]
    bars = np.nan_to_num([e[f"{score} std"] for e in points]).tolist()  # one run: no spread, no bar
    left.errorbar(x, accuracy, bars, color="C0", marker="o", capsize=4)
    _scale(left, "x", x)
    ends = [a + sign * b for a, b in zip(accuracy, bars, strict=True) for sign in (-1, 1)]  # the error bars
    _min_span(left, ends, _span(score, accuracy))
    left.set_xlabel("λ (robustness weight)")
    left.set_ylabel(SCORES[score], color="C0")
    right = left.twinx()
    left.set_zorder(right.get_zorder() + 1)  # accuracy drawn over stability where they meet
    left.patch.set_visible(False)
    values = [e[stability] for e in points]
    spread = np.nan_to_num([e[f"{stability} std"] for e in points])
    below = np.minimum(spread, values)  # a Lipschitz estimate is never negative: the bar stops at 0
    right.errorbar(x, values, [below, spread], color="C3", marker="s", capsize=4)
    _scale(right, "y", values)
    right.set_ylabel(f"{stability} (lower is stabler)", color="C3")
    fig.tight_layout()
    return fig


def _pareto_figure(scatter: list[tuple[float, float, Any]], stability: str, score: str = "test/acc") -> plt.Figure:
    """Every run's (stability, test score), the Pareto front drawn through them and labelled with its λ."""
    sign = 1 if score == "test/acc" else -1  # the front maximizes accuracy, minimizes an MSE
    front = sorted((scatter[i] for i in pareto_front([(sign * a, s) for a, s, _ in scatter])), key=lambda p: p[1])
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.scatter([s for _, s, _ in scatter], [a for a, _, _ in scatter], color="gray", label="runs")
    ax.plot([s for _, s, _ in front], [a for a, _, _ in front], color="C3", marker="o", label="Pareto front")
    for a, s, label in front:  # which setting each front point is
        if label is not None:
            ax.annotate(f"λ={_fmt(label)}", (s, a), textcoords="offset points", xytext=(4, 4), fontsize=7)
    _scale(ax, "x", [s for _, s, _ in scatter])
    _min_span(ax, [a for a, _, _ in scatter], _span(score, [a for a, _, _ in scatter]))
    ax.set_xlabel(f"{stability} (lower is stabler)")
    ax.set_ylabel(SCORES[score])
    ax.legend()
    fig.tight_layout()
    return fig
