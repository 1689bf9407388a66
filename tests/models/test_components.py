"""Shapes, the component protocol and construction-time checks of every model part."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from senn.models import (
    SENN,
    CIFARParametrizer,
    ConvConceptizer,
    IdentityConceptizer,
    LeNetParametrizer,
    MLPConceptizer,
    MLPParametrizer,
    SENNOutput,
    SumAggregator,
)


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32), (3, 29), (2, 16)])
def test_conv_conceptizer_reconstructs_any_channels_and_size(channels, size):
    conceptizer = ConvConceptizer(channels, size, num_concepts=7)
    x = torch.randn(3, channels, size, size)
    concepts, reconstruction = conceptizer(x)
    assert concepts.shape == (3, 7)
    assert reconstruction.shape == x.shape
    assert ConvConceptizer(channels, size, decoder=False)(x)[1] is None


def test_conv_conceptizer_too_small_image_is_explained():
    with pytest.raises(ValueError, match="image_size=8 is too small"):
        ConvConceptizer(1, 8, channels=(10, 20), kernel_size=5)


def test_mlp_conceptizer_restores_the_input_shape():
    x = torch.randn(5, 2, 3)
    concepts, reconstruction = MLPConceptizer(6, num_concepts=4)(x)
    assert concepts.shape == (5, 4) and reconstruction.shape == x.shape


def test_identity_conceptizer_with_bias_concept():
    x = torch.randn(4, 3)
    concepts, reconstruction = IdentityConceptizer(3, bias=True)(x)
    assert reconstruction is None
    torch.testing.assert_close(concepts[:, :3], x)
    torch.testing.assert_close(concepts[:, 3], torch.ones(4))


@pytest.mark.parametrize(
    "parametrizer,x",
    [
        (MLPParametrizer(6, 4, 3), torch.randn(2, 6)),
        (LeNetParametrizer(1, 28, 4, 3), torch.randn(2, 1, 28, 28)),
        (CIFARParametrizer(3, 32, 4, 3), torch.randn(2, 3, 32, 32)),
        (CIFARParametrizer(1, 20, 4, 3, channels=(8, 8, 8, 8, 8)), torch.randn(2, 1, 20, 20)),
    ],
)
def test_parametrizers_give_one_relevance_per_concept_and_class(parametrizer, x):
    assert parametrizer(x).shape == (2, 4, 3)


@pytest.mark.parametrize("activation,squash,low,high", [("tanh", torch.tanh, -1, 1), ("sigmoid", torch.sigmoid, 0, 1)])
def test_bounded_relevances_squash_the_linear_ones(activation, squash, low, high):
    torch.manual_seed(0)
    linear = MLPParametrizer(6, 4, 3).eval()
    bounded = MLPParametrizer(6, 4, 3, output_activation=activation).eval()
    bounded.load_state_dict(linear.state_dict())  # no parameters added: checkpoints stay compatible
    theta = bounded(100 * torch.randn(64, 6))
    assert theta.min() >= low and theta.max() <= high and theta.min() < low + 0.1 and theta.max() > high - 0.1
    x = torch.randn(64, 6)
    torch.testing.assert_close(bounded(x), squash(linear(x)))


def test_unknown_output_activation_is_named():
    with pytest.raises(ValueError, match=r"output_activation='relu' is not one of \['linear', 'tanh', 'sigmoid'\]"):
        LeNetParametrizer(output_activation="relu")


def test_sum_aggregator_is_the_weighted_sum():
    concepts, relevances = torch.randn(2, 4), torch.randn(2, 4, 3)
    expected = (concepts.unsqueeze(-1) * relevances).sum(1)
    torch.testing.assert_close(SumAggregator(3)(concepts, relevances), expected)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"num_classes": 2, "task": "binary"}, "one output"), ({"num_classes": 1}, "use task=binary"),
     ({"num_classes": 3, "task": "ranking"}, "not one of")],
)  # fmt: skip
def test_sum_aggregator_rejects_inconsistent_tasks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SumAggregator(**kwargs)


@pytest.mark.parametrize("task,c", [("multiclass", 10), ("binary", 1), ("regression", 2)])
def test_senn_forward_returns_the_named_tuple(task, c):
    model = SENN(ConvConceptizer(), LeNetParametrizer(num_classes=c), SumAggregator(c, task))
    x = torch.randn(3, 1, 28, 28)
    out = model(x)
    assert isinstance(out, SENNOutput)
    assert out.logits.shape == (3, c) and out.concepts.shape == (3, 5) and out.relevances.shape == (3, 5, c)
    assert out.reconstruction.shape == x.shape
    torch.testing.assert_close(out.logits, torch.einsum("bk,bkc->bc", out.concepts, out.relevances))


def test_senn_without_decoder_has_no_reconstruction():
    model = SENN(IdentityConceptizer(4), MLPParametrizer(4, 4, 2), SumAggregator(2))
    assert model(torch.randn(2, 4)).reconstruction is None


@pytest.mark.parametrize(
    "parts,match",
    [
        ((ConvConceptizer(num_concepts=4), LeNetParametrizer(num_concepts=5), SumAggregator(10)), "num_concepts to 4"),
        ((ConvConceptizer(), LeNetParametrizer(num_classes=3), SumAggregator(10)), "num_classes=10"),
        (
            (ConvConceptizer(3, 32), LeNetParametrizer(1, 28), SumAggregator(10)),
            r"conceptizer takes inputs of shape \(3, 32, 32\)",
        ),
        ((IdentityConceptizer(5, bias=True), MLPParametrizer(5, 5, 2), SumAggregator(2)), "num_concepts to 6"),
    ],
)
def test_mismatched_parts_fail_at_construction(parts, match):
    with pytest.raises(ValueError, match=match):
        SENN(*parts)


def test_user_modules_follow_the_protocol():
    class Halves(nn.Module):  # a user's own conceptizer: two concepts, no decoder
        def forward(self, x):
            return torch.stack([x[:, :2].sum(1), x[:, 2:].sum(1)], 1), None

    model = SENN(Halves(), MLPParametrizer(4, 2, 3), SumAggregator(3), input_shape=(4,))
    assert model(torch.randn(5, 4)).logits.shape == (5, 3)
    with pytest.raises(ValueError, match="K=2"):
        SENN(Halves(), MLPParametrizer(4, 3, 3), SumAggregator(3), input_shape=(4,))


def test_construction_check_leaves_training_mode_and_statistics_alone():
    class Normed(nn.Module):  # batch-norm statistics must not see the dummy batch
        def __init__(self):
            super().__init__()
            self.norm = nn.BatchNorm1d(4)

        def forward(self, x):
            return self.norm(x), None

    model = SENN(Normed(), MLPParametrizer(4, 4, 2), SumAggregator(2), input_shape=(4,))
    assert model.training
    assert model.conceptizer.norm.num_batches_tracked == 0
