"""The prediction, reconstruction and sparsity terms."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from senn.losses import classification_loss, reconstruction_loss, sparsity_loss


def test_classification_loss_per_task():
    logits = torch.randn(4, 3)
    y = torch.tensor([0, 2, 1, 1])
    torch.testing.assert_close(classification_loss(logits, y), F.cross_entropy(logits, y))
    one, yb = torch.randn(4, 1), torch.tensor([0.0, 1.0, 1.0, 0.0])
    torch.testing.assert_close(
        classification_loss(one, yb, "binary"), F.binary_cross_entropy_with_logits(one[:, 0], yb)
    )
    torch.testing.assert_close(classification_loss(one, yb, "regression"), F.mse_loss(one[:, 0], yb))
    with pytest.raises(ValueError, match="unknown task"):
        classification_loss(logits, y, "ranking")


def test_concept_terms():
    x = torch.randn(3, 4)
    assert reconstruction_loss(None, x) == 0
    torch.testing.assert_close(reconstruction_loss(x + 1, x), torch.tensor(1.0))
    concepts = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    torch.testing.assert_close(sparsity_loss(concepts), torch.tensor(3.0))
