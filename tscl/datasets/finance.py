"""Daily prices: CSV files to log returns, leak-free windows, labels and splits.

The pipeline is ``load_prices -> log_returns -> return_windows ->
chronological_split``, with :func:`align_prices` to put several series on their
common dates first. Windows and labels follow two rules that keep the future
out of every input and the test period out of every training label:

- the window ending on day ``t`` (its *end date*) holds the returns of days
  ``t - window + 1 .. t`` and is scaled with statistics of days ``<= t`` only;
  its labels use the returns of days ``t + 1 .. t + horizon`` only;
- training windows end at least ``gap >= horizon`` windows before the first
  test window (:func:`chronological_split`), so that no training label reaches
  into the test period, and the volatility threshold of the regime labels is
  fitted on training windows only.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import numbers
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tscl._validation import (
    as_signal,
    check_choice,
    check_count,
    check_param,
    short_repr,
)

__all__ = [
    "DATE_FORMATS",
    "ReturnWindows",
    "align_prices",
    "chronological_split",
    "load_prices",
    "log_returns",
    "return_windows",
]

#: The date formats :func:`load_prices` recognises: name, pattern and example.
#: ``YYYYMM`` (monthly data) maps to the first day of the month.
DATE_FORMATS: dict[str, tuple[str, str]] = {
    "m/d/Y": (r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})", "1/4/1999"),
    "Y-m-d": (r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})", "1999-01-04"),
    "YYYYMM": (r"(?P<y>\d{4})(?P<m>\d{2})", "199901"),
}
_PATTERNS = {name: re.compile(p) for name, (p, _) in DATE_FORMATS.items()}
#: Cells that mean "no value" (compared case-insensitively after stripping).
MISSING = ("", ".", "null", "nan", "na", "n/a")
_DEFAULT_COLUMNS = ("Adj Close", "Close")


# ----------------------------------------------------------------- reading prices
def _recognised() -> str:
    return ", ".join(f"{n} (e.g. {ex})" for n, (_, ex) in DATE_FORMATS.items())


def _date_format(cell: str, line: int, path: Path) -> str:
    """Name of the format of the first date cell, or a clear error."""
    for name, pattern in _PATTERNS.items():
        if pattern.fullmatch(cell):
            return name
    raise ValueError(
        f"{path}, line {line}: date {short_repr(cell)} is in none of the recognised "
        "formats: "
        f"{_recognised()}. Convert the date column to one of them (ISO Y-m-d is "
        "safest)."
    )


def _parse_date(cell: str, fmt: str, line: int, path: Path) -> dt.date:
    match = _PATTERNS[fmt].fullmatch(cell)
    if match is None:
        raise ValueError(
            f"{path}, line {line}: date {short_repr(cell)} is not in the file's format "
            f"{fmt} "
            "(detected on the first data line). Files with mixed date formats are "
            "not supported; convert the date column to one format."
        )
    parts = match.groupdict()
    try:
        return dt.date(int(parts["y"]), int(parts["m"]), int(parts.get("d") or 1))
    except ValueError as err:
        hint = " Dates with '/' are read as month/day/year." if fmt == "m/d/Y" else ""
        raise ValueError(
            f"{path}, line {line}: {short_repr(cell)} is not a valid {fmt} date "
            f"({err}).{hint}"
        ) from None


def _value_column(header: list[str], rows: list[list[str]], date_col: int) -> int:
    """Index of the default price column: Adj Close, Close, else the only numeric."""
    for name in _DEFAULT_COLUMNS:
        if name in header:
            return header.index(name)

    def numeric(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return cell.strip().lower() in MISSING
        return True

    candidates = [
        j
        for j in range(len(header))
        if j != date_col and all(numeric(row[j]) for row in rows)
    ]
    if len(candidates) == 1:
        return candidates[0]
    raise ValueError(
        f"Cannot choose the price column: the file has no 'Adj Close' or 'Close' "
        f"column and {len(candidates)} numeric columns. Columns: {header}. Pass "
        "column= with one of them."
    )


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and the non-blank rows (with their line numbers) of a CSV file."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # strips a BOM
            lines = list(csv.reader(f))
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not UTF-8 text ({err.reason} at byte {err.start}); save it "
            "as UTF-8 (e.g. open it in a spreadsheet and export CSV UTF-8), or "
            "convert it with iconv -f latin1 -t utf-8."
        ) from None
    if not lines:
        raise ValueError(f"{path} is empty; expected a header line and data lines.")
    header = [cell.strip() for cell in lines[0]]
    rows = [(i + 1, row) for i, row in enumerate(lines) if i and any(row)]
    if not rows:
        raise ValueError(f"{path} has a header but no data lines.")
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} cells, but the header has "
                f"{len(header)} ({header})."
            )
    return header, rows


def _check_order(dates: list[dt.date], lines: list[int], path: Path) -> bool:
    """Whether the dates run backwards; raise on duplicates or any disorder."""
    d = np.array(dates, dtype="datetime64[D]")
    step = np.diff(d).astype(np.int64)
    descending = len(d) > 1 and bool(np.all(step < 0))
    bad = np.flatnonzero(step >= 0 if descending else step <= 0)
    if bad.size:
        i = int(bad[0])
        what = "repeats" if step[i] == 0 else "is out of order after"
        raise ValueError(
            f"{path}, line {lines[i + 1]}: date {dates[i + 1]} {what} "
            f"{dates[i]} (line {lines[i]}). Dates must be unique and sorted (either "
            "way); remove the duplicate rows or sort the file."
        )
    return descending


def load_prices(
    path: str | os.PathLike[str], column: str | None = None, *, missing: str = "drop"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Read one daily (or monthly) series from a CSV file with a date column.

    The file needs a header line. The date column is the one named ``Date``
    (any case), else the first. Its format is detected on the first data line
    and every line must use it: ``m/d/Y`` (``1/4/1999``, as in Yahoo Finance
    exports), ``Y-m-d`` (``1999-01-04``) or ``YYYYMM`` (``199901``, read as the
    first day of the month); see :data:`DATE_FORMATS`. A UTF-8 byte-order mark
    is stripped.

    Parameters
    ----------
    path : str or path
        The CSV file (comma separated, ``\n`` or ``\r\n`` line ends).
    column : str, optional
        The value column. ``None`` picks ``"Adj Close"`` if present, else
        ``"Close"``, else the only numeric column.
    missing : {"drop", "raise"}, default="drop"
        What to do with rows whose value cell is missing (empty, ``.``,
        ``null``, ``NaN``, ``NA`` or ``N/A``, any case): ``"drop"`` removes
        those days and warns with their count; ``"raise"`` raises.

    Returns
    -------
    dates : ndarray of shape (n_days,), datetime64[D]
        Strictly increasing (files sorted newest first are reversed).
    values : ndarray of shape (n_days,), float64
        The column's values. They are not checked to be positive, so files of
        returns (such as Fama-French factors) load too; :func:`log_returns`
        rejects non-positive prices.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file has no data, rows of the wrong length, a date in an
        unknown or a second format, duplicated or unsorted dates, an unknown
        or ambiguous column, a non-numeric or infinite value, or (with
        ``missing="raise"``) a missing value. Messages name the line.

    Warns
    -----
    UserWarning
        When ``missing="drop"`` drops rows; the message gives their count.

    Examples
    --------
    >>> from tscl.datasets import shipped_data_dir
    >>> dates, close = load_prices(shipped_data_dir() / "finance" / "sp500.csv")
    >>> dates[0], dates[-1], len(close)
    (np.datetime64('1999-01-04'), np.datetime64('2018-12-31'), 5031)
    >>> float(close[0])
    1228.099976
    """
    check_choice(missing, "missing", ("drop", "raise"), owner="load_prices")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Price file {path} does not exist.")
    header, rows = _read_table(path)
    lowered = [h.lower() for h in header]
    date_col = lowered.index("date") if "date" in lowered else 0
    fmt = _date_format(rows[0][1][date_col].strip(), rows[0][0], path)
    if any(p.fullmatch(header[date_col]) for p in _PATTERNS.values()):
        raise ValueError(f"{path}: line 1 holds a date; the file needs a header line.")
    if column is None:
        col = _value_column(header, [r for _, r in rows], date_col)
    elif column in header:
        col = header.index(column)
    else:
        raise ValueError(
            f"{path} has no column {short_repr(column)}. Columns: {header}."
        )
    lines = [line for line, _ in rows]
    dates = [_parse_date(r[date_col].strip(), fmt, n, path) for n, r in rows]
    descending = _check_order(dates, lines, path)
    values = np.array([_parse_value(r[col], header[col], n, path) for n, r in rows])
    gaps = np.isnan(values)
    if gaps.any():
        first = lines[int(np.argmax(gaps))]
        message = (
            f"{path}: {int(gaps.sum())} of {len(values)} rows have no "
            f"{short_repr(header[col])} value (first on line {first})"
        )
        if missing == "raise":
            raise ValueError(message + "; pass missing='drop' to drop those days.")
        warnings.warn(message + "; those days are dropped.", UserWarning, stacklevel=2)
    out_dates = np.array(dates, dtype="datetime64[D]")[~gaps]
    out_values = values[~gaps]
    if descending:
        out_dates, out_values = out_dates[::-1], out_values[::-1]
    if out_values.size == 0:
        raise ValueError(f"{path}: column {short_repr(header[col])} holds no values.")
    _warn_holes(out_dates, path)
    return out_dates, np.ascontiguousarray(out_values, dtype=np.float64)


#: Calendar days between two rows beyond which a price series has a hole (long
#: weekends and holidays stay below it).
MAX_GAP_DAYS = 10


def _warn_holes(dates: np.ndarray, path: Path) -> None:
    """Warn when consecutive rows are far apart: one "daily" return would span it."""
    if len(dates) < 2:
        return
    steps = np.diff(dates).astype(np.int64)
    holes = np.flatnonzero(steps > MAX_GAP_DAYS)
    if len(holes):
        worst = int(holes[np.argmax(steps[holes])])
        warnings.warn(
            f"{path}: {len(holes)} gap(s) of more than {MAX_GAP_DAYS} days between "
            f"consecutive rows, the longest {int(steps[worst])} days from "
            f"{dates[worst]} to {dates[worst + 1]}; log_returns would count each "
            "as one daily return. Split the series at the gap or fill the "
            "missing days before computing returns.",
            UserWarning,
            stacklevel=3,
        )


def _parse_value(cell: str, name: str, line: int, path: Path) -> float:
    """Parse ``cell`` as a float; NaN for a missing cell, an error otherwise."""
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"{path}, line {line}: {short_repr(name)} cell {short_repr(cell)} is not a "
            "number. Missing "
            f"values must be one of {list(MISSING)}."
        ) from None
    if not math.isfinite(value):
        raise ValueError(
            f"{path}, line {line}: {short_repr(name)} cell {short_repr(cell)} is "
            "infinite."
        )
    return value


def align_prices(
    series: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the dates that every series has, and stack the series on them.

    Parameters
    ----------
    series : sequence of (dates, values) pairs
        Each as returned by :func:`load_prices`: strictly increasing
        ``datetime64`` dates and values of the same length.

    Returns
    -------
    dates : ndarray of shape (n_days,), datetime64[D]
        The common dates, increasing.
    values : ndarray of shape (n_series, n_days), float64
        Row ``i`` holds series ``i`` on those dates. A day that one series
        lacks (a holiday of its market) is dropped from all, so the next
        return of the others spans two days.

    Raises
    ------
    ValueError
        If ``series`` is empty, a pair has mismatched lengths or unsorted
        dates, or the series share no date.

    Examples
    --------
    >>> a = (np.array(["2020-01-02", "2020-01-03", "2020-01-06"], "datetime64[D]"),
    ...      np.array([1.0, 2.0, 3.0]))
    >>> b = (np.array(["2020-01-03", "2020-01-06"], "datetime64[D]"),
    ...      np.array([10.0, 20.0]))
    >>> dates, values = align_prices([a, b])
    >>> dates.astype(str).tolist(), values.tolist()
    (['2020-01-03', '2020-01-06'], [[2.0, 3.0], [10.0, 20.0]])
    """
    if len(series) == 0:
        raise ValueError("align_prices needs at least one (dates, values) pair.")
    checked = [_check_dates(d, v, f"series[{i}]") for i, (d, v) in enumerate(series)]
    common = checked[0][0]
    for dates, _ in checked[1:]:
        common = np.intersect1d(common, dates)
    if common.size == 0:
        spans = [f"{d[0]}..{d[-1]}" for d, _ in checked]
        raise ValueError(f"The series share no date; their spans are {spans}.")
    values = [v[np.isin(d, common)] for d, v in checked]
    return common, np.stack(values)


def _date_array(dates: Any, name: str) -> np.ndarray:
    """``np.asarray(dates)``, with a ragged or odd value refused by name."""
    try:
        return np.asarray(dates)
    except (TypeError, ValueError):
        raise TypeError(
            f"The dates of {name} must be a numpy datetime64 array; got "
            f"{short_repr(dates)}. Use np.asarray(dates, dtype='datetime64[D]')."
        ) from None


def _check_dates(dates: Any, values: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates as datetime64[D], strictly increasing, as long as the values' last axis."""
    dates = _date_array(dates, name)
    if dates.dtype.kind != "M":
        raise TypeError(
            f"The dates of {name} must be a numpy datetime64 array; got dtype "
            f"{dates.dtype}. Use np.asarray(dates, dtype='datetime64[D]')."
        )
    dates = dates.astype("datetime64[D]")
    values = np.asarray(values, dtype=np.float64)
    if dates.ndim != 1 or len(dates) != values.shape[-1]:
        raise ValueError(
            f"{name} has {dates.shape} dates for values of shape {values.shape}; "
            "give one date per value (for log returns, the prices' dates[1:])."
        )
    bad = np.flatnonzero(np.diff(dates) <= np.timedelta64(0, "D"))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"The dates of {name} must be strictly increasing; {dates[i + 1]} "
            f"(index {i + 1}) follows {dates[i]}."
        )
    return dates, values


# ----------------------------------------------------------------- returns, windows
def log_returns(prices: Any) -> np.ndarray:
    """Daily log returns ``log(p[t] / p[t - 1])`` along the last axis.

    Parameters
    ----------
    prices : array-like of shape (n_days,) or (n_series, n_days)
        Positive, finite prices.

    Returns
    -------
    returns : ndarray of shape (n_days - 1,) or (n_series, n_days - 1), float64
        ``returns[..., i]`` is the return realised on day ``i + 1``, so its date
        is ``dates[i + 1]``: pass ``dates[1:]`` to :func:`return_windows`.

    Raises
    ------
    ValueError
        If there are fewer than 2 prices, or a price is not a positive finite
        number (the message gives the first bad index; data holding returns
        rather than prices, such as Fama-French factors, need no log returns).

    Examples
    --------
    >>> log_returns([100.0, 110.0, 99.0]).round(4)
    array([ 0.0953, -0.1054])
    """
    p = as_signal(prices, "log_returns", name="prices").astype(np.float64)
    if p.ndim not in (1, 2) or p.shape[-1] < 2:
        raise ValueError(
            f"prices must have shape (n_days,) or (n_series, n_days) with n_days >= "
            f"2; got shape {p.shape}."
        )
    bad = ~(np.isfinite(p) & (p > 0))
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"Log returns need positive finite prices; {int(bad.sum())} value(s) are "
            f"not (first {p[first]} at index {first}). Drop or fill those days; if "
            "the data are already returns (e.g. Fama-French factors), use them as "
            "they are."
        )
    return np.diff(np.log(p), axis=-1)


class ReturnWindows(NamedTuple):
    """What :func:`return_windows` returns: inputs, labels and window end dates."""

    #: ndarray of shape (n_windows, n_series, window), float32: scaled returns.
    X: np.ndarray
    #: ndarray of shape (n_windows,), datetime64[D]: the last day each window uses.
    dates: np.ndarray
    #: ndarray of shape (n_windows,), int64: 1 if the next ``horizon`` returns of
    #: series 0 sum to more than 0, else 0.
    direction: np.ndarray
    #: ndarray of shape (n_windows,), float64: realised volatility of series 0 over
    #: the next ``horizon`` days: ``sqrt(mean(r[t+1:t+horizon+1] ** 2))``.
    future_vol: np.ndarray
    #: ndarray of shape (n_windows,), int64, or None: 1 if ``future_vol`` exceeds
    #: ``vol_threshold``; None when no threshold was given or fitted.
    vol_regime: np.ndarray | None
    #: float or None: the threshold of ``vol_regime``.
    vol_threshold: float | None


def return_windows(
    returns: Any,
    dates: Any,
    *,
    window: int = 60,
    horizon: int = 20,
    stride: int = 1,
    normalize: str = "past",
    lookback: int | None = None,
    train_end: Any = None,
    vol_threshold: float | None = None,
) -> ReturnWindows:
    """Cut returns into windows ending on day ``t``, with labels from after ``t``.

    The window ending on day ``t`` holds the returns of days ``t - window + 1
    .. t`` of every series. With ``normalize="past"`` each series in it is
    divided (not centred: the drift is kept) by the standard deviation of its
    last ``lookback`` returns up to and including day ``t``; no statistic of
    later days or of the whole series enters. The labels use only days ``t + 1
    .. t + horizon`` of series 0: the direction (sum of returns > 0) and the
    realised volatility, and, given a threshold, the volatility regime.

    The threshold of the regime must come from the training period alone: pass
    ``vol_threshold``, or ``train_end`` to use the median ``future_vol`` of the
    windows whose whole label horizon lies before ``train_end``.

    Parameters
    ----------
    returns : array-like of shape (n_days,) or (n_series, n_days)
        Log returns (:func:`log_returns`); several series must share the dates
        (:func:`align_prices`). Series 0 gives the labels.
    dates : array-like of shape (n_days,), datetime64
        The date of each return, strictly increasing.
    window : int, default=60
        Returns per window, >= 2.
    horizon : int, default=20
        Days after ``t`` that the labels look at, >= 1.
    stride : int, default=1
        Days between consecutive window ends, >= 1.
    normalize : {"past", "none"}, default="past"
        ``"past"`` scales by the trailing standard deviation described above
        (a series with no spread over its lookback is left unscaled);
        ``"none"`` keeps the raw log returns.
    lookback : int, optional
        Returns in the trailing standard deviation, >= 2; ``None`` means
        ``window`` (each window scaled by its own spread). A longer lookback
        (250, about a year) keeps the window's volatility level relative to the
        past year. The first window ends on day ``max(window, lookback) - 1``.
    train_end : str or datetime64, optional
        Fit ``vol_threshold`` as the median ``future_vol`` of the windows whose
        last label day is before this date.
    vol_threshold : float, optional
        A threshold fitted elsewhere (on training data), > 0.

    Returns
    -------
    ReturnWindows
        Named tuple ``(X, dates, direction, future_vol, vol_regime,
        vol_threshold)``; see :class:`ReturnWindows`. ``X`` is float32 of shape
        ``(n_windows, n_series, window)``.

    Raises
    ------
    TypeError
        If ``dates`` are not datetime64, or a size is not an integer.
    ValueError
        If the shapes disagree, the dates are not increasing, the returns are
        not finite, a size is out of range, the series is too short for one
        window and its horizon, both ``train_end`` and ``vol_threshold`` are
        given, or no window's labels end before ``train_end``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = rng.normal(0, 0.01, 300)
    >>> d = np.datetime64("2020-01-01") + np.arange(300)
    >>> w = return_windows(r, d, window=50, horizon=5, train_end="2020-06-01")
    >>> w.X.shape, w.X.dtype, str(w.dates[0]), w.direction[:5]
    ((246, 1, 50), dtype('float32'), '2020-02-19', array([0, 0, 1, 1, 0]))
    >>> round(w.vol_threshold, 4), float(w.vol_regime.mean())
    (0.0096, 0.5)
    """
    owner = "return_windows"
    for value, name, low in ((window, "window", 2), (horizon, "horizon", 1)):
        check_count(value, name, owner=owner, minimum=low)
    check_count(stride, "stride", owner=owner)
    lookback = window if lookback is None else lookback
    check_count(lookback, "lookback", owner=owner, minimum=2)
    check_choice(
        normalize,
        "normalize",
        ("past", "none"),
        owner="return_windows",
        hint="Statistics of the whole series would leak the future.",
    )
    r = as_signal(returns, "return_windows", name="returns").astype(np.float64)
    if r.ndim not in (1, 2) or not np.all(np.isfinite(r)):
        raise ValueError(
            "returns must be finite with shape (n_days,) or (n_series, n_days); got "
            f"shape {r.shape}" + (" with NaN or inf." if r.ndim in (1, 2) else ".")
        )
    dates, r = _check_dates(dates, np.atleast_2d(r), "returns")  # r: (C, N)
    first = max(window, lookback) - 1
    ends = np.arange(first, r.shape[1] - horizon, stride)  # window end days t
    if ends.size == 0:
        raise ValueError(
            f"{r.shape[1]} returns are too few for one window of max(window, "
            f"lookback) = {first + 1} days followed by a horizon of {horizon}."
        )
    X = sliding_window_view(r, window, axis=1)[:, ends - window + 1]  # (C, n, W)
    if normalize == "past":
        past = sliding_window_view(r, lookback, axis=1)[:, ends - lookback + 1]
        scale = past.std(axis=2, keepdims=True)  # (C, n, 1), days <= t only
        X = X / np.where(scale > 0, scale, 1.0)
    future = sliding_window_view(r[0], horizon)[ends + 1]  # (n, horizon), days > t
    future_vol = np.sqrt(np.mean(future**2, axis=1))
    threshold = _vol_threshold(
        future_vol, dates[ends + horizon], train_end, vol_threshold
    )
    return ReturnWindows(
        X=np.ascontiguousarray(X.transpose(1, 0, 2), dtype=np.float32),
        dates=dates[ends],
        direction=(future.sum(axis=1) > 0).astype(np.int64),
        future_vol=future_vol,
        vol_regime=None
        if threshold is None
        else (future_vol > threshold).astype(np.int64),
        vol_threshold=threshold,
    )


def _vol_threshold(
    future_vol: np.ndarray,
    label_end: np.ndarray,
    train_end: Any,
    vol_threshold: float | None,
) -> float | None:
    """Return the given threshold, or the median future vol of earlier labels."""
    if train_end is not None and vol_threshold is not None:
        raise ValueError(
            "Pass either train_end (to fit the volatility threshold) or "
            "vol_threshold (fitted elsewhere), not both."
        )
    if vol_threshold is not None:
        check_param(
            vol_threshold, "vol_threshold", owner="return_windows", interval=(0, None)
        )
        return float(vol_threshold)
    if train_end is None:
        return None
    before = label_end < np.datetime64(train_end, "D")
    if not before.any():
        raise ValueError(
            f"No window has its labels before train_end={short_repr(train_end)} (the "
            "first "
            f"label horizon ends on {label_end[0]}); choose a later train_end."
        )
    return float(np.median(future_vol[before]))


# ----------------------------------------------------------------- split
def chronological_split(
    dates: Any,
    *,
    gap: int,
    test_start: Any = None,
    test_size: float | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split windows in time: training windows first, a gap, then test windows.

    The label of the window ending on day ``t`` looks at days ``t + 1 .. t +
    horizon``. A training window ending fewer than ``horizon`` days before the
    first test window would therefore be trained on returns of the test period
    (and, with overlapping windows, on the very days that the first test
    labels are made of). Leaving out the ``gap`` windows just before the test
    windows, with ``gap >= horizon``, prevents it: every training label ends
    before the first test window ends. Use ``gap = horizon + window - 1`` to
    also keep training labels off the days of the first test window's input.

    Parameters
    ----------
    dates : array-like of datetime64, or int
        The end dates of the windows, strictly increasing (one per trading
        day with ``stride=1``), or the number of windows in time order (at most 2^27).
    gap : int
        Windows left out between the last training and the first test window,
        >= 0; at least the label horizon (in windows: ``ceil(horizon /
        stride)``). Same meaning as in
        :class:`sklearn.model_selection.TimeSeriesSplit`.
    test_start : str or datetime64, optional
        The test windows are those ending on or after this date (needs dates).
    test_size : float or int, optional
        The test windows are the last ``ceil(test_size * n)`` (a float in
        (0, 1)) or the last ``test_size`` (an int). Give exactly one of
        ``test_start`` and ``test_size``.

    Returns
    -------
    train, test : ndarray of int64
        Indices of the training and test windows, increasing; ``train[-1] +
        gap < test[0]``.

    Raises
    ------
    TypeError
        If ``dates`` are neither datetime64 nor an integer count.
    ValueError
        If both or neither of ``test_start`` and ``test_size`` are given, a
        size is out of range, or the split leaves no test or no training
        window.

    Examples
    --------
    >>> d = np.datetime64("2020-01-01") + np.arange(10)
    >>> train, test = chronological_split(d, test_start="2020-01-08", gap=2)
    >>> train, test
    (array([0, 1, 2, 3, 4]), array([7, 8, 9]))
    >>> chronological_split(10, test_size=0.2, gap=1)
    (array([0, 1, 2, 3, 4, 5, 6]), array([8, 9]))
    """
    check_count(gap, "gap", owner="chronological_split", minimum=0)
    n, dates = _window_count(dates)
    if (test_start is None) == (test_size is None):
        raise ValueError(
            "chronological_split needs exactly one of test_start (a date) and "
            "test_size (a fraction or count); got "
            f"test_start={short_repr(test_start)}, "
            f"test_size={short_repr(test_size)}."
        )
    if test_start is not None:
        if dates is None:
            raise ValueError("test_start needs window end dates, not a count.")
        n_test = int(np.sum(dates >= np.datetime64(test_start, "D")))
    elif isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        check_count(test_size, "test_size", owner="chronological_split")
        n_test = int(test_size)
    else:
        check_param(
            test_size, "test_size", owner="chronological_split", interval=(0, 1)
        )
        n_test = math.ceil(float(test_size) * n)  # type: ignore[arg-type]
    if n_test == 0 or n - n_test - gap < 1:
        raise ValueError(
            f"The split of {n} windows leaves {n_test} test and "
            f"{max(n - n_test - gap, 0)} training windows (after a gap of {gap}); "
            "both need at least one. Move test_start or change test_size."
        )
    # TimeSeriesSplit(gap=gap) with a single split (it needs n_splits >= 2).
    return np.arange(n - n_test - gap), np.arange(n - n_test, n)


def _window_count(dates: Any) -> tuple[int, np.ndarray | None]:
    """Return the number of windows and their dates (None for a count)."""
    if isinstance(dates, numbers.Integral) and not isinstance(dates, bool):
        check_count(
            dates, "dates", owner="chronological_split", minimum=2, maximum=2**27
        )
        return int(dates), None
    array = _date_array(dates, "the windows")
    if array.dtype.kind != "M":
        raise TypeError(
            "dates must be window end dates (datetime64, e.g. ReturnWindows.dates) "
            f"or the number of windows; got dtype {array.dtype}."
        )
    checked, _ = _check_dates(array, np.zeros(array.shape), "the windows")
    return len(checked), checked
