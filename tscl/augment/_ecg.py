"""ECG noise models in physical units: baseline wander, mains, muscle, electrodes.

Every class takes the sampling rate ``fs`` in Hz first. Its default, 500 Hz, is
PTB-XL's rate; pass your own rate, since frequencies and durations are converted
to timesteps with it. Amplitudes are in the signal's units (mV for raw ECG).
Inside :class:`tscl.ContrastiveEncoder` the inputs are standardised per channel,
so there amplitudes are in units of each channel's standard deviation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tscl._validation import check_count, check_param, short_repr
from tscl.augment._core import (
    MAX_COUNT,
    Augmentation,
    _check_range,
    _rand,
    _randn,
    _smooth_noise,
    _uniform,
    _work_dtype,
)

__all__ = ["BaselineWander", "EMGNoise", "ElectrodeMotion", "PowerlineNoise"]

#: Spacing of the knots of :class:`ElectrodeMotion`'s waveform, in seconds.
_MOTION_KNOT_SPACING = 0.1


def _check_amount(owner: Augmentation, name: str) -> None:
    """Check a finite parameter > 0 (``fs``) or >= 0 (amplitudes)."""
    closed = "neither" if name == "fs" else "left"
    value = getattr(owner, name)
    check_param(value, name, owner=owner, interval=(0, math.inf), closed=closed)


def _check_count(owner: Augmentation, name: str) -> None:
    check_count(getattr(owner, name), name, owner=owner, maximum=MAX_COUNT)


def _below_nyquist(owner: Augmentation, name: str, frequency: float) -> None:
    """Raise unless ``frequency`` (Hz, from parameter ``name``) is below fs / 2."""
    fs = owner.fs
    if frequency >= fs / 2:
        raise ValueError(
            f"{type(owner).__name__}({name}={short_repr(getattr(owner, name))}) needs "
            f"fs > {2 * frequency:g} Hz (frequencies must lie below the Nyquist "
            f"frequency fs/2); got fs={short_repr(fs)}. Pass the sampling rate of your "
            "data."
        )


def _seconds(x: Tensor, fs: float) -> Tensor:
    """Time of each timestep in seconds, in :func:`_work_dtype`; shape (time,)."""
    return torch.arange(x.shape[-1], device=x.device, dtype=_work_dtype(x)) / fs


class BaselineWander(Augmentation):
    """Add baseline wander: a slow drift from breathing and movement.

    The drift is a sum of ``n_components`` sinusoids with frequencies uniform in
    ``frequency_range`` (Hz), random phases and random relative weights,
    rescaled so that its largest excursion over the series is
    ``amplitude`` × U(0, 1]. Each channel of each sample gets its own drift.

    Parameters
    ----------
    fs : float, default=500.0
        Sampling rate in Hz. The default is PTB-XL's rate; pass your data's.
    amplitude : float, default=0.2
        Largest peak of the drift, in the signal's units (mV for raw ECG; in
        standard deviations of each channel inside
        :class:`tscl.ContrastiveEncoder`, which standardises its input).
    frequency_range : tuple of (float, float), default=(0.05, 0.5)
        Range of the sinusoids' frequencies in Hz, >= 0 and below fs / 2.
    n_components : int, default=3
        Number of sinusoids, at least 1.
    p : float, default=1.0
        Probability that a sample is transformed.

    Raises
    ------
    ValueError
        If ``frequency_range`` reaches the Nyquist frequency ``fs / 2``.

    References
    ----------
    .. [1] Moody, Muldrow and Mark, "A noise stress test for arrhythmia
       detectors", Computers in Cardiology 11, 1984.
    .. [2] Mehari and Strodthoff, "Self-supervised representation learning from
       12-lead ECG data", Computers in Biology and Medicine, 2022,
       arXiv:2103.12676

    Examples
    --------
    >>> x = torch.zeros(4, 12, 5000)  # 10 s of 12-lead ECG at 500 Hz
    >>> y = BaselineWander(fs=500.0, amplitude=0.2)(x, torch.Generator())
    >>> bool(y.abs().max() <= 0.2), bool(y.diff().abs().max() < 0.01)  # slow
    (True, True)
    """

    def __init__(
        self,
        fs: float = 500.0,
        amplitude: float = 0.2,
        frequency_range: tuple[float, float] = (0.05, 0.5),
        n_components: int = 3,
        p: float = 1.0,
    ) -> None:
        self.fs = fs
        self.amplitude = amplitude
        self.frequency_range = frequency_range
        self.n_components = n_components
        self.p = p

    def _check_params(self) -> None:
        _check_amount(self, "fs")
        _check_amount(self, "amplitude")
        _, high = _check_range(
            self.frequency_range,
            "frequency_range",
            self,
            interval=(0, math.inf),
            closed="left",
        )
        _below_nyquist(self, "frequency_range", high)
        _check_count(self, "n_components")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, _ = x.shape
        dtype = _work_dtype(x)
        low, high = self.frequency_range
        shape = (batch, channels, self.n_components, 1)
        freq = _uniform(shape, low, high, generator, x, dtype)
        phase = _uniform(shape, 0, 2 * math.pi, generator, x, dtype)
        weight = 1 - _rand(shape, generator, x, dtype)  # in (0, 1]
        t = _seconds(x, self.fs)  # (time,)
        wander = (weight * torch.sin(2 * math.pi * freq * t + phase)).sum(dim=2)
        peak = wander.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12)
        size = self.amplitude * (1 - _rand((batch, channels, 1), generator, x, dtype))
        return x + (wander * (size / peak)).to(x.dtype)  # (batch, channels, time)


class PowerlineNoise(Augmentation):
    """Add mains interference: a sinusoid at 50 or 60 Hz and its harmonics.

    The fundamental at ``frequency`` gets a random phase and an amplitude
    ``a`` drawn uniformly from (0, ``amplitude``]; the harmonic ``k *
    frequency`` (k = 2, ..., ``n_harmonics``) has amplitude ``a / k`` and its own
    random phase. Harmonics at or above the Nyquist frequency ``fs / 2`` are
    left out. Each channel of each sample gets its own amplitude and phases.

    Parameters
    ----------
    fs : float, default=500.0
        Sampling rate in Hz. The default is PTB-XL's rate; pass your data's.
    frequency : float, default=50.0
        Mains frequency in Hz (50 in Europe, 60 in the Americas); below fs / 2.
    amplitude : float, default=0.05
        Largest amplitude of the fundamental, in the signal's units (mV for raw
        ECG; in standard deviations of each channel inside
        :class:`tscl.ContrastiveEncoder`, which standardises its input).
    n_harmonics : int, default=3
        Number of components, the fundamental included, at least 1.
    p : float, default=1.0
        Probability that a sample is transformed.

    Raises
    ------
    ValueError
        If ``frequency`` is at or above the Nyquist frequency ``fs / 2``.

    References
    ----------
    .. [1] Mehari and Strodthoff, "Self-supervised representation learning from
       12-lead ECG data", Computers in Biology and Medicine, 2022,
       arXiv:2103.12676

    Examples
    --------
    >>> x = torch.zeros(1, 1, 500)  # 1 s at 500 Hz: FFT bins 1 Hz apart
    >>> aug = PowerlineNoise(fs=500.0, frequency=60.0, n_harmonics=1)
    >>> spectrum = torch.fft.rfft(aug(x, torch.Generator().manual_seed(0))).abs()
    >>> int(spectrum.argmax())
    60
    >>> PowerlineNoise(fs=100.0)(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: PowerlineNoise(frequency=50.0) needs fs > 100 Hz ...; got fs=100.0. ...
    """

    def __init__(
        self,
        fs: float = 500.0,
        frequency: float = 50.0,
        amplitude: float = 0.05,
        n_harmonics: int = 3,
        p: float = 1.0,
    ) -> None:
        self.fs = fs
        self.frequency = frequency
        self.amplitude = amplitude
        self.n_harmonics = n_harmonics
        self.p = p

    def _check_params(self) -> None:
        _check_amount(self, "fs")
        check_param(self.frequency, "frequency", owner=self, interval=(0, math.inf))
        _below_nyquist(self, "frequency", self.frequency)
        _check_count(self, "n_harmonics")
        _check_amount(self, "amplitude")

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, _ = x.shape
        dtype = _work_dtype(x)
        n = sum(
            k * self.frequency < self.fs / 2 for k in range(1, self.n_harmonics + 1)
        )  # harmonics below Nyquist
        k = torch.arange(1, n + 1, device=x.device, dtype=dtype).unsqueeze(-1)
        phase = _uniform((batch, channels, n), 0, 2 * math.pi, generator, x, dtype)
        size = self.amplitude * (1 - _rand((batch, channels, 1), generator, x, dtype))
        # sin(w t + phase) = cos(phase) sin(w t) + sin(phase) cos(w t): the waves
        # of every sample are one matrix product with the shared (2n, time) basis.
        angle = 2 * math.pi * self.frequency * k * _seconds(x, self.fs)  # (n, time)
        basis = torch.cat([torch.sin(angle) / k, torch.cos(angle) / k])
        weights = size * torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)
        return x + (weights @ basis).to(x.dtype)  # (batch, channels, time)


class EMGNoise(Augmentation):
    """Add muscle (EMG) noise: Gaussian noise band-limited to ``band`` Hz.

    White Gaussian noise is filtered with an FFT mask that keeps the bins in
    ``band`` (its upper edge clipped to ``fs / 2``), normalised to unit RMS and
    scaled to an RMS of ``amplitude`` × U(0, 1], independently for each channel
    of each sample.

    Parameters
    ----------
    fs : float, default=500.0
        Sampling rate in Hz. The default is PTB-XL's rate; pass your data's.
    amplitude : float, default=0.05
        Largest RMS of the noise, in the signal's units (mV for raw ECG; in
        standard deviations of each channel inside
        :class:`tscl.ContrastiveEncoder`, which standardises its input).
    band : tuple of (float, float), default=(20.0, 150.0)
        Lower and upper edge of the noise band in Hz; the lower edge must lie
        below fs / 2.
    p : float, default=1.0
        Probability that a sample is transformed.

    Raises
    ------
    ValueError
        If the band lies at or above the Nyquist frequency ``fs / 2``, or the
        series is shorter than :attr:`min_length`.

    References
    ----------
    .. [1] Moody, Muldrow and Mark, "A noise stress test for arrhythmia
       detectors", Computers in Cardiology 11, 1984.

    Examples
    --------
    >>> x = torch.zeros(8, 1, 1000)
    >>> y = EMGNoise(fs=500.0, amplitude=0.05)(x, torch.Generator())
    >>> bool(y.pow(2).mean(dim=-1).sqrt().max() <= 0.05)  # RMS at most amplitude
    True
    >>> EMGNoise(fs=500.0, band=(20.0, 150.0)).min_length  # ceil(500 / 130)
    4
    """

    def __init__(
        self,
        fs: float = 500.0,
        amplitude: float = 0.05,
        band: tuple[float, float] = (20.0, 150.0),
        p: float = 1.0,
    ) -> None:
        self.fs = fs
        self.amplitude = amplitude
        self.band = band
        self.p = p

    @property
    def min_length(self) -> int:  # type: ignore[override]
        """Shortest series with an FFT bin (spacing ``fs / time``) in the band."""
        self._check_params()
        low, high = self.band
        return math.ceil(self.fs / (min(high, self.fs / 2) - low))

    def _check_params(self) -> None:
        _check_amount(self, "fs")
        _check_amount(self, "amplitude")
        low, high = _check_range(
            self.band, "band", self, interval=(0, math.inf), closed="left"
        )
        _below_nyquist(self, "band", low)
        if low == high:
            raise ValueError(
                f"EMGNoise needs band[0] < band[1]; got {tuple(self.band)}."
            )

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        dtype = _work_dtype(x)
        low, high = self.band
        step = self.fs / length  # spacing of the FFT bins in Hz
        freq = torch.arange(length // 2 + 1, device=x.device, dtype=dtype) * step
        tol = 1e-6 * step  # keeps a bin that lies on an edge despite rounding
        keep = (freq >= low - tol) & (freq <= min(high, self.fs / 2) + tol)
        white = _randn((batch, channels, length), generator, x, dtype)
        spectrum = torch.fft.rfft(white, dim=-1) * keep
        noise = torch.fft.irfft(spectrum, n=length, dim=-1)
        rms = noise.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp_min(1e-12)
        size = self.amplitude * (1 - _rand((batch, channels, 1), generator, x, dtype))
        return x + (noise * (size / rms)).to(x.dtype)  # (batch, channels, time)


class ElectrodeMotion(Augmentation):
    """Add electrode-motion artefacts: short bursts of slow, large deflections.

    Each channel of each sample gets ``n_bursts`` bursts. A burst lasts a
    duration uniform in ``duration_range`` seconds (at least 2 timesteps, at most
    the series plus one timestep) and starts uniformly at random so that it
    lies within the series. Its shape is a smooth random waveform (cubic
    interpolation through N(0, 1) knots about 0.1 s apart, so below about
    10 Hz) under a Hann envelope ``sin²(π (t - start) / duration)``, zero
    outside the burst, rescaled to a peak of ``amplitude`` × U(0.5, 1].
    Overlapping bursts add up.

    Parameters
    ----------
    fs : float, default=500.0
        Sampling rate in Hz. The default is PTB-XL's rate; pass your data's.
    amplitude : float, default=0.5
        Largest peak of a burst, in the signal's units (mV for raw ECG; in
        standard deviations of each channel inside
        :class:`tscl.ContrastiveEncoder`, which standardises its input).
    duration_range : tuple of (float, float), default=(0.1, 0.5)
        Range of the bursts' durations in seconds, > 0.
    n_bursts : int, default=1
        Bursts per channel, at least 1.
    p : float, default=1.0
        Probability that a sample is transformed.

    References
    ----------
    .. [1] Moody, Muldrow and Mark, "A noise stress test for arrhythmia
       detectors", Computers in Cardiology 11, 1984.

    Examples
    --------
    >>> x = torch.zeros(4, 1, 2000)  # 4 s at 500 Hz
    >>> aug = ElectrodeMotion(fs=500.0, duration_range=(0.2, 0.2))
    >>> y = aug(x, torch.Generator().manual_seed(0))
    >>> (y != 0).sum(dim=-1).flatten().tolist()  # 0.2 s = 100 timesteps
    [100, 100, 100, 100]
    >>> bool(y.abs().amax(dim=-1).min() > 0.25), bool(y.abs().max() <= 0.5)
    (True, True)
    """

    def __init__(
        self,
        fs: float = 500.0,
        amplitude: float = 0.5,
        duration_range: tuple[float, float] = (0.1, 0.5),
        n_bursts: int = 1,
        p: float = 1.0,
    ) -> None:
        self.fs = fs
        self.amplitude = amplitude
        self.duration_range = duration_range
        self.n_bursts = n_bursts
        self.p = p

    def _check_params(self) -> None:
        _check_amount(self, "fs")
        _check_amount(self, "amplitude")
        _check_range(
            self.duration_range, "duration_range", self, interval=(0, math.inf)
        )
        _check_count(self, "n_bursts")

    def _envelope(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        """Hann envelopes of random bursts; shape (batch, channels, n_bursts, time)."""
        batch, channels, length = x.shape
        dtype = _work_dtype(x)
        shape = (batch, channels, self.n_bursts, 1)
        low, high = self.duration_range
        duration = _uniform(shape, low * self.fs, high * self.fs, generator, x, dtype)
        duration = duration.clamp(2, length + 1)  # in timesteps
        # The burst is zero at start and start + duration: keep both in [-1, length].
        start = -1 + (length + 1 - duration) * _rand(shape, generator, x, dtype)
        phase = (torch.arange(length, device=x.device, dtype=dtype) - start) / duration
        inside = (phase > 0) & (phase < 1)
        return torch.where(inside, torch.sin(torch.pi * phase).pow(2), 0)

    def _transform(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        batch, channels, length = x.shape
        dtype = _work_dtype(x)
        envelope = self._envelope(x, generator)  # (batch, channels, n_bursts, time)
        knots = round(length / (_MOTION_KNOT_SPACING * self.fs)) + 1
        knots = max(2, min(knots, length))
        like = envelope.new_empty(0)  # draws in the work dtype
        wave = _smooth_noise(
            (batch, channels * self.n_bursts), length, knots, generator, like
        ).reshape(envelope.shape)
        bursts = wave * envelope
        peak = bursts.abs().amax(dim=-1, keepdim=True).clamp_min(1e-12)
        shape = (batch, channels, self.n_bursts, 1)
        size = self.amplitude * _uniform(shape, 1.0, 0.5, generator, x, dtype)
        noise = (bursts * (size / peak)).sum(dim=2)  # (batch, channels, time)
        return x + noise.to(x.dtype)
