"""senn.explain: the structured explanation of one input or a batch, and its figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

import senn
from senn.explain.plots import plot_attributions, plot_explanation, plot_input_relevance
from senn.training import SENNModule
from tests.conftest import make_model


def test_batch_explanation_is_consistent_with_the_forward_pass():
    model, x = make_model("conv")
    e = senn.explain(model, x)
    out = model(x)
    assert e.concepts.shape == (4, 4) and e.relevances.shape == (4, 4, 3) and e.contributions.shape == (4, 4, 3)
    torch.testing.assert_close(e.contributions.sum(1), out.logits)  # contributions add up to the logits
    torch.testing.assert_close(e.probabilities, out.logits.softmax(1))
    torch.testing.assert_close(e.target, out.logits.argmax(1))
    torch.testing.assert_close(e.target_relevances, out.relevances[torch.arange(4), :, e.target])


def test_one_input_and_a_chosen_class():
    model, x = make_model("mlp")
    one = senn.explain(model, x[2], target=1)
    assert len(one) == 1 and one.target.tolist() == [1]
    torch.testing.assert_close(one.target_contributions[0], (model(x[2:3]).relevances[0, :, 1] * one.concepts[0]))
    per_example = senn.explain(model, x, target=torch.tensor([0, 1, 2, 0]))
    assert per_example.target.tolist() == [0, 1, 2, 0]
    torch.testing.assert_close(per_example[1].relevances, senn.explain(model, x).relevances[1:2])
    with pytest.raises(ValueError, match=r"target classes must be in \[0, 3\)"):
        senn.explain(model, x, target=3)


def test_binary_explanation():
    model, x = make_model("identity", num_classes=1)
    e = senn.explain(model, x)
    logits = model(x).logits[:, 0]
    torch.testing.assert_close(e.prediction, (logits > 0).long())
    assert e.target.tolist() == [0, 0, 0, 0]
    torch.testing.assert_close(e.probabilities[:, 0], torch.sigmoid(logits))


def test_a_class_is_named_or_numbered_and_a_binary_model_explains_its_positive_one():
    model, x = make_model("mlp")
    model.class_names = ["cat", "dog", "owl"]
    assert senn.explain(model, x, target="owl").target.tolist() == [2] * 4
    with pytest.raises(ValueError, match=r"target='eel' is not a class of this model \(its classes: \['cat'"):
        senn.explain(model, x, target="eel")
    binary, z = make_model("identity", num_classes=1)
    binary.class_names = ["benign", "malignant"]
    assert senn.explain(binary, z, target="malignant").target.tolist() == [0] * 4  # the one logit
    with pytest.raises(ValueError, match=r"one output, the score of 'malignant'.*towards 'benign' every relevance"):
        senn.explain(binary, z, target="benign")


def test_explain_accepts_the_lightning_module_and_keeps_its_mode():
    module = SENNModule(*make_model("mlp")[0].float().children())
    module.train()
    e = senn.explain(module, torch.randn(2, 6))
    assert module.training and len(e) == 2
    with pytest.raises(TypeError, match=r"needs a senn\.SENN"):
        senn.explain(torch.nn.Linear(2, 2), torch.randn(1, 2))


def test_figures_draw_images_and_features(tmp_path):
    model, x = make_model("conv")
    fig = plot_explanation(senn.explain(model, x), x, index=2, concept_names=list("abcd"))
    assert [ax.get_title() for ax in fig.axes][1].startswith("relevance θ for class")
    fig.savefig(tmp_path / "explanation.png")
    plt.close(fig)
    model, x = make_model("identity_image")
    fig = plot_input_relevance(senn.explain(model, x), (1, 8, 8))
    fig.savefig(tmp_path / "heat.png")
    plt.close(fig)
    model, x = make_model("identity")
    with pytest.raises(ValueError, match="cannot cover an input of shape"):
        plot_input_relevance(senn.explain(model, x), (1, 8, 8))
    assert (tmp_path / "explanation.png").stat().st_size > 1000


def test_every_plotting_helper_takes_one_example_without_a_batch_dimension():
    model, x = make_model("conv")
    one = x[1]  # (C, H, W)
    fig = plot_explanation(senn.explain(model, one), one)
    assert fig.get_suptitle().startswith("predicted")
    plt.close(fig)
    fig = plot_attributions(one, {"saliency": torch.ones_like(one)})
    assert fig.axes[1].get_title() == "saliency" and len(fig.axes) == 2  # one row: the input, one method
    plt.close(fig)
    model, x = make_model("identity")
    fig = plot_input_relevance(senn.explain(model, x[0]), x.shape[1:])
    plt.close(fig)
    signed = torch.linspace(-1, 1, x.shape[1])  # a feature vector's attributions: bars, red below 0, blue above
    fig = plot_attributions(x[0], {"saliency": signed})
    bars = fig.axes[1].patches
    assert len(bars) == x.shape[1] and bars[0].get_facecolor() != bars[-1].get_facecolor()
    plt.close(fig)
    with pytest.raises(ValueError, match="x holds 4 inputs but the explanation 1"):
        plot_explanation(senn.explain(model, x[0]), x)


def test_an_explanation_keeps_its_own_tensors_when_the_concepts_are_the_input():
    """Identity concepts are the input itself: the explanation copies them, so a caller who changes the input
    afterwards (or an explainer that sets requires_grad on it) changes nothing of the explanation."""
    model, x = make_model("features")
    e = senn.explain(model, x)
    before = e.concepts.clone()
    x.requires_grad_(True)
    with torch.no_grad():
        x.mul_(2)
    assert torch.equal(e.concepts, before) and not e.concepts.requires_grad
    plt.close(plot_explanation(e, x.detach(), 0))  # draws: its numbers convert to NumPy
