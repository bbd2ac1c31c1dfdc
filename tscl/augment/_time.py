"""Time-domain augmentations: noise, scaling, warps, crops, masks and mixing."""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

from tscl._validation import check_choice, check_count, check_param
from tscl.augment._core import (
    MAX_COUNT,
    Augmentation,
    _check_range,
    _interp,
    _rand,
    _randn,
    _smooth_noise,
    _uniform,
    _work_dtype,
)

__all__ = [
    "Crop",
    "Drift",
    "Flip",
    "Jitter",
    "MagnitudeWarp",
    "Masking",
    "Mixup",
    "Permutation",
    "RandomCrop",
    "Resample",
    "Reverse",
    "Scaling",
    "TimeWarp",
]


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
        return _randn(tuple(x.shape), generator, x).mul_(self.sigma).add_(x)


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
    """Random resized crop: crop a random span and resize it to the input length.

    This is torchvision's ``RandomResizedCrop`` for series; :class:`RandomCrop`
    crops without resizing. The span's length is a fraction of the input drawn
    uniformly from ``scale``; its start is uniform. Resizing is linear
    interpolation, batched over samples.

    Parameters
    ----------
    scale : tuple of (float, float), default=(0.5, 1.0)
        Range of the kept fraction of the series, within (0, 1].
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.arange(10.0).reshape(1, 1, 10)
    >>> torch.allclose(Crop(scale=(1.0, 1.0))(x), x)  # keeping all: identity
    True
    """

    min_length = 2

    def __init__(self, scale: tuple[float, float] = (0.5, 1.0), p: float = 1.0) -> None:
        self.scale = scale
        self.p = p

    def _check_params(self) -> None:
        _check_range(self.scale, "scale", self, interval=(0, 1), closed="right")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        length = x.shape[-1]
        low, high = self.scale
        dtype = _work_dtype(x)
        u = _rand((x.shape[0], 2), generator, x, dtype)
        span = (low + (high - low) * u[:, :1]) * (length - 1)  # (batch, 1)
        start = u[:, 1:] * (length - 1 - span)  # (batch, 1)
        steps = torch.arange(length, device=x.device, dtype=dtype)
        return _interp(x, start + (span / (length - 1)) * steps)


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
    shortens_with_p = True

    def __init__(self, length: int | float = 0.5, p: float = 1.0) -> None:
        self.length = length
        self.p = p

    def _check_params(self) -> None:
        if isinstance(self.length, numbers.Integral):
            check_count(self.length, "length", owner=self)
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
        u = _rand((batch, 2), generator, x, torch.float32)
        random_start = (u[:, :1] * (length - size + 1)).long().clamp(max=length - size)
        centred = torch.full_like(random_start, (length - size) // 2)
        start = torch.where(u[:, 1:] < self.p, random_start, centred)  # (batch, 1)
        index = start + torch.arange(size, device=x.device)  # (batch, size)
        return x.gather(2, index.unsqueeze(1).expand(-1, channels, -1))


class Permutation(Augmentation):
    """Cut each sample into segments and shuffle their order.

    Every channel of a sample is cut and reordered the same way. Each sample gets
    between 2 and ``max_segments`` segments, cut at uniform random points
    (``segments="random"``) or into equal lengths (``segments="equal"``, as in
    TS-TCC, which however shuffles only the first channel's order).

    Parameters
    ----------
    max_segments : int, default=5
        Largest number of segments, at least 2.
    segments : {"random", "equal"}, default="random"
        Where the cuts go.
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Um et al., "Data augmentation of wearable sensor data for Parkinson's
       disease monitoring using convolutional neural networks", ICMI 2017.
    .. [2] Eldele et al., TS-TCC, IJCAI 2021, arXiv:2106.14112

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

    def __init__(
        self, max_segments: int = 5, segments: str = "random", p: float = 1.0
    ) -> None:
        self.max_segments = max_segments
        self.segments = segments
        self.p = p

    def _check_params(self) -> None:
        check_count(
            self.max_segments, "max_segments", owner=self, minimum=2, maximum=MAX_COUNT
        )
        check_choice(self.segments, "segments", ("random", "equal"), owner=self)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        n_cuts = self.max_segments - 1
        dev = x.device
        active = torch.randint(
            1, n_cuts + 1, (batch, 1), generator=generator, device=dev
        )  # cuts used by each sample
        k = torch.arange(1, n_cuts + 1, device=dev)
        if self.segments == "random":
            cuts = torch.randint(
                1, length, (batch, n_cuts), generator=generator, device=dev
            )
        else:  # k-th of `active` equal cuts
            cuts = torch.div(k * length, active + 1, rounding_mode="floor")
        cuts = cuts.masked_fill(k > active, length).sort(dim=1).values
        zero = cuts.new_zeros(batch, 1)
        starts = torch.cat([zero, cuts], dim=1)  # (batch, max_segments)
        sizes = torch.cat([cuts, zero + length], dim=1) - starts  # unused: size 0
        # placed[:, j] is the segment that goes to the j-th place of the output;
        # an output timestep t in place j reads the input at t + shift[:, j].
        placed = torch.rand(
            (batch, self.max_segments), generator=generator, device=dev
        ).argsort(dim=1)
        placed_sizes = sizes.gather(1, placed)
        out_starts = placed_sizes.cumsum(dim=1) - placed_sizes
        shift = starts.gather(1, placed) - out_starts
        # Write each place's change of shift where it starts, then sum over time
        # (no per-timestep search or sort).
        step = torch.zeros((batch, length + 1), dtype=shift.dtype, device=dev)
        step.scatter_add_(1, out_starts, shift.diff(dim=1, prepend=zero))
        source = step[:, :length].cumsum(dim=1) + torch.arange(length, device=dev)
        return x.gather(2, source.unsqueeze(1).expand(-1, channels, -1))


def _check_knots(owner: Augmentation) -> None:
    check_count(owner.n_knots, "n_knots", owner=owner, minimum=2, maximum=MAX_COUNT)


class MagnitudeWarp(Augmentation):
    """Multiply by a smooth random curve around 1.

    The curve passes through ``n_knots`` values drawn from N(1, sigma²), evenly
    spread from the first to the last timestep, and is joined by cubic
    interpolation: the slow changes of amplitude that a sensor's gain or a
    patient's breathing cause.

    Parameters
    ----------
    sigma : float, default=0.2
        Standard deviation of the curve's knots around 1.
    n_knots : int, default=4
        Number of knots, at least 2; more knots give faster changes.
    per_channel : bool, default=True
        Draw a curve per channel instead of one per sample.
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Um et al., ICMI 2017, arXiv:1706.00527

    Examples
    --------
    >>> y = MagnitudeWarp(sigma=0.2)(torch.ones(2, 1, 100), torch.Generator())
    >>> bool((y - 1).abs().max() < 1.5), bool(y.diff().abs().max() < 0.1)  # smooth
    (True, True)
    """

    def __init__(
        self,
        sigma: float = 0.2,
        n_knots: int = 4,
        per_channel: bool = True,
        p: float = 1.0,
    ) -> None:
        self.sigma = sigma
        self.n_knots = n_knots
        self.per_channel = per_channel
        self.p = p

    def _check_params(self) -> None:
        check_param(self.sigma, "sigma", owner=self, interval=(0, None), closed="left")
        _check_knots(self)
        check_param(self.per_channel, "per_channel", owner=self, kind=bool)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        shape = (batch, channels if self.per_channel else 1)
        curve = _smooth_noise(shape, length, self.n_knots, generator, x)
        return x * (1 + self.sigma * curve)


class TimeWarp(Augmentation):
    """Warp time smoothly: speed up some stretches and slow down others.

    The local speed is ``exp(sigma * c(t))`` for a smooth random curve ``c``
    through ``n_knots`` N(0, 1) values; its cumulative sum, rescaled to run from
    the first to the last timestep, is a monotone map at which the series is
    read by linear interpolation. Start and end stay in place and all channels
    share the warp.

    Parameters
    ----------
    sigma : float, default=0.2
        Strength of the warp (0 is the identity).
    n_knots : int, default=4
        Number of knots of the speed curve, at least 2.
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Um et al., ICMI 2017, arXiv:1706.00527

    Examples
    --------
    >>> x = torch.arange(50.0).reshape(1, 1, 50)
    >>> y = TimeWarp(sigma=0.5)(x, torch.Generator().manual_seed(0))
    >>> bool((y.diff() > 0).all()), float(y[0, 0, 0]), float(y[0, 0, -1])
    (True, 0.0, 49.0)
    """

    min_length = 2

    def __init__(self, sigma: float = 0.2, n_knots: int = 4, p: float = 1.0) -> None:
        self.sigma = sigma
        self.n_knots = n_knots
        self.p = p

    def _check_params(self) -> None:
        check_param(self.sigma, "sigma", owner=self, interval=(0, None), closed="left")
        _check_knots(self)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, _, length = x.shape
        dtype = _work_dtype(x)
        curve = _smooth_noise((batch, 1), length - 1, self.n_knots, generator, x)
        speed = torch.exp(self.sigma * curve[:, 0].to(dtype))  # (batch, length - 1)
        pos = torch.cat([speed.new_zeros(batch, 1), speed.cumsum(dim=1)], dim=1)
        pos = pos * ((length - 1) / pos[:, -1:])
        return _interp(x, pos)


class Masking(Augmentation):
    """Set random timesteps, or random contiguous spans, to ``value``.

    ``mode="binomial"`` masks each timestep with probability ``ratio``;
    ``mode="continuous"`` masks ``n_spans`` spans of ``round(ratio * time /
    n_spans)`` timesteps each at random places (they may overlap), the two masks
    of TS2Vec applied to the input.

    Parameters
    ----------
    ratio : float, default=0.1
        Expected masked fraction of the series, in [0, 1).
    mode : {"binomial", "continuous"}, default="binomial"
        Single timesteps or contiguous spans.
    n_spans : int, default=3
        Number of spans in ``"continuous"`` mode.
    per_channel : bool, default=False
        Draw a mask per channel instead of masking all channels together.
    value : float, default=0.0
        What masked timesteps become (0 is the mean of standardised data).
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Yue et al., TS2Vec, AAAI 2022, arXiv:2106.10466

    Examples
    --------
    >>> x = torch.ones(1, 1, 20)
    >>> y = Masking(ratio=0.25, mode="continuous", n_spans=1)(x, torch.Generator())
    >>> y.tolist()[0][0].count(0.0)
    5
    """

    def __init__(
        self,
        ratio: float = 0.1,
        mode: str = "binomial",
        n_spans: int = 3,
        per_channel: bool = False,
        value: float = 0.0,
        p: float = 1.0,
    ) -> None:
        self.ratio = ratio
        self.mode = mode
        self.n_spans = n_spans
        self.per_channel = per_channel
        self.value = value
        self.p = p

    def _check_params(self) -> None:
        check_param(self.ratio, "ratio", owner=self, interval=(0, 1), closed="left")
        check_choice(self.mode, "mode", ("binomial", "continuous"), owner=self)
        check_count(self.n_spans, "n_spans", owner=self, maximum=MAX_COUNT)
        check_param(self.per_channel, "per_channel", owner=self, kind=bool)
        check_param(self.value, "value", owner=self)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        rows = channels if self.per_channel else 1
        if self.mode == "binomial":
            mask = (
                _rand((batch, rows, length), generator, x, torch.float32) < self.ratio
            )
        else:
            span = round(self.ratio * length / self.n_spans)
            start = torch.randint(
                0,
                length - span + 1,
                (batch, rows, self.n_spans, 1),
                generator=generator,
                device=x.device,
            )
            t = torch.arange(length, device=x.device)
            mask = ((t >= start) & (t < start + span)).any(dim=2)
        return x.masked_fill(mask, self.value)


class Reverse(Augmentation):
    """Reverse time.

    Parameters
    ----------
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> Reverse()(torch.arange(4.0).reshape(1, 1, 4))
    tensor([[[3., 2., 1., 0.]]])
    """

    is_random = False

    def __init__(self, p: float = 1.0) -> None:
        self.p = p

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return x.flip(-1)


class Flip(Augmentation):
    """Flip the sign of the series (``-x``).

    Parameters
    ----------
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> Flip()(torch.arange(3.0).reshape(1, 1, 3))
    tensor([[[-0., -1., -2.]]])
    """

    is_random = False

    def __init__(self, p: float = 1.0) -> None:
        self.p = p

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        return -x


class Drift(Augmentation):
    """Add a slow random drift: a random walk through a few points, smoothed.

    The drift starts at 0, walks through ``n_knots`` Gaussian steps joined by
    cubic interpolation, and is rescaled so that its largest excursion is drawn
    uniformly from (0, ``max_drift``], in the units of the signal.

    Parameters
    ----------
    max_drift : float, default=0.5
        Largest absolute drift.
    n_knots : int, default=5
        Points of the walk, at least 2.
    per_channel : bool, default=True
        Draw a drift per channel instead of one per sample.
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> y = Drift(max_drift=0.5)(torch.zeros(16, 2, 100), torch.Generator())
    >>> float(y[:, :, 0].abs().max()), bool(y.abs().max() <= 0.5)
    (0.0, True)
    """

    def __init__(
        self,
        max_drift: float = 0.5,
        n_knots: int = 5,
        per_channel: bool = True,
        p: float = 1.0,
    ) -> None:
        self.max_drift = max_drift
        self.n_knots = n_knots
        self.per_channel = per_channel
        self.p = p

    def _check_params(self) -> None:
        check_param(
            self.max_drift, "max_drift", owner=self, interval=(0, None), closed="left"
        )
        _check_knots(self)
        check_param(self.per_channel, "per_channel", owner=self, kind=bool)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        rows = channels if self.per_channel else 1
        dtype = _work_dtype(x)
        steps = _randn((batch, rows, self.n_knots - 1), generator, x, dtype)
        walk = torch.cat([steps.new_zeros(batch, rows, 1), steps.cumsum(-1)], dim=-1)
        drift = torch.nn.functional.interpolate(
            walk.unsqueeze(2), size=(1, length), mode="bicubic", align_corners=True
        )[:, :, 0]
        peak = drift.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12)
        size = self.max_drift * (1 - _rand((batch, rows, 1), generator, x, dtype))
        return x + (drift * (size / peak)).to(x.dtype)


class Resample(Augmentation):
    """Play the series at a random speed, keeping its length.

    Each sample is read at ``rate`` times its speed around its centre, with
    ``rate`` log-uniform in ``rate_range`` and linear interpolation: ``rate > 1``
    fits more of the series into the window (a faster heart rate, say), ``rate <
    1`` zooms in on its middle. Positions past either end are mirrored back into
    the series. All channels share the rate.

    Parameters
    ----------
    rate_range : tuple of (float, float), default=(0.8, 1.25)
        Range of the speed factor, both > 0.
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.arange(9.0).reshape(1, 1, 9)
    >>> Resample(rate_range=(0.5, 0.5))(x)[0, 0].tolist()
    [2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]
    """

    min_length = 2

    def __init__(
        self, rate_range: tuple[float, float] = (0.8, 1.25), p: float = 1.0
    ) -> None:
        self.rate_range = rate_range
        self.p = p

    def _check_params(self) -> None:
        _check_range(self.rate_range, "rate_range", self, interval=(0, None))

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, _, length = x.shape
        dtype = _work_dtype(x)
        low, high = (math.log(r) for r in self.rate_range)
        rate = torch.exp(_uniform((batch, 1), low, high, generator, x, dtype))
        centre = (length - 1) / 2
        t = torch.arange(length, device=x.device, dtype=dtype)
        pos = centre + (t - centre) * rate
        period = 2 * (length - 1)  # mirror positions back into [0, length - 1]
        pos = torch.remainder(pos, period)
        pos = torch.where(pos > length - 1, period - pos, pos)
        return _interp(x, pos)


class Mixup(Augmentation):
    """Mix each sample with another sample of the batch.

    Returns ``(1 - w) * x[i] + w * x[j]`` for a random partner ``j`` (a random
    permutation of the batch) and a weight ``w`` uniform in [0, ``max_weight``],
    so each sample stays dominant. A batch of one sample is returned unchanged.

    Parameters
    ----------
    max_weight : float, default=0.3
        Largest weight of the partner, in [0, 0.5].
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Zhang et al., mixup, ICLR 2018, arXiv:1710.09412
    .. [2] Wickstrøm et al., "Mixing up contrastive learning", 2022,
       arXiv:2011.10302

    Examples
    --------
    >>> x = torch.stack([torch.zeros(1, 4), torch.ones(1, 4)])
    >>> y = Mixup(max_weight=0.5)(x, torch.Generator().manual_seed(0))
    >>> bool((y[0] >= 0).all() and (y[0] <= 0.5).all())
    True
    """

    def __init__(self, max_weight: float = 0.3, p: float = 1.0) -> None:
        self.max_weight = max_weight
        self.p = p

    def _check_params(self) -> None:
        check_param(
            self.max_weight, "max_weight", owner=self, interval=(0, 0.5), closed="both"
        )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch = x.shape[0]
        partner = torch.randperm(batch, generator=generator, device=x.device)
        weight = self.max_weight * _rand((batch, 1, 1), generator, x)
        return torch.lerp(x, x[partner], weight)
