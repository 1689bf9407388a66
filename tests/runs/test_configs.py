"""Every experiment preset composes, instantiates, and its model fits its data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from senn.config import config_dir
from senn.runs import check_compatible
from senn.runs.validation import validate_config
from senn.training import PlainModule, SENNModule
from tests.conftest import compose_train

EXPERIMENTS = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_presets_instantiate(experiment, tmp_path):
    table = []
    if experiment == "tabular":  # the preset for any table needs one
        frame = pd.DataFrame({"a": [0.1, 0.5, 0.2, 0.9, 0.3, 0.4], "y": ["no", "yes"] * 3})
        frame.to_csv(tmp_path / "t.csv", index=False)
        table = [f"data.path={tmp_path / 't.csv'}", "data.target=y"]
    cfg = compose_train([f"experiment={experiment}", f"output_dir={tmp_path}", *table])
    validate_config(cfg)  # fills in what the data determines
    datamodule = instantiate(cfg.data)  # reads nothing yet (a table: its columns)
    module = instantiate(cfg.model, _recursive_=False)
    assert isinstance(module, PlainModule if experiment.endswith("_plain") else SENNModule)
    check_compatible(datamodule, module.model)
    # The model takes the data's inputs and gives one output per class (one for a binary task).
    out = module.model.eval()(torch.zeros(2, *datamodule.input_shape))
    logits = out if isinstance(out, torch.Tensor) else out.logits
    assert logits.shape == (2, datamodule.num_classes) and torch.isfinite(logits).all()
    if isinstance(module, SENNModule):  # a relevance per (concept, output), the bias concept included
        assert out.relevances.shape == (2, out.concepts.shape[1], datamodule.num_classes)
    # Config keys are constructor arguments: every scalar the preset sets is the module's hyperparameter.
    scalars = {k: v for k, v in cfg.model.items() if k != "_target_" and not OmegaConf.is_config(v)}
    assert scalars and all(module.hparams[k] == v for k, v in scalars.items()), scalars
    for callback in cfg.callbacks.values():
        instantiate(callback)


def test_every_documented_preset_exists():
    assert {"mnist", "cifar10", "compas", "breast_cancer", "mnist_plain", "breast_cancer_plain"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("experiment", ["mnist", "breast_cancer"])
def test_plain_baseline_has_the_parametrizers_architecture(experiment, tmp_path):
    senn, base = (
        instantiate(compose_train([f"experiment={name}", f"output_dir={tmp_path}"]).model, _recursive_=False)
        for name in (experiment, f"{experiment}_plain")
    )
    theta, net = senn.model.parametrizer.net, base.model.network.net
    assert [type(m) for m in theta.modules()] == [type(m) for m in net.modules()]
    # Only the last layer differs: K·C outputs for θ, C for the plain network.
    shapes = [p.shape for p in theta.parameters()][:-2], [p.shape for p in net.parameters()][:-2]
    assert shapes[0] == shapes[1]


def test_paper_settings_of_the_mnist_preset(tmp_path):
    cfg = compose_train(["experiment=mnist", f"output_dir={tmp_path}"])
    assert cfg.model.conceptizer.num_concepts == 5
    assert (cfg.model.robustness_weight, cfg.model.sparsity_weight, cfg.model.optimizer.lr) == (1e-4, 2e-5, 2e-4)
    assert (cfg.data.batch_size, cfg.trainer.max_epochs) == (200, 5)


def test_concept_count_follows_the_conceptizer(tmp_path):
    cfg = compose_train(["experiment=mnist", "model.conceptizer.num_concepts=8", f"output_dir={tmp_path}"])
    module = instantiate(cfg.model, _recursive_=False)
    assert module.model(torch.zeros(2, 1, 28, 28)).relevances.shape == (2, 8, 10)


def test_model_that_does_not_fit_the_data_is_refused(tmp_path):
    cfg = compose_train(["experiment=compas", "model.aggregator.num_classes=2", "model.aggregator.task=multiclass",
                         f"output_dir={tmp_path}"])  # fmt: skip
    with pytest.raises(ValueError, match="num_classes=2 but COMPASDataModule has 1"):
        check_compatible(instantiate(cfg.data), instantiate(cfg.model, _recursive_=False).model)
    cfg = compose_train(["experiment=mnist", "data=cifar10", f"output_dir={tmp_path}"])
    with pytest.raises(ValueError, match=r"inputs of shape \(1, 28, 28\) but CIFAR10DataModule has \(3, 32, 32\)"):
        check_compatible(instantiate(cfg.data), instantiate(cfg.model, _recursive_=False).model)
