"""What an input-dependent θ(x) buys over a concept bottleneck, in numbers, with OIS over repeated evaluations.

For shapes and TabularToy, one trained model of each kind (seed 0 of ``supervised_pareto.py`` /
``concept_quality.py``, kept in ``outputs/concepts/``: the paper autoencoder, the bottleneck, the
``*_supervised`` preset and the concept-embedding model) is evaluated ``--repeats`` times by the
concept-quality protocol with different evaluation seeds (the probes behind OIS, NIS and the alignment
are trained afresh each time). Writes ``experiments/results/theta_vs_bottleneck.md``: OIS, NIS and matched
AUC as mean ± std over the repeats of the *same* model, and the task accuracy and the accuracy with
every true concept set, which the repeats do not change.

Usage::

    python experiments/theta_vs_bottleneck.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concept_quality import RESULTS, RUNS, mean_std, metrics_best

from senn.checkpoints import load_checkpoint
from senn.evaluation.concept_quality import concept_quality

MODELS = {"anchor": "paper autoencoder", "bottleneck": "concept bottleneck (θ constant)",
          "supervised_relative_relevances_0.01": "supervised SENN (the preset)",
          "cem": "concept embedding model"}  # fmt: skip
KEYS = [("oracle_impurity", "OIS ↓"), ("niche_impurity", "NIS ↓"), ("mean_matched_auc", "matched AUC")]


def repeated(setting: str, row: str, repeats: int) -> dict[str, list[float]]:
    """The concept-quality summary of one kept model, evaluated with seeds 0 .. repeats − 1."""
    out = RUNS / setting / row / "seed0"
    module = load_checkpoint(metrics_best(out))
    datamodule = instantiate(module.data_config)
    datamodule.setup()
    found: dict[str, list[float]] = {}
    for seed in range(repeats):
        summary = concept_quality(module, datamodule, seed=seed).to_dict()
        for key in ("oracle_impurity", "niche_impurity", "mean_matched_auc", "task_accuracy"):
            found.setdefault(key, []).append(float(summary[key]))
        found.setdefault("all_set", []).append(float(summary["intervention_random"][-1]))
    return found


def main() -> None:
    """Every model, ``--repeats`` evaluations each; the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    start, results = time.perf_counter(), {}
    lines = ["# What θ(x) buys over a bottleneck", ""]
    header = "| model | task acc % | acc., all concepts set % | " + " | ".join(h for _, h in KEYS) + " |"
    for setting in ("shapes", "tabular_toy"):
        lines += [f"## {setting}", "", header, "|---" * (len(KEYS) + 3) + "|"]
        for row, label in MODELS.items():
            found = results[f"{setting}/{row}"] = repeated(setting, row, args.repeats)
            cells = [mean_std(found[key]) for key, _ in KEYS]
            lines.append(f"| {label} | {100 * found['task_accuracy'][0]:.1f} | {100 * found['all_set'][0]:.1f} | "
                         + " | ".join(cells) + " |")  # fmt: skip
        lines.append("")
    minutes = (time.perf_counter() - start) / 60
    lines.insert(1, f"`python experiments/theta_vs_bottleneck.py --repeats {args.repeats}` ({minutes:.1f} min on 2 "
                    "cores): seed 0 of each model, test split; OIS, NIS and matched AUC as mean ± std over "
                    f"{args.repeats} evaluations of the same model with different evaluation seeds.\n")  # fmt: skip
    (RESULTS / "theta_vs_bottleneck.md").write_text("\n".join(lines))
    (RESULTS / "theta_vs_bottleneck.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
