"""datasets.bandpass and preprocess_ecg: what they keep, what they remove, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tscl import datasets

FS = 250.0


def _wave(freq: float, seconds: float = 20.0) -> np.ndarray:
    t = np.arange(0, seconds, 1 / FS)
    return np.sin(2 * np.pi * freq * t)


def test_bandpass_keeps_the_band_and_removes_wander_and_noise():
    inside, wander, noise = _wave(10.0), _wave(0.05), _wave(100.0)
    middle = slice(1000, -1000)  # away from the edges
    kept = datasets.bandpass(inside + wander + noise, FS)
    np.testing.assert_allclose(kept[middle], inside[middle], atol=0.05)
    high_only = datasets.bandpass(wander + inside, FS, low=1.0, high=None)
    np.testing.assert_allclose(high_only[middle], inside[middle], atol=0.05)
    assert datasets.bandpass(inside.astype(np.float32), FS).dtype == np.float32


def test_bandpass_filters_each_row_of_a_batch_along_time():
    batch = np.stack([_wave(10.0), _wave(0.05)])[:, None, :]  # (2, 1, T)
    out = datasets.bandpass(batch, FS)
    assert out.shape == batch.shape
    np.testing.assert_allclose(out[1], datasets.bandpass(batch[1], FS))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"low": 0.0}, "0 < low < fs / 2"),
        ({"high": 200.0}, r"0 < high < fs / 2 = 125"),
        ({"low": 20.0, "high": 10.0}, "low < high"),
        ({"low": None, "high": None}, "got neither"),
    ],
)
def test_bandpass_cut_off_errors_name_the_limit(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.bandpass(_wave(10.0), FS, **kwargs)


def test_bandpass_refuses_gaps_and_series_too_short():
    x = _wave(10.0)
    x[100] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite.*Fill gaps first"):
        datasets.bandpass(x, FS)
    with pytest.raises(ValueError, match="series of 5 samples.*longer series"):
        datasets.bandpass(np.ones(5), FS)
    with pytest.raises(TypeError, match="real numbers"):
        datasets.bandpass(np.array(["a", "b"]), FS)


def test_preprocess_ecg_filters_then_resamples_and_refuses_aliasing():
    x = _wave(10.0) + _wave(0.05)
    out = datasets.preprocess_ecg(x, FS, fs_out=50.0, band=(0.5, 20.0))
    assert out.shape == (len(x) // 5,)
    expected = datasets.resample(datasets.bandpass(x, FS, 0.5, 20.0), FS, 50.0)
    np.testing.assert_allclose(out, expected)
    with pytest.raises(ValueError, match="below half of fs_out=50"):
        datasets.preprocess_ecg(x, FS, fs_out=50.0)  # 40 Hz edge would alias


def test_bandpass_refuses_an_output_that_overflows_float32():
    x = (_wave(10.0) * 3.0e38).astype(np.float32)  # near float32's largest value
    with pytest.raises(ValueError, match="does not fit in float32.*Scale the signal"):
        datasets.bandpass(x, FS)
    y = datasets.bandpass(x.astype(np.float64), FS)  # float64 holds it
    assert np.isfinite(y).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"order": 10**6}, ValueError, "at most 20.*got 1000000"),
        ({"low": "abc"}, TypeError, "low as a number of Hz or None; got 'abc'"),
        ({"high": True}, TypeError, "high as a number of Hz"),
    ],
)
def test_bandpass_bounds_and_types_of_its_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        datasets.bandpass(_wave(10.0), FS, **kwargs)


@pytest.mark.parametrize("band", ["abc", (1.0,), 5.0])
def test_preprocess_ecg_needs_a_pair_of_cut_offs(band):
    with pytest.raises(TypeError, match="band as a pair"):
        datasets.preprocess_ecg(_wave(10.0), FS, band=band)
