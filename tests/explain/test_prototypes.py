"""Concept prototypes: ranking, traversals, feature visualization, the collapse check, export and figures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from senn.explain.plots import save_prototype_figures
from senn.explain.prototypes import (
    concept_activations,
    concept_collapse,
    concept_prototypes,
    decoder_traversal,
    feature_visualization,
    top_examples,
)
from senn.models import SENN, ConvConceptizer, LeNetParametrizer, SumAggregator
from tests.conftest import make_model


@pytest.fixture
def image_senn() -> SENN:
    torch.manual_seed(0)
    conceptizer = ConvConceptizer(1, 14, 3, channels=(4, 8), kernel_size=3)
    return SENN(
        conceptizer, LeNetParametrizer(1, 14, 3, 4, channels=(4,), kernel_size=3, hidden_size=8), SumAggregator(4)
    )


def test_top_examples_by_activation_and_by_contrast():
    concepts = torch.tensor([[5.0, 4.0], [3.0, 0.0], [1.0, 2.0], [0.0, -1.0]])
    assert top_examples(concepts, 2, "activation").tolist() == [[0, 1], [0, 2]]
    # contrast: h_j − Σ_{i≠j} h_i  -> column 0: [1, 3, -1, 1]; column 1: [-1, -3, 1, -1]
    assert top_examples(concepts, 1, "contrast").tolist() == [[1], [2]]
    with pytest.raises(ValueError, match="contrast"):
        top_examples(concepts, 1, "variance")


def test_traversal_sweeps_one_concept_and_holds_the_others(image_senn):
    x = torch.randn(50, 1, 14, 14)
    concepts = concept_activations(image_senn, x)
    frames = decoder_traversal(image_senn, concepts, steps=5)
    assert frames.shape == (3, 5, 1, 14, 14)
    low, high = torch.quantile(concepts, torch.tensor([0.01, 0.99]), dim=0)
    grid = concepts.median(0).values.repeat(5, 1)
    grid[:, 1] = torch.linspace(float(low[1]), float(high[1]), 5)
    with torch.no_grad():
        torch.testing.assert_close(frames[1], image_senn.conceptizer.decoder(grid))
    assert not torch.allclose(frames[1, 0], frames[1, -1])


def test_traversal_needs_a_decoder():
    model, x = make_model("identity")
    with pytest.raises(ValueError, match="no decoder"):
        decoder_traversal(model, concept_activations(model, x))


@pytest.mark.parametrize("channels", [1, 3])
def test_feature_visualization_raises_its_concept(channels):
    torch.manual_seed(0)
    model = SENN(ConvConceptizer(channels, 16, 3, channels=(4, 8), kernel_size=3),
                 LeNetParametrizer(channels, 16, 3, 2, channels=(4,), kernel_size=3, hidden_size=8),
                 SumAggregator(2)).eval()  # fmt: skip
    images = feature_visualization(model, (-1.0, 2.0), steps=60)
    assert images.shape == (3, channels, 16, 16)
    assert images.min() >= -1.0 and images.max() <= 2.0
    noise = torch.rand(200, channels, 16, 16) * 3 - 1
    with torch.no_grad():
        reached = model.conceptizer(images)[0].diagonal()
        typical = model.conceptizer(noise)[0].max(0).values
    assert (reached > typical).all()  # beyond any of 200 random inputs in the same range


def test_feature_visualization_refuses_non_images():
    model, _ = make_model("mlp")
    with pytest.raises(ValueError, match="image inputs"):
        feature_visualization(model, (0.0, 1.0), steps=1)


def test_collapse_check_finds_dead_and_duplicate_concepts():
    torch.manual_seed(0)
    base = torch.randn(100, 2)
    concepts = torch.stack([base[:, 0], torch.full((100,), 0.3), -2 * base[:, 0] + 1, base[:, 1]], 1)
    report = concept_collapse(concepts)
    assert report.dead == [1]
    assert [(i, j) for i, j, _ in report.duplicates] == [(0, 2)] and report.duplicates[0][2] == pytest.approx(-1)
    assert not report.ok and concept_collapse(base).ok
    assert concept_collapse(concepts, constant=[1]).dead == []  # a constant concept by design is not dead


def test_the_bias_concept_is_not_reported_dead():
    from senn.models import SENN, MLPConceptizer, MLPParametrizer, SumAggregator

    model = SENN(MLPConceptizer(6, num_concepts=3, bias=True), MLPParametrizer(6, 4, 2), SumAggregator(2))
    assert concept_prototypes(model, torch.randn(50, 6), k=3, feature_vis_steps=0).collapse.dead == []


def test_prototypes_export_arrays_and_figures(image_senn, tmp_path):
    x = torch.randn(40, 1, 14, 14)
    prototypes = concept_prototypes(image_senn, x, k=4, traversal_steps=5, feature_vis_steps=5)
    paths = prototypes.export(tmp_path)
    arrays = np.load(tmp_path / "concept_2.npz")
    np.testing.assert_array_equal(arrays["activation_images"], x[prototypes.by_activation[1]].numpy())
    assert arrays["traversal"].shape == (5, 1, 14, 14) and arrays["feature_visualization"].shape == (1, 14, 14)
    assert json.loads((tmp_path / "collapse.json").read_text()).keys() == {"dead", "duplicates"}
    assert len(paths) == 4
    figures = save_prototype_figures(prototypes, tmp_path)
    assert [p.name for p in figures] == ["prototypes.png", "concept_1.png", "concept_2.png", "concept_3.png"]
    assert all(p.stat().st_size > 1000 for p in figures)
