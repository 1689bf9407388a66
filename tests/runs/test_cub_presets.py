"""The CUB presets end to end on a small archive in the official layout: each trains, and `senn-explain` names
the bird attributes in an explanation of one of its images."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir

from senn.checkpoints import load_checkpoint
from senn.cli.explain import run
from senn.config import config_dir
from senn.runs import train
from tests.conftest import compose_train
from tests.standins import write_cub

TINY = ["debug=default", "data.image_size=16", "data.min_classes=2", "data.num_workers=0", "data.batch_size=8",
        "model.conceptizer.weights=none"]  # fmt: skip


@pytest.fixture(scope="module")
def cub_dir(tmp_path_factory: pytest.TempPathFactory):
    return write_cub(tmp_path_factory.mktemp("cub"))


@pytest.mark.parametrize("preset", ["cub", "cub_supervised", "cub_bottleneck", "cub_cem"])
def test_cub_presets_train_with_sizes_from_the_data(preset, cub_dir, tmp_path):
    cfg = compose_train([f"experiment={preset}", f"data.data_dir={cub_dir}", f"output_dir={tmp_path}", *TINY])
    metrics = train(cfg)
    assert 0 <= metrics["test/acc"] <= 1
    assert ("test/concept_loss" in metrics) == (preset != "cub")
    module = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert module.model.conceptizer.num_concepts == 3  # the attributes present in 2 classes or more
    assert module.model.num_classes == 4


def test_senn_explain_names_the_bird_attributes(cub_dir, tmp_path):
    train(compose_train(["experiment=cub_supervised", f"data.data_dir={cub_dir}", f"output_dir={tmp_path}", *TINY]))
    image = cub_dir / "CUB_200_2011" / "images" / "003.Solid_Wren" / "Solid_Wren_0005.jpg"
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("explain", overrides=[f"ckpt_path={tmp_path / 'checkpoints' / 'last.ckpt'}", f"input={image}",
                                            f"output_dir={tmp_path / 'explained'}"])  # fmt: skip
    run(cfg)
    record = json.loads((tmp_path / "explained" / "explanations.json").read_text())[0]
    names = {concept["name"] for concept in record["concepts"]}
    assert names == {"bill shape: cone", "breast pattern: solid", "tail shape: notched tail", "bias"}
    assert record["prediction"] in ("Red Finch", "Blue Jay", "Solid Wren", "Yellow Notched Tit")
