"""``evaluate(cfg)``: faithfulness and stability of a SENN and of post-hoc explainers on the same inputs.

The measuring is here; :mod:`senn.evaluation.outputs` writes what it found to ``cfg.output_dir``:
``metrics.json`` (an :class:`~senn.evaluation.results.Evaluation`), ``per_example.csv``, PNG figures,
prototype arrays and figures, and a self-contained ``report.html``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from senn.checkpoints import load_checkpoint
from senn.data.base import SplitDataModule
from senn.evaluation.concept_quality import concept_quality
from senn.evaluation.outputs import log_wandb, write_outputs
from senn.evaluation.results import Evaluation, MethodRun, SpaceScore, StabilitySettings, Stats
from senn.explain import explain
from senn.explain.posthoc import SENNLogits, concept_layer_explainer, patch_size, posthoc_explainer
from senn.explain.prototypes import concept_activations, concept_prototypes
from senn.explore import write_explorer
from senn.metrics import (
    Explainer,
    concept_faithfulness,
    concept_lipschitz,
    feature_faithfulness,
    local_lipschitz,
    normalized,
    senn_explainer,
    senn_input_explainer,
)
from senn.models import SENN, IdentityConceptizer
from senn.models.utils import resolve_device
from senn.tasks import explained_output, predict, towards_classes
from senn.training import PlainModule, SENNModule

SENN_NAME = "senn"
CONCEPT_SPACE = "concept space (K entries per explanation)"
INPUT_SPACE = "input space (one entry per input feature)"
MEDIAN_SAMPLE = 10_000
"""Training examples whose feature medians are the removal baseline of identity concepts."""


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


def stability(
    explainer: Explainer,
    x: torch.Tensor,
    target: torch.Tensor,
    s: StabilitySettings,
    seed: int,
    estimator: str = "sampling",
) -> torch.Tensor:
    """Per-input local Lipschitz estimate (N,) of ``explainer``, normalized as ``s`` says, seeded by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return local_lipschitz(
        normalized(explainer, s.normalize), x, target, estimator=estimator, generator=generator, **s.ball
    )


def senn_run(senn: SENN, x: torch.Tensor, baseline: float | torch.Tensor, s: StabilitySettings, seed: int) -> MethodRun:
    """The SENN's own faithfulness (concept removal to ``baseline``) and stability (input and concept mode, and
    input mode by gradient ascent)."""
    start = time.perf_counter()
    explanation = explain(senn, x)
    target = explanation.target  # the explained output column
    faithfulness = concept_faithfulness(senn, x, baseline=baseline)
    sampled = stability(senn_explainer(senn), x, target, s, seed)
    concept_stability = concept_lipschitz(senn, x, generator=torch.Generator().manual_seed(seed), **s.ball)
    return MethodRun(
        prediction=explanation.prediction,
        faithfulness=faithfulness,
        stability=sampled,
        seconds=time.perf_counter() - start,
        explanation=explanation,
        concept_stability=concept_stability,
        stability_gradient=stability(senn_explainer(senn), x, target, s, seed, "gradient"),
    )


def removal_baseline(senn: SENN, datamodule: SplitDataModule) -> float | torch.Tensor:
    """What a removed concept is set to: 0, or for raw-feature concepts the training split's feature medians."""
    if not isinstance(senn.conceptizer, IdentityConceptizer):
        return 0.0
    train_x, _ = datamodule.head("train", MEDIAN_SAMPLE)
    return concept_activations(senn, train_x).median(0).values


def posthoc_runs(
    net: torch.nn.Module,
    x: torch.Tensor,
    methods: Sequence[str],
    s: StabilitySettings,
    feature_baseline: float,
    seed: int,
) -> dict[str, MethodRun]:
    """Feature-removal faithfulness and input-mode stability of every post-hoc method on the plain network."""
    net.eval()
    with torch.no_grad():
        target = predict(net(x), net.task)
    classes = explained_output(target, net.task)  # a single logit: explain it
    group = patch_size(tuple(x.shape[1:])) if x.dim() == 4 else 1
    runs = {}
    for method in methods:
        explainer = posthoc_explainer(method, net, tuple(x.shape[1:]))
        start = time.perf_counter()
        attributions = explainer(x, classes)
        towards_target = towards_classes(attributions, target, net.task)  # binary: signed to the prediction
        faithfulness = feature_faithfulness(net, x, towards_target, target, feature_baseline, group, task=net.task)
        runs[method] = MethodRun(
            prediction=target,
            faithfulness=faithfulness,
            stability=stability(explainer, x, classes, s, seed),
            seconds=time.perf_counter() - start,
            attributions=attributions,
        )
    return runs


def like_for_like(
    senn: SENN,
    x: torch.Tensor,
    own: MethodRun,
    concept_methods: Sequence[str],
    input_methods: Sequence[str],
    s: StabilitySettings,
    seed: int,
) -> dict[str, dict[str, SpaceScore]]:
    """Stability of explanations that live in the same space, all of the same SENN: its θ (``own``, measured
    already) against Captum's attributions to its concepts (K numbers each), and θ mapped to the input
    (θᵀ J_x h) against Captum's attributions to its pixels / features (x's shape)."""
    target = own.explanation.target.to(x.device)  # the explained output column
    spaces = {
        CONCEPT_SPACE: {m: concept_layer_explainer(m, senn) for m in concept_methods},
        INPUT_SPACE: {
            "senn θᵀ J_x h": senn_input_explainer(senn),
            **{m: posthoc_explainer(m, SENNLogits(senn), tuple(x.shape[1:])) for m in input_methods},
        },
    }
    results = {CONCEPT_SPACE: {"senn θ": SpaceScore(Stats.of(own.stability))}, INPUT_SPACE: {}}
    for space, explainers in spaces.items():
        for name, explainer in explainers.items():
            start = time.perf_counter()
            values = stability(explainer, x, target, s, seed)
            results[space][name] = SpaceScore(Stats.of(values), round(time.perf_counter() - start, 2))
    return results


def evaluate(cfg: DictConfig) -> Evaluation:
    """Evaluate the SENN at ``cfg.ckpt_path`` (and the post-hoc baselines on ``cfg.baseline_ckpt_path``), write
    the files, figures and report to ``cfg.output_dir``, and return what was measured."""
    if cfg.num_examples < 1:
        raise ValueError(f"num_examples={cfg.num_examples}: evaluate at least one input")
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.get("device", "cpu"))
    module, baseline = _load_models(cfg, device)
    datamodule = load_data(cfg, module.data_config)
    size = datamodule.split_size(cfg.split)
    order = torch.randperm(size, generator=torch.Generator().manual_seed(cfg.seed))[: min(cfg.num_examples, size)]
    x, y = datamodule.take(cfg.split, order)  # only the evaluated examples are read
    s, senn, on_device = StabilitySettings(**cfg.stability), module.model, x.to(device)
    runs = {SENN_NAME: senn_run(senn, on_device, removal_baseline(senn, datamodule), s, cfg.seed).cpu()}
    if baseline is not None:
        posthoc = posthoc_runs(baseline.model, on_device, cfg.methods, s, cfg.faithfulness.feature_baseline, cfg.seed)
        runs.update({name: run.cpu() for name, run in posthoc.items()})
    spaces, quality, prototypes, c, p = None, None, None, cfg.get("like_for_like"), cfg.prototypes
    if c:  # stability within one space, on the same SENN
        spaces = like_for_like(senn, on_device, runs[SENN_NAME], c.concept_methods, c.input_methods, s, cfg.seed)
    if cfg.split in datamodule.concepts:  # data with annotated concepts: the concept section, on the whole split
        quality = concept_quality(module, datamodule, cfg.split, seed=cfg.seed)
    if p.num_examples > 0 and x.dim() == 4:  # prototype pool: the first images of the evaluated split
        pool, _ = datamodule.head(cfg.split, p.num_examples)
        prototypes = concept_prototypes(senn, pool, p.k, p.traversal_steps, p.feature_vis_steps)
        if quality is not None:  # each learned concept titled with the true concept it matches best
            prototypes.concept_names = quality.matched_names()
    evaluation = Evaluation(
        ckpt_path=str(cfg.ckpt_path),
        baseline_ckpt_path=str(cfg.baseline_ckpt_path) if baseline else None,
        split=cfg.split,
        num_examples=len(order),
        stability=s,
        methods={k: r.scores(y, senn.task) for k, r in runs.items()},
        like_for_like=spaces,
        concepts=quality,
        concept_collapse=prototypes.collapse if prototypes else None,
    )
    figures = write_outputs(cfg.output_dir, evaluation, runs, x, order, y, prototypes, cfg.examples_to_plot)
    e = cfg.get("explorer")
    if e and e.num_examples > 0:  # the interactive page, from the same split
        write_explorer(Path(cfg.output_dir) / "explorer.html", module, datamodule, split=cfg.split,
                       num_examples=e.num_examples, seed=cfg.seed, feature_vis_steps=e.feature_vis_steps,
                       title=f"senn explorer: {cfg.ckpt_path}")  # fmt: skip
    if cfg.get("wandb") and cfg.wandb.enabled:
        log_wandb(cfg, evaluation, figures)
    return evaluation


def _load_models(cfg: DictConfig, device: torch.device) -> tuple[SENNModule, PlainModule | None]:
    """The SENN of ``cfg.ckpt_path`` and the plain network of ``cfg.baseline_ckpt_path`` (None without one), on
    ``device``; a file holding the other kind of model is refused, naming the fix."""
    module = load_checkpoint(cfg.ckpt_path, device)
    if not isinstance(module, SENNModule):
        raise ValueError(
            f"ckpt_path={cfg.ckpt_path} holds a {type(module).__name__}, not a SENN; pass plain-network "
            "checkpoints as baseline_ckpt_path"
        )
    baseline = load_checkpoint(cfg.baseline_ckpt_path, device) if cfg.get("baseline_ckpt_path") else None
    if baseline is not None and not isinstance(baseline, PlainModule):
        raise ValueError(
            f"baseline_ckpt_path={cfg.baseline_ckpt_path} holds a {type(baseline).__name__}, not a plain "
            "network (train one with experiment=<name>_plain)"
        )
    if baseline is not None and _interface(baseline.model) != _interface(module.model):
        raise ValueError(
            f"baseline_ckpt_path={cfg.baseline_ckpt_path} has (input shape, outputs, task) {_interface(baseline.model)}"
            f", the SENN {_interface(module.model)}: explainers are compared on one data set, so train the baseline "
            "on the SENN's (experiment=<name>_plain)"
        )
    return module, baseline


def _interface(model: torch.nn.Module) -> tuple[Any, ...]:
    """What a model takes and gives: its input shape, number of outputs and task."""
    shape = getattr(model, "input_shape", None)
    return (tuple(shape) if shape is not None else None, model.num_classes, model.task)
