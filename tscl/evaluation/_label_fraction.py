"""Label-fraction studies: score a probe trained on growing shares of the labels."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tscl._validation import check_param, resolve_name
from tscl.evaluation._probes import PROBES

__all__ = ["label_fraction_study", "subsample_labels"]

#: The metrics of each row and of the summary, in order.
METRICS = ("accuracy", "macro_f1", "auroc", "auprc")


def subsample_labels(
    y: Any, fraction: float, seed: int, *, stratified: bool = True
) -> np.ndarray:
    """Pick a reproducible subset of labelled series that holds every class.

    Stratified (the default): each class ``c`` with ``n_c`` series keeps
    ``max(1, round(fraction * n_c))`` of them, so 1% of 100 series in two
    classes still gives one series per class. Otherwise the subset has
    ``max(n_classes, round(fraction * n_samples))`` series: one random series
    of each class, then random ones of any class. ``round`` rounds halves up
    (10% of 25 series is 3).

    The subset depends only on ``y``, ``fraction``, ``seed`` and
    ``stratified``, never on the features, so two methods (e.g. a probe on
    representations and a supervised model on the raw series) scored with
    the same seed see the same labelled series. For one seed the subsets are
    nested: the series picked at 1% are among those picked at 5%.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of the training split.
    fraction : float in (0, 1]
        Share of the labels to keep.
    seed : int
        Seeds ``numpy.random.default_rng``.
    stratified : bool, default=True
        Keep the class proportions (up to rounding and the one-per-class floor).

    Returns
    -------
    ndarray of int
        Sorted row indices into ``y``.

    Raises
    ------
    TypeError
        If ``fraction`` is not a number or ``seed`` not an integer.
    ValueError
        If ``fraction`` is not in (0, 1] or ``y`` is not 1-D and non-empty.

    Examples
    --------
    >>> y = [0] * 50 + [1] * 50
    >>> subsample_labels(y, 0.01, seed=0)  # one per class, not one in all
    array([18, 79])
    >>> len(subsample_labels(y, 0.1, seed=0))
    10
    """
    check_param(
        fraction, "fraction", owner="subsample_labels", interval=(0, 1), closed="right"
    )
    check_param(seed, "seed", owner="subsample_labels", kind=numbers.Integral)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(
            f"y must be a non-empty 1-D array of labels; got shape {y.shape}."
        )
    classes, codes = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(int(seed))
    if stratified:
        picked = []
        for c in range(len(classes)):
            members = rng.permutation(np.flatnonzero(codes == c))
            picked.append(members[: max(1, _round_half_up(fraction * len(members)))])
        return np.sort(np.concatenate(picked))
    order = rng.permutation(len(y))
    _, first = np.unique(codes[order], return_index=True)  # one per class
    rest = np.delete(order, first)
    n_more = max(len(classes), _round_half_up(fraction * len(y))) - len(classes)
    return np.sort(np.concatenate([order[first], rest[:n_more]]))


def _round_half_up(value: float) -> int:
    """Round to the nearest integer, halves up (2.5 -> 3; Python's round gives 2)."""
    return int(math.floor(value + 0.5))


def label_fraction_study(
    Z_train: Any,
    y_train: Any,
    Z_test: Any,
    y_test: Any,
    *,
    fractions: Sequence[float] = (0.01, 0.05, 0.1, 1.0),
    seeds: Sequence[int] = (0, 1, 2),
    probe: str | Callable[..., dict[str, Any]] = "linear",
    stratified: bool = True,
    encoder: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """Score a probe trained on a fraction of the labels, over fractions and seeds.

    For each fraction and seed, :func:`subsample_labels` picks the labelled
    training series (stratified, at least one per class) and the probe is
    trained on them and scored on the whole test split. The test split never
    changes.

    Parameters
    ----------
    Z_train, Z_test : array-like
        Representations of shape ``(n_samples, n_features)`` for the built-in
        probes; raw series when ``encoder`` is given; whatever a callable
        ``probe`` takes otherwise.
    y_train, y_test : array-like of shape (n_samples,)
        Labels.
    fractions : sequence of float in (0, 1], default=(0.01, 0.05, 0.1, 1.0)
        Shares of the training labels.
    seeds : sequence of int, default=(0, 1, 2)
        One subset (and one probe fit) per seed and fraction.
    probe : str or callable, default="linear"
        A name in :data:`PROBES` (``"linear"``, ``"svm"``, ``"knn"``, ...) for
        that probe with its defaults, or a callable. Each is called as
        ``probe(Z_sub, y_sub, Z_test, y_test, random_state=seed)``, without
        ``random_state`` when it takes none (the kNN probe draws nothing), and
        returns a dict with at least ``accuracy`` and ``macro_f1`` (also
        ``auroc``, ``auprc``, ``fit_time`` when it has them), e.g.
        ``functools.partial(fine_tune, None, n_epochs=20)`` for the supervised
        baseline or ``functools.partial(linear_probe, f1_labels=[...])``.
    stratified : bool, default=True
        Passed to :func:`subsample_labels`.
    encoder : fitted transformer, optional
        When given, ``Z_train`` and ``Z_test`` are raw series, embedded once
        with ``encoder.transform`` (e.g. a fitted ``ContrastiveEncoder``).

    Returns
    -------
    dict
        ``rows``: one dict per fraction and seed with ``fraction``, ``seed``,
        ``n_labelled``, ``accuracy``, ``macro_f1``, ``auroc``, ``auprc`` and
        ``fit_time`` (NaN where the probe returned no such key). ``summary``:
        one dict per fraction with ``fraction``, ``n_runs``, ``n_labelled``
        (mean) and ``<metric>_mean`` and ``<metric>_std`` (population standard
        deviation, ``ddof=0``) of the four metrics over the seeds.

    Raises
    ------
    TypeError
        If ``probe`` is neither a name nor callable, a seed is not an integer,
        or a callable returns no dict with ``accuracy`` and ``macro_f1``.
    ValueError
        If ``probe`` is an unknown name, ``fractions`` or ``seeds`` is empty, a
        fraction is not in (0, 1], or the splits and labels differ in length.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> Z = rng.normal(size=(100, 4)) + 3 * y[:, None]
    >>> study = label_fraction_study(Z[::2], y[::2], Z[1::2], y[1::2],
    ...                              fractions=(0.1, 1.0), seeds=(0, 1))
    >>> [(row["fraction"], row["seed"], row["n_labelled"]) for row in study["rows"]]
    [(0.1, 0, 6), (0.1, 1, 6), (1.0, 0, 50), (1.0, 1, 50)]
    >>> [(s["fraction"], s["n_runs"]) for s in study["summary"]]
    [(0.1, 2), (1.0, 2)]
    >>> study["summary"][1]["accuracy_mean"] > 0.9
    True
    """
    run = _resolve_probe(probe)
    fractions, seeds = _check_grid(fractions, seeds)
    if encoder is not None:
        Z_train, Z_test = encoder.transform(Z_train), encoder.transform(Z_test)
    Z_train, Z_test = np.asarray(Z_train), np.asarray(Z_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    for name, Z, y in (("train", Z_train, y_train), ("test", Z_test, y_test)):
        if len(Z) != len(y):
            raise ValueError(
                f"Z_{name} has {len(Z)} rows but y_{name} has {len(y)} labels."
            )
    rows = []
    for fraction in fractions:
        for seed in seeds:
            rows_kept = subsample_labels(y_train, fraction, seed, stratified=stratified)
            result = run(Z_train[rows_kept], y_train[rows_kept], Z_test, y_test, seed)
            rows.append(_row(result, fraction, seed, len(rows_kept)))
    return {"rows": rows, "summary": _summary(rows, fractions)}


def _resolve_probe(
    probe: str | Callable[..., dict[str, Any]],
) -> Callable[[Any, Any, Any, Any, int], dict[str, Any]]:
    """Return a function ``(Z, y, Z_test, y_test, seed) -> result`` for ``probe``."""
    named = resolve_name(probe, PROBES, "probe", "probe")
    if not callable(named):
        raise TypeError(
            f"probe must be a name in {sorted(PROBES)} or a callable "
            "probe(Z_sub, y_sub, Z_test, y_test, random_state=seed); got "
            f"{type(probe).__name__}."
        )
    function: Callable[..., dict[str, Any]] = named
    if _takes_random_state(function):
        return lambda Z, y, Zt, yt, seed: function(Z, y, Zt, yt, random_state=seed)
    return lambda Z, y, Zt, yt, seed: function(Z, y, Zt, yt)  # nothing to seed


def _takes_random_state(function: Callable[..., Any]) -> bool:
    """Whether ``function`` accepts ``random_state`` (a probe that draws numbers)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature: assume so
        return True
    return "random_state" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _check_grid(
    fractions: Sequence[float], seeds: Sequence[int]
) -> tuple[list[float], list[int]]:
    """Check the fractions and seeds; return them as lists."""
    fractions, seeds = list(fractions), list(seeds)
    for name, values in (("fractions", fractions), ("seeds", seeds)):
        if not values:
            raise ValueError(f"'{name}' of label_fraction_study is empty.")
        if len(set(values)) != len(values):
            raise ValueError(
                f"'{name}' of label_fraction_study repeats a value: {values}. "
                "Each run would be counted twice in the summary."
            )
    for fraction in fractions:
        check_param(
            fraction,
            "fractions",
            owner="label_fraction_study",
            interval=(0, 1),
            closed="right",
        )
    for seed in seeds:
        check_param(seed, "seeds", owner="label_fraction_study", kind=numbers.Integral)
    return fractions, seeds


def _row(result: Any, fraction: float, seed: int, n_labelled: int) -> dict[str, Any]:
    """One row of the study from a probe's result dict."""
    if not isinstance(result, dict) or not {"accuracy", "macro_f1"} <= set(result):
        raise TypeError(
            "The probe must return a dict with at least 'accuracy' and 'macro_f1' "
            f"(like linear_probe); got {type(result).__name__}"
            + (f" with keys {sorted(result)}." if isinstance(result, dict) else ".")
        )
    row: dict[str, Any] = {"fraction": fraction, "seed": seed}
    row["n_labelled"] = n_labelled
    for key in (*METRICS, "fit_time"):
        row[key] = float(result.get(key, float("nan")))
    return row


def _summary(
    rows: list[dict[str, Any]], fractions: list[float]
) -> list[dict[str, Any]]:
    """Mean and standard deviation of each metric per fraction."""
    summary = []
    for fraction in fractions:
        runs = [row for row in rows if row["fraction"] == fraction]
        entry: dict[str, Any] = {"fraction": fraction, "n_runs": len(runs)}
        entry["n_labelled"] = float(np.mean([row["n_labelled"] for row in runs]))
        for key in METRICS:
            values = np.array([row[key] for row in runs])
            entry[f"{key}_mean"] = float(values.mean())
            entry[f"{key}_std"] = float(values.std())
        summary.append(entry)
    return summary
