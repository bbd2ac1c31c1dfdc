"""UCR archive 2018 loaders: one ``.tsv`` split file, or a train/test split."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

__all__ = ["load_ucr", "load_ucr_file"]

UCR_URL = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/"


def _read_ucr_raw(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the float values and the label strings of one UCR ``.tsv`` file."""
    try:
        with warnings.catch_warnings():  # an empty file is reported below
            warnings.simplefilter("ignore", UserWarning)
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
    >>> X, y
    (array([[0.5 , 0.25],
           [1.  ,  nan]], dtype=float32), array([1, 2]))
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"UCR file {path} does not exist.")
    X, labels = _read_ucr_raw(Path(path))
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
    X_train, X_test : ndarray of shape (n_train or n_test, n_timesteps), float32
        The series; NaN cells are kept (see :func:`load_ucr_file`).
    y_train, y_test : ndarray of shape (n_train,) and (n_test,)
        int64 when all labels (train and test) are integral numbers, else str.

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
