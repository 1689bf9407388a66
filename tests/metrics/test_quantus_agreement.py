"""Our estimators against an independent implementation, Quantus, on the same model, inputs and explanations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from senn.metrics import feature_faithfulness, local_lipschitz

quantus = pytest.importorskip("quantus")

B, SHAPE, SIGMA, BUDGET = 6, (1, 8, 8), 0.1, 20


@pytest.fixture
def setting():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 3)).eval()
    x = torch.randn(B, *SHAPE)
    with torch.no_grad():
        y = model(x).argmax(1)
    return model, x, y


def gradient_explainer(model: nn.Module):
    """The plain gradient of the target logit, differentiable in the input (create_graph)."""

    def explain(inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            inputs = inputs if inputs.requires_grad else inputs.clone().requires_grad_(True)
            selected = model(inputs).gather(1, target.view(-1, 1)).sum()
            return torch.autograd.grad(selected, inputs, create_graph=True)[0]

    return explain


def quantus_explain_func(explain):
    """Our explainer in Quantus' convention (numpy in, numpy out)."""

    def explain_func(model, inputs, targets, **kwargs):
        a = explain(torch.as_tensor(inputs, dtype=torch.float32), torch.as_tensor(targets).long())
        return a.detach().numpy()

    return explain_func


def test_sampling_estimator_equals_quantus_local_lipschitz_estimate(setting):
    model, x, y = setting
    noise = np.random.default_rng(0).normal(0, SIGMA, size=(BUDGET, B, 64)).astype(np.float32)
    drawn = iter(noise)

    def quantus_perturb(arr, indices=None, **kwargs):
        return arr + next(drawn)

    metric = quantus.LocalLipschitzEstimate(nr_samples=BUDGET, perturb_func=quantus_perturb, normalise=False,
                                            abs=False, disable_warnings=True)  # fmt: skip
    explain = gradient_explainer(model)
    theirs = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=None, device="cpu",
                             explain_func=quantus_explain_func(explain)))  # fmt: skip

    shared = torch.from_numpy(noise).permute(1, 0, 2).reshape(B, BUDGET, *SHAPE)  # (B, budget, ...)
    ours = local_lipschitz(explain, x, y, budget=BUDGET, sampler=lambda points, n: points.unsqueeze(1) + shared[:, :n])
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-5)


def test_gradient_ascent_finds_at_least_the_sampled_maximum(setting):
    model, x, y = setting
    metric = quantus.LocalLipschitzEstimate(nr_samples=BUDGET, perturb_std=SIGMA, normalise=False, abs=False,
                                            disable_warnings=True)  # fmt: skip
    explain = gradient_explainer(model)
    sampled = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=None, device="cpu",
                              explain_func=quantus_explain_func(explain)))  # fmt: skip
    radius = SIGMA * 64**0.5  # the typical norm of Quantus' Gaussian perturbations
    ascent = local_lipschitz(explain, x, y, epsilon=radius, estimator="gradient", budget=BUDGET,
                             generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert (ascent.numpy() >= sampled * (1 - 1e-6)).all(), (ascent, sampled)


def test_feature_faithfulness_equals_quantus_faithfulness_estimate(setting):
    model, x, y = setting
    attributions = gradient_explainer(model)(x, y).detach() * x  # input x gradient
    metric = quantus.FaithfulnessEstimate(features_in_step=1, perturb_baseline="black", normalise=False, abs=False,
                                          disable_warnings=True)  # fmt: skip
    theirs = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=attributions.numpy(),
                             device="cpu"))  # fmt: skip
    ours = feature_faithfulness(model, x, attributions, y, baseline="min", output="logit")
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-4, atol=1e-5)
