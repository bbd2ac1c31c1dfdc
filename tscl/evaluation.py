"""Judge representations downstream: linear and SVM probes, supervised baselines.

Probes are thin wrappers over scikit-learn: :func:`linear_probe` (a logistic
regression) and :func:`svm_probe` (an RBF SVM, TS2Vec's protocol).
:class:`EncoderClassifier` trains an encoder and a linear head end to end, the
"supervised from scratch" baseline that self-supervised pretraining has to beat.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn

from tscl import encoders, training
from tscl._validation import check_array_values, check_param
from tscl.estimator import SeriesMixin, encode

__all__ = ["EncoderClassifier", "linear_probe", "scores", "svm_probe"]


def scores(
    y_true: Any, y_pred: Any, f1_labels: list[Any] | None = None
) -> dict[str, float]:
    """Accuracy and macro-F1 (optionally over a subset of the classes).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    f1_labels : list, optional
        Classes averaged in the macro-F1; all classes by default. The PhysioNet/CinC
        2017 metric averages over ``["N", "A", "O"]``.

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1``.

    Examples
    --------
    >>> scores(["N", "A", "O", "~"], ["N", "A", "N", "~"], f1_labels=["N", "A", "O"])
    {'accuracy': 0.75, 'macro_f1': 0.5555555555555555}
    """
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=f1_labels, average="macro", zero_division=0)
        ),
    }


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
        ``accuracy``, ``macro_f1``, ``fit_time`` (seconds), ``y_pred`` and the
        fitted ``model`` (a scikit-learn pipeline).

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
    return _fit_and_score(model, Z_train, y_train, Z_test, y_test, f1_labels)


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

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``fit_time`` (seconds, including the search
        for ``C``), ``y_pred`` and the fitted ``model`` (a scikit-learn
        pipeline whose last step is an ``SVC`` or, with ``C="auto"``, a
        ``GridSearchCV``).

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
    model = make_pipeline(
        StandardScaler(), _svc(C, y_train, class_weight, random_state)
    )
    return _fit_and_score(model, Z_train, y_train, Z_test, y_test, f1_labels)


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
    Z_train: np.ndarray,
    y_train: Any,
    Z_test: np.ndarray,
    y_test: Any,
    f1_labels: list[Any] | None,
) -> dict[str, Any]:
    """Fit ``model`` on the training split, time it and score it on the test one."""
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
    return {
        **scores(y_test, y_pred, f1_labels),
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


class EncoderClassifier(SeriesMixin, ClassifierMixin, BaseEstimator):
    """An encoder and a linear head trained end to end with cross-entropy.

    The supervised baseline: the same architecture as the self-supervised
    encoder, trained from scratch on labelled series (or from ``init_encoder``,
    to fine-tune a pretrained one). Inputs are standardised per channel.

    Parameters
    ----------
    encoder : str or encoder class, default="cnn"
        A name in :data:`tscl.encoders.ENCODERS`.
    n_components : int, default=128
        Encoder output size, fed to the linear head.
    n_epochs : int, default=30
        Passes over the training data.
    batch_size : int, default=64
        Series per step.
    learning_rate : float, default=1e-3
        AdamW learning rate, decayed with a cosine schedule.
    class_weight : {"balanced"} or None, default="balanced"
        Weight the loss inversely to class frequency.
    encoder_params : dict, optional
        Extra arguments of the encoder class.
    init_encoder : nn.Module, optional
        Start from (a copy of) this encoder instead of random weights.
    device : str, default="auto"
        Where to train.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and shuffling.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    model_ : nn.Module
        Encoder and head, on the CPU, in eval mode.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> t = np.linspace(0, 1, 32)
    >>> X = np.sin(2 * np.pi * (2 + 3 * y[:, None]) * t)
    >>> X = X + 0.1 * rng.normal(size=(40, 32))
    >>> clf = EncoderClassifier(n_components=8, n_epochs=20, batch_size=8,
    ...                         random_state=0,
    ...                         encoder_params={"hidden_dim": 8, "depth": 2})
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        encoder: Any = "cnn",
        *,
        n_components: int = 128,
        n_epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        class_weight: str | None = "balanced",
        encoder_params: dict[str, Any] | None = None,
        init_encoder: nn.Module | None = None,
        device: str = "auto",
        random_state: Any = None,
    ) -> None:
        self.encoder = encoder
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.encoder_params = encoder_params
        self.init_encoder = init_encoder
        self.device = device
        self.random_state = random_state

    def _build(self, n_channels: int, n_classes: int) -> nn.Module:
        if self.init_encoder is not None:
            encoder = copy.deepcopy(self.init_encoder)
        else:
            encoder = encoders.build_encoder(
                self.encoder, n_channels, self.n_components, self.encoder_params
            )
        return nn.Sequential(
            encoder, nn.Linear(encoders.output_size(encoder), n_classes)
        )

    def fit(self, X: Any, y: Any) -> EncoderClassifier:
        """Train encoder and head on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            Training series.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : EncoderClassifier
        """
        self._check_training_params()
        if y is None:
            raise ValueError(
                "EncoderClassifier requires y to be passed, but the target y is None."
            )
        X3, y = self._validate(X, reset=True, y=y)
        check_classification_targets(y)
        encoder_labels = LabelEncoder().fit(y)
        self.classes_ = encoder_labels.classes_
        target = torch.as_tensor(encoder_labels.transform(y))
        weight = None
        if self.class_weight is not None:
            weight = torch.tensor(
                compute_class_weight(self.class_weight, classes=self.classes_, y=y),
                dtype=torch.float32,
            )
        self._fit_standardization(X3)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        device = training.resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self._build(X3.shape[1], len(self.classes_)).to(device)
            self.history_ = _fit_supervised(
                model, self._standardize(X3), target, weight, self, seed, device
            )
        self.model_ = model.cpu().eval()
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape ``(n_samples, n_classes)``."""
        check_is_fitted(self)
        X3, _ = self._validate(X, reset=False)
        logits = encode(self.model_, self._standardize(X3), self.device)
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each series."""
        best = self.predict_proba(X).argmax(axis=1)  # checks fitted first
        return np.asarray(self.classes_[best])


def _fit_supervised(
    model: nn.Module,
    X: np.ndarray,
    target: torch.Tensor,
    weight: torch.Tensor | None,
    params: EncoderClassifier,
    seed: int,
    device: torch.device,
) -> dict[str, list[float]]:
    """Cross-entropy training loop for :class:`EncoderClassifier`."""
    data = torch.tensor(X)
    shuffle = torch.Generator().manual_seed(seed)
    batch_size = min(params.batch_size, len(data))
    steps = -(-len(data) // batch_size) * params.n_epochs
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=params.learning_rate, weight_decay=1e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    weight = None if weight is None else weight.to(device)
    history: dict[str, list[float]] = {"loss": []}
    model.train()
    for _ in range(params.n_epochs):
        losses = []
        for index in torch.randperm(len(data), generator=shuffle).split(batch_size):
            logits = model(data[index].to(device))
            loss = F.cross_entropy(logits, target[index].to(device), weight=weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        history["loss"].append(float(np.mean(losses)))
    return history
