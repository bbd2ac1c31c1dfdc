"""ECG heartbeats: segmentation around R peaks, AAMI classes, record-wise splits.

Beats come from a WFDB record's reference beat annotations (``wfdb.rdann``) or,
for an unannotated record, from a QRS detector of ``wfdb.processing``. Splits keep
every record (patient) on one side only, either at random (:func:`record_split`)
or by the standard MIT-BIH inter-patient division (:func:`inter_patient_split`).
Needs the optional extra ``pip install tscl[ecg]``.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from tscl._validation import (
    check_choice,
    check_group_ids,
    check_param,
    check_seed,
    flatten_names,
    short_repr,
)
from tscl.datasets._common import _interpolate_nan, resample
from tscl.datasets.ecg import (
    Channels,
    _channel_indices,
    _import_wfdb,
    _mitdb_records,
    _wfdb_header,
    wfdb_call,
)

__all__ = [
    "AAMI_CLASSES",
    "AAMI_LABELS",
    "MITDB_DS1",
    "MITDB_DS2",
    "Beats",
    "aami_class",
    "inter_patient_split",
    "load_mitdb_beats",
    "record_split",
    "segment_beats",
]

#: MIT-BIH beat annotation symbol -> AAMI EC57 class, as in Table I of de Chazal
#: et al. (2004): N normal and bundle branch block beats, S supraventricular
#: ectopic, V ventricular ectopic, F fusion, Q paced and unclassifiable.
AAMI_CLASSES: dict[str, str] = {
    **dict.fromkeys(("N", "L", "R", "e", "j"), "N"),
    **dict.fromkeys(("A", "a", "J", "S"), "S"),
    **dict.fromkeys(("V", "E"), "V"),
    "F": "F",
    **dict.fromkeys(("/", "f", "Q"), "Q"),
}
#: The five AAMI classes in their usual order.
AAMI_LABELS = ("N", "S", "V", "F", "Q")

#: The inter-patient division of the MIT-BIH Arrhythmia Database by de Chazal et
#: al. (2004): DS1 for training, DS2 for testing, 22 records each. The paced
#: records 102, 104, 107 and 217 are in neither.
MITDB_DS1 = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
    "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230",
)  # fmt: skip
MITDB_DS2 = (
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
    "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234",
)  # fmt: skip
MITDB_PACED = ("102", "104", "107", "217")

#: Symbol given to beats found by a detector (WFDB's "unclassified" code).
UNKNOWN_SYMBOL = "?"
DETECTORS = ("xqrs", "gqrs", "pan-tompkins")
_PER_BEAT = ("X", "symbol", "aami", "sample", "rr_pre", "rr_post", "record")
NORMALIZE = ("beat", "record")


@dataclass(frozen=True, eq=False)
class Beats:
    """Heartbeats cut around their R peaks, with labels and RR intervals.

    Index it with an integer array or boolean mask (``beats[train]``) to select
    beats; ``len(beats)`` is the number of beats.

    Attributes
    ----------
    X : ndarray of shape (n_beats, n_channels, n_steps), float32
        The beats, in mV unless normalised.
    symbol : ndarray of str of shape (n_beats,)
        The annotation symbol of each beat (``'N'``, ``'A'``, ...), ``'?'`` for
        beats found by a detector.
    aami : ndarray of str of shape (n_beats,)
        The AAMI class (``'N'``, ``'S'``, ``'V'``, ``'F'``, ``'Q'``), ``''`` for
        beats found by a detector.
    sample : ndarray of int64 of shape (n_beats,)
        The R peak's sample index at the record's own sampling rate.
    rr_pre, rr_post : ndarray of float64 of shape (n_beats,)
        Seconds from the previous beat's R peak and to the next one's, counted
        over all beats of the record (edge beats included); NaN for the record's
        first and last beat.
    record : ndarray of str of shape (n_beats,)
        The record name of each beat (``'100'``): the groups of a record-wise
        split.
    fs : float
        Sampling rate of ``X`` in Hz.

    Examples
    --------
    >>> beats = segment_beats("datasets/mitdb/100", fs=180.0)
    >>> len(beats), beats.X.shape, beats.fs
    (758, (758, 2, 126), 180.0)
    >>> beats[beats.aami == "S"].symbol
    array(['A', 'A', 'A', 'A', 'A', 'A'], dtype='<U1')
    """

    X: np.ndarray
    symbol: np.ndarray
    aami: np.ndarray
    sample: np.ndarray
    rr_pre: np.ndarray
    rr_post: np.ndarray
    record: np.ndarray
    fs: float

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __getitem__(self, index: Any) -> Beats:
        """Select beats by integer indices, a boolean mask or a slice."""
        picked = {name: getattr(self, name)[index] for name in _PER_BEAT}
        if picked["X"].ndim != 3:
            raise IndexError(
                f"Beats must be indexed by a slice, an integer array or a boolean "
                f"mask of length {len(self)}; got {short_repr(index)}. For one beat "
                "use "
                "beats[[i]]."
            )
        return Beats(fs=self.fs, **picked)


def aami_class(symbols: Any) -> np.ndarray:
    """Map MIT-BIH beat annotation symbols to AAMI EC57 classes.

    Parameters
    ----------
    symbols : str or array-like of str
        Annotation symbols, e.g. ``wfdb.rdann(...).symbol``.

    Returns
    -------
    classes : ndarray of str, same shape as ``symbols``
        ``'N'``, ``'S'``, ``'V'``, ``'F'`` or ``'Q'`` (see :data:`AAMI_CLASSES`);
        ``''`` for symbols that are not beats (rhythm ``'+'``, noise ``'~'``,
        artefact ``'|'``, comment ``'"'``, ...) or are outside the table (the
        flutter wave ``'!'``, the detector's ``'?'``).

    Raises
    ------
    TypeError
        If ``symbols`` are not strings.

    Examples
    --------
    >>> aami_class(["N", "L", "A", "V", "F", "/", "+", "~"])
    array(['N', 'N', 'S', 'V', 'F', 'Q', '', ''], dtype='<U1')
    """
    array = np.asarray(symbols)
    if array.size and array.dtype.kind != "U":
        raise TypeError(
            f"symbols must be strings such as 'N' or 'V'; got dtype {array.dtype}. "
            "Pass the annotation symbols, e.g. wfdb.rdann(record, 'atr').symbol."
        )
    classes = np.full(array.shape, "", dtype="<U1")
    for label in AAMI_LABELS:
        members = [s for s, c in AAMI_CLASSES.items() if c == label]
        classes[np.isin(array, members)] = label
    return classes


def _rr_intervals(samples: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    diff = np.diff(samples) / fs
    pre = np.concatenate([[np.nan], diff])
    post = np.concatenate([diff, [np.nan]])
    return pre, post


def _find_beats(
    path: Path, signal: np.ndarray, fs: float, annotation: str | None, detector: str
) -> tuple[np.ndarray, np.ndarray]:
    """R-peak samples and symbols from the annotation file, else the detector."""
    wfdb = _import_wfdb()
    if annotation is not None and path.with_name(f"{path.name}.{annotation}").is_file():
        ann = wfdb_call(wfdb.rdann, path, f"annotations ({annotation})")(
            str(path), annotation
        )
        symbols = np.asarray(ann.symbol, dtype=str)
        keep = np.isin(symbols, list(AAMI_CLASSES))
        return np.asarray(ann.sample, dtype=np.int64)[keep], symbols[keep]
    if detector == "pan-tompkins":
        from tscl.features import detect_r_peaks

        peaks = detect_r_peaks(signal, fs)
        return peaks, np.full(peaks.shape, UNKNOWN_SYMBOL, dtype="<U1")
    from wfdb import processing

    if detector == "xqrs":
        peaks = processing.xqrs_detect(signal, fs=fs, verbose=False)
    else:
        peaks = processing.gqrs_detect(sig=signal, fs=fs)
    peaks = np.unique(np.asarray(peaks, dtype=np.int64))
    return peaks, np.full(peaks.shape, UNKNOWN_SYMBOL, dtype="<U1")


def _zscore(x: np.ndarray, axis: int) -> np.ndarray:
    std = x.std(axis=axis, keepdims=True)
    return (x - x.mean(axis=axis, keepdims=True)) / np.where(std > 0, std, 1.0)


def _check_segment_params(
    before: float, after: float, fs: float | None, detector: str, normalize: str | None
) -> None:
    if fs is not None:
        check_param(fs, "fs", owner="segment_beats", interval=(0, None))
    check_param(before, "before", owner="segment_beats", interval=(0, None),
                closed="left")  # fmt: skip
    check_param(after, "after", owner="segment_beats", interval=(0, None))
    check_choice(detector, "detector", DETECTORS, owner="segment_beats")
    check_choice(normalize, "normalize", (None, *NORMALIZE), owner="segment_beats")


def segment_beats(
    record: str | os.PathLike[str],
    *,
    before: float = 0.25,
    after: float = 0.45,
    fs: float | None = None,
    channels: Channels = None,
    annotation: str | None = "atr",
    detector: str = "xqrs",
    normalize: str | None = None,
) -> Beats:
    """Cut a WFDB record into heartbeats centred on their R peaks.

    When the annotation file (``<record>.<annotation>``, e.g. ``100.atr``) exists,
    its beat annotations are used: those whose symbol is a key of
    :data:`AAMI_CLASSES`; other annotations (rhythm ``'+'``, noise ``'~'``,
    artefacts, comments, flutter waves ``'!'``) are skipped. When ``annotation``
    is ``None`` or the file is absent, R peaks are found with the ``detector`` on
    the first chosen channel and labelled unknown (symbol ``'?'``, AAMI class
    ``''``). Beats whose window does not fit inside the record are dropped.

    Parameters
    ----------
    record : str or path
        Record path without extension, e.g. ``"datasets/mitdb/100"``.
    before, after : float, default=0.25 and 0.45
        Seconds kept before and after each R peak; the window is
        ``round(before * fs) + round(after * fs)`` samples long.
    fs : float, optional
        Resample the record to this rate in Hz before cutting. ``None`` keeps the
        record's rate.
    channels : int, str or sequence of int or str, optional
        Channels to keep, by index or signal name (``"MLII"``), as in
        :func:`~tscl.datasets.load_wfdb_windows`. ``None`` keeps all.
    annotation : str or None, default="atr"
        Extension of the reference annotation file; ``None`` always detects.
    detector : {"xqrs", "gqrs", "pan-tompkins"}, default="xqrs"
        QRS detector for unannotated records: ``wfdb.processing.xqrs_detect``,
        ``wfdb.processing.gqrs_detect`` or :func:`tscl.features.detect_r_peaks`
        (about 30 times faster than XQRS, as sensitive on MIT-BIH).
    normalize : {None, "beat", "record"}, default=None
        ``None`` keeps mV; ``"beat"`` z-scores each beat and channel;
        ``"record"`` z-scores each channel with the mean and standard deviation
        of the whole record. A constant part is only centred.

    Returns
    -------
    beats : Beats
        The beats, labels, R-peak samples, RR intervals and record name; see
        :class:`Beats`.

    Raises
    ------
    FileNotFoundError
        If the record's header or signal file is missing.
    ValueError
        If a channel does not exist or a parameter is out of range.
    ImportError
        If wfdb is not installed.

    References
    ----------
    [1] de Chazal, O'Dwyer and Reilly, Automatic classification of heartbeats
    using ECG morphology and heartbeat interval features, IEEE TBME 51(7), 2004.

    Examples
    --------
    >>> beats = segment_beats("datasets/mitdb/100", channels="MLII")
    >>> beats.X.shape, beats.fs, str(beats.symbol[0]), int(beats.sample[0])
    ((758, 1, 252), 360.0, 'N', 370)
    >>> round(float(beats.rr_pre[0]), 3)
    0.814
    """
    _check_segment_params(before, after, fs, detector, normalize)
    path, header = _wfdb_header(record)
    indices = _channel_indices(channels, list(header.sig_name), path)
    rec = wfdb_call(_import_wfdb().rdrecord, path, "signals")(
        str(path), channels=indices
    )
    fs_in = float(header.fs)
    signal = _interpolate_nan(rec.p_signal.T)  # (n_channels, n_timesteps), mV
    samples, symbols = _find_beats(path, signal[0], fs_in, annotation, detector)
    rr_pre, rr_post = _rr_intervals(samples, fs_in)
    fs_out = fs_in if fs is None else float(fs)
    signal = resample(signal, fs_in, fs_out, axis=1)
    if normalize == "record":
        signal = _zscore(signal, axis=1)
    n_before, n_after = int(round(before * fs_out)), int(round(after * fs_out))
    if n_before + n_after < 1:
        raise ValueError(
            f"before={before} s and after={after} s give windows of 0 samples at "
            f"{fs_out} Hz; make them longer."
        )
    centres = np.round(samples * (fs_out / fs_in)).astype(np.int64)
    keep = (centres - n_before >= 0) & (centres + n_after <= signal.shape[1])
    steps = centres[keep, None] + np.arange(-n_before, n_after)  # (n_beats, n_steps)
    X = signal[:, steps].transpose(1, 0, 2)  # (n_beats, n_channels, n_steps)
    if normalize == "beat":
        X = _zscore(X, axis=2)
    return Beats(
        X=np.ascontiguousarray(X, dtype=np.float32),
        symbol=symbols[keep],
        aami=aami_class(symbols[keep]),
        sample=samples[keep],
        rr_pre=rr_pre[keep],
        rr_post=rr_post[keep],
        record=np.full(int(keep.sum()), path.name),
        fs=fs_out,
    )


def _concat_beats(parts: Sequence[Beats]) -> Beats:
    rates = {b.fs for b in parts}
    if len(rates) > 1:
        raise ValueError(
            f"The records have different sampling rates ({sorted(rates)} Hz), so "
            "their beats differ in length. Pass fs= to resample them to one rate."
        )
    joined = {n: np.concatenate([getattr(b, n) for b in parts]) for n in _PER_BEAT}
    return Beats(fs=parts[0].fs, **joined)


def load_mitdb_beats(
    root: str | os.PathLike[str] | None = None,
    *,
    records: Sequence[str] | None = None,
    before: float = 0.25,
    after: float = 0.45,
    fs: float | None = None,
    channels: Channels = 0,
    annotation: str | None = "atr",
    detector: str = "xqrs",
    normalize: str | None = None,
) -> Beats:
    """Heartbeats of several MIT-BIH records, concatenated record by record.

    Each record goes through :func:`segment_beats`: annotated records (with a
    ``.atr`` file) give labelled beats, the others detected beats labelled
    ``'?'``. ``Beats.record`` names each beat's record, for record-wise splits.

    Parameters
    ----------
    root : str or path, optional
        Folder of MIT-BIH records (``100.hea``, ``100.dat``, ``100.atr``, ...).
        ``None`` means the shipped subset ``datasets/mitdb`` (first 10 minutes of
        10 records, annotations for record 100 only).
    records : sequence of str, optional
        Record names. ``None`` reads every record (``*.hea``) in ``root``.
    before, after, fs, annotation, detector, normalize
        As in :func:`segment_beats`.
    channels : int, str or sequence of int or str, default=0
        Channels to keep. Index 0 is MLII in every record except 104 (paced, V5).

    Returns
    -------
    beats : Beats
        The beats of all records, in name order unless ``records`` is given.

    Raises
    ------
    FileNotFoundError
        If ``root`` holds no record or a record is missing.
    ValueError
        If the records' sampling rates differ and ``fs`` is ``None``, or a
        parameter is invalid.

    See Also
    --------
    inter_patient_split, record_split : Record-wise train/test splits.

    Examples
    --------
    >>> beats = load_mitdb_beats(records=["100"], fs=100.0)
    >>> beats.X.shape, sorted(set(beats.aami.tolist()))
    ((758, 1, 70), ['N', 'S'])
    """
    folder, records = _mitdb_records(root, records)
    parts = [
        segment_beats(folder / str(name), before=before, after=after, fs=fs,
                      channels=channels, annotation=annotation, detector=detector,
                      normalize=normalize)
        for name in records
    ]  # fmt: skip
    if not parts:
        raise ValueError("records is empty; pass at least one record name.")
    return _concat_beats(parts)


def record_split(
    groups: Any, *, test_size: float = 0.25, random_state: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split samples at random so that no record (patient) is on both sides.

    A thin wrapper of :class:`sklearn.model_selection.GroupShuffleSplit` with one
    split. For cross-validation use :class:`sklearn.model_selection.GroupKFold`
    with ``groups`` directly.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        The record (or patient) id of each sample, e.g. ``Beats.record``.
    test_size : float or int, default=0.25
        A float in (0, 1) is the fraction of *records* (not samples) in the test
        set; an int is their number.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle.

    Returns
    -------
    train, test : ndarray of int64
        Indices of the training and test samples.

    Raises
    ------
    ValueError
        If there are fewer than two records, or ``test_size`` leaves a side
        without a record.

    See Also
    --------
    inter_patient_split : The fixed MIT-BIH division DS1/DS2.

    Examples
    --------
    >>> groups = ["100", "100", "101", "102", "102", "103"]
    >>> train, test = record_split(groups, test_size=0.5, random_state=0)
    >>> sorted(set(groups[i] for i in train) & set(groups[i] for i in test))
    []
    >>> len(set(groups[i] for i in test))
    2
    """
    array = check_group_ids(groups, "groups")
    n_groups = len(np.unique(array))
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        n_test = int(test_size)
    else:
        check_param(test_size, "test_size", owner="record_split", interval=(0, 1))
        n_test = int(np.ceil(test_size * n_groups))
    if not 1 <= n_test <= n_groups - 1:
        raise ValueError(
            f"test_size={short_repr(test_size)} puts {n_test} of the {n_groups} "
            "distinct records of groups in the test set; both sets need at least "
            "one record. Pass more records or another test_size."
        )
    check_seed(random_state, owner="record_split")
    splitter = GroupShuffleSplit(n_splits=1, test_size=n_test,
                                 random_state=random_state)  # fmt: skip
    train, test = next(splitter.split(np.zeros(len(array)), groups=array))
    return train.astype(np.int64), test.astype(np.int64)


def inter_patient_split(records: Any) -> tuple[np.ndarray, np.ndarray]:
    """Split MIT-BIH samples into DS1 (train) and DS2 (test) by their record.

    The standard inter-patient division of de Chazal et al. (2004), see
    :data:`MITDB_DS1` and :data:`MITDB_DS2`: no patient is in both sets.

    Parameters
    ----------
    records : array-like of str or int of shape (n_samples,)
        The MIT-BIH record name of each sample, e.g. ``Beats.record``, or a list
        of record names.

    Returns
    -------
    train, test : ndarray of int64
        Indices of the samples from DS1 and from DS2; either may be empty.

    Raises
    ------
    ValueError
        If a record is in neither DS1 nor DS2, such as the paced records 102, 104,
        107 and 217; the message names them.

    References
    ----------
    [1] de Chazal, O'Dwyer and Reilly, Automatic classification of heartbeats
    using ECG morphology and heartbeat interval features, IEEE TBME 51(7),
    1196-1206, 2004, doi:10.1109/TBME.2004.827359.

    Examples
    --------
    >>> train, test = inter_patient_split(["100", "106", "106", "232", "223"])
    >>> train, test
    (array([1, 2, 4]), array([0, 3]))
    >>> inter_patient_split(["100", "104"])
    Traceback (most recent call last):
    ...
    ValueError: Record(s) '104' are in neither DS1 nor DS2 ...
    """
    names = check_group_ids(records, "records").astype(str)
    unknown = sorted(set(names.tolist()) - set(MITDB_DS1) - set(MITDB_DS2))
    if unknown:
        raise ValueError(
            f"Record(s) {flatten_names(unknown)} are in neither DS1 nor DS2 of the "
            "MIT-BIH inter-patient division (de Chazal et al. 2004), which excludes "
            f"the paced records {', '.join(MITDB_PACED)}. Drop them first, e.g. "
            f"beats[~np.isin(beats.record, {short_repr(unknown)})]."
        )
    train = np.flatnonzero(np.isin(names, MITDB_DS1)).astype(np.int64)
    test = np.flatnonzero(np.isin(names, MITDB_DS2)).astype(np.int64)
    return train, test
