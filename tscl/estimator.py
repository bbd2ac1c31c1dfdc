"""``ContrastiveEncoder``: the scikit-learn facade over methods, encoders and views."""

from __future__ import annotations

import copy
import inspect
import os
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from tscl import augment as augment_module
from tscl import distributed, encoders, methods, persistence, training
from tscl._saving import SavingMixin
from tscl._series import SeriesMixin, check_length, label_codes
from tscl._validation import (
    MAX_SIZE,
    check_choice,
    check_count,
    check_group_ids,
    check_nesting,
    resolve_name,
    seed_from,
    short_repr,
)

__all__ = ["ContrastiveEncoder", "load"]

#: The ``missing`` policies: refuse NaN, or :func:`tscl.datasets.fill_missing`'s.
MISSING = ("error", "pad", "resample")


class ContrastiveEncoder(
    SavingMixin,
    SeriesMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Learn representations of time series by contrastive self-supervision.

    ``fit`` pretrains an encoder on unlabelled series with a self-supervised
    method; ``transform`` maps series to fixed-size vectors for any downstream
    scikit-learn model. Inputs are standardised per channel with statistics
    learned in ``fit``.

    Parameters
    ----------
    method : str or Method class, default="softclt"
        Self-supervised method: a name in :data:`tscl.methods.METHODS` or a
        :class:`tscl.methods.Method` subclass. The default is TS2Vec with
        SoftCLT's soft temporal targets (:class:`tscl.methods.SoftCLT`), the
        best recipe measured on the UCR/UEA archives (see the methods guide).
        Methods whose ``label_use`` is ``"required"`` learn from ``y``
        (supervised contrastive), ``"optional"`` ones use it when given.
    encoder : str or encoder class, default="auto"
        Network; a name in :data:`tscl.encoders.ENCODERS`, a class or an
        instance. ``"auto"`` is the method's ``default_encoder`` (``"ts2vec"``
        for ``"softclt"`` and ``"ts2vec"``, else ``"cnn"``).
    augment : str, Augmentation, callable or tsaug augmenter, optional
        Makes each view, ``augment(x, generator) -> x'`` on ``(batch, channels,
        time)`` tensors. A string is a preset of :data:`tscl.augment.PRESETS`
        (``"ecg"``, ``"finance"``, ``"default"``, ``"none"``) or a composition
        such as ``"jitter(sigma=0.05) + scaling"`` (:func:`tscl.augment.parse`).
        A tsaug augmenter or pipeline is wrapped in :class:`tscl.augment.Tsaug`.
        ``None`` uses the method's default
        (:func:`tscl.augment.default_augmentation`; for ``"softclt"`` and
        ``"ts2vec"``, none when the encoder masks timesteps itself).
    missing : {"error", "pad", "resample"}, default="error"
        What ``fit`` and ``transform`` do with NaN in a NumPy ``X``: refuse
        them, or fill them by the policy of
        :func:`tscl.datasets.fill_missing` first (the loaders' ``missing``):
        gaps interpolated linearly and NaN before a channel's first value
        given its nearest value, then the NaN after a series' last observed
        step (the padding of variable-length or shorter series) set to 0
        (``"pad"``) or the observed part stretched to the full length
        (``"resample"``). Irregularly sampled series: place each sample on a
        regular grid of timestamps and leave NaN where none falls, then use
        one of these. A series with no observed value is refused by name, as
        are infinite values.
    n_components : int or "auto", default="auto"
        Size of the representation returned by ``transform``; ``"auto"`` is
        the encoder's default ``out_dim`` (320 for ``"ts2vec"``, 128 for
        ``"cnn"``).
    n_epochs : int or "auto", default="auto"
        Passes over the training data; ``"auto"`` is the method's budget: for
        ``"softclt"`` and ``"ts2vec"`` 200 optimiser steps when the data holds
        at most 100,000 values, else 600 (TS2Vec's), whatever the number of
        series; 50 epochs for the other methods.
    batch_size : int or "auto", default="auto"
        Series per step (capped at the number of samples); ``"auto"`` is the
        method's ``default_batch_size`` (8 for ``"softclt"`` and ``"ts2vec"``,
        else 64).
    learning_rate : float, default=1e-3
        AdamW learning rate, decayed with a cosine schedule (constant for
        ``"softclt"`` and ``"ts2vec"``, with TS2Vec's weight decay of 0.01).
    encoder_params : dict, optional
        Extra arguments of the encoder class, e.g. ``{"hidden_dim": 32}``.
    method_params : dict, optional
        Extra arguments of the method class, e.g. ``{"temperature": 0.2}``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and augmentations.
    verbose : int, default=0
        Show a progress bar during ``fit`` when > 0.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        Training precision: ``"bf16"`` or ``"fp16"`` train under
        ``torch.autocast`` (fp16 with a gradient scaler); see the performance
        guide.
    compile : bool, default=False
        Train through ``torch.compile``: faster steps after a slow first one.
    checkpoint : str or Path, optional
        File for the training state, written atomically every
        ``checkpoint_every`` epochs and at the end (see :func:`tscl.training.train`).
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    resume : bool, default=False
        Continue from ``checkpoint`` if it exists: the fit ends with the same
        weights as an uninterrupted one. Without it an existing ``checkpoint``
        is an error and is never overwritten.

    Attributes
    ----------
    encoder_ : nn.Module
        The trained encoder, on the CPU, in eval mode.
    history_ : dict
        Per-epoch ``loss``, ``epoch_time``, ``learning_rate`` and the collapse
        measures ``embedding_std``, ``effective_rank``, ``alignment`` and
        ``uniformity`` (see :mod:`tscl.monitoring`), and ``n_steps``.
    mean_, scale_ : ndarray of shape (n_channels,)
        Per-channel standardisation learned in ``fit``.
    n_features_in_ : int
        ``X.shape[1]`` seen in ``fit`` (timesteps for 2-D input, channels for 3-D).
    n_channels_in_ : int
        Channels seen in ``fit``.
    n_dims_in_ : int
        Rank of ``X`` in ``fit`` (2 or 3); ``transform`` expects the same.

    See Also
    --------
    tscl.load : Read a model written by :meth:`save`.

    Notes
    -----
    Started by ``torchrun`` in several processes, ``fit`` trains with
    DistributedDataParallel: ``batch_size`` is per process, contrastive methods
    gather negatives from every process, and only rank 0 shows progress and
    writes checkpoints (see the distributed training guide).

    Examples
    --------
    >>> import numpy as np
    >>> from tscl import ContrastiveEncoder
    >>> X = np.random.default_rng(0).normal(size=(32, 2, 64))
    >>> enc = ContrastiveEncoder(n_components=8, n_epochs=1, random_state=0,
    ...                          encoder_params={"hidden_dim": 8, "depth": 2})
    >>> enc.fit_transform(X).shape
    (32, 8)
    """

    def __init__(
        self,
        method: Any = "softclt",
        encoder: Any = "auto",
        *,
        augment: Any = None,
        missing: str = "error",
        n_components: int | str = "auto",
        n_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        learning_rate: float = 1e-3,
        encoder_params: dict[str, Any] | None = None,
        method_params: dict[str, Any] | None = None,
        device: str = "auto",
        random_state: Any = None,
        verbose: int = 0,
        precision: str = "fp32",
        compile: bool = False,
        checkpoint: Any = None,
        checkpoint_every: int = 1,
        resume: bool = False,
    ) -> None:
        self.method = method
        self.encoder = encoder
        self.augment = augment
        self.missing = missing
        self.n_components = n_components
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.encoder_params = encoder_params
        self.method_params = method_params
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.precision = precision
        self.compile = compile
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.resume = resume

    def _train_config(
        self, n_samples: int = 2, n_values: int = 2
    ) -> training.TrainConfig:
        """Return the training settings, ``"auto"`` ones from the method's recipe.

        With ``n_epochs="auto"`` the budget comes from the method's
        ``default_budget`` for ``n_samples`` series of ``n_values`` values in
        all; with ``batch_size="auto"``, its ``default_batch_size``. The
        method's schedule, weight decay and ``drop_last`` always apply.
        """
        method_cls = methods.method_class(self.method)
        budget: dict[str, Any] = {"n_epochs": self.n_epochs}
        if self.n_epochs == "auto":
            budget = method_cls.default_budget(n_samples, n_values)
        batch_size: Any = self.batch_size  # checked by TrainConfig.check
        if batch_size == "auto":
            batch_size = method_cls.default_batch_size
        return training.TrainConfig(
            **budget,
            batch_size=batch_size,
            learning_rate=self.learning_rate,
            weight_decay=method_cls.weight_decay,
            schedule=method_cls.schedule,
            drop_last=method_cls.drop_last,
            precision=self.precision,
            compile=self.compile,
            checkpoint=self.checkpoint,
            checkpoint_every=self.checkpoint_every,
            resume=self.resume,
            verbose=self.verbose,
        )

    def _check_params(self) -> None:
        """Check every parameter before any work is done."""
        methods.method_class(self.method)
        for name, maximum in (
            ("n_components", MAX_SIZE),
            ("n_epochs", None),
            ("batch_size", 2**20),
        ):
            if getattr(self, name) != "auto":
                check_count(getattr(self, name), name, owner=self, maximum=maximum)
        self._train_config().check(owner=self)
        distributed.parse_device(self.device)
        check_choice(self.missing, "missing", MISSING, owner=self)
        for name in ("encoder_params", "method_params"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise TypeError(
                    f"The '{name}' parameter must be a dict or None; got "
                    f"{short_repr(value)}."
                )
            check_nesting(value, f"The '{name}' parameter")
        resolve_name(self._encoder_choice(), encoders.ENCODERS, "encoder", "encoder")
        if self.augment is not None:
            _views(self.augment)  # TypeError or ValueError if unusable

    def _encoder_choice(self) -> Any:
        """Return ``encoder``, with ``"auto"`` replaced by the method's default."""
        if isinstance(self.encoder, str) and self.encoder.lower() == "auto":
            return methods.method_class(self.method).default_encoder
        return self.encoder

    def _output_size(self) -> int:
        """Return ``n_components``, for ``"auto"`` the encoder's default ``out_dim``."""
        if self.n_components != "auto":
            return int(self.n_components)
        found = resolve_name(self._encoder_choice(), encoders.ENCODERS, "", "")
        if isinstance(found, torch.nn.Module):
            return encoders.output_size(found)
        default = inspect.signature(found).parameters.get("out_dim")
        if default is None or not isinstance(default.default, int):
            return 128
        return default.default

    def fit(self, X: Any, y: Any = None, groups: Any = None) -> ContrastiveEncoder:
        """Pretrain the encoder on ``X`` (and ``y`` for methods that use labels).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            Training series, with no NaN or inf.
        y : array-like of shape (n_samples,), optional
            Class labels, used by ``method="supcon"`` (required) and
            ``"triplet"`` (optional); ``-1`` marks an unlabelled series. Other
            methods ignore ``y``, as a scikit-learn pipeline passes it to every
            step.
        groups : array-like of shape (n_samples,), optional
            The recording or patient each series comes from (any hashable
            ids). Methods that use groups (``"simclr"``) treat every series
            of the same group as a positive and never as a negative. In a
            :class:`~sklearn.pipeline.Pipeline`, turn on metadata routing
            (``sklearn.set_config(enable_metadata_routing=True)``), call
            ``encoder.set_fit_request(groups=True)`` and pass
            ``pipeline.fit(X, y, groups=ids)``.

        Returns
        -------
        self : ContrastiveEncoder

        Raises
        ------
        ValueError
            If ``method="supcon"`` gets no ``y``, ``y`` holds continuous
            values or does not match ``X``, or ``groups`` is given to a method
            that cannot use it or does not match ``X``.
        """
        self._check_params()
        method_cls = methods.method_class(self.method)
        group_codes = _group_codes(groups, method_cls, self.method)
        uses_y = method_cls.label_use != "ignored" and y is not None
        if method_cls.label_use == "required" and y is None:
            raise ValueError(
                f"method={short_repr(self.method)} learns from labels: call fit(X, y) "
                "with one "
                "label per series (-1 for unlabelled ones), or use a "
                "self-supervised method such as 'simclr'."
            )
        X3: Any
        if isinstance(X, torch.Tensor):  # kept on its device, e.g. a GPU
            y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
            X3, y = self._validate_tensor(X, y if uses_y else None), y
        else:
            X3, y = self._validate(X, reset=True, y=y if uses_y else None)
        codes = label_codes(y) if uses_y else None
        n_samples, n_channels, n_timesteps = X3.shape
        if group_codes is not None and len(group_codes) != n_samples:
            raise ValueError(
                f"groups must hold one id per series; got {len(group_codes)} ids for "
                f"{n_samples} series."
            )
        if n_samples < 2:
            raise ValueError(
                f"ContrastiveEncoder needs at least 2 samples to contrast; got "
                f"n_samples = {n_samples} (1 sample)."
                if n_samples == 1
                else f"ContrastiveEncoder needs at least 2 samples; got {n_samples}."
            )
        config = self._train_config(n_samples, n_samples * n_channels * n_timesteps)
        device = distributed.setup(self.device)
        seed = seed_from(self.random_state, owner=self)
        self._fit_standardization(X3)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self._build_model(n_channels)
            aug = (
                _views(self.augment)
                if self.augment is not None
                else _default_views(method_cls, model.encoder)
            )
            check_length(n_timesteps, model.encoder, aug, model.min_length)
            self.history_ = training.train(
                model,
                X3,
                augment_module.Views(aug, n=2),
                config,
                y=codes,
                groups=group_codes,
                device=device,
                seed=seed,
                prepare=self._standardize,
                settings=self._run_settings(),
            )
        self._set_fitted(model.trained_encoder().cpu().eval(), n_channels)
        return self

    def _set_fitted(self, encoder: torch.nn.Module, n_channels: int) -> None:
        """Keep the trained encoder; what ``fit`` and :func:`load` both end with."""
        self.encoder_ = encoder.requires_grad_(True)  # e.g. for fine-tuning
        self.n_channels_in_ = n_channels
        self._n_features_out = self._output_size()

    def _run_settings(self) -> dict[str, str]:
        """Return the parameters a checkpoint must match to resume this fit."""
        free = {"verbose", "device", "compile", "checkpoint", "checkpoint_every"}
        free |= {"resume", "random_state"}  # a resumed run restores its generators
        params = self.get_params(deep=False)
        return {
            f"param {k}": training.stable_repr(v)
            for k, v in params.items()
            if k not in free
        }

    def _check_rank(self, X: Any) -> None:
        """Refuse 2-D input after a 3-D fit and the reverse, naming the fix."""
        fitted, given = getattr(self, "n_dims_in_", None), getattr(X, "ndim", None)
        if fitted is None or given == fitted or given not in (2, 3):
            return  # lists and other array-likes are checked by validate_data
        if fitted == 2:
            fix = "X[:, 0]" if np.shape(X)[1] == 1 else "a 2-D array"
            raise ValueError(
                f"ContrastiveEncoder was fitted on 2-D input (n_samples, "
                f"n_timesteps); got 3-D shape {np.shape(X)}. Pass {fix}."
            )
        raise ValueError(
            f"ContrastiveEncoder was fitted on 3-D input (n_samples, n_channels, "
            f"n_timesteps); got 2-D shape {np.shape(X)}. Pass X[:, None, :]."
        )

    def _build_model(self, n_channels: int) -> methods.Method:
        """Build the method with a fresh encoder for ``n_channels`` channels."""
        return methods.build_method(
            self.method, self._build_encoder(n_channels), self.method_params
        )

    def _build_encoder(self, n_channels: int) -> torch.nn.Module:
        encoder = encoders.build_encoder(
            self._encoder_choice(), n_channels, self._output_size(), self.encoder_params
        )
        if isinstance(self.encoder, torch.nn.Module):
            encoder = copy.deepcopy(encoder)  # never train the user's instance
        return encoder

    def transform(self, X: Any, level: str = "instance") -> np.ndarray:
        """Encode each series of ``X`` into a vector, or each of its timesteps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            Series with the channels seen in ``fit``; with 3-D input the length
            may differ from ``fit``'s.
        level : {"instance", "timestamp"}, default="instance"
            ``"instance"``: one vector per series. ``"timestamp"``: one vector
            per timestep, the representations ``method="ts2vec"`` trains (any
            method's encoder gives them). The transformer encoder has one per
            patch, repeated over the patch's timesteps.

        Returns
        -------
        ndarray of shape (n_samples, n_components), or (n_samples, n_timesteps, \
n_components) for ``level="timestamp"``
            float64 for float64 input, else float32.

        Raises
        ------
        ValueError
            For an unknown ``level``, or ``"timestamp"`` with an encoder whose
            output is not indexed by time (a CLIP time-frequency pair).
        """
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):  # e.g. on a GPU: encoded from the host
            X = X.detach().cpu().numpy()
        check_choice(
            level,
            "level",
            ("instance", "timestamp"),
            owner=self,
            hint="'instance' gives one vector per series, 'timestamp' one per "
            "timestep.",
        )
        if level == "timestamp" and _table_output(self) != "default":
            raise ValueError(
                f"level='timestamp' returns a 3-D array, which set_output("
                f"transform={short_repr(_table_output(self))}) cannot hold as a table. "
                "Call "
                "set_output(transform='default') first."
            )
        self._check_rank(X)
        X3, _ = self._validate(X, reset=False)
        if X3.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {X3.shape[1]} channel(s), but ContrastiveEncoder "
                f"was fitted with {self.n_channels_in_}."
            )
        check_length(X3.shape[2], self.encoder_, None)
        Z = encoders.encode(
            self.encoder_, X3, self.device, level=level, prepare=self._standardize
        )
        bad = ~np.isfinite(Z.reshape(len(Z), -1)).all(axis=1)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                f"The encoder gave NaN or infinite representations for {len(rows)} "
                f"series (rows {rows[:5].tolist()}...): their values are far outside "
                "the data the model was fitted on. Check the units of X."
            )
        if level == "timestamp":  # (n, dim, steps) -> (n, time, dim)
            stride = int(getattr(self.encoder_, "timestamp_stride", 1))
            Z = Z.repeat(stride, axis=2)[:, :, : X3.shape[2]].transpose(0, 2, 1)
        return Z.astype(X3.dtype, copy=False)


def load(path: str | os.PathLike[str]) -> ContrastiveEncoder:
    """Read a model written by :meth:`ContrastiveEncoder.save` without running code.

    Parameters
    ----------
    path : str or Path
        The model directory.

    Returns
    -------
    ContrastiveEncoder
        Fitted, with the saved parameters and weights.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a tscl model directory or its files are damaged.

    Examples
    --------
    >>> import tempfile, numpy as np, tscl
    >>> X = np.random.default_rng(0).normal(size=(16, 32))
    >>> enc = tscl.ContrastiveEncoder(n_components=4, n_epochs=1, random_state=0,
    ...                               encoder_params={"hidden_dim": 4, "depth": 1})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = enc.fit(X).save(d)
    ...     np.allclose(tscl.load(d).transform(X), enc.transform(X))
    True
    """
    return ContrastiveEncoder._from_files(persistence.read(path), str(path))


def _group_codes(groups: Any, method_cls: Any, name: str) -> np.ndarray | None:
    """Integer codes of the ``groups`` ids given to ``fit``, or ``None``."""
    if groups is None:
        return None
    if not method_cls.group_use:
        users = sorted(n for n, c in methods.METHODS.items() if c.group_use)
        raise ValueError(
            f"method={short_repr(name)} cannot use groups; pass groups=None, or use a "
            "method "
            f"that does: {', '.join(map(repr, users))}."
        )
    if isinstance(groups, torch.Tensor):
        groups = groups.cpu().numpy()
    ids = check_group_ids(groups, "groups")
    try:
        return np.unique(ids, return_inverse=True)[1].astype(np.int64)
    except TypeError:
        raise ValueError(
            "groups mixes id types that cannot be compared; use one type (e.g. str)."
        ) from None


def _views(augment: Any) -> Any:
    """Turn the ``augment`` parameter into views (a name is parsed)."""
    if isinstance(augment, str):
        return augment_module.parse(augment)
    return augment_module.as_augmentation(augment)


def _default_views(method_cls: type[methods.Method], encoder: torch.nn.Module) -> Any:
    """Return the method's default views for this encoder.

    A method whose ``default_augmentation`` takes no encoder (written before
    it could) is called without it.
    """
    if inspect.signature(method_cls.default_augmentation).parameters:
        return method_cls.default_augmentation(encoder)
    return method_cls.default_augmentation()


def _table_output(estimator: Any) -> str:
    """Return the container set_output asked for: "default", "pandas", "polars"."""
    import sklearn

    own = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return str(own or sklearn.get_config()["transform_output"])
