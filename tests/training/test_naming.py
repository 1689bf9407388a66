"""Naming learned concepts in a checkpoint: explanations use the names; a wrong count changes nothing."""

from __future__ import annotations

import pytest
import torch

import senn
from senn.cli.name_concepts import main
from senn.training import load_checkpoint, train
from senn.training.naming import name_concepts
from tests.cli.test_senn_train import SMALL
from tests.training.test_configs import compose_train


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(compose_train([*SMALL, "logger=none", "trainer.max_epochs=1", f"output_dir={out}"]))
    return out / "checkpoints" / "last.ckpt"


def test_names_are_stored_and_used_by_explanations(checkpoint, tmp_path):
    named = name_concepts(checkpoint, ["round", "tall", "wide", "dark"], tmp_path / "named.ckpt")
    module = load_checkpoint(named)
    assert module.model.concept_names == ["round", "tall", "wide", "dark"]
    x = torch.zeros(2, 10)
    assert {c["name"] for c in senn.explain(module, x).to_records()[0]["concepts"]} == {"round", "tall", "wide", "dark"}
    assert load_checkpoint(checkpoint).model.concept_names is None  # the original is untouched


def test_wrong_count_is_refused_and_nothing_written(checkpoint, capsys):
    before = checkpoint.read_bytes()
    with pytest.raises(SystemExit, match="3 names given for the model's 4 concepts"):
        main([str(checkpoint), "a", "b", "c"])
    assert checkpoint.read_bytes() == before
    main([str(checkpoint), "a", "b", "c", "d"])  # in place
    assert "named 4 concepts" in capsys.readouterr().out
    assert load_checkpoint(checkpoint).model.concept_names == ["a", "b", "c", "d"]
