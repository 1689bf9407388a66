"""Generated data with known concepts: shapes and TabularToy."""

from __future__ import annotations

import math

import pytest
import torch

from senn.data import ShapesDataModule, TabularToyDataModule
from senn.data.shapes import render, shape_concepts, shape_labels, visible_rotation


def small_shapes(**kwargs) -> ShapesDataModule:
    dm = ShapesDataModule(**{"image_size": 28, "num_train": 300, "num_test": 100, "batch_size": 50, **kwargs})
    dm.setup()
    return dm


def test_shapes_batches_carry_concepts_and_are_deterministic():
    a, b = small_shapes(seed=3), small_shapes(seed=3)
    x, y, c = next(iter(a.train_dataloader()))
    assert x.shape == (50, 1, 28, 28) and y.shape == (50,) and c.shape == (50, 5)
    torch.testing.assert_close(a.splits["test"][0], b.splits["test"][0])
    assert not torch.equal(a.splits["test"][0], small_shapes(seed=4).splits["test"][0])
    assert {k: len(v) for k, v in a.concepts.items()} == {"train": 270, "val": 30, "test": 100}
    assert a.factors["test"].shape == (100, 6)


def test_shapes_labels_and_concepts_follow_the_benchmark_definition():
    dm = small_shapes()
    x, y = dm.splits["train"]
    c, f = dm.concepts["train"], dm.factors["train"]
    shape, scale, _, _, xpos, ypos = f.T
    torch.testing.assert_close(c[:, 0], (shape != 2).float())
    torch.testing.assert_close(c[:, 1], (scale < 0.75).float())  # scales 0.5 … 1 in 6 steps: lower half < 0.75
    torch.testing.assert_close(c[:, 3], (xpos < 0.5).float())
    torch.testing.assert_close(c[:, 4], (ypos < 0.5).float())
    expected = torch.where(c[:, 0] == 1, 2 * c[:, 1] + c[:, 2], 4 + 2 * c[:, 3] + c[:, 4]).long()
    torch.testing.assert_close(y, expected)
    # a square's or an ellipse's centre of mass sits in the half the position concept says
    symmetric = shape != 2
    cols, rows = x[:, 0].sum(1), x[:, 0].sum(2)  # (N, W), (N, H)
    centre_x = (cols * torch.arange(28)).sum(1) / cols.sum(1)
    centre_y = (rows * torch.arange(28)).sum(1) / rows.sum(1)
    assert torch.equal((centre_x < 13.5)[symmetric], c[symmetric, 3].bool())
    assert torch.equal((centre_y < 13.5)[symmetric], c[symmetric, 4].bool())


def test_rotation_concept_is_visible_in_the_image():
    # a square turned by a quarter turn, an ellipse by a half turn: the same picture, the same concept
    for shape, period in ((0, math.pi / 2), (1, math.pi)):
        s = torch.tensor([shape, shape])
        r = torch.tensor([0.3, 0.3 + period])
        images = render(s, torch.ones(2), r, torch.full((2,), 0.5), torch.full((2,), 0.5), 32)
        torch.testing.assert_close(images[0], images[1], atol=0.02, rtol=0)
        vis = visible_rotation(s, r)
        torch.testing.assert_close(vis[0], vis[1])
    factors = {"shape": torch.tensor([2]), "scale": torch.tensor([0]), "visible_rotation": torch.tensor([0.2]),
               "x": torch.tensor([0]), "y": torch.tensor([31])}  # fmt: skip
    assert shape_concepts(factors).tolist() == [[0, 1, 1, 1, 0]]
    assert shape_labels(torch.tensor([[0.0, 1, 1, 1, 0]])).tolist() == [6]


def test_shapes_any_size_and_dependency_knob():
    assert small_shapes(image_size=40).splits["val"][0].shape[1:] == (1, 40, 40)
    independent = small_shapes(num_train=2000).concepts["train"]
    dependent = small_shapes(num_train=2000, dependency=0.9).concepts["train"]
    corr = lambda c, i, j: torch.corrcoef(c[:, [i, j]].T)[0, 1]  # noqa: E731
    assert abs(corr(independent, 1, 3)) < 0.1 and corr(dependent, 1, 3) > 0.8 and corr(dependent, 2, 4) > 0.8


def test_concept_fraction_withholds_training_annotations_only():
    dm = small_shapes(concept_fraction=0.1)
    known = ~torch.isnan(dm.concepts["train"][:, 0])
    assert int(known.sum()) == 27 and not torch.isnan(dm.concepts["test"]).any()
    full = small_shapes()
    torch.testing.assert_close(dm.concepts["train"][known], full.concepts["train"][known])


def test_tabular_toy_features_concepts_and_covariance():
    dm = TabularToyDataModule(covariance=0.0, standardize=False, seed=1)
    dm.setup()
    x, y = dm.splits["train"]
    z, c = dm.factors["train"], dm.concepts["train"]
    assert x.shape == (1800, 7) and len(dm.splits["test"][0]) == 1000
    torch.testing.assert_close(x[:, 0], torch.sin(z[:, 0]) + z[:, 0])
    torch.testing.assert_close(x[:, 3], torch.cos(z[:, 1]) + z[:, 1])
    torch.testing.assert_close(x[:, 6], z.pow(2).sum(1))
    torch.testing.assert_close(c, (z > 0).float())
    torch.testing.assert_close(y, (c.sum(1) >= 2).float())
    correlated = TabularToyDataModule(covariance=0.6, num_train=5000)
    correlated.setup()
    cov = torch.cov(correlated.factors["train"].T)
    assert abs(float(cov[0, 1]) - 0.6) < 0.06 and abs(float(cov[1, 1]) - 1) < 0.06
    standardized = TabularToyDataModule()
    standardized.setup()
    torch.testing.assert_close(standardized.splits["train"][0].mean(0), torch.zeros(7), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"dependency": 1.5}, "dependency"), ({"concept_fraction": -0.1}, "concept_fraction"), ({"image_size": 4}, "8")],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ShapesDataModule(**kwargs)
