"""UCR archive 2018 loaders: one ``.tsv`` split file, or a train/test split."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tscl._validation import short_repr
from tscl.datasets._common import data_home
from tscl.datasets._missing import check_policy, fill_missing

__all__ = ["LabelledSeries", "Split", "load_ucr", "load_ucr_file"]

UCR_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"


def _read_ucr_raw(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the float values and the label strings of one UCR ``.tsv`` file."""
    expected = (
        f"Could not read {path} as a UCR .tsv file (tab separated, no header, "
        "label in column 0, numbers or NaN elsewhere, same count per row)"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{expected}: the file is not UTF-8 text ({exc}).") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path} holds no series; the file is empty.")
    counts = [line.count("\t") + 1 for line in lines]
    if counts[0] == 1 and "," in lines[0]:
        raise ValueError(
            f"{path} looks comma-separated (row 0 has no tab but "
            f"{lines[0].count(',')} commas); UCR .tsv files are tab-separated. "
            "Convert it first, e.g. np.savetxt(new_path, np.loadtxt(path, "
            "delimiter=','), delimiter='\\t', fmt='%.10g')."
        )
    for row, count in enumerate(counts):
        if count != counts[0]:
            raise ValueError(
                f"{expected}: row {row} has {count} columns, row 0 has {counts[0]}."
            )
    if counts[0] < 2:
        raise ValueError(f"{path} holds no series, only a label column.")
    try:  # numeric loadtxt on the value columns: ~30x faster than dtype=str
        X = np.loadtxt(
            lines, delimiter="\t", dtype=np.float32, usecols=range(1, counts[0])
        )
    except ValueError as exc:
        raise ValueError(f"{expected}: {exc}") from exc
    labels = np.array([line.split("\t", 1)[0].strip() for line in lines])
    return X.reshape(len(lines), counts[0] - 1), labels


#: Labels beyond this magnitude stay strings: float64 holds every integer up to
#: it exactly (12345678901234567890 and 1e30 would collide in int64).
EXACT_INTEGERS = 2**53


def _convert_labels(labels: np.ndarray) -> np.ndarray:
    """Integer labels when every label is an integral number, else strings.

    Labels too large to be held exactly (beyond 2**53) stay strings, so that
    two distinct labels never become the same integer.
    """
    try:
        values = labels.astype(np.float64)
    except ValueError:
        return labels.astype(str)
    exact = np.all(np.abs(values) <= EXACT_INTEGERS)
    if np.all(np.isfinite(values)) and exact and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return labels.astype(str)


class Split(NamedTuple):
    """What :func:`load_ucr` and :func:`load_uea` return: a train/test split.

    A tuple, so ``X_train, y_train, X_test, y_test = load_ucr(...)`` works, and
    each part has a name (``split.X_train``).
    """

    #: ndarray, float32, of shape (n_train, n_timesteps) from :func:`load_ucr` or
    #: (n_train, n_channels, n_timesteps) from :func:`load_uea`: the training
    #: series, in file order.
    X_train: np.ndarray
    #: ndarray of shape (n_train,): int64 when all labels (train and test) are
    #: integral numbers, else str.
    y_train: np.ndarray
    #: ndarray, float32, of shape (n_test, ...): the test series, in file order,
    #: with the same ``n_timesteps`` (and ``n_channels``) as ``X_train``.
    X_test: np.ndarray
    #: ndarray of shape (n_test,): the test labels, of the dtype of ``y_train``.
    y_test: np.ndarray


class LabelledSeries(NamedTuple):
    """What :func:`load_ucr_file` and :func:`load_uea_file` return: one file.

    A tuple, so ``X, y = load_ucr_file(...)`` works, and each part has a name
    (``data.X``, ``data.y``).
    """

    #: ndarray, float32, of shape (n_samples, n_timesteps) from
    #: :func:`load_ucr_file` or (n_samples, n_channels, n_timesteps) from
    #: :func:`load_uea_file`: the series, in file order.
    X: np.ndarray
    #: ndarray of shape (n_samples,): int64 when every label is an integral
    #: number, else str.
    y: np.ndarray


def load_ucr_file(
    path: str | os.PathLike[str], *, missing: str = "keep"
) -> LabelledSeries:
    r"""Read one UCR archive 2018 ``.tsv`` split file.

    Parameters
    ----------
    path : str or path
        A file such as ``GunPoint_TRAIN.tsv``: tab separated, no header, the label
        in column 0 and one time step per further column.
    missing : {"keep", "pad", "resample"}, default="keep"
        What to do with NaN cells (the trailing padding of variable-length
        datasets such as PLAID, gaps as in DodgerLoopDay). ``"keep"`` leaves them
        (fill them before fitting: the estimator rejects NaN); ``"pad"``
        interpolates gaps and sets the trailing padding to 0; ``"resample"``
        interpolates gaps and stretches each series to the full width. See
        :func:`tscl.datasets.fill_missing` for the exact rules.

    Returns
    -------
    LabelledSeries
        The named tuple ``(X, y)``:

        X : ndarray of shape (n_samples, n_timesteps), float32
            The series, in file order.
        y : ndarray of shape (n_samples,)
            int64 when every label is an integral number, else str.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is malformed (non-numeric cells, ragged rows, empty), if
        ``missing`` is unknown, or if ``missing`` is ``"pad"`` or ``"resample"``
        and a row is all NaN (the message names the row and the file).

    See Also
    --------
    load_ucr : Both splits of a dataset.
    tscl.datasets.fill_missing : The missing-value policies, and the masks.

    Notes
    -----
    Masks: to know which values the file held, load with ``missing="keep"`` (NaN
    where the file has no number) and call ``fill_missing(X, policy,
    return_mask=True)``. It returns the array that ``missing=policy`` gives and
    the mask, True where the file held a number (before any filling; all True
    for ``"resample"``).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "toy_TRAIN.tsv").write_text("1\t0.5\t0.25\n2\t1.0\tNaN\n")
    >>> X, y = load_ucr_file(folder / "toy_TRAIN.tsv")
    >>> X, y
    (array([[0.5 , 0.25],
           [1.  ,  nan]], dtype=float32), array([1, 2]))

    The values padded as with ``missing="pad"``, and the mask of observed values:

    >>> from tscl.datasets import fill_missing
    >>> X_pad, mask = fill_missing(X, "pad", return_mask=True)
    >>> X_pad, mask
    (array([[0.5 , 0.25],
           [1.  , 0.  ]], dtype=float32), array([[ True,  True],
           [ True, False]]))
    """
    check_policy(missing, "missing", "load_ucr_file")
    if Path(path).is_dir():
        raise IsADirectoryError(
            f"UCR file {path} is a folder; pass one of its split files, such as "
            f"{Path(path) / (Path(path).name + '_TRAIN.tsv')}, or load both splits "
            f"with load_ucr({short_repr(Path(path).name)}, "
            f"root={short_repr(str(Path(path).parent))})."
        )
    if not Path(path).is_file():
        raise FileNotFoundError(f"UCR file {path} does not exist.")
    X, labels = _read_ucr_raw(Path(path))
    X = fill_missing(X, missing, source=Path(path).name)
    return LabelledSeries(X, _convert_labels(labels))


def load_ucr(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    missing: str = "keep",
) -> Split:
    r"""Load a dataset of the UCR archive 2018 with its official train/test split.

    Parameters
    ----------
    name : str
        Dataset name as in the archive, e.g. ``"GunPoint"`` (case-sensitive).
    root : str or path, optional
        Folder holding ``<name>/<name>_TRAIN.tsv`` (the archive's layout) or
        ``<name>_TRAIN.tsv``. ``None`` means the environment variable ``TSCL_DATA``,
        else ``~/tscl_data``.
    missing : {"keep", "pad", "resample"}, default="keep"
        The missing-value policy, applied to each split (see
        :func:`tscl.datasets.fill_missing`):

        - ``"keep"``: NaN cells stay NaN (fill them before fitting: the estimator
          rejects NaN).
        - ``"pad"``: gaps inside a series are interpolated linearly (leading NaN
          take the first observed value); the trailing NaN padding of
          variable-length datasets (after a series' last observed step) becomes 0.
        - ``"resample"``: gaps are interpolated as with ``"pad"``, then each series
          (step 0 to its last observed step) is linearly resampled to the full
          width (uniform scaling of variable-length datasets).

    Returns
    -------
    Split
        The named tuple ``(X_train, y_train, X_test, y_test)``:

        X_train, X_test : ndarray of shape (n_train or n_test, n_timesteps), float32
            The series, in file order. If the two files have different widths,
            the narrower split is first right-padded with NaN to the wider one.
        y_train, y_test : ndarray of shape (n_train,) and (n_test,)
            int64 when all labels (train and test) are integral numbers, else str.

    Raises
    ------
    FileNotFoundError
        If no split file is found; the message lists the paths tried.
    ValueError
        If a file is malformed, ``missing`` is unknown, or ``missing`` is
        ``"pad"`` or ``"resample"`` and a row is all NaN (the message names the
        row and the file).

    See Also
    --------
    load_ucr_file : One split file.
    tscl.datasets.fill_missing : The missing-value policies, and the masks.

    Notes
    -----
    Masks: to know which values the files held, load with ``missing="keep"``
    (NaN where a file has no number, and as the padding of the narrower split)
    and call ``fill_missing(X, policy, return_mask=True)`` on each split. It
    returns the array that ``missing=policy`` gives and the mask, True where the
    file held a number (before any filling; all True for ``"resample"``).

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
    >>> load_ucr("Toy", root).y_test
    array([2])

    A variable-length dataset, resampled to the full width:

    >>> _ = (root / "Var_TRAIN.tsv").write_text("1\t0.0\t2.0\t4.0\n2\t0.0\t2.0\tNaN\n")
    >>> _ = (root / "Var_TEST.tsv").write_text("1\t1.0\tNaN\t3.0\n")
    >>> X_train, _, X_test, _ = load_ucr("Var", root, missing="resample")
    >>> X_train, X_test
    (array([[0., 2., 4.],
           [0., 1., 2.]], dtype=float32), array([[1., 2., 3.]], dtype=float32))

    The same data padded as with ``missing="pad"``, and the masks of observed
    values:

    >>> from tscl.datasets import fill_missing
    >>> split = load_ucr("Var", root, missing="keep")
    >>> X_train, mask_train = fill_missing(split.X_train, "pad", return_mask=True)
    >>> X_test, mask_test = fill_missing(split.X_test, "pad", return_mask=True)
    >>> X_train, mask_train.sum(axis=1), mask_test.sum(axis=1)
    (array([[0., 2., 4.],
           [0., 2., 0.]], dtype=float32), array([3, 2]), array([2]))
    """
    check_policy(missing, "missing", "load_ucr")
    folder = data_home(root)
    tried = [folder / name / f"{name}_TRAIN.tsv", folder / f"{name}_TRAIN.tsv"]
    train = next((p for p in tried if p.is_file()), None)
    if train is None:
        raise FileNotFoundError(
            f"UCR dataset {short_repr(name)} not found; tried {tried[0]} and "
            f"{tried[1]}. "
            f"Download the UCR archive 2018 from {UCR_URL}, unpack it and pass "
            "root= (or set TSCL_DATA) to the folder that holds the dataset folders."
        )
    test = train.with_name(f"{name}_TEST.tsv")
    if not test.is_file():
        raise FileNotFoundError(f"Found {train} but not the test split {test}.")
    X_train, y_train = _read_ucr_raw(train)
    X_test, y_test = _read_ucr_raw(test)
    width = max(X_train.shape[1], X_test.shape[1])
    X_train = fill_missing(_pad_width(X_train, width), missing, source=train.name)
    X_test = fill_missing(_pad_width(X_test, width), missing, source=test.name)
    y = _convert_labels(np.concatenate([y_train, y_test]))
    return Split(X_train, y[: len(y_train)], X_test, y[len(y_train) :])


def _pad_width(X: np.ndarray, width: int) -> np.ndarray:
    """Right-pad the rows of ``X`` with NaN to ``width`` columns."""
    if X.shape[1] == width:
        return X
    return np.pad(X, ((0, 0), (0, width - X.shape[1])), constant_values=np.nan)
