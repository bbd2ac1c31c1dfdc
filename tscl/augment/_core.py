"""The augmentation base class, composition and shared batched helpers."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator
from torch import Tensor

from tscl._validation import check_count, check_param, check_tensor, short_repr

__all__ = ["Augmentation", "Compose", "OneOf", "RandomApply", "Views"]


# ------------------------------------------------------------------- helpers


#: The largest count an augmentation takes (knots, segments, spans, bursts...):
#: its cost grows with the count, and a larger one means nothing on a series.
MAX_COUNT = 10_000
#: The most copies that ``Views``-like repetition makes of a batch.
MAX_COPIES = 256

#: On the CPU, draws of at least this many values are split into _CHUNKS blocks,
#: each from its own generator seeded by the caller's, and filled in parallel:
#: torch's CPU generator is serial and would otherwise bound Jitter's speed.
_PARALLEL_NUMEL = 2**20
_CHUNKS = 4
_POOL: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """Drop the thread pool in a forked child, where its threads do not exist."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def _draw(
    kind: str,
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    like: Tensor,
    dtype: torch.dtype | None,
) -> Tensor:
    dtype = dtype or like.dtype
    numel = math.prod(shape)
    if like.device.type != "cpu" or numel < _PARALLEL_NUMEL or shape[0] < _CHUNKS:
        draw = torch.randn if kind == "normal" else torch.rand
        return draw(shape, generator=generator, device=like.device, dtype=dtype)
    # The same seeds give the same values whatever the number of threads.
    seeds = torch.randint(0, 2**62, (_CHUNKS,), generator=generator).tolist()
    out = torch.empty(shape, dtype=dtype)

    def fill(block: Tensor, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        if kind == "normal":
            block.normal_(generator=gen)
        else:
            block.uniform_(generator=gen)

    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_CHUNKS, thread_name_prefix="tscl-rng")
    blocks = out.tensor_split(_CHUNKS, dim=0)
    list(_POOL.map(fill, blocks, seeds))
    return out


def _rand(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    like: Tensor,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Draw uniform values in [0, 1) with ``like``'s device and dtype."""
    return _draw("uniform", shape, generator, like, dtype)


def _randn(
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    like: Tensor,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Draw standard normal values with ``like``'s device and dtype."""
    return _draw("normal", shape, generator, like, dtype)


def _uniform(
    shape: tuple[int, ...],
    low: float,
    high: float,
    generator: torch.Generator | None,
    like: Tensor,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Draw uniform values in [low, high)."""
    return low + (high - low) * _rand(shape, generator, like, dtype)


def _work_dtype(x: Tensor) -> torch.dtype:
    """Return the dtype to compute in: float32 for half types, else x's."""
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def _smooth_noise(
    shape: tuple[int, int],
    length: int,
    n_knots: int,
    generator: torch.Generator | None,
    like: Tensor,
) -> Tensor:
    """Smooth random curves: N(0, 1) knots joined by cubic interpolation.

    Returns a tensor of shape ``(*shape, length)``; the knots are spread evenly
    over the series, the first at its start and the last at its end.
    """
    knots = _randn((*shape, 1, n_knots), generator, like)
    curve = F.interpolate(knots, size=(1, length), mode="bicubic", align_corners=True)
    return curve[:, :, 0]


def _interp(x: Tensor, pos: Tensor) -> Tensor:
    """Linearly interpolate ``x`` (batch, channels, time) at fractional positions.

    ``pos`` has shape (batch, n) (shared by the channels) or (batch, channels, n);
    positions are clamped to the series. Compute positions in
    :func:`_work_dtype` (bfloat16 cannot count past 256 exactly). This is
    ``grid_sample`` on a one-pixel-high image, several times faster than two
    gathers and a lerp.
    """
    batch, channels, length = x.shape
    dtype = _work_dtype(x)
    image = x.to(dtype).unsqueeze(2)  # (batch, channels, 1, time)
    if pos.ndim == 3:  # one grid per channel: fold channels into the batch
        image = image.reshape(batch * channels, 1, 1, length)
        pos = pos.reshape(batch * channels, -1)
    scale = 2 / (length - 1) if length > 1 else 0.0
    grid = pos.new_zeros((pos.shape[0], 1, pos.shape[1], 2), dtype=dtype)
    torch.add(
        pos.to(dtype).unsqueeze(1), -1 / scale if scale else 0.0, out=grid[..., 0]
    )
    grid[..., 0].mul_(scale)
    out = F.grid_sample(
        image, grid, mode="bilinear", padding_mode="border", align_corners=True
    )  # (batch', channels', 1, n)
    return out.reshape(batch, channels, -1).to(x.dtype)


def _check_range(
    value: Any,
    name: str,
    owner: object,
    interval: tuple[float | None, float | None],
    closed: str = "neither",
) -> tuple[float, float]:
    """Check that ``value`` is a pair ``(low, high)`` with low <= high in interval."""
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or len(value) != 2
    ):
        raise TypeError(
            f"The '{name}' parameter of {type(owner).__name__} must be a pair "
            f"(low, high); got {short_repr(value)}."
        )
    for item in value:
        check_param(item, name, owner=owner, interval=interval, closed=closed)
    low, high = value
    if low > high:
        raise ValueError(
            f"{type(owner).__name__} needs {name}[0] <= {name}[1]; got {tuple(value)}."
        )
    return float(low), float(high)


def _check_generator(
    x: Tensor, generator: torch.Generator | None, owner: object
) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{type(owner).__name__} expects a torch.Generator or None as its second "
            f"argument; got {type(generator).__name__}."
        )
    if generator.device.type != x.device.type:
        raise ValueError(
            f"{type(owner).__name__} got a tensor on {x.device} but a generator on "
            f"{generator.device}; create it with torch.Generator(device=x.device)."
        )


# ---------------------------------------------------------------------- base


class Augmentation(BaseEstimator):
    """Base class: checks the input, applies ``_transform`` with probability ``p``.

    Subclasses store their constructor arguments unchanged (the scikit-learn
    contract, so ``clone`` and nested grid search work), check them in
    ``_check_params`` and implement ``_transform(x, generator)``.

    Parameters
    ----------
    p : float, default=1.0
        Probability that a sample is transformed; ``0`` returns the input.
    """

    p: float = 1.0
    #: Shortest series, in timesteps, the augmentation supports.
    min_length: int = 1
    #: False for augmentations whose output is shorter than their input.
    keeps_length: bool = True
    #: False for fixed transforms (``Reverse``, ``Flip``): only ``p`` is random.
    is_random: bool = True
    #: True for a shortening augmentation that gives ``p`` its own meaning
    #: (``RandomCrop``: random or centred span); other shortening ones need p=1.
    shortens_with_p: bool = False

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Return an augmented copy of ``x``.

        Parameters
        ----------
        x : Tensor of shape (batch, channels, time)
            A floating-point batch; it is not modified.
        generator : torch.Generator, optional
            Source of every random draw; it must live on ``x``'s device. ``None``
            uses torch's global generator.

        Returns
        -------
        Tensor of shape (batch, channels, time)
            Same dtype and device as ``x``.
        """
        check_tensor(x, owner=self)
        _check_generator(x, generator, self)
        self.check()
        if x.shape[-1] < self.min_length:
            raise ValueError(
                f"{type(self).__name__} needs series of at least {self.min_length} "
                f"timesteps; got {x.shape[-1]}. Use longer windows or lower its "
                "segment/crop settings."
            )
        if self.p == 0 and self.keeps_length:
            return x.clone()
        y = self._transform(x, generator)
        if self.p < 1 and self.keeps_length:
            if y.shape != x.shape:
                raise ValueError(
                    f"{type(self).__name__}(p={self.p}) changed the shape from "
                    f"{tuple(x.shape)} to {tuple(y.shape)}, so it cannot leave some "
                    "samples unchanged; use p=1."
                )
            keep = _rand((x.shape[0], 1, 1), generator, x) >= self.p  # (batch, 1, 1)
            y = torch.where(keep, x, y)
        return y

    def check(self) -> None:
        """Check every parameter, as the first call does; raise if one is unusable.

        ``augment.parse`` and ``from_spec`` call it when they read a text or a
        spec, so that an absurd value is refused before any training.

        Raises
        ------
        TypeError, ValueError
            Naming the parameter, its value and what it takes.
        """
        self._check_params()
        check_param(self.p, "p", owner=self, interval=(0, 1), closed="both")
        if self.p != 1 and not self.keeps_length and not self.shortens_with_p:
            raise ValueError(
                f"{type(self).__name__}(p={self.p}) cannot leave samples unchanged "
                "because it changes the series length (it shortens the series, e.g. "
                "through RandomCrop or tsaug's Crop); use p=1 and set p on the "
                "members instead."
            )

    def _check_params(self) -> None:
        """Check constructor arguments; subclasses extend this."""

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        raise NotImplementedError  # pragma: no cover

    def __add__(self, other: Augmentation) -> Compose:
        """Chain two augmentations: ``(a + b)(x) == b(a(x))``."""
        if not isinstance(other, Augmentation):
            return NotImplemented
        left = self.augmentations if type(self) is Compose else [self]
        right = other.augmentations if type(other) is Compose else [other]
        return Compose([*left, *right])


# --------------------------------------------------------------- composition

_MEMBER_KEY = re.compile(r"augmentations__(\d+)__(.+)")


class _Members(Augmentation):
    """Shared code of augmentations that hold a list ``augmentations``.

    Members' parameters are reachable by index, so grid search can tune them:
    ``augmentations__0__sigma`` (and ``augment__augmentations__0__sigma`` from
    the estimator).
    """

    augmentations: list[Augmentation]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters, with each member's as ``augmentations__<i>__<name>``."""
        params: dict[str, Any] = super().get_params(deep=deep)
        if deep and isinstance(self.augmentations, (list, tuple)):
            for i, member in enumerate(self.augmentations):
                if hasattr(member, "get_params"):
                    for key, value in member.get_params(deep=True).items():
                        params[f"augmentations__{i}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> _Members:
        """Set parameters, including members' as ``augmentations__<i>__<name>``."""
        own = {}
        for key, value in params.items():
            match = _MEMBER_KEY.fullmatch(key)
            if match is None:
                own[key] = value
                continue
            index = int(match.group(1))
            if not 0 <= index < len(self.augmentations):
                raise ValueError(
                    f"{type(self).__name__} has {len(self.augmentations)} "
                    f"augmentations; '{key}' names number {index}."
                )
            self.augmentations[index].set_params(**{match.group(2): value})
        super().set_params(**own)
        return self

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """Largest ``min_length`` of the members."""
        return max((getattr(a, "min_length", 1) for a in self.augmentations), default=1)

    @property
    def keeps_length(self) -> bool:  # type: ignore[override]
        """Whether every member keeps the series length."""
        return all(getattr(a, "keeps_length", True) for a in self.augmentations)

    def _check_members(self) -> None:
        if not isinstance(self.augmentations, (list, tuple)) or not all(
            callable(a) for a in self.augmentations
        ):
            raise TypeError(
                f"The 'augmentations' parameter of {type(self).__name__} must be a "
                f"list of augmentations; got {short_repr(self.augmentations)}."
            )


class Compose(_Members):
    """Apply augmentations one after the other; ``a + b`` builds one.

    Parameters
    ----------
    augmentations : list of Augmentation
        Applied in order.
    p : float, default=1.0
        Probability that a sample goes through the whole chain.

    Examples
    --------
    >>> from tscl.augment import Jitter, Scaling
    >>> aug = Jitter(0.01) + Scaling(0.1)
    >>> aug
    Compose(augmentations=[Jitter(sigma=0.01), Scaling()])
    >>> aug(torch.zeros(2, 1, 16)).shape
    torch.Size([2, 1, 16])
    >>> aug.set_params(augmentations__1__sigma=0.3).augmentations[1]
    Scaling(sigma=0.3)
    """

    def __init__(self, augmentations: list[Augmentation], p: float = 1.0) -> None:
        self.augmentations = augmentations
        self.p = p

    def _check_params(self) -> None:
        self._check_members()

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        for aug in self.augmentations:
            x = aug(x, generator)
        return x


class OneOf(_Members):
    """Apply one member per sample, chosen at random.

    Every member runs on the whole batch (no loop over samples) and each sample
    keeps the output of its chosen member, so the cost is that of all members.
    Members that shorten the series must all give the same length.

    Parameters
    ----------
    augmentations : list of Augmentation
        The candidates; at least one.
    weights : list of float, optional
        Relative probability of each candidate (need not sum to 1); equal by
        default.
    p : float, default=1.0
        Probability that a sample is transformed at all.

    Examples
    --------
    >>> from tscl.augment import Flip, Reverse
    >>> x = torch.arange(4.0).reshape(1, 1, 4).repeat(6, 1, 1)
    >>> y = OneOf([Flip(), Reverse()])(x, torch.Generator().manual_seed(0))
    >>> y[:3, 0].tolist()  # each sample flipped or reversed
    [[3.0, 2.0, 1.0, 0.0], [-0.0, -1.0, -2.0, -3.0], [-0.0, -1.0, -2.0, -3.0]]
    """

    def __init__(
        self,
        augmentations: list[Augmentation],
        weights: list[float] | None = None,
        p: float = 1.0,
    ) -> None:
        self.augmentations = augmentations
        self.weights = weights
        self.p = p

    def _check_params(self) -> None:
        self._check_members()
        if len(self.augmentations) == 0:
            raise ValueError("OneOf needs at least one augmentation; got [].")
        if self.weights is not None:
            if not isinstance(self.weights, Sequence) or len(self.weights) != len(
                self.augmentations
            ):
                raise ValueError(
                    f"OneOf has {len(self.augmentations)} augmentations but weights "
                    f"{short_repr(self.weights)}; give one weight per augmentation or "
                    "None."
                )
            for w in self.weights:
                check_param(w, "weights", owner=self, interval=(0, None), closed="left")
            if sum(self.weights) <= 0:
                raise ValueError(f"OneOf needs a positive weight; got {self.weights}.")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        n = len(self.augmentations)
        weights = torch.as_tensor(
            self.weights if self.weights is not None else [1.0] * n,
            dtype=torch.float64,
            device=x.device,
        )
        choice = torch.multinomial(
            weights.expand(x.shape[0], -1), 1, generator=generator
        )  # (batch, 1)
        outputs = [aug(x, generator) for aug in self.augmentations]
        shapes = {tuple(o.shape) for o in outputs}
        if len(shapes) > 1:
            raise ValueError(
                f"OneOf's members give different shapes {sorted(shapes)}; members that "
                "shorten the series must all give the same length."
            )
        y = outputs[0]
        for k in range(1, n):
            y = torch.where((choice == k).unsqueeze(-1), outputs[k], y)
        return y


class RandomApply(Augmentation):
    """Apply an augmentation to each sample with probability ``p``.

    Parameters
    ----------
    augmentation : Augmentation
        What to apply.
    p : float, default=0.5
        Probability that a sample is transformed.

    Examples
    --------
    >>> from tscl.augment import Flip
    >>> y = RandomApply(Flip(), p=0.5)(torch.ones(8, 1, 3), torch.Generator())
    >>> sorted(set(y[:, 0, 0].tolist()))
    [-1.0, 1.0]
    """

    def __init__(self, augmentation: Augmentation, p: float = 0.5) -> None:
        self.augmentation = augmentation
        self.p = p

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """The wrapped augmentation's ``min_length``."""
        return int(getattr(self.augmentation, "min_length", 1))

    @property
    def keeps_length(self) -> bool:  # type: ignore[override]
        """The wrapped augmentation's ``keeps_length``."""
        return bool(getattr(self.augmentation, "keeps_length", True))

    def _check_params(self) -> None:
        if not callable(self.augmentation):
            raise TypeError(
                "The 'augmentation' parameter of RandomApply must be an augmentation; "
                f"got {short_repr(self.augmentation)}."
            )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return self.augmentation(x, generator)


class Views(BaseEstimator):
    """Make ``n`` independently augmented views of a batch.

    Parameters
    ----------
    augmentation : callable
        An :class:`Augmentation` or any callable ``f(x, generator) -> Tensor``.
    n : int, default=2
        Number of views.

    Examples
    --------
    >>> from tscl.augment import Jitter
    >>> views = Views(Jitter(0.1), n=2)
    >>> v1, v2 = views(torch.zeros(3, 1, 20), torch.Generator().manual_seed(0))
    >>> v1.shape, v1.equal(v2)
    (torch.Size([3, 1, 20]), False)
    """

    def __init__(
        self, augmentation: Augmentation | Callable[..., Tensor], n: int = 2
    ) -> None:
        self.augmentation = augmentation
        self.n = n

    def __call__(
        self, x: Tensor, generator: torch.Generator | None = None
    ) -> list[Tensor]:
        """Return a list of ``n`` augmented copies of ``x``."""
        check_count(self.n, "n", owner=self, maximum=MAX_COPIES)
        return [self.augmentation(x, generator) for _ in range(self.n)]
