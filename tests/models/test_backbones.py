"""Pretrained-backbone concept encoders and parametrizers: one backbone pass per forward, frozen statistics,
weights from a file, restoring without downloads, and the robustness estimators' per-sample assumption."""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision

from senn.losses import robustness_residual_norm
from senn.models import SENN, BackboneConceptizer, BackboneParametrizer, MLPConceptizer, SumAggregator
from senn.models._blocks import SharedPass
from senn.models.backbones import restoring_weights


def backbone_senn(share: bool = True, frozen: bool = True, size: int = 16) -> SENN:
    torch.manual_seed(0)
    conceptizer = BackboneConceptizer(image_size=size, num_concepts=4, weights="none", frozen=frozen, bias=True)
    parametrizer = BackboneParametrizer(image_size=size, num_concepts=5, num_classes=3, hidden_sizes=(8,),
                                        share_backbone=share, weights="none", frozen=frozen)  # fmt: skip
    return SENN(conceptizer, parametrizer, SumAggregator(3))


def test_a_shared_backbone_runs_once_and_trains_as_two_reads_of_one_network():
    shared = backbone_senn(frozen=False)
    separate = backbone_senn(share=False, frozen=False)
    separate.load_state_dict(shared.state_dict(), strict=False)
    separate.parametrizer.backbone.load_state_dict(shared.conceptizer.backbone.state_dict())
    calls = []
    shared.conceptizer.backbone.net.register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(2, 3, 16, 16)
    out, reference = shared.train()(x), separate.train()(x)
    assert len(calls) == 1
    torch.testing.assert_close(out.logits, reference.logits)
    out.logits.sum().backward()
    reference.logits.sum().backward()
    grad = shared.conceptizer.backbone.net.conv1.weight.grad
    expected = (separate.conceptizer.backbone.net.conv1.weight.grad
                + separate.parametrizer.backbone.net.conv1.weight.grad)  # fmt: skip
    torch.testing.assert_close(grad, expected)


def test_the_shared_pass_hands_out_a_kept_value_once_and_only_for_the_same_unchanged_input():
    shared, x, value = SharedPass(), torch.randn(2, 3), torch.randn(2, 5)
    assert shared.keep(x, value) is value
    assert shared.take(x.clone()) is None  # an equal tensor is another input
    shared.keep(x, value)
    assert shared.take(x) is value and shared.take(x) is None  # once
    shared.keep(x, value)
    x.add_(1.0)  # the same tensor, changed in place
    assert shared.take(x) is None
    shared.keep(x, value)
    with torch.no_grad():  # kept with grad enabled: not for a no-grad read
        assert shared.take(x) is None


def test_frozen_backbones_keep_weights_and_batch_norm_statistics_and_samples_stay_independent():
    model = backbone_senn().train()
    backbone = model.conceptizer.backbone
    assert not any(p.requires_grad for p in backbone.parameters())
    assert all(p.requires_grad for p in model.conceptizer.head.parameters())
    assert not backbone.net.bn1.training  # pretrained statistics, also in training
    x = torch.randn(3, 3, 16, 16)
    torch.testing.assert_close(model(x).logits[1:2], model(x[1:2]).logits)
    xr = x.clone().requires_grad_(True)
    out = model(xr)
    exact = robustness_residual_norm(model, xr, "exact", output=out)
    torch.testing.assert_close(exact, robustness_residual_norm(model, xr, "jacobian", output=out))


def test_weights_come_from_a_file_and_a_foreign_file_is_named(tmp_path):
    torch.manual_seed(1)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    loaded = BackboneConceptizer(image_size=32, num_concepts=2, weights=str(tmp_path / "resnet18.pth"))
    torch.testing.assert_close(loaded.backbone.net.conv1.weight, reference.conv1.weight)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="does not hold resnet18 weights"):
        BackboneConceptizer(image_size=32, weights=str(tmp_path / "other.pth"))
    with pytest.raises(FileNotFoundError, match="no weights file"):
        BackboneConceptizer(image_size=32, weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="backbone='vgg11' is not one of"):
        BackboneConceptizer(image_size=32, backbone="vgg11", weights="none")


def test_restoring_a_checkpoint_downloads_nothing():
    with restoring_weights():  # weights="imagenet" would download; the checkpoint's weights replace them anyway
        conceptizer = BackboneConceptizer(image_size=32, num_concepts=2, weights="imagenet")
    assert conceptizer.backbone.out_features == 512


def test_sharing_needs_a_backbone_to_share():
    parametrizer = BackboneParametrizer(image_size=8, num_concepts=3, num_classes=2, weights="none")
    with pytest.raises(ValueError, match="conceptizer has none"):
        SENN(MLPConceptizer(192, 3), parametrizer, SumAggregator(2), input_shape=(3, 8, 8))


def test_checkpoint_state_round_trips_with_the_shared_backbone():
    model = backbone_senn()
    again = backbone_senn()
    for p in again.parameters():
        p.data.add_(1)
    again.load_state_dict(copy.deepcopy(model.state_dict()))
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(again.eval()(x).logits, model.eval()(x).logits)
    assert again.conceptizer.backbone is again.parametrizer.backbone


def test_the_senn_on_backbone_features_is_the_senn_on_images():
    model = backbone_senn().eval()
    x = torch.randn(2, 3, 16, 16)
    out, from_features = model(x), model.from_features(model.backbone(x))
    for a, b in zip(out[:3], from_features[:3]):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="share no backbone"):
        backbone_senn(share=False).from_features(torch.zeros(2, 512))


def test_cached_features_are_computed_once_per_image_and_equal_fresh_ones():
    torch.manual_seed(0)
    cached = BackboneConceptizer(image_size=16, num_concepts=2, weights="none", cache_features=True).eval()
    calls = []
    cached.backbone.net.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    x = torch.randn(4, 3, 16, 16)
    first = cached(x)[0]
    again = cached(torch.cat([x[2:], torch.randn(1, 3, 16, 16)]))[0]  # two seen images, one new
    assert calls == [4, 1]
    torch.testing.assert_close(again[:2], first[2:])
    with torch.no_grad():
        fresh = cached.backbone.net(x)
    torch.testing.assert_close(cached.backbone(x.clone()), fresh)
    assert calls == [4, 1, 4]  # the fresh computation only
    cached(x.clone().requires_grad_(True))  # an input-space regularizer needs the graph: no cache
    assert calls == [4, 1, 4, 4]
    with pytest.raises(ValueError, match="needs frozen=true"):
        BackboneConceptizer(image_size=16, weights="none", frozen=False, cache_features=True)
