"""The encoders that ship with tscl: loaded by name, offline, in pipelines."""

import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler

from tscl import datasets, pretrained
from tscl.features import RRFeatures


@pytest.fixture(scope="module")
def records():
    signals, labels, _ = datasets.load_challenge2017()
    return signals[:40], labels[:40]


@pytest.fixture(scope="module")
def encoder():
    return pretrained.load("ecg-cinc2017")


def test_available_lists_each_shipped_encoder_with_a_card():
    cards = pretrained.available()
    assert "ecg-cinc2017" in cards
    assert all(
        isinstance(line, str) and 20 < len(line) < 300 for line in cards.values()
    )
    size = sum(
        f.stat().st_size for f in (pretrained.FOLDER / "ecg-cinc2017").rglob("*")
    )
    assert size < 5 * 2**20  # a few MB in the package


def test_records_of_any_length_give_one_vector_each(encoder, records):
    signals, _ = records
    Z = encoder.transform(signals)
    assert Z.shape == (40, 128)
    assert np.isfinite(Z).all()
    assert len({len(s) for s in signals}) > 1
    np.testing.assert_allclose(encoder.transform(signals[5:7]), Z[5:7], rtol=1e-6)
    equal = np.stack([s[:2700] for s in signals[:3]])  # an array of 9 s records
    assert encoder.transform(equal).shape == (3, 128)
    names = encoder.get_feature_names_out()
    assert len(names) == 128
    assert names[0] == "pretrainedencoder0"


def test_the_rate_is_a_parameter(encoder, records):
    signals, _ = records
    at_150 = [datasets.resample(s, 300.0, 150.0) for s in signals[:8]]
    Z_150 = pretrained.load("ecg-cinc2017", fs=150).transform(at_150)
    Z_300 = encoder.transform(signals[:8])
    similarity = np.sum(Z_150 * Z_300, axis=1) / (
        np.linalg.norm(Z_150, axis=1) * np.linalg.norm(Z_300, axis=1)
    )
    assert similarity.min() > 0.95  # the same records at another rate


def test_clone_and_fit_load_the_weights_again(encoder, records):
    signals, labels = records
    again = clone(encoder).fit(signals, labels)  # loads, never trains
    np.testing.assert_array_equal(again.transform(signals), encoder.transform(signals))
    assert "ODC-By" in again.card_["licence"]


def test_beside_rr_features_in_a_cross_validated_pipeline(records):
    signals, labels = records
    model = make_pipeline(
        make_union(pretrained.load("ecg-cinc2017"), RRFeatures(fs=300)),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    binary = np.where(labels == "N", "N", "other")
    scores = cross_val_score(model, signals, binary, cv=2)
    assert scores.shape == (2,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_unknown_names_and_bad_input(encoder):
    with pytest.raises(ValueError, match="No pretrained encoder named 'ecg'.*ecg-cinc"):
        pretrained.load("ecg")
    with pytest.raises(ValueError, match="between 25 and 10000 Hz"):
        pretrained.load("ecg-cinc2017", fs=1e6)
    with pytest.raises(ValueError, match="record 0 must be a non-empty 1-D"):
        encoder.transform([np.array([np.nan, 0.0, 1.0])])
    with pytest.raises(ValueError, match="single-lead"):
        encoder.transform(np.zeros((2, 2, 3000)))


def test_damaged_shipped_files_are_refused(tmp_path, monkeypatch):
    copy = tmp_path / "ecg-cinc2017"
    shutil.copytree(pretrained.FOLDER / "ecg-cinc2017", copy)
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    card = json.loads((copy / "card.json").read_text())
    del card["record_encoder"]
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="card of the pretrained encoder.*damaged"):
        pretrained.load("ecg-cinc2017")
    (copy / "card.json").write_text(json.dumps({**card, "record_encoder": {
        "model_fs": 100.0, "context_s": 30.0, "window_s": 10.0, "stride_s": 5.0,
        "pooling": "mean"}}))  # fmt: skip
    weights = copy / "model" / "encoder.pt"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="digest|damaged|changed"):
        pretrained.load("ecg-cinc2017")
