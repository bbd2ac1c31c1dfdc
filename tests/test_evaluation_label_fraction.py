"""subsample_labels() and label_fraction_study()."""

import functools
import math

import numpy as np
import pytest
from sklearn.decomposition import PCA

from tscl.evaluation import (
    fine_tune,
    knn_probe,
    label_fraction_study,
    subsample_labels,
)

TINY = {"hidden_dim": 8, "depth": 2}
ROW_KEYS = {"fraction", "seed", "n_labelled", "accuracy", "macro_f1", "auroc", "auprc"}


def imbalanced_labels():
    return np.repeat(["a", "b", "c"], [60, 30, 10])


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 3)
    Z = rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]
    return Z[: n // 2], y[: n // 2], Z[n // 2 :], y[n // 2 :]


@pytest.mark.parametrize("stratified", [True, False])
def test_same_seed_same_subset_other_seed_other_subset(stratified):
    y = imbalanced_labels()
    first = subsample_labels(y, 0.2, seed=4, stratified=stratified)
    np.testing.assert_array_equal(
        first, subsample_labels(y, 0.2, seed=4, stratified=stratified)
    )
    assert not np.array_equal(
        first, subsample_labels(y, 0.2, seed=5, stratified=stratified)
    )
    assert np.all(np.diff(first) > 0)  # sorted, no repeats


@pytest.mark.parametrize("stratified", [True, False])
@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.05])
def test_every_class_keeps_at_least_one_series(fraction, stratified):
    y = imbalanced_labels()
    picked = y[subsample_labels(y, fraction, seed=0, stratified=stratified)]
    assert set(picked) == {"a", "b", "c"}


def test_stratified_counts_per_class_round_half_up():
    y = imbalanced_labels()  # 60, 30, 10 series
    picked = y[subsample_labels(y, 0.05, seed=0)]
    counts = {k: int(np.sum(picked == k)) for k in "abc"}
    assert counts == {"a": 3, "b": 2, "c": 1}  # 3.0, 1.5 -> 2, 0.5 -> max(1, 1)
    assert len(subsample_labels(y, 1.0, seed=0)) == 100


def test_unstratified_size_is_the_rounded_fraction_but_at_least_n_classes():
    y = imbalanced_labels()
    assert len(subsample_labels(y, 0.25, seed=0, stratified=False)) == 25
    assert len(subsample_labels(y, 0.01, seed=0, stratified=False)) == 3


@pytest.mark.parametrize("stratified", [True, False])
def test_subsets_are_nested_across_fractions(stratified):
    y = imbalanced_labels()
    smaller = subsample_labels(y, 0.1, seed=2, stratified=stratified)
    larger = subsample_labels(y, 0.5, seed=2, stratified=stratified)
    assert set(smaller) <= set(larger)


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((0.0, 0), ValueError, "'fraction' parameter"),
        ((1.5, 0), ValueError, "'fraction' parameter"),
        ((0.5, 0.5), TypeError, "'seed' parameter"),
    ],
)
def test_subsample_labels_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        subsample_labels([0, 1, 0, 1], *args)


def test_subsample_labels_rejects_2d_labels():
    with pytest.raises(ValueError, match="1-D"):
        subsample_labels(np.zeros((4, 2)), 0.5, 0)


def test_study_rows_and_summary():
    Z_train, y_train, Z_test, y_test = blobs()
    study = label_fraction_study(
        Z_train, y_train, Z_test, y_test, fractions=(0.05, 0.5), seeds=(0, 1)
    )
    rows, summary = study["rows"], study["summary"]
    assert len(rows) == 4
    assert all(ROW_KEYS | {"fit_time"} == set(row) for row in rows)
    assert [(r["fraction"], r["seed"]) for r in rows] == [
        (f, s) for f in (0.05, 0.5) for s in (0, 1)
    ]
    for row in rows:
        subset = subsample_labels(y_train, row["fraction"], row["seed"])
        assert row["n_labelled"] == len(subset)
    assert [s["fraction"] for s in summary] == [0.05, 0.5]
    for entry in summary:
        runs = [r for r in rows if r["fraction"] == entry["fraction"]]
        assert entry["n_runs"] == 2
        for key in ("accuracy", "macro_f1", "auroc", "auprc"):
            values = [r[key] for r in runs]
            assert entry[f"{key}_mean"] == pytest.approx(np.mean(values))
            assert entry[f"{key}_std"] == pytest.approx(np.std(values))
    assert summary[1]["accuracy_mean"] > 0.9


def test_callable_probe_sees_the_same_subsets_as_the_named_one():
    Z_train, y_train, Z_test, y_test = blobs()
    seen = []

    def recording_probe(Z, y, Z_test, y_test, random_state):
        seen.append((random_state, Z.copy(), y.copy()))
        return knn_probe(Z, y, Z_test, y_test)

    grid = {"fractions": (0.1, 0.3), "seeds": (0, 7)}
    named = label_fraction_study(Z_train, y_train, Z_test, y_test, probe="knn", **grid)
    custom = label_fraction_study(
        Z_train, y_train, Z_test, y_test, probe=recording_probe, **grid
    )
    for a, b in zip(custom["rows"], named["rows"], strict=True):
        assert {k: a[k] for k in ROW_KEYS} == {k: b[k] for k in ROW_KEYS}
    for (seed, Z, y), row in zip(seen, custom["rows"], strict=True):
        rows = subsample_labels(y_train, row["fraction"], row["seed"])
        assert seed == row["seed"]
        np.testing.assert_array_equal(Z, Z_train[rows])
        np.testing.assert_array_equal(y, y_train[rows])


def test_supervised_baseline_through_fine_tune_on_raw_series():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    t = np.linspace(0, 1, 32)
    X = np.sin(2 * np.pi * (2 + 3 * y[:, None]) * t) + 0.1 * rng.normal(size=(40, 32))
    scratch = functools.partial(
        fine_tune, None, n_components=8, encoder_params=TINY, n_epochs=2
    )
    study = label_fraction_study(
        X[::2], y[::2], X[1::2], y[1::2], fractions=(0.5,), seeds=(0,), probe=scratch
    )
    (row,) = study["rows"]
    assert row["n_labelled"] == 10
    assert 0 <= row["accuracy"] <= 1
    assert not math.isnan(row["auroc"])


def test_knn_probe_and_encoder_route():
    Z_train, y_train, Z_test, y_test = blobs()
    pca = PCA(n_components=2).fit(Z_train)
    grid = {"fractions": (0.05,), "seeds": (0, 1), "probe": "knn"}
    direct = label_fraction_study(
        pca.transform(Z_train), y_train, pca.transform(Z_test), y_test, **grid
    )
    embedded = label_fraction_study(
        Z_train, y_train, Z_test, y_test, encoder=pca, **grid
    )
    for a, b in zip(direct["rows"], embedded["rows"], strict=True):
        assert a["accuracy"] == b["accuracy"]
        assert a["n_labelled"] == 3  # 5% of 20 per class: one each, < 5 neighbours


def test_missing_metrics_from_a_callable_are_nan():
    Z_train, y_train, Z_test, y_test = blobs()

    def accuracy_only(Z, y, Z_test, y_test, random_state):
        return {"accuracy": 0.5, "macro_f1": 0.4}

    study = label_fraction_study(
        Z_train,
        y_train,
        Z_test,
        y_test,
        fractions=(1.0,),
        seeds=(0,),
        probe=accuracy_only,
    )
    (row,) = study["rows"]
    assert row["accuracy"] == 0.5
    assert math.isnan(row["auroc"])
    assert math.isnan(row["fit_time"])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"probe": "forest"}, ValueError, "Valid names: 'knn', 'linear', 'svm'"),
        ({"probe": 3}, TypeError, "probe must be"),
        ({"probe": lambda *a, **k: [0.5]}, TypeError, "must return a dict"),
        ({"fractions": ()}, ValueError, "'fractions' of label_fraction_study"),
        ({"fractions": (0.1, 0.1)}, ValueError, "repeats"),
        ({"fractions": (0.0,)}, ValueError, "'fractions' parameter"),
        ({"seeds": (0, 0)}, ValueError, "repeats"),
        ({"seeds": (0.5,)}, TypeError, "'seeds' parameter"),
    ],
)
def test_study_rejects_bad_arguments(kwargs, error, match):
    Z_train, y_train, Z_test, y_test = blobs()
    with pytest.raises(error, match=match):
        label_fraction_study(Z_train, y_train, Z_test, y_test, **kwargs)


def test_study_rejects_mismatched_lengths():
    Z_train, y_train, Z_test, y_test = blobs()
    with pytest.raises(ValueError, match="Z_test has 60 rows but y_test has 59"):
        label_fraction_study(Z_train, y_train, Z_test, y_test[:-1])


def test_a_registered_probe_is_reachable_by_name(monkeypatch):
    from tscl.evaluation import PROBES

    calls = []

    def nearest_mean(Z_train, y_train, Z_test, y_test):  # draws nothing
        calls.append(len(Z_train))
        return knn_probe(Z_train, y_train, Z_test, y_test, n_neighbors=1)

    monkeypatch.setitem(PROBES, "nearest_mean", nearest_mean)
    rng = np.random.default_rng(0)
    Z, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    study = label_fraction_study(
        Z, y, Z, y, fractions=(0.5,), seeds=(0, 1), probe="nearest_mean"
    )
    assert calls == [20, 20]
    assert len(study["rows"]) == 2
    with pytest.raises(ValueError, match="'nearest_mean'"):
        label_fraction_study(Z, y, Z, y, probe="forest")
