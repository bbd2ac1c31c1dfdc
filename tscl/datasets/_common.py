"""Helpers that every loader shares: the shipped data folder, resampling, windows."""

from __future__ import annotations

import numbers
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, resample_poly, sosfiltfilt

from tscl._validation import as_signal, check_count, check_param, short_repr

__all__ = [
    "bandpass",
    "data_home",
    "preprocess_ecg",
    "resample",
    "shipped_data_dir",
    "sliding_windows",
]

#: The repository's ``datasets/`` folder (present in a source checkout only).
SHIPPED_DATA = Path(__file__).resolve().parents[2] / "datasets"


def data_home(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder where loaders look for downloaded public datasets.

    Parameters
    ----------
    root : str or path, optional
        Used when given. Else the environment variable ``TSCL_DATA``, else
        ``~/tscl_data``.

    Returns
    -------
    Path
        The folder, with ``~`` expanded; it need not exist.

    Examples
    --------
    >>> data_home("/data/ucr").as_posix()
    '/data/ucr'
    """
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("TSCL_DATA")
    return Path(env).expanduser() if env else Path.home() / "tscl_data"


def shipped_data_dir() -> Path:
    """Return the repository's ``datasets/`` folder with the shipped demo records.

    Returns
    -------
    path : Path
        The absolute path of ``datasets/`` next to the ``tscl`` package.

    Raises
    ------
    FileNotFoundError
        If the folder is absent, as in a non-editable (wheel) install.

    Examples
    --------
    >>> path = shipped_data_dir()
    >>> path.name, (path / "mitdb").is_dir(), (path / "challenge2017").is_dir()
    ('datasets', True, True)
    """
    # Anchored on the package file, tscl/datasets/__init__.py (so that patching
    # tscl.datasets.__file__ moves it): two levels up is the repository root.
    path = SHIPPED_DATA
    if not path.is_dir():
        raise FileNotFoundError(
            f"The shipped data folder {path} does not exist: it comes with the tscl "
            "source repository, not with a wheel install. Pass root= with the folder "
            "that holds your copy of the data, or clone the tscl repository and "
            "install it with 'pip install -e .'."
        )
    return path


def resample(x: np.ndarray, fs_in: float, fs_out: float, axis: int = -1) -> np.ndarray:
    """Resample ``x`` from ``fs_in`` to ``fs_out`` Hz with a polyphase filter.

    The rate ratio is approximated by a fraction ``up / down`` with ``down <= 1000``
    and passed to :func:`scipy.signal.resample_poly` (anti-aliasing FIR filter).

    Parameters
    ----------
    x : array-like
        The signal; time runs along ``axis``.
    fs_in, fs_out : float
        Sampling rates of ``x`` and of the result in Hz, > 0.
    axis : int, default=-1
        The time axis.

    Returns
    -------
    y : ndarray
        The resampled signal, about ``n * fs_out / fs_in`` long along ``axis``;
        float32 for float32 input, float64 otherwise. A copy when the rates are equal.

    Examples
    --------
    >>> x = np.sin(np.linspace(0, 20, 3600, dtype=np.float32))
    >>> y = resample(x, 360, 100)
    >>> y.shape, y.dtype
    ((1000,), dtype('float32'))
    """
    for value, name in ((fs_in, "fs_in"), (fs_out, "fs_out")):
        check_param(value, name, owner="resample", interval=(0, None))
    x = as_signal(x, "resample", axis=axis)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    if fs_in == fs_out:
        return x.astype(dtype, copy=True)
    n_out = x.size * (fs_out / fs_in)
    if n_out > MAX_RESAMPLED:
        raise ValueError(
            f"Resampling {x.shape} from fs_in={fs_in:g} to fs_out={fs_out:g} Hz "
            f"would give {n_out:,.0f} values, more than tscl makes at once "
            f"({MAX_RESAMPLED:,}); check the rates (in Hz), or resample in parts."
        )
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    if ratio.numerator == 0:
        raise ValueError(
            f"Cannot resample from {fs_in} Hz to {fs_out} Hz: the ratio is below "
            "1/1000. Resample in two steps."
        )
    y = resample_poly(x, ratio.numerator, ratio.denominator, axis=axis)
    return np.asarray(y, dtype=dtype)


#: The most values :func:`resample` returns (2 GiB of float64).
MAX_RESAMPLED = 2**28


#: The steepest Butterworth filter :func:`bandpass` builds (per side).
MAX_FILTER_ORDER = 20
#: Cut-offs closer than this to 0 or to the Nyquist rate, relative to it, give
#: filters that round to nothing (or to numerical noise).
MIN_CUTOFF = 1e-8


def bandpass(
    x: np.ndarray,
    fs: float,
    low: float | None = 0.5,
    high: float | None = 40.0,
    order: int = 2,
    axis: int = -1,
) -> np.ndarray:
    """Band-pass filter ``x`` with a zero-phase Butterworth filter.

    The usual first step for ECG: ``low`` removes baseline wander (breathing,
    movement), ``high`` removes muscle noise and mains interference while
    keeping the QRS complex. The filter runs forward and backward
    (:func:`scipy.signal.sosfiltfilt`), so the waves are not shifted in time.

    Parameters
    ----------
    x : array-like
        The signal; time runs along ``axis``.
    fs : float
        Sampling rate in Hz, > 0.
    low, high : float or None, default=0.5 and 40.0
        Cut-off frequencies in Hz, ``0 < low < high < fs / 2``; None leaves that
        side open (a high-pass or low-pass filter).
    order : int, default=2
        Order of the Butterworth filter per side (doubled by the two passes),
        1 to ``MAX_FILTER_ORDER`` (20).
    axis : int, default=-1
        The time axis.

    Returns
    -------
    ndarray
        The filtered signal, same shape; float32 for float32 input, else float64.

    Raises
    ------
    ValueError
        For cut-offs outside ``(0, fs / 2)`` or in the wrong order, both None,
        a NaN or infinite sample, or a series too short for the filter.

    Examples
    --------
    >>> t = np.arange(0, 10, 1 / 250)
    >>> x = np.sin(2 * np.pi * 10 * t) + 2.0  # a 10 Hz wave on an offset
    >>> y = bandpass(x, fs=250)
    >>> bool(abs(y[500:-500].mean()) < 0.01), bool(abs(y.std() - x.std()) < 0.05)
    (True, True)
    """
    check_param(fs, "fs", owner="bandpass", interval=(0, None))
    check_count(order, "order", owner="bandpass")
    if order > MAX_FILTER_ORDER:
        raise ValueError(
            f"The 'order' parameter of bandpass must be at most {MAX_FILTER_ORDER} "
            f"(a Butterworth filter steeper than that rings and is slow); got "
            f"{order}. ECG work uses 2-4."
        )
    nyquist = fs / 2
    for value, name in ((low, "low"), (high, "high")):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Real)
        ):
            raise TypeError(
                f"bandpass needs {name} as a number of Hz or None; got "
                f"{short_repr(value)} "
                f"({type(value).__name__})."
            )
        if value is not None and not 0 < value < nyquist:
            raise ValueError(
                f"bandpass needs 0 < {name} < fs / 2 = {nyquist:g} Hz; got "
                f"{name}={short_repr(value)}. Lower it, or resample to a higher rate "
                "first."
            )
        if value is not None and not MIN_CUTOFF < value / nyquist < 1 - MIN_CUTOFF:
            raise ValueError(
                f"bandpass cannot build a filter with {name}={short_repr(value)} Hz at "
                f"fs={short_repr(fs)} Hz: the cut-off is within {MIN_CUTOFF:g} of 0 or "
                "of "
                "fs / 2 in relative terms. Check fs (Hz), or resample first."
            )
    if low is None and high is None:
        raise ValueError("bandpass needs low, high or both; got neither.")
    if low is not None and high is not None and low >= high:
        raise ValueError(f"bandpass needs low < high; got low={low}, high={high}.")
    if low is None:
        sos = butter(order, high, btype="lowpass", fs=fs, output="sos")
    elif high is None:
        sos = butter(order, low, btype="highpass", fs=fs, output="sos")
    else:
        sos = butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    x = as_signal(x, "bandpass", axis=axis)
    if not np.isfinite(x).all():
        raise ValueError(
            f"bandpass got {int((~np.isfinite(x)).sum())} NaN or infinite sample(s); "
            "a filter spreads them over the whole series. Fill gaps first, e.g. "
            "with tscl.datasets.fill_missing or linear interpolation."
        )
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    try:
        y = sosfiltfilt(sos, x.astype(np.float64), axis=axis)
    except ValueError as err:  # shorter than the filter's padding
        raise ValueError(
            f"bandpass cannot filter a series of {x.shape[axis]} samples at order "
            f"{order} ({err}); use longer series or a lower order."
        ) from None
    with np.errstate(over="ignore"):
        out = np.asarray(y, dtype=dtype)
    if not np.isfinite(out).all():
        raise ValueError(
            f"bandpass output does not fit in {np.dtype(dtype).name}: the input "
            f"reaches {float(np.max(np.abs(x))):.3g}, and the filter's overshoot "
            f"passes the largest {np.dtype(dtype).name} ({np.finfo(dtype).max:.3g}). "
            "Scale the signal to physical units (e.g. mV) or pass float64 values."
        )
    return out


def preprocess_ecg(
    x: np.ndarray,
    fs: float,
    fs_out: float | None = None,
    band: tuple[float | None, float | None] = (0.5, 40.0),
    axis: int = -1,
) -> np.ndarray:
    """Band-pass filter ECG, then resample it: what ECG users do before windows.

    :func:`bandpass` with ``band`` at the original rate, then :func:`resample`
    to ``fs_out`` (whose anti-aliasing filter needs ``band[1] < fs_out / 2``).

    Parameters
    ----------
    x : array-like
        ECG in physical units; time runs along ``axis``.
    fs : float
        Its sampling rate in Hz.
    fs_out : float, optional
        The rate to resample to (default: keep ``fs``).
    band : tuple of (float or None, float or None), default=(0.5, 40.0)
        Cut-offs of the band-pass filter in Hz.
    axis : int, default=-1
        The time axis.

    Returns
    -------
    ndarray
        The filtered (and resampled) ECG.

    Raises
    ------
    ValueError
        If the band's upper edge is not below ``fs_out / 2`` (it would alias),
        and as :func:`bandpass` and :func:`resample`.

    Examples
    --------
    >>> from tscl.datasets import load_challenge2017
    >>> signals, labels, names = load_challenge2017()
    >>> preprocess_ecg(signals[0], fs=300, fs_out=100).shape[0] == len(signals[0]) // 3
    True
    """
    try:
        if isinstance(band, (str, bytes)):
            raise TypeError
        low, high = band
    except (TypeError, ValueError):
        raise TypeError(
            f"preprocess_ecg needs band as a pair (low, high) of cut-offs in Hz "
            f"(None leaves a side open), e.g. (0.5, 40.0); got {short_repr(band)}."
        ) from None
    check_param(fs, "fs", owner="preprocess_ecg", interval=(0, None))
    if fs_out is not None:
        check_param(fs_out, "fs_out", owner="preprocess_ecg", interval=(0, None))
    if isinstance(high, numbers.Real) and fs_out is not None and high >= fs_out / 2:
        raise ValueError(
            f"preprocess_ecg: the band's upper edge {high} Hz must be below half of "
            f"fs_out={fs_out} Hz, or the resampled ECG aliases; lower band[1] or "
            "raise fs_out."
        )
    y = bandpass(x, fs, low, high, axis=axis)
    return y if fs_out is None else resample(y, fs, fs_out, axis=axis)


def sliding_windows(x: np.ndarray, size: int, stride: int | None = None) -> np.ndarray:
    """Cut a multichannel series into windows of ``size`` time steps.

    Parameters
    ----------
    x : array-like of shape (n_channels, n_timesteps)
        The series.
    size : int
        Window length in time steps, >= 1.
    stride : int, optional
        Step between window starts, >= 1. ``None`` means ``size`` (no overlap).
        A trailing part shorter than a window is dropped.

    Returns
    -------
    windows : ndarray of shape (n_windows, n_channels, size)
        A new array (not a view of ``x``) with ``x``'s dtype.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or is shorter than one window.

    Examples
    --------
    >>> x = np.arange(10).reshape(1, 10)
    >>> sliding_windows(x, 4).shape
    (2, 1, 4)
    >>> sliding_windows(x, 4, stride=3)[:, 0]
    array([[0, 1, 2, 3],
           [3, 4, 5, 6],
           [6, 7, 8, 9]])
    """
    stride = size if stride is None else stride
    for value, name in ((size, "size"), (stride, "stride")):
        check_count(value, name, owner="sliding_windows")  # fmt: skip
    x = as_signal(x, "sliding_windows")
    if x.ndim != 2:
        raise ValueError(
            f"x must have shape (n_channels, n_timesteps); got {x.shape}. For a "
            "single-channel 1-D series pass x[np.newaxis]."
        )
    if x.shape[1] < size:
        raise ValueError(
            f"The series x has {x.shape[1]} time steps, fewer than one window of "
            f"size={size}. Use a shorter window or a longer series."
        )
    view = sliding_window_view(x, size, axis=1)[:, ::stride]  # (C, n_windows, size)
    return view.transpose(1, 0, 2).copy()  # (n_windows, C, size)


def _interpolate_nan(x: np.ndarray) -> np.ndarray:
    """Fill NaN along the last axis linearly; an all-NaN channel becomes zeros."""
    x = np.array(x, dtype=np.float64)
    steps = np.arange(x.shape[-1])
    for row in x.reshape(-1, x.shape[-1]):
        bad = np.isnan(row)
        if bad.all():
            row[:] = 0.0
        elif bad.any():
            row[bad] = np.interp(steps[bad], steps[~bad], row[~bad])
    return x
