"""Config validation: every mistake named (key, value, what is allowed) before data is read or weights exist."""

from __future__ import annotations

import pickle
import re

import pytest
import torch
from hydra import compose, initialize_config_dir

from senn.config import config_dir
from senn.runs import train
from senn.runs.validation import ConfigError, validate_config


def compose_train(overrides: list[str], tmp_path):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        # data_dir points at an empty folder: reading it would fail with DataNotFoundError, not ConfigError
        return compose("train", overrides=[*overrides, f"output_dir={tmp_path}", f"++data.data_dir={tmp_path}",
                                           "logger=none"])  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.conceptizer.num_concepts=0"], "model.conceptizer.num_concepts=0: must be an integer >= 1"),
        (["model.robustness_weight=-0.1"], "model.robustness_weight=-0.1: must be a number >= 0"),
        (["model.sparsity_weight=-1"], "model.sparsity_weight=-1: must be a number >= 0"),
        (["model.robustness_estimator=fast"], "model.robustness_estimator='fast': must be one of"),
        (["model.robustness_penalty=theta"], "model.robustness_penalty='theta': must be one of"),
        (["model.parametrizer.output_activation=relu"], "model.parametrizer.output_activation='relu': must be one of"),
        (["model.optimizer.lr=0"], "model.optimizer.lr=0: must be a number > 0"),
        (["data._target_=senn.data.ImageNetDataModule"], "data._target_='senn.data.ImageNetDataModule': no such class"),
        (["model.parametrizer._target_=senn.models.ResNetParametrizer"], "no such class"),
        (["+model.conceptizer.widht=3"], "model.conceptizer.widht: not an argument of senn.models.ConvConceptizer"),
        (["trainer.strategy=ddpp"], "trainer.strategy='ddpp': unknown"),
        (
            ["model.conceptizer.image_size=32", "model.parametrizer.image_size=32"],
            "the model takes inputs of shape (1, 32, 32) but MNISTDataModule has",
        ),
        (
            ["model.conceptizer.image_size=32"],
            "the conceptizer takes inputs of shape (1, 32, 32), the parametrizer (1, 28, 28)",
        ),
        (["model.aggregator.num_classes=7", "model.parametrizer.num_classes=7"], "num_classes=7 but MNISTDataModule"),
        (["model.parametrizer.num_concepts=4"], "set the parametrizer's num_concepts to 5"),
        (["model.conceptizer.activation=softplus"], "model.conceptizer.activation='softplus': must be one of"),
        (["model.concept_weight=-1"], "model.concept_weight=-1: must be a number >= 0"),
        (["model.intervention_probability=2"], "model.intervention_probability=2: must be a number in [0, 1]"),
    ],
)
def test_invalid_values_are_named_before_anything_runs(overrides, message, tmp_path):
    cfg = compose_train(["experiment=mnist", *overrides], tmp_path)
    with pytest.raises(ConfigError) as info:
        train(cfg)
    assert message in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU, so trainer=gpu is valid here")
def test_trainer_gpu_without_a_gpu_names_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"no GPU that torch can use .* use trainer=cpu, or trainer.accelerator=auto"):
        validate_config(compose_train(["experiment=mnist", "trainer=gpu"], tmp_path))


def test_every_problem_is_reported_at_once(tmp_path):
    cfg = compose_train(["experiment=mnist", "model.conceptizer.num_concepts=0", "data.batch_size=0",
                         "model.reconstruction_weight=-1"], tmp_path)  # fmt: skip
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    assert len(info.value.problems) == 3


def test_values_the_user_must_give_are_named_together(tmp_path):
    """data=csv leaves its file and target to the user (``???``): both named in one message, not OmegaConf's."""
    with pytest.raises(ConfigError) as info:
        validate_config(compose_train(["experiment=tabular"], tmp_path))
    required = ["data.path is required: set data.path=...", "data.target is required: set data.target=..."]
    assert info.value.problems == required


@pytest.mark.parametrize(
    ("overrides", "message"),
    [(["data.concept_fraction=1.5"], "data.concept_fraction=1.5: must be a number in [0, 1]"),
     (["data.dependency=-0.2"], "data.dependency=-0.2: must be a number in [0, 1]")],
)  # fmt: skip
def test_concept_data_settings_are_checked(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_config(compose_train(["experiment=shapes", *overrides], tmp_path))


def test_config_errors_survive_a_process_pool():
    error = pickle.loads(pickle.dumps(ConfigError(["a: wrong", "b: worse"])))
    assert error.problems == ["a: wrong", "b: worse"] and str(error).endswith("- b: worse")
