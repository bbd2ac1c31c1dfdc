"""Hand-crafted baseline features for ECG records (RR-interval statistics).

These give the classical baseline that learned representations are compared with,
e.g. for atrial fibrillation detection, where the RR intervals become irregular.
R peaks come from the XQRS detector of wfdb (``pip install tscl[ecg]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tscl._validation import import_optional

__all__ = ["RR_FEATURE_NAMES", "rr_features"]

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
