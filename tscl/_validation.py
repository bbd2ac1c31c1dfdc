"""Input and parameter checks shared by every public entry point.

Messages say what was given, what was expected and, where there is one, the usual
fix.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import mmap
import numbers
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

__all__ = [
    "as_array",
    "as_path",
    "as_signal",
    "as_3d",
    "check_array_values",
    "check_choice",
    "check_group_ids",
    "check_keywords",
    "check_nesting",
    "check_param",
    "check_seed",
    "check_array_input",
    "check_tensor",
    "did_you_mean",
    "import_optional",
    "parse_json",
    "resolve_name",
    "seed_from",
    "short_repr",
    "size_mismatch",
]

#: A 3-D array whose middle axis exceeds its last axis, with a last axis this short
#: or shorter, is taken to be channels-last, e.g. ``(n, 1000, 12)`` for 12 ECG leads.
CHANNELS_LAST_MAX_CHANNELS = 32


def _owner_name(owner: object | None) -> str:
    if owner is None:
        return ""
    name = owner if isinstance(owner, str) else type(owner).__name__
    return f" of {name}"


def check_param(
    value: Any,
    name: str,
    *,
    owner: object | None = None,
    kind: type | tuple[type, ...] = numbers.Real,
    interval: tuple[float | None, float | None] | None = None,
    closed: str = "neither",
) -> None:
    """Raise a clear error unless ``value`` has type ``kind`` and lies in ``interval``.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The parameter's name, quoted in the message.
    owner : object or str, optional
        The object (or its name) the parameter belongs to.
    kind : type or tuple of types, default=numbers.Real
        Accepted types. ``bool`` is never accepted as a number.
    interval : tuple of (float or None, float or None), optional
        Lower and upper bounds; ``None`` leaves that side open.
    closed : {"neither", "left", "right", "both"}, default="neither"
        Which bounds are included.

    Raises
    ------
    TypeError
        If ``value`` is not of type ``kind``.
    ValueError
        If ``value`` is outside ``interval``, or is a number that is NaN or
        infinite (no parameter of tscl means anything at infinity).

    Examples
    --------
    >>> check_param(0.5, "p", interval=(0, 1), closed="both")
    >>> check_param(-1.0, "temperature", owner="NTXent", interval=(0, None))
    Traceback (most recent call last):
    ...
    ValueError: The 'temperature' parameter of NTXent must be a number > 0. Got -1.0.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    numeric = any(k in (numbers.Real, numbers.Integral, int, float) for k in kinds)
    if not isinstance(value, kinds) or (numeric and isinstance(value, bool)):
        expected = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
        raise TypeError(
            f"The '{name}' parameter{_owner_name(owner)} must be of type {expected}. "
            f"Got {short_repr(value)} of type {type(value).__name__}."
        )
    finite = isinstance(value, numbers.Integral) or not (
        isinstance(value, numbers.Real) and not np.isfinite(float(value))
    )
    if finite and numeric and abs(value) > MAX_MAGNITUDE:  # type: ignore[arg-type]
        raise ValueError(
            f"The '{name}' parameter{_owner_name(owner)} must be at most "
            f"{MAX_MAGNITUDE:g} in magnitude; got {short_repr(value)}. No parameter "
            "of tscl means anything larger (check the unit)."
        )
    if interval is None and finite:
        return
    low, high = interval if interval is not None else (None, None)
    # an int compares exactly (float(10**400) would overflow)
    number: float = int(value) if isinstance(value, numbers.Integral) else float(value)  # type: ignore[arg-type]
    low_ok = low is None or (
        number >= low if closed in ("left", "both") else number > low
    )
    high_ok = high is None or (
        number <= high if closed in ("right", "both") else number < high
    )
    if low_ok and high_ok and finite:
        return
    parts = []
    if low is not None:
        parts.append(f"{'>=' if closed in ('left', 'both') else '>'} {low}")
    if high is not None:
        parts.append(f"{'<=' if closed in ('right', 'both') else '<'} {high}")
    word = (
        "an integer" if kinds == (numbers.Integral,) or kinds == (int,) else "a number"
    )
    if not finite:
        word = "a finite number"
    bounds = f" {' and '.join(parts)}" if parts else ""
    raise ValueError(
        f"The '{name}' parameter{_owner_name(owner)} must be {word}{bounds}. "
        f"Got {short_repr(value)}."
    )


#: The largest magnitude of any numeric parameter (rates in Hz, seconds,
#: temperatures, counts): beyond it a value is a mistake, and torch overflows.
MAX_MAGNITUDE = 1e15

#: The bound of sizes with no bound of their own (widths, projection sizes, k):
#: larger ones would take minutes or all memory to build.
MAX_SIZE = 65536


def check_count(
    value: Any,
    name: str,
    *,
    owner: object | None = None,
    minimum: int = 1,
    maximum: int | None = None,
) -> None:
    """Raise a clear error unless ``value`` is an integer >= ``minimum``.

    The check of every size, count and index parameter (``depth``,
    ``queue_size``, ``n_views``, ``epoch``); see :func:`check_param`.
    ``maximum`` (included) bounds sizes whose cost grows with them, so that an
    absurd value is refused before memory or time is spent on it.

    Examples
    --------
    >>> check_count(3, "depth")
    >>> check_count(0, "depth", owner="CNN")
    Traceback (most recent call last):
    ...
    ValueError: The 'depth' parameter of CNN must be an integer >= 1. Got 0.
    """
    check_param(
        value,
        name,
        owner=owner,
        kind=numbers.Integral,
        interval=(minimum, maximum),
        closed="left" if maximum is None else "both",
    )


def seed_from(random_state: Any, *, owner: object | None = None) -> int:
    """Return a seed in ``[0, 2**31 - 1)`` drawn from ``random_state``.

    ``random_state`` is what scikit-learn takes: None, an integer in
    ``[0, 2**32)`` or a ``numpy.random.RandomState``; anything else is refused
    by the parameter's name instead of by numpy.

    Examples
    --------
    >>> seed_from(0)
    209652396
    >>> seed_from(-1, owner="CNN")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The 'random_state' parameter of CNN must be None, an integer ...
    """
    from sklearn.utils import check_random_state

    check_seed(random_state, owner=owner)
    # None draws from numpy's global generator, as in scikit-learn
    return int(check_random_state(random_state).randint(2**31 - 1))


def check_seed(random_state: Any, *, owner: object | None = None) -> None:
    """Refuse a ``random_state`` that scikit-learn and numpy cannot use, by name.

    Examples
    --------
    >>> check_seed(2**40, owner="record_split")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The 'random_state' parameter of record_split must be None, an ...
    """
    value = random_state
    if (
        value is None
        or isinstance(value, np.random.RandomState)
        or (
            isinstance(value, numbers.Integral)
            and not isinstance(value, bool)
            and 0 <= int(value) < 2**32
        )
    ):
        return
    raise ValueError(
        f"The 'random_state' parameter{_owner_name(owner)} must be None, an "
        f"integer from 0 to 2**32 - 1 or a numpy RandomState; got {short_repr(value)}."
    )


def short_repr(value: Any, limit: int = 160) -> str:
    """``repr(value)``, cut to ``limit`` characters for a message.

    Examples
    --------
    >>> short_repr(list(range(100)), limit=20)
    '[0, 1, 2, 3, 4, 5...'
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: How deep JSON specs, configurations and parameter dicts may nest (a
#: composition of compositions is 3 levels per augmentation).
MAX_NESTING = 100


def check_nesting(value: Any, what: str, limit: int = MAX_NESTING) -> None:
    """Refuse dicts, lists and tuples nested more than ``limit`` levels deep.

    Every reader of nested values (specs, configurations, parameter dicts)
    checks this first, so that a hostile or broken file is refused by name
    instead of ending in Python's ``RecursionError``. The walk is iterative.

    Examples
    --------
    >>> check_nesting({"a": [1, {"b": 2}]}, "spec")
    >>> deep = []
    >>> for _ in range(200):
    ...     deep = [deep]
    >>> check_nesting(deep, "the spec")
    Traceback (most recent call last):
    ...
    ValueError: the spec is nested more than 100 levels deep; tscl reads at most 100.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if level >= limit:
            raise ValueError(
                f"{what} is nested more than {limit} levels deep; tscl reads at "
                f"most {limit}."
            )
        stack.extend((child, level + 1) for child in children)


def parse_json(text: str | bytes, what: str) -> Any:
    """``json.loads(text)`` with every failure a ValueError naming ``what``.

    Malformed JSON, text that is not UTF-8 and nesting deeper than
    :data:`MAX_NESTING` are refused by name (never a ``RecursionError``).

    Examples
    --------
    >>> parse_json('{"a": 1}', "the spec")
    {'a': 1}
    >>> parse_json("[" * 5000, "config.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: config.json is nested more than 100 levels deep; ...
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(
            f"{what} is nested more than {MAX_NESTING} levels deep; tscl reads at "
            f"most {MAX_NESTING}."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} is not valid JSON ({err}).") from None
    check_nesting(value, what)
    return value


def check_choice(
    value: Any,
    name: str,
    choices: Collection[Any],
    *,
    owner: object | None = None,
    hint: str = "",
) -> None:
    """Raise a clear ``ValueError`` unless ``value`` is one of ``choices``.

    The check of every string option (``precision``, ``miner``, ``missing``,
    ...); see :func:`check_param` for numbers.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The parameter's name, quoted in the message.
    choices : collection
        The accepted values, listed in the message in their own order.
    owner : object or str, optional
        The object (or its name) the parameter belongs to.
    hint : str, default=""
        A sentence appended to the message, e.g. when to use which choice.

    Raises
    ------
    ValueError
        If ``value`` is not in ``choices`` (unhashable values included).

    Examples
    --------
    >>> check_choice("bf16", "precision", ("fp32", "bf16", "fp16"))
    >>> check_choice("bf17", "precision", ("fp32", "bf16"), owner="train")
    Traceback (most recent call last):
    ...
    ValueError: The 'precision' parameter of train must be one of ['fp32', 'bf16']; \
got 'bf17'.
    """
    try:
        found = value in choices and not isinstance(value, bool)
    except TypeError:  # unhashable, e.g. a list for a set of choices
        found = False
    if found:
        return
    message = (
        f"The '{name}' parameter{_owner_name(owner)} must be one of "
        f"{list(choices)}; got {short_repr(value)}."
    )
    raise ValueError(f"{message} {hint}" if hint else message)


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it.

    The one place where tscl imports wfdb, tsaug or matplotlib, so that every
    missing extra gives the same message and the same install command.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"wfdb"`` or ``"matplotlib.pyplot"``.
    extra : str
        The extra of tscl that installs it: ``"ecg"``, ``"tsaug"`` or ``"plot"``.
    purpose : str
        What needs it, for the message, e.g. ``"Reading WFDB records"``.

    Returns
    -------
    module

    Raises
    ------
    ImportError
        If the module cannot be imported; the message names the package and
        ``pip install 'tscl[extra]'``.

    Examples
    --------
    >>> import_optional("json", "plot", "Nothing").__name__
    'json'
    >>> import_optional("no_such_module", "ecg", "Reading WFDB records")
    Traceback (most recent call last):
    ...
    ImportError: Reading WFDB records needs no_such_module: pip install 'tscl[ecg]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs {package}: pip install 'tscl[{extra}]'"
        ) from err


def resolve_name(
    value: Any, registry: Mapping[str, Any], what: str, parameter: str
) -> Any:
    """Look a lowercase name up in a registry, or pass a non-string through.

    Parameters
    ----------
    value : str or object
        A registry name, or a class or instance that is returned unchanged.
    registry : mapping of str to object
        Valid names and what they stand for.
    what : str
        What the registry holds, for the message ("method", "encoder").
    parameter : str
        The parameter that took ``value``.

    Returns
    -------
    object
        ``registry[value]`` for a name, else ``value``.

    Raises
    ------
    ValueError
        If ``value`` is a string that is not a registry name; the message lists
        the valid names.

    Examples
    --------
    >>> resolve_name("a", {"a": 1, "b": 2}, "letter", "letter")
    1
    >>> resolve_name("c", {"a": 1, "b": 2}, "letter", "letter")
    Traceback (most recent call last):
    ...
    ValueError: Unknown letter 'c' for parameter 'letter'. Valid names: 'a', 'b'.
    """
    if not isinstance(value, str):
        return value
    key = value.lower()
    if key not in registry:
        valid = ", ".join(repr(k) for k in sorted(registry))
        raise ValueError(
            f"Unknown {what} {short_repr(value)} for parameter '{parameter}'."
            f"{did_you_mean(key, registry)} Valid names: {valid}."
        )
    return registry[key]


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest valid name, or an empty string.

    Examples
    --------
    >>> did_you_mean("jiter", ["jitter", "scaling"])
    " Did you mean 'jitter'?"
    """
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" Did you mean {short_repr(close[0])}?" if close else ""


def check_keywords(cls: Any, params: Any, option: str, *, skip: int = 0) -> None:
    """Refuse keywords that ``cls`` does not take, naming those it does.

    Parameters
    ----------
    cls : type
        The class the keywords are for.
    params : mapping
        The keywords, e.g. ``encoder_params``.
    option : str
        Where they were given, for the message (``"encoder_params"``).
    skip : int, default=0
        Leading parameters of ``cls`` that tscl passes itself (``in_channels``).

    Raises
    ------
    TypeError
        If ``params`` is not a mapping of names, or holds a name ``cls`` does
        not take; the message lists its parameters and the closest one.

    Examples
    --------
    >>> class Jitter:
    ...     def __init__(self, sigma=0.03, p=1.0): ...
    >>> check_keywords(Jitter, {"sigmaa": 0.1}, "jitter(...)")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Jitter takes no parameter 'sigmaa' (in jitter(...)). Did you mean ...
    """
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{option} must be a dict of parameters; got {short_repr(params)}."
        )
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # a builtin without a signature: let it check
        return
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = list(signature.parameters.values())[skip:]
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    names = [p.name for p in parameters if p.kind in kinds]
    for key in params:
        if not isinstance(key, str) or key not in names:
            hint = did_you_mean(key, names) if isinstance(key, str) else ""
            raise TypeError(
                f"{cls.__name__} takes no parameter {short_repr(key)} (in {option})."
                f"{hint} Its parameters: {', '.join(names) or 'none'}."
            )


def size_mismatch(estimator: Any, X: Any) -> str:
    """Say why ``X`` does not fit ``estimator``'s ``n_features_in_``, and the fix.

    scikit-learn's "X has 3 features" names neither channels nor timesteps:
    for a 3-D fit the features are the channels (leads), for a 2-D fit they
    are the timesteps.
    """
    name = type(estimator).__name__
    shape = tuple(np.shape(X))
    fitted = estimator.n_features_in_
    prefix = (  # scikit-learn's words, which tools match
        f"X has {shape[1] if len(shape) > 1 else shape} features, but {name} is "
        f"expecting {fitted} features as input"
    )
    if len(shape) == 3:
        return (
            f"{prefix}. For 3-D input these are the channels (leads): X has "
            f"shape {shape}, the fit had {fitted} channels. Pass the same "
            "channels, in the same order, as in fit."
        )
    return (
        f"{prefix}. For 2-D input these are the timesteps: X has shape {shape}, "
        f"the fit had series of {fitted}. Pass series of {fitted} timesteps, or "
        "fit on 3-D input (n_samples, n_channels, n_timesteps), which takes "
        "series of any length."
    )


def check_group_ids(groups: Any, name: str = "groups") -> np.ndarray:
    """Return record or patient ids as a 1-D array; refuse missing ones.

    A NaN, None or NaT id is refused with the count and the first position:
    pooled into one group, unrelated recordings would be taken for one.

    Examples
    --------
    >>> check_group_ids(["a", "a", "b"])
    array(['a', 'a', 'b'], dtype='<U1')
    >>> check_group_ids([1.0, float("nan")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: groups has 1 missing id(s) (NaN or None), the first at position 1; ...
    """
    ids = as_array(groups, name, "groups")
    if ids.dtype.kind == "c":
        raise TypeError(
            f"{name} must hold record or patient ids (integers or strings); got "
            f"dtype {ids.dtype}."
        )
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array, one record or patient id per "
            f"series; got shape {ids.shape}."
        )
    missing = _missing_ids(ids)
    if missing.any():
        where = np.flatnonzero(missing)
        raise ValueError(
            f"{name} has {len(where)} missing id(s) (NaN or None), the first at "
            f"position {where[0]}; every series needs the id of its record or "
            "patient, or they would all become positives of each other. Give "
            "each series with an unknown record an id of its own (e.g. its "
            "position), or drop those series."
        )
    try:
        np.unique(ids)
    except TypeError:
        raise ValueError(
            f"{name} mixes id types that cannot be compared; use one type (e.g. str)."
        ) from None
    return ids


def _missing_ids(ids: np.ndarray) -> np.ndarray:
    """Mask of the ids that are missing: NaN, NaT or None (any dtype)."""
    if ids.dtype.kind in "fc":
        return np.isnan(ids)
    if ids.dtype.kind in "mM":
        return np.isnat(ids)
    if ids.dtype.kind != "O":
        return np.zeros(ids.shape, dtype=bool)
    return np.array(
        [v is None or (isinstance(v, float) and v != v) for v in ids], dtype=bool
    )


def as_path(path: Any, name: str, owner: str, example: str = "'data/file'") -> Path:
    """Return ``Path(path)``, refusing what is not a path by the parameter's name.

    Examples
    --------
    >>> as_path("datasets/mitdb/100", "record", "load_wfdb_windows")
    PosixPath('datasets/mitdb/100')
    >>> as_path([], "record", "load_wfdb_windows")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: The 'record' of load_wfdb_windows must be a str or os.PathLike ...
    """
    if not isinstance(path, (str, os.PathLike)) or path == "":
        raise TypeError(
            f"The '{name}' of {owner} must be a str or os.PathLike such as "
            f"{example}; got {type(path).__name__} ({short_repr(path)})."
        )
    return Path(path)


def as_array(x: Any, name: str, owner: str) -> np.ndarray:
    """``np.asarray(x)``, with ragged nested lists refused by name.

    Examples
    --------
    >>> as_array([[1, 2], [3]], "X", "fill_missing")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: fill_missing cannot read X as an array: ...
    """
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged lists
        raise ValueError(
            f"{owner} cannot read {name} as an array: {short_repr(x)} ({err})."
        ) from None


def as_signal(x: Any, owner: str, *, axis: int = -1, name: str = "x") -> np.ndarray:
    """Return ``x`` as a real-valued array with samples along ``axis``.

    Refuses, by name, what the signal functions (:func:`tscl.datasets.resample`,
    :func:`~tscl.datasets.bandpass`, ...) cannot use: None, text, complex or
    object values, a 0-d value, an ``axis`` out of range, no samples.

    Examples
    --------
    >>> as_signal([1.0, 2.0], "resample").dtype
    dtype('float64')
    >>> as_signal(None, "resample")
    Traceback (most recent call last):
    ...
    TypeError: resample needs x as an array of real numbers; got NoneType (None).
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{owner} needs axis as an integer; got {short_repr(axis)}.")
    if x is None or isinstance(x, (str, bytes, dict)):
        raise TypeError(
            f"{owner} needs {name} as an array of real numbers; got "
            f"{type(x).__name__} ({short_repr(x)})."
        )
    array = as_array(x, name, owner)
    if array.dtype.kind not in "iuf":  # bool, complex, text and objects are refused
        raise TypeError(
            f"{owner} needs {name} as an array of real numbers; got dtype "
            f"{array.dtype}."
        )
    if array.ndim == 0 or not -array.ndim <= axis < array.ndim:
        raise ValueError(
            f"{owner} needs samples along axis={axis}; {name} has shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{owner} got no samples: {name} has shape {array.shape}.")
    return array


def check_array_input(X: Any, name: str = "X") -> None:
    """Refuse empty, text, bytes and complex arrays before scikit-learn does.

    scikit-learn's messages print the whole array and name no shape.

    Examples
    --------
    >>> check_array_input(np.zeros((3, 0)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Found array with 0 feature(s) (shape=(3, 0)) while a minimum of 1 ...
    """
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "c":  # scikit-learn's words
        raise ValueError(
            f"Complex data not supported: {name} has dtype {dtype}. Pass real "
            "values, e.g. X.real or np.abs(X)."
        )
    if isinstance(dtype, np.dtype) and dtype.kind in "USV":
        raise TypeError(
            f"{name} must hold real numbers; got dtype {dtype}. Convert it first, "
            "e.g. X.astype(np.float32)."
        )
    shape = getattr(X, "shape", None)
    if isinstance(shape, tuple) and 0 in shape:
        what = "sample(s)" if shape[0] == 0 else "feature(s)"
        raise ValueError(  # begins with scikit-learn's words, which tools match
            f"Found array with 0 {what} (shape={shape}) while a minimum of 1 is "
            f"required: {name} is empty. Pass series of shape (n_samples, "
            "n_timesteps) or (n_samples, n_channels, n_timesteps)."
        )


def check_array_values(X: np.ndarray, name: str = "X") -> None:
    """Reject empty, non-numeric, NaN and infinite arrays with a clear message.

    Parameters
    ----------
    X : ndarray
        The array to check.
    name : str, default="X"
        The argument's name in the message.

    Raises
    ------
    TypeError
        If the dtype is not numeric (object, string, complex).
    ValueError
        If the array is empty or holds NaN or infinity.

    Examples
    --------
    >>> check_array_values(np.zeros((2, 3)))
    >>> check_array_values(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    ValueError: X contains 1 NaN value(s) (first at index (0, 1)). ...
    """
    if X.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers; got dtype {X.dtype}. Convert it first, "
            f"e.g. np.asarray({name}, dtype=np.float32)."
        )
    if X.size == 0:
        raise ValueError(
            f"{name} is empty (shape {X.shape}); it needs at least one "
            "sample with at least one timestep."
        )
    if X.dtype.kind != "f":
        return
    rows = X.reshape(1) if X.ndim == 0 else X
    for check, label in ((np.isnan, "NaN"), (np.isinf, "infinite")):
        count, first, offset = 0, None, 0
        for block in chunks(rows):
            bad = check(block)
            found = int(bad.sum())
            if found and first is None:
                first = tuple(int(i) for i in np.argwhere(bad)[0])
                first = (first[0] + offset, *first[1:])
            count, offset = count + found, offset + len(block)
        if count:
            raise ValueError(
                f"{name} contains {count} {label} value(s) (first at index "
                f"{first}). tscl does not impute: fill or drop them first, e.g. "
                "interpolate gaps or drop the affected samples"
                + (
                    " (tscl.datasets.fill_missing; ContrastiveEncoder(missing="
                    "'pad' or 'resample') fills NaN itself)."
                    if label == "NaN"
                    else "."
                )
            )


#: Values per block when large arrays (and memory maps) are checked or reduced.
CHUNK_ELEMENTS = 1 << 24


def is_memmap(X: Any) -> bool:
    """Whether ``X`` reads its values from a memory-mapped file.

    True for a :class:`numpy.memmap` and for the arrays and views made from one
    (``np.asarray`` and scikit-learn's checks return plain ``ndarray`` views).

    Examples
    --------
    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/x.npy"
    >>> np.save(path, np.zeros((2, 3)))
    >>> is_memmap(np.asarray(np.load(path, mmap_mode="r"))), is_memmap(np.zeros(2))
    (True, False)
    """
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def chunks(X: np.ndarray) -> Iterator[np.ndarray]:
    """Yield ``X`` in blocks along axis 0 of about :data:`CHUNK_ELEMENTS` values.

    A memory-mapped ``X`` is read one block at a time, so checks and
    statistics over it never hold it whole in memory.

    Parameters
    ----------
    X : ndarray
        At least 1-D.

    Yields
    ------
    ndarray
        Consecutive blocks ``X[i:j]`` (in-memory arrays; a single block when
        ``X`` is small).

    Examples
    --------
    >>> [block.shape for block in chunks(np.zeros((3, 2)))]
    [(3, 2)]
    """
    row = max(1, X.size // max(len(X), 1))
    step = max(1, CHUNK_ELEMENTS // row)
    for start in range(0, len(X), step):
        yield np.asarray(X[start : start + step])


def as_3d(X: Any, name: str = "X") -> np.ndarray:
    """Return ``X`` as a float array of shape ``(n_samples, n_channels, n_timesteps)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_channels, n_timesteps)
        Univariate or multichannel series.
    name : str, default="X"
        The argument's name in messages.

    Returns
    -------
    ndarray of shape (n_samples, n_channels, n_timesteps)
        A view when possible; float32 unless ``X`` is float64.

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` has the wrong rank, is empty, holds NaN or inf, or looks
        channels-last.

    Examples
    --------
    >>> as_3d(np.zeros((4, 100))).shape
    (4, 1, 100)
    >>> as_3d(np.zeros((4, 500, 12)))
    Traceback (most recent call last):
    ...
    ValueError: X must have shape (n_samples, n_timesteps) or ...
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(
            f"{name} must be an array of shape (n_samples, n_timesteps) or "
            f"(n_samples, n_channels, n_timesteps); got {type(X).__name__}."
        )
    try:
        X = np.asarray(X)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"{name} could not be turned into a rectangular array ({err}). Series of "
            "different lengths must be cut or resampled to one length first."
        ) from None
    check_array_values(X, name)
    if X.ndim == 2:
        X = X[:, None, :]
    elif X.ndim != 3:
        raise ValueError(
            f"{name} must have shape (n_samples, n_timesteps) or (n_samples, "
            f"n_channels, n_timesteps); got {X.ndim}-D shape {X.shape}."
            + (" For a single series, pass X[None, :]." if X.ndim == 1 else "")
        )
    _, n_channels, n_timesteps = X.shape
    if n_channels > n_timesteps and n_timesteps <= CHANNELS_LAST_MAX_CHANNELS:
        raise ValueError(
            f"{name} must have shape (n_samples, n_timesteps) or (n_samples, "
            f"n_channels, n_timesteps); got {X.shape}, which looks channels-last "
            f"({n_channels} timesteps of {n_timesteps} channels). If channels are "
            f"last, pass {name}.transpose(0, 2, 1)."
        )
    if X.dtype != np.float64:
        X = X.astype(np.float32, copy=False)
    return X


def check_tensor(x: Any, owner: object | None = None) -> torch.Tensor:
    """Check that ``x`` is a floating tensor of shape ``(batch, channels, time)``.

    Parameters
    ----------
    x : Tensor of shape (batch, channels, time)
        The batch to check.
    owner : object, optional
        Who is asking, for the message.

    Returns
    -------
    Tensor
        ``x`` itself.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point tensor.
    ValueError
        If ``x`` is not 3-D or is empty.

    Examples
    --------
    >>> check_tensor(torch.zeros(2, 1, 8)).shape
    torch.Size([2, 1, 8])
    """
    where = _owner_name(owner).replace(" of ", " for ") if owner is not None else ""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"Expected a torch.Tensor of shape (batch, channels, time){where}; got "
            f"{type(x).__name__}. Convert with torch.as_tensor(x, dtype=torch.float32)."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"Expected a floating-point tensor{where}; got dtype {x.dtype}. "
            "Use x.float()."
        )
    if x.ndim != 3:
        raise ValueError(
            f"Expected a tensor of shape (batch, channels, time){where}; got "
            f"{tuple(x.shape)}. For a (batch, time) batch use x.unsqueeze(1)."
        )
    if x.numel() == 0:
        raise ValueError(f"Expected a non-empty tensor{where}; got {tuple(x.shape)}.")
    return x


def flatten_names(names: Iterable[str]) -> str:
    """Join names as ``'a', 'b'`` for messages."""
    return ", ".join(repr(n) for n in names)
