"""Augmentations across channels: shuffling, rotation and lead dropout.

On a single-channel series each of them returns the input unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tscl._validation import check_param
from tscl.augment._core import Augmentation, _rand, _randn, _work_dtype

__all__ = ["ChannelDropout", "ChannelShuffle", "Rotation"]


class ChannelShuffle(Augmentation):
    """Put each sample's channels in a random order.

    Parameters
    ----------
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.arange(3.0).reshape(1, 3, 1).repeat(4, 1, 5)
    >>> y = ChannelShuffle()(x, torch.Generator().manual_seed(0))
    >>> sorted(y[0, :, 0].tolist())
    [0.0, 1.0, 2.0]
    """

    def __init__(self, p: float = 1.0) -> None:
        self.p = p

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        order = _rand((batch, channels), generator, x, torch.float32).argsort(dim=1)
        return x.gather(1, order.unsqueeze(-1).expand(-1, -1, length))


class Rotation(Augmentation):
    """Rotate the channel vector by a random angle in a random plane.

    For each sample two random orthonormal directions ``u, v`` of the channel
    space span a plane, and every timestep's channel vector is rotated in it by
    an angle uniform in [-``max_angle``, ``max_angle``] degrees: a sensor worn
    at another orientation (3-axis accelerometers) or, for ECG leads, a change
    of the heart's electrical axis. Lengths of channel vectors are kept.

    Parameters
    ----------
    max_angle : float, default=30.0
        Largest rotation angle in degrees, in [0, 180].
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> x = torch.randn(4, 3, 50)
    >>> y = Rotation(max_angle=90)(x, torch.Generator().manual_seed(0))
    >>> torch.allclose(y.norm(dim=1), x.norm(dim=1), atol=1e-5)  # lengths kept
    True
    """

    def __init__(self, max_angle: float = 30.0, p: float = 1.0) -> None:
        self.max_angle = max_angle
        self.p = p

    def _check_params(self) -> None:
        check_param(
            self.max_angle, "max_angle", owner=self, interval=(0, 180), closed="both"
        )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, _ = x.shape
        if channels == 1:
            return x.clone()
        dtype = _work_dtype(x)
        u, v = _randn((2, batch, channels, 1), generator, x, dtype).unbind(0)
        u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)
        v = v - (u * v).sum(dim=1, keepdim=True) * u  # Gram-Schmidt
        v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        limit = math.radians(self.max_angle)
        angle = limit * (2 * _rand((batch, 1, 1), generator, x, dtype) - 1)
        uu, vv = u @ u.mT, v @ v.mT
        eye = torch.eye(channels, device=x.device, dtype=dtype)
        rotation = (
            eye
            + torch.sin(angle) * (v @ u.mT - u @ v.mT)
            + (torch.cos(angle) - 1) * (uu + vv)
        )
        return (rotation @ x.to(dtype)).to(x.dtype)


class ChannelDropout(Augmentation):
    """Zero random channels (lead dropout), never all of a sample's channels.

    Each channel is dropped with probability ``rate``; if that would drop all of
    them, the one with the largest draw is kept.

    Parameters
    ----------
    rate : float, default=0.25
        Probability that a channel is dropped, in [0, 1].
    p : float, default=1.0
        Probability that a sample is transformed.

    Examples
    --------
    >>> y = ChannelDropout(rate=1.0)(torch.ones(2, 4, 3), torch.Generator())
    >>> y[:, :, 0].sum(dim=1).tolist()  # one channel of each sample survives
    [1.0, 1.0]
    """

    def __init__(self, rate: float = 0.25, p: float = 1.0) -> None:
        self.rate = rate
        self.p = p

    def _check_params(self) -> None:
        check_param(self.rate, "rate", owner=self, interval=(0, 1), closed="both")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, _ = x.shape
        u = _rand((batch, channels), generator, x, torch.float32)
        drop = u < self.rate
        survivor = torch.nn.functional.one_hot(u.argmax(dim=1), channels).bool()
        drop = drop & ~survivor
        return x.masked_fill(drop.unsqueeze(-1), 0.0)
