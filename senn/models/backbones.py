"""Pretrained torchvision backbones under a concept head and a relevance head, for photographs at CUB scale."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch import nn

from senn.models._blocks import SharedPass, mlp
from senn.models.conceptizers import _Autoencoder
from senn.models.parametrizers import _Parametrizer

BACKBONE_FEATURES = {"resnet18": 512, "resnet34": 512, "resnet50": 2048}
"""The torchvision backbones senn builds, and the width of their pooled features."""
_restoring = False


@contextlib.contextmanager
def restoring_weights() -> Iterator[None]:
    """Build backbones without their pretrained weights: a checkpoint's state dict is about to replace them
    (so restoring a model needs neither the internet nor the weights file)."""
    global _restoring
    _restoring, before = True, _restoring
    try:
        yield
    finally:
        _restoring = before


def resnet_trunk(name: str, weights: str | None) -> nn.Module:
    """A torchvision ResNet without its classifier, (B, 3, H, W) -> (B, F): ``weights`` ``"imagenet"``
    (torchvision's default weights: from its cache, else downloaded), a path to a saved state dict, or
    None (random initialization)."""
    import torchvision

    if name not in BACKBONE_FEATURES:
        raise ValueError(f"backbone={name!r} is not one of {list(BACKBONE_FEATURES)}")
    builder = getattr(torchvision.models, name)
    if weights is None or weights == "none" or _restoring:
        net = builder(weights=None)
    elif weights == "imagenet":
        enum = torchvision.models.get_model_weights(name).DEFAULT
        try:
            net = builder(weights=enum)
        except Exception as err:  # no network, server down, ...
            raise RuntimeError(
                f"could not get the ImageNet weights of {name} ({' '.join(str(err).split())}): download {enum.url} "
                "where there is internet and set weights=<path to the file>, or weights=none to train from scratch"
            ) from None
    else:
        net = builder(weights=None)
        if not Path(weights).is_file():
            raise FileNotFoundError(f"no weights file at {weights} (for the {name} backbone)")
        state = torch.load(weights, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.get("state_dict", state).items() if not k.startswith("fc.")}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if [k for k in missing if not k.startswith("fc.")] or unexpected:
            raise ValueError(f"{weights} does not hold {name} weights: missing {missing[:5]}, unexpected "
                             f"{unexpected[:5]}")  # fmt: skip
    net.fc = nn.Identity()
    return net


class Backbone(nn.Module):
    """A pretrained ResNet giving pooled features (B, F), frozen or fine-tuned.

    Its batch-norm layers keep the pretrained statistics (eval mode) even in training, so that each
    sample's output depends on that sample alone, as the robustness estimators assume. A concept
    encoder and a relevance parametrizer may share one backbone: the parametrizer's :meth:`shared` read
    of the same input tensor reuses the features the encoder's call computed, so a SENN's forward pass
    runs the backbone once.
    """

    def __init__(self, name: str = "resnet18", weights: str | None = "imagenet", frozen: bool = True,
                 cache: bool = False) -> None:  # fmt: skip
        super().__init__()
        if cache and not frozen:
            raise ValueError("cache_features=true needs frozen=true: a fine-tuned backbone's features change")
        self.net = resnet_trunk(name, weights)
        self.out_features = BACKBONE_FEATURES[name]
        self.net.requires_grad_(not frozen)
        self._pass = SharedPass()
        self.cache: dict[bytes, torch.Tensor] | None = {} if cache else None

    def train(self, mode: bool = True) -> Backbone:
        """Set the mode, keeping batch-norm statistics fixed."""
        super().train(mode)
        for layer in self.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features (B, F) of images (B, 3, H, W), kept for one :meth:`shared` read."""
        return self._pass.keep(x, self._cached(x) if self.cache is not None and not x.requires_grad else self.net(x))

    def _cached(self, x: torch.Tensor) -> torch.Tensor:
        """Features of each distinct image computed once (keyed by its bytes); only the new ones run the net."""
        keys = [hashlib.blake2b(image.numpy().tobytes(), digest_size=16).digest() for image in x.detach().cpu()]
        new = [i for i, key in enumerate(keys) if key not in self.cache]
        if new:
            with torch.no_grad():
                computed = self.net(x[new])  # (N_new, F)
            self.cache.update((keys[i], f) for i, f in zip(new, computed))
        return torch.stack([self.cache[key] for key in keys])

    def shared(self, x: torch.Tensor) -> torch.Tensor:
        """The features the last call computed if it was on this very tensor (in the same grad mode), once;
        else computed afresh. The second reader of one forward pass (the parametrizer) calls this."""
        features = self._pass.take(x)
        return self.net(x) if features is None else features


class BackboneConceptizer(_Autoencoder):
    """Concepts from a pretrained backbone: ``activation(linear(backbone(x)))``, K of them; no decoder.

    Args:
        in_channels: image channels (3: the backbones take RGB).
        image_size: height and width of the square input images.
        num_concepts: K (null in a config: the data's number of annotated concepts).
        backbone: ``resnet18``, ``resnet34`` or ``resnet50``.
        weights: ``imagenet`` (torchvision's weights), a path to a saved state dict, or ``none``.
        frozen: keep the backbone's weights fixed (only the heads train).
        cache_features: with ``frozen``, compute each distinct image's features once and keep them (on the
            features' device; 2 KB per image for ResNet-18): with ``data.augment=false`` and the feature-space
            or no regularizer, every epoch after the first skips the backbone (measured at 64 px, K = 112,
            C = 200, batch 32: 0.041 against 0.093 s per step).
        activation: ``linear``, ``relu`` or ``sigmoid`` (concept probabilities, for supervised concepts).
        bias: append a constant 1 concept (``out_features`` = K + 1).
    """

    def __init__(self, in_channels: int = 3, image_size: int = 224, num_concepts: int = 112,
                 backbone: str = "resnet18", weights: str | None = "imagenet", frozen: bool = True,
                 cache_features: bool = False, activation: str = "sigmoid", bias: bool = False) -> None:  # fmt: skip
        super().__init__()
        if in_channels != 3:
            raise ValueError(f"BackboneConceptizer: in_channels={in_channels}; the backbones take RGB images (3)")
        self.input_shape = (in_channels, image_size, image_size)
        self._init_code(num_concepts, activation, False, 0.0, bias)
        self.backbone = Backbone(backbone, weights, frozen, cache_features)
        self.head = nn.Linear(self.backbone.out_features, num_concepts)
        self.decoder = None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Concepts (B, K [+ 1]) of images (B, 3, S, S), no reconstruction."""
        return self.from_features(self.backbone(x))

    def from_features(self, features: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Concepts (B, K [+ 1]) of backbone features (B, F)."""
        return self._code(self.head(features))[0], None


class BackboneParametrizer(_Parametrizer):
    """Relevances from backbone features: an MLP on ``backbone(x)`` giving θ (B, K, C).

    With ``share_backbone`` (the default) it reads the concept encoder's backbone (the SENN attaches it:
    one forward pass through the backbone serves both); otherwise it builds its own.

    Args:
        in_channels: image channels (3).
        image_size: height and width of the square input images.
        num_concepts: the columns of h it weighs (the conceptizer's ``out_features``).
        num_classes: C.
        hidden_sizes: widths of the MLP's hidden layers.
        dropout: dropout after each hidden layer.
        output_activation: ``linear``, ``tanh`` or ``sigmoid`` applied to θ.
        share_backbone: use the conceptizer's backbone.
        backbone: its own backbone's name (without ``share_backbone``).
        weights: its own backbone's weights.
        frozen: keep its own backbone fixed.
    """

    def __init__(self, in_channels: int = 3, image_size: int = 224, num_concepts: int = 113, num_classes: int = 200,
                 hidden_sizes: Sequence[int] = (256,), dropout: float = 0.0, output_activation: str = "linear",
                 share_backbone: bool = True, backbone: str = "resnet18", weights: str | None = "imagenet",
                 frozen: bool = True) -> None:  # fmt: skip
        super().__init__((in_channels, image_size, image_size), num_concepts, num_classes, output_activation)
        self.share_backbone = share_backbone
        self.backbone = None if share_backbone else Backbone(backbone, weights, frozen)
        features = BACKBONE_FEATURES[backbone]
        self.head = mlp([features, *hidden_sizes, num_concepts * num_classes], dropout)

    def attach(self, conceptizer: nn.Module) -> None:
        """With ``share_backbone``, read features from ``conceptizer``'s backbone."""
        if not self.share_backbone:
            return
        backbone = getattr(conceptizer, "backbone", None)
        if backbone is None:
            raise ValueError("SENN: the parametrizer shares the conceptizer's backbone, but the conceptizer has "
                             "none; use a BackboneConceptizer or set share_backbone=false")  # fmt: skip
        if self.head[0].in_features != backbone.out_features:
            raise ValueError(f"BackboneParametrizer: its head takes {self.head[0].in_features} features, the shared "
                             f"backbone gives {backbone.out_features}; set the same backbone for both")  # fmt: skip
        self.backbone = backbone

    def net(self, x: torch.Tensor) -> torch.Tensor:
        """K·C numbers per image (B, K·C)."""
        if self.backbone is None:
            raise RuntimeError("BackboneParametrizer(share_backbone=True) reads the conceptizer's backbone: use it "
                               "in a SENN whose conceptizer has one (BackboneConceptizer)")  # fmt: skip
        return self.head(self.backbone.shared(x) if self.share_backbone else self.backbone(x))

    def from_features(self, features: torch.Tensor) -> torch.Tensor:
        """Relevances (B, K, C) of the shared backbone's features (B, F)."""
        return self.output_activation(self.head(features)).view(-1, self.num_concepts, self.num_classes)
