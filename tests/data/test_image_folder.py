"""Images from a folder: classes from subfolders, files read by the loaders, training-split normalization."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from senn.checkpoints import load_checkpoint
from senn.data import DataError, ImageFolderDataModule
from senn.data.image_files import _LazySplits
from senn.evaluation import evaluate
from senn.explain.inputs import read_inputs
from senn.runs import train
from tests.conftest import compose_train
from tests.evaluation.conftest import FAST, evaluate_cfg


def image_tree(root, per_class: int = 12, size: int = 10):
    """Three classes of small RGB PNGs: a bright left half, top half or centre, plus noise."""
    generator = np.random.default_rng(0)
    masks = {"left": np.s_[:, : size // 2], "top": np.s_[: size // 2, :], "centre": np.s_[3:7, 3:7]}
    for name, mask in masks.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = generator.integers(0, 60, (size, size, 3)).astype(np.uint8)
            pixels[mask] = 200 + generator.integers(0, 55)
            Image.fromarray(pixels, mode="RGB").save(root / name / f"{i}.png")
    return root


def test_classes_split_and_normalization_come_from_the_training_files(tmp_path):
    dm = ImageFolderDataModule(path=str(image_tree(tmp_path / "img")), image_size=8, channels=1, num_workers=0)
    assert dm.class_names == ["centre", "left", "top"] and dm.input_shape == (1, 8, 8) and dm.num_classes == 3
    dm.setup()
    assert [len(dm.files[s][0]) for s in ("train", "val", "test")] == [30, 3, 3]  # 1 + 1 held out per class
    train_x, train_y = dm.splits["train"]
    assert train_x.shape == (30, 1, 8, 8) and torch.bincount(train_y).tolist() == [10, 10, 10]
    assert abs(float(train_x.mean())) < 1e-5 and float(train_x.std()) == pytest.approx(1.0, abs=0.02)
    assert len(dm.mean) == 1 and 0.2 < dm.mean[0] < 0.6


def test_loaders_read_files_in_the_seeded_epoch_order(tmp_path):
    root = image_tree(tmp_path / "img")
    dm = ImageFolderDataModule(path=str(root), image_size=8, channels=3, batch_size=5, num_workers=1)
    dm.setup()
    loader = dm.train_dataloader()
    x, y = next(iter(loader))  # read from disk in a worker process
    order = list(iter(loader.sampler))
    expected_x, expected_y = dm.splits["train"]
    assert torch.allclose(x, expected_x[order[:5]], atol=1e-6) and torch.equal(y, expected_y[order[:5]])
    again = ImageFolderDataModule(path=str(root), image_size=8, channels=3, batch_size=5, num_workers=0)
    again.setup()
    assert list(iter(again.train_dataloader().sampler)) == order  # same (seed, epoch), same order
    loader.sampler.set_epoch(1)
    assert list(iter(loader.sampler)) != order


def test_every_unreadable_file_is_listed(tmp_path):
    root = image_tree(tmp_path / "img")
    (root / "left" / "broken.png").write_bytes(b"not an image")
    (root / "top" / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match=r"2 unreadable image file\(s\): \[.*broken.png.*empty.jpg"):
        ImageFolderDataModule(path=str(root)).setup()
    with pytest.raises(DataError, match="no such folder"):
        ImageFolderDataModule(path=str(tmp_path / "none")).setup()


def test_a_csv_of_paths_with_its_own_split(tmp_path):
    root = image_tree(tmp_path / "img", per_class=4)
    split = {"0": "test", "1": "val"}
    rows = [
        f"{p.relative_to(tmp_path)},{p.parent.name},{split.get(p.stem, 'train')}" for p in sorted(root.rglob("*.png"))
    ]
    (tmp_path / "images.csv").write_text("path,label,split\n" + "\n".join(rows) + "\n")
    dm = ImageFolderDataModule(csv=str(tmp_path / "images.csv"), image_size=6, num_workers=0)
    dm.setup()
    assert [len(dm.files[s][0]) for s in ("train", "val", "test")] == [6, 3, 3]
    (tmp_path / "images.csv").write_text("path,label,split\n" + "\n".join(rows).replace(",val", ",valid") + "\n")
    with pytest.raises(DataError, match=r"(?s)holds \['valid'\].*names no 'val' rows"):  # no row is silently dropped
        ImageFolderDataModule(csv=str(tmp_path / "images.csv"), image_size=6, num_workers=0).setup()


def test_take_reads_only_the_requested_images(tmp_path):
    dm = ImageFolderDataModule(path=str(image_tree(tmp_path / "img")), image_size=8, num_workers=0)
    assert dm.split_size("test") == 3
    x, y = dm.take("test", [2, 0])
    assert not dm.splits.loaded  # nothing else was loaded
    whole_x, whole_y = dm.splits["test"]
    assert torch.equal(x, whole_x[[2, 0]]) and torch.equal(y, whole_y[[2, 0]])


def test_an_image_model_trains_from_files_and_explains_a_file(tmp_path, monkeypatch):
    """Sizes and classes from the folder; the normalization travels in the checkpoint to explain a file.
    Neither training (with its explanation callback), explaining a test index nor evaluation loads a whole split
    into memory."""

    def whole_split(self, name):
        raise AssertionError(f"the whole {name} split was loaded into memory")

    monkeypatch.setattr(_LazySplits, "__getitem__", whole_split)
    root = image_tree(tmp_path / "img")
    cfg = compose_train([
        "data=image_folder", f"data.path={root}", "data.image_size=12", "data.channels=1", "data.num_workers=0",
        "data.batch_size=10", "model.conceptizer.channels=[4,8]", "model.conceptizer.kernel_size=3",
        "model.parametrizer.channels=[4,8]", "model.parametrizer.kernel_size=3", "model.parametrizer.hidden_size=16",
        "model.optimizer.lr=0.01", "trainer.max_epochs=1", "logger=none", "callbacks.progress_bar.refresh_rate=0",
        "callbacks.explanations.every_n_epochs=1", "callbacks.explanations.prototype_pool=20",
        f"output_dir={tmp_path / 'run'}",
    ])  # fmt: skip
    train(cfg)
    module_path = json.loads((tmp_path / "run" / "metrics.json").read_text())["best_checkpoint"]
    module = load_checkpoint(module_path)
    assert module.model.class_names == ["centre", "left", "top"] and len(module.data_config["mean"]) == 1
    assert list((tmp_path / "run" / "explanations").rglob("explanation_1.png"))  # the callback drew it
    dm = ImageFolderDataModule(**{k: v for k, v in module.data_config.items() if k != "_target_"})
    dm.setup()
    path = dm.files["test"][0][0]  # a 10 x 10 file: resized to 12 x 12 as in training, normalized the same
    from_file, _ = read_inputs([path], module)
    assert torch.allclose(from_file[0], dm.dataset("test")[0][0], atol=1e-6)
    by_index, _ = read_inputs([0], module)  # senn-explain input=0: reads that one file, not the split
    assert torch.equal(by_index[0], dm.dataset("test")[0][0])
    evaluation = evaluate(evaluate_cfg([f"ckpt_path={module_path}", f"output_dir={tmp_path / 'eval'}", *FAST]))
    assert evaluation.num_examples == 3 and list((tmp_path / "eval" / "prototypes").glob("*.png"))
