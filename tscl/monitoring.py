"""Collapse monitoring for self-supervised representation learning.

A self-supervised encoder can find a trivial way to lower its loss: map every
input to the same point (*complete collapse*) or to a low-dimensional subspace
(*dimensional collapse*). The loss can still look fine while the embeddings
carry no information, so the metrics here look at the embeddings themselves.
All of them take tensors of shape ``(n, dim)``, ignore gradients, compute in
float64 and return a Python float.

:func:`embedding_std`
    Spread of the L2-normalised embeddings, scaled so that it is about 1 for
    embeddings spread evenly over the sphere and 0 when all are identical
    (complete collapse). SimSiam [1]_ tracks the same quantity without the
    ``sqrt(dim)`` factor.
:func:`effective_rank`
    How many directions the embeddings really use (RankMe [2]_, after Roy and
    Vetterli [3]_): about ``dim`` for isotropic embeddings, about ``k`` when they
    live in a ``k``-dimensional subspace (dimensional collapse), 0 when all are
    identical.
:func:`alignment`
    Mean distance between the two views of each sample (Wang and Isola [4]_);
    0 when the views map to the same point. Lower is better, but collapse also
    gives 0.
:func:`uniformity`
    Log of the mean Gaussian potential between pairs (Wang and Isola [4]_);
    0 when all embeddings coincide, about ``-4`` (the minimum for ``t=2`` in
    high dimension) when they cover the sphere evenly.

A representation is treated as collapsed when ``embedding_std`` falls below
0.01 (all embeddings nearly the same direction) or ``effective_rank`` below 1.5
(at most one direction used). Encoder outputs are not centred: a shared offset
(a max-pooled CNN's outputs are mostly positive) keeps ``embedding_std`` of a
healthy encoder near 0.05-0.1 rather than 1, so watch its trend across epochs;
a collapse drives it towards 0. :class:`CollapseMonitor` applies
these thresholds once per epoch and issues a :class:`CollapseWarning` that
names the usual fixes.

References
----------
.. [1] Chen and He, Exploring Simple Siamese Representation Learning (SimSiam),
   CVPR 2021, arXiv:2011.10566, section 4.1
.. [2] Garrido et al., RankMe: Assessing the Downstream Performance of
   Pretrained Self-Supervised Representations by Their Rank, ICML 2023,
   arXiv:2210.02885
.. [3] Roy and Vetterli, The effective rank: a measure of effective
   dimensionality, EUSIPCO 2007
.. [4] Wang and Isola, Understanding Contrastive Representation Learning
   through Alignment and Uniformity on the Hypersphere, ICML 2020,
   arXiv:2005.10242
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from tscl._validation import check_count, check_param

__all__ = [
    "METRICS",
    "CollapseMonitor",
    "CollapseWarning",
    "alignment",
    "collapse_metrics",
    "effective_rank",
    "embedding_std",
    "uniformity",
]

#: Added to each normalised singular value before the entropy, as RankMe does.
RANK_EPSILON = 1e-7

#: Names of the metrics, in the order of :func:`collapse_metrics`'s keys.
METRICS = ("embedding_std", "effective_rank", "alignment", "uniformity")


def _check_embeddings(z: Any, name: str = "z") -> Tensor:
    """Check ``z`` and return it detached, in float64 (on the CPU for MPS)."""
    if not isinstance(z, Tensor):
        raise TypeError(
            f"Expected '{name}' to be a torch.Tensor of shape (n, dim); got "
            f"{type(z).__name__}. Convert with torch.as_tensor({name}, "
            "dtype=torch.float32)."
        )
    if not z.is_floating_point():
        raise TypeError(
            f"Expected '{name}' to be a floating-point tensor; got dtype {z.dtype}. "
            f"Use {name}.float()."
        )
    if z.ndim != 2 or z.shape[1] < 1:
        raise ValueError(
            f"Expected '{name}' of shape (n, dim) with dim >= 1; got "
            f"{tuple(z.shape)}. Flatten per-sample features first, e.g. "
            f"{name}.flatten(1)."
        )
    if z.shape[0] < 2:
        raise ValueError(
            f"Collapse metrics compare embeddings, so '{name}' needs at least 2 "
            f"rows; got shape {tuple(z.shape)}. Pass a whole batch."
        )
    finite = torch.isfinite(z)
    if not bool(finite.all()):
        count = int((~finite).sum())
        raise ValueError(
            f"'{name}' holds {count} NaN or infinite value(s); collapse metrics "
            "need finite embeddings. A NaN here usually means training diverged: "
            "lower the learning rate."
        )
    z = z.detach()
    if z.device.type == "mps":  # MPS has no float64
        z = z.cpu()
    return z.to(torch.float64)


def _check_pair(z1: Any, z2: Any) -> tuple[Tensor, Tensor]:
    """Check two views with :func:`_check_embeddings` and that they match."""
    a, b = _check_embeddings(z1, "z1"), _check_embeddings(z2, "z2")
    if a.shape != b.shape:
        raise ValueError(
            "Expected 'z1' and 'z2' of the same shape (n, dim), row i of each "
            f"being a view of sample i; got {tuple(a.shape)} and {tuple(b.shape)}."
        )
    if a.device != b.device:
        raise ValueError(
            f"Expected 'z1' and 'z2' on the same device; got {a.device} and "
            f"{b.device}. Move one with .to(other.device)."
        )
    return a, b


def _check_power(value: Any, name: str, owner: str) -> float:
    check_param(value, name, owner=owner, interval=(0, None))
    return float(value)


def _embedding_std(z: Tensor) -> float:
    f = F.normalize(z, dim=1)  # (n, dim), rows on the unit sphere
    # Shifting by a row changes no std and makes identical rows give exactly 0.
    std = torch.std(f - f[:1], dim=0, correction=0)  # (dim,)
    return float(std.mean()) * math.sqrt(z.shape[1])


def embedding_std(z: Tensor) -> float:
    """Return the per-dimension std of L2-normalised embeddings, times sqrt(dim).

    Each row is divided by its L2 norm (a zero row stays zero), the population
    standard deviation (``correction=0``) of every dimension is taken over the
    ``n`` rows, and the mean over dimensions is multiplied by ``sqrt(dim)``.
    Unit vectors spread evenly over the sphere have a std of about
    ``1 / sqrt(dim)`` per dimension [1]_, so the result is about 1 for them,
    0 when all embeddings are identical, and never above 1.

    Parameters
    ----------
    z : Tensor of shape (n, dim)
        Embeddings, any floating dtype and device; ``n >= 2``.

    Returns
    -------
    float
        In ``[0, 1]``: 1 for zero-mean embeddings spread evenly, 0 when they
        all point the same way. Under 0.01 means complete collapse.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor.
    ValueError
        If ``z`` is not 2-D, has fewer than 2 rows or holds NaN or inf.

    See Also
    --------
    effective_rank : Detects collapse to a subspace, which this may miss.

    References
    ----------
    .. [1] Chen and He, SimSiam, CVPR 2021, arXiv:2011.10566, section 4.1

    Examples
    --------
    >>> embedding_std(torch.ones(5, 3))  # all identical
    0.0
    >>> round(embedding_std(torch.cat([torch.eye(3), -torch.eye(3)])), 3)
    1.0
    >>> _ = torch.manual_seed(0)
    >>> round(embedding_std(torch.randn(4096, 16)), 1)
    1.0
    """
    return _embedding_std(_check_embeddings(z))


def _effective_rank(z: Tensor) -> float:
    n, dim = z.shape
    centred = z - z[:1]  # shift first: identical rows give exact zeros
    centred = centred - centred.mean(dim=0, keepdim=True)  # (n, dim)
    s = torch.linalg.svdvals(centred)  # (min(n, dim),)
    # Below this, a singular value is rounding error from the centring.
    tol = max(n, dim) * torch.finfo(z.dtype).eps * float(torch.linalg.norm(z))
    s = torch.where(s > tol, s, torch.zeros_like(s))
    total = s.sum()
    if float(total) == 0.0:
        return 0.0
    p = s / total + RANK_EPSILON
    return math.exp(float(-(p * torch.log(p)).sum()))


def effective_rank(z: Tensor) -> float:
    """Return the effective rank of the centred embeddings (RankMe).

    With ``s`` the singular values of ``z - z.mean(0)``, ``p = s / sum(s) + eps``
    with ``eps = 1e-7`` as in RankMe [1]_, the result is
    ``exp(-sum(p * log(p)))``, the exponential of the Shannon entropy of the
    spectrum [2]_. It counts the directions the embeddings spread along:
    about ``k`` for embeddings spread evenly in a ``k``-dimensional subspace.

    Parameters
    ----------
    z : Tensor of shape (n, dim)
        Embeddings, any floating dtype and device; ``n >= 2``.

    Returns
    -------
    float
        Between about 1 and ``min(n - 1, dim)`` (centring removes one
        direction), or exactly 0.0 when every embedding is identical, i.e.
        every singular value is at most ``max(n, dim) * eps64 * ||z||_F``
        (rounding error of the centring). A single point uses no direction at
        all, so 0 is reported rather than the misleading 1.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor.
    ValueError
        If ``z`` is not 2-D, has fewer than 2 rows or holds NaN or inf.

    See Also
    --------
    embedding_std : The rank ignores scale, so tiny noise around one point
        still reads as a high rank; the std catches that case.

    Notes
    -----
    The embeddings are centred, unlike in RankMe, so that a shared offset does
    not count as a direction. Use a batch with ``n - 1`` well above the rank
    you expect: the result cannot exceed ``n - 1``.

    References
    ----------
    .. [1] Garrido et al., RankMe, ICML 2023, arXiv:2210.02885
    .. [2] Roy and Vetterli, The effective rank, EUSIPCO 2007

    Examples
    --------
    >>> round(effective_rank(torch.eye(4)), 3)  # 4 points span a 3-D simplex
    3.0
    >>> effective_rank(torch.ones(5, 3))  # all identical
    0.0
    >>> _ = torch.manual_seed(0)
    >>> low = torch.randn(512, 2) @ torch.randn(2, 16)  # a 2-D subspace of 16-D
    >>> effective_rank(low) <= 2.0
    True
    """
    return _effective_rank(_check_embeddings(z))


def _alignment(z1: Tensor, z2: Tensor, alpha: float) -> float:
    diff = F.normalize(z1, dim=1) - F.normalize(z2, dim=1)  # (n, dim)
    return float(diff.norm(dim=1).pow(alpha).mean())


def alignment(z1: Tensor, z2: Tensor, alpha: float = 2) -> float:
    """Return the mean distance between the two views of each sample.

    Computes ``mean_i ||f(z1[i]) - f(z2[i])||_2 ** alpha`` with ``f`` the L2
    normalisation, the alignment loss of Wang and Isola [1]_.

    Parameters
    ----------
    z1, z2 : Tensor of shape (n, dim)
        Embeddings of two views; row ``i`` of each comes from sample ``i``.
    alpha : float, default=2
        Power of the distance, > 0.

    Returns
    -------
    float
        In ``[0, 2 ** alpha]``; 0 when the views coincide. Lower is better,
        but a collapsed encoder also scores 0: read it with :func:`uniformity`.

    Raises
    ------
    TypeError
        If an input is not a floating-point tensor or ``alpha`` not a number.
    ValueError
        If an input is not 2-D, has fewer than 2 rows or holds NaN or inf, if
        the shapes or devices differ, or if ``alpha <= 0``.

    References
    ----------
    .. [1] Wang and Isola, ICML 2020, arXiv:2005.10242

    Examples
    --------
    >>> z = torch.eye(2)
    >>> alignment(z, z)
    0.0
    >>> alignment(z, -z)  # opposite points on the sphere: distance 2
    4.0
    """
    p = _check_power(alpha, "alpha", "alignment")
    return _alignment(*_check_pair(z1, z2), p)


def _uniformity(z: Tensor, t: float) -> float:
    f = F.normalize(z, dim=1)  # (n, dim)
    x = -t * torch.pdist(f).pow(2)  # (n * (n - 1) / 2,), pairs i < j
    peak = x.max()
    # Stable log-mean-exp; exactly 0 when all pairs coincide.
    return float(peak + torch.log(torch.exp(x - peak).mean()))


def uniformity(z: Tensor, t: float = 2) -> float:
    """Return the log mean Gaussian potential between distinct embeddings.

    Computes ``log(mean_{i<j} exp(-t * ||f(z[i]) - f(z[j])||_2 ** 2))`` with
    ``f`` the L2 normalisation, the uniformity loss of Wang and Isola [1]_.

    Parameters
    ----------
    z : Tensor of shape (n, dim)
        Embeddings, any floating dtype and device; ``n >= 2``.
    t : float, default=2
        Scale of the Gaussian kernel, > 0.

    Returns
    -------
    float
        At most 0, reached when all embeddings coincide (collapse); lower (more
        negative) is more uniform, down to about ``-2 * t`` for many points
        spread evenly over a high-dimensional sphere.

    Raises
    ------
    TypeError
        If ``z`` is not a floating-point tensor or ``t`` not a number.
    ValueError
        If ``z`` is not 2-D, has fewer than 2 rows or holds NaN or inf, or if
        ``t <= 0``.

    References
    ----------
    .. [1] Wang and Isola, ICML 2020, arXiv:2005.10242

    Examples
    --------
    >>> uniformity(torch.ones(5, 3))  # all identical
    0.0
    >>> round(uniformity(torch.cat([torch.eye(3), -torch.eye(3)])), 3)
    -4.219
    """
    scale = _check_power(t, "t", "uniformity")
    return _uniformity(_check_embeddings(z), scale)


def collapse_metrics(z1: Tensor, z2: Tensor) -> dict[str, float]:
    """Return all four collapse metrics for a batch of two views.

    ``embedding_std``, ``effective_rank`` and ``uniformity`` (with ``t=2``) are
    computed on ``torch.cat([z1, z2])``; ``alignment`` (with ``alpha=2``)
    compares ``z1[i]`` with ``z2[i]``.

    Parameters
    ----------
    z1, z2 : Tensor of shape (n, dim)
        Embeddings of two views; row ``i`` of each comes from sample ``i``.

    Returns
    -------
    dict of str to float
        Keys ``"embedding_std"``, ``"effective_rank"``, ``"alignment"`` and
        ``"uniformity"``, in that order.

    Raises
    ------
    TypeError
        If an input is not a floating-point tensor.
    ValueError
        If an input is not 2-D, has fewer than 2 rows or holds NaN or inf, or
        if the shapes or devices differ.

    See Also
    --------
    CollapseMonitor : Records these metrics per epoch and warns on collapse.

    Examples
    --------
    >>> z = torch.cat([torch.eye(3), -torch.eye(3)])
    >>> for key, value in collapse_metrics(z, z).items():
    ...     print(key, round(value, 3))
    embedding_std 1.0
    effective_rank 3.0
    alignment 0.0
    uniformity -2.261
    """
    a, b = _check_pair(z1, z2)
    z = torch.cat([a, b])  # (2n, dim)
    return {
        "embedding_std": _embedding_std(z),
        "effective_rank": _effective_rank(z),
        "alignment": _alignment(a, b, 2.0),
        "uniformity": _uniformity(z, 2.0),
    }


class CollapseWarning(UserWarning):
    """Warning that the embeddings have collapsed during training.

    Issued by :class:`CollapseMonitor` when the embedding std or effective rank
    falls below its threshold. Turn it into an error with
    ``warnings.simplefilter("error", CollapseWarning)`` to stop a run early.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("collapsed", CollapseWarning)
    >>> caught[0].category.__name__
    'CollapseWarning'
    """


_FIXES = (
    "Usual fixes: lower the learning rate; use a larger batch or more negatives; "
    "use stronger or more varied augmentations; for BYOL/SimSiam keep the "
    "predictor and a momentum close to 1 (e.g. 0.99-0.996); for SimCLR/MoCo use "
    "a temperature of 0.1-0.5; check that the input is standardised and not "
    "constant."
)


class CollapseMonitor:
    """Record collapse metrics per epoch and warn once when embeddings collapse.

    Each :meth:`update` computes :func:`collapse_metrics` and appends them to
    :attr:`history`. An epoch counts as collapsed when ``embedding_std <
    std_threshold`` or ``effective_rank < rank_threshold`` (the rank only for
    embeddings of 2 dimensions or more); it is appended to
    :attr:`collapsed_epochs` and, the first time only, a
    :class:`CollapseWarning` names the epoch, the values and the usual fixes.

    Parameters
    ----------
    std_threshold : float, default=0.01
        Collapse when :func:`embedding_std` is below this; finite and > 0.
    rank_threshold : float, default=1.5
        Collapse when :func:`effective_rank` is below this; finite and > 0.

    Attributes
    ----------
    history : dict of str to list of float
        One list per key of :func:`collapse_metrics`, one value per update.
    epochs : list of int
        The epoch of each update, aligned with the lists in ``history``.
    collapsed_epochs : list of int
        The epochs whose embeddings counted as collapsed.

    Raises
    ------
    TypeError
        If a threshold is not a number.
    ValueError
        If a threshold is not finite or not > 0.

    Notes
    -----
    The effective rank of ``2n`` embeddings cannot exceed ``2n - 1``, and
    cannot exceed ``dim``: use batches and embeddings large enough that
    healthy values sit well above ``rank_threshold``.

    Examples
    --------
    >>> import warnings
    >>> monitor = CollapseMonitor()
    >>> _ = torch.manual_seed(0)
    >>> z = torch.randn(64, 8)  # healthy: spread in all 8 directions
    >>> metrics = monitor.update(z, z + 0.1 * torch.randn(64, 8), epoch=0)
    >>> round(metrics["embedding_std"], 1), monitor.collapsed_epochs
    (1.0, [])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = monitor.update(torch.ones(64, 8), torch.ones(64, 8), epoch=1)
    ...     _ = monitor.update(torch.ones(64, 8), torch.ones(64, 8), epoch=2)
    >>> len(caught), monitor.collapsed_epochs  # warned once, both recorded
    (1, [1, 2])
    >>> len(monitor.history["embedding_std"])
    3
    """

    def __init__(
        self, std_threshold: float = 0.01, rank_threshold: float = 1.5
    ) -> None:
        for value, name in (
            (std_threshold, "std_threshold"),
            (rank_threshold, "rank_threshold"),
        ):
            check_param(value, name, owner=self, interval=(0, None))
        self.std_threshold = float(std_threshold)
        self.rank_threshold = float(rank_threshold)
        self.history: dict[str, list[float]] = {key: [] for key in METRICS}
        self.epochs: list[int] = []
        self.collapsed_epochs: list[int] = []
        self._warned = False

    def __repr__(self) -> str:
        return (
            f"CollapseMonitor(std_threshold={self.std_threshold}, "
            f"rank_threshold={self.rank_threshold})"
        )

    def state_dict(self) -> dict[str, Any]:
        """Return what the monitor has recorded, for a checkpoint.

        Returns
        -------
        dict
            ``history``, ``epochs``, ``collapsed_epochs`` and ``warned``
            (whether the warning was shown), as plain lists, dicts and bools.

        Examples
        --------
        >>> monitor = CollapseMonitor()
        >>> _ = monitor.update(torch.eye(4), torch.eye(4), epoch=0)
        >>> other = CollapseMonitor()
        >>> other.load_state_dict(monitor.state_dict())
        >>> other.epochs, other.history == monitor.history
        ([0], True)
        """
        return {
            "history": {key: list(values) for key, values in self.history.items()},
            "epochs": list(self.epochs),
            "collapsed_epochs": list(self.collapsed_epochs),
            "warned": self._warned,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, e.g. when a run resumes.

        Parameters
        ----------
        state : dict
            The output of :meth:`state_dict`.

        Raises
        ------
        ValueError
            If ``state`` lacks one of its keys.
        """
        missing = {"history", "epochs", "collapsed_epochs", "warned"} - set(state)
        if missing:
            raise ValueError(
                f"A CollapseMonitor state needs the keys {sorted(missing)}; got "
                f"{sorted(state)}. Pass the output of CollapseMonitor.state_dict()."
            )
        self.history = {key: list(values) for key, values in state["history"].items()}
        self.epochs = list(state["epochs"])
        self.collapsed_epochs = list(state["collapsed_epochs"])
        self._warned = bool(state["warned"])

    def update(self, z1: Tensor, z2: Tensor, epoch: int) -> dict[str, float]:
        """Compute and record the metrics of one epoch; warn on first collapse.

        Parameters
        ----------
        z1, z2 : Tensor of shape (n, dim)
            Embeddings of two views of a batch (typically the last batch of
            the epoch, or a fixed validation batch).
        epoch : int
            The epoch number, >= 0, for the record and the message.

        Returns
        -------
        dict of str to float
            The output of :func:`collapse_metrics`.

        Raises
        ------
        TypeError
            If an input is not a floating-point tensor or ``epoch`` not an int.
        ValueError
            As :func:`collapse_metrics`, or if ``epoch < 0``.

        Warns
        -----
        CollapseWarning
            The first time an epoch counts as collapsed.

        Examples
        --------
        >>> monitor = CollapseMonitor()
        >>> z = torch.cat([torch.eye(3), -torch.eye(3)])
        >>> _ = monitor.update(z, z, epoch=0)
        >>> monitor.epochs, monitor.collapsed_epochs
        ([0], [])
        """
        check_count(epoch, "epoch", owner=self, minimum=0)
        metrics = collapse_metrics(z1, z2)
        self.epochs.append(int(epoch))
        for key, value in metrics.items():
            self.history[key].append(value)
        std, rank = metrics["embedding_std"], metrics["effective_rank"]
        low_rank = rank < self.rank_threshold and z1.shape[1] >= 2  # 1-D: rank <= 1
        if std < self.std_threshold or low_rank:
            self.collapsed_epochs.append(int(epoch))
            if not self._warned:
                self._warned = True
                warnings.warn(
                    self._message(int(epoch), std, rank), CollapseWarning, stacklevel=2
                )
        return metrics

    def _message(self, epoch: int, std: float, rank: float) -> str:
        return (
            f"The embeddings collapsed at epoch {epoch}: embedding_std={std:.4g} "
            f"(collapse below {self.std_threshold}), effective_rank={rank:.4g} "
            f"(collapse below {self.rank_threshold}). {_FIXES} This warning is "
            "shown once per monitor; later collapsed epochs are recorded in "
            "CollapseMonitor.collapsed_epochs."
        )
