"""Hand-crafted baseline features for ECG records (RR-interval statistics).

These give the classical baseline that learned representations are compared with,
e.g. for atrial fibrillation detection, where the RR intervals become irregular.
R peaks come from the XQRS detector of wfdb (``pip install tscl[ecg]``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from tscl._validation import import_optional

__all__ = ["RR_FEATURE_NAMES", "RRFeatures", "rr_features"]

#: Column names of :func:`rr_features`; RR statistics are in seconds.
RR_FEATURE_NAMES = [
    "mean_rr",
    "sdnn",
    "rmssd",
    "pnn50",
    "pnn20",
    "median_rr",
    "min_rr",
    "max_rr",
    "cv_rr",
    "mean_rr_ratio",
    "std_rr_ratio",
    "heart_rate",
    "beats_per_second",
    "irregularity",
    "few_beats",
]


def _detect_peaks(signal: np.ndarray, fs: float, processing: Any) -> np.ndarray:
    """R-peak sample indices: XQRS, falling back to GQRS when it finds < 2 peaks."""
    try:
        peaks = processing.xqrs_detect(signal, fs=fs, verbose=False)
    except (ValueError, IndexError):  # very short or flat signals
        peaks = np.array([], dtype=int)
    if len(peaks) < 2:
        try:
            peaks = processing.gqrs_detect(sig=signal, fs=fs)
        except (ValueError, IndexError):
            peaks = np.array([], dtype=int)
    return np.unique(np.asarray(peaks, dtype=np.int64))


def _rr_statistics(peaks: np.ndarray, fs: float, duration_s: float) -> np.ndarray:
    """One row of :data:`RR_FEATURE_NAMES` from peak indices."""
    out = np.zeros(len(RR_FEATURE_NAMES))
    out[12] = len(peaks) / duration_s  # beats_per_second
    if len(peaks) < 3:
        out[14] = 1.0  # few_beats: every RR statistic is left at 0
        return out
    rr = np.diff(peaks) / fs  # (n_beats - 1,) seconds
    diff = np.abs(np.diff(rr))  # successive differences
    ratio = rr[1:] / rr[:-1]
    mean = rr.mean()
    out[:12] = [
        mean,
        rr.std(),
        np.sqrt(np.mean(diff**2)),
        np.mean(diff > 0.05),
        np.mean(diff > 0.02),
        np.median(rr),
        rr.min(),
        rr.max(),
        rr.std() / mean,
        ratio.mean(),
        ratio.std(),
        60.0 / mean,
    ]
    out[13] = diff.mean() / mean  # irregularity
    return out


def rr_features(signals: Sequence[np.ndarray] | np.ndarray, fs: float) -> np.ndarray:
    """RR-interval (heart-rhythm) features of single-lead ECG records.

    R peaks are found with ``wfdb.processing.xqrs_detect`` (``gqrs_detect`` when
    XQRS finds fewer than 2 peaks). From the RR intervals (in seconds) come, in the
    order of :data:`RR_FEATURE_NAMES`: mean RR, SDNN (std of RR), RMSSD, pNN50,
    pNN20, median, min and max RR, coefficient of variation of RR, mean and std of
    the ratios of successive RR intervals, heart rate (beats per minute), detected
    beats per second, irregularity (mean absolute successive difference divided by
    mean RR) and ``few_beats``. A record with fewer than 3 peaks gets zeros for all
    RR statistics and ``few_beats = 1``; the output never holds NaN.

    Parameters
    ----------
    signals : list of 1-D arrays or ndarray of shape (n_records, n_timesteps)
        ECG records in physical units (mV); the lengths may differ.
    fs : float
        Sampling rate in Hz, > 0.

    Returns
    -------
    features : ndarray of shape (n_records, 15), float64
        One row per record, columns as in :data:`RR_FEATURE_NAMES`.

    Raises
    ------
    ValueError
        If ``fs`` is not positive, or a record is not 1-D, is empty or holds NaN or
        infinity.
    ImportError
        If wfdb is not installed.

    Examples
    --------
    >>> from tscl.datasets import load_challenge2017
    >>> signals, labels, names = load_challenge2017()
    >>> F = rr_features(signals[:2], fs=300)
    >>> F.shape
    (2, 15)
    >>> bool(55 < F[0, RR_FEATURE_NAMES.index("heart_rate")] < 90)
    True
    """
    if not fs > 0:
        raise ValueError(f"fs must be a sampling rate > 0 in Hz; got {fs!r}.")
    processing = import_optional("wfdb.processing", "ecg", "rr_features")
    rows = []
    for i, signal in enumerate(signals):
        x = np.asarray(signal, dtype=np.float64)
        if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError(
                f"Record {i} must be a non-empty 1-D array of finite values; got "
                f"shape {x.shape}. Remove NaN (e.g. by interpolation) first."
            )
        peaks = _detect_peaks(x, fs, processing)
        rows.append(_rr_statistics(peaks, fs, x.size / fs))
    return np.array(rows, dtype=np.float64).reshape(-1, len(RR_FEATURE_NAMES))


class RRFeatures(TransformerMixin, BaseEstimator):
    """RR-interval features as a scikit-learn transformer.

    :func:`rr_features` of one lead of each series, so that the features
    cardiologists trust sit beside learned ones in one pipeline:
    ``make_union(ContrastiveEncoder(...), RRFeatures(fs=...))``. It learns
    nothing: ``fit`` only checks the input and records its shape.

    Parameters
    ----------
    fs : float, default=300.0
        Sampling rate of the series in Hz (300 for Challenge 2017 records).
    lead : int, default=0
        The channel whose R peaks are detected, for 3-D input
        ``(n_samples, n_channels, n_timesteps)``; 2-D input is one lead.

    Attributes
    ----------
    n_features_in_ : int
        ``X.shape[1]`` seen in ``fit``.

    See Also
    --------
    rr_features : The same features as a function of a list of records.

    Examples
    --------
    >>> from tscl.datasets import load_challenge2017, resample
    >>> signals, labels, names = load_challenge2017()
    >>> X = np.stack([s[:3000] for s in signals[:4]])  # 10 s at 300 Hz
    >>> RRFeatures(fs=300).fit_transform(X).shape
    (4, 15)
    """

    def __init__(self, fs: float = 300.0, lead: int = 0) -> None:
        self.fs = fs
        self.lead = lead

    def _check(self, X: Any, reset: bool) -> np.ndarray:
        if not (isinstance(self.fs, numbers.Real) and self.fs > 0):
            raise ValueError(f"RRFeatures needs fs > 0 in Hz; got fs={self.fs!r}.")
        if not isinstance(self.lead, numbers.Integral) or self.lead < 0:
            raise ValueError(
                f"RRFeatures needs a lead index >= 0; got lead={self.lead!r}."
            )
        checked = validate_data(
            self, X, reset=reset, allow_nd=True, dtype=np.float64, ensure_min_features=1
        )
        if checked.ndim == 3:
            if self.lead >= checked.shape[1]:
                raise ValueError(
                    f"RRFeatures(lead={self.lead}) needs series with more than "
                    f"{self.lead} channels; got shape {checked.shape}."
                )
            return checked[:, self.lead]
        if checked.ndim != 2:
            raise ValueError(
                "RRFeatures expects (n_samples, n_timesteps) or (n_samples, "
                f"n_channels, n_timesteps); got shape {checked.shape}."
            )
        return checked

    def fit(self, X: Any, y: Any = None) -> RRFeatures:
        """Check ``X``; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            ECG series at ``fs`` Hz, finite.
        y : None
            Ignored.

        Returns
        -------
        self : RRFeatures
        """
        self._check(X, reset=True)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return the RR-interval features of each series.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
            ECG series at ``fs`` Hz, finite.

        Returns
        -------
        ndarray of shape (n_samples, 15)
            Columns as in :data:`RR_FEATURE_NAMES`.
        """
        check_is_fitted(self, "n_features_in_")
        return rr_features(self._check(X, reset=False), fs=float(self.fs))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return :data:`RR_FEATURE_NAMES` as an array of str.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "n_features_in_")
        return np.asarray([f"rr_{name}" for name in RR_FEATURE_NAMES], dtype=object)
