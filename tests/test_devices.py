"""Every path that creates tensors, on every device: each test runs on the CPU here and on CUDA where a GPU
exists (skipped, with the reason shown, elsewhere). The CPU run keeps the CUDA tests themselves honest."""

from __future__ import annotations

import pytest
import torch

from senn.checkpoints import load_checkpoint
from senn.explain import explain
from senn.explain.posthoc import SENNLogits, posthoc_explainer
from senn.explain.prototypes import concept_prototypes
from senn.metrics import concept_faithfulness, local_lipschitz, senn_explainer
from senn.models import SENN, ConvConceptizer, LeNetParametrizer, SumAggregator
from senn.models.utils import resolve_device
from senn.runs import train
from tests.conftest import SMALL, compose_train, make_model

NO_GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here: runs on a GPU machine")
CUDA = pytest.param("cuda", marks=[pytest.mark.gpu, NO_GPU])
DEVICES = ["cpu", CUDA]
"""Every device test: the CPU in the default suite, CUDA in ``make test-gpu`` (skipped, visibly, without one)."""


@pytest.mark.parametrize("device", DEVICES)
def test_prototypes_traversals_and_feature_visualization(device):
    torch.manual_seed(0)
    model = SENN(ConvConceptizer(1, 12, 4, channels=(3, 5), kernel_size=3),
                 LeNetParametrizer(1, 12, 4, 3, channels=(3, 5), kernel_size=3, hidden_size=8), SumAggregator(3),
                 input_shape=(1, 12, 12)).to(device).eval()  # fmt: skip
    x = torch.randn(6, 1, 12, 12)
    prototypes = concept_prototypes(model, x, k=2, traversal_steps=3, feature_vis_steps=2)  # x stays on the CPU
    assert prototypes.traversals.shape == (4, 3, 1, 12, 12) and prototypes.traversals.device.type == "cpu"
    assert prototypes.feature_visualizations.shape == (4, 1, 12, 12)
    assert torch.equal(prototypes.activation_images[0, 0], x[prototypes.by_activation[0, 0]])


@pytest.mark.parametrize("device", DEVICES)
def test_explanations_metrics_and_pullbacks_follow_the_model(device):
    model, x = make_model("conv")
    model, x = model.to(device), x.to(device)
    e = explain(model, x)
    assert e.relevances.device.type == device
    target = e.prediction
    assert concept_faithfulness(model, x).device.type == device
    generator = torch.Generator().manual_seed(0)
    stability = local_lipschitz(senn_explainer(model), x, target, 0.1, "sampling", 3, "l2", generator=generator)
    assert stability.device.type == device and torch.isfinite(stability).all()
    for method in ("excitation_pullback", "lime"):
        attributions = posthoc_explainer(method, SENNLogits(model), tuple(x.shape[1:]))(x, target)
        assert attributions.shape == x.shape and attributions.device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_training_and_a_resume_on_the_device(device, tmp_path):
    """One epoch, then a resume to two: the checkpoint carries the RNG states of the device it ran on."""
    trainer = "trainer=cpu" if device == "cpu" else "trainer=gpu"
    overrides = [*SMALL, trainer, "logger=none", "trainer.max_epochs=1", f"output_dir={tmp_path}"]
    train(compose_train(overrides))
    last = tmp_path / "checkpoints" / "last.ckpt"
    rng = torch.load(last, map_location="cpu", weights_only=True)["senn"]["rng"]
    assert ("cuda" in rng) == (device == "cuda") and rng["cpu"].dtype == torch.uint8
    metrics = train(compose_train([*overrides[:-2], "trainer.max_epochs=2", f"ckpt_path={last}",
                                   f"output_dir={tmp_path / 'resumed'}"]))  # fmt: skip
    assert metrics["test/acc"] > 0.4  # the comparison with the CPU's numbers: tests/test_gpu.py
    module = load_checkpoint(last, device)
    assert next(module.parameters()).device.type == device


def test_device_names_a_user_may_type():
    """``auto`` takes what there is; ``gpu`` (Lightning's word) and ``cuda`` on a CPU machine are named errors."""
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match=r"device='gpu' is not a device: use cpu, cuda \(cuda:<n>\) or auto"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device=cuda: this machine has no CUDA GPU that torch can use"):
            resolve_device("cuda")
