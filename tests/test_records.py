"""RecordEncoder: records of any length, windows, pooling, pipelines."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler

from tscl import ContrastiveEncoder, datasets
from tscl.features import RRFeatures
from tscl.records import RecordEncoder, default_ecg_estimator, record_windows

TINY = {"hidden_dim": 4, "depth": 2}


def tiny_estimator(**params):
    defaults = {"n_components": 8, "n_epochs": 1, "batch_size": 16, "random_state": 0}
    return ContrastiveEncoder(
        "simclr", "resnet", augment="ecg", encoder_params=TINY, **{**defaults, **params}
    )


def tiny(**params):
    settings = {"fs": 300.0, "context_s": 6.0, "window_s": 2.0, "stride_s": 1.0}
    return RecordEncoder(**{"estimator": tiny_estimator(), **settings, **params})


@pytest.fixture(scope="module")
def records():
    signals, labels, _ = datasets.load_challenge2017()
    return [s[: 300 * (6 + i % 5)] for i, s in enumerate(signals[:24])], labels[:24]


def test_windows_cover_every_record_and_short_ones_are_repeated():
    long, short = np.arange(10.0), np.arange(3.0)
    windows, owner = record_windows([long, short], 4)
    assert windows.shape == (4, 1, 4)
    assert windows.dtype == np.float32
    assert owner.tolist() == [0, 0, 0, 1]
    assert windows[2, 0].tolist() == [6, 7, 8, 9]  # the last aligned with the end
    assert windows[3, 0].tolist() == [0, 1, 2, 0]
    assert len(record_windows([long], 4, 3)[0]) == 3  # 0, 3, 6: already aligned
    with pytest.raises(ValueError, match="size"):
        record_windows([long], 0)


def test_records_of_any_length_give_one_vector_each(records):
    signals, _ = records
    enc = tiny().fit(signals)
    Z = enc.transform(signals)
    assert Z.shape == (24, 8)
    assert np.isfinite(Z).all()
    # a record's vector does not depend on the other records
    np.testing.assert_allclose(enc.transform(signals[3:5]), Z[3:5], rtol=1e-5)
    # a record and its 1000-fold gain give the same vector (standardised)
    np.testing.assert_allclose(
        enc.transform([signals[0] * 1000.0]), Z[:1], rtol=1e-4, atol=1e-5
    )
    assert enc.model_.encoder_.__class__.__name__ == "ResNet1D"
    meanmax = clone(enc).set_params(pooling="meanmax").fit(signals)
    assert meanmax.transform(signals).shape == (24, 16)


def test_equal_length_arrays_and_fit_reproducibility(records):
    signals, _ = records
    X = np.stack([s[:1800] for s in signals])
    first = tiny().fit(X).transform(X)
    second = tiny().fit(list(X)).transform(list(X))
    np.testing.assert_array_equal(first, second)
    assert tiny().fit(X).n_features_in_ == 1800


def test_groups_make_the_windows_of_a_record_positives(records):
    signals, _ = records
    grouped = tiny(groups=True).fit(signals)
    plain = tiny().fit(signals)
    assert not np.allclose(grouped.transform(signals), plain.transform(signals))


def test_in_a_pipeline_beside_rr_features(records):
    signals, labels = records
    model = make_pipeline(
        make_union(tiny(), RRFeatures(fs=300)),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    assert model.fit(signals, labels).predict(signals).shape == (24,)
    assert clone(model).fit(signals, labels).score(signals, labels) >= 0


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"fs": 0}, ValueError, "sampling rate > 0"),
        ({"model_fs": 1e9}, ValueError, "between 25 and 10000 Hz"),
        ({"window_s": -1.0}, ValueError, "window_s"),
        ({"pooling": "median"}, ValueError, "'pooling' parameter"),
        ({"groups": "yes"}, TypeError, "groups"),
        ({"estimator": "simclr"}, TypeError, "must be a ContrastiveEncoder"),
    ],
)
def test_bad_parameters(records, params, error, match):
    signals, _ = records
    with pytest.raises(error, match=match):
        tiny(**params).fit(signals)


def test_bad_records(records):
    signals, _ = records
    enc = tiny().fit(signals)
    with pytest.raises(ValueError, match="record 1 must be a non-empty 1-D"):
        enc.transform([signals[0], np.array([1.0, np.nan])])
    with pytest.raises(ValueError, match="empty list of records"):
        enc.transform([])
    with pytest.raises(ValueError, match="single-lead"):
        enc.transform(np.zeros((2, 2, 900)))
    with pytest.raises(ValueError, match=r"record 1 lasts 0.01 s .*at least 1 s"):
        enc.transform([signals[0], np.ones(3)])  # 3 samples: nothing to repeat
    assert enc.transform([signals[0][: int(enc.fs)]]).shape[0] == 1  # 1 s works


def test_default_recipe_is_the_measured_one():
    estimator = default_ecg_estimator()
    assert (estimator.method, estimator.encoder, estimator.augment) == (
        "simclr",
        "resnet",
        "ecg",
    )
