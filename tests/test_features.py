"""Tests of tscl.features on the shipped ECG records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tscl import datasets
from tscl.features import RR_FEATURE_NAMES, rr_features

wfdb = pytest.importorskip("wfdb")

ROOT = Path(__file__).resolve().parents[1]
COL = {name: i for i, name in enumerate(RR_FEATURE_NAMES)}


@pytest.fixture(scope="module")
def challenge_features():
    signals, labels, _ = datasets.load_challenge2017()
    return rr_features(signals, fs=300.0), labels


def test_shape_names_and_finite(challenge_features):
    F, labels = challenge_features
    assert F.shape == (300, len(RR_FEATURE_NAMES))
    assert len(set(RR_FEATURE_NAMES)) == len(RR_FEATURE_NAMES)
    assert F.dtype == np.float64
    assert np.isfinite(F).all()
    heart_rate = np.median(F[labels == "N", COL["heart_rate"]])
    assert 50 < heart_rate < 100


def test_af_is_more_irregular_than_normal(challenge_features):
    F, labels = challenge_features
    for name in ("rmssd", "irregularity", "sdnn", "pnn50"):
        af = np.median(F[labels == "A", COL[name]])
        normal = np.median(F[labels == "N", COL[name]])
        assert af > 2 * normal, name


def test_beat_count_matches_reference_annotations():
    path = ROOT / "datasets" / "mitdb" / "100"
    signal = wfdb.rdrecord(str(path), channels=[0]).p_signal[:, 0]
    n_beats = len(wfdb.rdann(str(path), "atr").sample) - 1  # minus the '+' rhythm note
    F = rr_features([signal], fs=360.0)
    detected = F[0, COL["beats_per_second"]] * 600.0
    assert abs(detected - n_beats) <= 0.02 * n_beats
    assert F[0, COL["few_beats"]] == 0.0


def test_few_beats_fallback_and_2d_input():
    signals = np.zeros((2, 3000))
    F = rr_features(signals, fs=300.0)
    assert F.shape == (2, len(RR_FEATURE_NAMES))
    assert np.isfinite(F).all()
    assert (F[:, COL["few_beats"]] == 1.0).all()
    assert not F[:, : COL["heart_rate"] + 1].any()
    short = rr_features([np.ones(10)], fs=300.0)
    assert short[0, COL["few_beats"]] == 1.0


def test_errors():
    with pytest.raises(ValueError, match="fs must be a sampling rate > 0"):
        rr_features([np.zeros(100)], fs=0)
    with pytest.raises(ValueError, match="Record 1 must be a non-empty 1-D array"):
        rr_features([np.zeros(100), np.array([0.0, np.nan])], fs=300.0)
    with pytest.raises(ValueError, match=r"got shape \(2, 5\)"):
        rr_features([np.zeros((2, 5))], fs=300.0)
    assert rr_features([], fs=300.0).shape == (0, len(RR_FEATURE_NAMES))


def test_rr_transformer_matches_the_function_and_reads_one_lead():
    from tscl.features import RRFeatures

    signals, _, _ = datasets.load_challenge2017()
    X = np.stack([s[:3000] for s in signals[:6]]).astype(np.float64)
    expected = rr_features(X, fs=300.0)
    np.testing.assert_array_equal(RRFeatures(fs=300).fit_transform(X), expected)
    two_leads = np.stack([np.zeros_like(X), X], axis=1)
    np.testing.assert_array_equal(
        RRFeatures(fs=300, lead=1).fit_transform(two_leads), expected
    )
    names = RRFeatures().fit(X).get_feature_names_out()
    assert list(names) == [f"rr_{n}" for n in RR_FEATURE_NAMES]
    with pytest.raises(ValueError, match=r"lead=2\) needs series with more than 2"):
        RRFeatures(lead=2).fit(two_leads)
    with pytest.raises(ValueError, match="fs > 0"):
        RRFeatures(fs=-1).fit(X)


def test_learned_and_rr_features_side_by_side_in_a_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    from tscl import ContrastiveEncoder
    from tscl.features import RRFeatures

    signals, labels, _ = datasets.load_challenge2017()
    X = np.stack([s[:2400] for s in signals[:24]]).astype(np.float32)
    encoder = ContrastiveEncoder(
        "simclr",
        "cnn",
        n_components=8,
        n_epochs=1,
        batch_size=8,
        encoder_params={"hidden_dim": 8, "depth": 2},
        random_state=0,
    )
    union = make_union(encoder, RRFeatures(fs=300))
    Z = union.fit_transform(X)
    assert Z.shape == (24, 8 + len(RR_FEATURE_NAMES))
    np.testing.assert_array_equal(Z[:, 8:], rr_features(X, fs=300.0))
    model = make_pipeline(union, StandardScaler(), LogisticRegression(max_iter=500))
    assert model.fit(X, labels[:24]).predict(X).shape == (24,)
