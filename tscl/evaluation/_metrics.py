"""Classification scores: accuracy, macro-F1 and, from scores, AUROC and AUPRC."""

from __future__ import annotations

import warnings
from typing import Any, NoReturn

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from tscl._validation import check_array_values

__all__ = ["scores"]


def scores(
    y_true: Any,
    y_pred: Any,
    f1_labels: list[Any] | None = None,
    *,
    y_score: Any = None,
    classes: Any = None,
) -> dict[str, float]:
    """Accuracy and macro-F1, plus AUROC and AUPRC when scores are given.

    AUROC (``sklearn.metrics.roc_auc_score``) and AUPRC (average precision,
    ``sklearn.metrics.average_precision_score``) rank the series by
    ``y_score``. With two classes they score the positive class
    ``classes[1]``; with more they are the one-vs-rest macro average over the
    classes. Probabilities and decision values both work: the measures only
    use the order of the scores.

    A class's one-vs-rest AUROC and AUPRC are defined only when ``y_true``
    holds both that class and some other label; classes that fail this (e.g.
    absent from the test split) are left out of the macro average. When no
    class qualifies, e.g. ``y_true`` holds a single class, ``auroc`` and
    ``auprc`` are NaN and an ``UndefinedMetricWarning`` is issued (no crash).
    Labels of ``y_true`` outside ``classes`` count as negatives of every class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    f1_labels : list, optional
        Classes averaged in the macro-F1; all classes by default. The PhysioNet/CinC
        2017 metric averages over ``["N", "A", "O"]``. AUROC and AUPRC ignore it.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes), optional
        Probabilities (``predict_proba``) or decision values
        (``decision_function``). 1-D only for two classes, where it scores
        ``classes[1]``; column ``j`` of a 2-D array scores ``classes[j]``.
    classes : array-like of shape (n_classes,), optional
        The class of each column of ``y_score``, e.g. ``model.classes_``.
        Defaults to the sorted labels of ``y_true``.

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1``; with ``y_score``, also ``auroc`` and
        ``auprc`` (floats, possibly NaN as above).

    Raises
    ------
    ValueError
        If ``y_score`` has the wrong shape for ``classes`` or the wrong number of
        rows, holds NaN or inf, or ``classes`` has fewer than two classes.

    Examples
    --------
    >>> scores(["N", "A", "O", "~"], ["N", "A", "N", "~"], f1_labels=["N", "A", "O"])
    {'accuracy': 0.75, 'macro_f1': 0.5555555555555555}
    >>> result = scores([0, 0, 1, 1], [0, 1, 1, 1], y_score=[0.1, 0.6, 0.7, 0.9])
    >>> result["auroc"], result["auprc"]
    (1.0, 1.0)
    """
    result = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=f1_labels, average="macro", zero_division=0)
        ),
    }
    if y_score is None:
        return result
    positives, score = _one_vs_rest(y_true, y_score, classes)
    defined = (positives.min(axis=0) == 0) & (positives.max(axis=0) == 1)
    if not defined.any():
        warnings.warn(
            "AUROC and AUPRC are not defined: y_true holds no class together with "
            "another label (e.g. a single class). They are set to NaN.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return {**result, "auroc": float("nan"), "auprc": float("nan")}
    positives, score = positives[:, defined], score[:, defined]
    return {
        **result,
        "auroc": float(roc_auc_score(positives, score, average="macro")),
        "auprc": float(average_precision_score(positives, score, average="macro")),
    }


def _one_vs_rest(
    y_true: Any, y_score: Any, classes: Any
) -> tuple[np.ndarray, np.ndarray]:
    """One 0/1 column per scored class and the matching score columns."""
    y_true = np.asarray(y_true)
    score = np.asarray(y_score, dtype=np.float64)
    check_array_values(score, "y_score")
    if len(score) != len(y_true):
        raise ValueError(
            f"y_score has {len(score)} rows but y_true has {len(y_true)} labels."
        )
    if classes is None:
        classes = np.unique(y_true)
        if len(classes) < 2:  # nothing to rank against: undefined, not an error
            return np.zeros((len(y_true), 1), dtype=int), np.zeros((len(y_true), 1))
    classes = np.asarray(classes)
    if len(classes) < 2:
        raise ValueError(
            f"AUROC needs at least two classes; got classes={classes.tolist()}. "
            "Pass the model's classes, e.g. classes=model.classes_."
        )
    if len(classes) == 2:
        if score.ndim == 2 and score.shape[1] == 2:
            score = score[:, 1]
        if score.ndim != 1:
            _bad_score_shape(score, "(n_samples,) or (n_samples, 2)", 2)
        positives = (y_true == classes[1]).astype(int)[:, None]
        score = score[:, None]
    elif score.ndim != 2 or score.shape[1] != len(classes):
        _bad_score_shape(score, f"(n_samples, {len(classes)})", len(classes))
    else:
        positives = label_binarize(y_true, classes=classes)
    return positives, score


def _bad_score_shape(score: np.ndarray, shape: str, n_classes: int) -> NoReturn:
    raise ValueError(
        f"y_score must have shape {shape} for {n_classes} classes; got "
        f"{score.shape}. Pass classes=model.classes_ when y_true lacks some of the "
        "model's classes."
    )
