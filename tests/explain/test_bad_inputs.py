"""The explain and metric APIs refuse bad inputs with a message that says what is wrong."""

from __future__ import annotations

import pytest
import torch

import senn
from senn.metrics import concept_faithfulness, feature_faithfulness, local_lipschitz, senn_explainer
from tests.conftest import make_model

MODEL, X = make_model("conv")  # float64, inputs (B, 2, 12, 12)
NAN = X.clone()
NAN[1, 0, 3, 3] = float("nan")
INF = X.clone()
INF[0, 1, 0, 0] = float("inf")

CASES = [
    (X[:, :1], ValueError, r"shape \(4, 1, 12, 12\); the model takes \(B, 2, 12, 12\)"),
    (X.flatten(1), ValueError, "has shape"),
    (X[:0], ValueError, "empty batch"),
    (X.long(), TypeError, "dtype torch.int64"),
    (NAN, ValueError, "NaN or infinite values in 1 of 4 inputs"),
    (INF, ValueError, "NaN or infinite"),
    (X.numpy(), TypeError, "must be a torch.Tensor"),
]


@pytest.mark.parametrize(("x", "error", "message"), CASES)
def test_explain_refuses(x, error, message):
    with pytest.raises(error, match=message):
        senn.explain(MODEL, x)


@pytest.mark.parametrize(("x", "error", "message"), CASES)
def test_concept_faithfulness_refuses(x, error, message):
    with pytest.raises(error, match=message):
        concept_faithfulness(MODEL, x)


@pytest.mark.parametrize(("x", "error", "message"), [c for c in CASES if c[0].__class__ is torch.Tensor][2:])
def test_stability_and_feature_faithfulness_refuse(x, error, message):
    target = torch.zeros(max(len(x), 1), dtype=torch.long)[: len(x)]
    with pytest.raises(error, match=message):
        local_lipschitz(senn_explainer(MODEL), x, target, budget=2)
    with pytest.raises(error, match=message):
        feature_faithfulness(lambda z: MODEL(z).logits, x, torch.zeros_like(x, dtype=torch.float64), target)


def test_a_device_mismatch_is_named():
    with pytest.raises(ValueError, match="is on meta but the model on cpu"):
        senn.explain(MODEL, X.to("meta"))


def test_target_shape_is_checked():
    with pytest.raises(ValueError, match=r"one class per input, shape \(4,\)"):
        local_lipschitz(senn_explainer(MODEL), X, torch.zeros(3, dtype=torch.long), budget=2)


def test_one_input_still_works():
    assert len(senn.explain(MODEL, X[0])) == 1
