"""Safe checkpoint loading: exact round trip, and clear refusals of unsafe, foreign or broken files."""

from __future__ import annotations

import pathlib

import pytest
import pytorch_lightning as pl
import torch

from senn.checkpoints import load_checkpoint
from senn.data import SyntheticDataModule
from senn.training import PlainModule, SENNModule

CONCEPTIZER = {"_target_": "senn.models.MLPConceptizer", "in_features": 6, "num_concepts": 3, "hidden_sizes": [8]}
PARAMETRIZER = {"_target_": "senn.models.MLPParametrizer", "in_features": 6, "num_concepts": 3, "num_classes": 3}
AGGREGATOR = {"_target_": "senn.models.SumAggregator", "num_classes": 3}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[pathlib.Path, SENNModule]:
    """A real checkpoint written by a Lightning Trainer after one epoch, and the module it was written from."""
    path = tmp_path_factory.mktemp("ckpt") / "senn.ckpt"
    module = SENNModule(CONCEPTIZER, PARAMETRIZER, AGGREGATOR)
    module.data_config = {"_target_": "senn.data.SyntheticDataModule", "input_shape": [6]}
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(input_shape=(6,), num_samples=200, batch_size=50))
    trainer.save_checkpoint(path)
    return path, module


@pytest.fixture(scope="module")
def checkpoint(trained) -> pathlib.Path:
    return trained[0]


def test_round_trip_predicts_the_same_logits(trained):
    """The loaded model is the trained one: the same outputs, bit for bit, and its data recorded."""
    path, module = trained
    loaded = load_checkpoint(path)
    x = torch.randn(5, 6)
    with torch.no_grad():
        expected, got = module.eval()(x), loaded(x)
    for name in ("logits", "concepts", "relevances"):
        torch.testing.assert_close(getattr(got, name), getattr(expected, name), rtol=0, atol=0)
    assert isinstance(loaded, SENNModule) and not loaded.training
    assert loaded.data_config["_target_"] == "senn.data.SyntheticDataModule"


def test_a_pickled_payload_is_refused_without_running_it(checkpoint, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return pathlib.Path.touch, (marker,)

    evil = tmp_path / "evil.ckpt"
    content = torch.load(checkpoint, weights_only=True)
    content["hyper_parameters"]["payload"] = Payload()
    torch.save(content, evil)
    with pytest.raises(ValueError, match="refused by safe loading"):
        load_checkpoint(evil)
    assert not marker.exists()


def test_another_architecture_is_named_not_a_stack_of_size_mismatches(checkpoint, tmp_path):
    content = torch.load(checkpoint, weights_only=True)
    content["hyper_parameters"]["conceptizer"]["hidden_sizes"] = [16]  # weights are still for [8]
    foreign = tmp_path / "foreign.ckpt"
    torch.save(content, foreign)
    with pytest.raises(ValueError, match=r"do not fit the SENNModule .*shape: model\.conceptizer"):
        load_checkpoint(foreign)


def test_truncated_missing_and_foreign_files(checkpoint, tmp_path):
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(checkpoint.read_bytes()[:300])
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(truncated)
    text = tmp_path / "table.ckpt"  # not a checkpoint at all: not taken for one carrying code
    text.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(text)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "absent.ckpt")
    other = tmp_path / "weights.pt"
    torch.save({"weight": torch.ones(2)}, other)
    with pytest.raises(ValueError, match="not a senn-train checkpoint"):
        load_checkpoint(other)
    lightning = tmp_path / "lightning.ckpt"  # another LightningModule's checkpoint: no senn record
    torch.save({"state_dict": {}, "hyper_parameters": {"lr": 0.1}}, lightning)
    with pytest.raises(ValueError, match="records no senn module"):
        load_checkpoint(lightning)


def test_plain_network_checkpoints_load_as_plain_modules(tmp_path):
    network = {"_target_": "senn.models.MLPParametrizer", "in_features": 6, "num_concepts": 1, "num_classes": 3}
    module = PlainModule(network)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, limit_train_batches=1, limit_val_batches=0)  # fmt: skip
    trainer.fit(module, datamodule=SyntheticDataModule(input_shape=(6,), num_samples=100, batch_size=50))
    trainer.save_checkpoint(tmp_path / "plain.ckpt")
    loaded = load_checkpoint(tmp_path / "plain.ckpt")
    assert isinstance(loaded, PlainModule)
    x = torch.randn(3, 6)
    torch.testing.assert_close(loaded(x), module.eval()(x))
