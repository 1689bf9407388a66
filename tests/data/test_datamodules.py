"""Data modules: splits, batching, preprocessing, and clear errors for missing or corrupt files."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DistributedSampler

from senn.data import (
    BreastCancerDataModule,
    CIFAR10DataModule,
    COMPASDataModule,
    DataNotFoundError,
    MNISTDataModule,
    SyntheticDataModule,
)
from senn.data.compas import FEATURES, drop_conflicting, preprocess


def test_synthetic_splits_and_batches():
    dm = SyntheticDataModule(input_shape=[1, 6, 6], num_classes=4, num_samples=500, batch_size=64, seed=3)
    dm.setup()
    sizes = {name: len(x) for name, (x, _) in dm.splits.items()}
    assert sizes == {"train": 450, "val": 50, "test": 125}
    batches = list(dm.train_dataloader())
    assert [len(b[0]) for b in batches] == [64] * 7 + [2]
    assert batches[0][0].shape == (64, 1, 6, 6)
    # every training example exactly once per epoch
    seen = torch.cat([b[0] for b in batches]).flatten(1).sum(1).sort().values
    torch.testing.assert_close(seen, dm.splits["train"][0].flatten(1).sum(1).sort().values)
    # validation in order
    torch.testing.assert_close(next(iter(dm.val_dataloader()))[0], dm.splits["val"][0][:64])


def test_synthetic_is_reproducible_and_learnable_labels_vary():
    a, b = SyntheticDataModule(seed=1), SyntheticDataModule(seed=1)
    a.setup(), b.setup()
    torch.testing.assert_close(a.splits["train"][0], b.splits["train"][0])
    assert len(a.splits["train"][1].unique()) == 3


def test_breast_cancer_is_standardised_on_train():
    dm = BreastCancerDataModule(seed=0)
    dm.setup()
    x, y = dm.splits["train"]
    assert dm.input_shape == (30,) and x.shape[1] == 30 and len(dm.feature_names) == 30
    torch.testing.assert_close(x.mean(0), torch.zeros(30), atol=1e-5, rtol=0)
    assert sum(len(s[0]) for s in dm.splits.values()) == 569
    assert set(y.unique().tolist()) == {0.0, 1.0}


def compas_frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "days_b_screening_arrest": 0,
        "is_recid": 0,
        "c_charge_degree": "F",
        "score_text": "Low",
        "priors_count": 0,
        "age_cat": "25 - 45",
        "race": "Caucasian",
        "sex": "Male",
        "two_year_recid": 0,
    }
    return pd.DataFrame([{**base, **row} for row in rows])  # fmt: skip


def test_compas_preprocessing_filters_and_encodes():
    frame = compas_frame([
        {"priors_count": 4, "score_text": "High", "race": "African-American", "sex": "Female"},
        {"priors_count": 2, "age_cat": "Greater than 45", "c_charge_degree": "M"},
        {"days_b_screening_arrest": 45},  # screened too long after arrest
        {"is_recid": -1},  # unknown recidivism
        {"c_charge_degree": "O"},  # ordinary traffic offence
        {"score_text": "N/A"},
    ])  # fmt: skip
    features, labels = preprocess(frame)
    assert list(features.columns) == FEATURES and len(features) == 2
    assert features.priors_count.tolist() == [1.0, 0.5]
    assert features.african_american.tolist() == [1, 0] and features.female.tolist() == [1, 0]
    assert features.age_above_45.tolist() == [0, 1] and features.misdemeanor.tolist() == [0, 1]
    assert labels.tolist() == [1, 0]


def test_compas_contradictory_duplicates():
    features = pd.DataFrame({"a": [0, 0, 0, 0, 1, 1, 2]})
    labels = np.array([1, 1, 1, 0, 1, 0, 1], dtype=float)
    # group a=0: 3 vs 1 -> drop the minority row; a=1: a tie -> keep both; a=2 unique -> kept
    assert drop_conflicting(features, labels).tolist() == [True, True, True, False, True, True, True]


def test_compas_bad_tables_name_the_problem(tmp_path):
    (tmp_path / "COMPAS").mkdir()
    path = tmp_path / "COMPAS" / "compas-scores-two-years.csv"
    compas_frame([{}]).drop(columns=["race"]).to_csv(path, index=False)
    with pytest.raises(DataNotFoundError, match=r"lacks the columns \['race'\]"):
        COMPASDataModule(data_dir=str(tmp_path), download=False).setup()
    compas_frame([{}, {"priors_count": "many"}]).to_csv(path, index=False)
    with pytest.raises(DataNotFoundError, match=r"'priors_count' has an unparsable value 'many' \(row 3\)"):
        COMPASDataModule(data_dir=str(tmp_path), download=False).setup()


def test_a_failed_download_warns_then_says_where_the_file_goes(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.warns(UserWarning, match=r"COMPAS download failed \(no route to host\)"):
        with pytest.raises(DataNotFoundError, match="SENN_DATA_DIR"):
            COMPASDataModule(data_dir=str(tmp_path), download=True).setup()


def test_compas_missing_file_says_where(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"compas-scores-two-years\.csv") as info:
        COMPASDataModule(data_dir=str(tmp_path), download=False).setup()
    assert "SENN_DATA_DIR" in str(info.value)


def test_compas_real_file(real_data_dir):
    dm = COMPASDataModule(data_dir=str(real_data_dir), download=False)
    dm.setup()
    n = sum(len(x) for x, _ in dm.splits.values())
    assert dm.input_shape == (11,)
    assert 5000 < n <= 6172  # ProPublica's 6172 screenings less the contradictory duplicates
    rate = float(torch.cat([y for _, y in dm.splits.values()]).mean())
    assert 0.35 < rate < 0.5  # share scored Medium/High


def test_mnist_missing_files_are_listed(tmp_path):
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte") as info:
        MNISTDataModule(data_dir=str(tmp_path), download=False).setup()
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    assert str(info.value).endswith(f"(now looking in {tmp_path}).")


def test_mnist_real_files(real_data_dir):
    dm = MNISTDataModule(data_dir=str(real_data_dir), download=False)
    dm.setup()
    assert {k: tuple(x.shape) for k, (x, _) in dm.splits.items()} == {
        "train": (54000, 1, 28, 28), "val": (6000, 1, 28, 28), "test": (10000, 1, 28, 28)}  # fmt: skip
    x = dm.splits["train"][0]
    assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 1) < 0.05


@pytest.mark.parametrize("fault", ["truncated", "one byte changed"])
def test_mnist_corrupt_file_is_caught(fault, real_data_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(real_data_dir / "MNIST" / "raw", raw)
    data = bytearray((raw / "t10k-labels-idx1-ubyte").read_bytes())
    if fault == "truncated":
        data = data[: len(data) // 2]
    else:
        data[-1] = (data[-1] + 1) % 10  # same size, still a valid label: only the MD5 can tell
    (raw / "t10k-labels-idx1-ubyte").write_bytes(bytes(data))
    with pytest.raises(DataNotFoundError, match="t10k-labels-idx1-ubyte is corrupt"):
        MNISTDataModule(data_dir=str(tmp_path), download=False).setup()


def write_cifar(root, n=20):
    """Batches in CIFAR-10's python format with random images: same shapes, types and layout."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "labels": rng.integers(0, 10, n).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    return folder


def test_cifar10_pipeline_on_generated_batches(tmp_path):
    write_cifar(tmp_path)
    dm = CIFAR10DataModule(data_dir=str(tmp_path), download=False, verify_checksums=False, batch_size=8)
    dm.setup()
    assert {k: tuple(x.shape) for k, (x, _) in dm.splits.items()} == {
        "train": (90, 3, 32, 32), "val": (10, 3, 32, 32), "test": (20, 3, 32, 32)}  # fmt: skip
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and x.shape == (8, 3, 32, 32)


def test_cifar10_checksums_and_missing_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="data_batch_1"):
        CIFAR10DataModule(data_dir=str(tmp_path), download=False).setup()
    write_cifar(tmp_path)
    with pytest.raises(DataNotFoundError, match="corrupt or not the expected file"):
        CIFAR10DataModule(data_dir=str(tmp_path), download=False).setup()


class _Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar10_batches_cannot_run_code(tmp_path):
    folder = write_cifar(tmp_path)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": _Payload(), "labels": [0]}, f)
    with pytest.raises(DataNotFoundError, match=r"refusing to load builtins\.print"):
        CIFAR10DataModule(data_dir=str(tmp_path), download=False, verify_checksums=False).setup()


def test_bad_split_settings():
    with pytest.raises(ValueError, match="batch_size=0"):
        SyntheticDataModule(batch_size=0)
    with pytest.raises(ValueError, match="sum to less than 1"):
        BreastCancerDataModule(test_fraction=0.5, val_fraction=0.5)


def test_the_data_order_depends_on_seed_and_epoch_only_and_shards_evenly():
    """torch's DistributedSampler with the seed stride of every recorded run: the order of (seed, epoch) is
    randperm seeded with seed * 100003 + epoch; processes split it, and even 1 example serves 3 processes."""
    dm = SyntheticDataModule(num_samples=50, batch_size=10, seed=2)
    dm.setup()
    sampler = dm._sampler(20, shuffle=True)
    sampler.set_epoch(3)
    expected = torch.randperm(20, generator=torch.Generator().manual_seed(2 * 100_003 + 3)).tolist()
    assert list(sampler) == expected
    shards = [DistributedSampler(range(1), num_replicas=3, rank=r, shuffle=True, seed=0) for r in range(3)]
    assert [list(s) for s in shards] == [[0], [0], [0]]  # padded by wrapping around: every process has one
