"""``ContrastiveEncoder``: the scikit-learn facade over methods, encoders and views."""

from __future__ import annotations

import copy
import os
import warnings
from typing import Any

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from tscl import augment as augment_module
from tscl import distributed, encoders, methods, persistence, training
from tscl._series import SeriesMixin
from tscl._validation import check_choice, check_count, resolve_name

__all__ = ["ContrastiveEncoder", "load"]


class ContrastiveEncoder(
    SeriesMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Learn representations of time series by contrastive self-supervision.

    ``fit`` pretrains an encoder on unlabelled series with a self-supervised
    method; ``transform`` maps series to fixed-size vectors for any downstream
    scikit-learn model. Inputs are standardised per channel with statistics
    learned in ``fit``.

    Parameters
    ----------
    method : str or Method class, default="simclr"
        Self-supervised method: a name in :data:`tscl.methods.METHODS` or a
        :class:`tscl.methods.Method` subclass. Methods whose ``label_use`` is
        ``"required"`` learn from ``y`` (supervised contrastive), ``"optional"``
        ones use it when given. See the methods guide.
    encoder : str or encoder class, default="cnn"
        Network; a name in :data:`tscl.encoders.ENCODERS`.
    augment : Augmentation, callable or tsaug augmenter, optional
        Makes each view, ``augment(x, generator) -> x'`` on ``(batch, channels,
        time)`` tensors. A tsaug augmenter or pipeline is wrapped in
        :class:`tscl.augment.Tsaug`. ``None`` uses the method's default
        (:func:`tscl.augment.default_augmentation`; random masking for
        ``"ts2vec"``).
    n_components : int, default=128
        Size of the representation returned by ``transform``.
    n_epochs : int, default=50
        Passes over the training data.
    batch_size : int, default=64
        Series per step (capped at the number of samples).
    learning_rate : float, default=1e-3
        AdamW learning rate, decayed with a cosine schedule.
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
        method: Any = "simclr",
        encoder: Any = "cnn",
        *,
        augment: Any = None,
        n_components: int = 128,
        n_epochs: int = 50,
        batch_size: int = 64,
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

    def _train_config(self) -> training.TrainConfig:
        """Return the training settings among the parameters (not yet checked)."""
        return training.TrainConfig(
            n_epochs=self.n_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            precision=self.precision,
            compile=self.compile,
            checkpoint=self.checkpoint,
            checkpoint_every=self.checkpoint_every,
            resume=self.resume,
            verbose=self.verbose,
        )

    def _check_params(self) -> training.TrainConfig:
        """Check every parameter before any work; return the training settings."""
        config = self._train_config()
        config.check(owner=self)
        check_count(self.n_components, "n_components", owner=self)
        for name in ("encoder_params", "method_params"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise TypeError(
                    f"The '{name}' parameter must be a dict or None; got {value!r}."
                )
        methods.method_class(self.method)
        resolve_name(self.encoder, encoders.ENCODERS, "encoder", "encoder")
        if self.augment is not None:
            augment_module.as_augmentation(self.augment)  # TypeError if unusable
        return config

    def fit(self, X: Any, y: Any = None) -> ContrastiveEncoder:
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

        Returns
        -------
        self : ContrastiveEncoder

        Raises
        ------
        ValueError
            If ``method="supcon"`` gets no ``y``, or ``y`` holds continuous
            values or does not match ``X``.
        """
        config = self._check_params()
        method_cls = methods.method_class(self.method)
        uses_y = method_cls.label_use != "ignored" and y is not None
        if method_cls.label_use == "required" and y is None:
            raise ValueError(
                f"method={self.method!r} learns from labels: call fit(X, y) with one "
                "label per series (-1 for unlabelled ones), or use a "
                "self-supervised method such as 'simclr'."
            )
        X3: Any
        if isinstance(X, torch.Tensor):  # kept on its device, e.g. a GPU
            y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
            X3, y = self._validate_tensor(X, y if uses_y else None), y
        else:
            X3, y = self._validate(X, reset=True, y=y if uses_y else None)
        codes = _label_codes(y) if uses_y else None
        n_samples, n_channels, n_timesteps = X3.shape
        if n_samples < 2:
            raise ValueError(
                f"ContrastiveEncoder needs at least 2 samples to contrast; got "
                f"n_samples = {n_samples} (1 sample)."
                if n_samples == 1
                else f"ContrastiveEncoder needs at least 2 samples; got {n_samples}."
            )
        device = distributed.setup(self.device)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        aug = (
            augment_module.as_augmentation(self.augment)
            if self.augment is not None
            else method_cls.default_augmentation()
        )
        self._fit_standardization(X3)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = self._build_model(n_channels)
            _check_length(n_timesteps, model.encoder, aug, model.min_length)
            self.history_ = training.train(
                model,
                X3,
                augment_module.Views(aug, n=2),
                config,
                y=codes,
                device=device,
                seed=seed,
                prepare=self._standardize,
                settings=self._run_settings(),
            )
        self._set_fitted(model.encoder.cpu().eval(), n_channels)
        return self

    def _set_fitted(self, encoder: torch.nn.Module, n_channels: int) -> None:
        """Keep the trained encoder; what ``fit`` and :func:`load` both end with."""
        self.encoder_ = encoder
        self.n_channels_in_ = n_channels
        self._n_features_out = self.n_components

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
            self.encoder, n_channels, self.n_components, self.encoder_params
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
                f"transform={_table_output(self)!r}) cannot hold as a table. Call "
                "set_output(transform='default') first."
            )
        self._check_rank(X)
        X3, _ = self._validate(X, reset=False)
        if X3.shape[1] != self.n_channels_in_:
            raise ValueError(
                f"X has {X3.shape[1]} channel(s), but ContrastiveEncoder "
                f"was fitted with {self.n_channels_in_}."
            )
        _check_length(X3.shape[2], self.encoder_, None)
        Z = encoders.encode(
            self.encoder_, X3, self.device, level=level, prepare=self._standardize
        )
        if level == "timestamp":  # (n, dim, steps) -> (n, time, dim)
            stride = int(getattr(self.encoder_, "timestamp_stride", 1))
            Z = Z.repeat(stride, axis=2)[:, :, : X3.shape[2]].transpose(0, 2, 1)
        return Z.astype(X3.dtype, copy=False)

    def save(self, path: str | os.PathLike[str]) -> ContrastiveEncoder:
        """Write the fitted model to directory ``path`` in a format that runs no code.

        ``config.json`` holds the parameters and fitted statistics,
        ``encoder.pt`` the weights (read back with ``weights_only=True``) and
        ``history.json`` the training history (:mod:`tscl.persistence`). See
        :func:`tscl.load`.

        Parameters
        ----------
        path : str or Path
            A new or empty directory, or one written by an earlier ``save``.

        Returns
        -------
        self : ContrastiveEncoder

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        FileExistsError
            If ``path`` is a file or a non-empty directory that is not a model.
        TypeError
            If a parameter cannot be stored safely (nothing is written).
        """
        check_is_fitted(self)
        config = {"params": self._params_to_json(), "fitted": self._fitted_to_json()}
        persistence.write(path, config, self.encoder_.state_dict(), self.history_)
        return self

    def _params_to_json(self) -> dict[str, Any]:
        """Return the parameters as JSON: registry names, view specs, no paths."""
        params = self.get_params(deep=False)
        params["method"] = _registry_name(params["method"], methods.METHODS, "method")
        params["encoder"] = _registry_name(
            params["encoder"], encoders.ENCODERS, "encoder"
        )
        try:
            params["augment"] = (
                None if self.augment is None else augment_module.to_spec(self.augment)
            )
        except TypeError:
            params["augment"] = {"unrestorable": repr(self.augment)}
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None
        params["checkpoint"], params["resume"] = None, False  # belong to one fit
        return params

    def _fitted_to_json(self) -> dict[str, Any]:
        """Every fitted attribute (``name_``) but the encoder and the history."""
        fitted = {}
        for name, value in vars(self).items():
            if name.startswith("_") or not name.endswith("_"):
                continue
            if name in ("encoder_", "history_"):
                continue
            fitted[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return fitted

    @classmethod
    def _from_files(
        cls, files: persistence.ModelFiles, root: str
    ) -> ContrastiveEncoder:
        """Rebuild a fitted estimator from a model folder's contents."""
        config = files.config
        try:
            params = dict(config["params"])
            params["augment"] = _augment_from_json(params["augment"])
            fitted = dict(config["fitted"])
            fitted.setdefault("n_dims_in_", 3)  # tscl 0.1.0 did not store it
            estimator = cls(**params)
            with torch.random.fork_rng(devices=[]):  # building draws nothing we keep
                model = estimator._build_model(int(fitted["n_channels_in_"]))
                encoder = model.encoder  # a pair of encoders for CLIP
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"{root}/config.json does not describe a model this tscl can "
                f"rebuild ({type(err).__name__}: {err}); it may be damaged or "
                "written by another version."
            ) from None
        try:
            encoder.load_state_dict(files.weights)
        except (RuntimeError, KeyError, TypeError) as err:
            reason = " ".join(line.strip() for line in str(err).splitlines()[:2])
            raise ValueError(
                f"{root}/encoder.pt could not be read as this model's weights "
                f"({reason})."
            ) from None
        for name, value in fitted.items():
            setattr(estimator, name, _fitted_from_json(value))
        estimator._set_fitted(encoder.eval(), estimator.n_channels_in_)
        estimator.history_ = files.history
        return estimator


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


def _registry_name(value: Any, registry: dict[str, Any], parameter: str) -> str:
    """Return the registry name of a name or class; refuse an instance."""
    if isinstance(value, str):
        return value.lower()
    for name, registered in registry.items():
        if value is registered:
            return name
    raise TypeError(
        f"Cannot save a model whose '{parameter}' is {value!r}: only names in "
        f"{sorted(registry)} (or their classes) can be saved safely. Add your class "
        f"to the registry or pickle the estimator instead. Nothing was written."
    )


def _augment_from_json(spec: Any) -> Any:
    if spec is None:
        return None
    if "unrestorable" in spec:
        warnings.warn(
            f"The saved model was trained with augment={spec['unrestorable']}, which "
            "cannot be stored safely; the loaded estimator has augment=None. Set it "
            "again before refitting.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return augment_module.from_spec(spec)


def _fitted_from_json(value: Any) -> Any:
    """Return a stored fitted value: lists were arrays (of objects for strings)."""
    if not isinstance(value, list):
        return value
    strings = any(isinstance(v, str) for v in value)
    return np.asarray(value, dtype=object if strings else None)


def _table_output(estimator: Any) -> str:
    """Return the container set_output asked for: "default", "pandas", "polars"."""
    import sklearn

    own = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return str(own or sklearn.get_config()["transform_output"])


def _label_codes(y: np.ndarray) -> np.ndarray:
    """Integer class codes of ``y``, ``-1`` for unlabelled series (``y == -1``)."""
    from sklearn.utils.multiclass import type_of_target

    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D, one label per series; got shape {y.shape}. Pass "
            "y.ravel() for a column vector."
        )
    numeric = y.dtype.kind in "iufb"
    unlabelled = (y == -1) if numeric else np.zeros(len(y), dtype=bool)
    labelled = y[~unlabelled]
    try:
        kind = type_of_target(labelled) if len(labelled) else "binary"
        classes = np.unique(labelled, return_inverse=True)[1]
    except TypeError:  # e.g. str mixed with None: nothing to sort them by
        kinds = sorted({type(v).__name__ for v in labelled})
        raise ValueError(
            f"y mixes label types ({', '.join(kinds)}); use one type. Unlabelled "
            "series are marked with -1 in integer labels."
        ) from None
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"y must hold class labels (-1 for unlabelled series); got values of "
            f"type {kind!r}, e.g. {y[:3].tolist()}. Regression targets cannot "
            "define positives."
        )
    codes = np.full(len(y), -1, dtype=np.int64)
    codes[~unlabelled] = classes
    return codes


def _check_length(
    n_timesteps: int, encoder: torch.nn.Module, aug: Any, method_min: int = 1
) -> None:
    """Refuse series (or views) shorter than the encoder or the method accepts."""
    view_min = max(getattr(encoder, "min_length", 1), method_min)
    needed = max(view_min, getattr(aug, "min_length", 1))
    if n_timesteps < needed:
        raise ValueError(
            f"Series of {n_timesteps} timestep(s) (n_features = {n_timesteps} for "
            f"2-D input) are too short: the encoder, method and "
            f"augmentations need at least {needed}. Use longer windows, a smaller "
            "patch_size, or an augmentation without cropping."
        )
    if aug is None or getattr(aug, "keeps_length", True):
        return
    view = aug(torch.zeros(1, 1, n_timesteps))  # shortening views: check them now
    if view.shape[-1] < view_min:
        raise ValueError(
            f"The augmentation shortens series of {n_timesteps} timesteps to "
            f"{view.shape[-1]}, shorter than the minimum of {view_min} of the "
            "encoder and method. Crop less or use a smaller patch_size."
        )
