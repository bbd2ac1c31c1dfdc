"""scores(): accuracy, macro-F1, and AUROC/AUPRC checked against scikit-learn."""

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import label_binarize

from tscl.evaluation import scores


def test_without_y_score_only_accuracy_and_macro_f1():
    assert set(scores([0, 1, 1], [0, 1, 0])) == {"accuracy", "macro_f1"}


def test_binary_scores_rank_the_positive_class_classes_1():
    rng = np.random.default_rng(0)
    y = rng.choice(["neg", "pos"], size=50)
    s = rng.normal(size=50) + (y == "pos")
    result = scores(y, np.where(s > 0.5, "pos", "neg"), y_score=s)
    assert result["auroc"] == pytest.approx(roc_auc_score(y == "pos", s))
    assert result["auprc"] == pytest.approx(average_precision_score(y == "pos", s))
    # (n, 2) probabilities: column 1 is the positive class
    proba = np.c_[1 - s, s]
    two = scores(y, y, y_score=proba, classes=["neg", "pos"])
    assert two["auroc"] == result["auroc"]
    assert two["auprc"] == result["auprc"]
    # the positive class follows `classes`, not the label order
    flipped = scores(y, y, y_score=-s, classes=["pos", "neg"])
    assert flipped["auroc"] == pytest.approx(result["auroc"])


def test_multiclass_is_one_vs_rest_macro_average():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=60)
    logits = rng.normal(size=(60, 3)) + 1.5 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    result = scores(y, proba.argmax(axis=1), y_score=proba, classes=[0, 1, 2])
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert result["auroc"] == pytest.approx(expected)
    onehot = label_binarize(y, classes=[0, 1, 2])
    ap = average_precision_score(onehot, proba, average="macro")
    assert result["auprc"] == pytest.approx(ap)


def test_multiclass_decision_values_need_not_sum_to_one():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, size=60)
    decision = rng.normal(size=(60, 3)) + np.eye(3)[y]  # rows do not sum to 1
    result = scores(y, y, y_score=decision)
    per_class = [roc_auc_score(y == k, decision[:, k]) for k in range(3)]
    assert result["auroc"] == pytest.approx(np.mean(per_class))


def test_classes_absent_from_y_true_leave_the_average():
    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b"], size=40)  # the model also knows "c"
    proba = rng.dirichlet(np.ones(3), size=40)
    result = scores(y, y, y_score=proba, classes=["a", "b", "c"])
    expected = np.mean([roc_auc_score(y == k, proba[:, j]) for j, k in enumerate("ab")])
    assert result["auroc"] == pytest.approx(expected)


@pytest.mark.parametrize("classes", [None, [0, 1]])
def test_single_class_y_true_gives_nan_and_a_warning(classes):
    with pytest.warns(UndefinedMetricWarning, match="not defined"):
        result = scores([1, 1, 1], [1, 0, 1], y_score=[0.2, 0.4, 0.9], classes=classes)
    assert np.isnan(result["auroc"])
    assert np.isnan(result["auprc"])
    assert result["accuracy"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("y_score", "classes", "match"),
    [
        (np.zeros((4, 2)), [0, 1, 2], r"shape \(n_samples, 3\)"),
        (np.zeros(4), [0, 1, 2], r"shape \(n_samples, 3\)"),
        (np.zeros((4, 3)), [0, 1], r"\(n_samples,\) or \(n_samples, 2\)"),
        (np.zeros(3), [0, 1], "3 rows but y_true has 4"),
        (np.array([0.1, np.nan, 0.2, 0.3]), [0, 1], "NaN"),
        (np.zeros(4), [0], "at least two classes"),
    ],
)
def test_bad_y_score_is_a_clear_error(y_score, classes, match):
    with pytest.raises(ValueError, match=match):
        scores([0, 1, 0, 1], [0, 1, 0, 1], y_score=y_score, classes=classes)
