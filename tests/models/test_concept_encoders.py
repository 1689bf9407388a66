"""Concept activations, β-VAE concepts, the constant concept and the constant (bottleneck) parametrizer."""

from __future__ import annotations

import pytest
import torch

from senn import robustness_loss
from senn.losses import concept_loss
from senn.models import SENN, ConstantParametrizer, ConvConceptizer, MLPConceptizer, MLPParametrizer, SumAggregator


@pytest.mark.parametrize(("activation", "low", "high"), [("relu", 0.0, None), ("sigmoid", 0.0, 1.0)])
def test_concept_activation_bounds_the_concepts(activation, low, high):
    conceptizer = ConvConceptizer(1, 16, num_concepts=4, channels=(3, 4), kernel_size=3, activation=activation)
    concepts, reconstruction = conceptizer(torch.randn(8, 1, 16, 16) * 5)
    assert concepts.min() >= low and (high is None or concepts.max() <= high)
    assert reconstruction.shape == (8, 1, 16, 16)
    with pytest.raises(ValueError, match="activation='tanh' is not one of"):
        MLPConceptizer(5, activation="tanh")


def test_variational_concepts_are_posterior_means_and_kl_is_weighted_per_element():
    torch.manual_seed(0)
    vae = MLPConceptizer(6, num_concepts=3, hidden_sizes=(8,), variational=True, beta=4.0)
    x = torch.randn(5, 6)
    vae.train()
    (c1, r1), (c2, r2) = vae(x), vae(x)
    torch.testing.assert_close(c1, c2)  # concepts: posterior means, no sampling noise
    assert not torch.allclose(r1, r2)  # the decoder sees posterior samples in training
    mean, log_var = vae.posterior
    expected = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1).mean() / 6
    torch.testing.assert_close(vae.kl_loss(), expected)
    vae.eval()
    torch.testing.assert_close(vae(x)[1], vae.decode(vae(x)[0]))  # eval: decode the means
    with pytest.raises(RuntimeError, match="not variational"):
        MLPConceptizer(6).kl_loss()


def test_bias_concept_is_constant_and_not_decoded():
    conceptizer = MLPConceptizer(6, num_concepts=3, bias=True)
    concepts, reconstruction = conceptizer(torch.randn(4, 6))
    assert (conceptizer.num_concepts, conceptizer.out_features) == (3, 4)  # the argument K, and the columns of h
    assert concepts[:, 3].tolist() == [1.0] * 4
    torch.testing.assert_close(conceptizer.decode(concepts), reconstruction)


def test_constant_parametrizer_is_a_bottleneck_with_zero_robustness_term():
    conceptizer = MLPConceptizer(6, num_concepts=3, bias=True, decoder=False)
    model = SENN(conceptizer, ConstantParametrizer(4, 2), SumAggregator(2))
    x = torch.randn(5, 6)
    out = model(x)
    torch.testing.assert_close(out.relevances, model.parametrizer.weight.expand(5, 4, 2))
    torch.testing.assert_close(out.logits, out.concepts @ model.parametrizer.weight)
    assert float(robustness_loss(model, x, "exact").detach()) < 1e-10
    varying = SENN(MLPConceptizer(6, 3), MLPParametrizer(6, 3, 2), SumAggregator(2))
    assert float(robustness_loss(varying, x, "exact").detach()) > 1e-3


def test_concept_loss_supervises_the_first_concepts_and_skips_missing_annotations():
    logits = torch.tensor([[2.0, -1.0, 5.0], [0.0, 3.0, -5.0]])
    targets = torch.tensor([[1.0, float("nan")], [float("nan"), 1.0]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor([2.0, 3.0]), torch.ones(2))
    torch.testing.assert_close(concept_loss(logits, targets), expected)
    probabilities = torch.tensor([[0.9, 0.2, 0.5]])
    torch.testing.assert_close(
        concept_loss(probabilities, torch.tensor([[1.0, 0.0]]), probabilities=True),
        -(torch.log(torch.tensor(0.9)) + torch.log(torch.tensor(0.8))) / 2,
    )
    assert concept_loss(logits, torch.full((2, 2), float("nan"))) == 0
    with pytest.raises(ValueError, match="num_concepts >="):
        concept_loss(logits, torch.zeros(2, 4))


def test_channels_last_convolutions_change_nothing_a_user_sees():
    """The conv trunks and the decoder run in channels-last memory order (faster on the CPU): the same values as
    default-order layers with the same weights, the same state-dict keys (checkpoints written before load), and
    a reconstruction in the default order, which ``view`` accepts."""
    torch.manual_seed(0)
    conceptizer = ConvConceptizer(3, 16, num_concepts=4, channels=(5, 6), kernel_size=3)
    reference = ConvConceptizer(3, 16, num_concepts=4, channels=(5, 6), kernel_size=3)
    for trunk in (reference.encoder_trunk, reference.decoder.net):
        trunk.__class__ = torch.nn.Sequential  # the same layers, run in the default order
        trunk.to(memory_format=torch.contiguous_format)
    state = {k: v.contiguous() for k, v in conceptizer.state_dict().items()}  # as a default-order model saves it
    reference.load_state_dict(state)
    conceptizer.load_state_dict(state)
    assert conceptizer.encoder_trunk[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 16, 16)
    (concepts, reconstruction), (ref_concepts, ref_reconstruction) = conceptizer(x), reference(x)
    torch.testing.assert_close(concepts, ref_concepts)
    torch.testing.assert_close(reconstruction, ref_reconstruction)
    assert reconstruction.is_contiguous() and reconstruction.view(2, -1).shape == (2, 768)
