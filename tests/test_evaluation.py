"""Probes and the supervised baseline."""

import numpy as np
import pytest
import torch

from tscl.encoders import CNN
from tscl.evaluation import EncoderClassifier, linear_probe, scores, svm_probe

TINY = {"hidden_dim": 8, "depth": 2}
PROBES = pytest.mark.parametrize(
    "probe", [linear_probe, svm_probe], ids=lambda f: f.__name__
)


def sines(n=40, length=32, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["slow", "fast"], n // 2)
    freq = np.where(y == "slow", 2.0, 5.0)[:, None]
    t = np.linspace(0, 1, length)
    return np.sin(2 * np.pi * freq * t) + 0.1 * rng.normal(size=(n, length)), y


def test_scores_restricts_macro_f1_to_given_labels():
    y_true = ["N", "A", "O", "~", "~"]
    y_pred = ["N", "A", "O", "N", "A"]
    assert scores(y_true, y_pred)["accuracy"] == pytest.approx(0.6)
    assert scores(y_true, y_pred, f1_labels=["O"])["macro_f1"] == 1.0


def test_linear_probe_separable_and_returns_model():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    Z = rng.normal(size=(90, 5)) + 4 * np.eye(3, 5)[y]
    result = linear_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    assert result["accuracy"] > 0.95
    assert result["macro_f1"] > 0.95
    assert result["y_pred"].shape == (45,)
    assert result["fit_time"] >= 0
    assert result["model"].predict(Z[:3]).shape == (3,)


def test_linear_probe_picks_c_by_inner_cv_or_takes_a_fixed_one():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 40)
    Z = rng.normal(size=(80, 30)) + 0.8 * y[:, None] * (np.arange(30) < 3)
    auto = linear_probe(Z[::2], y[::2], Z[1::2], y[1::2])["model"][-1]
    assert auto.best_params_["C"] in np.logspace(-3, 2, 6)
    fixed = linear_probe(Z[::2], y[::2], Z[1::2], y[1::2], C=0.5)["model"][-1]
    assert fixed.C == 0.5
    rare = np.array([0] * 39 + [1])  # one sample of a class: no inner CV possible
    assert linear_probe(Z[:40], rare, Z[40:], y[40:])["model"][-1].C == 1.0


@PROBES
@pytest.mark.parametrize(("C", "error"), [(-1.0, ValueError), ("best", TypeError)])
def test_probes_reject_bad_c(probe, C, error):
    Z, y = np.random.default_rng(0).normal(size=(20, 3)), np.repeat([0, 1], 10)
    with pytest.raises(error, match="'C' parameter"):
        probe(Z, y, Z, y, C=C)


@PROBES
@pytest.mark.parametrize(
    ("Z_train", "Z_test", "match"),
    [
        (np.zeros((4, 3)), np.zeros((4, 2)), "3 features but Z_test has 2"),
        (np.zeros((4, 3, 2)), np.zeros((4, 3)), "2-D"),
        (np.full((4, 3), np.nan), np.zeros((4, 3)), "NaN"),
    ],
)
def test_probes_errors(probe, Z_train, Z_test, match):
    with pytest.raises(ValueError, match=match):
        probe(Z_train, [0, 1, 0, 1], Z_test, [0, 1, 0, 1])


def test_svm_probe_separable_and_returns_model():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 30)
    Z = rng.normal(size=(90, 5)) + 4 * np.eye(3, 5)[np.repeat([0, 1, 2], 30)]
    result = svm_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    assert result["accuracy"] > 0.95
    assert result["macro_f1"] > 0.95
    assert result["y_pred"].shape == (45,)
    assert set(result["y_pred"]) <= {"a", "b", "c"}
    assert result["fit_time"] >= 0
    assert result["model"].predict(Z[:3]).shape == (3,)


def test_svm_probe_separates_rings_that_a_linear_probe_cannot():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    angle = rng.uniform(0, 2 * np.pi, 200)
    radius = np.where(y == 0, 1.0, 3.0) + 0.2 * rng.normal(size=200)
    Z = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    args = (Z[::2], y[::2], Z[1::2], y[1::2])
    assert svm_probe(*args)["accuracy"] > 0.95
    assert linear_probe(*args)["accuracy"] < 0.8


def test_svm_probe_picks_c_by_inner_cv_or_takes_a_fixed_one():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 40)
    Z = rng.normal(size=(80, 30)) + 0.8 * y[:, None] * (np.arange(30) < 3)
    auto = svm_probe(Z[::2], y[::2], Z[1::2], y[1::2])["model"][-1]
    assert auto.best_params_["C"] in np.logspace(-4, 4, 9)
    assert auto.cv.get_n_splits() == 5
    assert auto.best_estimator_.kernel == "rbf"
    fixed = svm_probe(Z[::2], y[::2], Z[1::2], y[1::2], C=0.5)["model"][-1]
    assert fixed.C == 0.5
    assert fixed.kernel == "rbf"


def test_svm_probe_small_classes_use_fewer_folds_or_c_1():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(60, 4))
    y = np.array([0] * 37 + [1] * 3)  # 3 samples in the rarest class: 3 folds
    assert svm_probe(Z[:40], y, Z[40:], y[:20])["model"][-1].cv.get_n_splits() == 3
    rare = np.array([0] * 39 + [1])  # one sample of a class: no inner CV possible
    fallback = svm_probe(Z[:40], rare, Z[40:], rare[:20])["model"][-1]
    assert type(fallback).__name__ == "SVC"
    assert fallback.C == 1.0


def test_encoder_classifier_learns_string_labels():
    X, y = sines()
    clf = EncoderClassifier(
        n_components=8, n_epochs=20, batch_size=8, encoder_params=TINY, random_state=0
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (40, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= {"slow", "fast"}
    assert clf.score(X, y) > 0.9


def test_encoder_classifier_fine_tunes_a_copy_of_init_encoder():
    X, y = sines()
    init = CNN(1, out_dim=8, **TINY)
    before = [p.detach().clone() for p in init.parameters()]
    clf = EncoderClassifier(init_encoder=init, n_epochs=2, batch_size=8).fit(X, y)
    assert all(
        torch.equal(a, b) for a, b in zip(before, init.parameters(), strict=True)
    )
    assert clf.predict(X).shape == (40,)


def test_encoder_classifier_is_deterministic():
    X, y = sines()
    make = lambda: EncoderClassifier(  # noqa: E731
        n_components=8, n_epochs=2, encoder_params=TINY, random_state=3
    )
    np.testing.assert_array_equal(
        make().fit(X, y).predict_proba(X), make().fit(X, y).predict_proba(X)
    )


def test_encoder_classifier_rejects_bad_input():
    X, y = sines()
    with pytest.raises(ValueError, match="n_epochs"):
        EncoderClassifier(n_epochs=0).fit(X, y)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        EncoderClassifier(n_epochs=1).fit(X_bad, y)


@pytest.mark.parametrize("probe", ["linear_probe", "svm_probe"])
def test_a_single_training_class_is_a_clear_error(probe):
    from tscl import evaluation

    Z = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="single class"):
        getattr(evaluation, probe)(Z, np.zeros(10), Z, np.arange(10) % 2)
