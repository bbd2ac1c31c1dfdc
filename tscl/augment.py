"""Batched, torch-native augmentations that make the views of contrastive learning.

Every augmentation takes a tensor of shape ``(batch, channels, time)``, draws all
its randomness from the ``torch.Generator`` it is given (on the tensor's device),
never edits its input in place and applies itself to each sample with
probability ``p``. Compose them with ``+`` and make views with :class:`Views`.

To add an augmentation: subclass :class:`Augmentation`, store the constructor
arguments, implement ``_transform`` and add the class to :data:`AUGMENTATIONS`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from sklearn.base import BaseEstimator
from torch import Tensor

from tscl._validation import check_param, check_tensor

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "Compose",
    "Crop",
    "Jitter",
    "Permutation",
    "RandomCrop",
    "Scaling",
    "Views",
    "default_augmentation",
]


def _rand(
    shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor
) -> Tensor:
    """Draw uniform values in [0, 1) with ``like``'s device and dtype."""
    return torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)


def _randn(
    shape: tuple[int, ...], generator: torch.Generator | None, like: Tensor
) -> Tensor:
    """Draw standard normal values with ``like``'s device and dtype."""
    return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)


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
        self._check_params()
        check_param(self.p, "p", owner=self, interval=(0, 1), closed="both")
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
            keep = _rand((x.shape[0], 1, 1), generator, x) >= self.p  # (batch, 1, 1)
            y = torch.where(keep, x, y)
        return y

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


class Jitter(Augmentation):
    """Add i.i.d. Gaussian noise with standard deviation ``sigma``.

    Parameters
    ----------
    sigma : float, default=0.03
        Noise standard deviation, in the units of the signal.
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.zeros(4, 1, 100)
    >>> y = Jitter(sigma=0.1)(x, torch.Generator().manual_seed(0))
    >>> round(float(y.std()), 1)
    0.1
    """

    def __init__(self, sigma: float = 0.03, p: float = 1.0) -> None:
        self.sigma = sigma
        self.p = p

    def _check_params(self) -> None:
        check_param(self.sigma, "sigma", owner=self, interval=(0, None), closed="left")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return x + self.sigma * _randn(tuple(x.shape), generator, x)


class Scaling(Augmentation):
    """Multiply each sample (or each channel) by a factor drawn from N(1, sigma²).

    Parameters
    ----------
    sigma : float, default=0.1
        Standard deviation of the scaling factor.
    per_channel : bool, default=False
        Draw one factor per channel instead of one per sample.
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.ones(2, 3, 50)
    >>> y = Scaling(sigma=0.5)(x, torch.Generator().manual_seed(0))
    >>> bool((y[0] == y[0, 0, 0]).all())  # one factor for the whole sample
    True
    """

    def __init__(
        self, sigma: float = 0.1, per_channel: bool = False, p: float = 1.0
    ) -> None:
        self.sigma = sigma
        self.per_channel = per_channel
        self.p = p

    def _check_params(self) -> None:
        check_param(self.sigma, "sigma", owner=self, interval=(0, None), closed="left")
        check_param(self.per_channel, "per_channel", owner=self, kind=bool)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        channels = x.shape[1] if self.per_channel else 1
        factor = 1 + self.sigma * _randn((x.shape[0], channels, 1), generator, x)
        return x * factor


class Crop(Augmentation):
    """Crop a random span and resize it back to the input length.

    The span's length is a fraction of the input drawn uniformly from ``scale``;
    its start is uniform. Resizing is linear interpolation, batched over samples.

    Parameters
    ----------
    scale : tuple of (float, float), default=(0.5, 1.0)
        Range of the kept fraction of the series, within (0, 1].
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.arange(10.0).reshape(1, 1, 10)
    >>> Crop(scale=(1.0, 1.0))(x).equal(x)  # keeping everything is the identity
    True
    """

    min_length = 2

    def __init__(self, scale: tuple[float, float] = (0.5, 1.0), p: float = 1.0) -> None:
        self.scale = scale
        self.p = p

    def _check_params(self) -> None:
        if not (isinstance(self.scale, Sequence) and len(self.scale) == 2):
            raise TypeError(
                f"The 'scale' parameter of Crop must be a pair (low, high); got "
                f"{self.scale!r}."
            )
        low, high = self.scale
        for value in self.scale:
            check_param(value, "scale", owner=self, interval=(0, 1), closed="right")
        if low > high:
            raise ValueError(f"Crop needs scale[0] <= scale[1]; got {self.scale}.")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        low, high = self.scale
        u = _rand((batch, 2), generator, x)
        span = (low + (high - low) * u[:, :1]) * (length - 1)  # (batch, 1)
        start = u[:, 1:] * (length - 1 - span)  # (batch, 1)
        steps = torch.arange(length, device=x.device, dtype=x.dtype)
        pos = start + (span / (length - 1)) * steps  # (batch, length), fractional
        left = pos.floor().long().clamp(0, length - 1)
        right = (left + 1).clamp(max=length - 1)
        weight = (pos - left).unsqueeze(1)  # (batch, 1, length)
        left = left.unsqueeze(1).expand(-1, channels, -1)
        right = right.unsqueeze(1).expand(-1, channels, -1)
        return torch.lerp(x.gather(2, left), x.gather(2, right), weight)


class RandomCrop(Augmentation):
    """Cut a random span of fixed length from each sample, without resizing.

    Unlike the other augmentations this one shortens the series, to ``length``
    timesteps (an int) or to ``round(length * time)`` (a float in (0, 1]). Two
    views are then two stretches of the same series, as in TS2Vec's cropping and
    CLOCS's temporal views; unlike :class:`Crop`, the time scale (a heart rate,
    say) is kept. With probability ``1 - p`` a sample gets the centred span.

    Parameters
    ----------
    length : int or float, default=0.5
        Output length in timesteps (int >= 1), or as a fraction of the input
        length (float in (0, 1]).
    p : float, default=1.0
        Probability that a sample's span starts at random rather than centred.

    References
    ----------
    .. [1] Yue et al., TS2Vec, 2022, arXiv:2106.10466
    .. [2] Kiyasseh et al., CLOCS, 2021, arXiv:2005.13249

    Examples
    --------
    >>> x = torch.arange(10.0).reshape(1, 1, 10)
    >>> RandomCrop(length=4, p=0.0)(x)  # the centred span
    tensor([[[3., 4., 5., 6.]]])
    >>> RandomCrop(length=0.5)(torch.randn(8, 2, 100)).shape
    torch.Size([8, 2, 50])
    """

    keeps_length = False

    def __init__(self, length: int | float = 0.5, p: float = 1.0) -> None:
        self.length = length
        self.p = p

    def _check_params(self) -> None:
        if isinstance(self.length, numbers.Integral):
            check_param(
                self.length,
                "length",
                owner=self,
                kind=numbers.Integral,
                interval=(1, None),
                closed="left",
            )
        else:
            check_param(
                self.length, "length", owner=self, interval=(0, 1), closed="right"
            )

    def output_length(self, length: int) -> int:
        """Length of the crops taken from series of ``length`` timesteps."""
        if isinstance(self.length, numbers.Integral):
            if self.length > length:
                raise ValueError(
                    f"RandomCrop(length={self.length}) needs series of at least "
                    f"{self.length} timesteps; got {length}. Use longer windows or "
                    "a smaller length."
                )
            return int(self.length)
        return max(1, round(float(self.length) * length))

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        size = self.output_length(length)
        u = _rand((batch, 2), generator, x)
        random_start = (u[:, :1] * (length - size + 1)).long().clamp(max=length - size)
        centred = torch.full_like(random_start, (length - size) // 2)
        start = torch.where(u[:, 1:] < self.p, random_start, centred)  # (batch, 1)
        index = start + torch.arange(size, device=x.device)  # (batch, size)
        return x.gather(2, index.unsqueeze(1).expand(-1, channels, -1))


class Permutation(Augmentation):
    """Cut each sample into random segments and shuffle their order.

    Every channel of a sample is cut and reordered the same way. Each sample gets
    between 2 and ``max_segments`` segments at uniform random cut points.

    Parameters
    ----------
    max_segments : int, default=5
        Largest number of segments, at least 2.
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.arange(8.0).reshape(1, 1, 8).repeat(1, 2, 1)
    >>> y = Permutation(max_segments=4)(x, torch.Generator().manual_seed(1))
    >>> sorted(y[0, 0].tolist()) == x[0, 0].tolist()  # same values, new order
    True
    >>> y[0, 0].equal(y[0, 1])  # channels share the order
    True
    """

    min_length = 2

    def __init__(self, max_segments: int = 5, p: float = 1.0) -> None:
        self.max_segments = max_segments
        self.p = p

    def _check_params(self) -> None:
        check_param(
            self.max_segments,
            "max_segments",
            owner=self,
            kind=numbers.Integral,
            interval=(2, None),
            closed="left",
        )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        n_cuts = self.max_segments - 1
        dev = x.device
        cuts = torch.randint(
            1, length, (batch, n_cuts), generator=generator, device=dev
        )
        active = torch.randint(
            1, n_cuts + 1, (batch, 1), generator=generator, device=dev
        )
        unused = torch.arange(n_cuts, device=dev) >= active  # (batch, n_cuts)
        cuts = cuts.masked_fill(unused, length).sort(dim=1).values
        t = torch.arange(length, device=dev).expand(batch, -1).contiguous()
        segment = torch.searchsorted(cuts, t, right=True)  # (batch, length)
        order = (
            torch.rand((batch, self.max_segments), generator=generator, device=dev)
            .argsort(dim=1)
            .argsort(dim=1)
        )  # new position of each segment
        key = order.gather(1, segment) * length + t
        index = key.argsort(dim=1).unsqueeze(1).expand(-1, channels, -1)
        return x.gather(2, index)


class Compose(Augmentation):
    """Apply augmentations one after the other; ``a + b`` builds one.

    Parameters
    ----------
    augmentations : list of Augmentation
        Applied in order.
    p : float, default=1.0
        Probability that a sample goes through the whole chain.

    Examples
    --------
    >>> aug = Jitter(0.01) + Scaling(0.1)
    >>> aug
    Compose(augmentations=[Jitter(sigma=0.01), Scaling()])
    >>> aug(torch.zeros(2, 1, 16)).shape
    torch.Size([2, 1, 16])
    """

    def __init__(self, augmentations: list[Augmentation], p: float = 1.0) -> None:
        self.augmentations = augmentations
        self.p = p

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """Largest ``min_length`` of the chained augmentations."""
        return max((a.min_length for a in self.augmentations), default=1)

    @property
    def keeps_length(self) -> bool:  # type: ignore[override]
        """Whether every chained augmentation keeps the series length."""
        return all(getattr(a, "keeps_length", True) for a in self.augmentations)

    def _check_params(self) -> None:
        if not isinstance(self.augmentations, (list, tuple)) or not all(
            callable(a) for a in self.augmentations
        ):
            raise TypeError(
                "The 'augmentations' parameter of Compose must be a list of "
                f"augmentations; got {self.augmentations!r}."
            )
        if self.p != 1 and not self.keeps_length:
            raise ValueError(
                f"Compose(p={self.p}) cannot leave samples unchanged because a member "
                "shortens the series (e.g. RandomCrop); set p on the members instead."
            )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        for aug in self.augmentations:
            x = aug(x, generator)
        return x


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
    >>> views = Views(Jitter(0.1), n=2)
    >>> v1, v2 = views(torch.zeros(3, 1, 20), torch.Generator().manual_seed(0))
    >>> v1.shape, v1.equal(v2)
    (torch.Size([3, 1, 20]), False)
    """

    def __init__(self, augmentation: Augmentation, n: int = 2) -> None:
        self.augmentation = augmentation
        self.n = n

    def __call__(
        self, x: Tensor, generator: torch.Generator | None = None
    ) -> list[Tensor]:
        """Return a list of ``n`` augmented copies of ``x``."""
        check_param(
            self.n,
            "n",
            owner=self,
            kind=numbers.Integral,
            interval=(1, None),
            closed="left",
        )
        return [self.augmentation(x, generator) for _ in range(self.n)]


def default_augmentation() -> Augmentation:
    """Return the default view pipeline of :class:`tscl.ContrastiveEncoder`.

    A random resized crop keeping 50-100% of the series, a scaling by N(1, 0.1²)
    per sample and Gaussian jitter of 0.03 (inputs are standardised per channel
    by the estimator, so these are in units of the series' standard deviation).

    Returns
    -------
    Augmentation
        ``Crop((0.5, 1.0)) + Scaling(0.1) + Jitter(0.03)``.

    Examples
    --------
    >>> default_augmentation()
    Compose(augmentations=[Crop(), Scaling(), Jitter()])
    """
    return Crop() + Scaling() + Jitter()


#: Every augmentation by name, for the estimator, the CLI and the contract tests.
AUGMENTATIONS: dict[str, type[Augmentation]] = {
    "jitter": Jitter,
    "scaling": Scaling,
    "crop": Crop,
    "random_crop": RandomCrop,
    "permutation": Permutation,
}
