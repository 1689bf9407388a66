"""Local Lipschitz estimates: the ball, the estimators, and a case with a known maximum."""

from __future__ import annotations

import pytest
import torch

from senn.metrics import concept_lipschitz, local_lipschitz, max_normalised, senn_explainer
from senn.metrics.stability import sample_ball
from tests.conftest import make_model


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_samples_stay_in_the_ball(norm):
    x = torch.randn(3, 1, 4, 4)
    points = sample_ball(x, 500, 0.3, norm, torch.Generator().manual_seed(0))
    delta = (points - x.unsqueeze(1)).flatten(2)
    size = delta.norm(dim=2) if norm == "l2" else delta.abs().amax(2)
    assert points.shape == (3, 500, 1, 4, 4)
    assert size.max() <= 0.3 + 1e-6 and size.max() > 0.25


def test_linear_explainer_reaches_its_top_singular_value():
    """For e(x) = A x the ratio is at most σ_max(A), attained along the top singular vector."""
    torch.manual_seed(0)
    a = torch.randn(5, 8, dtype=torch.float64)
    sigma = torch.linalg.matrix_norm(a, ord=2)
    x = torch.randn(6, 8, dtype=torch.float64)
    target = torch.zeros(6, dtype=torch.long)
    explainer = lambda z, _: z @ a.T  # noqa: E731
    g = torch.Generator().manual_seed(1)
    ascent = local_lipschitz(explainer, x, target, epsilon=0.5, estimator="gradient", budget=100, generator=g)
    sampled = local_lipschitz(explainer, x, target, epsilon=0.5, estimator="sampling", budget=100, generator=g)
    assert (ascent <= sigma + 1e-9).all() and (sampled <= sigma + 1e-9).all()
    assert (ascent >= 0.99 * sigma).all()
    assert (ascent > sampled).all()  # the better estimator of the maximum in the same budget


def test_senn_estimates_are_batched_and_reproducible():
    model, x = make_model("conv")
    target = model(x).logits.argmax(1)
    first = local_lipschitz(senn_explainer(model), x, target, generator=torch.Generator().manual_seed(0))
    again = local_lipschitz(senn_explainer(model), x, target, generator=torch.Generator().manual_seed(0))
    assert first.shape == (4,) and (first > 0).all()
    torch.testing.assert_close(first, again)


def test_concept_mode_of_an_identity_senn_compares_theta_with_the_input():
    model, x = make_model("identity")
    g = torch.Generator().manual_seed(0)
    concept = concept_lipschitz(model, x, epsilon=0.2, budget=50, generator=g)
    g = torch.Generator().manual_seed(0)
    expected = local_lipschitz(
        lambda z, _: model(z).relevances, x, torch.zeros(4, dtype=torch.long), epsilon=0.2, budget=50, generator=g,
        distance_fn=lambda z: torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], 1),
    )  # fmt: skip
    torch.testing.assert_close(concept, expected)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"norm": "l1"}, "norm 'l1'"), ({"budget": 0}, "budget=0"), ({"epsilon": 0}, "epsilon=0"),
     ({"estimator": "bayes"}, "estimator 'bayes'")],
)  # fmt: skip
def test_bad_settings_are_refused(kwargs, match):
    model, x = make_model("mlp")
    with pytest.raises(ValueError, match=match):
        local_lipschitz(senn_explainer(model), x, torch.zeros(4, dtype=torch.long), **kwargs)


def test_max_normalised_estimates_are_scale_free():
    model, x = make_model("conv")
    target = torch.zeros(len(x), dtype=torch.long)
    explainer = senn_explainer(model)
    scaled = lambda inputs, t: 10 * explainer(inputs, t)  # noqa: E731

    def estimate(fn):
        return local_lipschitz(fn, x, target, budget=8, generator=torch.Generator().manual_seed(0))

    torch.testing.assert_close(estimate(scaled), 10 * estimate(explainer))
    torch.testing.assert_close(estimate(max_normalised(scaled)), estimate(max_normalised(explainer)))
    assert max_normalised(explainer)(x, target).abs().amax(1).sub(1).abs().max() < 1e-12
