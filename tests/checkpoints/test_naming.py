"""Naming learned concepts in a checkpoint: explanations use the names; a wrong count changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import senn
from senn.checkpoints import load_checkpoint, name_concepts
from senn.cli.name_concepts import main


@pytest.fixture
def checkpoint(small_run, tmp_path):
    """A copy of the session's small run's last checkpoint (these tests write into it)."""
    return Path(shutil.copy(small_run[1] / "checkpoints" / "last.ckpt", tmp_path / "last.ckpt"))


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


def test_a_shipped_model_is_named_into_a_copy_only(tmp_path):
    with pytest.raises(ValueError, match=r"pretrained:mnist is a model shipped with senn .* pass --output"):
        name_concepts("pretrained:mnist", list("abcde"))
    named = name_concepts("pretrained:mnist", list("abcde"), tmp_path / "named.ckpt")
    assert load_checkpoint(named).model.concept_names == list("abcde")
