"""Task semantics, decided once (senn/tasks.py): known answers for each task."""

from __future__ import annotations

import pytest
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
    assert [tasks.loss_name(t) for t in tasks.TASKS] == ["classification_loss"] * 2 + ["regression_loss"]


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
    predicted_values = torch.tensor([5.0, -1.5])  # regression: the explained (first) output, whatever was predicted
    assert torch.equal(tasks.class_probability(LOGITS, predicted_values, "regression"), LOGITS[:, 0])


def test_the_output_that_scores_a_class():
    assert [tasks.output_of_class(c, "multiclass") for c in range(3)] == [0, 1, 2]
    assert [tasks.output_of_class(c, "binary") for c in (0, 1)] == [None, 0]  # the one logit scores class 1


def test_the_logit_of_a_class_by_task():
    assert tasks.class_logit(LOGITS, torch.tensor([1, 2]), "multiclass").tolist() == [-1.0, 4.0]
    torch.testing.assert_close(tasks.class_logit(BINARY, torch.tensor([1, 0]), "binary"), torch.tensor([0.7, 0.2]))
    assert torch.equal(tasks.class_logit(LOGITS, torch.tensor([5.0, -1.5]), "regression"), LOGITS[:, 0])


def test_outputs_labels_and_class_counts_by_task():
    for task, outputs in [("multiclass", 3), ("binary", 1), ("regression", 2)]:
        tasks.check_outputs(task, outputs)
    for task, outputs, message in [("binary", 2, "one output"), ("multiclass", 1, "num_classes >= 2"),
                                   ("ordinal", 3, "not one of")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            tasks.check_outputs(task, outputs)
    assert [tasks.label_dtype(t) for t in tasks.TASKS] == [torch.int64, torch.float32, torch.float32]
    assert (tasks.classification_task(2), tasks.classification_task(5)) == ("binary", "multiclass")
    assert (tasks.num_outputs(2), tasks.num_outputs(5)) == (1, 5)
    assert [tasks.num_class_names(t, 4) for t in tasks.TASKS] == [4, 2, None]


def test_loss_and_metric_inputs_by_task():
    y = torch.tensor([0, 2])
    torch.testing.assert_close(tasks.loss(LOGITS, y, "multiclass"), torch.nn.functional.cross_entropy(LOGITS, y))
    labels = torch.tensor([1.0, 0.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(BINARY[:, 0], labels)
    torch.testing.assert_close(tasks.loss(BINARY, labels, "binary"), expected)
    torch.testing.assert_close(tasks.loss(BINARY, labels, "regression"), ((BINARY[:, 0] - labels) ** 2).mean())
    preds, target = tasks.metric_inputs(BINARY, labels.view(2, 1), "binary")
    torch.testing.assert_close(preds, torch.sigmoid(BINARY[:, 0]))
    assert target.shape == (2,)
    metric = tasks.metric("binary", None)
    assert float(metric(preds, target)) == 1.0  # 0.7 > 0 is class 1, -0.2 is class 0: both right


def test_probability_of_the_prediction_and_scores_towards_a_class():
    p = tasks.probabilities(BINARY, "binary")
    prediction = tasks.predict(BINARY, "binary")  # [1, 0]
    torch.testing.assert_close(
        tasks.predicted_probability(p, prediction, "binary"), torch.stack([p[0, 0], 1 - p[1, 0]])
    )
    scores = torch.ones(2, 3, 4)  # e.g. attributions of the one logit
    signed = tasks.towards_classes(scores, prediction, "binary")
    assert (signed[0] == 1).all() and (signed[1] == -1).all()
    assert tasks.towards_classes(scores, prediction, "multiclass") is scores
    assert (tasks.class_of_output(0, True, "binary"), tasks.class_of_output(2, True, "multiclass")) == (1, 2)
