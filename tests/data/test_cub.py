"""CUB-200-2011 on a small archive generated in the official layout: the bottleneck paper's concept processing,
the splits, streaming with augmentation, and the errors when the data is missing or broken."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from senn.data import DataError, DataNotFoundError
from senn.data.cub import CUBDataModule, class_attributes, readable_name
from tests.standins import CUB_TABLE, write_cub


@pytest.fixture(scope="module")
def cub_dir(tmp_path_factory: pytest.TempPathFactory):
    return write_cub(tmp_path_factory.mktemp("cub"))


def cub(data_dir, **kwargs) -> CUBDataModule:
    settings = {"image_size": 16, "min_classes": 2, "num_workers": 0, "batch_size": 6} | kwargs
    dm = CUBDataModule(data_dir=str(data_dir), **settings)
    dm.setup()
    return dm


def test_class_majority_vote_skips_unseen_absences_and_breaks_ties_towards_present():
    labels = np.array([0, 0, 0, 1, 1])
    present = np.array([[1, 0, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0], [0, 1, 1]])
    certainty = np.array([[3, 3, 1], [3, 3, 3], [1, 1, 3], [3, 3, 3], [3, 3, 3]])
    expected = [
        [1, 0, 1],  # 2 of 3 present; all absent; one present, one absent (tie), one absent unseen
        [0, 1, 1],
    ]  # absent twice; present twice; a tie
    np.testing.assert_array_equal(class_attributes(labels, present, certainty, 2), expected)


def test_concepts_are_the_frequent_class_level_attributes_with_readable_names(cub_dir):
    dm = cub(cub_dir)
    shown_in_two = [a for a in range(6) if sum(row[a] for row in CUB_TABLE) >= 2]  # 0, 3, 4
    assert dm.concept_names == ["bill shape: cone", "breast pattern: solid", "tail shape: notched tail"]
    assert dm.class_names == ["Red Finch", "Blue Jay", "Solid Wren", "Yellow Notched Tit"]
    for split in ("train", "val", "test"):
        labels = torch.tensor(dm.files[split][1])
        expected = torch.tensor(CUB_TABLE, dtype=torch.float32)[labels][:, shown_in_two]
        torch.testing.assert_close(dm.concepts[split], expected)  # the noisy annotations voted away
    own = cub(cub_dir, class_level=False)
    assert not torch.equal(own.concepts["train"], dm.concepts["train"])  # the image's own, noisy annotations
    assert cub(cub_dir, min_classes=1).concept_names[1] == "wing color: red"


def test_official_test_split_and_a_stratified_validation_split(cub_dir):
    dm = cub(cub_dir)
    assert [dm.split_size(s) for s in ("train", "val", "test")] == [20, 4, 8]
    assert sorted(dm.files["val"][1]) == [0, 1, 2, 3]  # one per class
    assert all(path.endswith(("_0000.jpg", "_0001.jpg")) for path in dm.files["test"][0])
    assert not set(dm.files["train"][0]) & set(dm.files["val"][0])
    other = cub(cub_dir, seed=1)
    assert other.files["test"] == dm.files["test"] and other.files["val"] != dm.files["val"]


def test_batches_carry_concepts_and_training_batches_are_augmented(cub_dir):
    dm = cub(cub_dir, image_size=24)
    x, _, concepts = next(iter(dm.train_dataloader()))
    assert x.shape == (6, 3, 24, 24) and concepts.shape == (6, 3)
    _, y_val, concepts_val = next(iter(dm.val_dataloader()))
    assert torch.equal(concepts_val, dm.concepts["val"][: len(y_val)])
    plain, augmented = dm.dataset("train"), dm.dataset("train", augment=True)
    torch.manual_seed(0)
    draws = torch.stack([augmented[0][0] for _ in range(8)])
    assert draws.shape == (8, 3, 24, 24) and not all(torch.equal(draws[0], d) for d in draws[1:])
    assert torch.equal(plain[0][0], plain[0][0])  # evaluation reads are deterministic
    x_val, _ = dm.take("val", [0, 1])
    torch.testing.assert_close(x_val[0], dm.dataset("val")[0][0])
    torch.testing.assert_close(dm.concepts["train"][0], plain[0][2])


def test_missing_data_says_where_to_put_it(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"CUB_200_2011.tgz.*extract it in"):
        CUBDataModule(data_dir=str(tmp_path)).setup()
    root = write_cub(tmp_path / "data", per_class=4)
    (root / "attributes.txt").unlink()  # the attribute names beside the archive's folder, the one file missing
    with pytest.raises(DataNotFoundError, match=r"expected .*attributes\.txt") as missing:
        cub(root)
    assert str(missing.value).endswith(f"(now looking in {root}).")  # the data location, not its parent


def test_broken_archives_are_refused_with_the_problem_named(tmp_path):
    root = write_cub(tmp_path, per_class=4)
    (root / "CUB_200_2011" / "images" / "002.Blue_Jay" / "Blue_Jay_0001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"1 image file\(s\) missing or unreadable.*Blue_Jay_0001") as problem:
        cub(root)
    assert "lists" not in str(problem.value)
    with pytest.raises(DataError, match=r"lower data\.min_classes"):
        cub(write_cub(tmp_path / "b", per_class=4), min_classes=5)


def test_readable_names():
    assert readable_name("has_bill_shape::curved_(up_or_down)") == "bill shape: curved (up or down)"
    assert readable_name("200.Common_Yellowthroat") == "Common Yellowthroat"


def test_a_truncated_list_file_is_named_not_a_traceback(tmp_path):
    root = write_cub(tmp_path, per_class=4)
    labels = root / "CUB_200_2011" / "image_class_labels.txt"
    labels.write_text(labels.read_text()[:-6] + "\n9999 x\n")
    with pytest.raises(DataError, match=r"unreadable CUB lists .*extract CUB_200_2011.tgz again"):
        cub(root)
