"""The LightningModule that trains a :class:`senn.SENN` with the paper's objective."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from senn.losses import (
    ESTIMATORS,
    PENALTIES,
    SPACES,
    classification_loss,
    concept_loss,
    reconstruction_loss,
    relative_relevance_variation,
    robustness_loss,
    sparsity_loss,
)
from senn.models import SENN, SENNOutput, SumAggregator
from senn.models.conceptizers import concepts_are_probabilities
from senn.models.intervene import replace_concepts
from senn.tasks import loss_name
from senn.training.base import ComponentSpec, SupervisedModule, build, plain


def _check_settings(settings: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the first of :class:`SENNModule`'s loss and regularizer settings out of range."""
    for name in ("robustness_weight", "reconstruction_weight", "sparsity_weight", "concept_weight"):
        if settings[name] < 0:
            raise ValueError(f"SENNModule: {name}={settings[name]} must be >= 0")
    for name, allowed in [
        ("robustness_estimator", ESTIMATORS),
        ("robustness_penalty", PENALTIES),
        ("robustness_space", SPACES),
    ]:
        if settings[name] not in allowed:
            raise ValueError(f"SENNModule: {name}={settings[name]!r} is not one of {allowed}")
    if settings["robustness_every_n_steps"] < 1:
        raise ValueError(f"SENNModule: robustness_every_n_steps={settings['robustness_every_n_steps']} must be >= 1")
    examples = settings["robustness_eval_examples"]
    if examples is not None and examples < 1:
        raise ValueError(f"SENNModule: robustness_eval_examples={examples} must be >= 1 or null")


class SENNModule(SupervisedModule):
    """Trains a SENN with ``L = L_y + λ·L_θ + reconstruction_weight·MSE + sparsity_weight·||h||_1``,
    plus ``concept_weight`` times the concept loss on annotated data and β·KL for a variational encoder.

    The components are modules or Hydra configs (dicts with ``_target_``); given as configs they are
    stored in the checkpoint's hyperparameters, so ``SENNModule.load_from_checkpoint(path)`` rebuilds
    the model with no arguments and ``.model`` is the :class:`senn.SENN`.

    The paper writes the concept term as ``ξ·(reconstruction + ζ·sparsity)``; ``reconstruction_weight``
    is ξ and ``sparsity_weight`` is ξ·ζ.

    Concept supervision: on data whose batches carry annotations ``(x, y, concepts (B, M))``, the
    first M concepts are trained towards them with binary cross-entropy (see
    :func:`senn.losses.concept_loss`), the other K − M stay free. Unsupervised (``concept_weight=0``),
    partly supervised (annotations withheld for some examples, ``data.concept_fraction < 1``) and
    fully supervised are the same model.

    Args:
        conceptizer: the conceptizer h, or its config.
        parametrizer: the relevance parametrizer θ, or its config.
        aggregator: the aggregator g, or its config.
        robustness_weight: λ, the weight of the stability regularizer (0 turns it off).
        robustness_penalty: ``"residual"`` (the paper's ``||J_x f − θᵀ J_x h||``) or ``"relative_relevances"``
            (``||J_x θ_·c|| / ||θ_·c||``: independent of the concepts' scale; see
            :func:`senn.losses.relative_relevance_variation`).
        robustness_space: ``"input"`` (the paper: Jacobians w.r.t. x) or ``"features"``: w.r.t. the pretrained
            backbone's features that h and θ share, so the penalty costs a pass through the heads only; it
            bounds the input-space one times the backbone's Lipschitz constant.
        robustness_eval_examples: validation and test measure L_θ exactly (C VJPs per batch, the costliest
            part of a default run's evaluation) on evenly spaced batches covering this many examples (per
            process); null: every example. Their ``loss`` is the objective without λ·L_θ.
        robustness_every_n_steps: k; training computes L_θ on every k-th batch only, weighted k·λ there (the
            "lazy regularization" of StyleGAN2's R1 penalty): the same objective on average, at about 1/k of
            the regularizer's cost. 1 (the default) is the paper's every-step objective.
        reconstruction_weight: weight of the autoencoder's reconstruction MSE.
        sparsity_weight: weight of the concepts' L1 norm.
        concept_weight: weight of the concept loss against annotations (0: unsupervised concepts).
        intervention_probability: in training, each annotated concept is replaced by its annotation with
            this probability before the aggregator (concept-embedding models' "RandInt"), so that θ learns
            to use true concept values; needs sigmoid concepts. 0 turns it off.
        robustness_estimator: ``"projection"`` (default: one VJP per step, and exact for single-output
            models), ``"exact"`` (C VJPs) or ``"jacobian"`` (see :mod:`senn.losses.robustness`).
        num_projections: projections per sample for the ``"projection"`` estimator.
        optimizer: a partial optimizer config (``_target_`` + ``_partial_: true`` + arguments),
            called with the parameters; default Adam with lr 2e-4.
        input_shape: shape of one input, for the construction-time shape check (default: the
            conceptizer's ``input_shape``).
        concept_names: a name per concept, for explanations (``senn-train`` names identity concepts
            after their features).
        class_names: a name per class (binary: the negative, then the positive class); from the data.
        feature_names: a name per input feature of tabular data; from the data.
    """

    def __init__(
        self,
        conceptizer: ComponentSpec,
        parametrizer: ComponentSpec,
        aggregator: ComponentSpec,
        robustness_weight: float = 1e-4,
        robustness_penalty: str = "residual",
        robustness_space: str = "input",
        robustness_eval_examples: int | None = 1000,
        robustness_every_n_steps: int = 1,
        reconstruction_weight: float = 1.0,
        sparsity_weight: float = 2e-5,
        concept_weight: float = 0.0,
        intervention_probability: float = 0.0,
        robustness_estimator: str = "projection",
        num_projections: int = 1,
        optimizer: Mapping[str, Any] | None = None,
        input_shape: list[int] | None = None,
        concept_names: list[str] | None = None,
        class_names: list[str] | None = None,
        feature_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        _check_settings(locals())
        specs = {"conceptizer": conceptizer, "parametrizer": parametrizer, "aggregator": aggregator}
        self.save_hyperparameters(ignore=[name for name, spec in specs.items() if isinstance(spec, nn.Module)])
        self.hparams.update({name: plain(value) for name, value in self.hparams.items()})
        self.model = SENN(build(conceptizer), build(parametrizer), build(aggregator), input_shape)
        self._set_names(class_names, feature_names, concept_names)
        if not 0 <= intervention_probability <= 1:
            raise ValueError(f"SENNModule: intervention_probability={intervention_probability} must be in [0, 1]")
        if robustness_space == "features" and self.model.backbone is None:
            raise ValueError(
                "SENNModule: robustness_space='features' differentiates w.r.t. the backbone features h and θ "
                "share: use model/conceptizer=backbone with model/parametrizer=backbone"
            )
        self.probability_concepts = concepts_are_probabilities(self.model.conceptizer)
        if intervention_probability > 0 and not self.probability_concepts:
            raise ValueError(
                "SENNModule: intervention_probability > 0 puts 0 / 1 annotations in place of concepts, so the "
                "concepts must be probabilities: set model.conceptizer.activation=sigmoid"
            )
        # Validation and test always report the exact value, whatever estimator trains.
        self.eval_estimator = "exact" if isinstance(self.model.aggregator, SumAggregator) else "jacobian"
        self._init_metrics()

    def forward(self, x: torch.Tensor) -> SENNOutput:
        """Run the SENN."""
        return self.model(x)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str, batch_idx: int = 0) -> torch.Tensor:
        """Forward pass, every loss term, metrics and logging for one batch of ``stage``."""
        if not torch.is_grad_enabled():  # val / test: the robustness term needs input gradients
            with torch.inference_mode(False), torch.enable_grad():
                return self._step(tuple(t.clone() for t in batch), stage, batch_idx)  # not inference tensors
        x, y, *annotations = batch
        hp = self.hparams
        conceptizer = self.model.conceptizer
        regularize = self._measures_robustness(stage, batch_idx, len(x))
        inputs = x  # what the regularizer differentiates w.r.t.: x, or the backbone's features
        if regularize and hp.robustness_space == "features":
            inputs = self.model.backbone(x)
            inputs = inputs if inputs.requires_grad else inputs.detach().requires_grad_(True)  # a frozen backbone
            out = self.model.from_features(inputs)
        else:
            if regularize:
                x = inputs = x.detach().requires_grad_(True)
            out = self.model(x)
        logits = out.logits
        if stage == "train" and annotations and hp.intervention_probability > 0:
            logits = self._intervened_logits(out, annotations[0])
        # Only the parts in use are computed and reported: no reconstruction without a decoder, no
        # sparsity at weight 0 (the identity "concepts" are the raw features). The robustness term is
        # also a measurement: val / test report it on the batches _measures_robustness picks.
        loss = classification_loss(logits, y, self.model.task)
        terms = {loss_name(self.model.task): loss}
        if out.reconstruction is not None and hp.reconstruction_weight > 0:
            terms["reconstruction_loss"] = reconstruction_loss(out.reconstruction, x.detach())
            loss = loss + hp.reconstruction_weight * terms["reconstruction_loss"]
        if hp.sparsity_weight > 0:
            terms["sparsity_loss"] = sparsity_loss(out.concepts)
            loss = loss + hp.sparsity_weight * terms["sparsity_loss"]
        if getattr(conceptizer, "variational", False):
            terms["kl_loss"] = conceptizer.kl_loss()
            loss = loss + conceptizer.beta * terms["kl_loss"]
        if annotations and hp.concept_weight > 0:
            terms["concept_loss"] = concept_loss(out.concepts, annotations[0], probabilities=self.probability_concepts)
            loss = loss + hp.concept_weight * terms["concept_loss"]
        if regularize:
            terms["robustness_loss"] = self.robustness_term(inputs, out, stage)
        if regularize and stage == "train":
            loss = loss + hp.robustness_weight * hp.robustness_every_n_steps * terms["robustness_loss"]
        self._log_metrics(stage, logits, y, {"loss": loss, **terms})
        return loss

    def _measures_robustness(self, stage: str, batch_idx: int, batch_size: int) -> bool:
        """Whether this batch computes L_θ: in training when λ > 0, every k-th batch; in val / test on evenly
        spaced batches that cover ``robustness_eval_examples`` (splits can be ordered: MNIST's test set puts its
        easier half first)."""
        wanted = self.hparams.robustness_eval_examples
        if stage == "train":
            return self.hparams.robustness_weight > 0 and batch_idx % self.hparams.robustness_every_n_steps == 0
        if wanted is None:
            return True
        wanted = math.ceil(wanted / batch_size)  # batches
        trainer = self._trainer
        counts = None if trainer is None else trainer.num_val_batches if stage == "val" else trainer.num_test_batches
        total = counts[0] if counts else None
        every = max(1, int(total) // wanted) if total and total != float("inf") else 1
        return batch_idx % every == 0 and batch_idx // every < wanted

    def _intervened_logits(self, out: SENNOutput, annotations: torch.Tensor) -> torch.Tensor:
        """Logits with each annotated concept replaced by its annotation with ``intervention_probability``.

        θ(x) is kept, so the relevances learn to map *true* concept values to the label instead of
        compensating for the encoder's mistakes, which is what makes test-time interventions work.
        """
        chosen = (torch.rand_like(annotations) < self.hparams.intervention_probability) & ~torch.isnan(annotations)
        columns = torch.arange(annotations.shape[1], device=annotations.device)  # the first M concepts
        return self.model.aggregator(replace_concepts(out.concepts, columns, annotations, chosen), out.relevances)

    def robustness_term(self, x: torch.Tensor, out: SENNOutput, stage: str) -> torch.Tensor:
        """L_θ of the batch, the configured penalty: its estimate in training, its exact value in val/test.

        ``x`` requires grad and ``out`` is ``self.model(x)``; subclasses may train another variant
        (see ``experiments/published_formulation.py``).
        """
        if self.hparams.robustness_penalty == "relative_relevances":
            return relative_relevance_variation(
                self.model, x, exact=stage != "train", output=out, num_projections=self.hparams.num_projections
            ).mean()
        estimator = self.hparams.robustness_estimator if stage == "train" else self.eval_estimator
        return robustness_loss(self.model, x, estimator, output=out, num_projections=self.hparams.num_projections)

    def backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        """Backpropagate into the parameters only: the input gradient is never used, so skip it."""
        loss.backward(*args, inputs=[p for p in self.parameters() if p.requires_grad], **kwargs)
