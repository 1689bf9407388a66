"""SENNModule: every loss term logged, the objective's weights, and checkpoints that rebuild the model."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch

from senn.data import SyntheticDataModule
from senn.models import SENN, IdentityConceptizer, MLPParametrizer, SumAggregator
from senn.training import SENNModule

COMPONENTS = {
    "conceptizer": {"_target_": "senn.models.MLPConceptizer", "in_features": 10, "num_concepts": 4},
    "parametrizer": {"_target_": "senn.models.MLPParametrizer", "in_features": 10, "num_concepts": 4,
                     "num_classes": 3},
    "aggregator": {"_target_": "senn.models.SumAggregator", "num_classes": 3},
}  # fmt: skip


def fit(module: SENNModule, tmp_path, epochs: int = 2) -> pl.Trainer:
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", logger=False, enable_progress_bar=False,
        default_root_dir=tmp_path, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(num_samples=300, batch_size=50))
    return trainer


def test_logs_every_term_on_train_and_val(tmp_path):
    trainer = fit(SENNModule(**COMPONENTS, optimizer={"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-2}),
                  tmp_path)  # fmt: skip
    logged = set(trainer.callback_metrics)
    for stage in ("train", "val"):
        for term in ("loss", "acc", "classification_loss", "reconstruction_loss", "sparsity_loss", "robustness_loss"):
            name = f"{stage}/{term}_epoch" if stage == "train" and term in ("loss", "acc") else f"{stage}/{term}"
            assert name in logged, name
    assert trainer.callback_metrics["val/robustness_loss"] > 0


def test_objective_weights_the_terms():
    module = SENNModule(**COMPONENTS, robustness_weight=0.5, reconstruction_weight=2.0, sparsity_weight=0.1)
    logged = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, value)
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    loss = module.training_step((x, y), 0)
    expected = (logged["train/classification_loss"] + 0.5 * logged["train/robustness_loss"]
                + 2.0 * logged["train/reconstruction_loss"] + 0.1 * logged["train/sparsity_loss"])  # fmt: skip
    torch.testing.assert_close(loss.detach(), expected)


def test_without_regularizer_training_skips_it_but_validation_reports_it(tmp_path):
    trainer = fit(SENNModule(**COMPONENTS, robustness_weight=0.0), tmp_path, epochs=1)
    assert "train/robustness_loss" not in trainer.callback_metrics
    assert "val/robustness_loss" in trainer.callback_metrics


def test_relative_relevance_penalty_trains_on_its_estimate_and_reports_its_exact_value():
    from senn.losses import relative_relevance_variation

    module = SENNModule(**COMPONENTS, robustness_weight=0.5, robustness_penalty="relative_relevances").double()
    logged = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, value)
    x, y = torch.randn(8, 10, dtype=torch.float64), torch.randint(0, 3, (8,))
    loss = module.training_step((x, y), 0)
    assert logged["train/robustness_loss"] > 0
    expected = (logged["train/classification_loss"] + 0.5 * logged["train/robustness_loss"]
                + logged["train/reconstruction_loss"] + 2e-5 * logged["train/sparsity_loss"])  # fmt: skip
    torch.testing.assert_close(loss.detach(), expected)
    module.eval().validation_step((x, y), 0)
    exact = relative_relevance_variation(module.model, x, exact=True).mean()
    torch.testing.assert_close(logged["val/robustness_loss"].detach(), exact)


def test_checkpoint_rebuilds_the_senn(tmp_path):
    module = SENNModule(**COMPONENTS, robustness_estimator="projection")
    trainer = fit(module, tmp_path, epochs=1)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    loaded = SENNModule.load_from_checkpoint(path)
    assert isinstance(loaded.model, SENN)
    assert loaded.hparams.robustness_estimator == "projection"
    x = torch.randn(5, 10)
    torch.testing.assert_close(loaded.model.eval()(x).logits, module.model.eval()(x).logits)


def test_modules_can_be_passed_directly(tmp_path):
    module = SENNModule(IdentityConceptizer(10), MLPParametrizer(10, 10, 3), SumAggregator(3))
    fit(module, tmp_path, epochs=1)
    assert "conceptizer" not in module.hparams


@pytest.mark.parametrize(
    "kwargs,match",
    [({"robustness_weight": -1}, "robustness_weight=-1"), ({"sparsity_weight": -0.1}, "sparsity_weight=-0.1"),
     ({"robustness_estimator": "fast"}, "robustness_estimator='fast'"),
     ({"robustness_penalty": "jacobian"}, "robustness_penalty='jacobian' is not one of")],
)  # fmt: skip
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SENNModule(**COMPONENTS, **kwargs)


def test_feature_space_regularizer_differentiates_through_the_heads_only():
    from senn.losses import robustness_loss
    from tests.models.test_backbones import backbone_senn

    model = backbone_senn(frozen=False)
    module = SENNModule(model.conceptizer, model.parametrizer, model.aggregator, robustness_weight=0.5,
                        robustness_space="features", robustness_estimator="exact")  # fmt: skip
    logged = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, value)
    x, y = torch.randn(4, 3, 16, 16), torch.randint(0, 3, (4,))
    loss = module.training_step((x, y), 0)
    features = module.model.backbone(x).detach().requires_grad_(True)  # the heads' Jacobian, from a leaf copy
    expected = robustness_loss(module.model, features, "exact", output=module.model.from_features(features))
    torch.testing.assert_close(logged["train/robustness_loss"].detach(), expected.detach())
    loss.backward()
    assert module.model.backbone.net.conv1.weight.grad is not None  # the backbone still trains
    with pytest.raises(ValueError, match="robustness_space='features'"):
        SENNModule(**COMPONENTS, robustness_space="features")


def test_evaluation_without_a_trainer_measures_the_first_examples_and_leaves_the_regularizer_out_of_the_loss():
    def logged_per_batch(module: SENNModule, batch_indices: list[int]) -> list[dict[str, float]]:
        batches = []
        module.log = lambda name, value, **kw: batches[-1].__setitem__(name, value)
        x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
        for batch_idx in batch_indices:
            batches.append({})
            module.validation_step((x, y), batch_idx)
        return batches

    module = SENNModule(**COMPONENTS, robustness_weight=0.5, robustness_eval_examples=16).eval()
    batches = logged_per_batch(module, [0, 1, 2])  # examples 0-15 are measured, 16-23 are not
    assert ["val/robustness_loss" in b for b in batches] == [True, True, False]
    for b in batches:  # the loss is the data-fit objective whether the regularizer was measured or not
        expected = b["val/classification_loss"] + b["val/reconstruction_loss"] + 2e-5 * b["val/sparsity_loss"]
        torch.testing.assert_close(b["val/loss"], expected)
    everything = SENNModule(**COMPONENTS, robustness_eval_examples=None).eval()
    assert "val/robustness_loss" in logged_per_batch(everything, [99])[0]


def test_evaluation_spreads_the_measured_batches_over_the_split(tmp_path):
    module = SENNModule(**COMPONENTS, robustness_eval_examples=10)
    measured = []
    term = module.robustness_term
    module.robustness_term = lambda x, out, stage: measured.append(stage) or term(x, out, stage)
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                         default_root_dir=tmp_path, enable_model_summary=False, num_sanity_val_steps=0)  # fmt: skip
    datamodule = SyntheticDataModule(num_samples=600, batch_size=5)  # 60 validation rows: 12 batches
    trainer.fit(module, datamodule=datamodule)
    assert trainer.num_val_batches[0] == 12 and measured.count("val") == 2  # batches 0 and 6
    assert module._measures_robustness("val", 6, 5) and not module._measures_robustness("val", 3, 5)


def test_lazy_regularization_computes_the_term_every_k_steps_weighted_k():
    module = SENNModule(**COMPONENTS, robustness_weight=0.5, robustness_every_n_steps=3)
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    logged = {}
    module.log = lambda name, value, **kw: logged.__setitem__(name, value)
    for batch_idx in range(4):
        logged.clear()
        loss = module.training_step((x, y), batch_idx)
        data = (logged["train/classification_loss"] + logged["train/reconstruction_loss"]
                + 2e-5 * logged["train/sparsity_loss"])  # fmt: skip
        if batch_idx % 3 == 0:  # batches 0 and 3
            torch.testing.assert_close(loss.detach(), data + 3 * 0.5 * logged["train/robustness_loss"])
        else:
            assert "train/robustness_loss" not in logged
            torch.testing.assert_close(loss.detach(), data)
    with pytest.raises(ValueError, match="robustness_every_n_steps=0"):
        SENNModule(**COMPONENTS, robustness_every_n_steps=0)
