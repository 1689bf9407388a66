"""Small building blocks shared by the conceptizers and relevance parametrizers."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn


def mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given widths with ReLU (and dropout) between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class ChannelsLastSequential(nn.Sequential):
    """:class:`~torch.nn.Sequential` run in channels-last memory order, its 4-D weights and its input alike.

    The CPU's convolutions are faster in that order, the decoder's transposed ones most; the ``exact``
    estimator's double backward passes through θ are slower (timings: the README's changelog and
    ``experiments/results/README.md``). A channels-last input with default-order weights is slower than
    either. Values, shapes and state-dict keys are unchanged, so checkpoints load as before."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__(*layers)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The layers applied to ``x`` (B, C, H, W) in channels-last order."""
        return super().forward(x.contiguous(memory_format=torch.channels_last))


def conv_trunk(
    in_channels: int,
    image_size: int,
    channels: Sequence[int],
    kernel_size: int,
    dropout: float = 0.0,
    padding: int = 0,
) -> tuple[nn.Sequential, list[int]]:
    """LeNet-style blocks ``conv(k, padding) -> [dropout2d] -> maxpool 2 -> ReLU``, one per entry of ``channels``.

    Returns the trunk and the spatial size before the first and after every block. Raises
    ``ValueError`` when the image is too small for the number of blocks.
    """
    sizes = [image_size]
    layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate(zip([in_channels, *channels[:-1]], channels)):
        size = (sizes[-1] + 2 * padding - kernel_size + 1) // 2
        if size < 1:
            raise ValueError(
                f"image_size={image_size} is too small for {len(channels)} conv blocks of kernel_size="
                f"{kernel_size} (block {i + 1} would output {size} pixels); use fewer channels or a smaller kernel"
            )
        layers.append(nn.Conv2d(c_in, c_out, kernel_size, padding=padding))
        if dropout > 0 and i == len(channels) - 1:
            layers.append(nn.Dropout2d(dropout))
        layers += [nn.MaxPool2d(2), nn.ReLU()]
        sizes.append(size)
    return ChannelsLastSequential(*layers), sizes


class SharedPass:
    """One forward pass's intermediate result, kept by its first reader for a second one (a conceptizer's backbone
    features or embeddings, which the parametrizer reads too): handed out once, and only for the very same input
    tensor, unchanged, in the same grad mode."""

    def __init__(self) -> None:
        self._kept: tuple[torch.Tensor, int, bool, torch.Tensor] | None = None

    def keep(self, x: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Remember ``value`` computed from ``x``; returns it."""
        self._kept = (x, x._version, torch.is_grad_enabled(), value)
        return value

    def take(self, x: torch.Tensor) -> torch.Tensor | None:
        """The value kept for ``x`` (then forgotten), or None."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] is x and kept[1] == x._version and kept[2] == torch.is_grad_enabled():
            return kept[3]
        return None
