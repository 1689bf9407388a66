"""TabularToy (Espinosa Zarlenga et al., AAAI 2023): three correlated latents seen through nonlinear features."""

from __future__ import annotations

import torch

from senn.data.generated import ConceptDataModule, Generated


class TabularToyDataModule(ConceptDataModule):
    """Latents ``x, y, z ~ N(0, Σ)`` (unit variances, pairwise covariance δ) seen through 7 features.

    Features ``sin(v) + v`` and ``cos(v) + v`` for each latent v plus ``x² + y² + z²``, standardized
    with the training split's statistics; concepts ``[x > 0, y > 0, z > 0]``; label 1 when at least
    two concepts are 1 (binary task, one output). :attr:`factors` holds the latents.

    Args:
        covariance: δ, the pairwise covariance of the latents, in (−0.5, 1) (0: independent concepts).
        num_train: rows generated for training and validation (2,000 by default).
        num_test: test rows (1,000 by default).
        standardize: scale the features to zero mean and unit variance on the training split.
        **kwargs: :class:`~senn.data.generated.ConceptDataModule` arguments.
    """

    concept_names = ("x > 0", "y > 0", "z > 0")
    factor_names = ("x", "y", "z")
    feature_names = ("sin(x)+x", "cos(x)+x", "sin(y)+y", "cos(y)+y", "sin(z)+z", "cos(z)+z", "x²+y²+z²")
    input_shape = (7,)
    num_classes = 1
    class_names = ("fewer than two positive", "two or more positive")
    task = "binary"

    def __init__(
        self, covariance: float = 0.0, num_train: int = 2000, num_test: int = 1000, standardize: bool = True, **kwargs
    ) -> None:
        super().__init__(num_train=num_train, num_test=num_test, **kwargs)
        if not -0.5 < covariance < 1:
            raise ValueError(f"data.covariance={covariance} must be in (-0.5, 1) for a valid covariance matrix")
        self.covariance, self.standardize = covariance, standardize

    def generate(self, n: int, generator: torch.Generator) -> Generated:
        """Draw ``n`` rows of features, labels, concepts and latents."""
        sigma = torch.full((3, 3), self.covariance) + (1 - self.covariance) * torch.eye(3)
        latents = torch.randn(n, 3, generator=generator) @ torch.linalg.cholesky(sigma).T  # (n, 3)
        periodic = torch.stack([torch.sin(latents), torch.cos(latents)], dim=2) + latents.unsqueeze(2)  # (n, 3, 2)
        features = torch.cat([periodic.flatten(1), latents.pow(2).sum(1, keepdim=True)], dim=1)  # (n, 7)
        concepts = (latents > 0).float()
        labels = (concepts.sum(1) >= 2).float()
        return features, labels, concepts, latents

    def setup(self, stage: str | None = None) -> None:
        """Generate and split, then standardize every split with the training statistics."""
        if self.splits:
            return
        super().setup(stage)
        if self.standardize:
            train = self.splits["train"][0]
            mean, std = train.mean(0), train.std(0).clamp_min(1e-8)
            self.splits = {name: ((x - mean) / std, y) for name, (x, y) in self.splits.items()}
