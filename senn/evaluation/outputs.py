"""What an evaluation writes: ``metrics.json``, ``per_example.csv``, figures, prototypes, the report, wandb."""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from senn.evaluation.concept_quality import ConceptQuality
from senn.evaluation.report import write_report
from senn.evaluation.results import Evaluation, MethodRun
from senn.explain.plots import (
    plot_attributions,
    plot_concept_alignment,
    plot_explanation,
    plot_intervention_curve,
    plot_metric_boxes,
    save_figure,
    save_prototype_figures,
)
from senn.explain.prototypes import Prototypes


def write_outputs(
    output_dir: str | Path,
    evaluation: Evaluation,
    runs: dict[str, MethodRun],
    x: torch.Tensor,
    order: torch.Tensor,
    labels: torch.Tensor,
    prototypes: Prototypes | None,
    examples_to_plot: int,
) -> dict[str, Path]:
    """Write everything ``evaluation`` and the per-example ``runs`` on inputs ``x`` (the split's examples
    ``order``, with ``labels``) show into ``output_dir``; return the figures, caption -> PNG path."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    evaluation.save(out / "metrics.json")
    _write_per_example(out / "per_example.csv", runs, order, labels)
    senn = next(iter(runs.values())).explanation
    shown = range(min(examples_to_plot, len(x)))
    figures = _figures(runs, x, prototypes, shown, out)
    if evaluation.concepts is not None:  # first, under the concept table
        figures = {**_concept_figures(evaluation.concepts, out), **figures}
    texts = {_explanation_caption(i): senn[i].to_text(10, [f"example {i + 1}"]) for i in shown}
    write_report(out / "report.html", evaluation, figures, texts)
    return figures


def _write_per_example(path: Path, runs: dict[str, MethodRun], order: torch.Tensor, labels: torch.Tensor) -> None:
    """A row per evaluated input and method."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["example", "label", "method", "prediction", "faithfulness", "stability"])
        for name, r in runs.items():
            truth = labels.view(-1).to(r.prediction.dtype).tolist()  # class indices, or regression values
            columns = zip(order.tolist(), truth, r.prediction.tolist(), r.faithfulness.tolist(), r.stability.tolist())
            writer.writerows([i, y, name, p, f, s] for i, y, p, f, s in columns)


def _figures(
    runs: dict[str, MethodRun], x: torch.Tensor, prototypes: Prototypes | None, shown: range, out: Path
) -> dict[str, Path]:
    """Box plots, example explanations and prototype grids as PNG files; returns caption -> path."""
    figures = {
        "Faithfulness (higher is better)": save_figure(
            plot_metric_boxes(
                {k: r.faithfulness.numpy() for k, r in runs.items()}, "faithfulness", "Pearson correlation", log=False
            ),
            out / "faithfulness.png",
        ),
        "Stability: local Lipschitz estimate, input mode (lower is better; the SENN's θ has K entries, post-hoc "
        "attributions one per input feature: different spaces, see the like-for-like table)": save_figure(
            plot_metric_boxes(
                {k: r.stability.numpy() for k, r in runs.items()}, "stability", "local Lipschitz estimate"
            ),
            out / "stability.png",
        ),
    }
    senn = next(iter(runs.values())).explanation
    for i in shown:
        figures[_explanation_caption(i)] = save_figure(
            plot_explanation(senn, x, i, prototypes=prototypes), out / f"explanation_{i + 1}.png"
        )
    attributions = {k: r.attributions[: len(shown)] for k, r in runs.items() if r.attributions is not None}
    if attributions and len(shown) > 0:
        figures["Post-hoc attributions of the same examples"] = save_figure(
            plot_attributions(x[: len(shown)], attributions), out / "posthoc_examples.png"
        )
    if prototypes is not None:
        prototypes.export(out / "prototypes")
        figures[
            "Concept prototypes: top examples by activation and by contrast, decoder traversals, feature visualization"
        ] = save_prototype_figures(prototypes, out / "prototypes")[0]
    return figures


def _explanation_caption(i: int) -> str:
    """The report's caption of the SENN's explanation of example ``i`` (0-based)."""
    return f"SENN explanation of example {i + 1}"


def _concept_figures(quality: ConceptQuality, out: Path) -> dict[str, Path]:
    """The learned × true AUC heatmap and the intervention curves."""
    a, i = quality.alignment, quality.interventions
    return {
        "Concept alignment: held-out AUC of every learned concept for every true concept": save_figure(
            plot_concept_alignment(a.auc.numpy(), quality.concept_names, a.matching.tolist(), quality.learned_names),
            out / "concept_alignment.png",
        ),
        "Interventions: task accuracy as true concept values are set": save_figure(
            plot_intervention_curve(
                {"random order": i.random.numpy(), "most uncertain first": i.uncertain_first.numpy()}
            ),
            out / "interventions.png",
        ),
    }


def log_wandb(cfg: DictConfig, evaluation: Evaluation, figures: dict[str, Path]) -> None:
    """Log the figures and the medians of every method to a wandb run (offline unless ``cfg.wandb.mode`` says
    otherwise)."""
    import wandb

    run = wandb.init(
        project=cfg.wandb.project,
        mode=cfg.wandb.mode,
        dir=str(cfg.output_dir),
        job_type="evaluate",
        config=OmegaConf.to_container(cfg, resolve=True),
    )
    run.log({caption: wandb.Image(str(path)) for caption, path in figures.items()})
    for method, scores in evaluation.methods.items():
        run.summary[f"{method}/faithfulness_median"] = scores.faithfulness.median
        run.summary[f"{method}/stability_median"] = scores.stability.median
    run.finish()
