"""Concept embedding models (Espinosa Zarlenga et al., NeurIPS 2022) as a SENN: the concept layer as a conceptizer,
the linear label predictor as a relevance parametrizer.

CEM's concept layer gives each concept k a positive and a negative embedding ``c_k^±`` and a probability
``p_k = σ(s([c_k^+; c_k^−]))``; its label predictor reads the mixtures ``ĉ_k = p_k c_k^+ + (1 − p_k) c_k^−``.
With a linear label predictor ``logits = W [ĉ_1; …; ĉ_K] + b``, the logits are exactly a SENN's sum

    logits_c = Σ_k p_k θ_kc(x) + θ_bias,c(x),  θ_kc = W_c,k · (c_k^+ − c_k^−),  θ_bias,c = Σ_k W_c,k · c_k^− + b_c

with the probabilities as concepts (plus the constant concept), so senn trains, explains and intervenes on it
like any SENN: setting ``p_k`` to 0 or 1 with θ(x) fixed is CEM's own intervention, since the embeddings do
not depend on ``p``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from senn.models._blocks import SharedPass, conv_trunk, mlp
from senn.models.backbones import Backbone


class ConceptEmbeddingConceptizer(nn.Module):
    """CEM's concept layer: concept probabilities (B, K) and a constant concept, from per-concept embeddings.

    A trunk (convolutions or a pretrained ``backbone`` for images, an MLP for tables) feeds a linear layer
    giving, per concept, a positive and a negative embedding of ``embedding_size`` (LeakyReLU); one scorer
    shared by all concepts maps ``[c_k^+; c_k^−]`` to ``p_k``. The concepts are probabilities (sigmoid), so annotations
    can stand in for them in training interventions (CEM's RandInt) and at test time.

    Args:
        in_features: D, for tables (null for images).
        in_channels: image channels (null for tables).
        image_size: side of the square images (null for tables).
        num_concepts: K.
        embedding_size: m, the width of each embedding.
        channels: the convolution trunk's channels (images).
        kernel_size: the convolution trunk's kernel size (images).
        hidden_sizes: the MLP trunk's widths (tables).
        backbone: a torchvision ResNet as the trunk instead (images; see :class:`~senn.models.BackboneConceptizer`).
        weights: the backbone's weights: ``imagenet``, a path to a state dict, or ``none``.
        frozen: keep the backbone's weights fixed.
        bias: append the constant concept that carries the label predictor's intercept (needed by
            :class:`ConceptEmbeddingParametrizer`).
    """

    activation_name = "sigmoid"

    def __init__(self, in_features: int | None = None, in_channels: int | None = None, image_size: int | None = None,
                 num_concepts: int = 5, embedding_size: int = 16, channels: Sequence[int] = (16, 32),
                 kernel_size: int = 5, hidden_sizes: Sequence[int] = (64,), backbone: str | None = None,
                 weights: str | None = "imagenet", frozen: bool = True, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        if backbone is not None and in_channels is not None and image_size is not None:
            self.input_shape: tuple[int, ...] = (in_channels, image_size, image_size)
            self.trunk = Backbone(backbone, weights, frozen)
            width = self.trunk.out_features
        elif in_channels is not None and image_size is not None:
            self.input_shape = (in_channels, image_size, image_size)
            trunk, sizes = conv_trunk(in_channels, image_size, channels, kernel_size)
            self.trunk, width = nn.Sequential(trunk, nn.Flatten()), channels[-1] * sizes[-1] ** 2
        elif in_features is not None:
            self.input_shape = (in_features,)
            self.trunk = nn.Sequential(nn.Flatten(), mlp([in_features, *hidden_sizes]), nn.ReLU())
            width = hidden_sizes[-1]
        else:
            raise ValueError("ConceptEmbeddingConceptizer: give in_features (tables) or in_channels and image_size")
        self.num_concepts, self.embedding_size, self.bias = num_concepts, embedding_size, bias
        self.out_features = num_concepts + int(bias)
        self.embed = nn.Sequential(nn.Linear(width, num_concepts * 2 * embedding_size), nn.LeakyReLU())
        self.score = nn.Linear(2 * embedding_size, 1)
        self.decoder = None
        self._pass = SharedPass()

    def embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """Positive and negative embeddings (B, K, 2, m) of inputs x."""
        return self.embed(self.trunk(x)).view(len(x), self.num_concepts, 2, self.embedding_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Concept probabilities (B, K [+ 1]); the embeddings are kept for one :meth:`shared_embeddings` read."""
        embeddings = self._pass.keep(x, self.embeddings(x))  # (B, K, 2, m)
        concepts = torch.sigmoid(self.score(embeddings.flatten(2))).squeeze(2)  # (B, K)
        if self.bias:
            concepts = torch.cat([concepts, concepts.new_ones(len(x), 1)], dim=1)  # (B, K + 1)
        return concepts, None

    def shared_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """The embeddings the last call computed if it was on this very tensor (in the same grad mode), once;
        else computed afresh (the parametrizer's read within one SENN forward pass)."""
        embeddings = self._pass.take(x)
        return self.embeddings(x) if embeddings is None else embeddings


class ConceptEmbeddingParametrizer(nn.Module):
    """CEM's linear label predictor read as relevances (see the module docstring): θ (B, K + 1, C) from the
    concept layer's embeddings, the last row the intercept of the constant concept. Its weights take their
    shape from the conceptizer it is attached to (the SENN attaches it).

    Args:
        num_concepts: the columns of h (the conceptizer's K plus its constant concept).
        num_classes: C.
    """

    def __init__(self, num_concepts: int, num_classes: int) -> None:
        super().__init__()
        self.num_concepts, self.num_classes = num_concepts, num_classes
        self.linear: nn.Linear | None = None

    def attach(self, conceptizer: nn.Module) -> None:
        """Read the embeddings of ``conceptizer`` (a :class:`ConceptEmbeddingConceptizer` with its constant concept)."""
        if not isinstance(conceptizer, ConceptEmbeddingConceptizer) or not conceptizer.bias:
            raise ValueError("ConceptEmbeddingParametrizer reads a ConceptEmbeddingConceptizer with bias=true")
        if conceptizer.out_features != self.num_concepts:
            raise ValueError(f"ConceptEmbeddingParametrizer: num_concepts={self.num_concepts} but the conceptizer "
                             f"gives {conceptizer.out_features} concepts (leave it null)")  # fmt: skip
        self.embedding_size = conceptizer.embedding_size
        self.linear = nn.Linear((self.num_concepts - 1) * self.embedding_size, self.num_classes)  # W, b
        object.__setattr__(self, "source", conceptizer)  # a reference, not a second registration

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Relevances (B, K + 1, C)."""
        if self.linear is None:
            raise RuntimeError("ConceptEmbeddingParametrizer reads its SENN's ConceptEmbeddingConceptizer")
        embeddings = self.source.shared_embeddings(x)  # (B, K, 2, m)
        weight = self.linear.weight.view(self.num_classes, self.num_concepts - 1, self.embedding_size)  # (C, K, m)
        theta = torch.einsum("bkm,ckm->bkc", embeddings[:, :, 0] - embeddings[:, :, 1], weight)  # (B, K, C)
        intercept = torch.einsum("bkm,ckm->bc", embeddings[:, :, 1], weight) + self.linear.bias  # (B, C)
        return torch.cat([theta, intercept.unsqueeze(1)], dim=1)  # (B, K + 1, C)
