"""The shipped pretrained models load from the package and reproduce their recorded test accuracy."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate

import senn
from senn.checkpoints import load_checkpoint
from senn.checkpoints.zoo import available
from tests.conftest import shared_data_dir

NAMES = ["mnist", "compas", "breast_cancer"]


def test_every_preset_ships_with_its_record():
    records = available()
    assert sorted(records) == sorted(NAMES)
    for name, record in records.items():
        assert record["command"].startswith(f"senn-train experiment={name}") and record["seed"] == 0
        assert 0.5 < record["test_accuracy"] <= 1


@pytest.mark.parametrize("name", NAMES)
def test_a_pretrained_model_reproduces_its_test_accuracy(name):
    module = senn.pretrained(name)
    assert type(module) is type(load_checkpoint(f"pretrained:{name}"))
    config = dict(module.data_config)
    if name != "breast_cancer":  # scikit-learn ships breast cancer; the others need the real files
        if shared_data_dir() is None:
            pytest.skip(f"the {name} data is not here (set SENN_DATA_DIR)")
        config["data_dir"] = str(shared_data_dir())
    datamodule = instantiate(config)
    datamodule.setup()
    x, y = datamodule.splits["test"]
    with torch.no_grad():
        logits = module.model(x).logits
    predicted = (logits[:, 0] > 0).long() if module.model.task == "binary" else logits.argmax(1)
    accuracy = float((predicted == y.long()).float().mean())
    assert accuracy == pytest.approx(available()[name]["test_accuracy"], abs=1e-3)  # within 0.1 point
    assert module.model.class_names is not None  # explanations speak in the data's class names


def test_unknown_names_list_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match=r"no pretrained model 'cifar'; there are \['breast_cancer'"):
        senn.pretrained("cifar")
