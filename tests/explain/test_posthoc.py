"""Every post-hoc method behind one calling convention, on image and tabular networks."""

from __future__ import annotations

import warnings

import pytest
import torch

from senn.explain.posthoc import (
    CONCEPT_LAYER_METHODS,
    POSTHOC_METHODS,
    SENNLogits,
    concept_layer_explainer,
    feature_mask,
    posthoc_explainer,
)
from senn.models import LeNetParametrizer, MLPParametrizer, PlainNetwork
from tests.conftest import make_model


@pytest.mark.parametrize("method", POSTHOC_METHODS)
@pytest.mark.parametrize("kind", ["image", "tabular"])
def test_every_method_attributes_a_batch_in_the_input_shape(method, kind):
    torch.manual_seed(0)
    if kind == "image":
        net, x = (
            PlainNetwork(LeNetParametrizer(1, 14, 1, 3, channels=(4,), kernel_size=3, hidden_size=8)),
            torch.randn(3, 1, 14, 14),
        )
    else:
        net, x = PlainNetwork(MLPParametrizer(6, 1, 3, hidden_sizes=(8,))), torch.randn(3, 6)
    explainer = posthoc_explainer(
        method, net, tuple(x.shape[1:]), **({"n_samples": 30} if method in ("lime", "kernel_shap") else {})
    )
    attributions = explainer(x, torch.tensor([0, 1, 2]))
    assert attributions.shape == x.shape and torch.isfinite(attributions).all()
    assert attributions.abs().sum() > 0
    other = explainer(x, torch.tensor([1, 2, 0]))  # the explained class matters
    assert not torch.allclose(attributions, other)


# For a linear network logits = W x (no bias) with the all-zero baseline, each method's answer is known:
# the gradient of logit t is W_t, removing feature i takes W_ti x_i off the logit, and Shapley values and
# integrated gradients both give W_ti x_i exactly (completeness: they sum to the logit).
KNOWN = {
    "saliency": lambda w, x: w.abs().expand_as(x),
    "input_x_gradient": lambda w, x: w * x,
    "integrated_gradients": lambda w, x: w * x,
    "occlusion": lambda w, x: w * x,
    "kernel_shap": lambda w, x: w * x,
    "excitation_pullback": lambda w, x: w.expand_as(x),  # no ReLU to soften: the gradient
}


@pytest.mark.parametrize("method", POSTHOC_METHODS)
def test_every_method_gives_the_known_answer_on_a_linear_network(method):
    torch.manual_seed(0)
    net = torch.nn.Linear(6, 3, bias=False).double()
    x, target = torch.randn(4, 6, dtype=torch.float64), torch.tensor([0, 1, 2, 1])
    options = {"n_samples": 300} if method in ("lime", "kernel_shap") else {}
    attributions = posthoc_explainer(method, net, (6,), **options)(x, target)
    w = net.weight.detach()[target]  # (4, 6) the explained rows
    if method == "lime":  # a local surrogate fitted on samples: it ranks the features as W x does
        expected = w * x
        agreement = torch.nn.functional.cosine_similarity(attributions, expected, dim=1)
        assert (agreement > 0.9).all(), agreement
    else:
        torch.testing.assert_close(attributions, KNOWN[method](w, x), rtol=1e-4, atol=1e-6)
    if method in ("integrated_gradients", "kernel_shap"):  # completeness: the attributions sum to the logit
        logit = (x @ net.weight.detach().T).gather(1, target[:, None])[:, 0]
        torch.testing.assert_close(attributions.sum(1), logit, rtol=1e-4, atol=1e-6)


def test_explainers_leave_the_callers_input_as_it_was():
    """Captum sets requires_grad on the tensor it is given; the wrappers hand it a tensor of their own."""
    model, x = make_model("features")  # the concept layer's output is the input tensor itself
    target = torch.zeros(len(x), dtype=torch.long)
    explainers = [posthoc_explainer(m, SENNLogits(model), (5,), **({"n_samples": 20} if m in ("lime", "kernel_shap")
                                                                     else {})) for m in POSTHOC_METHODS]  # fmt: skip
    explainers += [concept_layer_explainer(m, model) for m in CONCEPT_LAYER_METHODS]
    before = x.clone()
    for explainer in explainers:
        explainer(x, target)
        assert not x.requires_grad and torch.equal(x, before)


@pytest.mark.parametrize("method", POSTHOC_METHODS)
def test_a_batch_is_explained_without_warnings(method):
    """senn-evaluate explains batches: Captum's per-call warnings (requires_grad set for you, one LIME surrogate
    per example) would print once per batch."""
    net, x = PlainNetwork(MLPParametrizer(6, 1, 3, hidden_sizes=(8,))), torch.randn(3, 6)
    options = {"n_samples": 20} if method in ("lime", "kernel_shap") else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        posthoc_explainer(method, net, (6,), **options)(x, torch.tensor([0, 1, 2]))
    assert [str(w.message) for w in caught] == []


def test_image_feature_mask_is_square_patches_shared_by_channels():
    mask = feature_mask((3, 28, 28))
    assert mask.shape == (3, 28, 28) and mask.unique().numel() == 49
    assert (mask[0] == mask[2]).all() and (mask[0, :4, :4] == 0).all() and mask[0, 0, 4] == 1


def test_unknown_method_names_the_choices():
    with pytest.raises(ValueError, match="saliency"):
        posthoc_explainer("gradcam", PlainNetwork(MLPParametrizer(2, 1, 2)), (2,))


@pytest.mark.parametrize("num_classes", [3, 1])
def test_captum_at_the_concept_layer_of_a_senn_has_its_closed_form(num_classes):
    """logit = Σ_k θ_k(x) h_k(x) with θ from x: ∂logit/∂h = θ, times h, and IG from h(0) = θ (h − h(0))."""
    model, x = make_model("conv", num_classes)
    out = model(x)
    target = out.logits.argmax(1) if num_classes > 1 else (out.logits[:, 0] > 0).long()
    column = target if num_classes > 1 else torch.zeros_like(target)
    theta = out.relevances.gather(2, column.view(-1, 1, 1).expand(-1, 4, 1))[..., 0].detach()
    h, h0 = out.concepts.detach(), model(torch.zeros_like(x[:1])).concepts.detach()
    expected = {"layer_gradient": theta, "layer_gradient_x_activation": theta * h,
                "layer_integrated_gradients": theta * (h - h0)}  # fmt: skip
    for name, value in expected.items():
        torch.testing.assert_close(concept_layer_explainer(name, model)(x, target), value, atol=1e-8, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown concept-layer method"):
        concept_layer_explainer("lime", model)
