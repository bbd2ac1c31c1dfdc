"""What the command line reads: arrays, UCR/UEA files, CSV tables, WFDB folders.

:func:`read_series` turns a path into series (and their labels, when the format
holds them), so that every subcommand of ``tscl`` takes the same inputs.
"""

from __future__ import annotations

import os
import tokenize
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["Series", "read_series"]

#: The formats :func:`read_series` reads, by suffix, for messages.
FORMATS = (
    ".npy array (n, t) or (n, c, t), UCR .tsv, UEA .ts or .arff, CSV of one "
    "series per row, or a folder of WFDB records (with --window-s)"
)


class Series(NamedTuple):
    """What :func:`read_series` returns."""

    #: ndarray of shape (n, t) or (n, c, t): the series.
    X: np.ndarray
    #: ndarray of shape (n,), or None when the format holds no labels.
    y: np.ndarray | None


def read_series(
    path: str | os.PathLike[str],
    *,
    missing: str = "resample",
    window_s: float | None = None,
    fs: float | None = None,
) -> Series:
    """Read series from a file or a folder, whatever the format.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` array (read without pickle); a UCR ``.tsv`` file (the first
        column holds the labels); a UEA ``.ts`` or ``.arff`` file; a ``.csv``
        file with one series per row (a first row that is not numeric is taken
        for a header); or a folder of WFDB records (``*.hea``), cut into windows.
    missing : {"keep", "pad", "resample"}, default="resample"
        How gaps and variable lengths in UCR and UEA files are filled (see
        :func:`tscl.datasets.fill_missing`).
    window_s : float, optional
        Window length in seconds for a WFDB folder (required there).
    fs : float, optional
        Rate to resample WFDB records to, in Hz (default: their own).

    Returns
    -------
    Series
        ``X`` and ``y`` (None for arrays, CSV tables and WFDB records).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read as its format, or has another suffix.

    Examples
    --------
    >>> X, y = read_series("datasets/ucr/ECG200/ECG200_TRAIN.tsv")
    >>> X.shape, y[:3]
    ((100, 96), array([-1,  1, -1]))
    """
    from tscl import datasets

    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"Data file not found: {file}. Pass a {FORMATS}.")
    if file.is_dir():
        return Series(_wfdb_folder(file, window_s, fs), None)
    suffix = file.suffix.lower()
    if suffix == ".npy":
        try:
            _check_npy_size(file)
            return Series(np.load(file, allow_pickle=False), None)
        except ValueError as err:
            raise ValueError(
                f"{file} is not a readable .npy array ({err}). Save "
                "numeric data with np.save(path, X)."
            ) from None
    if suffix == ".tsv":
        X, y = datasets.load_ucr_file(file, missing=missing)
        return Series(X, y)
    if suffix in (".ts", ".arff"):
        X, y = datasets.load_uea_file(file, missing=missing)
        return Series(X, y)
    if suffix == ".csv":
        return Series(_csv(file), None)
    raise ValueError(f"Unsupported data file {file}: expected a {FORMATS}.")


def _check_npy_size(file: Path) -> None:
    """Refuse a .npy file whose header promises more data than the file holds.

    numpy would first try to allocate what the header claims (an 8 TB header
    on a 1 kB file ends in ``ArrayMemoryError``), so the claim is compared with
    the file's size before anything is allocated.
    """
    with file.open("rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        except (SyntaxError, tokenize.TokenError, TypeError, EOFError) as err:
            # numpy reads the header as a Python literal: a damaged one fails there
            raise ValueError(f"its header is damaged ({type(err).__name__})") from None
        start = handle.tell()
    if dtype.hasobject:
        return  # np.load refuses pickled objects with its own message
    claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    held = file.stat().st_size - start
    if claimed > held:
        raise ValueError(
            f"its header describes an array of shape {tuple(shape)} and dtype "
            f"{dtype} ({claimed:,} bytes), but the file holds {held:,} bytes after "
            "the header: it is truncated or damaged"
        )


def _csv(file: Path) -> np.ndarray:
    """One series per row of a comma-separated file, an optional header skipped.

    The first row is a header only when none of its cells is a number or a
    missing value (``NaN``, ``N/A``, ``NA``, ``null`` or empty): a data row with
    a missing cell is never taken for a header and lost.
    """
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{file} is not UTF-8 text ({err.reason} at byte {err.start}); save the "
            "CSV as UTF-8 (e.g. from Excel: 'CSV UTF-8')."
        ) from None
    rows = [line for line in lines if line.strip()]
    cells = [c.strip() for c in rows[0].split(",")] if rows else []
    header = bool(cells) and not any(
        _is_number(c) or c.lower() in _MISSING for c in cells
    )
    data = rows[int(header) :]
    if not data:
        raise ValueError(
            f"{file} holds no data rows"
            + (" (only a header)" if header else " (it is empty)")
            + "; expected one series per row, comma-separated numbers."
        )
    try:
        X = np.loadtxt([_nan_for_missing(row) for row in data], delimiter=",", ndmin=2)
    except ValueError as err:
        raise ValueError(
            f"{file} is not a CSV of numbers, one series per row ({err}); every "
            "row needs the same number of values, and a missing value is written "
            "NaN, NA or left empty."
        ) from None
    return X.astype(np.float32)


#: Cells read as a missing value (NaN) in a CSV of series.
_MISSING = {"", "nan", "na", "n/a", "null", "none", "-"}


def _nan_for_missing(row: str) -> str:
    """Write the missing cells of a row as ``nan``, which loadtxt reads."""
    return ",".join(
        "nan" if c.strip().lower() in _MISSING else c for c in row.split(",")
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _wfdb_folder(folder: Path, window_s: float | None, fs: float | None) -> np.ndarray:
    """Windows of every WFDB record in ``folder``, concatenated."""
    from tscl import datasets

    records = sorted(p.with_suffix("") for p in folder.glob("*.hea"))
    if not records:
        raise ValueError(
            f"{folder} is a folder without WFDB records (*.hea files); pass a "
            f"{FORMATS}."
        )
    if window_s is None:
        raise ValueError(
            f"{folder} holds {len(records)} WFDB record(s): pass --window-s (and "
            "--fs to resample) to cut them into windows of equal length."
        )
    windows = [datasets.load_wfdb_windows(r, fs=fs, window_s=window_s) for r in records]
    channels = {w.shape[1] for w in windows}
    if len(channels) > 1:
        raise ValueError(
            f"The WFDB records in {folder} have different numbers of leads "
            f"({sorted(channels)}); put records with the same leads in a folder."
        )
    lengths = {w.shape[2] for w in windows}
    if len(lengths) > 1:
        raise ValueError(
            f"The WFDB records in {folder} have different sampling rates, so "
            f"{window_s} s windows have {sorted(lengths)} samples; pass --fs to "
            "resample them all to one rate."
        )
    return np.concatenate(windows)
