"""Tests of tscl.features on the shipped ECG records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tscl import datasets
from tscl.features import DETECTORS, RR_FEATURE_NAMES, detect_r_peaks, rr_features

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
    # SDNN also holds slow changes of the heart rate, which normal records have
    for name, factor in (
        ("rmssd", 2),
        ("irregularity", 2),
        ("pnn50", 2),
        ("sdnn", 1.5),
    ):
        af = np.median(F[labels == "A", COL[name]])
        normal = np.median(F[labels == "N", COL[name]])
        assert af > factor * normal, name


def test_detector_finds_the_annotated_beats_of_record_100():
    path = ROOT / "datasets" / "mitdb" / "100"
    signal = wfdb.rdrecord(str(path), channels=[0]).p_signal[:, 0]
    annotation = wfdb.rdann(str(path), "atr")
    beats = np.array(
        [
            s
            for s, kind in zip(annotation.sample, annotation.symbol, strict=False)
            if kind != "+"
        ]
    )
    peaks = detect_r_peaks(signal, fs=360.0)
    distance = np.abs(beats[:, None] - peaks[None, :]).min(axis=1)  # (n_beats,)
    found = distance <= 0.05 * 360  # within 50 ms
    assert found.mean() >= 0.998  # sensitivity
    assert found.sum() / len(peaks) >= 0.998  # positive predictive value
    assert np.median(distance) <= 2  # placed on the R peak, not beside it


def test_pan_tompkins_features_are_as_good_as_xqrs_on_the_shipped_records():
    from sklearn.model_selection import StratifiedKFold

    from tscl.evaluation import linear_probe

    signals, labels, _ = datasets.load_challenge2017()
    f1 = {}
    for detector in DETECTORS:
        F = rr_features(signals, fs=300.0, detector=detector)
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(F, labels)
        f1[detector] = np.mean(
            [
                linear_probe(F[a], labels[a], F[b], labels[b], C=1.0)["macro_f1"]
                for a, b in folds
            ]
        )
    assert f1["pan-tompkins"] >= f1["xqrs"] - 0.01, f1


def test_detector_on_flat_short_and_inverted_signals():
    t = np.arange(0, 10, 1 / 250)
    beats = (np.mod(t - 0.4, 0.8) < 0.02).astype(float)  # a spike every 0.8 s
    peaks = detect_r_peaks(beats, fs=250)
    np.testing.assert_array_equal(detect_r_peaks(-beats, fs=250), peaks)
    assert len(peaks) == 12
    assert np.allclose(np.diff(peaks), 200, atol=1)
    assert detect_r_peaks(np.zeros(2500), fs=250).size == 0
    assert detect_r_peaks(np.ones(5), fs=250).size == 0
    with pytest.raises(ValueError, match="between 25 and 10000 Hz"):
        detect_r_peaks(beats, fs=1e9)
    with pytest.raises(ValueError, match="1-D array of finite values"):
        detect_r_peaks(np.array([0.0, np.nan, 1.0]), fs=250)
    with pytest.raises(ValueError, match="'detector' parameter"):
        rr_features([beats], fs=250, detector="hamilton")


def test_records_of_different_lengths_go_through_the_transformer():
    from tscl.features import RRFeatures, is_record_list

    signals, _, _ = datasets.load_challenge2017()
    records = signals[:5]
    assert is_record_list(records)
    assert not is_record_list(np.stack(signals[:1]))
    rr = RRFeatures(fs=300).fit(records)
    np.testing.assert_array_equal(rr.transform(records), rr_features(records, 300.0))
    with pytest.raises(ValueError, match="record 1 must be a non-empty 1-D"):
        rr.transform([records[0], np.array([np.nan, 1.0])])


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
    with pytest.raises(ValueError, match="sampling rate > 0"):
        RRFeatures(fs=-1).fit(X)
    with pytest.raises(ValueError, match="between 25 and 10000 Hz"):
        RRFeatures(fs=1e9).fit(X)


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


def test_beat_rr_features_mark_premature_beats_whatever_the_heart_rate():
    from tscl.features import BEAT_RR_FEATURE_NAMES, beat_rr_features

    beats = datasets.load_mitdb_beats(records=["100"])  # 6 annotated S beats
    F = beat_rr_features(beats.rr_pre, beats.rr_post, beats.record, beats.sample / 360)
    assert F.shape == (len(beats), len(BEAT_RR_FEATURE_NAMES))
    assert np.isfinite(F).all()
    ratio = F[:, BEAT_RR_FEATURE_NAMES.index("pre_over_local")]
    assert (
        np.median(ratio[beats.aami == "S"]) < 0.8 < np.median(ratio[beats.aami == "N"])
    )
    # twice as fast a heart: the local intervals halve, their ratios stay (the
    # 10-minute average then spans other beats)
    fast = beat_rr_features(
        beats.rr_pre / 2, beats.rr_post / 2, beats.record, beats.sample / 720
    )
    np.testing.assert_allclose(fast[:, :3], F[:, :3] / 2, rtol=1e-9)
    np.testing.assert_allclose(fast[:, [4, 5, 7]], F[:, [4, 5, 7]], rtol=1e-9)
    with pytest.raises(ValueError, match="contiguous"):
        beat_rr_features([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], ["a", "b", "a"], [0, 1, 2])
    with pytest.raises(ValueError, match="of one length"):
        beat_rr_features([1.0], [1.0, 1.0], ["a"], [0.0])
