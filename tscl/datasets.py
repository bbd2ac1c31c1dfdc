"""Loaders for real time series: UCR archive, WFDB records, PhysioNet Challenge 2017.

Every loader returns float32 arrays in the package's layout, ``(n_samples,
n_timesteps)`` or ``(n_samples, n_channels, n_timesteps)``. The small records shipped
in the repository's ``datasets/`` folder (see its README for sources and licences)
are found with :func:`shipped_data_dir`; larger public datasets are read from a
folder the user downloads (see the dataset cards in ``datasets/README.md``).
WFDB loaders need the optional extra ``pip install tscl[ecg]``.
"""

from __future__ import annotations

import csv
import numbers
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import resample_poly

from tscl._validation import check_param, flatten_names

__all__ = [
    "load_challenge2017",
    "load_mitdb_windows",
    "load_ucr",
    "load_ucr_file",
    "load_wfdb_windows",
    "resample",
    "shipped_data_dir",
    "sliding_windows",
]

#: Sampling rate (Hz) and ADC gain (units per mV) of the Challenge 2017 records.
CHALLENGE2017_FS = 300.0
CHALLENGE2017_GAIN = 1000.0
CHALLENGE2017_LABELS = ("N", "A", "O", "~")
UCR_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"

Channels = int | str | Sequence[int | str] | None


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
    >>> sorted(p.name for p in shipped_data_dir().iterdir() if p.is_dir())
    ['challenge2017', 'mitdb']
    """
    path = Path(__file__).resolve().parents[1] / "datasets"
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
    fs_in : float
        Sampling rate of ``x`` in Hz, > 0.
    fs_out : float
        Wanted sampling rate in Hz, > 0.
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
    check_param(fs_in, "fs_in", owner="resample", interval=(0, None))
    check_param(fs_out, "fs_out", owner="resample", interval=(0, None))
    x = np.asarray(x)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    if fs_in == fs_out:
        return x.astype(dtype, copy=True)
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    if ratio.numerator == 0:
        raise ValueError(
            f"Cannot resample from {fs_in} Hz to {fs_out} Hz: the ratio is below "
            "1/1000. Resample in two steps."
        )
    y = resample_poly(x, ratio.numerator, ratio.denominator, axis=axis)
    return np.asarray(y, dtype=dtype)


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
    check_param(
        size,
        "size",
        owner="sliding_windows",
        kind=numbers.Integral,
        interval=(1, None),
        closed="left",
    )
    stride = size if stride is None else stride
    check_param(
        stride,
        "stride",
        owner="sliding_windows",
        kind=numbers.Integral,
        interval=(1, None),
        closed="left",
    )
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(
            f"x must have shape (n_channels, n_timesteps); got {x.shape}. For a "
            "single-channel 1-D series pass x[np.newaxis]."
        )
    if x.shape[1] < size:
        raise ValueError(
            f"The series has {x.shape[1]} time steps, fewer than one window of "
            f"{size}. Use a shorter window or a longer series."
        )
    view = sliding_window_view(x, size, axis=1)[:, ::stride]  # (C, n_windows, size)
    return view.transpose(1, 0, 2).copy()  # (n_windows, C, size)


def _import_wfdb() -> Any:
    try:
        import wfdb
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Reading WFDB records needs the wfdb package: pip install tscl[ecg]"
        ) from exc
    return wfdb


def _wfdb_header(record: str | os.PathLike[str]) -> tuple[Path, Any]:
    """Return the record path without extension and its header, checking files."""
    wfdb = _import_wfdb()
    path = Path(record)
    if path.suffix in (".hea", ".dat"):
        path = path.with_suffix("")
    hea = path.with_name(path.name + ".hea")
    if not hea.is_file():
        raise FileNotFoundError(
            f"WFDB record {str(path)!r} not found: expected its header {hea} and "
            f"its signal file(s), usually {path.with_name(path.name + '.dat')}. Pass "
            "the record path without extension, e.g. 'datasets/mitdb/100'."
        )
    header = wfdb.rdheader(str(path))
    for name in sorted(set(header.file_name or [])):
        if not (path.parent / name).is_file():
            raise FileNotFoundError(
                f"WFDB record {str(path)!r}: its header {hea} names the signal file "
                f"{path.parent / name}, which does not exist."
            )
    return path, header


def _channel_indices(channels: Channels, sig_name: list[str], path: Path) -> list[int]:
    if channels is None:
        return list(range(len(sig_name)))
    single = isinstance(channels, numbers.Integral | str)
    items: list[Any] = [channels] if single else list(channels)  # type: ignore[arg-type]
    indices = []
    for item in items:
        if isinstance(item, str):
            if item not in sig_name:
                raise ValueError(
                    f"Record {str(path)!r} has no channel named {item!r}; its "
                    f"channels are {flatten_names(sig_name)}."
                )
            indices.append(sig_name.index(item))
        elif isinstance(item, numbers.Integral) and 0 <= int(item) < len(sig_name):
            indices.append(int(item))
        else:
            raise ValueError(
                f"Channel {item!r} is out of range for record {str(path)!r}, which "
                f"has {len(sig_name)} channels ({flatten_names(sig_name)})."
            )
    return indices


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


def load_wfdb_windows(
    record: str | os.PathLike[str],
    *,
    fs: float | None = None,
    window_s: float = 10.0,
    stride_s: float | None = None,
    channels: Channels = None,
    sampfrom_s: float = 0.0,
    sampto_s: float | None = None,
) -> np.ndarray:
    """Read a WFDB record in physical units and cut it into fixed-length windows.

    Samples that WFDB marks invalid (read as NaN) are filled by linear interpolation
    between the nearest valid samples (constant at the ends); a channel with no valid
    sample becomes zeros.

    Parameters
    ----------
    record : str or path
        Record path without extension, e.g. ``"datasets/mitdb/100"``.
    fs : float, optional
        Resample to this rate in Hz. ``None`` keeps the record's rate.
    window_s : float, default=10.0
        Window length in seconds.
    stride_s : float, optional
        Step between windows in seconds. ``None`` means ``window_s`` (no overlap).
    channels : int, str or sequence of int or str, optional
        Channels to keep, by index or signal name (``"MLII"``). ``None`` keeps all.
    sampfrom_s, sampto_s : float, optional
        Read only this span of the record, in seconds. ``sampto_s=None`` reads to
        the end.

    Returns
    -------
    windows : ndarray of shape (n_windows, n_channels, window_len), float32
        The windows in the record's physical units (mV for ECG).

    Raises
    ------
    FileNotFoundError
        If the header or a signal file is missing.
    ValueError
        If a channel name or index does not exist, or the span is invalid.
    ImportError
        If wfdb is not installed.

    Examples
    --------
    >>> X = load_wfdb_windows("datasets/mitdb/100", fs=100.0)
    >>> X.shape, X.dtype
    ((60, 2, 1000), dtype('float32'))
    >>> load_wfdb_windows("datasets/mitdb/100", channels="V5", sampto_s=60).shape
    (6, 1, 3600)
    """
    path, header = _wfdb_header(record)
    fs_in = float(header.fs)
    indices = _channel_indices(channels, list(header.sig_name), path)
    sampfrom = int(round(sampfrom_s * fs_in))
    sampto = header.sig_len if sampto_s is None else int(round(sampto_s * fs_in))
    if not 0 <= sampfrom < sampto <= header.sig_len:
        raise ValueError(
            f"sampfrom_s={sampfrom_s} and sampto_s={sampto_s} must satisfy "
            f"0 <= sampfrom_s < sampto_s <= {header.sig_len / fs_in:g} s, the length "
            f"of record {str(path)!r}."
        )
    wfdb = _import_wfdb()
    rec = wfdb.rdrecord(str(path), sampfrom=sampfrom, sampto=sampto, channels=indices)
    signal = _interpolate_nan(rec.p_signal.T)  # (n_channels, n_timesteps)
    fs_out = fs_in if fs is None else float(fs)
    signal = resample(signal, fs_in, fs_out, axis=1)
    size = int(round(window_s * fs_out))
    stride = None if stride_s is None else int(round(stride_s * fs_out))
    return sliding_windows(signal.astype(np.float32), size, stride)


def load_mitdb_windows(
    root: str | os.PathLike[str] | None = None,
    *,
    records: Sequence[str] | None = None,
    fs: float = 100.0,
    window_s: float = 10.0,
    stride_s: float | None = None,
    lead: int | str = 0,
) -> np.ndarray:
    """Unlabelled single-lead ECG windows from MIT-BIH records, for pretraining.

    Parameters
    ----------
    root : str or path, optional
        Folder of MIT-BIH records (``100.hea``, ``100.dat``, ...). ``None`` means the
        shipped 10-minute subset, ``datasets/mitdb``.
    records : sequence of str, optional
        Record names. ``None`` reads every record (``*.hea``) in ``root``.
    fs : float, default=100.0
        Resample to this rate in Hz (the records are 360 Hz).
    window_s : float, default=10.0
        Window length in seconds.
    stride_s : float, optional
        Step between windows in seconds; ``None`` means no overlap.
    lead : int or str, default=0
        The lead, by index or name. Index 0 is MLII in every record except 104
        (paced, leads V5 and V2), where it is V5.

    Returns
    -------
    windows : ndarray of shape (n_windows, 1, window_len), float32
        Windows in mV, record by record in name order.

    Raises
    ------
    FileNotFoundError
        If ``root`` holds no record or a record is missing.

    Examples
    --------
    >>> X = load_mitdb_windows(records=["100", "104"])
    >>> X.shape, X.dtype
    ((120, 1, 1000), dtype('float32'))
    """
    folder = shipped_data_dir() / "mitdb" if root is None else Path(root)
    if records is None:
        records = sorted(p.stem for p in folder.glob("*.hea"))
        if not records:
            raise FileNotFoundError(
                f"No WFDB record (*.hea) found in {folder}. Pass root= with a folder "
                "of MIT-BIH records, downloaded from "
                "https://physionet.org/content/mitdb/1.0.0/."
            )
    windows = [
        load_wfdb_windows(
            folder / name, fs=fs, window_s=window_s, stride_s=stride_s, channels=[lead]
        )
        for name in records
    ]
    return np.concatenate(windows)


def _read_reference(path: Path) -> tuple[list[str], list[str]]:
    names, labels = [], []
    with path.open(newline="") as f:
        for i, row in enumerate(csv.reader(f), start=1):
            if not row:
                continue
            if len(row) != 2 or row[1].strip() not in CHALLENGE2017_LABELS:
                raise ValueError(
                    f"{path}, line {i}: expected '<record>,<label>' with a label in "
                    f"{flatten_names(CHALLENGE2017_LABELS)}; got {','.join(row)!r}."
                )
            names.append(row[0].strip())
            labels.append(row[1].strip())
    return names, labels


def _read_challenge_mat(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(
            f"Challenge 2017 record {path} is listed in REFERENCE.csv but missing."
        )
    val = scipy.io.loadmat(str(path))["val"]  # (1, n) int16
    return (np.ravel(val).astype(np.float64) / CHALLENGE2017_GAIN).astype(np.float32)


def load_challenge2017(
    root: str | os.PathLike[str] | None = None, *, fs: float | None = None
) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Load PhysioNet/CinC Challenge 2017 single-lead ECG records and rhythm labels.

    Reads ``REFERENCE.csv`` and each ``<name>.mat`` (int16 ``val``, 1000 units per
    mV, 300 Hz). The ``.hea`` headers are not read (``wfdb.rdheader`` rejects them).

    Parameters
    ----------
    root : str or path, optional
        Folder with ``REFERENCE.csv`` and the ``.mat`` files (the challenge training
        or validation set). ``None`` means the shipped validation set,
        ``datasets/challenge2017``.
    fs : float, optional
        Resample every record to this rate in Hz. ``None`` keeps 300 Hz.

    Returns
    -------
    signals : list of ndarray of shape (n_timesteps,), float32
        The records in mV; lengths vary (9-61 s in the validation set).
    labels : ndarray of str of shape (n_records,)
        ``'N'`` normal, ``'A'`` atrial fibrillation, ``'O'`` other rhythm,
        ``'~'`` noisy.
    names : list of str
        Record names, e.g. ``'A00001'``.

    Raises
    ------
    FileNotFoundError
        If ``REFERENCE.csv`` or a listed record is missing.
    ValueError
        If a line of ``REFERENCE.csv`` is malformed.

    References
    ----------
    [1] Clifford et al., AF Classification from a Short Single Lead ECG Recording:
    the PhysioNet/Computing in Cardiology Challenge 2017, CinC 2017.

    Examples
    --------
    >>> signals, labels, names = load_challenge2017()
    >>> len(signals), names[0], str(labels[0]), signals[0].shape
    (300, 'A00001', 'N', (9000,))
    >>> load_challenge2017(fs=100.0)[0][0].shape
    (3000,)
    """
    folder = shipped_data_dir() / "challenge2017" if root is None else Path(root)
    reference = folder / "REFERENCE.csv"
    if not reference.is_file():
        raise FileNotFoundError(
            f"{reference} not found. load_challenge2017 expects a folder with "
            "REFERENCE.csv and one <name>.mat per record, as in the Challenge 2017 "
            "data from https://physionet.org/content/challenge-2017/1.0.0/."
        )
    names, labels = _read_reference(reference)
    signals = [_read_challenge_mat(folder / f"{name}.mat") for name in names]
    if fs is not None:
        signals = [resample(s, CHALLENGE2017_FS, fs) for s in signals]
    return signals, np.asarray(labels, dtype=str), names


def _read_ucr_raw(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the float values and the label strings of one UCR ``.tsv`` file."""
    try:
        cells = np.loadtxt(path, delimiter="\t", dtype=str, ndmin=2)
        X = cells[:, 1:].astype(np.float32)
    except ValueError as exc:
        raise ValueError(
            f"Could not read {path} as a UCR .tsv file (tab separated, no header, "
            f"label in column 0, numbers or NaN elsewhere, same count per row): {exc}"
        ) from exc
    if cells.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{path} holds no series; got shape {cells.shape}.")
    return X, cells[:, 0]


def _convert_labels(labels: np.ndarray) -> np.ndarray:
    """Integer labels when every label is an integral number, else strings."""
    try:
        values = labels.astype(np.float64)
    except ValueError:
        return labels.astype(str)
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return labels.astype(str)


def load_ucr_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    r"""Read one UCR archive 2018 ``.tsv`` split file.

    Parameters
    ----------
    path : str or path
        A file such as ``GunPoint_TRAIN.tsv``: tab separated, no header, the label
        in column 0 and one time step per further column.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps), float32
        The series. NaN cells (padding of variable-length datasets such as PLAID,
        gaps as in DodgerLoopDay) are kept as NaN; fill them before fitting, as
        the estimator rejects NaN.
    y : ndarray of shape (n_samples,)
        int64 when every label is an integral number, else str.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is malformed (non-numeric cells, ragged rows, empty).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "toy_TRAIN.tsv").write_text("1\t0.5\t0.25\n2\t1.0\tNaN\n")
    >>> X, y = load_ucr_file(folder / "toy_TRAIN.tsv")
    >>> X
    array([[0.5 , 0.25],
           [1.  ,  nan]], dtype=float32)
    >>> y
    array([1, 2])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"UCR file {path} does not exist.")
    X, labels = _read_ucr_raw(path)
    return X, _convert_labels(labels)


def _ucr_root(root: str | os.PathLike[str] | None) -> Path:
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("TSCL_DATA")
    return Path(env).expanduser() if env else Path.home() / "tscl_data"


def load_ucr(
    name: str, root: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Load a dataset of the UCR archive 2018 with its official train/test split.

    Parameters
    ----------
    name : str
        Dataset name as in the archive, e.g. ``"GunPoint"`` (case-sensitive).
    root : str or path, optional
        Folder holding ``<name>/<name>_TRAIN.tsv`` (the archive's layout) or
        ``<name>_TRAIN.tsv``. ``None`` means the environment variable ``TSCL_DATA``,
        else ``~/tscl_data``.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_timesteps), float32
    y_train : ndarray of shape (n_train,)
    X_test : ndarray of shape (n_test, n_timesteps), float32
    y_test : ndarray of shape (n_test,)
        Labels are int64 when all (train and test) are integral numbers, else str.
        NaN cells are kept (see :func:`load_ucr_file`).

    Raises
    ------
    FileNotFoundError
        If no split file is found; the message lists the paths tried.
    ValueError
        If a file is malformed.

    References
    ----------
    [1] Dau et al., The UCR Time Series Archive, IEEE/CAA JAS, 2019.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "Toy_TRAIN.tsv").write_text("1\t0.0\t1.0\n2\t1.0\t0.0\n")
    >>> _ = (root / "Toy_TEST.tsv").write_text("2\t0.5\t0.0\n")
    >>> X_train, y_train, X_test, y_test = load_ucr("Toy", root)
    >>> X_train.shape, y_train, X_test.shape, y_test
    ((2, 2), array([1, 2]), (1, 2), array([2]))
    """
    folder = _ucr_root(root)
    tried = [folder / name / f"{name}_TRAIN.tsv", folder / f"{name}_TRAIN.tsv"]
    train = next((p for p in tried if p.is_file()), None)
    if train is None:
        raise FileNotFoundError(
            f"UCR dataset {name!r} not found; tried {tried[0]} and {tried[1]}. "
            f"Download the UCR archive 2018 from {UCR_URL}, unpack it and pass "
            "root= (or set TSCL_DATA) to the folder that holds the dataset folders."
        )
    test = train.with_name(f"{name}_TEST.tsv")
    if not test.is_file():
        raise FileNotFoundError(f"Found {train} but not the test split {test}.")
    X_train, y_train = _read_ucr_raw(train)
    X_test, y_test = _read_ucr_raw(test)
    y = _convert_labels(np.concatenate([y_train, y_test]))
    return X_train, y[: len(y_train)], X_test, y[len(y_train) :]
