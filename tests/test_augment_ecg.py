"""Tests for the ECG noise models of tscl.augment: physics and errors.

The contract every augmentation keeps (shape, dtype, seeds, p, lengths, no loop over
the batch) is tested over the registry in test_augment.py, which also runs the
non-default settings in ``AUGS`` below.
"""

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tscl.augment._ecg import BaselineWander, ElectrodeMotion, EMGNoise, PowerlineNoise

FS = 500.0
CLASSES = [BaselineWander, PowerlineNoise, EMGNoise, ElectrodeMotion]
AUGS = [cls() for cls in CLASSES] + [
    BaselineWander(fs=100.0, frequency_range=(0.1, 2.0), n_components=1),
    PowerlineNoise(fs=250.0, frequency=60.0, n_harmonics=5),
    EMGNoise(fs=360.0, band=(5.0, 400.0)),
    ElectrodeMotion(fs=250.0, duration_range=(0.01, 2.0), n_bursts=3),
]
IDS = [repr(a) for a in AUGS]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _zeros(batch: int, channels: int, seconds: float, fs: float = FS) -> torch.Tensor:
    return torch.zeros(batch, channels, round(seconds * fs), dtype=torch.float64)


def _power(y: torch.Tensor, fs: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Power spectrum of each series and the frequency of each bin (float64)."""
    power = torch.fft.rfft(y.double(), dim=-1).abs().pow(2)
    freq = torch.fft.rfftfreq(y.shape[-1], d=1 / fs, dtype=torch.float64)
    return power, freq


def _fraction(y: torch.Tensor, fs: float, mask_fn) -> float:
    power, freq = _power(y, fs)
    return float(power[..., mask_fn(freq)].sum() / power.sum())


# ---------------------------------------------------------------------- contract


@pytest.mark.parametrize("aug", AUGS, ids=IDS)
def test_channels_get_independent_noise(aug):
    y = aug(torch.zeros(4, 12, 500), _gen(0))
    for c in range(1, 12):
        assert not torch.allclose(y[:, 0], y[:, c])


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("fs", [-500.0, 0.0, math.inf, math.nan])
def test_fs_must_be_a_positive_finite_number(cls, fs):
    aug = cls(fs=fs)  # nothing is checked in __init__
    with pytest.raises(ValueError, match=rf"'fs' parameter of {cls.__name__}"):
        aug(torch.zeros(2, 1, 100))


@pytest.mark.parametrize("cls", CLASSES)
def test_fs_of_the_wrong_type_is_a_type_error(cls):
    with pytest.raises(TypeError, match="'fs' parameter"):
        cls(fs="500")(torch.zeros(2, 1, 100))


@pytest.mark.parametrize("fs", [50.0, 100.0, 60.0])
def test_powerline_frequency_at_or_above_nyquist_raises(fs):
    message = "PowerlineNoise(frequency=50.0) needs fs > 100 Hz (frequencies must "
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        PowerlineNoise(fs=fs)(torch.zeros(2, 1, 100))
    assert f"got fs={fs!r}" in str(info.value)


def test_powerline_frequency_just_below_nyquist_works():
    y = PowerlineNoise(fs=100.5, n_harmonics=1)(torch.zeros(2, 1, 201), _gen(0))
    assert y.abs().max() > 0


def test_baseline_range_reaching_nyquist_raises():
    aug = BaselineWander(fs=1.0)
    with pytest.raises(
        ValueError, match=r"frequency_range=\(0.05, 0.5\)\) needs fs > 1"
    ):
        aug(torch.zeros(2, 1, 100))
    BaselineWander(fs=1.01)(torch.zeros(2, 1, 100))  # just above: fine


@pytest.mark.parametrize("fs", [40.0, 30.0, 10.0])
def test_emg_band_above_nyquist_raises(fs):
    with pytest.raises(
        ValueError, match=r"EMGNoise\(band=\(20.0, 150.0\)\) needs fs > 40"
    ):
        EMGNoise(fs=fs)(torch.zeros(2, 1, 100))


@pytest.mark.parametrize(
    ("aug", "error", "pattern"),
    [
        (BaselineWander(amplitude=-0.1), ValueError, "'amplitude' parameter"),
        (BaselineWander(amplitude=math.inf), ValueError, "'amplitude' parameter"),
        (BaselineWander(n_components=0), ValueError, "'n_components' parameter"),
        (BaselineWander(n_components=2.0), TypeError, "'n_components' parameter"),
        (BaselineWander(frequency_range=(0.5, 0.05)), ValueError, "frequency_range"),
        (BaselineWander(frequency_range=(-1, 0.5)), ValueError, "'frequency_range'"),
        (BaselineWander(frequency_range=0.5), TypeError, "'frequency_range'"),
        (PowerlineNoise(frequency=0.0), ValueError, "'frequency' parameter"),
        (PowerlineNoise(frequency=None), TypeError, "'frequency' parameter"),
        (PowerlineNoise(amplitude=-1), ValueError, "'amplitude' parameter"),
        (PowerlineNoise(n_harmonics=0), ValueError, "'n_harmonics' parameter"),
        (PowerlineNoise(n_harmonics=1.5), TypeError, "'n_harmonics' parameter"),
        (EMGNoise(amplitude=-1), ValueError, "'amplitude' parameter"),
        (EMGNoise(band=(150.0, 20.0)), ValueError, r"band\[0\] <= band\[1\]"),
        (EMGNoise(band=(20.0, 20.0)), ValueError, r"band\[0\] < band\[1\]"),
        (EMGNoise(band=(-5.0, 20.0)), ValueError, "'band' parameter"),
        (EMGNoise(band="20-150"), TypeError, "'band' parameter"),
        (ElectrodeMotion(amplitude=-1), ValueError, "'amplitude' parameter"),
        (ElectrodeMotion(duration_range=(0.0, 0.1)), ValueError, "'duration_range'"),
        (ElectrodeMotion(duration_range=(0.5, 0.1)), ValueError, "duration_range"),
        (ElectrodeMotion(n_bursts=0), ValueError, "'n_bursts' parameter"),
        (ElectrodeMotion(p=1.5), ValueError, "'p' parameter"),
    ],
    ids=repr,
)
def test_bad_parameters_raise_naming_the_parameter(aug, error, pattern):
    with pytest.raises(error, match=pattern):
        aug(torch.zeros(2, 1, 100))


def test_zero_amplitude_is_the_identity():
    x = torch.randn(4, 2, 100, generator=_gen(1))
    for cls in CLASSES:
        assert torch.equal(cls(amplitude=0.0)(x, _gen(0)), x)


# ---------------------------------------------------------------- baseline wander


def test_baseline_wander_is_slow_and_bounded_by_amplitude():
    y = BaselineWander(fs=FS, amplitude=0.3)(_zeros(64, 2, 10.0), _gen(0))
    assert _fraction(y, FS, lambda f: f <= 0.5) > 0.9  # leakage of partial cycles
    assert _fraction(y, FS, lambda f: f <= 1.0) > 0.97
    peak = y.abs().amax(dim=-1)  # (batch, channels): amplitude * U(0, 1]
    assert float(peak.max()) <= 0.3 * (1 + 1e-9)
    assert float(peak.max()) > 0.28
    assert float(peak.min()) < 0.05
    assert float(peak.mean()) == pytest.approx(0.15, abs=0.03)


def test_baseline_wander_frequencies_come_from_frequency_range():
    aug = BaselineWander(fs=100.0, frequency_range=(5.0, 5.0), n_components=2)
    y = aug(_zeros(8, 1, 2.0, fs=100.0), _gen(0))  # 0.5 Hz bins
    power, freq = _power(y, 100.0)
    assert (freq[power.argmax(dim=-1)] == 5.0).all()
    assert float(power[..., freq == 5.0].sum() / power.sum()) > 0.999


# ----------------------------------------------------------------- powerline


@pytest.mark.parametrize("frequency", [50.0, 60.0])
def test_powerline_power_sits_at_the_mains_frequency_and_harmonics(frequency):
    aug = PowerlineNoise(fs=FS, frequency=frequency, amplitude=0.1, n_harmonics=3)
    y = aug(_zeros(32, 3, 1.0), _gen(0))  # 1 s: 1 Hz bins, whole cycles
    power, freq = _power(y, FS)
    lines = [frequency, 2 * frequency, 3 * frequency]
    on_lines = (freq.unsqueeze(-1) == torch.tensor(lines)).any(-1)
    assert float(power[..., on_lines].sum() / power.sum()) > 1 - 1e-12
    # Amplitude of each component: 2 |X_k| / n.
    amp = torch.fft.rfft(y, dim=-1).abs() * (2 / y.shape[-1])
    a1, a2, a3 = (amp[..., int(f)] for f in lines)
    assert float(a1.max()) <= 0.1 * (1 + 1e-9)
    assert float(a1.max()) > 0.09
    assert float(a1.min()) < 0.02
    torch.testing.assert_close(a2, a1 / 2)  # decaying as 1/k
    torch.testing.assert_close(a3, a1 / 3)


def test_powerline_skips_harmonics_at_or_above_nyquist():
    aug = PowerlineNoise(fs=200.0, frequency=50.0, n_harmonics=4)  # 100 Hz = fs/2
    y = aug(_zeros(16, 2, 1.0, fs=200.0), _gen(0))
    power, freq = _power(y, 200.0)
    assert float(power[..., freq == 50.0].sum() / power.sum()) > 1 - 1e-12
    aug = PowerlineNoise(fs=250.0, frequency=60.0, n_harmonics=10)  # 60 and 120 Hz
    y = aug(_zeros(16, 2, 1.0, fs=250.0), _gen(0))
    power, freq = _power(y, 250.0)
    on_lines = (freq == 60.0) | (freq == 120.0)
    assert float(power[..., on_lines].sum() / power.sum()) > 1 - 1e-12
    assert (power[..., freq == 120.0] > 0).all()


# ----------------------------------------------------------------------- EMG


def test_emg_power_lies_in_the_band_and_rms_is_at_most_amplitude():
    aug = EMGNoise(fs=FS, amplitude=0.2, band=(20.0, 150.0))
    y = aug(_zeros(64, 2, 2.0), _gen(0))
    power, freq = _power(y, FS)
    outside = (freq < 20.0) | (freq > 150.0)
    assert float(power[..., outside].sum() / power.sum()) < 1e-20
    inside = power[..., ~outside].mean(dim=(0, 1))  # white within the band
    assert float(inside.std() / inside.mean()) < 0.3
    rms = y.pow(2).mean(dim=-1).sqrt()  # amplitude * U(0, 1]
    assert float(rms.max()) <= 0.2 * (1 + 1e-9)
    assert float(rms.max()) > 0.19
    assert float(rms.min()) < 0.02
    assert float(rms.mean()) == pytest.approx(0.1, abs=0.02)


def test_emg_band_is_clipped_at_nyquist():
    y = EMGNoise(fs=100.0, band=(20.0, 150.0))(_zeros(8, 1, 2.0, fs=100.0), _gen(0))
    power, freq = _power(y, 100.0)
    assert float(power[..., freq < 20.0].sum() / power.sum()) < 1e-20
    assert (power[..., freq > 45.0].sum(dim=-1) > 0).all()  # up to fs/2


@pytest.mark.parametrize(
    ("fs", "band", "expected"),
    [
        (500.0, (20.0, 150.0), 4),  # ceil(500 / 130)
        (500.0, (20.0, 400.0), 3),  # ceil(500 / 230): upper edge clipped to 250
        (100.0, (20.0, 150.0), 4),  # ceil(100 / 30)
        (500.0, (100.0, 150.0), 10),
        (360.0, (0.0, 180.0), 2),
    ],
)
def test_emg_min_length_rule(fs, band, expected):
    aug = EMGNoise(fs=fs, band=band)
    assert aug.min_length == expected
    y = aug(torch.zeros(8, 1, expected, dtype=torch.float64), _gen(0))
    assert (y.abs().amax(dim=-1) > 0).all()


def test_emg_min_length_reports_bad_parameters():
    with pytest.raises(ValueError, match="needs fs > 40"):
        EMGNoise(fs=30.0).min_length  # noqa: B018


@settings(deadline=None, max_examples=25)
@given(
    fs=st.floats(1.0, 2000.0),
    low_fraction=st.floats(0.0, 0.99),
    width_fraction=st.floats(1e-3, 2.0),
    extra=st.integers(0, 5),
)
def test_emg_min_length_always_has_a_bin_in_the_band(
    fs, low_fraction, width_fraction, extra
):
    low = low_fraction * fs / 2
    high = low + width_fraction * (fs / 2 - low) + 1e-9 * fs
    aug = EMGNoise(fs=fs, band=(low, high))
    n = aug.min_length
    assert n == math.ceil(fs / (min(high, fs / 2) - low))
    y = aug(torch.zeros(8, 1, n + extra, dtype=torch.float64), _gen(0))
    assert torch.isfinite(y).all()
    assert (y.abs().amax(dim=-1) > 0).all()  # some bin lies in the band


# ------------------------------------------------------------ electrode motion


def test_electrode_motion_bursts_are_contiguous_bounded_and_last_as_asked():
    aug = ElectrodeMotion(fs=FS, amplitude=0.4, duration_range=(0.1, 0.5))
    y = aug(_zeros(64, 2, 4.0), _gen(0))
    active = y != 0  # zero outside the burst
    t = torch.arange(y.shape[-1])
    first = torch.where(active, t, y.shape[-1]).amin(dim=-1)
    last = torch.where(active, t, -1).amax(dim=-1)
    n_active = active.sum(dim=-1)
    assert torch.equal(n_active, last - first + 1)  # one contiguous burst
    assert int(n_active.min()) >= 0.1 * FS - 1
    assert int(n_active.max()) <= 0.5 * FS
    assert n_active.float().std() > 20  # durations vary
    peak = y.abs().amax(dim=-1)  # amplitude * U(0.5, 1]
    assert float(peak.max()) <= 0.4 * (1 + 1e-9)
    assert float(peak.min()) >= 0.2 * (1 - 1e-9)


def test_electrode_motion_is_low_frequency():
    y = ElectrodeMotion(fs=FS)(_zeros(64, 2, 4.0), _gen(0))
    assert _fraction(y, FS, lambda f: f <= 15.0) > 0.95


def test_electrode_motion_fixed_duration_and_several_bursts():
    aug = ElectrodeMotion(fs=FS, duration_range=(0.2, 0.2))
    n_active = (aug(_zeros(32, 1, 2.0), _gen(0)) != 0).sum(dim=-1)
    assert ((n_active >= 99) & (n_active <= 100)).all()
    aug = ElectrodeMotion(fs=FS, duration_range=(0.05, 0.05), n_bursts=3)
    n_active = (aug(_zeros(32, 1, 2.0), _gen(0)) != 0).sum(dim=-1)
    assert (n_active <= 75).all()
    assert (n_active >= 24).all()


def test_electrode_motion_clips_long_and_stretches_tiny_bursts():
    long = ElectrodeMotion(fs=FS, duration_range=(5.0, 5.0))
    y = long(_zeros(8, 1, 1.0), _gen(0))
    assert (y != 0).all()  # one burst over the whole series
    tiny = ElectrodeMotion(fs=FS, duration_range=(1e-4, 1e-4))  # 0.05 timesteps
    y = tiny(_zeros(8, 3, 1.0), _gen(0))
    n_active = (y != 0).sum(dim=-1)
    assert ((n_active >= 1) & (n_active <= 2)).all()
    assert float(y.abs().amax(dim=-1).min()) >= 0.25
