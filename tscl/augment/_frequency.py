"""Frequency-domain augmentations: remove or add spectral components (TF-C)."""

from __future__ import annotations

import torch
from torch import Tensor

from tscl._validation import check_param
from tscl.augment._core import Augmentation, _rand, _work_dtype

__all__ = ["FrequencyMask", "FrequencyNoise"]


def _spectrum(x: Tensor) -> Tensor:
    """Real FFT over time, in float32 for half-precision input."""
    return torch.fft.rfft(x.to(_work_dtype(x)), dim=-1)


def _signal(spectrum: Tensor, like: Tensor) -> Tensor:
    """Inverse of :func:`_spectrum`, back to ``like``'s length and dtype."""
    return torch.fft.irfft(spectrum, n=like.shape[-1], dim=-1).to(like.dtype)


class FrequencyMask(Augmentation):
    """Remove random frequency components.

    Each bin of the real FFT (per channel) is zeroed with probability ``ratio``
    and the series is transformed back, TF-C's "remove frequency" view.

    Parameters
    ----------
    ratio : float, default=0.1
        Probability that a frequency bin is removed, in [0, 1].
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Zhang et al., TF-C, NeurIPS 2022, arXiv:2206.08496

    Examples
    --------
    >>> t = torch.arange(64.0)
    >>> x = (torch.sin(t) + torch.sin(t / 4)).reshape(1, 1, 64)
    >>> y = FrequencyMask(ratio=1.0)(x)  # every component removed
    >>> float(y.abs().max()) < 1e-5
    True
    """

    def __init__(self, ratio: float = 0.1, p: float = 1.0) -> None:
        self.ratio = ratio
        self.p = p

    def _check_params(self) -> None:
        check_param(self.ratio, "ratio", owner=self, interval=(0, 1), closed="both")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        spectrum = _spectrum(x)
        drop = _rand(tuple(spectrum.shape), generator, x, torch.float32) < self.ratio
        return _signal(spectrum.masked_fill(drop, 0), x)


class FrequencyNoise(Augmentation):
    """Add random frequency components.

    Each bin of the real FFT (per channel) is chosen with probability ``ratio``
    and gets a component of random phase and an amplitude uniform in
    [0, ``strength`` × the largest amplitude of that channel's spectrum], TF-C's
    "add frequency" view.

    Parameters
    ----------
    ratio : float, default=0.1
        Probability that a frequency bin gets a component, in [0, 1].
    strength : float, default=0.1
        Largest added amplitude relative to the spectrum's peak.
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Zhang et al., TF-C, NeurIPS 2022, arXiv:2206.08496

    Examples
    --------
    >>> x = torch.sin(torch.arange(128.0) / 3).reshape(1, 1, 128)
    >>> y = FrequencyNoise(ratio=0.5, strength=0.2)(x, torch.Generator())
    >>> added = torch.fft.rfft(y - x).abs()
    >>> bool(added.max() <= 0.2 * torch.fft.rfft(x).abs().max())
    True
    """

    def __init__(
        self, ratio: float = 0.1, strength: float = 0.1, p: float = 1.0
    ) -> None:
        self.ratio = ratio
        self.strength = strength
        self.p = p

    def _check_params(self) -> None:
        check_param(self.ratio, "ratio", owner=self, interval=(0, 1), closed="both")
        check_param(
            self.strength, "strength", owner=self, interval=(0, None), closed="left"
        )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        spectrum = _spectrum(x)
        shape = tuple(spectrum.shape)
        dtype = spectrum.real.dtype
        chosen = _rand(shape, generator, x, torch.float32) < self.ratio
        peak = spectrum.abs().amax(dim=-1, keepdim=True)
        amplitude = self.strength * peak * _rand(shape, generator, x, dtype)
        phase = 2 * torch.pi * _rand(shape, generator, x, dtype)
        added = torch.polar(amplitude, phase) * chosen
        return _signal(spectrum + added, x)
