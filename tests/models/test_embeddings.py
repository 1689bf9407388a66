"""The concept-embedding model as a SENN: the same logits as CEM's own computation, CEM's interventions, one
embedding pass per forward, and the links between its two parts."""

from __future__ import annotations

import copy

import pytest
import torch

import senn
from senn.models import SENN, ConceptEmbeddingConceptizer, ConceptEmbeddingParametrizer, SumAggregator


def cem(kind: str = "table") -> tuple[SENN, torch.Tensor]:
    torch.manual_seed(0)
    if kind == "table":
        conceptizer, x = ConceptEmbeddingConceptizer(in_features=6, num_concepts=3, embedding_size=4), torch.randn(5, 6)
    else:
        conceptizer = ConceptEmbeddingConceptizer(in_channels=1, image_size=12, num_concepts=3, embedding_size=4,
                                                  channels=(3, 5), kernel_size=3)  # fmt: skip
        x = torch.randn(5, 1, 12, 12)
    return SENN(conceptizer, ConceptEmbeddingParametrizer(4, 2), SumAggregator(2)), x


def cem_logits(model: SENN, x: torch.Tensor, probabilities: torch.Tensor | None = None) -> torch.Tensor:
    """CEM's own label predictor: W [ĉ_1; …; ĉ_K] + b with ĉ_k = p_k c_k^+ + (1 − p_k) c_k^−."""
    embeddings = model.conceptizer.embeddings(x)  # (B, K, 2, m)
    p = model(x).concepts[:, :3] if probabilities is None else probabilities  # (B, K)
    mixed = p.unsqueeze(2) * embeddings[:, :, 0] + (1 - p.unsqueeze(2)) * embeddings[:, :, 1]  # (B, K, m)
    return model.parametrizer.linear(mixed.flatten(1))


@pytest.mark.parametrize("kind", ["table", "image"])
def test_the_senn_sum_is_cems_linear_label_predictor(kind):
    model, x = cem(kind)
    out = model(x)
    torch.testing.assert_close(out.logits, cem_logits(model, x))
    assert out.concepts.shape == (5, 4) and torch.all(out.concepts[:, 3] == 1)
    assert torch.all((out.concepts[:, :3] > 0) & (out.concepts[:, :3] < 1))


def test_setting_a_concept_is_cems_intervention():
    model, x = cem()
    edited = senn.intervene(model, x, {1: 1.0, 2: 0.0})
    p = model(x).concepts[:, :3].clone()
    p[:, 1], p[:, 2] = 1.0, 0.0
    torch.testing.assert_close(edited.logits, cem_logits(model, x, p))


def test_one_embedding_pass_per_forward_and_copies_keep_their_own_link():
    model, x = cem()
    calls = []
    model.conceptizer.trunk.register_forward_hook(lambda *args: calls.append(1))
    model(x)
    assert len(calls) == 1
    twin = copy.deepcopy(model)
    assert twin.parametrizer.source is twin.conceptizer
    for p in twin.parameters():
        p.data.add_(0.1)
    assert not torch.allclose(twin(x).logits, model(x).logits)
    twin.load_state_dict(model.state_dict())
    torch.testing.assert_close(twin(x).logits, model(x).logits)


def test_the_parts_must_fit():
    with pytest.raises(ValueError, match="bias=true"):
        SENN(ConceptEmbeddingConceptizer(in_features=6, num_concepts=3, bias=False), ConceptEmbeddingParametrizer(3, 2),
             SumAggregator(2))  # fmt: skip
    with pytest.raises(ValueError, match="num_concepts=5 but the conceptizer gives 4"):
        SENN(ConceptEmbeddingConceptizer(in_features=6, num_concepts=3), ConceptEmbeddingParametrizer(5, 2),
             SumAggregator(2))  # fmt: skip
    with pytest.raises(ValueError, match="give in_features"):
        ConceptEmbeddingConceptizer(num_concepts=3)


def test_a_pretrained_backbone_can_be_the_trunk():
    torch.manual_seed(0)
    conceptizer = ConceptEmbeddingConceptizer(in_channels=3, image_size=16, num_concepts=3, embedding_size=4,
                                              backbone="resnet18", weights="none")  # fmt: skip
    model = SENN(conceptizer, ConceptEmbeddingParametrizer(4, 2), SumAggregator(2))
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(model(x).logits, cem_logits(model, x))
    assert not any(p.requires_grad for p in conceptizer.trunk.parameters())  # frozen by default
