"""Excitation pullbacks: the forward pass untouched, the ordinary gradient as τ -> 0, soft routing otherwise."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from senn.explain.pullback import ExcitationPullback, excitation_hooks, soft_max_pool2d
from senn.models import LeNetParametrizer, PlainNetwork


@pytest.fixture
def net() -> PlainNetwork:
    torch.manual_seed(0)
    return PlainNetwork(LeNetParametrizer(1, 16, 1, 4, channels=(4, 6), kernel_size=3, hidden_size=12)).eval()


def input_gradient(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    model(x).gather(1, target.view(-1, 1)).sum().backward()
    return x.grad


def test_forward_pass_is_bitwise_unchanged(net):
    x = torch.randn(5, 1, 16, 16)
    with torch.no_grad():
        plain = net(x)
        with excitation_hooks(net, tau=0.3):
            hooked = net(x)
    assert torch.equal(plain, hooked)
    assert not any(m._forward_hooks for m in net.modules())  # every hook removed afterwards


@pytest.mark.parametrize("gate", ["sigmoid", "gaussian"])
def test_reduces_to_the_gradient_as_tau_goes_to_zero(net, gate):
    x, target = torch.randn(5, 1, 16, 16), torch.tensor([0, 1, 2, 3, 0])
    gradient = input_gradient(net, x, target)
    errors = [
        (ExcitationPullback(net, tau, gate).attribute(x, target) - gradient).abs().max() for tau in (1.0, 1e-2, 1e-6)
    ]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-4 * gradient.abs().max()


def test_soft_gates_differ_from_the_gradient(net):
    x, target = torch.randn(3, 1, 16, 16), torch.tensor([1, 2, 3])
    pullback = ExcitationPullback(net, tau=0.3).attribute(x, target)
    assert not torch.allclose(pullback, input_gradient(net, x, target), atol=1e-6)


def test_max_pool_gradient_is_routed_by_softmax():
    pool = nn.MaxPool2d(2)
    x = torch.tensor([[[[1.0, 2.0], [0.0, 4.0]]]], requires_grad=True)
    soft_max_pool2d(x, pool(x), pool, tau=1.0).sum().backward()
    expected = torch.softmax(torch.tensor([1.0, 2.0, 0.0, 4.0]), 0).view(1, 1, 2, 2)
    torch.testing.assert_close(x.grad, expected)
    assert soft_max_pool2d(x, pool(x), pool, tau=1.0).item() == 4.0


def test_in_place_relus_are_handled_and_restored():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 2))
    x = torch.randn(3, 4)
    gradient = input_gradient(model, x, torch.zeros(3, dtype=torch.long))
    torch.testing.assert_close(ExcitationPullback(model, tau=1e-7).attribute(x, 0), gradient)
    assert model[1].inplace


def test_ascent_variant_moves_the_input_towards_the_class(net):
    x, target = torch.randn(4, 1, 16, 16), torch.tensor([0, 1, 2, 3])
    delta = ExcitationPullback(net, steps=5, step_size=0.05).attribute(x, target)
    assert delta.shape == x.shape
    with torch.no_grad():
        gain = net(x + delta).gather(1, target.view(-1, 1)) - net(x).gather(1, target.view(-1, 1))
    assert (gain > 0).all()


def test_bad_settings_are_refused(net):
    with pytest.raises(ValueError, match="tau"):
        ExcitationPullback(net, tau=0).attribute(torch.randn(1, 1, 16, 16), 0)
    with pytest.raises(ValueError, match="gate"):
        ExcitationPullback(net, gate="step").attribute(torch.randn(1, 1, 16, 16), 0)
    with pytest.raises(TypeError, match=r"nn\.Module"):
        ExcitationPullback(lambda x: x)
