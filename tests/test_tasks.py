"""Task semantics, decided once (senn/tasks.py): known answers for each task."""

from __future__ import annotations

import torch

from senn import tasks

LOGITS = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, 4.0]])  # (B=2, C=3)
BINARY = torch.tensor([[0.7], [-0.2]])  # one logit: the positive class's score


def test_predictions_and_probabilities_by_task():
    assert tasks.predict(LOGITS, "multiclass").tolist() == [0, 2]
    assert tasks.predict(BINARY, "binary").tolist() == [1, 0]  # the logit's sign
    assert torch.equal(tasks.predict(BINARY, "regression"), BINARY[:, 0])  # the first output itself
    torch.testing.assert_close(tasks.probabilities(LOGITS, "multiclass"), LOGITS.softmax(1))
    torch.testing.assert_close(tasks.probabilities(BINARY, "binary"), torch.sigmoid(BINARY))
    assert tasks.probabilities(BINARY, "regression") is BINARY
    assert [tasks.metric_name(t) for t in tasks.TASKS] == ["acc", "acc", "mse"]


def test_the_explained_output_and_its_relevances():
    assert tasks.explained_output(torch.tensor([2, 0]), "multiclass").tolist() == [2, 0]
    assert tasks.explained_output(torch.tensor([1, 0]), "binary").tolist() == [0, 0]  # one logit explains both
    theta = torch.arange(12.0).view(2, 2, 3)  # (B, K, C)
    assert tasks.output_relevances(theta, torch.tensor([2, 0])).tolist() == [[2.0, 5.0], [6.0, 9.0]]
    binary = torch.tensor([[[1.0], [-2.0]], [[3.0], [0.5]]])  # (B, K, 1)
    assert tasks.class_relevances(binary, torch.tensor([1, 0]), "binary").tolist() == [[1.0, -2.0], [-3.0, -0.5]]
    assert tasks.class_relevances(theta, torch.tensor([1, 1]), "multiclass").tolist() == [[1.0, 4.0], [7.0, 10.0]]


def test_class_probabilities_are_those_the_probabilities_give():
    classes = torch.tensor([0, 2])
    expected = LOGITS.softmax(1)[torch.arange(2), classes]
    torch.testing.assert_close(tasks.class_probability(LOGITS, classes, "multiclass"), expected)
    p1 = torch.sigmoid(BINARY[:, 0])
    torch.testing.assert_close(tasks.class_probability(BINARY, torch.tensor([1, 0]), "binary"),
                               torch.stack([p1[0], 1 - p1[1]]))  # fmt: skip
