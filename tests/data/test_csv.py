"""A user's table: reading, checking (every problem at once), stratified split and training-only preprocessing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_wine

from senn.data import CSVDataModule, DataError, DataNotFoundError
from senn.data.preprocessing import TablePreprocessor


def wine_frame() -> pd.DataFrame:
    """scikit-learn's wine table with class names, an ID column, a text column and a missing value."""
    data = load_wine(as_frame=True)
    frame = data.frame.copy()
    frame["target"] = frame["target"].map(dict(enumerate(data.target_names)))
    frame.insert(0, "id", range(len(frame)))
    frame["region"] = np.random.default_rng(0).choice(["north", "south", "east"], len(frame))
    frame.loc[3, "alcohol"] = np.nan
    frame.loc[5, "region"] = np.nan
    return frame


@pytest.fixture
def wine_csv(tmp_path):
    path = tmp_path / "wine.csv"
    wine_frame().to_csv(path, index=False)
    return path


def test_a_table_declares_its_shape_names_and_classes(wine_csv):
    dm = CSVDataModule(path=str(wine_csv), target="target", drop=["id"])
    assert dm.task == "multiclass" and dm.num_classes == 3
    assert dm.class_names == ["class_0", "class_1", "class_2"]
    assert dm.input_shape == (13 + 3,)  # 13 numeric columns, region one-hot
    assert dm.feature_names[0] == "alcohol" and dm.feature_names[-3:] == ["region=east", "region=north", "region=south"]


def test_split_is_stratified_seeded_and_standardised_on_training_rows(wine_csv):
    dm = CSVDataModule(path=str(wine_csv), target="target", drop=["id"], seed=3)
    dm.setup()
    counts = {name: torch.bincount(y, minlength=3) for name, (_, y) in dm.splits.items()}
    assert counts["test"].tolist() == [6, 7, 5]  # round(10 % of 59 / 71 / 48)
    assert sum(len(y) for _, y in dm.splits.values()) == 178
    x_train = dm.splits["train"][0]
    assert torch.allclose(x_train[:, :13].mean(0), torch.zeros(13), atol=1e-5)  # numeric: training statistics
    assert not torch.allclose(dm.splits["test"][0][:, :13].mean(0), torch.zeros(13), atol=1e-3)
    assert set(x_train[:, 13:].unique().tolist()) == {0.0, 1.0}  # one-hot columns stay 0 / 1
    again = CSVDataModule(path=str(wine_csv), target="target", drop=["id"], seed=3)
    again.setup()
    assert torch.equal(again.splits["test"][0], dm.splits["test"][0])
    other = CSVDataModule(path=str(wine_csv), target="target", drop=["id"], seed=4)
    other.setup()
    assert not torch.equal(other.splits["test"][0], dm.splits["test"][0])


def test_raw_rows_become_the_inputs_training_saw(wine_csv):
    """The stored preprocessing, rebuilt from plain containers, maps raw rows to the split's tensors."""
    dm = CSVDataModule(path=str(wine_csv), target="target", drop=["id"])
    dm.setup()
    restored = TablePreprocessor.from_dict(dm.preprocessor.to_dict())
    frame = pd.read_csv(wine_csv)
    x_all = restored.transform(frame)
    x_test = dm.splits["test"][0]
    matches = (x_all[:, None, :] - x_test[None]).abs().amax(-1) < 1e-6  # (rows, test rows)
    assert matches.any(0).all()  # every test input is some raw row, transformed
    assert restored.transform(frame.iloc[[3]])[0, 0] == pytest.approx(  # the missing alcohol: training median
        (restored.numeric[0].median - restored.numeric[0].mean) / restored.numeric[0].std, abs=1e-5
    )
    raw = restored.raw_values(x_all[:2])
    assert raw[0]["alcohol"] == pytest.approx(14.23) and raw[0]["region"] == frame.region[0]
    with pytest.raises(
        ValueError, match=r"lack the columns \['region'\] the model was trained on \(they have \['id', 'alcohol', "
    ):
        restored.transform(frame.drop(columns="region"))


def test_every_problem_is_reported_at_once(tmp_path):
    frame = wine_frame()
    frame["empty"] = np.nan
    frame["ash"] = frame["ash"].astype(object)
    frame.loc[[7, 9], "ash"] = "n/a?"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        _ = CSVDataModule(path=str(path), target="target", drop=["id", "nope"]).input_shape  # reads and checks the file
    message = str(err.value)
    assert "data.drop names columns the table does not have: ['nope']" in message
    with pytest.raises(DataError) as err:
        _ = CSVDataModule(path=str(path), target="target", drop=["id"]).input_shape  # reads and checks the file
    ash, empty = err.value.problems  # in column order
    assert "column 'ash' is numeric but holds text 'n/a?' on lines [9, 11]" in ash  # file lines, header = 1
    assert "column 'empty' is empty" in empty
    with pytest.raises(DataError, match=r"no target column 'label' .*'alcohol'"):
        _ = CSVDataModule(path=str(path), target="label").input_shape  # reads and checks the file


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.assign(target="same"), "has 1 value"),
        (lambda f: f.assign(target=["rare"] * 2 + ["common"] * (len(f) - 2)), r"'rare' \(2 rows\)"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_unusable_targets_are_refused(tmp_path, edit, message):
    path = tmp_path / "t.csv"
    edit(wine_frame()).to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        _ = CSVDataModule(path=str(path), target="target").input_shape  # reads and checks the file


def test_unreadable_duplicated_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="no file at"):
        _ = CSVDataModule(path=str(tmp_path / "none.csv"), target="y").input_shape  # reads and checks the file
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("a,b,a,y\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        _ = CSVDataModule(path=str(duplicated), target="y").input_shape  # reads and checks the file
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00")
    with pytest.raises(DataError, match="unreadable as a table"):
        _ = CSVDataModule(path=str(binary), target="y").input_shape  # reads and checks the file
    assert not issubclass(DataError, DataNotFoundError)  # a file that is there but wrong


def test_split_column_binary_target_and_dropped_rows(tmp_path):
    frame = wine_frame()
    frame = frame[frame.target != "class_2"].assign(split=lambda f: np.where(f.id % 5 == 0, "test", "train"))
    frame.loc[frame.id % 5 == 1, "split"] = "val"
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    dm = CSVDataModule(path=str(path), target="target", drop=["id"], split_column="split", missing="drop")
    dm.setup()
    assert dm.task == "binary" and dm.num_classes == 1 and dm.class_names == ["class_0", "class_1"]
    assert dm.splits["train"][1].dtype == torch.float32  # binary labels for BCE
    assert len(dm.splits["test"][1]) == (frame.id % 5 == 0).sum() - (frame.id == 5).sum()  # row 5 lacks region
    assert sum(len(y) for _, y in dm.splits.values()) == len(frame) - 2  # rows 3 and 5 dropped


def test_regression_when_configured(tmp_path):
    frame = wine_frame().drop(columns="target")
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    dm = CSVDataModule(path=str(path), target="proline", drop=["id"], task="regression")
    dm.setup()
    assert dm.task == "regression" and dm.num_classes == 1 and dm.class_names is None
    assert "proline" not in dm.feature_names and dm.splits["train"][1].max() > 1000  # the raw target


def test_parquet_files(tmp_path):
    pytest.importorskip("pyarrow", reason="reading Parquet needs pyarrow (pip install pyarrow)")
    path = tmp_path / "wine.parquet"
    wine_frame().to_parquet(path)
    assert CSVDataModule(path=str(path), target="target", drop=["id"]).input_shape == (16,)
