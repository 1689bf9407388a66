"""Every robustness estimator against a brute-force reference built from full Jacobians."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from senn.losses import (
    published_robustness_loss,
    relative_relevance_variation,
    robustness_loss,
    robustness_residual_norm,
)
from senn.models import (
    SENN,
    ConstantParametrizer,
    IdentityConceptizer,
    MLPConceptizer,
    MLPParametrizer,
    SENNOutput,
    SumAggregator,
)
from tests.conftest import make_model


def brute_force_residual(model: SENN, x: torch.Tensor, log_probs: bool = False) -> torch.Tensor:
    """``J_x f − θᵀ J_x h`` per sample (B, C, D) for f = logits (or log-probabilities), differentiable."""

    def f(z: torch.Tensor) -> torch.Tensor:
        logits = model(z[None]).logits[0]
        return logits.log_softmax(0) if log_probs else logits

    residuals = []
    for xi in x:
        jac_f = jacobian(f, xi, create_graph=True).flatten(1)  # (C, D)
        jac_h = jacobian(lambda z: model(z[None]).concepts[0], xi, create_graph=True).flatten(1)  # (K, D)
        theta = model(xi[None]).relevances[0]  # (K, C)
        residuals.append(jac_f - theta.T @ jac_h)
    return torch.stack(residuals)


@pytest.mark.parametrize("estimator", ["exact", "jacobian"])
def test_deterministic_estimators_match_brute_force(tiny, estimator):
    model, x = tiny
    expected = brute_force_residual(model, x).flatten(1).norm(dim=1)
    actual = robustness_residual_norm(model, x, estimator)
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(robustness_loss(model, x, estimator), expected.mean())


@pytest.mark.parametrize("kind", ["conv", "mlp", "identity"])
@pytest.mark.parametrize("num_classes", [3, 1])
def test_exact_parameter_gradients_match_brute_force(kind, num_classes):
    """The loss trains the encoder too: its gradient reaches h's parameters as the definition says."""
    model, x = make_model(kind, num_classes)
    names, params = zip(*model.named_parameters())

    def grads(loss: torch.Tensor) -> list[torch.Tensor]:
        found = torch.autograd.grad(loss, params, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for p, g in zip(params, found)]

    expected = grads(brute_force_residual(model, x).flatten(1).norm(dim=1).mean())
    actual = grads(robustness_loss(model, x, "exact"))
    for name, e, a in zip(names, expected, actual):
        torch.testing.assert_close(a, e, rtol=1e-7, atol=1e-10, msg=f"gradient of {name}")
    if kind != "identity":  # the encoder really is trained by this term
        assert any(e.abs().sum() > 0 for name, e in zip(names, expected) if name.startswith("conceptizer.encoder"))


def test_projection_is_the_projected_residual(tiny):
    """With the same random vectors, the projection estimator equals ||vᵀR|| computed from R."""
    model, x = tiny
    residual = brute_force_residual(model, x).detach()  # (B, C, D)
    v = torch.randn(len(x), residual.shape[1], generator=torch.Generator().manual_seed(7), dtype=x.dtype)
    expected = torch.einsum("bc,bcd->bd", v, residual).norm(dim=1)
    actual = robustness_residual_norm(model, x, "projection", generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-12)


def test_projection_square_is_unbiased():
    model, x = make_model("conv")
    exact_sq = robustness_residual_norm(model, x, "exact").pow(2)
    g = torch.Generator().manual_seed(0)
    estimate = robustness_residual_norm(model, x, "projection", num_projections=4000, generator=g).pow(2)
    # 4000 projections of a chi-square-like variable: relative standard error < 3%.
    torch.testing.assert_close(estimate, exact_sq, rtol=0.1, atol=0)


def test_reusing_the_forward_pass_gives_the_same_loss():
    model, x = make_model("conv")
    x = x.clone().requires_grad_(True)
    out = model(x)
    assert isinstance(out, SENNOutput)
    torch.testing.assert_close(robustness_loss(model, x, output=out), robustness_loss(model, x.detach()))


def test_bad_arguments_are_refused():
    model, x = make_model("mlp")
    with pytest.raises(ValueError, match="not one of"):
        robustness_loss(model, x, "fast")
    with pytest.raises(ValueError, match="must require grad"):
        robustness_loss(model, x, output=model(x))
    with pytest.raises(ValueError, match="num_projections"):
        robustness_loss(model, x, "projection", num_projections=0)


def test_other_aggregators_need_the_jacobian_estimator():
    class Mean(torch.nn.Module):
        num_classes = 3

        def forward(self, concepts, relevances):
            return torch.tanh(torch.einsum("bk,bkc->bc", concepts, relevances))

    model, x = make_model("mlp")
    model.aggregator = Mean()
    with pytest.raises(ValueError, match="estimator='jacobian'"):
        robustness_loss(model, x, "exact")
    expected = brute_force_residual(model, x).flatten(1).norm(dim=1).mean()
    torch.testing.assert_close(robustness_loss(model, x, "jacobian"), expected)


@pytest.mark.parametrize("target", ["logits", "log_probs"])
def test_published_formulation_matches_brute_force(tiny, target):
    """The public implementations' variant: log-probability target, one norm over the whole batch."""
    model, x = tiny
    residual = brute_force_residual(model, x, log_probs=target == "log_probs")  # (B, C, D)
    torch.testing.assert_close(published_robustness_loss(model, x, target, "batch"), residual.norm())
    per_sample = residual.flatten(1).norm(dim=1).mean()
    torch.testing.assert_close(published_robustness_loss(model, x, target, "mean"), per_sample)
    if target == "logits":  # senn's own formulation, whatever the estimator
        torch.testing.assert_close(robustness_loss(model, x, "exact"), per_sample)
    with pytest.raises(ValueError, match="expected target"):
        published_robustness_loss(model, x, "probs")


def test_log_prob_target_penalises_a_model_whose_theta_is_constant():
    """Why the published target fights accuracy: for constant θ and h(x) = x, senn's residual is 0 but
    ``J_x log p_c − θ_c = −Σ_j p_j θ_j`` for every class c, zero only where the predictions are flat."""

    class Constant(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.theta = torch.nn.Parameter(torch.randn(4, 3))  # (K, C)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.theta.expand(len(x), -1, -1)  # (B, K, C)

    torch.manual_seed(0)
    model = SENN(IdentityConceptizer(4), Constant(), SumAggregator(3), input_shape=(4,))
    x = torch.randn(8, 4)
    assert robustness_loss(model, x, "exact").item() < 1e-12
    p = model(x).logits.softmax(1)  # (B, C)
    per_sample = 3**0.5 * (p @ model.parametrizer.theta.T).norm(dim=1)  # sqrt(C)·‖Σ_j p_j θ_j‖, (B,)
    torch.testing.assert_close(published_robustness_loss(model, x, "log_probs", "mean"), per_sample.mean())
    torch.testing.assert_close(published_robustness_loss(model, x, "log_probs", "batch"), per_sample.norm())


def test_training_mode_with_dropout_exact_equals_the_definition_on_the_same_pass():
    """In training, dropout masks θ; the exact estimator's shortcut (the gradient through θ with h held
    constant) still equals the definition's C + K VJPs on the same forward pass (the same masks)."""
    torch.manual_seed(0)
    model = SENN(MLPConceptizer(6, 3, hidden_sizes=(8,)), MLPParametrizer(6, 3, 2, hidden_sizes=(16,), dropout=0.5),
                 SumAggregator(2, "multiclass"), input_shape=(6,)).double().train()  # fmt: skip
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    out = model(x)
    exact = robustness_residual_norm(model, x, "exact", output=out)
    torch.testing.assert_close(exact, robustness_residual_norm(model, x, "jacobian", output=out), rtol=1e-9, atol=0)
    with torch.no_grad():
        assert not torch.allclose(out.relevances, model.eval()(x).relevances)  # the masks were active


def test_regression_outputs_match_brute_force():
    torch.manual_seed(0)
    model = SENN(MLPConceptizer(6, 3, hidden_sizes=(8,)), MLPParametrizer(6, 3, 2, hidden_sizes=(8,)),
                 SumAggregator(2, "regression"), input_shape=(6,)).double().eval()  # fmt: skip
    x = torch.randn(4, 6, dtype=torch.float64)
    expected = brute_force_residual(model, x).flatten(1).norm(dim=1)
    torch.testing.assert_close(robustness_residual_norm(model, x, "exact"), expected, rtol=1e-9, atol=1e-12)


def test_published_batch_norm_has_a_finite_gradient_at_zero_residual():
    """A constant θ makes the residual exactly zero; sqrt(0)'s infinite slope must not reach the weights."""
    torch.manual_seed(0)
    model = SENN(MLPConceptizer(6, 3, hidden_sizes=(8,)), ConstantParametrizer(3, 2), SumAggregator(2, "multiclass"),
                 input_shape=(6,)).double()  # fmt: skip
    x = torch.randn(4, 6, dtype=torch.float64)
    loss = published_robustness_loss(model, x, target="logits", reduction="batch")
    assert float(loss) < 1e-12
    grads = torch.autograd.grad(loss, [p for p in model.parameters()], allow_unused=True)
    assert all(g is None or torch.isfinite(g).all() for g in grads)


def brute_force_relative_jacobian(model: SENN, x: torch.Tensor) -> torch.Tensor:
    """``J_x θ_·c / ||θ_·c||`` per sample, flattened to (B, K·C, D), from the full Jacobian."""
    rows = []
    for xi in x:
        jac = jacobian(lambda z: model(z[None]).relevances[0], xi, create_graph=True).flatten(2)  # (K, C, D)
        theta = model(xi[None]).relevances[0]  # (K, C)
        rows.append((jac / theta.norm(dim=0)[None, :, None]).flatten(0, 1))
    return torch.stack(rows)


def test_relative_relevance_variation_matches_brute_force(tiny):
    model, x = tiny
    expected = brute_force_relative_jacobian(model, x).flatten(1).norm(dim=1)
    torch.testing.assert_close(relative_relevance_variation(model, x, exact=True), expected, rtol=1e-9, atol=1e-12)
    g = torch.Generator().manual_seed(0)
    estimate = relative_relevance_variation(model, x, num_projections=4000, generator=g).pow(2)
    torch.testing.assert_close(estimate, expected.pow(2), rtol=0.1, atol=0)  # unbiased square


def test_relative_relevance_variation_ignores_the_scale_but_not_idle_concepts():
    """θ 5× larger and concepts 5× smaller give the same logits and the same value; and unlike the
    residual, which weighs ``J_x θ_k`` by ``h_k``, it sees θ turn where every concept is 0."""
    model, x = make_model("mlp")
    rescaled = SENN(_Scaled(model.conceptizer, 0.2), _Scaled(model.parametrizer, 5.0), model.aggregator, (6,))
    torch.testing.assert_close(rescaled(x).logits, model(x).logits)
    expected = relative_relevance_variation(model, x, exact=True)
    torch.testing.assert_close(relative_relevance_variation(rescaled, x, exact=True), expected)

    idle = SENN(_Scaled(model.conceptizer, 0.0), model.parametrizer, model.aggregator, (6,))
    assert robustness_loss(idle, x, "exact").item() < 1e-12
    torch.testing.assert_close(relative_relevance_variation(idle, x, exact=True), expected)
    assert expected.min() > 0


class _Scaled(torch.nn.Module):
    """A component whose first output is multiplied by ``factor``."""

    def __init__(self, part: torch.nn.Module, factor: float) -> None:
        super().__init__()
        self.part, self.factor = part, factor
        self.num_concepts, self.out_features = part.num_concepts, getattr(part, "out_features", None)

    def forward(self, x: torch.Tensor):
        out = self.part(x)
        return (out[0] * self.factor, *out[1:]) if isinstance(out, tuple) else out * self.factor
