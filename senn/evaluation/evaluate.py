"""``evaluate(cfg)``: faithfulness and stability of a SENN and of post-hoc explainers on the same inputs.

Everything lands in ``cfg.output_dir``: ``metrics.json`` (summary per method), ``per_example.csv``,
PNG figures, prototype arrays and figures, and a self-contained ``report.html``.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from senn.checkpoints import load_checkpoint
from senn.data.base import SplitDataModule
from senn.evaluation.concept_quality import ConceptQuality, concept_quality
from senn.evaluation.report import write_report
from senn.explain import Explanation, explain
from senn.explain.plots import (
    plot_attributions,
    plot_concept_alignment,
    plot_explanation,
    plot_intervention_curve,
    plot_metric_boxes,
    save_figure,
    save_prototype_figures,
)
from senn.explain.posthoc import SENNLogits, concept_layer_explainer, patch_size, posthoc_explainer
from senn.explain.prototypes import Prototypes, concept_activations, concept_prototypes
from senn.metrics import (
    Explainer,
    concept_faithfulness,
    concept_lipschitz,
    feature_faithfulness,
    local_lipschitz,
    normalised,
    senn_explainer,
    senn_input_explainer,
)
from senn.models import IdentityConceptizer
from senn.models.utils import resolve_device
from senn.tasks import explained_output, predict, towards_classes
from senn.training import PlainModule, SENNModule

SENN_NAME = "senn"


CONCEPT_SPACE = "concept space (K entries per explanation)"
INPUT_SPACE = "input space (one entry per input feature)"
MEDIAN_SAMPLE = 10_000
"""Training examples whose feature medians are the removal baseline of identity concepts."""


def summarize(values: np.ndarray) -> dict[str, float]:
    """Median, mean, quartiles and count of the finite values."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"median": float("nan"), "mean": float("nan"), "q25": float("nan"), "q75": float("nan"), "n": 0}
    q25, median, q75 = np.quantile(finite, [0.25, 0.5, 0.75])
    return {"median": float(median), "mean": float(finite.mean()), "q25": float(q25), "q75": float(q75),
            "n": len(finite)}  # fmt: skip


def load_data(cfg: DictConfig, data_config: dict[str, Any] | None) -> SplitDataModule:
    """The data module of ``cfg.data``, else the one the checkpoint was trained on; ``cfg.data_dir`` moves it."""
    config = OmegaConf.to_container(cfg.data, resolve=True) if cfg.get("data") is not None else data_config
    if config is None:
        raise ValueError("the checkpoint does not record its data set: pass one, e.g. `senn-evaluate data=mnist ...`")
    if cfg.get("data_dir") is not None:
        config["data_dir"] = cfg.data_dir
    datamodule = instantiate(config)
    datamodule.setup()
    return datamodule


def _stability_view(explainer: Explainer, cfg: DictConfig) -> Explainer:
    """The explainer whose stability is measured, normalised as ``stability.normalise`` says (none | max | unit;
    the former booleans read as max / none)."""
    how = cfg.stability.get("normalise", "none")
    return normalised(explainer, {True: "max", False: "none"}.get(how, how))


def _like_for_like(module: SENNModule, x: torch.Tensor, senn_result: dict[str, Any],
                   cfg: DictConfig) -> dict[str, Any]:  # fmt: skip
    """Stability of explanations that live in the same space, all of the same SENN: its θ (measured already,
    in ``senn_result``) against Captum's attributions to its concepts (K numbers each), and θ mapped to the
    input (θᵀ J_x h) against Captum's attributions to its pixels / features (x's shape)."""
    senn, s, c = module.model, cfg.stability, cfg.like_for_like
    target = senn_result["target"].to(x.device)  # the explained output column
    spaces = {
        CONCEPT_SPACE: {m: concept_layer_explainer(m, senn) for m in c.concept_methods},
        INPUT_SPACE: {"senn θᵀ J_x h": senn_input_explainer(senn),
                      **{m: posthoc_explainer(m, SENNLogits(senn), tuple(x.shape[1:])) for m in c.input_methods}},
    }  # fmt: skip
    results: dict[str, Any] = {CONCEPT_SPACE: {"senn θ": {"stability": summarize(senn_result["stability"].numpy())}},
                               INPUT_SPACE: {}}  # fmt: skip
    for space, explainers in spaces.items():
        for name, explainer in explainers.items():
            start = time.perf_counter()
            generator = torch.Generator().manual_seed(cfg.seed)
            values = local_lipschitz(_stability_view(explainer, cfg), x, target, s.epsilon, "sampling", s.budget,
                                     s.norm, generator=generator)  # fmt: skip
            results[space][name] = {"stability": summarize(values.cpu().numpy()),
                                    "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip
    return results


def _senn_results(module: SENNModule, x: torch.Tensor, datamodule: SplitDataModule,
                  cfg: DictConfig) -> dict[str, Any]:  # fmt: skip
    """The SENN's own faithfulness (concept removal) and stability (input and concept mode)."""
    senn, s = module.model, cfg.stability
    generator = torch.Generator().manual_seed(cfg.seed)
    baseline: float | torch.Tensor = 0.0
    if isinstance(senn.conceptizer, IdentityConceptizer):  # raw features are removed to their training medians
        train_x, _ = datamodule.head("train", MEDIAN_SAMPLE)
        baseline = concept_activations(senn, train_x).median(0).values
    start = time.perf_counter()
    explanation = explain(senn, x)
    target = explanation.target  # the explained output column
    explainer = _stability_view(senn_explainer(senn), cfg)
    result = {
        "prediction": explanation.prediction,
        "faithfulness": concept_faithfulness(senn, x, baseline=baseline),
        "stability": local_lipschitz(explainer, x, target, s.epsilon, "sampling", s.budget, s.norm,
                                     generator=generator),
        "concept_stability": concept_lipschitz(senn, x, epsilon=s.epsilon, estimator="sampling", budget=s.budget,
                                               norm=s.norm, generator=generator),
    }  # fmt: skip
    result["seconds"] = time.perf_counter() - start
    generator = torch.Generator().manual_seed(cfg.seed)
    result["stability_gradient"] = local_lipschitz(explainer, x, target, s.epsilon, "gradient", s.budget, s.norm,
                                                   generator=generator)  # fmt: skip
    result["explanation"], result["target"] = explanation, target
    return result


def _posthoc_results(module: PlainModule, x: torch.Tensor, cfg: DictConfig) -> dict[str, dict[str, Any]]:
    """Feature-removal faithfulness and input-mode stability of every post-hoc method on the plain network."""
    net, s = module.model, cfg.stability
    net.eval()
    with torch.no_grad():
        logits = net(x)
    target = predict(logits, net.task)
    classes = explained_output(target, net.task)  # a single logit: explain it
    group = patch_size(tuple(x.shape[1:])) if x.dim() == 4 else 1
    results = {}
    for method in cfg.methods:
        explainer = posthoc_explainer(method, net, tuple(x.shape[1:]))
        start = time.perf_counter()
        attributions = explainer(x, classes)
        attributions_of_target = towards_classes(attributions, target, net.task)  # binary: signed to the prediction
        faithfulness = feature_faithfulness(net, x, attributions_of_target, target, cfg.faithfulness.feature_baseline,
                                            group)  # fmt: skip
        generator = torch.Generator().manual_seed(cfg.seed)
        stability = local_lipschitz(_stability_view(explainer, cfg), x, classes, s.epsilon, "sampling", s.budget,
                                    s.norm, generator=generator)  # fmt: skip
        results[method] = {
            "prediction": target,
            "attributions": attributions,
            "faithfulness": faithfulness,
            "stability": stability,
            "seconds": time.perf_counter() - start,
        }
    return results


def _on_cpu(result: dict[str, Any]) -> dict[str, Any]:
    """A method's results with every tensor on the CPU, for summaries, files and figures."""
    return {k: v.cpu() if isinstance(v, torch.Tensor | Explanation) else v for k, v in result.items()}


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Evaluate the SENN at ``cfg.ckpt_path`` (and the post-hoc baselines on ``cfg.baseline_ckpt_path``).

    Returns the summary written to ``metrics.json``: per method, the median / mean / quartiles of
    faithfulness and stability over the evaluated inputs, and the seconds they took.
    """
    torch.manual_seed(cfg.seed)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(cfg.get("device", "cpu"))
    module, baseline = _load_models(cfg, device)
    datamodule = load_data(cfg, module.data_config)
    size = datamodule.split_size(cfg.split)
    n = min(cfg.num_examples, size)
    order = torch.randperm(size, generator=torch.Generator().manual_seed(cfg.seed))[:n]
    x, y = datamodule.take(cfg.split, order)  # only the evaluated examples are read

    senn = _on_cpu(_senn_results(module, x.to(device), datamodule, cfg))
    methods: dict[str, dict[str, Any]] = {SENN_NAME: senn}
    if baseline is not None:
        methods.update({k: _on_cpu(v) for k, v in _posthoc_results(baseline, x.to(device), cfg).items()})

    summary: dict[str, Any] = {
        "ckpt_path": str(cfg.ckpt_path),
        "baseline_ckpt_path": str(cfg.baseline_ckpt_path) if baseline is not None else None,
        "split": cfg.split,
        "num_examples": n,
        "stability": OmegaConf.to_container(cfg.stability),
    }
    summary["methods"] = {name: _method_summary(result, y) for name, result in methods.items()}
    if cfg.get("like_for_like") is not None:  # stability within one space, on the same SENN
        summary["like_for_like"] = _like_for_like(module, x.to(device), senn, cfg)
    quality = None
    if cfg.split in datamodule.concepts:  # data with annotated concepts: the concept section, on the whole split
        quality = concept_quality(module, datamodule, cfg.split, seed=cfg.seed)
        summary["concepts"] = quality.summary()
    p, prototypes = cfg.prototypes, None
    if p.num_examples > 0 and x.dim() == 4:  # prototype pool: the first images of the evaluated split
        pool, _ = datamodule.head(cfg.split, p.num_examples)
        prototypes = concept_prototypes(module.model, pool, p.k, p.traversal_steps, p.feature_vis_steps)
        summary["concept_collapse"] = {"dead": prototypes.collapse.dead, "duplicates": prototypes.collapse.duplicates}
        if quality is not None:  # each learned concept titled with the true concept it matches best
            prototypes.concept_names = matched_names(quality)
    _write_tables(out, summary, methods, order, y)
    figures = _figures(methods, x, prototypes, cfg, out)
    if quality is not None:  # first, under the concept table
        figures = {**_concept_figures(quality, out), **figures}
    shown = range(min(cfg.examples_to_plot, len(x)))
    texts = {_explanation_caption(i): methods[SENN_NAME]["explanation"][i].to_text(
        10, [f"example {i + 1}"]) for i in shown}  # fmt: skip
    write_report(out / "report.html", summary, figures, texts)
    if cfg.get("wandb") and cfg.wandb.enabled:
        _log_wandb(cfg, summary, figures)
    return summary


def _load_models(cfg: DictConfig, device: torch.device) -> tuple[SENNModule, PlainModule | None]:
    """The SENN of ``cfg.ckpt_path`` and the plain network of ``cfg.baseline_ckpt_path`` (None without one), on
    ``device``; a file holding the other kind of model is refused, naming the fix."""
    module = load_checkpoint(cfg.ckpt_path, device)
    if not isinstance(module, SENNModule):
        raise ValueError(f"ckpt_path={cfg.ckpt_path} holds a {type(module).__name__}, not a SENN; "
                         "pass plain-network checkpoints as baseline_ckpt_path")  # fmt: skip
    baseline = load_checkpoint(cfg.baseline_ckpt_path, device) if cfg.get("baseline_ckpt_path") else None
    if baseline is not None and not isinstance(baseline, PlainModule):
        raise ValueError(f"baseline_ckpt_path={cfg.baseline_ckpt_path} holds a {type(baseline).__name__}, "
                         "not a plain network (train one with experiment=<name>_plain)")  # fmt: skip
    return module, baseline


def _method_summary(result: dict[str, Any], labels: torch.Tensor) -> dict[str, Any]:
    """One method's entry of ``metrics.json``: its accuracy on the labels, the statistics of its faithfulness
    and stability (and of the SENN's other stability estimates), and the seconds it took."""
    correct = (result["prediction"].view(-1) == labels.view(-1).long()).float().mean()
    entry = {
        "accuracy": float(correct),
        "faithfulness": summarize(result["faithfulness"].numpy()),
        "stability": summarize(result["stability"].numpy()),
        "seconds": round(result["seconds"], 2),
    }
    for extra in ("concept_stability", "stability_gradient"):
        if extra in result:
            entry[extra] = summarize(result[extra].numpy())
    return entry


def _write_tables(out: Path, summary: dict[str, Any], methods: dict[str, dict[str, Any]], order: torch.Tensor,
                  labels: torch.Tensor) -> None:  # fmt: skip
    """``metrics.json`` (the summary) and ``per_example.csv`` (a row per evaluated input and method)."""
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    with (out / "per_example.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["example", "label", "method", "prediction", "faithfulness", "stability"])
        for name, result in methods.items():
            for i in range(len(order)):
                writer.writerow([int(order[i]), int(labels[i]), name, int(result["prediction"][i]),
                                 float(result["faithfulness"][i]), float(result["stability"][i])])  # fmt: skip


def _figures(methods: dict[str, dict[str, Any]], x: torch.Tensor, prototypes: Prototypes | None, cfg: DictConfig,
             out: Path) -> dict[str, Path]:  # fmt: skip
    """Box plots, example explanations and prototype grids as PNG files; returns caption -> path."""
    figures = {
        "Faithfulness (higher is better)": save_figure(
            plot_metric_boxes({k: v["faithfulness"].numpy() for k, v in methods.items()}, "faithfulness",
                              "Pearson correlation", log=False), out / "faithfulness.png"),
        "Stability: local Lipschitz estimate, input mode (lower is better; the SENN's θ has K entries, post-hoc "
        "attributions one per input feature: different spaces, see the like-for-like table)": save_figure(
            plot_metric_boxes({k: v["stability"].numpy() for k, v in methods.items()}, "stability",
                              "local Lipschitz estimate"), out / "stability.png"),
    }  # fmt: skip
    shown = min(cfg.examples_to_plot, len(x))
    senn = methods[SENN_NAME]
    for i in range(shown):
        figures[_explanation_caption(i)] = save_figure(
            plot_explanation(senn["explanation"], x, i, prototypes=prototypes), out / f"explanation_{i + 1}.png"
        )
    attributions = {k: v["attributions"][:shown] for k, v in methods.items() if "attributions" in v}
    if attributions and shown > 0:
        figures["Post-hoc attributions of the same examples"] = save_figure(
            plot_attributions(x[:shown], attributions), out / "posthoc_examples.png"
        )
    if prototypes is not None:
        prototypes.export(out / "prototypes")
        figures["Concept prototypes: top examples by activation and by contrast, decoder traversals, feature "
                "visualisation"] = save_prototype_figures(prototypes, out / "prototypes")[0]  # fmt: skip
    return figures


def _explanation_caption(i: int) -> str:
    """The report's caption of the SENN's explanation of example ``i`` (0-based)."""
    return f"SENN explanation of example {i + 1}"


def matched_names(quality: ConceptQuality) -> list[str]:
    """Per learned concept: its number, the true concept it ranks best and that AUC ("no match" at chance)."""
    auc, names, learned = quality.alignment.auc, quality.concept_names, quality.learned_names
    return [
        f"{learned[i]}\n≈ {names[j]}\n(AUC {auc[i, j]:.2f})" if auc[i, j] > 0.5 else f"{learned[i]}\nno match"
        for i, j in enumerate(auc.argmax(1).tolist())
    ]


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


def _log_wandb(cfg: DictConfig, summary: dict[str, Any], figures: dict[str, Path]) -> None:
    """Log the figures and summary metrics to a wandb run (offline unless ``wandb.mode`` says otherwise)."""
    import wandb

    run = wandb.init(project=cfg.wandb.project, mode=cfg.wandb.mode, dir=str(cfg.output_dir), job_type="evaluate",
                     config=OmegaConf.to_container(cfg, resolve=True))  # fmt: skip
    run.log({caption: wandb.Image(str(path)) for caption, path in figures.items()})
    for method, entry in summary["methods"].items():
        for metric in ("faithfulness", "stability"):
            run.summary[f"{method}/{metric}_median"] = entry[metric]["median"]
    run.finish()
