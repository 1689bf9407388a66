"""Stability along λ, like for like: is the SENN's explanation steadier than post-hoc ones on the same SENN?

For every run of a λ sweep (``senn-train -m experiment=mnist model.robustness_weight=... seed=...``), the
best checkpoint is evaluated with ``senn-evaluate``'s code (100 test inputs, unit normalization, the
same ε-ball and budget for every explanation) in both like-for-like spaces:

* input space: θ mapped to the pixels, θᵀ J_x h, against Captum's saliency, input × gradient and
  integrated gradients of the same SENN logit;
* concept space: θ against Captum's layer attributions at the concepts h (K numbers each).

Writes ``<out>/like_for_like.{json,md}`` and ``<out>/like_for_like.png`` (stability against λ per
explanation, test accuracy on a second axis) and prints the smallest λ at which θᵀ J_x h is at least
2× steadier than every post-hoc method. Evaluations are kept in ``<run>/like_for_like/`` and not redone.

Usage::

    senn-train -m experiment=mnist "model.robustness_weight=1e-4,1e-3,1e-2,1e-1,1" "seed=0,1,2" logger=csv \\
        hydra.sweep.dir=outputs/sweeps/lambda_mnist
    python experiments/lambda_like_for_like.py outputs/sweeps/lambda_mnist
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt

from senn.config import compose_config
from senn.evaluation import Evaluation, evaluate
from senn.evaluation.evaluate import CONCEPT_SPACE, INPUT_SPACE
from senn.explain.plots import save_figure
from senn.runs.sweep import collect_runs

LAMBDA = "model.robustness_weight"
OWN = {INPUT_SPACE: "senn θᵀ J_x h", CONCEPT_SPACE: "senn θ"}
SHORT = {INPUT_SPACE: "input space", CONCEPT_SPACE: "concept space"}
CONCEPT_METHODS = ["layer_gradient", "layer_gradient_x_activation", "layer_integrated_gradients"]
FACTOR = 2.0
"""How much steadier than every post-hoc method the SENN's explanation must be."""


def evaluated(run: dict, examples: int, concept_methods: list[str]) -> Evaluation:
    """The like-for-like evaluation of a run's best checkpoint (computed once, then read back)."""
    out = Path(run["run"]) / "like_for_like"
    if (out / "metrics.json").exists():
        return Evaluation.load(out)
    checkpoint = Path(run["best_checkpoint"])
    if not checkpoint.exists():  # the run folder moved since training: the same file in it
        checkpoint = Path(run["run"]) / "checkpoints" / checkpoint.name
    settings = [
        f"ckpt_path={checkpoint}",
        f"output_dir={out}",
        f"num_examples={examples}",
        "methods=[]",
        "prototypes.num_examples=0",
        "examples_to_plot=0",
        "explorer.num_examples=0",
        "stability.normalize=unit",
        f"like_for_like.concept_methods=[{','.join(concept_methods)}]",
    ]
    return evaluate(compose_config("evaluate", settings))


def table(runs: list[dict], evaluations: list[Evaluation]) -> list[dict]:
    """Per λ: test accuracy and, per space and explanation, each seed's median stability; in input space, per
    seed, the ratio of the steadiest post-hoc method's median to the SENN's."""
    rows = []
    for lam in sorted({r[LAMBDA] for r in runs}):
        members = [(r, e) for r, e in zip(runs, evaluations, strict=True) if r[LAMBDA] == lam]
        row = {"lambda": lam, "seeds": [r.get("seed", 0) for r, _ in members],
               "accuracy": [r["test/acc"] for r, _ in members], "spaces": {}}  # fmt: skip
        for space in (INPUT_SPACE, CONCEPT_SPACE):
            methods = members[0][1].like_for_like[space]
            medians = {m: [e.like_for_like[space][m].stability.median for _, e in members] for m in methods}
            row["spaces"][SHORT[space]] = {"medians": medians}
        own, medians = (
            row["spaces"]["input space"]["medians"][OWN[INPUT_SPACE]],
            row["spaces"]["input space"]["medians"],
        )
        row["posthoc_over_senn"] = [min(v[i] for m, v in medians.items() if m != OWN[INPUT_SPACE]) / own[i]
                                    for i in range(len(own))]  # fmt: skip
        rows.append(row)
    return rows


def _ms(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` over seeds."""
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):.{digits}g} ± {std:.2g}"


def markdown(rows: list[dict], seconds: float, examples: int, command: str) -> str:
    """The results page section: one table per space."""
    lines = [
        "# MNIST along λ, like for like",
        "",
        f"`{command}` on the λ sweep of `experiment=mnist` (projection estimator, 5 epochs; the seeds per λ in the "
        f"table): {examples} test inputs per run, unit normalization, ε = 1, 20 samples; {seconds / 60:.0f} min of "
        "evaluation run time in all (the runs' own timings). Stability: median local Lipschitz estimate over "
        "the inputs (lower is steadier), mean ± std over seeds; `post-hoc / SENN` (input space): the steadiest "
        f"post-hoc method's median over the SENN's (above {FACTOR:g}: the SENN's explanation is {FACTOR:g}× steadier "
        "than every post-hoc one). In concept space Captum's `layer_gradient` is θ itself, by construction.",
    ]
    for space in ("input space", "concept space"):
        methods = list(rows[0]["spaces"][space]["medians"])
        ratio = ["post-hoc / SENN"] if space == "input space" else []
        header = ["λ", "seeds", "test acc %", *methods, *ratio]
        lines += ["", f"## {space}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in rows:
            cells = [f"{row['lambda']:g}", str(len(row["seeds"])), _ms([100 * a for a in row["accuracy"]], 4)]
            cells += [_ms(row["spaces"][space]["medians"][m]) for m in methods]
            cells += [_ms(row["posthoc_over_senn"])] if ratio else []
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(rows: list[dict]) -> plt.Figure:
    """Stability against λ per explanation, one panel per space, test accuracy on a second axis."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    lams = [r["lambda"] for r in rows]
    for ax, space in zip(axes, ("input space", "concept space"), strict=True):
        others = iter(["C0", "C1", "C2", "C4", "C5"])  # red is the SENN's
        for method in rows[0]["spaces"][space]["medians"]:
            values = [r["spaces"][space]["medians"][method] for r in rows]
            means = [statistics.mean(v) for v in values]
            spread = [statistics.stdev(v) if len(v) > 1 else 0.0 for v in values]
            own = method.startswith("senn")
            ax.errorbar(lams, means, spread, marker="o", color="C3" if own else next(others), lw=2.5 if own else 1,
                        label=method, capsize=2)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("λ (robustness weight)")
        ax.set_ylabel("stability: median local Lipschitz (↓ steadier)")
        ax.set_title(space)
        twin = ax.twinx()
        accuracy = twin.plot(lams, [100 * statistics.mean(r["accuracy"]) for r in rows], "k--", marker="x",
                             label="test accuracy (right axis)")  # fmt: skip
        twin.set_ylabel("test accuracy % (dashed)")
        handles, labels = ax.get_legend_handles_labels()
        ax.legend([*handles, *accuracy], [*labels, accuracy[0].get_label()], fontsize=7, ncol=3, loc="upper center",
                  bbox_to_anchor=(0.5, -0.16))  # below the plot: the lines stay visible  # fmt: skip
    fig.tight_layout()
    return fig


def main() -> None:
    """Evaluate every run of the sweep, write the table and the figure, print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--concept-methods", nargs="+", default=CONCEPT_METHODS,
                        help="Captum's concept-layer methods (layer_integrated_gradients: ~110 s a run)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lambda_mnist_like_for_like")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = [r for r in collect_runs([args.sweep]) if r.get("best_checkpoint")]
    evaluations = [evaluated(r, args.examples, args.concept_methods) for r in runs]
    print(f"this invocation: {(time.perf_counter() - start) / 60:.1f} min")
    seconds = sum(e.methods["senn"].seconds + sum(s.seconds or 0 for space in e.like_for_like.values()
                                                  for s in space.values()) for e in evaluations)  # fmt: skip
    rows = table(runs, evaluations)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "like_for_like.json").write_text(json.dumps(rows, indent=1) + "\n")
    command = "python experiments/lambda_like_for_like.py " + " ".join(sys.argv[1:])
    (args.out / "like_for_like.md").write_text(markdown(rows, seconds, args.examples, command))
    save_figure(figure(rows), args.out / "like_for_like.png")
    steady = [r["lambda"] for r in rows if statistics.mean(r["posthoc_over_senn"]) >= FACTOR]
    print(
        f"{len(runs)} runs, {seconds / 60:.1f} min of evaluation; smallest λ with θᵀJ_x h {FACTOR:g}× steadier "
        f"than every post-hoc method (mean over seeds): {min(steady) if steady else 'none'}; in {args.out}"
    )


if __name__ == "__main__":
    main()
