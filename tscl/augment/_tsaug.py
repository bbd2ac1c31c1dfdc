"""Adapter that runs tsaug augmenters and pipelines as tscl augmentations.

tsaug [1]_ is optional (``pip install 'tscl[tsaug]'``): it is imported only when a
:class:`Tsaug` is checked or called, never when tscl is imported.

tsaug facts this adapter relies on (tsaug 0.2.1, ``tsaug/_augmenter/base.py``):

- every augmenter subclasses ``_Augmenter`` and stores ``repeats`` (set by ``* k``),
  ``prob`` (set by ``@ q``) and ``seed``; each call builds
  ``np.random.RandomState(seed)`` afresh, so a fixed integer seed gives the same
  output on every call, and ``None`` draws from the operating system;
- ``a + b`` builds an ``_AugmenterPipe`` that holds copies of its members and
  iterates over them; ``augment`` chains them;
- ``augment`` takes channels-last arrays ``(N, T, C)``; with ``repeats=k`` it
  returns ``N * k`` series, the ``k`` independent copies of a series next to
  each other (``np.repeat(X, k, axis=0)``), each copy drawing its own ``prob``;
- only ``Crop`` and ``Resize`` change the series length, and they refuse
  ``prob < 1`` on more than one series.

References
----------
.. [1] Wen and Keyes, tsaug, https://github.com/arundo/tsaug
"""

from __future__ import annotations

import copy
import inspect
import numbers
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tscl._validation import check_param, import_optional, short_repr
from tscl.augment._core import Augmentation

__all__ = ["Tsaug", "as_augmentation"]

_EXAMPLE = "Tsaug(tsaug.AddNoise(scale=0.01))"
_SEED_HIGH = 2**32  # np.random.RandomState accepts seeds in [0, 2**32)


# ------------------------------------------------------------------- helpers


def _is_tsaug(obj: Any) -> bool:
    """Whether ``obj`` is a tsaug augmenter or pipeline (without importing tsaug)."""
    if sys.modules.get("tsaug") is None:  # a tsaug object implies tsaug is loaded
        return False
    from tsaug._augmenter import base

    return isinstance(obj, (base._Augmenter, base._AugmenterPipe))


def _leaves(augmenter: Any) -> list[Any]:
    """List the single augmenters of ``augmenter``, in the order they run."""
    if sys.modules.get("tsaug") is None:
        return []
    from tsaug._augmenter import base

    if isinstance(augmenter, base._Augmenter):
        return [augmenter]
    if isinstance(augmenter, base._AugmenterPipe):
        return [leaf for member in augmenter for leaf in _leaves(member)]
    return []


def _changes_length(leaf: Any) -> bool:
    """Whether a tsaug augmenter changes the length (tsaug's Crop and Resize)."""
    tsaug = sys.modules.get("tsaug")
    return tsaug is not None and isinstance(leaf, (tsaug.Crop, tsaug.Resize))


def _is_crop(leaf: Any) -> bool:
    tsaug = sys.modules.get("tsaug")
    return tsaug is not None and isinstance(leaf, tsaug.Crop)


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except Exception:  # e.g. arrays
        return True


def _describe(augmenter: Any) -> str:
    """Readable constructor form of a tsaug object, non-default arguments only."""
    if not _is_tsaug(augmenter):
        return repr(augmenter)
    leaves = _leaves(augmenter)
    if len(leaves) != 1 or leaves[0] is not augmenter:
        return " + ".join(_describe(leaf) for leaf in leaves)
    args = []
    for name, param in inspect.signature(type(augmenter).__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = getattr(augmenter, name, param.default)
        if param.default is param.empty or _differs(value, param.default):
            args.append(f"{name}={short_repr(value)}")
    return f"{type(augmenter).__name__}({', '.join(args)})"


def _crop_sizes(size: Any) -> list[int]:
    """List the crop lengths a tsaug ``Crop(size=...)`` may draw."""
    if isinstance(size, numbers.Integral):
        return [int(size)]
    if isinstance(size, tuple):
        return list(range(size[0], size[1]))  # tsaug samples from range(low, high)
    return [int(s) for s in size]


# ---------------------------------------------------------------------- class


class Tsaug(Augmentation):
    """Run a tsaug augmenter or pipeline as a tscl augmentation.

    The batch goes to NumPy channels-last ``(batch, time, channels)`` in float64,
    through ``augmenter.augment`` and back to a tensor of the input's dtype,
    device and layout. tsaug runs on the CPU only: a batch on a GPU is copied
    there and back, with a warning (tscl's own augmentations run on the GPU).

    Randomness: on each call the augmenter is deep-copied and the copy of every
    member gets a seed drawn from ``generator``; the object you pass is never
    modified. So each call draws fresh augmentations even when the tsaug
    objects carry a fixed ``seed`` (which on its own repeats one "random" draw
    forever), and the same torch seed gives the same output.

    tsaug's operators: ``a + b`` chains as in tsaug; ``@ q`` (tsaug's ``prob``)
    applies a member to each sample with probability ``q``, on top of ``p``.
    ``* k`` (tsaug's ``repeats``) would return ``k`` copies of each sample;
    since the copies are independent draws, keeping one of them is the same as
    one application, so the copy runs each member once (``repeats=1``) and the
    output has the input's batch size. Make several views with
    :class:`~tscl.augment.Views` instead.

    Parameters
    ----------
    augmenter : tsaug augmenter or pipeline
        Any tsaug augmenter (``tsaug.AddNoise(scale=0.01)``) or a combination
        built with ``+``, ``*`` and ``@``.
    p : float, default=1.0
        Probability that a sample is transformed. Must be 1 when the augmenter
        changes the length (it contains a tsaug ``Crop`` or ``Resize``).

    Raises
    ------
    ImportError
        When called and tsaug is not installed.
    TypeError
        When called with an ``augmenter`` that is not a tsaug object.
    RuntimeError
        When tsaug fails on a batch; the original error is chained.

    See Also
    --------
    as_augmentation : Wrap tsaug objects, pass tscl augmentations through.

    Examples
    --------
    >>> import tsaug
    >>> aug = Tsaug(
    ...     tsaug.AddNoise(scale=0.01) + tsaug.Drift(max_drift=0.1, n_drift_points=5)
    ... )
    >>> aug
    Tsaug(augmenter=AddNoise(scale=0.01) + Drift(max_drift=0.1, n_drift_points=5))
    >>> x = torch.randn(8, 2, 100)
    >>> y = aug(x, torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype
    (torch.Size([8, 2, 100]), torch.float32)
    >>> y.equal(aug(x, torch.Generator().manual_seed(0)))  # same seed, same draw
    True
    >>> y.equal(aug(x, torch.Generator().manual_seed(1)))
    False
    >>> crop = Tsaug(tsaug.Crop(size=60))
    >>> crop.keeps_length, crop.min_length, crop(x).shape
    (False, 60, torch.Size([8, 2, 60]))
    """

    def __init__(self, augmenter: Any, p: float = 1.0) -> None:
        self.augmenter = augmenter
        self.p = p

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 (sklearn's name)
        """Show the tsaug augmenter by its arguments rather than its address."""
        args = [f"augmenter={_describe(self.augmenter)}"]
        if _differs(self.p, 1.0):
            args.append(f"p={short_repr(self.p)}")
        return f"Tsaug({', '.join(args)})"

    @property
    def keeps_length(self) -> bool:  # type: ignore[override]
        """False when the augmenter contains a tsaug ``Crop`` or ``Resize``."""
        return not any(_changes_length(leaf) for leaf in _leaves(self.augmenter))

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """Longest crop of a leading tsaug ``Crop`` (tsaug needs ``T >= size``).

        Only the first member that changes the length depends on the input
        length; members after it see a fixed length.
        """
        for leaf in _leaves(self.augmenter):
            if _changes_length(leaf):
                if _is_crop(leaf):
                    return max(_crop_sizes(leaf.size))
                return 1
        return 1

    def _check_params(self) -> None:
        tsaug = import_optional("tsaug", "tsaug", "Tsaug")
        if not _is_tsaug(self.augmenter):
            hint = (
                " tscl augmentations need no wrapper; use it directly."
                if isinstance(self.augmenter, Augmentation)
                else ""
            )
            raise TypeError(
                "The 'augmenter' parameter of Tsaug must be a tsaug augmenter or "
                f"pipeline, e.g. {_EXAMPLE}; got {type(self.augmenter).__name__} "
                f"{short_repr(self.augmenter)}.{hint}"
            )
        check_param(self.p, "p", owner=self, interval=(0, 1), closed="both")
        for leaf in _leaves(self.augmenter):
            if isinstance(leaf, (tsaug.Crop, tsaug.Resize)) and leaf.prob != 1:
                raise ValueError(
                    f"tsaug's {_describe(leaf)} has prob={leaf.prob} (set by @), but "
                    "an augmenter that changes the length must apply to every "
                    "sample; remove the @."
                )

    def _seeded_copy(self, x: Tensor, generator: torch.Generator | None) -> Any:
        """Deep-copy the augmenter; seed each member from ``generator``, run it once."""
        augmenter = copy.deepcopy(self.augmenter)
        leaves = _leaves(augmenter)
        seeds = torch.randint(
            0, _SEED_HIGH, (len(leaves),), generator=generator, device=x.device
        ).tolist()  # drawn on the generator's device, read on the CPU
        for leaf, seed in zip(leaves, seeds, strict=True):
            leaf.seed = int(seed)
            leaf.repeats = 1  # k independent copies, one kept: one application
        return augmenter

    def _warn_device(self, device: torch.device) -> None:
        """Warn, once per instance, that a batch on ``device`` goes to the CPU."""
        if device.type == "cpu" or getattr(self, "_warned_device", False):
            return
        self._warned_device = True
        warnings.warn(
            f"Tsaug copies each batch from {device} to the CPU for tsaug (NumPy "
            "only) and back, which costs a transfer and CPU time every step; "
            "tscl's own augmentations (tscl.augment) run on the GPU.",
            UserWarning,
            stacklevel=4,
        )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        self._warn_device(x.device)
        augmenter = self._seeded_copy(x, generator)
        batch, channels, _ = x.shape
        array = (
            x.detach().to(device="cpu", dtype=torch.float64, copy=True).numpy()
        ).transpose(0, 2, 1)  # (batch, time, channels)
        try:
            out = augmenter.augment(array)
        except Exception as err:
            raise RuntimeError(
                f"tsaug's {_describe(self.augmenter)} failed on a batch of shape "
                f"{array.shape}: {type(err).__name__}: {err}"
            ) from err
        out = np.asarray(out, dtype=np.float64)
        if out.ndim != 3 or out.shape[0] != batch or out.shape[2] != channels:
            raise RuntimeError(
                f"tsaug's {_describe(self.augmenter)} returned shape {out.shape} for "
                f"a batch of shape {array.shape}; expected ({batch}, time, "
                f"{channels})."
            )
        y = torch.from_numpy(np.ascontiguousarray(out.transpose(0, 2, 1)))
        return y.to(device=x.device, dtype=x.dtype)  # (batch, channels, time')


# ------------------------------------------------------------------ function


def as_augmentation(obj: Any) -> Augmentation | Callable[..., Tensor]:
    """Return ``obj`` as something that augments a batch.

    Parameters
    ----------
    obj : Augmentation, callable, or tsaug augmenter or pipeline
        A tscl augmentation or any callable ``f(x, generator) -> Tensor`` is
        returned as it is; a tsaug augmenter or pipeline is wrapped in
        :class:`Tsaug`.

    Returns
    -------
    Augmentation or callable
        ``obj`` or ``Tsaug(obj)``.

    Raises
    ------
    TypeError
        If ``obj`` is none of these.

    Examples
    --------
    >>> import tsaug
    >>> from tscl.augment import Jitter
    >>> as_augmentation(Jitter(0.1))
    Jitter(sigma=0.1)
    >>> as_augmentation(tsaug.Reverse() @ 0.5)
    Tsaug(augmenter=Reverse(prob=0.5))
    """
    if isinstance(obj, Augmentation):
        return obj
    if _is_tsaug(obj):
        return Tsaug(obj)
    if callable(obj):
        return obj
    raise TypeError(
        "The 'augment' parameter must be a tscl augmentation (e.g. "
        "tscl.augment.Jitter(0.03)), a preset or composition name (e.g. 'ecg', "
        "'crop + jitter(sigma=0.05)'), a callable "
        "f(x, generator) -> Tensor, or a tsaug augmenter or pipeline (e.g. "
        f"tsaug.AddNoise(scale=0.01)); got {type(obj).__name__} {short_repr(obj)}."
    )
