"""Fine-tuning: an encoder and a linear head trained end to end, early stopped."""

from __future__ import annotations

import copy
import math
import time
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from torch import nn

from tscl import augment as augment_module
from tscl import distributed, encoders, training
from tscl._series import SeriesMixin
from tscl._validation import check_count, check_param, seed_from
from tscl.evaluation._metrics import scores

__all__ = ["EncoderClassifier", "fine_tune"]


class EncoderClassifier(SeriesMixin, ClassifierMixin, BaseEstimator):
    """An encoder and a linear head trained end to end with cross-entropy.

    The supervised baseline: the same architecture as the self-supervised
    encoder, trained from scratch on labelled series (or from ``init_encoder``,
    to fine-tune a pretrained one). Inputs are standardised per channel with
    statistics of the training part.

    Early stopping: a stratified ``validation_fraction`` of the series is held
    out (``sklearn.model_selection.train_test_split``; with ``groups``, whole
    groups such as the windows of one recording, by
    ``StratifiedGroupKFold``). After each epoch the
    class-weighted cross-entropy on it (the training objective) is measured;
    training stops after ``patience`` epochs without a lower validation loss
    and the weights of the epoch with the lowest one are restored. The
    validation macro-F1 is recorded but does not decide. The held-out part
    is ``max(ceil(validation_fraction * n_samples), n_classes)`` series; when
    a class has fewer than 2 series, or the training part would be left with
    fewer series than classes, the model trains on everything without
    validation for all ``n_epochs`` and a ``UserWarning`` says so.

    Parameters
    ----------
    encoder : str or encoder class, default="cnn"
        A name in :data:`tscl.encoders.ENCODERS`.
    n_components : int, default=128
        Encoder output size, fed to the linear head.
    n_epochs : int, default=30
        Most passes over the training data.
    batch_size : int, default=64
        Series per step.
    learning_rate : float, default=1e-3
        AdamW learning rate, decayed with a cosine schedule over ``n_epochs``.
    class_weight : {"balanced"} or None, default="balanced"
        Weight the loss inversely to class frequency.
    encoder_params : dict, optional
        Extra arguments of the encoder class.
    init_encoder : nn.Module, optional
        Start from (a copy of) this encoder instead of random weights, e.g.
        ``ContrastiveEncoder(...).fit(X).encoder_``. ``encoder``,
        ``n_components`` and ``encoder_params`` are then not used.
    freeze_encoder : bool, default=False
        Train the head only; the encoder keeps its weights and stays in eval
        mode (batch-norm statistics frozen too).
    augment : str, Augmentation or callable, optional
        Applied to each training batch (never to validation or prediction),
        ``augment(x, generator) -> x'`` on ``(batch, channels, time)`` tensors;
        a string is a preset or composition of :func:`tscl.augment.parse`.
        With ``RandomCrop`` the model trains on random stretches of each series
        and predicts on whole ones (encoders that pool over time).
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of the series held out for early stopping; None trains on all
        of them for ``n_epochs``.
    patience : int or None, default=10
        Epochs without a lower validation loss before stopping; None runs all
        ``n_epochs`` (the best epoch's weights are still restored).
    device : str, default="auto"
        Where to train.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, initialisation and shuffling.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    model_ : nn.Module
        Encoder and head, on the CPU, in eval mode.
    history_ : dict of str to list of float
        Per epoch run: ``loss`` (training), ``val_loss`` and ``val_macro_f1``
        (empty without validation).
    best_epoch_ : int
        Index in ``history_`` of the epoch whose weights ``model_`` holds (the
        last one without validation).
    validation_indices_ : ndarray of int
        Rows of ``X`` held out for validation (empty without validation).

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
    >>> len(clf.validation_indices_), clf.best_epoch_ < len(clf.history_["loss"])
    (4, True)
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
        freeze_encoder: bool = False,
        augment: Any = None,
        validation_fraction: float | None = 0.1,
        patience: int | None = 10,
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
        self.freeze_encoder = freeze_encoder
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        training.TrainConfig(
            n_epochs=self.n_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
        ).check(owner=self)
        check_count(self.n_components, "n_components", owner=self)
        check_param(self.freeze_encoder, "freeze_encoder", owner=self, kind=bool)
        if self.validation_fraction is not None:
            check_param(
                self.validation_fraction,
                "validation_fraction",
                owner=self,
                interval=(0, 1),
            )
        if self.patience is not None:
            check_count(self.patience, "patience", owner=self)

    def _build(self, n_channels: int, n_classes: int) -> nn.Module:
        if self.init_encoder is not None:
            encoder = copy.deepcopy(self.init_encoder)
        else:
            encoder = encoders.build_encoder(
                self.encoder, n_channels, self.n_components, self.encoder_params
            )
        if self.freeze_encoder:
            encoder.requires_grad_(False)
        return nn.Sequential(
            encoder, nn.Linear(encoders.output_size(encoder), n_classes)
        )

    def fit(self, X: Any, y: Any, groups: Any = None) -> EncoderClassifier:
        """Train encoder and head on ``(X, y)``, early stopped on a held-out part.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            Training series.
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), optional
            The recording (or patient) of each series: the validation part
            holds whole groups, so windows of one recording are never on both
            sides of it.

        Returns
        -------
        self : EncoderClassifier

        Raises
        ------
        ValueError
            If ``y`` is None, a parameter is out of range or ``X`` holds NaN.
        tscl.training.TrainingError
            If the training loss becomes NaN or infinite (a ``RuntimeError``;
            the message names the epoch, counted from 1, and the step).
        """
        self._check_params()
        if y is None:
            raise ValueError(
                "EncoderClassifier requires y to be passed, but the target y is None."
            )
        X3, y = self._validate(X, reset=True, y=y)
        check_classification_targets(y)
        encoder_labels = LabelEncoder().fit(y)
        self.classes_ = encoder_labels.classes_
        target = torch.as_tensor(encoder_labels.transform(y))
        seed = seed_from(self.random_state, owner=self)
        split = _validation_split(
            target.numpy(), self.validation_fraction, seed, _check_groups(groups, y)
        )
        self.validation_indices_ = split[1]
        self._fit_standardization(X3[split[0]])
        device = distributed.resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self._build(X3.shape[1], len(self.classes_)).to(device)
            self.history_, self.best_epoch_ = _fit_supervised(
                model,
                (torch.tensor(self._standardize(X3)), target),
                split,
                _class_weight(self.class_weight, self.classes_, y),
                self,
                (seed, device),
            )
        self.model_ = model.cpu().eval()
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of shape ``(n_samples, n_classes)``."""
        check_is_fitted(self)
        X3, _ = self._validate(X, reset=False)
        logits = encoders.encode(
            self.model_, X3, self.device, prepare=self._standardize
        )
        return torch.softmax(torch.from_numpy(logits), dim=1).numpy()

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each series."""
        best = self.predict_proba(X).argmax(axis=1)  # checks fitted first
        return np.asarray(self.classes_[best])


def _class_weight(
    class_weight: str | None, classes: np.ndarray, y: Any
) -> torch.Tensor | None:
    """Loss weights per class (over all of ``y``), or None."""
    if class_weight is None:
        return None
    weight = compute_class_weight(class_weight, classes=classes, y=y)
    return torch.tensor(weight, dtype=torch.float32)


def _augmentation(augment: Any) -> Any:
    """Turn the ``augment`` parameter into an augmentation, or None."""
    if augment is None:
        return None
    if isinstance(augment, str):
        return augment_module.parse(augment)
    return augment_module.as_augmentation(augment)


def _check_groups(groups: Any, y: np.ndarray) -> np.ndarray | None:
    """Return ``groups`` as an array of one id per series, or None."""
    if groups is None:
        return None
    array = np.asarray(groups)
    if array.shape != (len(y),):
        raise ValueError(
            f"groups must hold one recording id per series ({len(y)}); got shape "
            f"{array.shape}."
        )
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError("groups holds NaN; give every series the id of its recording.")
    return array


def _validation_split(
    codes: np.ndarray, fraction: float | None, seed: int, groups: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows: stratified (by group), or all rows and none."""
    everything, none = np.arange(len(codes)), np.array([], dtype=int)
    if fraction is None:
        return everything, none
    counts = np.bincount(codes)
    n_val = max(math.ceil(fraction * len(codes)), len(counts))
    if groups is not None:
        n_groups = np.array(
            [len(np.unique(groups[codes == c])) for c in range(len(counts))]
        )
        counts = np.minimum(counts, n_groups)  # what a group split can use
    if counts.min() < 2 or len(codes) - n_val < len(counts):
        warnings.warn(
            f"EncoderClassifier trains on all {len(codes)} series without "
            "validation or early stopping: a stratified validation_fraction="
            f"{fraction} split needs at least 2 series (or groups) per class (the "
            f"smallest class has {counts.min()}) and at least one per class on "
            "each side. Pass validation_fraction=None to train without it silently.",
            UserWarning,
            stacklevel=3,
        )
        return everything, none
    if groups is not None:
        n_splits = max(2, round(1 / fraction))
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        with warnings.catch_warnings():  # a rare class may miss the held-out part
            warnings.filterwarnings("ignore", "The least populated class")
            train, val = next(splitter.split(everything, codes, groups))
        return np.sort(train), np.sort(val)
    train, val = train_test_split(
        everything, test_size=n_val, stratify=codes, random_state=seed
    )
    return np.sort(train), np.sort(val)


def _fit_supervised(
    model: nn.Module,
    data: tuple[torch.Tensor, torch.Tensor],
    split: tuple[np.ndarray, np.ndarray],
    weight: torch.Tensor | None,
    params: EncoderClassifier,
    where: tuple[int, torch.device],
) -> tuple[dict[str, list[float]], int]:
    """Cross-entropy loop with early stopping; returns the history and best epoch."""
    (seed, device), (train, val) = where, split
    batch_size = min(params.batch_size, len(train))
    steps = -(-len(train) // batch_size) * params.n_epochs
    optimizer, scheduler = training.make_optimizer(
        [p for p in model.parameters() if p.requires_grad],
        params.learning_rate,
        training.TrainConfig.weight_decay,
        steps,
    )
    step = _Step(model, optimizer, scheduler, weight, device, params.freeze_encoder)
    step.augment = _augmentation(params.augment)
    step.generator = torch.Generator(device=device).manual_seed(seed + 1)
    shuffle = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "val_loss": [], "val_macro_f1": []}
    best_loss, best_epoch, best_state = math.inf, 0, None
    for epoch in range(params.n_epochs):
        order = torch.from_numpy(train)[torch.randperm(len(train), generator=shuffle)]
        history["loss"].append(step.epoch(data, order.split(batch_size), epoch))
        if len(val) == 0:
            continue
        val_loss, val_f1 = step.evaluate(data, torch.from_numpy(val), batch_size)
        history["val_loss"].append(val_loss)
        history["val_macro_f1"].append(val_f1)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif params.patience is not None and epoch - best_epoch >= params.patience:
            break
    if best_state is None:
        return history, len(history["loss"]) - 1
    model.load_state_dict(best_state)
    return history, best_epoch


class _Step:
    """One model's optimiser steps and validation passes (device and weights)."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        weight: torch.Tensor | None,
        device: torch.device,
        frozen: bool,
    ) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.weight = None if weight is None else weight.to(device)
        self.device, self.frozen = device, frozen
        self.augment: Any = None
        self.generator: torch.Generator | None = None

    def epoch(
        self,
        data: tuple[torch.Tensor, torch.Tensor],
        batches: tuple[torch.Tensor, ...],
        epoch: int,
    ) -> float:
        """Train on each batch of row indices; return the mean loss."""
        self.model.train()
        if self.frozen:
            self.model[0].eval()  # type: ignore[index]
        losses = []
        for step, index in enumerate(batches, start=1):
            x = data[0][index].to(self.device)
            if self.augment is not None:
                x = self.augment(x, self.generator)
            logits = self.model(x)
            loss = F.cross_entropy(
                logits, data[1][index].to(self.device), weight=self.weight
            )
            lr = self.optimizer.param_groups[0]["lr"]
            training.check_loss(loss.item(), epoch + 1, step, lr, "EncoderClassifier's")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    def evaluate(
        self, data: tuple[torch.Tensor, torch.Tensor], rows: torch.Tensor, size: int
    ) -> tuple[float, float]:
        """Cross-entropy and macro-F1 on ``rows``, in eval mode."""
        self.model.eval()
        with torch.no_grad():
            logits = torch.cat(
                [self.model(data[0][i].to(self.device)) for i in rows.split(size)]
            )
            target = data[1][rows].to(self.device)
            loss = F.cross_entropy(logits, target, weight=self.weight).item()
        y_pred = logits.argmax(dim=1).cpu().numpy()
        f1 = f1_score(target.cpu().numpy(), y_pred, average="macro", zero_division=0)
        return float(loss), float(f1)


def fine_tune(
    pretrained: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    f1_labels: list[Any] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Fine-tune an encoder with a linear head on labelled series and score it.

    Fits an :class:`EncoderClassifier` starting from ``pretrained`` (a copy;
    the original is left unchanged), or from scratch when ``pretrained`` is
    None, and returns the same dict as the probes, so that fine-tuning, the
    supervised baseline and probes fill one table.

    Parameters
    ----------
    pretrained : nn.Module, fitted ContrastiveEncoder or None
        The encoder to start from (a ``ContrastiveEncoder`` gives its
        ``encoder_``); None trains the architecture in ``params`` from scratch.
    X_train, X_test : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
        Training and test series.
    y_train, y_test : array-like of shape (n_samples,)
        Labels.
    f1_labels : list, optional
        Classes averaged in the macro-F1 (all by default).
    **params
        Other :class:`EncoderClassifier` parameters (``n_epochs``,
        ``validation_fraction``, ``freeze_encoder``, ``random_state``, ...).

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``auroc`` and ``auprc`` (from
        ``predict_proba``; see :func:`scores`), ``fit_time`` (seconds),
        ``y_pred`` and the fitted ``model`` (the ``EncoderClassifier``).

    Raises
    ------
    TypeError
        If ``pretrained`` is not an ``nn.Module``, a fitted estimator with an
        ``encoder_`` or None, or ``params`` holds ``init_encoder``.
    sklearn.exceptions.NotFittedError
        If ``pretrained`` is an estimator that is not fitted.

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> t = np.linspace(0, 1, 32)
    >>> X = np.sin(2 * np.pi * (2 + 3 * y[:, None]) * t)
    >>> X = X + 0.1 * rng.normal(size=(40, 32))
    >>> _ = torch.manual_seed(0)
    >>> encoder = CNN(1, out_dim=8, hidden_dim=8, depth=2)  # or a pretrained one
    >>> result = fine_tune(encoder, X[::2], y[::2], X[1::2], y[1::2], n_epochs=20,
    ...                    batch_size=8, learning_rate=0.01, random_state=0)
    >>> result["accuracy"] > 0.9, sorted(result)[:3]
    (True, ['accuracy', 'auprc', 'auroc'])
    """
    if "init_encoder" in params:
        raise TypeError(
            "fine_tune takes the encoder as its first argument, 'pretrained'; "
            "remove init_encoder from the keyword arguments."
        )
    clf = EncoderClassifier(init_encoder=_as_module(pretrained), **params)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    proba = clf.predict_proba(X_test)
    y_pred = np.asarray(clf.classes_[proba.argmax(axis=1)])
    return {
        **scores(y_test, y_pred, f1_labels, y_score=proba, classes=clf.classes_),
        "fit_time": fit_time,
        "y_pred": y_pred,
        "model": clf,
    }


def _as_module(pretrained: Any) -> nn.Module | None:
    """Return the encoder module of ``pretrained``: itself, its ``encoder_`` or None."""
    if pretrained is None or isinstance(pretrained, nn.Module):
        return pretrained
    if isinstance(pretrained, BaseEstimator):
        check_is_fitted(pretrained)
        if isinstance(getattr(pretrained, "encoder_", None), nn.Module):
            return pretrained.encoder_
    raise TypeError(
        "pretrained must be an nn.Module, a fitted ContrastiveEncoder (its "
        f"encoder_ is used) or None (from scratch); got {type(pretrained).__name__}."
    )
