"""Faithfulness metrics against loop references and cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from senn.metrics import class_probability, concept_faithfulness, feature_faithfulness, pearson
from tests.conftest import make_model


def test_pearson_matches_numpy():
    a, b = torch.randn(5, 7, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    expected = [np.corrcoef(a[i], b[i])[0, 1] for i in range(5)]
    torch.testing.assert_close(pearson(a, b), torch.tensor(expected, dtype=torch.float64))


def loop_concept_faithfulness(model, x, baseline):
    """One example and one concept at a time, straight from the definition."""
    scores = []
    for xi in x:
        out = model.eval()(xi[None])
        h, theta = out.concepts[0], out.relevances[0]  # (K,), (K, C)
        binary = model.task == "binary"
        y = int(out.logits[0, 0] > 0) if binary else int(out.logits.argmax())
        p = class_probability(out.logits, torch.tensor([y]), model.task)[0]
        drops, relevance = [], []
        for k in range(len(h)):
            removed = h.clone()
            removed[k] = baseline[k]
            logits = (removed[:, None] * theta).sum(0, keepdim=True)
            drops.append(p - class_probability(logits, torch.tensor([y]), model.task)[0])
            relevance.append(theta[k, 0] * (1 if y else -1) if binary else theta[k, y])
        scores.append(np.corrcoef(torch.stack(relevance).detach(), torch.stack(drops).detach())[0, 1])
    return torch.tensor(scores, dtype=x.dtype)


@pytest.mark.parametrize("kind,num_classes", [("conv", 3), ("mlp", 3), ("identity", 1), ("mlp", 1)])
def test_concept_faithfulness_matches_the_definition(kind, num_classes):
    model, x = make_model(kind, num_classes)
    k = model(x).concepts.shape[1]
    baseline = torch.linspace(-0.5, 0.5, k, dtype=x.dtype)
    torch.testing.assert_close(concept_faithfulness(model, x, baseline=baseline),
                               loop_concept_faithfulness(model, x, baseline))  # fmt: skip
    torch.testing.assert_close(concept_faithfulness(model, x), loop_concept_faithfulness(model, x, torch.zeros(k)))


def test_feature_faithfulness_is_one_for_exact_attributions_of_a_linear_model():
    w = torch.randn(6, 3, dtype=torch.float64)
    x = torch.randn(4, 6, dtype=torch.float64)
    target = torch.tensor([0, 1, 2, 0])
    attributions = x * w[:, target].T  # gradient × input, exact for a linear model with baseline 0
    scores = feature_faithfulness(lambda z: z @ w, x, attributions, target, output="logit")
    torch.testing.assert_close(scores, torch.ones(4, dtype=torch.float64))
    assert (feature_faithfulness(lambda z: z @ w, x, -attributions, target, output="logit") < -0.999).all()


def test_feature_faithfulness_of_a_single_output_model():
    """A binary model's one logit z: exact attributions towards either class score 1, with the logit (±z)
    and with the probability the same as the equivalent two-output softmax (−z/2, z/2)."""
    w = torch.randn(6, 1, dtype=torch.float64)
    x = torch.randn(4, 6, dtype=torch.float64)
    target = torch.tensor([0, 1, 1, 0])
    towards = x * w[:, 0] * (2 * target - 1).unsqueeze(1)  # gradient × input of the explained class's score
    scores = feature_faithfulness(lambda z: z @ w, x, towards, target, output="logit")
    torch.testing.assert_close(scores, torch.ones(4, dtype=torch.float64))
    two = feature_faithfulness(lambda z: torch.cat([-(z @ w), z @ w], 1) / 2, x, towards, target)
    torch.testing.assert_close(feature_faithfulness(lambda z: z @ w, x, towards, target), two)


def test_feature_faithfulness_patches_and_baselines_match_a_loop():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 4)).double()
    x = torch.randn(3, 2, 6, 6, dtype=torch.float64)
    attributions = torch.randn_like(x)
    target = torch.tensor([1, 3, 0])
    actual = feature_faithfulness(net, x, attributions, target, baseline="min", group_size=3)
    expected = []
    for i in range(3):
        p = net(x[i : i + 1]).softmax(1)[0, target[i]]
        drops, sums = [], []
        for top in (0, 3):
            for left in (0, 3):
                z = x[i : i + 1].clone()
                z[..., top : top + 3, left : left + 3] = x[i].min()
                drops.append(p - net(z).softmax(1)[0, target[i]])
                sums.append(attributions[i, :, top : top + 3, left : left + 3].sum())
        expected.append(np.corrcoef(torch.stack(sums), torch.stack(drops).detach())[0, 1])
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=torch.float64))


def test_feature_faithfulness_rejects_mismatched_attributions():
    with pytest.raises(ValueError, match="attributions have shape"):
        feature_faithfulness(lambda z: z, torch.randn(2, 3), torch.randn(2, 4), torch.zeros(2, dtype=torch.long))
