"""Sweep summaries: every run of a multirun in one table, mean ± std over seeds, trade-off figures.

A run is a folder with ``.hydra/overrides.yaml`` and the ``metrics.json`` that ``train`` writes, or
an offline wandb run; its explanation quality comes from ``evaluation/metrics.json`` (written by
:func:`evaluate_runs` with ``senn-evaluate``'s code, or by the user).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import yaml
from hydra import compose, initialize_config_dir

from senn.cli import config_dir
from senn.evaluation.wandb_offline import read_offline_run

IGNORED = {"seed", "hparams_search", "hydra.sweep.dir", "hydra.run.dir", "output_dir"}
COLUMNS = ("test/acc", "stability", "faithfulness", "val/robustness_loss")


def _value(text: str) -> Any:
    """An override's value as YAML reads it (numbers become numbers)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _row(run: Path, overrides: list[str], metrics: dict[str, Any]) -> dict[str, Any]:
    """One run's table row: its overrides as keys and values, then its metrics."""
    row: dict[str, Any] = {"run": str(run)}
    for item in overrides:
        key, _, value = item.lstrip("+~").partition("=")
        row[key] = _value(value)
    row.update(metrics)
    return row


def collect_runs(directories: Iterable[str | Path], evaluation: str = "evaluation") -> list[dict[str, Any]]:
    """One row per finished run under ``directories``: its overrides and its metrics.

    A run is a ``senn-train`` output folder (``.hydra/overrides.yaml`` + ``metrics.json``), or an
    offline wandb run (``run-*.wandb``, which ``train`` gives the overrides) whose output folder is
    not there, e.g. wandb folders copied back from a cluster. Stability and faithfulness come from
    ``<run>/<evaluation>/metrics.json`` where it exists.
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
            row = _row(run, yaml.safe_load(overrides_file.read_text()) or [], json.loads(metrics_file.read_text()))
            quality = run / evaluation / "metrics.json"
            if quality.exists():
                senn = json.loads(quality.read_text())["methods"]["senn"]
                row["stability"] = senn["stability"]["median"]
                row["faithfulness"] = senn["faithfulness"]["median"]
            rows.append(row)
        seen = set()  # run ids: wandb's `latest-run` link (or a copy of it) repeats a run
        for wandb_file in sorted(Path(directory).glob("**/offline-run-*/run-*.wandb")):
            if wandb_file.name in seen or any(run in wandb_file.parents for run in runs):
                continue  # its output folder was read above
            seen.add(wandb_file.name)
            logged = read_offline_run(wandb_file)
            if logged["finished"] and "overrides" in logged["config"]:
                rows.append(_row(wandb_file.parent, logged["config"]["overrides"], logged["summary"]))
    return rows


def evaluate_runs(
    rows: list[dict[str, Any]], num_examples: int, overrides: Sequence[str] = (), evaluation: str = "evaluation"
) -> None:
    """Run the SENN part of ``senn-evaluate`` on each run's best checkpoint, into ``<run>/<evaluation>``
    (skipping runs evaluated there already)."""
    from senn.evaluation import evaluate

    for row in rows:
        if "stability" in row or not row.get("best_checkpoint"):
            continue
        out = Path(row["run"]) / evaluation
        settings = [f"ckpt_path={row['best_checkpoint']}", f"output_dir={out}", f"num_examples={num_examples}",
                    "methods=[]", "prototypes.num_examples=0", "examples_to_plot=0", *overrides]  # fmt: skip
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            cfg = compose("evaluate", overrides=settings)
        senn = evaluate(cfg)["methods"]["senn"]
        row["stability"], row["faithfulness"] = senn["stability"]["median"], senn["faithfulness"]["median"]


def swept_keys(rows: list[dict[str, Any]]) -> list[str]:
    """Override keys whose value differs between runs (the seed aside)."""
    keys = {k for row in rows for k in row if "." in k or k in ("experiment", "data", "model")}
    keys = {k for k in keys if k not in IGNORED and not k.startswith(("hydra.", "callbacks."))}
    return sorted(k for k in keys if len({json.dumps(row.get(k), sort_keys=True) for row in rows}) > 1)


def _mean_std(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return float("nan"), float("nan")
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by the swept keys: mean and std over seeds of every column."""
    keys = swept_keys(rows)
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(json.dumps([row.get(k) for k in keys]), []).append(row)
    table = []
    for members in groups.values():
        entry = {k: members[0].get(k) for k in keys}
        entry["runs"] = len(members)
        for column in COLUMNS:
            entry[column], entry[f"{column} std"] = _mean_std([m.get(column) for m in members])
        table.append(entry)
    return sorted(table, key=lambda e: [str(e[k]) if not isinstance(e[k], int | float) else e[k] for k in keys])


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated when maximising the first and minimising the second value."""
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


def write_summary(rows: list[dict[str, Any]], out: str | Path) -> dict[str, Path]:
    """``runs.json``, ``summary.md`` and the trade-off figures in ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table, keys = summarise(rows), swept_keys(rows)
    stability = "stability" if any("stability" in r for r in rows) else "val/robustness_loss"
    paths = {"runs": out / "runs.json", "summary": out / "summary.md"}
    paths["runs"].write_text(json.dumps(rows, indent=2) + "\n")
    header = [*keys, "runs", *(f"{c} (mean ± std)" for c in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for entry in table:
        cells = [_fmt(entry[k]) for k in keys] + [str(entry["runs"])]
        cells += [f"{_fmt(entry[c])} ± {_fmt(entry[f'{c} std'])}" for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    stability_note = ("median input-mode local Lipschitz estimate (senn-evaluate)" if stability == "stability"
                      else "the exact robustness term on validation (no senn-evaluate results found)")  # fmt: skip
    paths["summary"].write_text(f"# Sweep summary\n\n{len(rows)} runs. Stability: {stability_note}.\n\n"
                                + "\n".join(lines) + "\n")  # fmt: skip

    lam = "model.robustness_weight"
    if lam in keys:
        points = sorted((e for e in table if isinstance(e[lam], int | float)), key=lambda e: e[lam])
        fig, left = plt.subplots(figsize=(5.5, 3.6))
        x = [e[lam] for e in points]
        left.errorbar(x, [e["test/acc"] for e in points], [e["test/acc std"] for e in points], color="C0", marker="o")
        left.set_xscale("log")
        left.set_xlabel("λ (robustness weight)")
        left.set_ylabel("test accuracy", color="C0")
        right = left.twinx()
        right.errorbar(x, [e[stability] for e in points], [e[f"{stability} std"] for e in points], color="C3",
                       marker="s")  # fmt: skip
        right.set_yscale("log")
        right.set_ylabel(f"{stability} (lower is stabler)", color="C3")
        fig.tight_layout()
        paths["tradeoff"] = out / "tradeoff.png"
        fig.savefig(paths["tradeoff"], dpi=110)
        plt.close(fig)

    scatter = [(r.get("test/acc"), r.get(stability)) for r in rows]
    scatter = [(a, s) for a, s in scatter if a is not None and s is not None]
    if scatter:
        front = sorted((scatter[i] for i in pareto_front(scatter)), key=lambda p: p[1])
        fig, ax = plt.subplots(figsize=(5, 3.6))
        ax.scatter([s for _, s in scatter], [a for a, _ in scatter], color="gray", label="runs")
        ax.plot([s for _, s in front], [a for a, _ in front], color="C3", marker="o", label="Pareto front")
        ax.set_xscale("log")
        ax.set_xlabel(f"{stability} (lower is stabler)")
        ax.set_ylabel("test accuracy")
        ax.legend()
        fig.tight_layout()
        paths["pareto"] = out / "pareto.png"
        fig.savefig(paths["pareto"], dpi=110)
        plt.close(fig)
    return paths
