"""`senn-explain`: test rows, raw table rows and image files explained by a trained checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from senn.cli.explain import run
from senn.config import config_dir
from senn.data import CSVDataModule
from senn.runs import train
from tests.conftest import compose_train, run_command
from tests.data.test_csv import wine_frame

QUICK = ["logger=none", "callbacks.progress_bar.refresh_rate=0", "callbacks.explanations.every_n_epochs=1000"]


def compose_explain(overrides: list[str]):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("explain", overrides=overrides)


@pytest.fixture(scope="module")
def wine_model(tmp_path_factory):
    """A tabular SENN trained on a wine CSV for a few epochs: (checkpoint, csv path, its test-row positions)."""
    root = tmp_path_factory.mktemp("wine")
    wine_frame().to_csv(root / "wine.csv", index=False)
    data = [f"data.path={root / 'wine.csv'}", "data.target=target", "data.drop=[id]"]
    train(compose_train(["experiment=tabular", *data, f"output_dir={root}", "trainer.max_epochs=4", *QUICK]))
    dm = CSVDataModule(path=str(root / "wine.csv"), target="target", drop=["id"])
    dm.setup()
    return root / "checkpoints" / "last.ckpt", root / "wine.csv", dm.split_rows["test"]


def test_raw_rows_explain_as_their_test_split_rows(wine_model, tmp_path):
    ckpt, path, test_rows = wine_model
    raw = tmp_path / "new_rows.csv"
    pd.read_csv(path).iloc[test_rows[:3]].drop(columns=["target"]).to_csv(raw, index=False)  # as a user has them
    from_file = run(compose_explain([f"ckpt_path={ckpt}", f"input={raw}", f"output_dir={tmp_path / 'a'}"]))
    from_split = run(compose_explain([f"ckpt_path={ckpt}", "input=[0,1,2]", f"output_dir={tmp_path / 'b'}"]))
    for a, b in zip(from_file.to_records(), from_split.to_records(), strict=True):
        assert a["prediction"] == b["prediction"]
        assert a["explained_logit"] == pytest.approx(b["explained_logit"], abs=1e-5)
        assert [c["name"] for c in a["concepts"]] == [c["name"] for c in b["concepts"]]
        assert a["input"] == pytest.approx(b["input"])  # the raw values, read back from the inputs
    records = json.loads((tmp_path / "a" / "explanations.json").read_text())
    assert records[0]["source"] == "new_rows.csv row 1"
    assert records[0]["prediction"] in ("class_0", "class_1", "class_2")
    assert (tmp_path / "a" / "explanation_3.png").stat().st_size > 10_000


def test_senn_explain_prints_text_and_one_line_errors(wine_model, tmp_path, capsys):
    """(The installed script itself runs in tests/readme/test_commands.py, on the pretrained MNIST model.)"""
    common = ["senn-explain", f"ckpt_path={wine_model[0]}", f"hydra.run.dir={tmp_path / 'run'}"]
    text = run_command([*common, "input=0", "target=class_2", "top=3"], tmp_path, capsys)
    assert text.code == 0, text.err
    assert "explaining class_2" in text.out or "test[0]: predicted class_2" in text.out
    assert "… 13 more concepts" in text.out
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"alcohol": [13.0]}).to_csv(bad, index=False)
    refused = run_command([*common, f"input={bad}"], tmp_path, capsys)
    assert refused.code == 1 and "Traceback" not in refused.err
    assert refused.err.strip().startswith("senn-explain:") and "lack the columns" in refused.err
    assert len(refused.err.strip().splitlines()) == 1


def test_json_format_prints_json_only(wine_model, tmp_path, capsys):
    run(compose_explain([f"ckpt_path={wine_model[0]}", "input=[1,2]", "format=json", f"output_dir={tmp_path}"]))
    assert [r["source"] for r in json.loads(capsys.readouterr().out)] == ["test[1]", "test[2]"]
    assert not (tmp_path / "explanations.json").exists()


def test_image_files_are_normalized_like_the_training_data(tmp_path):
    """PNG files of the shapes data explain as the same images from the split; a wrong size is refused."""
    shapes = ["experiment=shapes", "data.image_size=16", "data.num_train=200", "data.num_test=50",
              "trainer.max_epochs=1", f"output_dir={tmp_path}", *QUICK]  # fmt: skip
    train(compose_train(shapes))
    ckpt = tmp_path / "checkpoints" / "last.ckpt"
    from senn.checkpoints import load_checkpoint

    module = load_checkpoint(ckpt)
    from senn.explain.inputs import read_inputs

    x, _ = read_inputs([0, 1], module)
    paths = []
    for i, image in enumerate(x):
        pixels = (image[0].numpy() * 255).round().astype(np.uint8)  # shapes are [0, 1] pixels, not normalized
        Image.fromarray(pixels, mode="L").save(tmp_path / f"shape_{i}.png")
        paths.append(tmp_path / f"shape_{i}.png")
    from_files = run(compose_explain([f"ckpt_path={ckpt}", f"input={tmp_path}/shape_*.png",
                                      f"output_dir={tmp_path / 'out'}"]))  # fmt: skip
    from_split = run(compose_explain([f"ckpt_path={ckpt}", "input=[0,1]", f"output_dir={tmp_path / 'out2'}"]))
    assert np.allclose(from_files.concepts.numpy(), from_split.concepts.numpy(), atol=0.05)  # 8-bit rounding
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ValueError, match=r"big.png is 20x20 pixels; the model takes 16x16"):
        run(compose_explain([f"ckpt_path={ckpt}", f"input={tmp_path / 'big.png'}", f"output_dir={tmp_path}"]))


def test_a_binary_model_explains_its_positive_class_and_names_why_not_the_negative_one(tmp_path):
    """The one logit of a binary model scores its positive class: target=<positive> explains it, target=<negative>
    is refused with the reason (it used to explain the positive class silently, or fail on an index)."""
    common = ["ckpt_path=pretrained:breast_cancer", "input=[0]", f"output_dir={tmp_path}", "format=json"]
    for target in ("benign", "1"):
        explained = run(compose_explain([*common, f"target={target}"]))
        assert explained.target.tolist() == [0] and explained.class_label(0) == "benign"
    with pytest.raises(ValueError, match=r"one output, the score of 'benign'.*towards 'malignant' every relevance"):
        run(compose_explain([*common, "target=malignant"]))
