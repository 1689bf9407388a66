"""``senn.intervene`` and intervention curves on a SENN whose label is a function of its concepts."""

from __future__ import annotations

import pytest
import torch

import senn
from senn.metrics import intervention_curve, intervention_values
from senn.models import SENN, ConstantParametrizer, MLPConceptizer, SumAggregator
from tests.conftest import make_model


def test_intervene_replaces_concepts_and_keeps_relevances():
    model, x = make_model("mlp")
    out = model(x)
    edited = senn.intervene(model, x, {0: 2.0, 2: torch.arange(4, dtype=x.dtype)})
    torch.testing.assert_close(edited.relevances, out.relevances)
    torch.testing.assert_close(edited.concepts[:, 1], out.concepts[:, 1])
    assert edited.concepts[:, 0].tolist() == [2.0] * 4 and edited.concepts[:, 2].tolist() == [0, 1, 2, 3]
    expected = torch.einsum("bk,bkc->bc", edited.concepts, out.relevances)
    torch.testing.assert_close(edited.logits, expected)
    assert edited.reconstruction.shape == x.shape  # the decoder's picture of the edited concepts
    torch.testing.assert_close(senn.intervene(model, x, {}).logits, out.logits)


def test_intervene_names_bad_requests():
    model, x = make_model("mlp")
    with pytest.raises(ValueError, match="concept 7 does not exist"):
        senn.intervene(model, x, {7: 1.0})
    with pytest.raises(ValueError, match="one per input"):
        senn.intervene(model, x, {0: torch.ones(3)})
    with pytest.raises(ValueError, match="concept 1 is NaN or infinite"):
        senn.intervene(model, x, {1: float("nan")})


def bottleneck_with_noisy_concepts() -> tuple[SENN, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A bottleneck SENN: concept k = true concept k plus noise; label = 1 when at least 2 of 3 are on."""
    g = torch.Generator().manual_seed(0)
    true = (torch.rand(400, 3, generator=g) > 0.5).float()
    x = true * 2 - 1 + 1.2 * torch.randn(400, 3, generator=g)  # noisy evidence of each concept
    labels = (true.sum(1) >= 2).long()
    conceptizer = MLPConceptizer(3, num_concepts=3, hidden_sizes=(), decoder=False, bias=True)
    with torch.no_grad():
        conceptizer.encoder[0].weight.copy_(torch.eye(3))
        conceptizer.encoder[0].bias.zero_()
        parametrizer = ConstantParametrizer(4, 1)
        parametrizer.weight.copy_(torch.tensor([[1.0], [1.0], [1.0], [0.0]]))  # logit = Σ h (h in ±1 units)
    return SENN(conceptizer, parametrizer, SumAggregator(1, "binary")), x, labels, true


def test_intervention_curve_reaches_the_label_function_when_every_concept_is_set():
    model, x, labels, true = bottleneck_with_noisy_concepts()
    values = intervention_values(x, true, [0, 1, 2])  # from the (here: same) training inputs
    assert (values[:, 0] < 0).all() and (values[:, 1] > 0).all()
    curve = intervention_curve(model, x, labels, true, [0, 1, 2], values, num_orders=5)
    assert curve.random.shape == (4,) and curve.random[-1] == 1.0 and curve.uncertain_first[-1] == 1.0
    assert curve.random[0] < 0.9  # noisy concepts: the model errs before any intervention
    assert curve.uncertain_first[1] >= curve.random[1]  # fixing the least certain concept first helps most
    assert 0 < curve.random_area < 1
    assert model.training  # restored


def test_intervention_values_follow_the_concepts_direction():
    _, x, _, true = bottleneck_with_noisy_concepts()
    flipped = intervention_values(-x, true, [0, 1, 2])
    assert (flipped[:, 0] > 0).all() and (flipped[:, 1] < 0).all()


def test_intervention_curve_checks_shapes():
    model, x, labels, true = bottleneck_with_noisy_concepts()
    with pytest.raises(ValueError, match="matching must be"):
        intervention_curve(model, x, labels, true, [0, 1], torch.zeros(3, 2))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here: runs on a GPU machine")
def test_interventions_run_on_cuda():
    model, x, labels, true = bottleneck_with_noisy_concepts()
    model, x = model.cuda(), x.cuda()
    values = intervention_values(x, true, [0, 1, 2])
    curve = intervention_curve(model, x, labels, true, [0, 1, 2], values, num_orders=2)
    assert curve.random[-1] == 1.0
    assert senn.intervene(model, x, {0: torch.ones(len(x), device="cuda")}).logits.device.type == "cuda"
