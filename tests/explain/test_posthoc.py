"""Every post-hoc method behind one calling convention, on image and tabular networks."""

from __future__ import annotations

import pytest
import torch

from senn.explain.posthoc import POSTHOC_METHODS, feature_mask, posthoc_explainer
from senn.models import LeNetParametrizer, MLPParametrizer, PlainClassifier


@pytest.mark.parametrize("method", POSTHOC_METHODS)
@pytest.mark.parametrize("kind", ["image", "tabular"])
def test_every_method_attributes_a_batch_in_the_input_shape(method, kind):
    torch.manual_seed(0)
    if kind == "image":
        net, x = (
            PlainClassifier(LeNetParametrizer(1, 14, 1, 3, channels=(4,), kernel_size=3, hidden_size=8)),
            torch.randn(3, 1, 14, 14),
        )
    else:
        net, x = PlainClassifier(MLPParametrizer(6, 1, 3, hidden_sizes=(8,))), torch.randn(3, 6)
    explainer = posthoc_explainer(
        method, net, tuple(x.shape[1:]), **({"n_samples": 30} if method in ("lime", "kernel_shap") else {})
    )
    attributions = explainer(x, torch.tensor([0, 1, 2]))
    assert attributions.shape == x.shape and torch.isfinite(attributions).all()
    assert attributions.abs().sum() > 0


def test_image_feature_mask_is_square_patches_shared_by_channels():
    mask = feature_mask((3, 28, 28))
    assert mask.shape == (3, 28, 28) and mask.unique().numel() == 49
    assert (mask[0] == mask[2]).all() and (mask[0, :4, :4] == 0).all() and mask[0, 0, 4] == 1


def test_unknown_method_names_the_choices():
    with pytest.raises(ValueError, match="saliency"):
        posthoc_explainer("gradcam", PlainClassifier(MLPParametrizer(2, 1, 2)), (2,))
