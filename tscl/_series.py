"""What tscl's estimators share: 3-D input, its checks and standardisation.

:class:`SeriesMixin` is the base of :class:`tscl.ContrastiveEncoder` and
:class:`tscl.evaluation.EncoderClassifier`; it holds no training code, so that
:mod:`tscl.evaluation` does not import the estimator module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import validate_data

from tscl._validation import (
    CHUNK_ELEMENTS,
    as_3d,
    check_array_input,
    chunks,
    is_memmap,
    short_repr,
    size_mismatch,
)
from tscl.datasets._missing import fill_missing

__all__ = ["SeriesMixin", "channel_stats"]


class SeriesMixin:
    """What tscl's estimators share: 3-D input, checks and standardisation.

    Gives the ``three_d_array`` input tag, input validation to ``(n_samples,
    n_channels, n_timesteps)`` and a per-channel standardisation learned in
    ``fit`` (``mean_``, ``scale_``).
    """

    mean_: np.ndarray
    scale_: np.ndarray

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = getattr(self, "missing", "error") != "error"
        return tags

    def _validate(
        self, X: Any, *, reset: bool, y: Any = None
    ) -> tuple[np.ndarray, Any]:
        """Check ``X`` (and ``y``) and return ``X`` as a 3-D float array."""
        check_array_input(X)
        args = (X,) if y is None else (X, y)
        try:
            checked = validate_data(
                self,
                *args,
                reset=reset,
                allow_nd=True,
                dtype=[np.float32, np.float64],
                ensure_all_finite=False,
            )
        except ValueError as err:
            if not reset and "features, but" in str(err):
                raise ValueError(size_mismatch(self, X)) from None
            if "could not convert" not in str(err):
                raise
            raise TypeError(
                f"X must hold real numbers ({err}). Convert or drop the non-numeric "
                "entries, then pass np.asarray(X, dtype=np.float32)."
            ) from None
        X, y = checked if y is not None else (checked, None)
        if reset:
            self.n_dims_in_ = X.ndim
        policy = getattr(self, "missing", "error")
        if policy != "error" and X.ndim in (2, 3) and _has_nan(X):
            X = fill_missing(X, policy)  # refuses all-NaN series by their row
        return as_3d(X), y

    def _validate_tensor(self, X: torch.Tensor, y: Any = None) -> torch.Tensor:
        """Check a tensor given to ``fit`` without moving it off its device."""
        if not X.is_floating_point():
            raise TypeError(
                f"X must hold real numbers; got a tensor of dtype {X.dtype}. Pass "
                "X.float()."
            )
        if X.ndim not in (2, 3) or 0 in X.shape:
            raise ValueError(
                "X must have shape (n_samples, n_timesteps) or (n_samples, "
                f"n_channels, n_timesteps); got a tensor of shape {tuple(X.shape)}."
            )
        if not bool(torch.isfinite(X).all()):
            raise ValueError(
                "X holds NaN or infinite values; fill or drop them first (see "
                "tscl.datasets.fill_missing), or pass a NumPy array with "
                "missing='pad' or 'resample'."
            )
        if y is not None and len(y) != len(X):
            raise ValueError(
                f"X and y must have the same length; got {len(X)} series and "
                f"{len(y)} labels."
            )
        self.n_features_in_ = X.shape[1]
        self.n_dims_in_ = X.ndim
        if hasattr(self, "feature_names_in_"):  # from an earlier fit on a table
            del self.feature_names_in_
        return X[:, None, :] if X.ndim == 2 else X

    def _fit_standardization(self, X3: np.ndarray | torch.Tensor) -> None:
        if isinstance(X3, torch.Tensor):
            peak = X3.detach().abs().amax(dim=(0, 2)).double().cpu().numpy()
            stats = [
                torch.std_mean(X3[:, c].double() / max(peak[c], 1e-300), correction=0)
                for c in range(X3.shape[1])
            ]
            scale = np.array([float(std) for std, _ in stats]) * peak
            self.mean_ = np.array([float(mean) for _, mean in stats]) * peak
            self.scale_ = np.where(scale <= CONSTANT * peak, 1.0, scale)
            return
        self.mean_, self.scale_ = channel_stats(X3)

    def _standardize(self, X3: Any) -> Any:
        """Standardise per channel into float32; refuse values that overflow it."""
        if isinstance(X3, torch.Tensor):
            mean = torch.as_tensor(self.mean_, device=X3.device)[:, None]
            scale = torch.as_tensor(self.scale_, device=X3.device)[:, None]
            out = ((X3 - mean) / scale).float()
            if not bool(torch.isfinite(out).all()):
                raise _overflow(float(X3.abs().max()), self.scale_)
            return out
        out = (X3 - self.mean_[:, None]) / self.scale_[:, None]
        with np.errstate(over="ignore"):
            out32 = out.astype(np.float32)
        if not np.isfinite(out32).all():
            raise _overflow(float(np.abs(X3).max()), self.scale_)
        return out32


def _has_nan(X: np.ndarray) -> bool:
    """Whether ``X`` holds a NaN, read block by block (memory maps too)."""
    return any(bool(np.isnan(block).any()) for block in chunks(X))


def _overflow(peak: float, scale: np.ndarray) -> ValueError:
    """Return the error for series that standardise beyond float32's range."""
    return ValueError(
        f"X holds values up to {peak:.3g} which, standardised with the statistics "
        f"learned in fit (scale_ = {np.array2string(scale, precision=3)}), exceed "
        "float32's range (3.4e38), the encoder's precision: they are far outside "
        "the data the model was fitted on. Check the units of X (or refit on data "
        "of this scale)."
    )


#: A channel whose standard deviation is at most this share of its largest
#: absolute value is constant (its scale is set to 1).
CONSTANT = 1e-12


def channel_stats(X3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation (1 where a channel is constant).

    Parameters
    ----------
    X3 : ndarray of shape (n_samples, n_channels, n_timesteps)
        The series, in memory or memory-mapped.

    Returns
    -------
    mean, scale : ndarray of shape (n_channels,), float64

    Notes
    -----
    Arrays above :data:`tscl._validation.CHUNK_ELEMENTS` values (and memory
    maps) are reduced in blocks of series, two passes, so that no temporary
    the size of ``X3`` is made.

    Examples
    --------
    >>> channel_stats(np.array([[[1.0, 3.0]], [[1.0, 3.0]]]))
    (array([2.]), array([1.]))
    """
    peak = np.zeros(X3.shape[1])
    for block in chunks(X3):
        peak = np.maximum(peak, np.abs(block).max(axis=(0, 2)).astype(np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = _moments(X3, np.ones(X3.shape[1]))
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            unit = np.where(peak > 0, peak, 1.0)  # values too large to square
            mean, scale = _moments(X3, unit)
            mean, scale = mean * unit, scale * unit
    scale[(scale <= CONSTANT * peak) | (peak == 0)] = 1.0
    return mean, scale


def _moments(X3: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of ``X3 / unit``, in float64."""
    if not is_memmap(X3) and X3.size <= CHUNK_ELEMENTS:
        if (unit == 1).all():
            return X3.mean(axis=(0, 2), dtype=np.float64), X3.std(
                axis=(0, 2), dtype=np.float64
            )
        scaled = X3 / unit[:, None]
        return scaled.mean(axis=(0, 2), dtype=np.float64), scaled.std(
            axis=(0, 2), dtype=np.float64
        )
    count = X3.shape[0] * X3.shape[2]
    total = np.zeros(X3.shape[1])
    for block in chunks(X3):
        total += (block / unit[:, None]).sum(axis=(0, 2), dtype=np.float64)
    mean = total / count
    squares = np.zeros(X3.shape[1])
    for block in chunks(X3):
        squares += np.square(block / unit[:, None] - mean[:, None]).sum(axis=(0, 2))
    return mean, np.sqrt(squares / count)


def label_codes(y: np.ndarray) -> np.ndarray:
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
            f"type {short_repr(kind)}, e.g. {y[:3].tolist()}. Regression targets "
            "cannot "
            "define positives."
        )
    codes = np.full(len(y), -1, dtype=np.int64)
    codes[~unlabelled] = classes
    return codes


def check_length(
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
