"""Whole recordings of any length: pretrain on them and embed each as one vector.

A :class:`~tscl.ContrastiveEncoder` works on arrays of equal-length series; ECG
records, as a clinic has them, are single-lead recordings of 9 s to hours at the
device's rate. :class:`RecordEncoder` bridges the two: it resamples and
standardises each record, pretrains its estimator on long context windows cut from
all records (the views are cut from those), and embeds a record as the mean of its
overlapping windows' representations. :class:`tscl.pretrained.PretrainedEncoder`
is the same with weights that ship with tscl.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils.validation import check_is_fitted

from tscl import datasets, features
from tscl._validation import check_choice, check_param
from tscl.estimator import ContrastiveEncoder

__all__ = ["RecordEncoder", "default_ecg_estimator", "record_windows"]

POOLINGS = ("mean", "meanmax")


#: The shortest record :class:`RecordEncoder` takes, in seconds (a heartbeat):
#: shorter ones are repeated to fill a window, which a few samples cannot.
MIN_RECORD_S = 1.0


def default_ecg_estimator() -> ContrastiveEncoder:
    """Return the pretraining recipe of :class:`RecordEncoder` for ECG.

    SimCLR [1]_ on :class:`tscl.encoders.ResNet1D` (a strided residual CNN whose
    receptive field spans about 11 s at 100 Hz), with the ``"ecg"`` views: two
    random 10 s stretches of a 30 s window, scaled and jittered, the temporal
    contrast of neighbouring segments of one recording of CLOCS [2]_; 60 epochs,
    batches of 128. Chosen by cross-validation inside the training folds of the
    PhysioNet/CinC 2017 benchmark (``benchmarks/cinc2017.py --select``; the
    candidates and their scores are in the benchmarks guide).

    Returns
    -------
    ContrastiveEncoder
        Unfitted.

    References
    ----------
    .. [1] Chen et al., SimCLR, 2020, arXiv:2002.05709
    .. [2] Kiyasseh, Zhu and Clifton, CLOCS, ICML 2021, arXiv:2005.13249

    Examples
    --------
    >>> default_ecg_estimator().encoder
    'resnet'
    """
    return ContrastiveEncoder(
        "simclr",
        "resnet",
        augment="ecg",
        n_components=128,
        n_epochs=60,
        batch_size=128,
    )


def record_windows(
    records: list[np.ndarray], size: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut 1-D records into windows of ``size`` samples that cover each record.

    Windows start every ``stride`` samples and one more is aligned with the
    record's end, so no part of a record is left out. A record shorter than one
    window is repeated (``np.resize``) to fill it, rather than padded with
    zeros that a random crop could land on.

    Parameters
    ----------
    records : list of ndarray of shape (n_timesteps,)
        The records; lengths may differ.
    size : int
        Window length in samples, >= 1.
    stride : int, optional
        Step between window starts; ``None`` means ``size`` (no overlap).

    Returns
    -------
    windows : ndarray of shape (n_windows, 1, size), float32
    owner : ndarray of int64 of shape (n_windows,)
        The index of each window's record.

    Examples
    --------
    >>> windows, owner = record_windows([np.arange(10.0), np.arange(3.0)], 4)
    >>> windows[:, 0].astype(int).tolist(), owner.tolist()
    ([[0, 1, 2, 3], [4, 5, 6, 7], [6, 7, 8, 9], [0, 1, 2, 0]], [0, 0, 0, 1])
    """
    stride = size if stride is None else stride
    for value, name in ((size, "size"), (stride, "stride")):
        check_param(value, name, owner="record_windows", kind=numbers.Integral)
        check_param(value, name, owner="record_windows", interval=(0, None))
    windows: list[np.ndarray] = []
    owner: list[int] = []
    for i, record in enumerate(records):
        x = record if len(record) >= size else np.resize(record, size)
        starts = list(range(0, len(x) - size + 1, stride))
        if starts[-1] != len(x) - size:
            starts.append(len(x) - size)
        windows.extend(x[s : s + size] for s in starts)
        owner.extend([i] * len(starts))
    if not windows:
        return np.zeros((0, 1, size), np.float32), np.zeros(0, np.int64)
    return (
        np.stack(windows).astype(np.float32)[:, None, :],
        np.asarray(owner, dtype=np.int64),
    )


class RecordEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Pretrain on single-lead records of any length and embed each as a vector.

    ``fit`` resamples every record to ``model_fs``, standardises it (zero mean,
    unit variance: gains differ between devices), cuts it into ``context_s``
    windows and fits a clone of ``estimator`` on them without labels; the
    estimator's views are cut from those windows. ``transform`` cuts each record
    into overlapping ``window_s`` windows, encodes them and pools them per
    record (record-level pooling): a record of any length gives one vector.

    Parameters
    ----------
    estimator : ContrastiveEncoder, optional
        The pretraining recipe, cloned in ``fit``; ``None`` means
        :func:`default_ecg_estimator`.
    fs : float, default=300.0
        Sampling rate of the records given to ``fit`` and ``transform``, in Hz.
    model_fs : float, default=100.0
        Rate the encoder works at: 100 Hz keeps the P wave and the QRS shape,
        which 50 Hz blurs.
    context_s : float, default=30.0
        Length of the pretraining windows in seconds.
    window_s : float, default=10.0
        Length of the embedded windows in seconds (the views' length).
    stride_s : float, default=5.0
        Step between embedded windows in seconds.
    pooling : {"mean", "meanmax"}, default="mean"
        How a record's windows are pooled: their mean, or their mean and
        maximum side by side (twice the size).
    groups : bool, default=False
        Pass each context window's record to ``estimator.fit`` as ``groups``,
        so all windows of a record are positives of each other (for methods
        that take groups, such as SimCLR).

    Attributes
    ----------
    model_ : ContrastiveEncoder
        The fitted estimator.
    n_features_in_ : int
        0 for a list of records of different lengths, else their length.

    See Also
    --------
    tscl.pretrained.PretrainedEncoder : The same, with weights shipped with tscl.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> records = [rng.normal(size=n) for n in (3000, 4500, 2700)]  # 300 Hz
    >>> estimator = ContrastiveEncoder("simclr", "resnet", augment="ecg",
    ...     n_components=8, n_epochs=1, random_state=0,
    ...     encoder_params={"hidden_dim": 4, "depth": 2})
    >>> enc = RecordEncoder(estimator, fs=300, context_s=6, window_s=2, stride_s=1)
    >>> enc.fit(records).transform(records).shape
    (3, 8)
    """

    def __init__(
        self,
        estimator: ContrastiveEncoder | None = None,
        *,
        fs: float = 300.0,
        model_fs: float = 100.0,
        context_s: float = 30.0,
        window_s: float = 10.0,
        stride_s: float = 5.0,
        pooling: str = "mean",
        groups: bool = False,
    ) -> None:
        self.estimator = estimator
        self.fs = fs
        self.model_fs = model_fs
        self.context_s = context_s
        self.window_s = window_s
        self.stride_s = stride_s
        self.pooling = pooling
        self.groups = groups

    def _check_params(self) -> None:
        features._check_fs(self.fs, type(self).__name__)
        features._check_fs(self.model_fs, type(self).__name__)
        for name in ("context_s", "window_s", "stride_s"):
            check_param(getattr(self, name), name, owner=self, interval=(0, 3600))
        check_choice(self.pooling, "pooling", POOLINGS, owner=self)
        check_param(self.groups, "groups", owner=self, kind=bool)
        if self.estimator is not None and not isinstance(
            self.estimator, ContrastiveEncoder
        ):
            raise TypeError(
                "RecordEncoder's estimator must be a ContrastiveEncoder or None; "
                f"got {type(self.estimator).__name__}."
            )

    def prepare(self, X: Any) -> list[np.ndarray]:
        """Resample each record to ``model_fs`` and standardise it.

        Parameters
        ----------
        X : list of 1-D array-like, or array-like of shape (n_records, n_timesteps)
            Records at ``fs`` Hz, finite.

        Returns
        -------
        list of ndarray of shape (n_timesteps',), float32
        """
        self._check_params()
        records = features.check_records(_as_record_list(X), type(self).__name__)
        for i, x in enumerate(records):
            if len(x) < MIN_RECORD_S * float(self.fs):
                raise ValueError(
                    f"{type(self).__name__}: record {i} lasts {len(x) / self.fs:.3g} s "
                    f"({len(x)} samples at fs={self.fs:g} Hz); records need at least "
                    f"{MIN_RECORD_S:g} s (a heartbeat). Check fs, or drop the record; "
                    f"records shorter than window_s={self.window_s:g} s are repeated "
                    "to fill a window."
                )
        prepared = []
        for x in records:
            x = datasets.resample(x, float(self.fs), float(self.model_fs))
            std = x.std()
            prepared.append((x - x.mean()) / (std if std > 0 else 1.0))
        return [x.astype(np.float32) for x in prepared]

    def _samples(self, seconds: float) -> int:
        return max(1, round(seconds * float(self.model_fs)))

    def fit(self, X: Any, y: Any = None) -> RecordEncoder:
        """Pretrain a clone of ``estimator`` on context windows of the records.

        Parameters
        ----------
        X : list of 1-D array-like, or array-like of shape (n_records, n_timesteps)
            Unlabelled records at ``fs`` Hz, in any unit (each is standardised).
        y : None
            Ignored: pretraining uses no labels.

        Returns
        -------
        self : RecordEncoder
        """
        records = self.prepare(X)
        self.n_features_in_ = _n_features(X)
        windows, owner = record_windows(records, self._samples(self.context_s))
        estimator = clone(
            self.estimator if self.estimator is not None else default_ecg_estimator()
        )
        estimator.fit(windows, groups=owner if self.groups else None)
        self.model_ = estimator
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed each record: the pooled representations of its windows.

        Parameters
        ----------
        X : list of 1-D array-like, or array-like of shape (n_records, n_timesteps)
            Records at ``fs`` Hz, of any length.

        Returns
        -------
        ndarray of shape (n_records, n_components) or (n_records, 2 * n_components)
            float64; twice the size with ``pooling="meanmax"``.
        """
        check_is_fitted(self, "model_")
        records = self.prepare(X)
        windows, owner = record_windows(
            records, self._samples(self.window_s), self._samples(self.stride_s)
        )
        Z = self.model_.transform(windows).astype(np.float64)  # (n_windows, dim)
        pooled = np.zeros((len(records), Z.shape[1]))
        np.add.at(pooled, owner, Z)
        pooled /= np.bincount(owner, minlength=len(records))[:, None]
        if self.pooling == "meanmax":
            peak = np.full_like(pooled, -np.inf)
            np.maximum.at(peak, owner, Z)
            pooled = np.hstack([pooled, peak])
        self._n_features_out = pooled.shape[1]
        return pooled

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a list of records
        tags.target_tags.required = False
        return tags


def _as_record_list(X: Any) -> Any:
    """Turn a 2-D array of equal-length records into a list of its rows."""
    if features.is_record_list(X):
        return list(X)
    array = np.asarray(X) if not isinstance(X, list) else X
    if isinstance(array, np.ndarray) and array.ndim == 2:
        return list(array)
    if isinstance(array, np.ndarray) and array.ndim == 3:
        raise ValueError(
            f"Records must be single-lead: a list of 1-D arrays or an array of "
            f"shape (n_records, n_timesteps); got shape {array.shape}. Pass one "
            "lead, e.g. X[:, 0]."
        )
    return X


def _n_features(X: Any) -> int:
    """Return the common length of the records, or 0 when they differ."""
    lengths = {len(x) for x in X}
    return lengths.pop() if len(lengths) == 1 else 0
