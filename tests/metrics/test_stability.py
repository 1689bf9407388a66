"""Local Lipschitz estimates: the ball, the estimators, and a case with a known maximum."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch.autograd.functional import jacobian

from senn.config import compose_config
from senn.metrics import concept_lipschitz, local_lipschitz, normalized, senn_explainer, senn_input_explainer
from senn.metrics.stability import sample_ball
from senn.models import SENN, MLPConceptizer, MLPParametrizer, SumAggregator
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


@pytest.mark.parametrize("how", ["max", "unit"])
def test_normalized_estimates_are_scale_free(how):
    model, x = make_model("conv")
    target = torch.zeros(len(x), dtype=torch.long)
    explainer = senn_explainer(model)
    scaled = lambda inputs, t: 10 * explainer(inputs, t)  # noqa: E731

    def estimate(fn):
        return local_lipschitz(fn, x, target, budget=8, generator=torch.Generator().manual_seed(0))

    torch.testing.assert_close(estimate(scaled), 10 * estimate(explainer))
    torch.testing.assert_close(estimate(normalized(scaled, how)), estimate(normalized(explainer, how)))
    e = normalized(explainer, how)(x, target)
    size = e.abs().amax(1) if how == "max" else e.norm(dim=1)
    torch.testing.assert_close(size, torch.ones(len(x), dtype=x.dtype))


def test_unit_normalization_compares_explanations_of_any_length():
    """The same pattern repeated over 16× more entries: max-normalized distances grow 4× (sqrt 16), unit ones
    do not change: the length artefact that a K- vs D-entry comparison would otherwise carry."""
    pattern = torch.tensor([[1.0, -0.5, 0.25, 0.0]], dtype=torch.float64)
    moved = torch.tensor([[0.8, -0.4, 0.5, 0.1]], dtype=torch.float64)

    def distance(how, repeats):
        short = lambda inputs, t: (pattern if inputs.sum() == 0 else moved).repeat(1, repeats)  # noqa: E731
        fn = normalized(short, how)
        zero, one = torch.zeros(1, 1), torch.ones(1, 1)
        return float((fn(zero, None) - fn(one, None)).norm())

    assert distance("max", 16) == pytest.approx(4 * distance("max", 1))
    assert distance("unit", 16) == pytest.approx(distance("unit", 1))
    with pytest.raises(ValueError, match="normalize='l1'"):
        normalized(senn_explainer(make_model("mlp")[0]), "l1")


def test_the_senn_explanation_in_input_space_is_theta_through_the_concept_jacobian():
    model, x = make_model("conv")
    out = model(x)
    target = out.logits.argmax(1)
    theta = out.relevances.gather(2, target.view(-1, 1, 1).expand(-1, 4, 1))[..., 0].detach()  # (B, K)
    expected = torch.stack([torch.einsum("k,k...->...", theta[i], jacobian(lambda z: model(z[None]).concepts[0], x[i]))
                            for i in range(len(x))])  # fmt: skip
    torch.testing.assert_close(senn_input_explainer(model)(x, target), expected)


def test_the_senn_explainer_runs_in_eval_mode_and_restores_the_callers_mode():
    """Dropout in θ would add noise to every explanation and inflate its instability."""
    torch.manual_seed(0)
    model = SENN(MLPConceptizer(6, 3, hidden_sizes=(8,)), MLPParametrizer(6, 3, 2, hidden_sizes=(16,), dropout=0.5),
                 SumAggregator(2, "multiclass"), input_shape=(6,)).train()  # fmt: skip
    x, target = torch.randn(4, 6), torch.zeros(4, dtype=torch.long)
    first, second = senn_explainer(model)(x, target), senn_explainer(model)(x, target)
    torch.testing.assert_close(first, second)  # no dropout masks: the same explanation twice
    assert model.training


def test_the_python_api_and_senn_evaluate_share_their_defaults():
    """The same ε-ball and budget whether a user calls local_lipschitz or runs senn-evaluate."""
    s = compose_config("evaluate", ["ckpt_path=any.ckpt"]).stability
    defaults = inspect.signature(local_lipschitz).parameters
    assert (defaults["epsilon"].default, defaults["budget"].default, defaults["norm"].default) == (
        s.epsilon, s.budget, s.norm)  # fmt: skip
    assert inspect.signature(normalized).parameters["how"].default == s.normalize
