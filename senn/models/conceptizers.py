"""Concept encoders h(x): map an input batch to ``(concepts (B, K), reconstruction or None)``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from senn.models._blocks import conv_trunk, mlp


class ConvConceptizer(nn.Module):
    """Convolutional sparse autoencoder for images (the paper's MNIST / CIFAR-10 concept encoder).

    Encoder: ``conv(k) -> maxpool 2 -> ReLU`` per entry of ``channels``, then a linear layer to
    ``num_concepts``. Decoder (optional): the mirror image, upsampling back to the exact input size,
    so any channel count and image size work.

    Args:
        in_channels: image channels (1 for MNIST, 3 for CIFAR-10).
        image_size: height and width of the (square) input images.
        num_concepts: K, the number of concepts.
        channels: output channels of each convolution block.
        kernel_size: convolution kernel size.
        decoder: build the decoder; without it the reconstruction is ``None``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_concepts: int = 5,
        channels: Sequence[int] = (10, 20),
        kernel_size: int = 5,
        decoder: bool = True,
    ) -> None:
        super().__init__()
        self.input_shape = (in_channels, image_size, image_size)
        self.num_concepts = num_concepts
        self.encoder_trunk, sizes = conv_trunk(in_channels, image_size, channels, kernel_size)
        features = channels[-1] * sizes[-1] ** 2
        self.encoder_head = nn.Linear(features, num_concepts)
        self.decoder = _ConvDecoder(num_concepts, in_channels, channels, kernel_size, sizes) if decoder else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``x`` (B, C, H, W) into concepts (B, K) and decode them back (B, C, H, W)."""
        concepts = self.encoder_head(self.encoder_trunk(x).flatten(1))  # (B, K)
        reconstruction = self.decoder(concepts) if self.decoder is not None else None
        return concepts, reconstruction


class _ConvDecoder(nn.Module):
    """Mirror of :func:`conv_trunk`: linear -> (upsample -> transposed conv -> ReLU) per block."""

    def __init__(
        self, num_concepts: int, in_channels: int, channels: Sequence[int], kernel_size: int, sizes: list[int]
    ) -> None:
        super().__init__()
        # sizes = [input, after block 1, ..., after block n]; each block: conv (s -> s-k+1), pool (/2).
        self.start = (channels[-1], sizes[-1], sizes[-1])
        self.linear = nn.Linear(num_concepts, math.prod(self.start))
        outs = [*reversed(channels[:-1]), in_channels]
        ins = list(reversed(channels))
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(ins, outs)):
            target = sizes[-2 - i]  # size before this encoder block
            layers += [nn.Upsample(size=target - kernel_size + 1), nn.ConvTranspose2d(c_in, c_out, kernel_size)]
            if i < len(ins) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, concepts: torch.Tensor) -> torch.Tensor:
        """Decode concepts (B, K) into an image (B, C, H, W)."""
        z = torch.relu(self.linear(concepts)).view(-1, *self.start)  # (B, C_last, s, s)
        return self.net(z)


class MLPConceptizer(nn.Module):
    """Fully connected sparse autoencoder for tabular or flattened inputs.

    Args:
        in_features: D, the number of input features (inputs of any shape are flattened).
        num_concepts: K, the number of concepts.
        hidden_sizes: widths of the encoder's hidden layers (the decoder mirrors them).
        decoder: build the decoder; without it the reconstruction is ``None``.
    """

    def __init__(
        self, in_features: int, num_concepts: int = 5, hidden_sizes: Sequence[int] = (64,), decoder: bool = True
    ) -> None:
        super().__init__()
        self.input_shape = (in_features,)
        self.num_concepts = num_concepts
        self.encoder = mlp([in_features, *hidden_sizes, num_concepts])
        self.decoder = mlp([num_concepts, *reversed(hidden_sizes), in_features]) if decoder else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``x`` (B, *) into concepts (B, K) and decode them back to ``x``'s shape."""
        concepts = self.encoder(x.flatten(1))  # (B, K)
        reconstruction = self.decoder(concepts).view_as(x) if self.decoder is not None else None
        return concepts, reconstruction


class IdentityConceptizer(nn.Module):
    """Raw input features as concepts, ``h(x) = x`` (flattened), optionally with a constant 1 concept.

    With ``bias=True`` the last concept is the constant 1, so its relevance acts as an
    input-dependent intercept. There is no reconstruction.

    Args:
        in_features: D, the number of input features.
        bias: append the constant concept (then K = D + 1).
    """

    def __init__(self, in_features: int, bias: bool = False) -> None:
        super().__init__()
        self.input_shape = (in_features,)
        self.bias = bias
        self.num_concepts = in_features + int(bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Return the flattened input (B, D), plus a ones column when ``bias``, and no reconstruction."""
        concepts = x.flatten(1)  # (B, D)
        if self.bias:
            concepts = torch.cat([concepts, concepts.new_ones(len(x), 1)], dim=1)  # (B, D + 1)
        return concepts, None
