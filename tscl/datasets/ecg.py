"""ECG loaders: WFDB records cut into windows, MIT-BIH, PhysioNet Challenge 2017.

WFDB loaders need the optional extra ``pip install tscl[ecg]``.
"""

from __future__ import annotations

import csv
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from tscl._validation import (
    as_path,
    check_param,
    flatten_names,
    import_optional,
    short_repr,
)
from tscl.datasets._common import (
    _interpolate_nan,
    resample,
    shipped_data_dir,
    sliding_windows,
)

__all__ = ["load_challenge2017", "load_mitdb_windows", "load_wfdb_windows"]

#: Sampling rate (Hz) and ADC gain (units per mV) of the Challenge 2017 records.
CHALLENGE2017_FS = 300.0
CHALLENGE2017_GAIN = 1000.0
CHALLENGE2017_LABELS = ("N", "A", "O", "~")

Channels = int | str | Sequence[int | str] | None


def _import_wfdb() -> Any:
    return import_optional("wfdb", "ecg", "Reading WFDB records")


def wfdb_call(function: Any, path: Path, what: str) -> Any:
    """Wrap a wfdb reader so that its internal errors name the record and the fix.

    wfdb raises whatever its parsers meet in a damaged file (``IndexError``,
    ``ValueError``, ``struct.error``, ...); tscl turns them into one
    ``ValueError`` that says which record and part could not be read.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (FileNotFoundError, ImportError):
            raise
        except Exception as err:
            detail = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(
                f"WFDB record {short_repr(str(path))}: its {what} could not be read "
                f"({type(err).__name__}: {detail}). The header "
                f"{path.with_name(path.name + '.hea')} or its signal file is damaged "
                "or not in WFDB format; download the record again."
            ) from None

    return call


def _check_rate_field(path: Path, hea: Path) -> None:
    """Refuse a header whose sampling-frequency field is there but unreadable.

    wfdb reads the record line ``name n_sig [fs[/counter[(base)]] [length ...]]``
    and falls back to the WFDB default of 250 Hz when ``fs`` does not parse
    (``-360``, ``abc``), which would window and resample at a wrong rate
    without a word.
    """
    with hea.open("rb") as handle:
        head = handle.read(65536).decode("ascii", errors="replace")
    lines = [ln.split() for ln in head.splitlines() if ln.strip()]
    record = next((t for t in lines if not t[0].startswith("#")), None)
    if record is None or len(record) < 2:
        return  # wfdb's own reader names a header without a record line
    if len(record) < 3:
        return  # no rate and so no length: refused below (signal length None)
    field = record[2].split("/")[0].split("(")[0]
    try:
        rate = float(field)
    except ValueError:
        rate = float("nan")
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(
            f"WFDB record {short_repr(str(path))}: the sampling frequency in its "
            f"header {hea} "
            f"is {short_repr(record[2])}, not a positive number of Hz (wfdb would fall "
            "back "
            "to 250 Hz). Correct the third field of the header's first line, e.g. "
            f"'{record[0]} {record[1]} 360 ...' for a record at 360 Hz."
        )


def _wfdb_header(record: str | os.PathLike[str]) -> tuple[Path, Any]:
    """Return the record path without extension and its header, checking files."""
    wfdb = _import_wfdb()
    path = as_path(record, "record", "a WFDB reader", example="'datasets/mitdb/100'")
    if path.suffix in (".hea", ".dat"):
        path = path.with_suffix("")
    hea = path.with_name(path.name + ".hea")
    if not hea.is_file():
        raise FileNotFoundError(
            f"WFDB record {short_repr(str(path))} not found: expected its header {hea} "
            "and "
            f"its signal file(s), usually {path.with_name(path.name + '.dat')}. Pass "
            "the record path without extension, e.g. 'datasets/mitdb/100'."
        )
    _check_rate_field(path, hea)
    header = wfdb_call(wfdb.rdheader, path, "header")(str(path))
    fs, length = getattr(header, "fs", None), getattr(header, "sig_len", None)
    if not isinstance(fs, (int, float)) or not fs > 0 or not isinstance(length, int):
        raise ValueError(
            f"WFDB record {short_repr(str(path))}: its header could not be read "
            "(sampling "
            f"frequency {short_repr(fs)}, signal length {short_repr(length)}). The "
            f"header {hea} is "
            "damaged or not in WFDB format; download the record again."
        )
    for name in sorted(set(header.file_name or [])):
        if not (path.parent / name).is_file():
            raise FileNotFoundError(
                f"WFDB record {short_repr(str(path))}: its header {hea} names the "
                "signal file "
                f"{path.parent / name}, which does not exist."
            )
    return path, header


def _channel_indices(channels: Channels, sig_name: list[str], path: Path) -> list[int]:
    if channels is None:
        return list(range(len(sig_name)))
    single = isinstance(channels, numbers.Integral | str)
    try:
        items: list[Any] = [channels] if single else list(channels)  # type: ignore[arg-type]
    except TypeError:
        items = []
    if not items:
        raise ValueError(
            f"channels must be None (all), a channel index or name, or a non-empty "
            f"list of them; got {short_repr(channels)}. Record {short_repr(str(path))} "
            "has "
            f"{flatten_names(sig_name)}."
        )
    indices = []
    for item in items:
        if isinstance(item, str):
            if item not in sig_name:
                raise ValueError(
                    f"Record {short_repr(str(path))} has no channel named "
                    f"{short_repr(item)}; its "
                    f"channels are {flatten_names(sig_name)}."
                )
            indices.append(sig_name.index(item))
        elif (
            isinstance(item, numbers.Integral)
            and not isinstance(item, bool)
            and 0 <= int(item) < len(sig_name)
        ):
            indices.append(int(item))
        else:
            raise ValueError(
                f"Channel {short_repr(item)} is out of range for record "
                f"{short_repr(str(path))}, which "
                f"has {len(sig_name)} channels ({flatten_names(sig_name)})."
            )
    if len(set(indices)) < len(indices):
        raise ValueError(
            f"channels names a channel twice ({short_repr(channels)}); record "
            f"{str(path)!r} has {flatten_names(sig_name)}. Name each channel once."
        )
    return indices


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
    sampfrom_s, sampto_s : float, default=0.0 and None
        Read only this span of the record in seconds; ``None`` reads to the end.

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
    owner = "load_wfdb_windows"
    check_param(window_s, "window_s", owner=owner, interval=(0, None))
    for name, value in (("fs", fs), ("stride_s", stride_s), ("sampto_s", sampto_s)):
        if value is not None:
            check_param(value, name, owner=owner, interval=(0, None))
    check_param(
        sampfrom_s, "sampfrom_s", owner=owner, interval=(0, None), closed="left"
    )
    path, header = _wfdb_header(record)
    fs_in = float(header.fs)
    indices = _channel_indices(channels, list(header.sig_name), path)
    sampfrom = int(round(sampfrom_s * fs_in))
    sampto = header.sig_len if sampto_s is None else int(round(sampto_s * fs_in))
    if not 0 <= sampfrom < sampto <= header.sig_len:
        raise ValueError(
            f"sampfrom_s={sampfrom_s} and sampto_s={sampto_s} must satisfy "
            f"0 <= sampfrom_s < sampto_s <= {header.sig_len / fs_in:g} s, the length "
            f"of record {short_repr(str(path))}."
        )
    wfdb = _import_wfdb()
    rec = wfdb_call(wfdb.rdrecord, path, "signals")(
        str(path), sampfrom=sampfrom, sampto=sampto, channels=indices
    )
    signal = _interpolate_nan(rec.p_signal.T)  # (n_channels, n_timesteps)
    fs_out = fs_in if fs is None else float(fs)
    signal = resample(signal, fs_in, fs_out, axis=1)
    size = int(round(window_s * fs_out))
    stride = None if stride_s is None else int(round(stride_s * fs_out))
    return sliding_windows(signal.astype(np.float32), size, stride)


def _mitdb_records(
    root: str | os.PathLike[str] | None, records: Sequence[str] | None
) -> tuple[Path, list[str]]:
    """Return the MIT-BIH folder (shipped for None) and its records (all by default)."""
    folder = shipped_data_dir() / "mitdb" if root is None else Path(root)
    if records is None:
        records = sorted(p.stem for p in folder.glob("*.hea"))
        if not records:
            raise FileNotFoundError(
                f"No WFDB record (*.hea) found in {folder}. Pass root= with a folder "
                "of MIT-BIH records, downloaded from "
                "https://physionet.org/content/mitdb/1.0.0/."
            )
    return folder, [str(r) for r in records]


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
    fs, window_s, stride_s : float
        Sampling rate in Hz (default 100; the records are 360 Hz), window length
        and step in seconds (default 10 and no overlap), as in
        :func:`load_wfdb_windows`.
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

    See Also
    --------
    load_wfdb_windows : The same for any WFDB record and its channels.

    Examples
    --------
    >>> X = load_mitdb_windows(records=["100", "104"])
    >>> X.shape, X.dtype
    ((120, 1, 1000), dtype('float32'))
    """
    folder, records = _mitdb_records(root, records)
    windows = [
        load_wfdb_windows(folder / n, fs=fs, window_s=window_s, stride_s=stride_s,
                          channels=[lead])
        for n in records
    ]  # fmt: skip
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
                    f"{flatten_names(CHALLENGE2017_LABELS)}; got "
                    f"{short_repr(','.join(row))}."
                )
            names.append(row[0].strip())
            labels.append(row[1].strip())
    return names, labels


def _read_challenge_mat(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(
            f"Challenge 2017 record {path} is listed in REFERENCE.csv but missing."
        )
    try:
        val = scipy.io.loadmat(str(path))["val"]  # (1, n) int16
    except (ValueError, TypeError, KeyError, OSError, MatReadError) as err:
        raise ValueError(
            f"Challenge 2017 record {path} is not a MATLAB file with a 'val' signal "
            f"({type(err).__name__}: {err}); re-download it."
        ) from None
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
