"""The kNN probe, and AUROC/AUPRC in the result of every probe."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

from tscl.evaluation import knn_probe, linear_probe, scores, svm_probe

ALL_PROBES = pytest.mark.parametrize(
    "probe", [linear_probe, svm_probe, knn_probe], ids=lambda f: f.__name__
)


def blobs(n_classes, n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % n_classes)
    Z = rng.normal(size=(n, 5)) + 2 * np.eye(n_classes, 5)[y]
    return Z[::2], y[::2], Z[1::2], y[1::2]


@ALL_PROBES
@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_probe_reports_auroc_from_its_model_scores(probe, n_classes):
    Z_train, y_train, Z_test, y_test = blobs(n_classes)
    result = probe(Z_train, y_train, Z_test, y_test)
    assert {
        "accuracy",
        "macro_f1",
        "auroc",
        "auprc",
        "fit_time",
        "y_pred",
        "model",
    } <= set(result)
    model = result["model"]
    method = "decision_function" if probe is svm_probe else "predict_proba"
    expected = scores(
        y_test,
        result["y_pred"],
        y_score=getattr(model, method)(Z_test),
        classes=model.classes_,
    )
    assert result["auroc"] == pytest.approx(expected["auroc"])
    assert result["auprc"] == pytest.approx(expected["auprc"])
    assert 0.8 < result["auroc"] <= 1


def test_svm_auroc_is_the_binary_auroc_of_decision_values():
    Z_train, y_train, Z_test, y_test = blobs(2)
    result = svm_probe(Z_train, y_train, Z_test, y_test, C=1.0)
    decision = result["model"].decision_function(Z_test)
    assert decision.shape == (len(y_test),)  # no probability=True
    assert result["auroc"] == pytest.approx(roc_auc_score(y_test, decision))


def test_knn_probe_separates_directions_with_cosine():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 20)
    directions = np.eye(3, 6)[np.repeat([0, 1, 2], 20)]
    # very different norms, same directions: cosine neighbours ignore the norm
    Z = (directions + 0.05 * rng.normal(size=(60, 6))) * rng.uniform(0.1, 10, (60, 1))
    result = knn_probe(Z[::2], y[::2], Z[1::2], y[1::2])
    assert result["accuracy"] == 1.0
    assert result["auroc"] == 1.0
    assert result["model"].metric == "cosine"
    assert result["model"].n_neighbors == 5
    euclidean = knn_probe(Z[::2], y[::2], Z[1::2], y[1::2], metric="euclidean")
    assert euclidean["model"].metric == "euclidean"


def test_knn_probe_caps_neighbours_at_the_training_size():
    Z_train, y_train, Z_test, y_test = blobs(2)
    three = np.r_[np.flatnonzero(y_train == 0)[:2], np.flatnonzero(y_train == 1)[:1]]
    result = knn_probe(Z_train[three], y_train[three], Z_test, y_test, n_neighbors=10)
    assert result["model"].n_neighbors == 3
    assert result["y_pred"].shape == y_test.shape


@pytest.mark.parametrize(("n_neighbors", "error"), [(0, ValueError), (2.5, TypeError)])
def test_knn_probe_rejects_bad_n_neighbors(n_neighbors, error):
    Z_train, y_train, Z_test, y_test = blobs(2)
    with pytest.raises(error, match="'n_neighbors' parameter of knn_probe"):
        knn_probe(Z_train, y_train, Z_test, y_test, n_neighbors=n_neighbors)


@pytest.mark.parametrize(
    ("Z_train", "Z_test", "match"),
    [
        (np.zeros((4, 3)), np.zeros((4, 2)), "3 features but Z_test has 2"),
        (np.zeros((4, 3, 2)), np.zeros((4, 3)), "2-D"),
        (np.full((4, 3), np.nan), np.zeros((4, 3)), "NaN"),
    ],
)
def test_knn_probe_errors(Z_train, Z_test, match):
    with pytest.raises(ValueError, match=match):
        knn_probe(Z_train, [0, 1, 0, 1], Z_test, [0, 1, 0, 1])


def test_knn_probe_single_training_class_is_a_clear_error():
    Z = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="single class"):
        knn_probe(Z, np.zeros(10), Z, np.arange(10) % 2)


# ------------------------------------------------------------- TS2Vec's SVM search
def _blobs(n_per_class, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n_per_class)
    return rng.normal(size=(len(y), 6)) + 1.5 * y[:, None], y


def test_svm_probe_ts2vec_protocol_fits_c_inf_without_search_on_small_splits():
    Z, y = _blobs(10)  # 30 series < 50: TS2Vec fits C=inf directly
    result = svm_probe(Z, y, Z, y, protocol="ts2vec")
    (step,) = result["model"]  # no StandardScaler
    assert isinstance(step, SVC)
    assert step.C == np.inf


def test_svm_probe_ts2vec_protocol_matches_the_reference_search():
    from sklearn.model_selection import GridSearchCV

    Z, y = _blobs(30)
    Z_test, y_test = _blobs(20, seed=1)
    result = svm_probe(Z, y, Z_test, y_test, protocol="ts2vec")
    (search,) = result["model"]
    assert list(search.param_grid["C"]) == [
        1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4, np.inf
    ]  # fmt: skip
    reference = GridSearchCV(
        SVC(C=np.inf, gamma="scale"),
        {"C": [1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000, 10000, np.inf]},
        cv=5,
    ).fit(Z, y)
    assert search.best_params_ == reference.best_params_
    assert result["accuracy"] == reference.score(Z_test, y_test)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"protocol": "ts2vec", "C": 1.0}, "chooses C itself"),
        ({"protocol": "ts2vec", "class_weight": "balanced"}, "chooses C itself"),
        ({"protocol": "TS2Vec"}, "protocol must be 'tscl' or 'ts2vec'"),
    ],
)
def test_svm_probe_protocol_errors(kwargs, match):
    Z, y = _blobs(10)
    with pytest.raises(ValueError, match=match):
        svm_probe(Z, y, Z, y, **kwargs)
