"""Conceptizers h(x), the concept encoders: map an input batch to ``(concepts (B, K), reconstruction or None)``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from senn.models._blocks import ChannelsLastSequential, conv_trunk, mlp

CONCEPT_ACTIVATIONS = {"linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


def concepts_are_probabilities(conceptizer: nn.Module) -> bool:
    """Whether a conceptizer's concepts lie in (0, 1) (a sigmoid activation), so 0 / 1 annotations can stand in."""
    return getattr(conceptizer, "activation_name", None) == "sigmoid"


class _Autoencoder(nn.Module):
    """What the autoencoder conceptizers share: the concept activation and the optional variational code.

    The encoder outputs the code (B, K) or, when ``variational`` (a β-VAE, the 2020 reproduction's
    disentangled SENN), the posterior mean μ and log-variance (B, 2K). The concepts are ``activation(μ)``,
    deterministic, so the robustness regularizer and the explanations see no sampling noise; the decoder
    decodes ``activation(z)``, z sampled from the posterior in training and z = μ in eval mode. The
    training objective then adds ``beta`` times :meth:`kl_loss`.
    """

    def _init_code(self, num_concepts: int, activation: str, variational: bool, beta: float, bias: bool) -> None:
        if activation not in CONCEPT_ACTIVATIONS:
            raise ValueError(
                f"{type(self).__name__}: activation={activation!r} is not one of {list(CONCEPT_ACTIVATIONS)}"
            )
        if beta < 0:
            raise ValueError(f"{type(self).__name__}: beta={beta} must be >= 0")
        self.num_concepts, self.bias = num_concepts, bias
        self.out_features = num_concepts + int(bias)  # the columns of h: the K concepts and the constant one
        self.activation_name = activation
        self.activation = CONCEPT_ACTIVATIONS[activation]()
        self.variational, self.beta = variational, beta
        self.posterior: tuple[torch.Tensor, torch.Tensor] | None = None

    def _code(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Concepts (B, K [+ 1]) and the code to decode (B, K) from the encoder's output (B, K or 2K)."""
        if self.variational:
            mean, log_var = params.chunk(2, dim=1)  # (B, K), (B, K)
            self.posterior = (mean, log_var)
            z = mean + torch.randn_like(mean) * (0.5 * log_var).exp() if self.training else mean
            concepts, code = self.activation(mean), self.activation(z)
        else:
            concepts = code = self.activation(params)
        if self.bias:
            concepts = torch.cat([concepts, concepts.new_ones(len(concepts), 1)], dim=1)  # (B, K + 1)
        return concepts, code

    def decode(self, concepts: torch.Tensor) -> torch.Tensor:
        """Decode concepts (B, K [+ 1]) into inputs; the constant ``bias`` concept is not part of the code."""
        if self.decoder is None:
            raise ValueError(f"{type(self).__name__} has no decoder (decoder=false)")
        code = concepts[:, : self.num_concepts]  # (B, K)
        out = self.decoder(code)
        return out.view(len(code), *self.input_shape)

    def kl_loss(self) -> torch.Tensor:
        """KL(q(z|x) ‖ N(0, I)) of the last forward pass: summed over the K dimensions, averaged over the batch,
        divided by the input size D, so that ``beta`` weighs it against the per-element reconstruction MSE
        (β = 1 is then a VAE whose Gaussian decoder has variance ½)."""
        if self.posterior is None:
            raise RuntimeError(f"{type(self).__name__}.kl_loss: not variational, or no forward pass yet")
        mean, log_var = self.posterior
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum(1).mean()
        return kl / math.prod(self.input_shape)


class ConvConceptizer(_Autoencoder):
    """Convolutional sparse autoencoder for images (the paper's MNIST / CIFAR-10 conceptizer).

    Encoder: ``conv(k) -> maxpool 2 -> ReLU`` per entry of ``channels``, then a linear layer to
    ``num_concepts`` and the concept ``activation``. Decoder (optional): the mirror image, upsampling
    back to the exact input size, so any channel count and image size work.

    Args:
        in_channels: image channels (1 for MNIST, 3 for CIFAR-10).
        image_size: height and width of the (square) input images.
        num_concepts: K, the number of concepts.
        channels: output channels of each convolution block.
        kernel_size: convolution kernel size.
        decoder: build the decoder; without it the reconstruction is ``None``.
        activation: ``linear`` (signed, unbounded: the paper), ``relu`` (non-negative: 0 means absent)
            or ``sigmoid`` (in (0, 1): a concept's probability).
        variational: a β-VAE code: concepts are posterior means, the loss adds ``beta``·KL.
        beta: weight of the KL term when ``variational``.
        bias: append a constant 1 concept (``out_features`` = K + 1 columns), whose relevance acts as an
            input-dependent intercept; needed where "all concepts absent" must still predict a class.
    """

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        num_concepts: int = 5,
        channels: Sequence[int] = (10, 20),
        kernel_size: int = 5,
        decoder: bool = True,
        activation: str = "linear",
        variational: bool = False,
        beta: float = 1.0,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = (in_channels, image_size, image_size)
        self._init_code(num_concepts, activation, variational, beta, bias)
        self.encoder_trunk, sizes = conv_trunk(in_channels, image_size, channels, kernel_size)
        features = channels[-1] * sizes[-1] ** 2
        self.encoder_head = nn.Linear(features, num_concepts * (2 if variational else 1))
        self.decoder = _ConvDecoder(num_concepts, in_channels, channels, kernel_size, sizes) if decoder else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``x`` (B, C, H, W) into concepts (B, K) and decode them back (B, C, H, W)."""
        concepts, code = self._code(self.encoder_head(self.encoder_trunk(x).flatten(1)))  # (B, K), (B, K)
        reconstruction = self.decoder(code) if self.decoder is not None else None
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
        self.net = ChannelsLastSequential(*layers)

    def forward(self, concepts: torch.Tensor) -> torch.Tensor:
        """Decode concepts (B, K) into an image (B, C, H, W)."""
        z = torch.relu(self.linear(concepts)).view(-1, *self.start)  # (B, C_last, s, s)
        return self.net(z).contiguous()


class MLPConceptizer(_Autoencoder):
    """Fully connected sparse autoencoder for tabular or flattened inputs.

    Args:
        in_features: D, the number of input features (inputs of any shape are flattened).
        num_concepts: K, the number of concepts.
        hidden_sizes: widths of the encoder's hidden layers (the decoder mirrors them).
        decoder: build the decoder; without it the reconstruction is ``None``.
        activation: ``linear``, ``relu`` or ``sigmoid`` concepts (see :class:`ConvConceptizer`).
        variational: a β-VAE code: concepts are posterior means, the loss adds ``beta``·KL.
        beta: weight of the KL term when ``variational``.
        bias: append a constant 1 concept (``out_features`` = K + 1 columns), whose relevance acts as an
            input-dependent intercept; needed where "all concepts absent" must still predict a class.
    """

    def __init__(
        self,
        in_features: int,
        num_concepts: int = 5,
        hidden_sizes: Sequence[int] = (64,),
        decoder: bool = True,
        activation: str = "linear",
        variational: bool = False,
        beta: float = 1.0,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = (in_features,)
        self._init_code(num_concepts, activation, variational, beta, bias)
        self.encoder = mlp([in_features, *hidden_sizes, num_concepts * (2 if variational else 1)])
        self.decoder = mlp([num_concepts, *reversed(hidden_sizes), in_features]) if decoder else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Encode ``x`` (B, *) into concepts (B, K) and decode them back to ``x``'s shape."""
        concepts, code = self._code(self.encoder(x.flatten(1)))  # (B, K), (B, K)
        reconstruction = self.decoder(code).view_as(x) if self.decoder is not None else None
        return concepts, reconstruction


class IdentityConceptizer(nn.Module):
    """Raw input features as concepts, ``h(x) = x`` (flattened), optionally with a constant 1 concept.

    With ``bias=True`` the last concept is the constant 1, so its relevance acts as an
    input-dependent intercept. There is no reconstruction.

    Args:
        in_features: D, the number of input features.
        bias: append the constant concept (``out_features`` = D + 1 columns).
    """

    def __init__(self, in_features: int, bias: bool = False) -> None:
        super().__init__()
        self.input_shape = (in_features,)
        self.num_concepts, self.bias = in_features, bias
        self.out_features = in_features + int(bias)  # the columns of h

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Return the flattened input (B, D), plus a ones column when ``bias``, and no reconstruction."""
        concepts = x.flatten(1)  # (B, D)
        if self.bias:
            concepts = torch.cat([concepts, concepts.new_ones(len(x), 1)], dim=1)  # (B, D + 1)
        return concepts, None
