"""Missing values and variable lengths: one explicit policy for every loader.

The UCR and UEA archives mark two different things with NaN: the padding of
variable-length series (after a series' last observed step, as in PLAID and
JapaneseVowels) and gaps inside a series (as in DodgerLoopDay). The loaders
take ``missing="keep" | "pad" | "resample"``; :func:`fill_missing` applies the
same policy to any array.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from tscl._validation import as_array, check_choice, short_repr

__all__ = ["MISSING_POLICIES", "fill_missing"]

#: The values of the ``missing`` parameter of the loaders (``policy`` here).
MISSING_POLICIES = ("keep", "pad", "resample")


def check_policy(value: object, name: str, owner: str) -> str:
    """Return ``value`` if it is one of :data:`MISSING_POLICIES`, else raise."""
    if not isinstance(value, str):
        raise TypeError(
            f"The '{name}' parameter of {owner} must be a str, one of 'keep', 'pad', "
            f"'resample'. Got {short_repr(value)} of type {type(value).__name__}."
        )
    check_choice(value, name, MISSING_POLICIES, owner=owner)
    return value


def check_flag(value: object, name: str, owner: str) -> bool:
    """Return ``value`` if it is a bool, else raise a TypeError."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"The '{name}' parameter of {owner} must be True or False. Got "
            f"{short_repr(value)} "
            f"of type {type(value).__name__}."
        )
    return bool(value)


def _fill_case(x: np.ndarray, policy: str, where: str) -> None:
    """Fill one case ``x`` of shape (n_channels, n_timesteps) in place."""
    observed = ~np.isnan(x)  # (C, T)
    steps = np.flatnonzero(observed.any(axis=0))
    if steps.size == 0:
        raise ValueError(
            f"{where[:1].upper()}{where[1:]} has no observed value (every value is "
            f"NaN), so the {short_repr(policy)} policy cannot fill it. Drop that "
            "series (and "
            "its label) before filling, or load with missing='keep'."
        )
    length = int(steps[-1]) + 1  # the case ends at its last observed step
    grid = np.arange(length)
    for channel, row in enumerate(x):
        known = np.flatnonzero(observed[channel, :length])
        if known.size == 0:
            raise ValueError(
                f"Channel {channel} of {where} has no observed value while other "
                f"channels do, so the {short_repr(policy)} policy cannot fill it. Drop "
                "that "
                "case or fill the channel yourself (e.g. with zeros)."
            )
        if known.size < length:  # interior gaps linear, edges nearest (np.interp)
            row[:length] = np.interp(grid, known, row[known])
    if length == x.shape[1]:
        return
    if policy == "pad":
        x[:, length:] = 0.0
    else:  # "resample": stretch steps 0 .. length-1 over the full width
        target = np.linspace(0.0, length - 1.0, x.shape[1])
        for row in x:
            row[:] = np.interp(target, grid, row[:length])


@overload
def fill_missing(
    X: np.ndarray,
    policy: str,
    *,
    return_mask: Literal[False] = ...,
    source: str = ...,
) -> np.ndarray: ...
@overload
def fill_missing(
    X: np.ndarray, policy: str, *, return_mask: Literal[True], source: str = ...
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def fill_missing(
    X: np.ndarray, policy: str, *, return_mask: bool, source: str = ...
) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...
def fill_missing(
    X: np.ndarray,
    policy: str,
    *,
    return_mask: bool = False,
    source: str = "X",
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Fill the NaN of a batch of series by an explicit missing-value policy.

    A series (a row of a 2-D ``X``, a case of a 3-D ``X``) *ends* at its last
    observed step: for a case, the last step at which any channel is observed.
    NaN after that end are *padding* (how the UCR and UEA archives store
    variable-length series); NaN before it are *gaps*.

    ==============  ===========================  ================  ==========
    policy          gaps (and leading NaN)       trailing padding  mask
    ==============  ===========================  ================  ==========
    ``"keep"``      NaN                          NaN               observed
    ``"pad"``       linear interpolation (a)     0                 observed
    ``"resample"``  linear interpolation (a)     none: stretched   all True
    ==============  ===========================  ================  ==========

    (a) Between two observed values a gap is interpolated linearly; NaN before a
    channel's first observed value (and, in a case, after a channel's last observed
    value but before the case's end) take the nearest observed value.
    With ``"resample"`` each series, steps ``0`` to its end, is then linearly
    resampled to the full width ``n_timesteps`` (uniform scaling, a common way to
    equalise the lengths of variable-length datasets). Leading NaN are treated as
    gaps, not padding, so a series is never shifted in time (the archives pad at
    the end only).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps) or (n_samples, n_channels, \
n_timesteps)
        Real numbers with NaN where a value is missing.
    policy : {"keep", "pad", "resample"}
        The policy in the table above.
    return_mask : bool, default=False
        Also return the mask: True where ``X`` held an observed (non-NaN) value
        before any filling, so interpolated gaps and padding are False. With
        ``"resample"`` the old positions no longer exist and the mask is all True.
        ``mask.sum(axis=-1)`` is the number of observed steps per series (per
        channel) for ``"keep"`` and ``"pad"``. The masks of the files read by
        :func:`~tscl.datasets.load_ucr` and :func:`~tscl.datasets.load_uea`:
        load with ``missing="keep"``, then call this with ``return_mask=True``.
    source : str, default="X"
        What ``X`` is, e.g. a file name; error messages name it.

    Returns
    -------
    X_filled : ndarray of the same shape
        A new array; float32 and float64 input keep their dtype, other input
        becomes float64. No NaN remains unless ``policy="keep"``. Row order is
        unchanged.
    mask : ndarray of bool of the same shape
        Only with ``return_mask=True``.

    Raises
    ------
    TypeError
        If ``policy`` is not a string, ``return_mask`` not a bool or ``X`` not
        numeric.
    ValueError
        If ``policy`` is unknown, ``X`` is not 2-D or 3-D or holds an infinite
        value, or (for ``"pad"`` and ``"resample"``) a series, or one channel of a
        case, holds no observed value at all; the message names the row.

    Examples
    --------
    >>> X = np.array([[0.0, np.nan, 3.0, np.nan], [np.nan, 2.0, np.nan, np.nan]])
    >>> fill_missing(X, "pad")
    array([[0. , 1.5, 3. , 0. ],
           [2. , 2. , 0. , 0. ]])
    >>> X_filled, mask = fill_missing(X, "resample", return_mask=True)
    >>> X_filled
    array([[0., 1., 2., 3.],
           [2., 2., 2., 2.]])
    >>> fill_missing(X, "keep", return_mask=True)[1].sum(axis=1)
    array([2, 1])
    """
    check_policy(policy, "policy", "fill_missing")
    return_mask = check_flag(return_mask, "return_mask", "fill_missing")
    X = as_array(X, source, "fill_missing")
    if not (np.issubdtype(X.dtype, np.number) and not np.iscomplexobj(X)):
        raise TypeError(
            f"{source} must hold real numbers (NaN for missing values); got dtype "
            f"{X.dtype}."
        )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{source} must have shape (n_samples, n_timesteps) or (n_samples, "
            f"n_channels, n_timesteps); got {X.shape}."
        )
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    observed = ~np.isnan(X)
    if policy == "keep":
        filled = X.astype(dtype, copy=True)
        return (filled, observed) if return_mask else filled
    if np.isinf(X).any():
        row = int(np.argwhere(np.isinf(X))[0, 0])
        raise ValueError(
            f"{source} holds an infinite value (first in row {row}); fill_missing "
            "fills NaN only. Replace inf by NaN first to treat it as missing."
        )
    n_channels = 1 if X.ndim == 2 else X.shape[1]
    cases = np.array(X, dtype=np.float64).reshape(len(X), n_channels, X.shape[-1])
    word = "row" if X.ndim == 2 else "case"
    for i in np.flatnonzero(~observed.reshape(len(cases), -1).all(axis=1)):
        _fill_case(cases[i], policy, f"{word} {i} of {source}")
    filled = cases.reshape(X.shape).astype(dtype)
    if not return_mask:
        return filled
    return filled, observed if policy == "pad" else np.ones(X.shape, dtype=bool)
