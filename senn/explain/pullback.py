"""Excitation pullbacks (Satkiewicz 2025): gradients through soft ReLU gates, a post-hoc baseline.

The forward pass is unchanged. In the backward pass every ``nn.ReLU``'s hard gate ``1[z > 0]`` is
replaced by a soft gate ``σ(z/τ)`` (or the Gaussian CDF ``Φ(z/τ)``), and every ``nn.MaxPool2d``
routes its gradient by ``softmax(window/τ)`` instead of to the argmax alone. As τ -> 0 this is the
ordinary input gradient. Functional ``F.relu`` calls cannot be hooked: use ``nn.ReLU`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

GATES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "gaussian": lambda z: 0.5 * (1 + torch.erf(z / 2**0.5)),
}


class _Reroute(torch.autograd.Function):
    """Returns ``value`` unchanged; backpropagates into ``x`` with the given vector-Jacobian product."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, value: torch.Tensor, vjp: Callable) -> torch.Tensor:
        ctx.vjp = vjp
        return value.detach().clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return ctx.vjp(grad), None, None


def soft_relu(z: torch.Tensor, tau: float, gate: str = "sigmoid") -> torch.Tensor:
    """``relu(z)`` exactly in value; in the backward pass the gate ``1[z > 0]`` becomes ``gate(z/τ)``."""
    g = GATES[gate](z.detach() / tau)
    return _Reroute.apply(z, F.relu(z), lambda grad: grad * g)


def soft_max_pool2d(x: torch.Tensor, out: torch.Tensor, pool: nn.MaxPool2d, tau: float) -> torch.Tensor:
    """``out = pool(x)`` exactly in value; each window's gradient goes to its entries by ``softmax(window/τ)``."""
    if pool.dilation not in (1, (1, 1)) or pool.ceil_mode:
        raise ValueError("excitation pullbacks support MaxPool2d without dilation or ceil_mode")
    b, c, h, w = x.shape
    kernel, padding = pool.kernel_size, pool.padding
    stride = pool.stride if pool.stride is not None else kernel
    windows = F.unfold(x.detach().reshape(b * c, 1, h, w), kernel, padding=padding, stride=stride)  # (B·C, k·k, L)
    if padding not in (0, (0, 0)):  # zero padding must never take a share of the gradient
        inside = F.unfold(
            torch.ones(1, 1, h, w, dtype=x.dtype, device=x.device), kernel, padding=padding, stride=stride
        )
        windows = windows.masked_fill(inside == 0, float("-inf"))
    weights = torch.softmax(windows / tau, dim=1)  # (B·C, k·k, L)

    def vjp(grad: torch.Tensor) -> torch.Tensor:
        spread = weights * grad.reshape(b * c, 1, -1)  # (B·C, k·k, L)
        return F.fold(spread, (h, w), kernel, padding=padding, stride=stride).view(b, c, h, w)

    return _Reroute.apply(x, out, vjp)


@contextmanager
def excitation_hooks(model: nn.Module, tau: float, gate: str = "sigmoid") -> Iterator[None]:
    """Within the block, the model's ReLUs and max-pools backpropagate as excitation pullbacks."""
    if gate not in GATES:
        raise ValueError(f"gate {gate!r} is not one of {sorted(GATES)}")
    if tau <= 0:
        raise ValueError(f"tau={tau} must be > 0")
    handles, inplace = [], []
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            if module.inplace:  # an in-place ReLU would overwrite the pre-activation the gate needs
                module.inplace = False
                inplace.append(module)
            handles.append(module.register_forward_hook(lambda m, args, out: soft_relu(args[0], tau, gate)))
        elif isinstance(module, nn.MaxPool2d):
            handles.append(module.register_forward_hook(lambda m, args, out: soft_max_pool2d(args[0], out, m, tau)))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
        for module in inplace:
            module.inplace = True


class ExcitationPullback:
    """Excitation-pullback attributions, called like a Captum explainer: ``ExcitationPullback(f).attribute(x, target)``.

    Args:
        forward_func: the network (an ``nn.Module`` whose ReLUs and max-pools are modules).
        tau: gate temperature (0.3 for the sigmoid gate, ≈0.6 for the Gaussian one).
        gate: ``"sigmoid"`` or ``"gaussian"``.
        steps: 0 for the pullback gradient itself; n > 0 for the paper's other variant, the input
            change after n steps of targeted gradient ascent along the (l2-normalized) pullback.
        step_size: l2 length of each ascent step, relative to the input's norm.
    """

    def __init__(
        self, forward_func: nn.Module, tau: float = 0.3, gate: str = "sigmoid", steps: int = 0, step_size: float = 0.05
    ) -> None:
        if not isinstance(forward_func, nn.Module):
            raise TypeError("ExcitationPullback needs an nn.Module: its ReLU and MaxPool2d modules are hooked")
        self.forward_func, self.tau, self.gate = forward_func, tau, gate
        self.steps, self.step_size = steps, step_size

    def _pullback(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The modified gradient of the target logits w.r.t. the inputs (x's shape)."""
        with torch.enable_grad(), excitation_hooks(self.forward_func, self.tau, self.gate):
            x = x.detach().requires_grad_(True)
            logits = self.forward_func(x)  # (B, C)
            selected = logits.gather(1, target.view(-1, 1)).sum()
            (grad,) = torch.autograd.grad(selected, x)
        return grad

    def attribute(self, inputs: torch.Tensor, target: int | torch.Tensor) -> torch.Tensor:
        """Attributions of x's shape for the ``target`` class(es) (an int or a (B,) tensor)."""
        target = torch.as_tensor(target, device=inputs.device).long().expand(len(inputs))
        if self.steps == 0:
            return self._pullback(inputs, target)
        x = inputs.detach()
        radius = self.step_size * inputs.flatten(1).norm(dim=1).view(-1, *[1] * (inputs.dim() - 1))
        for _ in range(self.steps):
            grad = self._pullback(x, target)
            x = x + radius * grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12).view_as(radius)
        return x - inputs.detach()
