"""Sizes and names the data determines: filled in from the data module when the config leaves them null."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pytest

from senn.checkpoints import load_checkpoint
from senn.data.preprocessing import TablePreprocessor
from senn.explain import explain
from senn.explain.plots import plot_explanation
from senn.runs import train
from senn.runs.validation import ConfigError, validate_config
from tests.conftest import compose_train
from tests.data.test_csv import wine_frame

QUICK = ["logger=none", "callbacks.progress_bar.refresh_rate=0", "callbacks.explanations.every_n_epochs=1000"]


@pytest.fixture
def wine_csv(tmp_path):
    path = tmp_path / "wine.csv"
    wine_frame().to_csv(path, index=False)
    return path


def test_a_table_trains_with_no_number_typed(wine_csv, tmp_path):
    """experiment=tabular + data=csv: sizes, task and names come from the table; the checkpoint keeps them."""
    cfg = compose_train(["experiment=tabular", f"data.path={wine_csv}", "data.target=target", "data.drop=[id]",
                         f"output_dir={tmp_path / 'run'}", "trainer.max_epochs=8", *QUICK])  # fmt: skip
    metrics = train(cfg)
    assert cfg.model.conceptizer.in_features == 16 and cfg.model.parametrizer.num_concepts == 16
    assert cfg.model.aggregator.num_classes == 3 and cfg.model.aggregator.task == "multiclass"
    assert metrics["test/acc"] > 0.8  # 8 epochs on 142 rows (the majority class is 40 %)
    module = load_checkpoint(json.loads((tmp_path / "run" / "metrics.json").read_text())["best_checkpoint"])
    assert module.model.class_names == ["class_0", "class_1", "class_2"]
    assert module.model.concept_names[:2] == ["alcohol", "malic_acid"]  # identity concepts: the columns
    assert module.model.concept_names[-1] == "region=south" and module.model.feature_names == module.model.concept_names
    preprocessor = TablePreprocessor.from_dict(module.preprocessing)
    x = preprocessor.transform(wine_frame().iloc[:4])
    assert module.model(x).logits.shape == (4, 3)


def test_explicit_sizes_win_and_conflicts_are_reported(wine_csv):
    cfg = compose_train(["experiment=tabular", f"data.path={wine_csv}", "data.target=target",
                         "model.aggregator.num_classes=2"])  # fmt: skip
    with pytest.raises(ConfigError, match="num_classes"):
        validate_config(cfg)


def test_a_size_the_data_cannot_give_is_named():
    cfg = compose_train(["data=mnist", "model/conceptizer=mlp", "model/parametrizer=mlp"])  # images, table encoder
    with pytest.raises(ConfigError, match=r"model.conceptizer.in_features is unset and the data does not determine"):
        validate_config(cfg)


def test_preset_data_fills_the_default_model():
    """The bare default config (MNIST, conv encoder) gets its image size and classes from the data."""
    cfg = compose_train([])
    assert cfg.model.conceptizer.in_channels is None and cfg.model.aggregator.num_classes is None  # left to the data
    datamodule = validate_config(cfg)
    assert type(datamodule).__name__ == "MNISTDataModule"  # the module training then uses
    assert (cfg.model.conceptizer.in_channels, cfg.model.conceptizer.image_size) == (1, 28)
    assert cfg.model.aggregator.num_classes == 10 and cfg.model.parametrizer.image_size == 28
    assert cfg.model.class_names == [str(d) for d in range(10)]


def test_a_regression_table_names_the_monitor_it_needs_then_trains(wine_csv, tmp_path):
    table = ["experiment=tabular", f"data.path={wine_csv}", "data.target=proline", "data.task=regression",
             "data.drop=[id,target]", f"output_dir={tmp_path / 'run'}", "trainer.max_epochs=2", *QUICK]  # fmt: skip
    with pytest.raises(ConfigError, match="set monitor=val/mse monitor_mode=min"):
        validate_config(compose_train(table))
    metrics = train(compose_train([*table, "monitor=val/mse", "monitor_mode=min"]))
    assert "test/mse" in metrics and metrics["val/mse"] > 0  # the raw target: hundreds of units
    module = load_checkpoint(json.loads((tmp_path / "run" / "metrics.json").read_text())["best_checkpoint"])
    rows = TablePreprocessor.from_dict(module.preprocessing).transform(wine_frame().head(2))
    explanation = explain(module, rows)
    output = module.model(rows).logits[:, 0]
    text = explanation.to_text(top=3)
    assert f"example 0: output {float(output[0]):.4g}" in text and "predicted" not in text
    assert "alcohol" in text and "proline" not in text  # the target is no feature
    assert "logit" not in text and "output" in text.splitlines()[-1]
    fig = plot_explanation(explanation, rows, 1)
    assert fig.get_suptitle() == f"output {float(output[1]):.4g}"
    plt.close(fig)
