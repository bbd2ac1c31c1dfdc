"""Input and parameter checks shared by every public entry point.

Messages say what was given, what was expected and, where there is one, the usual
fix.
"""

from __future__ import annotations

import importlib
import mmap
import numbers
from collections.abc import Collection, Iterable, Iterator, Mapping
from types import ModuleType
from typing import Any

import numpy as np
import torch

__all__ = [
    "as_3d",
    "check_array_values",
    "check_choice",
    "check_param",
    "check_tensor",
    "import_optional",
    "resolve_name",
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
            f"Got {value!r} of type {type(value).__name__}."
        )
    finite = not (isinstance(value, numbers.Real) and not np.isfinite(float(value)))
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
        f"Got {value!r}."
    )


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
        f"{list(choices)}; got {value!r}."
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
            f"Unknown {what} {value!r} for parameter '{parameter}'. "
            f"Valid names: {valid}."
        )
    return registry[key]


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
                "interpolate gaps or drop the affected samples."
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
