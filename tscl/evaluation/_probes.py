"""Probes: linear, SVM and kNN classifiers fitted on frozen representations.

A probe is a function ``probe(Z_train, y_train, Z_test, y_test, **params) ->
dict`` with at least ``accuracy`` and ``macro_f1`` (see :func:`linear_probe`);
one that draws random numbers takes ``random_state``. To add one: write the
function here and add it to :data:`PROBES`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from tscl._validation import check_array_values, check_count, check_param, short_repr
from tscl.evaluation._metrics import scores

__all__ = ["PROBES", "knn_probe", "linear_probe", "svm_probe"]


def linear_probe(
    Z_train: Any,
    y_train: Any,
    Z_test: Any,
    y_test: Any,
    *,
    C: float | str = "auto",
    class_weight: str | None = "balanced",
    f1_labels: list[Any] | None = None,
    max_iter: int = 2000,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Fit a logistic regression on frozen representations and score it.

    Features are standardised on the training split; the model is an L2
    logistic regression (lbfgs, multinomial for several classes). With
    ``C="auto"`` its regularisation is chosen among ``10**-3 ... 10**2`` by
    stratified cross-validation (macro-F1) on the training split only.

    Parameters
    ----------
    Z_train, Z_test : array-like of shape (n_samples, n_features)
        Representations, e.g. from ``ContrastiveEncoder.transform``.
    y_train, y_test : array-like of shape (n_samples,)
        Labels.
    C : float or "auto", default="auto"
        Inverse regularisation strength, or ``"auto"`` to pick it by inner
        cross-validation (falls back to 1.0 when a class has < 2 samples).
    class_weight : {"balanced"} or None, default="balanced"
        Reweight classes inversely to their frequency.
    f1_labels : list, optional
        Classes averaged in the macro-F1 (all by default).
    max_iter : int, default=2000
        Solver iterations.
    random_state : int or None, default=0
        Seeds the inner cross-validation folds.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``auroc`` and ``auprc`` (from
        ``predict_proba``; see :func:`scores`), ``fit_time`` (seconds),
        ``y_pred`` and the fitted ``model`` (a scikit-learn pipeline).

    Raises
    ------
    ValueError
        If the splits have different feature counts or hold NaN.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> Z = rng.normal(size=(100, 4)) + 2 * y[:, None]
    >>> result = linear_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    >>> result["accuracy"] > 0.8
    True
    """
    Z_train, Z_test = _check_features(Z_train, Z_test)
    model = make_pipeline(
        StandardScaler(),
        _logistic(C, y_train, class_weight, max_iter, random_state),
    )
    return _fit_and_score(
        model, (Z_train, y_train, Z_test, y_test), f1_labels, "predict_proba"
    )


def svm_probe(
    Z_train: Any,
    y_train: Any,
    Z_test: Any,
    y_test: Any,
    *,
    C: float | str = "auto",
    class_weight: str | None = None,
    f1_labels: list[Any] | None = None,
    random_state: int | None = 0,
    protocol: str = "tscl",
) -> dict[str, Any]:
    """Fit an RBF-kernel SVM on frozen representations and score it.

    The evaluation protocol of TS2Vec [1]_ for classification: an SVC with an
    RBF kernel (``gamma="scale"``) on the representations. With ``C="auto"``,
    ``C`` is chosen among ``10**-4 ... 10**4`` by stratified cross-validation
    (accuracy, ``min(5, smallest class count)`` shuffled folds) on the
    training split only.

    Unlike the TS2Vec code, features are standardised on the training split
    first (as in :func:`linear_probe`), ``C=inf`` is not a candidate, a
    training split where some class has fewer than 2 samples gets ``C=1``
    (TS2Vec fits ``C=inf`` without a search when the split has fewer than 50
    samples or fewer than 5 per class on average), and large training splits
    are not subsampled (TS2Vec searches on 10,000 of them).

    AUROC and AUPRC are computed from the SVC's decision values (one-vs-rest
    for more than two classes), not from probabilities: the SVC is fitted
    without ``probability=True``, whose Platt scaling costs an inner 5-fold
    fit and can disagree with ``predict``. Both measures depend only on how
    the scores rank the series, so decision values are valid for them; they
    are not calibrated probabilities.

    Parameters
    ----------
    Z_train, Z_test : array-like of shape (n_samples, n_features)
        Representations, e.g. from ``ContrastiveEncoder.transform``.
    y_train, y_test : array-like of shape (n_samples,)
        Labels.
    C : float or "auto", default="auto"
        Penalty of the SVM (larger fits the training split more closely), or
        ``"auto"`` to pick it by inner cross-validation (falls back to 1.0
        when a class has < 2 samples).
    class_weight : {"balanced"} or None, default=None
        Reweight classes inversely to their frequency; TS2Vec does not.
    f1_labels : list, optional
        Classes averaged in the macro-F1 (all by default).
    random_state : int or None, default=0
        Seeds the inner cross-validation folds.
    protocol : {"tscl", "ts2vec"}, default="tscl"
        ``"ts2vec"`` repeats the TS2Vec code's ``fit_svm`` exactly: no
        standardisation; ``C`` among ``10**-4 ... 10**4`` and ``inf`` by
        unshuffled stratified 5-fold cross-validation; ``C=inf`` without a
        search when the training split has fewer than 50 series or fewer than 5
        per class (``n_train // n_classes < 5``); a stratified subset of
        10,000 series (seed 0) when it has more. ``C`` must then be ``"auto"``
        and ``class_weight`` None. Use it to compare with TS2Vec's figures.

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``auroc`` and ``auprc`` (from
        ``decision_function``, see the note above), ``fit_time`` (seconds,
        including the search for ``C``), ``y_pred`` and the fitted ``model`` (a
        scikit-learn pipeline whose last step is an ``SVC`` or, with
        ``C="auto"``, a ``GridSearchCV``).

    Raises
    ------
    TypeError
        If ``C`` is neither a number nor ``"auto"``.
    ValueError
        If ``C`` is not > 0, or the splits are not 2-D, have different feature
        counts or hold NaN.

    See Also
    --------
    linear_probe : The same protocol with a logistic regression.

    References
    ----------
    .. [1] Yue et al., TS2Vec: Towards Universal Representation of Time Series,
       AAAI 2022, arXiv:2106.10466

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> Z = rng.normal(size=(100, 4)) + 2 * y[:, None]
    >>> result = svm_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    >>> result["accuracy"] > 0.8
    True
    >>> svm_probe(Z[::2], y[::2], Z[1::2], y[1::2], C=10.0)["model"][-1]
    SVC(C=10.0)
    """
    Z_train, Z_test = _check_features(Z_train, Z_test)
    if protocol == "ts2vec":
        if C != "auto" or class_weight is not None:
            raise ValueError(
                "protocol='ts2vec' chooses C itself and weighs classes equally; got "
                f"C={short_repr(C)}, class_weight={short_repr(class_weight)}. Leave "
                "both at their "
                "defaults, or use protocol='tscl'."
            )
        Z_train, y_train, model = _ts2vec_svc(Z_train, y_train)
    elif protocol == "tscl":
        model = make_pipeline(
            StandardScaler(), _svc(C, y_train, class_weight, random_state)
        )
    else:
        raise ValueError(
            f"protocol must be 'tscl' or 'ts2vec' (TS2Vec's exact SVM search); got "
            f"{short_repr(protocol)}."
        )
    return _fit_and_score(
        model, (Z_train, y_train, Z_test, y_test), f1_labels, "decision_function"
    )


#: TS2Vec's ``fit_svm``: its C grid, and the split sizes where it searches.
TS2VEC_C_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, np.inf]
TS2VEC_MAX_SEARCH = 10_000


def _ts2vec_svc(Z: np.ndarray, y: Any) -> tuple[np.ndarray, Any, Any]:
    """TS2Vec's SVM (no scaling): C=inf on small splits, else a 5-fold grid search."""
    y = np.asarray(y)
    n_classes = len(np.unique(y))
    svm = SVC(C=np.inf, gamma="scale")
    if len(Z) // n_classes < 5 or len(Z) < 50:
        return Z, y, make_pipeline(svm)
    if len(Z) > TS2VEC_MAX_SEARCH:
        Z, _, y, _ = train_test_split(
            Z, y, train_size=TS2VEC_MAX_SEARCH, random_state=0, stratify=y
        )
    search = GridSearchCV(svm, {"C": TS2VEC_C_GRID}, cv=5, scoring="accuracy")
    return Z, y, make_pipeline(search)


def knn_probe(
    Z_train: Any,
    y_train: Any,
    Z_test: Any,
    y_test: Any,
    *,
    n_neighbors: int = 5,
    metric: str = "cosine",
    weights: str = "uniform",
    f1_labels: list[Any] | None = None,
) -> dict[str, Any]:
    """Classify each test representation by its nearest training ones and score it.

    A ``KNeighborsClassifier`` on the raw representations: no standardisation,
    since the cosine similarity that contrastive losses train (SimCLR's
    NT-Xent, MoCo's InfoNCE) is what makes neighbours meaningful, and
    rescaling each feature would change it. The kNN probe has no parameter to
    fit, so it judges the geometry of the representations alone [1]_.

    The number of neighbours is ``min(n_neighbors, n_train)``: a training split
    smaller than ``n_neighbors`` (as in label-fraction studies) uses all of its
    samples rather than failing; ``model.n_neighbors`` holds the value used.

    Parameters
    ----------
    Z_train, Z_test : array-like of shape (n_samples, n_features)
        Representations, e.g. from ``ContrastiveEncoder.transform``.
    y_train, y_test : array-like of shape (n_samples,)
        Labels.
    n_neighbors : int, default=5
        Neighbours that vote, capped at the size of the training split.
    metric : str, default="cosine"
        Any distance of ``sklearn.neighbors`` (``"cosine"``, ``"euclidean"``, ...).
    weights : {"uniform", "distance"}, default="uniform"
        Equal votes, or votes weighted by inverse distance.
    f1_labels : list, optional
        Classes averaged in the macro-F1 (all by default).

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``auroc`` and ``auprc`` (from
        ``predict_proba``, the share of neighbour votes), ``fit_time``
        (seconds), ``y_pred`` and the fitted ``model`` (a
        ``KNeighborsClassifier``).

    Raises
    ------
    TypeError
        If ``n_neighbors`` is not an integer.
    ValueError
        If ``n_neighbors`` < 1, ``y_train`` holds a single class, or the
        splits are not 2-D, have different feature counts or hold NaN.

    See Also
    --------
    linear_probe : A logistic regression on standardised representations.

    References
    ----------
    .. [1] Wu et al., Unsupervised Feature Learning via Non-Parametric Instance
       Discrimination, CVPR 2018, arXiv:1805.01978

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> Z = rng.normal(size=(100, 4)) + 3 * np.eye(2, 4)[y]
    >>> result = knn_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    >>> result["accuracy"] > 0.8
    True
    >>> knn_probe(Z[:3], y[[0, 50, 51]], Z, y)["model"].n_neighbors  # 3 < 5
    3
    """
    check_count(n_neighbors, "n_neighbors", owner="knn_probe")
    Z_train, Z_test = _check_features(Z_train, Z_test)
    model = KNeighborsClassifier(
        n_neighbors=min(n_neighbors, len(Z_train)), metric=metric, weights=weights
    )
    return _fit_and_score(
        model, (Z_train, y_train, Z_test, y_test), f1_labels, "predict_proba"
    )


def _check_features(Z_train: Any, Z_test: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return both splits as arrays: 2-D, finite, with the same feature count."""
    Z_train, Z_test = np.asarray(Z_train), np.asarray(Z_test)
    for name, Z in (("Z_train", Z_train), ("Z_test", Z_test)):
        check_array_values(Z, name)
        if Z.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (n_samples, n_features); got shape "
                f"{Z.shape}. Embed series with transform() first."
            )
    if Z_train.shape[1] != Z_test.shape[1]:
        raise ValueError(
            f"Z_train has {Z_train.shape[1]} features but Z_test has "
            f"{Z_test.shape[1]}; embed both with the same encoder."
        )
    return Z_train, Z_test


def _fit_and_score(
    model: Any,
    splits: tuple[np.ndarray, Any, np.ndarray, Any],
    f1_labels: list[Any] | None,
    score_method: str,
) -> dict[str, Any]:
    """Fit ``model`` on the training split, time it and score it on the test one.

    ``score_method`` (``"predict_proba"`` or ``"decision_function"``) gives the
    scores that AUROC and AUPRC rank.
    """
    Z_train, y_train, Z_test, y_test = splits
    classes = np.unique(np.asarray(y_train))
    if len(classes) < 2:
        raise ValueError(
            f"y_train holds a single class ({classes.tolist()}); a probe needs at "
            "least two. Check the split, e.g. use a stratified one."
        )
    start = time.perf_counter()
    model.fit(Z_train, y_train)
    fit_time = time.perf_counter() - start
    y_pred = model.predict(Z_test)
    y_score = getattr(model, score_method)(Z_test)
    return {
        **scores(y_test, y_pred, f1_labels, y_score=y_score, classes=model.classes_),
        "fit_time": fit_time,
        "y_pred": y_pred,
        "model": model,
    }


def _inner_folds(y: Any, random_state: int | None) -> StratifiedKFold | None:
    """Up to 5 stratified folds of ``y``, or None when a class has < 2 samples."""
    n_splits = min(5, int(np.unique(np.asarray(y), return_counts=True)[1].min()))
    if n_splits < 2:
        return None
    return StratifiedKFold(n_splits, shuffle=True, random_state=random_state)


def _logistic(
    C: float | str,
    y: Any,
    class_weight: str | None,
    max_iter: int,
    random_state: int | None,
) -> LogisticRegression | GridSearchCV:
    """Build a logistic regression with a fixed ``C``, or one that picks it by CV."""
    if C != "auto":
        check_param(C, "C", owner="linear_probe", interval=(0, None))
        return LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter)
    model = LogisticRegression(class_weight=class_weight, max_iter=max_iter)
    folds = _inner_folds(y, random_state)
    if folds is None:
        return model
    return GridSearchCV(
        model, {"C": np.logspace(-3, 2, 6)}, cv=folds, scoring="f1_macro"
    )


def _svc(
    C: float | str, y: Any, class_weight: str | None, random_state: int | None
) -> SVC | GridSearchCV:
    """Build an RBF SVC with a fixed ``C``, or one that picks it by CV (accuracy)."""
    if C != "auto":
        check_param(C, "C", owner="svm_probe", interval=(0, None))
        return SVC(C=C, class_weight=class_weight)
    model = SVC(class_weight=class_weight)
    folds = _inner_folds(y, random_state)
    if folds is None:
        return model
    return GridSearchCV(
        model, {"C": np.logspace(-4, 4, 9)}, cv=folds, scoring="accuracy"
    )


#: Probes by name: :func:`tscl.evaluation.label_fraction_study` takes a name.
PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "linear": linear_probe,
    "svm": svm_probe,
    "knn": knn_probe,
}
