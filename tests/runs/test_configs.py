"""Every experiment preset composes, instantiates, and its model fits its data."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from senn.config import config_dir
from senn.runs import check_compatible, fill_from_data
from senn.runs.validation import validate_config
from senn.training import PlainModule, SENNModule
from tests.conftest import build_module, compose_train
from tests.standins import write_cub

EXPERIMENTS = sorted(p.stem for p in (Path(config_dir()) / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_presets_instantiate(experiment, tmp_path):
    table = []
    if experiment == "tabular":  # the preset for any table needs one
        frame = pd.DataFrame({"a": [0.1, 0.5, 0.2, 0.9, 0.3, 0.4], "y": ["no", "yes"] * 3})
        frame.to_csv(tmp_path / "t.csv", index=False)
        table = [f"data.path={tmp_path / 't.csv'}", "data.target=y"]
    elif experiment.startswith("cub"):  # a small archive in CUB's layout; no ImageNet weights download here
        table = [f"data.data_dir={write_cub(tmp_path)}", "data.min_classes=2", "model.conceptizer.weights=none"]
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
        build_module([f"experiment={name}", f"output_dir={tmp_path}"]) for name in (experiment, f"{experiment}_plain")
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
    module = build_module(["experiment=mnist", "model.conceptizer.num_concepts=8", f"output_dir={tmp_path}"])
    assert module.model(torch.zeros(2, 1, 28, 28)).relevances.shape == (2, 8, 10)
    module = build_module(["experiment=shapes", "model.conceptizer.bias=true", f"output_dir={tmp_path}"])
    assert module.model.conceptizer.num_concepts == 5 and module.model.parametrizer.num_concepts == 6  # K + bias


def test_every_size_comes_from_the_data(tmp_path):
    """One preset on other data: the sizes follow the data (no preset states a size the data supplies)."""
    module = build_module(["experiment=mnist", "data=cifar10", f"output_dir={tmp_path}"])
    assert module.model(torch.zeros(2, 3, 32, 32)).relevances.shape == (2, 5, 10)
    assert module.model.conceptizer.input_shape == module.model.parametrizer.input_shape == (3, 32, 32)


def test_model_that_does_not_fit_the_data_is_refused(tmp_path):
    """A model built for one data set (its sizes filled from it), checked against another."""
    for preset, other, message in [
        ("compas", "data=breast_cancer", "the model takes inputs of shape (11,) but BreastCancerDataModule has (30,)"),
        ("mnist", "data=cifar10", "inputs of shape (1, 28, 28) but CIFAR10DataModule has (3, 32, 32)"),
        ("mnist", "experiment=compas", "num_classes=10 but COMPASDataModule has 1"),
    ]:
        cfg = compose_train([f"experiment={preset}", f"output_dir={tmp_path}"])
        fill_from_data(cfg.model, instantiate(cfg.data))
        elsewhere = instantiate(compose_train([other, f"output_dir={tmp_path}"]).data)
        with pytest.raises(ValueError, match=re.escape(message)):
            check_compatible(elsewhere, instantiate(cfg.model, _recursive_=False).model)
