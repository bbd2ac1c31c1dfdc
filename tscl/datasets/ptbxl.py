"""PTB-XL: 21799 clinical 12-lead 10-second ECGs with SCP-ECG statements.

Reads the layout of the PhysioNet download (https://physionet.org/content/ptb-xl/1.0.3/):
``ptbxl_database.csv``, ``scp_statements.csv`` and the WFDB records under
``records100/`` (100 Hz) and ``records500/`` (500 Hz). Needs the optional extra
``pip install tscl[ecg]``.
"""

from __future__ import annotations

import ast
import csv
import numbers
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tscl._validation import check_choice, flatten_names, short_repr
from tscl.datasets._common import _interpolate_nan, data_home
from tscl.datasets.ecg import _import_wfdb, wfdb_call

__all__ = ["PTBXL", "PTBXL_SUPERCLASSES", "load_ptbxl"]

PTBXL_URL = "https://physionet.org/content/ptb-xl/1.0.3/"
#: The five diagnostic superclasses of PTB-XL: normal, myocardial infarction,
#: ST/T change, conduction disturbance, hypertrophy.
PTBXL_SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
PTBXL_DURATION_S = 10
LABELS = ("superclass", "subclass", "diagnostic", "all")
_REQUIRED = ("ecg_id", "patient_id", "scp_codes", "strat_fold")


@dataclass(frozen=True, eq=False)
class PTBXL:
    """PTB-XL records with their multi-label targets, folds and ids.

    Index it with an integer array or boolean mask to select records
    (``data[data.strat_fold == 10]``); ``len(data)`` is the number of records.

    Attributes
    ----------
    X : ndarray of shape (n_records, 12, 10 * fs), float32
        The ECGs in mV, leads in the order of ``leads``.
    y : ndarray of int64 of shape (n_records, n_classes)
        Multi-hot targets: ``y[i, k] == 1`` when record ``i`` has class
        ``classes[k]``. A row may be all zeros (no statement of that kind).
    classes : tuple of str
        The class names, the columns of ``y``.
    scp_codes : list of dict of str to float
        The raw SCP-ECG statements of each record with their likelihood (%).
    strat_fold : ndarray of int64 of shape (n_records,)
        The stratified fold, 1-10. Conventional split: folds 1-8 train, 9
        validation, 10 test (folds 9 and 10 hold human-validated labels only).
    ecg_id, patient_id : ndarray of int64 of shape (n_records,)
        Record and patient ids; a patient's records all share one fold.
    leads : tuple of str
        The lead names (``'I'``, ``'II'``, ``'III'``, ``'AVR'``, ... ``'V6'``).
    fs : float
        Sampling rate in Hz, 100 or 500.

    Examples
    --------
    >>> import numpy as np
    >>> data = PTBXL(
    ...     X=np.zeros((2, 12, 1000), np.float32), y=np.array([[1, 0], [0, 1]]),
    ...     classes=("NORM", "MI"), scp_codes=[{"NORM": 100.0}, {"IMI": 50.0}],
    ...     strat_fold=np.array([3, 10]), ecg_id=np.array([1, 2]),
    ...     patient_id=np.array([7, 8]), leads=("I",) * 12, fs=100.0)
    >>> test = data[data.strat_fold == 10]
    >>> len(test), test.scp_codes, test.y
    (1, [{'IMI': 50.0}], array([[0, 1]]))
    """

    X: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    scp_codes: list[dict[str, float]]
    strat_fold: np.ndarray
    ecg_id: np.ndarray
    patient_id: np.ndarray
    leads: tuple[str, ...]
    fs: float

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __getitem__(self, index: Any) -> PTBXL:
        """Select records by integer indices, a boolean mask or a slice."""
        rows = np.arange(len(self))[index]
        if np.ndim(rows) != 1:
            raise IndexError(
                f"PTBXL must be indexed by a slice, an integer array or a boolean "
                f"mask of length {len(self)}; got {short_repr(index)}. For one record "
                "use "
                "data[[i]]."
            )
        return PTBXL(
            X=self.X[rows],
            y=self.y[rows],
            classes=self.classes,
            scp_codes=[self.scp_codes[i] for i in rows],
            strat_fold=self.strat_fold[rows],
            ecg_id=self.ecg_id[rows],
            patient_id=self.patient_id[rows],
            leads=self.leads,
            fs=self.fs,
        )


def _read_csv(path: Path, what: str) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: load_ptbxl expects the PTB-XL folder with "
            f"ptbxl_database.csv, scp_statements.csv, records100/ and records500/ "
            f"({what}). Download it from {PTBXL_URL}, unpack it and pass root= (or "
            "set TSCL_DATA to the folder that holds it as 'ptbxl')."
        )
    with path.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise ValueError(f"{path} is empty; re-download it from {PTBXL_URL}.")
    return rows[0], rows[1:]


def _parse_scp_codes(text: str, ecg_id: int, path: Path) -> dict[str, float]:
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        codes = None
    if not isinstance(codes, dict) or not all(
        isinstance(k, str) and isinstance(v, numbers.Real) for k, v in codes.items()
    ):
        raise ValueError(
            f"{path}, ecg_id {ecg_id}: scp_codes must be a dict literal such as "
            f"\"{{'NORM': 100.0, 'SR': 0.0}}\"; got {short_repr(text)}."
        )
    return {k: float(v) for k, v in codes.items()}


def _label_map(root: Path, labels: str) -> tuple[dict[str, set[str]], tuple[str, ...]]:
    """Map every SCP code to its labels (possibly none) and list the classes."""
    path = root / "scp_statements.csv"
    header, rows = _read_csv(path, "SCP statement table")
    column = {name: i for i, name in enumerate(header)}
    for name in ("diagnostic", "diagnostic_class", "diagnostic_subclass"):
        if name not in column:
            raise ValueError(
                f"{path} has no column {short_repr(name)}; its columns are "
                f"{flatten_names(header)}. Re-download it from {PTBXL_URL}."
            )
    mapping: dict[str, set[str]] = {}
    for row in rows:
        code = row[0]
        diagnostic = row[column["diagnostic"]].strip() not in ("", "0", "0.0")
        if labels == "all":
            mapping[code] = {code}
        elif labels == "diagnostic":
            mapping[code] = {code} if diagnostic else set()
        else:
            key = (
                "diagnostic_class" if labels == "superclass" else "diagnostic_subclass"
            )
            value = row[column[key]].strip()
            mapping[code] = {value} if diagnostic and value else set()
    classes = tuple(sorted(set().union(*mapping.values())))
    if labels == "superclass":
        unknown = set(classes) - set(PTBXL_SUPERCLASSES)
        if unknown:
            raise ValueError(
                f"{path} names diagnostic classes {flatten_names(sorted(unknown))}, "
                "not among the PTB-XL superclasses "
                f"{flatten_names(PTBXL_SUPERCLASSES)}."
            )
        classes = PTBXL_SUPERCLASSES
    return mapping, classes


def _check_args(sampling_rate: Any, folds: Any, labels: Any) -> set[int] | None:
    if not isinstance(sampling_rate, numbers.Real) or isinstance(sampling_rate, bool):
        raise TypeError(
            f"sampling_rate must be 100 or 500 (Hz); got {short_repr(sampling_rate)} "
            "of type "
            f"{type(sampling_rate).__name__}."
        )
    if sampling_rate not in (100, 500):
        raise ValueError(
            f"sampling_rate must be 100 or 500 (Hz), the two versions PTB-XL ships "
            f"(records100/, records500/); got {short_repr(sampling_rate)}. For another "
            "rate, "
            "load one and use tscl.datasets.resample."
        )
    check_choice(labels, "labels", LABELS, owner="load_ptbxl")
    if folds is None:
        return None
    items = [folds] if isinstance(folds, numbers.Integral) else folds
    if not isinstance(items, Iterable) or isinstance(items, str):
        raise TypeError(
            f"folds must be an int or a list of ints in 1-10; got {short_repr(folds)}."
        )
    chosen = list(items)
    if not chosen or not all(
        isinstance(f, numbers.Integral)
        and not isinstance(f, bool)
        and 1 <= int(f) <= 10
        for f in chosen
    ):
        raise ValueError(
            f"folds must be an int or a non-empty list of ints in 1-10 (strat_fold); "
            f"got {short_repr(folds)}. The usual split: folds=range(1, 9) train, 9 "
            "validation, "
            "10 test."
        )
    return {int(f) for f in chosen}


def _record_paths(root: Path, names: list[str], sampling_rate: int) -> list[Path]:
    paths = [root / name for name in names]
    missing = [
        p for p in paths
        if not (p.with_name(p.name + ".hea").is_file()
                and p.with_name(p.name + ".dat").is_file())
    ]  # fmt: skip
    if missing:
        folder = "records100" if sampling_rate == 100 else "records500"
        raise FileNotFoundError(
            f"{len(missing)} of the {len(paths)} PTB-XL records are missing, the "
            f"first is {missing[0]}.hea/.dat. Download {folder}/ (sampling_rate="
            f"{sampling_rate}) from {PTBXL_URL} into {root}, or pass the other "
            "sampling_rate if you have only records100 or records500."
        )
    return paths


def _read_signals(
    paths: list[Path], sampling_rate: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    wfdb = _import_wfdb()
    n_steps = PTBXL_DURATION_S * sampling_rate
    X = np.empty((len(paths), 12, n_steps), dtype=np.float32)
    leads: tuple[str, ...] = ()
    for i, path in enumerate(paths):
        rec = wfdb_call(wfdb.rdrecord, Path(path), "signals")(str(path))
        if rec.fs != sampling_rate or rec.p_signal.shape != (n_steps, 12):
            raise ValueError(
                f"PTB-XL record {path} has {rec.p_signal.shape[1]} leads of "
                f"{rec.p_signal.shape[0]} samples at {rec.fs} Hz; expected 12 leads "
                f"of {n_steps} samples at {sampling_rate} Hz. Re-download it."
            )
        signal = rec.p_signal.T
        X[i] = _interpolate_nan(signal) if np.isnan(signal).any() else signal
        leads = leads or tuple(rec.sig_name)
    return X, leads


def _read_index(
    path: Path, file_column: str, chosen: set[int] | None
) -> dict[str, Any]:
    """Read the selected rows of ptbxl_database.csv: arrays, codes, file names."""
    header, rows = _read_csv(path, "record index")
    column = {name: i for i, name in enumerate(header)}
    absent = [name for name in (*_REQUIRED, file_column) if name not in column]
    if absent:
        raise ValueError(
            f"{path} has no column {flatten_names(absent)}; its columns are "
            f"{flatten_names(header)}. Re-download it from {PTBXL_URL}."
        )
    ids = np.zeros((len(rows), 3), dtype=np.int64)  # ecg_id, patient_id, strat_fold
    for line, row in enumerate(rows, start=2):
        try:
            if len(row) != len(header):
                raise ValueError(f"{len(row)} fields, the header has {len(header)}")
            ids[line - 2] = [
                int(float(row[column[name]]))
                for name in ("ecg_id", "patient_id", "strat_fold")
            ]
        except ValueError as err:
            raise ValueError(
                f"{path}, line {line}: expected a number in ecg_id, patient_id and "
                f"strat_fold and one field per column ({err}). Fields with commas "
                f"must be quoted. Re-download it from {PTBXL_URL}."
            ) from None
    ecg_id, patient, fold = ids.T
    keep = np.ones(len(rows), bool) if chosen is None else np.isin(fold, list(chosen))
    if not keep.any():
        raise ValueError(
            f"{path} has no record in folds {sorted(chosen or [])}; its strat_fold "
            f"values are {sorted(set(fold.tolist()))}."
        )
    picked = np.flatnonzero(keep)
    return {
        "strat_fold": fold[picked],
        "ecg_id": ecg_id[picked],
        "patient_id": patient[picked],
        "codes": [
            _parse_scp_codes(rows[i][column["scp_codes"]], int(ecg_id[i]), path)
            for i in picked
        ],
        "filename": [rows[i][column[file_column]] for i in picked],
    }


def load_ptbxl(
    root: str | os.PathLike[str] | None = None,
    *,
    sampling_rate: int = 100,
    folds: int | Iterable[int] | None = None,
    labels: str = "superclass",
) -> PTBXL:
    r"""Load PTB-XL 12-lead ECGs with multi-label diagnostic targets.

    Reads ``ptbxl_database.csv`` (one row per record; ``scp_codes`` is parsed
    with :func:`ast.literal_eval`), ``scp_statements.csv`` (the SCP code table,
    code in the first column) and the WFDB records named by ``filename_lr``
    (100 Hz) or ``filename_hr`` (500 Hz). As in the PTB-XL example code and the
    benchmark of Strodthoff et al. (2021), every statement of a record counts,
    whatever its likelihood (the likelihoods stay in ``scp_codes``).

    Parameters
    ----------
    root : str or path, optional
        The PTB-XL folder. ``None`` means ``$TSCL_DATA/ptbxl``, else
        ``~/tscl_data/ptbxl``.
    sampling_rate : {100, 500}, default=100
        Read ``records100`` (1000 samples per lead) or ``records500`` (5000).
    folds : int or iterable of int, optional
        Keep only records whose ``strat_fold`` is in ``folds`` (1-10), e.g.
        ``range(1, 9)`` (train), ``9`` (validation) or ``10`` (test). ``None``
        keeps all.
    labels : {"superclass", "subclass", "diagnostic", "all"}, default="superclass"
        The targets: the 5 diagnostic superclasses ``PTBXL_SUPERCLASSES``, the
        diagnostic subclasses (23 in PTB-XL 1.0.3), the diagnostic statements
        (44) or all statements (71), from ``scp_statements.csv``.

    Returns
    -------
    data : PTBXL
        ``X`` (n_records, 12, 10 * sampling_rate) float32 in mV, multi-hot ``y``
        with its ``classes``, raw ``scp_codes``, ``strat_fold``, ``ecg_id``,
        ``patient_id``, ``leads`` and ``fs``, in ``ecg_id`` order of the CSV.

    Raises
    ------
    FileNotFoundError
        If a CSV file or a record is missing; the message names the first missing
        record and the folder to download.
    ValueError
        If ``sampling_rate``, ``folds`` or ``labels`` is invalid, a CSV is
        malformed, a record names an SCP code absent from ``scp_statements.csv``,
        or a record is not 12 leads of 10 s.
    TypeError
        If ``sampling_rate`` or ``folds`` has the wrong type.

    References
    ----------
    [1] Wagner et al., PTB-XL, a large publicly available electrocardiography
    dataset, Scientific Data 7, 154, 2020.
    [2] Strodthoff et al., Deep learning for ECG analysis: benchmarks and insights
    from PTB-XL, IEEE JBHI 25(5), 2021.

    Examples
    --------
    A one-record folder in the PTB-XL layout (real files have more columns):

    >>> import tempfile
    >>> import wfdb
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "ptbxl_database.csv").write_text(
    ...     "ecg_id,patient_id,scp_codes,strat_fold,filename_lr,filename_hr\n"
    ...     "1,15709.0,\"{'NORM': 100.0, 'SR': 0.0}\",3,records100/00000/00001_lr,"
    ...     "records500/00000/00001_hr\n")
    >>> _ = (root / "scp_statements.csv").write_text(
    ...     ",description,diagnostic,form,rhythm,diagnostic_class,diagnostic_subclass\n"
    ...     "NORM,normal ECG,1.0,,,NORM,NORM\nSR,sinus rhythm,,,1.0,,\n")
    >>> (root / "records100" / "00000").mkdir(parents=True)
    >>> leads = "I II III AVR AVL AVF V1 V2 V3 V4 V5 V6".split()
    >>> signal = np.sin(np.linspace(0, 60, 1000))[:, None].repeat(12, axis=1)
    >>> wfdb.wrsamp("00001_lr", fs=100, units=["mV"] * 12, sig_name=leads,
    ...             p_signal=signal, fmt=["16"] * 12,
    ...             write_dir=str(root / "records100" / "00000"))
    >>> data = load_ptbxl(root)
    >>> data.X.shape, data.classes, data.leads[:4]
    ((1, 12, 1000), ('NORM', 'MI', 'STTC', 'CD', 'HYP'), ('I', 'II', 'III', 'AVR'))
    >>> data.y, data.scp_codes, data.patient_id, data.strat_fold
    (array([[1, 0, 0, 0, 0]]), [{'NORM': 100.0, 'SR': 0.0}], array([15709]), array([3]))
    >>> load_ptbxl(root, labels="all").classes
    ('NORM', 'SR')
    >>> load_ptbxl(root, sampling_rate=500)
    Traceback (most recent call last):
    ...
    FileNotFoundError: 1 of the 1 PTB-XL records are missing, the first is ...
    >>> load_ptbxl("no/such/folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no/such/folder/ptbxl_database.csv not found: ...
    """
    chosen = _check_args(sampling_rate, folds, labels)
    folder = data_home(None) / "ptbxl" if root is None else Path(root).expanduser()
    file_column = "filename_lr" if sampling_rate == 100 else "filename_hr"
    index = _read_index(folder / "ptbxl_database.csv", file_column, chosen)
    mapping, classes = _label_map(folder, labels)
    y = np.zeros((len(index["codes"]), len(classes)), dtype=np.int64)
    position = {name: k for k, name in enumerate(classes)}
    for i, record_codes in enumerate(index["codes"]):
        for code in record_codes:
            if code not in mapping:
                raise ValueError(
                    f"{folder / 'ptbxl_database.csv'}, ecg_id {index['ecg_id'][i]}: "
                    f"SCP code {short_repr(code)} is not in "
                    f"{folder / 'scp_statements.csv'}; "
                    "the two files do not belong together. Re-download PTB-XL."
                )
            y[i, [position[label] for label in mapping[code]]] = 1
    paths = _record_paths(folder, index["filename"], int(sampling_rate))
    X, leads = _read_signals(paths, int(sampling_rate))
    return PTBXL(
        X=X,
        y=y,
        classes=classes,
        scp_codes=index["codes"],
        strat_fold=index["strat_fold"],
        ecg_id=index["ecg_id"],
        patient_id=index["patient_id"],
        leads=leads,
        fs=float(sampling_rate),
    )
