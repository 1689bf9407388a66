"""Relevance parametrizers θ(x): map an input batch to per-input linear coefficients (B, K, C)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from senn.models._blocks import conv_trunk, mlp

OUTPUT_ACTIVATIONS = {"linear": nn.Identity, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class _Parametrizer(nn.Module):
    """Shared head: a network producing K·C numbers per input, reshaped to (B, K, C).

    ``output_activation`` bounds the relevances: ``linear`` (unbounded, the default), ``tanh``
    (θ in (−1, 1), what the authors' and the 2020 reproduction's code do) or ``sigmoid`` (θ in
    (0, 1), the authors' ``only_positive``).
    """

    def __init__(
        self, input_shape: tuple[int, ...], num_concepts: int, num_classes: int, output_activation: str
    ) -> None:
        super().__init__()
        if output_activation not in OUTPUT_ACTIVATIONS:
            choices = list(OUTPUT_ACTIVATIONS)
            raise ValueError(f"{type(self).__name__}: output_activation={output_activation!r} is not one of {choices}")
        self.input_shape = input_shape
        self.num_concepts = num_concepts
        self.num_classes = num_classes
        self.output_activation = OUTPUT_ACTIVATIONS[output_activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the relevances θ(x) of shape (B, K, C)."""
        theta = self.output_activation(self.net(x))
        return theta.view(-1, self.num_concepts, self.num_classes)  # (B, K·C) -> (B, K, C)


class MLPParametrizer(_Parametrizer):
    """Fully connected parametrizer for tabular or flattened inputs (the paper's COMPAS / UCI θ).

    Args:
        in_features: D, the number of input features (inputs of any shape are flattened).
        num_concepts: the concepts it weighs, the conceptizer's ``out_features`` (K, or K + 1 with a bias concept).
        num_classes: C, the number of outputs (1 for binary or single-target regression).
        hidden_sizes: widths of the hidden layers.
        dropout: dropout after each hidden layer.
        output_activation: ``linear``, ``tanh`` or ``sigmoid`` applied to θ.
    """

    def __init__(
        self,
        in_features: int,
        num_concepts: int,
        num_classes: int,
        hidden_sizes: Sequence[int] = (64, 64),
        dropout: float = 0.0,
        output_activation: str = "linear",
    ) -> None:
        super().__init__((in_features,), num_concepts, num_classes, output_activation)
        self.net = nn.Sequential(nn.Flatten(), mlp([in_features, *hidden_sizes, num_concepts * num_classes], dropout))


class LeNetParametrizer(_Parametrizer):
    """The paper's MNIST parametrizer: ``conv(10, 20) -> FC(hidden) -> FC(K·C)``, LeNet style.

    Args:
        in_channels: image channels.
        image_size: height and width of the (square) input images.
        num_concepts: the concepts it weighs, the conceptizer's ``out_features`` (K, or K + 1 with a bias concept).
        num_classes: C.
        channels: output channels of the convolution blocks.
        kernel_size: convolution kernel size.
        hidden_size: width of the hidden fully connected layer.
        dropout: dropout (2-D after the last convolution, 1-D after the hidden layer).
        padding: zero padding of each convolution (``kernel_size // 2`` keeps the size before pooling).
        output_activation: ``linear``, ``tanh`` or ``sigmoid`` applied to θ.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_concepts: int = 5,
        num_classes: int = 10,
        channels: Sequence[int] = (10, 20),
        kernel_size: int = 5,
        hidden_size: int = 50,
        dropout: float = 0.5,
        padding: int = 0,
        output_activation: str = "linear",
    ) -> None:
        super().__init__((in_channels, image_size, image_size), num_concepts, num_classes, output_activation)
        trunk, sizes = conv_trunk(in_channels, image_size, channels, kernel_size, dropout, padding)
        head = mlp([channels[-1] * sizes[-1] ** 2, hidden_size, num_concepts * num_classes], dropout)
        self.net = nn.Sequential(trunk, nn.Flatten(), head)


class CIFARParametrizer(_Parametrizer):
    """The paper's deeper CIFAR-10 parametrizer: VGG-style ``conv(64, 128, 256, 512, 512) -> FC(256, 128, K·C)``.

    Each block is ``conv 3x3 (padding 1) -> ReLU -> maxpool 2``; pooling stops at 1x1, so smaller
    images work too. No batch normalization: its batch statistics would couple the samples, and the
    robustness regularizer is a per-sample derivative.

    Args:
        in_channels: image channels.
        image_size: height and width of the (square) input images.
        num_concepts: the concepts it weighs, the conceptizer's ``out_features`` (K, or K + 1 with a bias concept).
        num_classes: C.
        channels: output channels of the convolution blocks.
        hidden_sizes: widths of the fully connected hidden layers.
        dropout: dropout after each fully connected hidden layer.
        output_activation: ``linear``, ``tanh`` or ``sigmoid`` applied to θ.
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        num_concepts: int = 5,
        num_classes: int = 10,
        channels: Sequence[int] = (64, 128, 256, 512, 512),
        hidden_sizes: Sequence[int] = (256, 128),
        dropout: float = 0.5,
        output_activation: str = "linear",
    ) -> None:
        super().__init__((in_channels, image_size, image_size), num_concepts, num_classes, output_activation)
        layers: list[nn.Module] = []
        size = image_size
        for c_in, c_out in zip([in_channels, *channels[:-1]], channels):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            if size > 1:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        head = mlp([channels[-1] * size**2, *hidden_sizes, num_concepts * num_classes], dropout)
        self.net = nn.Sequential(*layers, nn.Flatten(), head)


class ConstantParametrizer(nn.Module):
    """θ that does not depend on the input: one learned (K, C) matrix for every example.

    With supervised concepts this makes a SENN a concept bottleneck model (concepts -> linear layer),
    the baseline that shows what an input-dependent θ adds. Its robustness term is 0. A constant
    concept (the conceptizer's ``bias``) gives it the bottleneck's intercept.

    Args:
        num_concepts: the concepts it weighs, the conceptizer's ``out_features`` (K, or K + 1 with a bias concept).
        num_classes: C.
    """

    def __init__(self, num_concepts: int, num_classes: int) -> None:
        super().__init__()
        self.num_concepts, self.num_classes = num_concepts, num_classes
        self.weight = nn.Parameter(torch.randn(num_concepts, num_classes) / num_concepts**0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the same relevances (B, K, C) for every input."""
        return self.weight.expand(len(x), -1, -1)
