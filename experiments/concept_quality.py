"""Concept quality on data with known concepts: SENN variants, a concept bottleneck, a plain network, a random floor.

Trains every row's preset per data setting and seed with ``senn.runs.train`` (the code behind
``senn-train``), scores the best checkpoint's concepts on the test split with
:func:`senn.evaluation.concept_quality.concept_quality` (plus the input-mode stability median over 100 test
inputs), and writes ``experiments/results/concepts.{json,md}`` and a prototype figure per row (seed 0,
shapes). Finished runs are kept under ``outputs/concepts/`` and not redone, so an interrupted run resumes.

Usage::

    python experiments/concept_quality.py                                  # the protocol, 3 seeds, 2 jobs
    python experiments/concept_quality.py --settings tabular_toy --seeds 0 --rows anchor supervised
    python experiments/concept_quality.py --report                         # tables from the finished runs only

The committed results ran the default (the protocol: both data sets, independent and dependent concepts,
3 seeds, every row but the ablations), then ``--rows`` with the ablations, and ``--settings shapes_20_epochs
--seeds 0 --rows anchor supervised_w1 supervised_w1_interventions plain``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from senn.config import config_dir
from senn.evaluation.concept_quality import DCI_SCORES, concept_quality
from senn.evaluation.evaluate import stability
from senn.evaluation.results import StabilitySettings
from senn.explain import explain
from senn.metrics import senn_explainer

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = Path("outputs") / "concepts"
SETTINGS = {  # name -> (data preset, overrides)
    "shapes": ("shapes", []),
    "shapes_dependent": ("shapes", ["data.dependency=0.5"]),
    "shapes_20_epochs": ("shapes", ["trainer.max_epochs=20", "callbacks.early_stopping.patience=20"]),
    "tabular_toy": ("tabular_toy", []),
    "tabular_toy_dependent": ("tabular_toy", ["data.covariance=0.5"]),
}
BASE_LR = {"shapes": 2e-3, "tabular_toy": 1e-3}  # the unsupervised presets' lr, the supervised ones' before tuning
SUPERVISION_W1 = ["model.concept_weight=1", "model.optimizer.lr={base_lr}"]
PAPER_REGULARIZER = ["model.robustness_penalty=residual", "model.robustness_weight=1e-4"]
"""The regularizer the supervised rows were trained with (the presets' before supervised_pareto.py chose theirs)."""
ROWS = {  # name -> (label, experiment suffix, overrides); "random" is the anchor, untrained
    "anchor": ("SENN, paper autoencoder (anchor)", "", []),
    "relu": ("SENN, relu concepts", "", ["model.conceptizer.activation=relu"]),
    "sigmoid": ("SENN, sigmoid concepts", "", ["model.conceptizer.activation=sigmoid"]),
    "vae": ("SENN, β-VAE concepts (β = 1)", "", ["model.conceptizer.variational=true", "model.sparsity_weight=0"]),
    "supervised10": (
        "SENN, 10 % concept supervision",
        "_supervised",
        ["data.concept_fraction=0.1", *PAPER_REGULARIZER],
    ),
    "supervised": ("SENN, 100 % concept supervision", "_supervised", PAPER_REGULARIZER),
    # ablations of the *_supervised presets' concept weight 5, lr 5e-3 and training interventions (p = 0.25)
    "supervised10_w1": (
        "ablation: 10 % supervision, weight 1, no training interventions",
        "_supervised",
        ["data.concept_fraction=0.1", *SUPERVISION_W1, "model.intervention_probability=0", *PAPER_REGULARIZER],
    ),
    "supervised_w1": (
        "ablation: 100 % supervision, weight 1, no training interventions",
        "_supervised",
        [*SUPERVISION_W1, "model.intervention_probability=0", *PAPER_REGULARIZER],
    ),
    "supervised10_w1_interventions": (
        "ablation: 10 % supervision, weight 1, training interventions",
        "_supervised",
        ["data.concept_fraction=0.1", *SUPERVISION_W1, *PAPER_REGULARIZER],
    ),
    "supervised_w1_interventions": (
        "ablation: 100 % supervision, weight 1, training interventions",
        "_supervised",
        [*SUPERVISION_W1, *PAPER_REGULARIZER],
    ),
    "supervised_relative_relevances_0.01": (
        "SENN, 100 % concept supervision, the preset's regularizer (relative_relevances, λ = 0.01)",
        "_supervised",
        [],
    ),
    "bottleneck": ("concept bottleneck (θ constant)", "_bottleneck", []),
    "cem": ("concept embedding model (CEM, linear label predictor)", "_cem", []),
    "plain": ("plain network (no concepts)", "_plain", []),
    "random": ("random representation (untrained anchor)", "", []),
}
ABLATIONS = [row for row in ROWS if row.startswith("supervised") and "_w1" in row]
PROTOCOL = ["shapes", "shapes_dependent", "tabular_toy", "tabular_toy_dependent"]
COLUMNS = [  # key, header, percent?
    ("task_accuracy", "task acc %", True),
    ("mean_matched_auc", "matched AUC ↑", False),
    ("oracle_impurity", "OIS ↓", False),
    ("niche_impurity", "NIS ↓", False),
    ("dci_disentanglement", "DCI D ↑", False),
    ("completeness", "completeness ↑", False),
    ("intervention_area", "intervention area ↑", False),
    ("intervention_all", "acc., all concepts set %", True),
    ("stability_unit", "stability, scale-free ↓", False),
    ("stability_median", "stability in θ's units", False),
]


def compose_cfg(setting: str, row: str, seed: int, out: Path, spec: tuple[str, str, list[str]] | None = None):
    """The training config of one run of ``ROWS[row]`` (or of ``spec``)."""
    data, overrides = SETTINGS[setting]
    _, suffix, row_overrides = spec or ROWS[row]
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            "train",
            overrides=[f"experiment={data}{suffix}", f"seed={seed}", "logger=csv", f"output_dir={out}",
                       "callbacks.progress_bar.refresh_rate=0", "callbacks.explanations.every_n_epochs=1000",
                       *overrides, *(o.format(base_lr=BASE_LR[data]) for o in row_overrides)],
        )  # fmt: skip


def stabilities(module: torch.nn.Module, x: torch.Tensor, seed: int) -> dict[str, float]:
    """Median input-mode local Lipschitz estimate over ``x`` (senn-evaluate's ball and budget: ε = 1, 20 samples)
    of θ divided by its L2 norm (``stability_unit``: scale-free, senn-evaluate's default), of θ as it is
    (``stability_median``, in θ's units, which depend on the concepts' scale) and of the contributions θ·h
    divided by their L2 norm (``stability_contributions``: what the explanation's bars show)."""

    @torch.no_grad()
    def contributions(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return explain(module, inputs, targets).target_contributions  # (N, K)

    target = explain(module, x).target  # the explained output of each input
    ball = {how: StabilitySettings(epsilon=1.0, budget=20, norm="l2", normalize=how) for how in ("unit", "none")}
    runs = [("stability_unit", senn_explainer(module), "unit"), ("stability_median", senn_explainer(module), "none"),
            ("stability_contributions", contributions, "unit")]  # fmt: skip
    return {key: float(stability(fn, x, target, ball[how], seed).median()) for key, fn, how in runs}


def run(setting: str, row: str, seed: int, spec: tuple[str, str, list[str]] | None = None) -> dict[str, Any]:
    """Train (unless done) and score one run of ``ROWS[row]`` (or ``spec``, a row of another study); the result
    is cached in its folder's ``concepts.json``, and a kept run scored before a stability column existed is
    re-scored from its checkpoint."""
    torch.set_num_threads(1)
    out = RUNS / setting / row / f"seed{seed}"
    cached = out / "concepts.json"
    from senn.checkpoints import load_checkpoint
    from senn.runs import train

    if cached.exists():
        result = json.loads(cached.read_text())
        if "stability_contributions" in result or row in ("plain", "random") or not (out / "metrics.json").exists():
            return result
        module = load_checkpoint(metrics_best(out))
        datamodule = instantiate(compose_cfg(setting, row, seed, out, spec).data)
        datamodule.setup()
        result.update(stabilities(module, datamodule.splits["test"][0][:100], seed))
        cached.write_text(json.dumps(result, indent=2) + "\n")
        return result
    cfg = compose_cfg(setting, "anchor" if row == "random" else row, seed, out, spec)
    start = time.perf_counter()
    if row == "random":
        torch.manual_seed(seed)
        module = instantiate(cfg.model, _recursive_=False).eval()
        metrics = {}
    else:
        metrics = train(cfg)
        module = load_checkpoint(metrics_best(out))
    datamodule = instantiate(cfg.data)
    datamodule.setup()
    result: dict[str, Any] = {"setting": setting, "row": row, "seed": seed}
    if row == "plain":
        result["task_accuracy"] = metrics["test/acc"]
    else:
        quality = concept_quality(module, datamodule, seed=seed)
        summary = quality.to_dict()
        result.update({k: v for k, v in summary.items() if not isinstance(v, list | dict)})
        result.update({f"dci_{k}": summary["dci"][k] for k in DCI_SCORES})
        result["matched_auc"] = summary["matched_auc"]
        result["intervention_random"] = summary["intervention_random"]
        result["intervention_all"] = summary["intervention_random"][-1]
        result.update(stabilities(module, datamodule.splits["test"][0][:100], seed))
        if seed == 0 and setting.startswith("shapes"):
            save_prototypes(module, datamodule, quality, out / "prototypes")
    result["seconds"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result, indent=2) + "\n")
    return result


def metrics_best(out: Path) -> Path:
    """The best checkpoint ``senn-train`` recorded in the run's ``metrics.json``."""
    return Path(json.loads((out / "metrics.json").read_text())["best_checkpoint"])


def save_prototypes(module, datamodule, quality, folder: Path) -> None:
    """Top test examples per learned concept, each titled with its best-matching true concept and AUC."""
    from senn.explain.plots import save_prototype_figures
    from senn.explain.prototypes import concept_prototypes

    prototypes = concept_prototypes(module.model, datamodule.splits["test"][0][:1000], k=8, feature_vis_steps=0)
    save_prototype_figures(replace(prototypes, concept_names=quality.matched_names()), folder)


def mean_std(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` of ``values`` as the results pages print it (``(n = 1)`` for a single value)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (n = 1)"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(results: list[dict[str, Any]], setting: str) -> list[str]:
    """The markdown table of one setting: mean ± std over seeds per row."""
    lines = ["| model | " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for row, (label, _, _) in ROWS.items():
        runs = [r for r in results if r["setting"] == setting and r["row"] == row]
        if not runs:
            continue
        cells = []
        for key, _, percent in COLUMNS:
            values = [100 * r[key] if percent else r[key] for r in runs if key in r and np.isfinite(r[key])]
            digits = 1 if percent else 3
            if not values:
                cells.append("–")
            else:
                cells.append(mean_std(values, digits) + (f" (n = {len(values)})" if len(values) not in (1, 3) else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    """Run every (setting, row, seed), then write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=PROTOCOL, choices=list(SETTINGS))
    parser.add_argument("--rows", nargs="+", default=[r for r in ROWS if r not in ABLATIONS], choices=list(ROWS),
                        help="default: every row but the ablations")  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one CPU thread each)")
    parser.add_argument("--report", action="store_true", help="only rebuild the tables from every finished run")
    args = parser.parse_args()
    start = time.perf_counter()
    jobs = [] if args.report else [(s, r, seed) for seed in args.seeds for s in args.settings for r in args.rows]
    with ProcessPoolExecutor(args.jobs) as pool:
        for result in pool.map(run, *zip(*jobs)) if jobs else []:
            print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}), flush=True)
    recorded = json.loads((RESULTS / "concepts.json").read_text()) if (RESULTS / "concepts.json").exists() else []
    finished = [json.loads(path.read_text()) for path in RUNS.glob("*/*/seed*/concepts.json")]
    merged = {(r["setting"], r["row"], r["seed"]): r for r in [*recorded, *finished]}  # a run made here replaces
    results = [r for r in merged.values() if r["setting"] in SETTINGS and r["row"] in ROWS]  # the recorded one
    results.sort(key=lambda r: (r["setting"], list(ROWS).index(r["row"]), r["seed"]))
    (RESULTS / "concepts.json").write_text(json.dumps(results, indent=2) + "\n")
    figures = RESULTS / "concepts"
    figures.mkdir(exist_ok=True)
    for path in sorted(RUNS.glob("shapes*/*/seed0/prototypes/prototypes.png")):  # one prototype figure per row
        if path.parts[-4] in ROWS:
            shutil.copy(path, figures / f"prototypes_{path.parts[-5]}_{path.parts[-4]}.png")
    compute = sum(r["seconds"] for r in results) / 60
    default = [r for r in results if r["setting"] in PROTOCOL and r["row"] not in ABLATIONS]
    ablations = sum(r["seconds"] for r in results if r["row"] in ABLATIONS) / 60
    lines = [
        "# Concept quality against ground truth",
        "",
        f"`python experiments/concept_quality.py`: {len(results)} runs (train, test, score) on the 2-core CPU, "
        f"{compute:.0f} min of run time in all, two runs at a time with one thread each: the default protocol's "
        f"{len(default)} runs {sum(r['seconds'] for r in default) / 60:.0f} min (two at a time: about half that "
        "on the clock, an estimate; the protocol was not timed in one go), "
        f"the ablation rows (`--rows {' '.join(ABLATIONS)}`) {ablations:.0f} min (this invocation: "
        f"{(time.perf_counter() - start) / 60:.0f} min; runs found in `outputs/concepts/` reused, runs recorded in "
        "`concepts.json` but not found there kept as recorded). Test split; "
        "mean ± std over seeds 0-2, `(n = …)` where another number of seeds ran (the rows that "
        "`supervised_pareto.py` also ran on seeds 3 and 4). The supervised rows train with the paper's regularizer "
        "at λ = 1e-4 (the presets' setting before `supervised_pareto.py` chose theirs), except the one row that "
        "says otherwise. Columns: task accuracy; mean matched AUC of "
        "the learned concepts for the true ones; oracle and niche impurity; DCI disentanglement (against the "
        "generative factors); completeness score; normalized area under the random-order intervention curve and "
        "the accuracy with every true concept set; the median input-mode local Lipschitz estimate of θ over 100 "
        "test inputs (ε = 1, 20 samples), scale-free (each θ(x) divided by its L2 norm, `senn-evaluate`'s default: "
        "the column to compare models by) and in θ's own units (which grow with the concepts' scale: concepts in "
        "[0, 1] need a larger θ than concepts at ±5 for the same logits, so this column favors large concepts). "
        "`–` in the scale-free column: a run recorded before it was measured, whose checkpoint is not kept.",
    ]
    for setting in SETTINGS:
        if any(r["setting"] == setting for r in results):
            lines += ["", f"## {setting} ({' '.join(SETTINGS[setting][1]) or 'independent concepts'})", "",
                      *table(results, setting)]  # fmt: skip
    (RESULTS / "concepts.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
