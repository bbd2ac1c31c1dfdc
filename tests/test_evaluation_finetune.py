"""EncoderClassifier's early stopping, frozen encoder and fine_tune()."""

import math

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from tscl import ContrastiveEncoder
from tscl.encoders import CNN
from tscl.evaluation import EncoderClassifier, fine_tune

TINY = {"hidden_dim": 8, "depth": 2}


def sines(n=40, length=32, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    t = np.linspace(0, 1, length)
    X = np.sin(2 * np.pi * (2 + 3 * y[:, None]) * t)
    return X + 0.1 * rng.normal(size=(n, length)), y


def overfitting_task():
    """Noise with random labels: the validation loss can only get worse."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 32)), rng.integers(0, 2, size=64)


def small(**params):
    defaults = {"n_components": 8, "encoder_params": TINY, "batch_size": 16}
    return EncoderClassifier(**{**defaults, "random_state": 0, **params})


def test_early_stopping_restores_the_best_epoch():
    X, y = overfitting_task()
    clf = small(
        n_epochs=40,
        learning_rate=3e-2,
        patience=3,
        validation_fraction=0.25,
        class_weight=None,
    ).fit(X, y)
    history = clf.history_
    n_run = len(history["loss"])
    assert n_run < 40  # stopped early
    assert len(history["val_loss"]) == len(history["val_macro_f1"]) == n_run
    assert clf.best_epoch_ == int(np.argmin(history["val_loss"]))
    assert n_run == clf.best_epoch_ + 3 + 1  # patience epochs after the best
    # the kept weights are the best epoch's: their validation loss is the minimum
    val = clf.validation_indices_
    proba = clf.predict_proba(X[val])
    loss = -np.mean(np.log(proba[np.arange(len(val)), y[val]]))
    assert loss == pytest.approx(history["val_loss"][clf.best_epoch_], rel=1e-4)
    assert loss < history["val_loss"][-1]


def test_validation_split_is_stratified_and_reproducible():
    X, y = overfitting_task()
    clf = small(n_epochs=2, validation_fraction=0.25).fit(X, y)
    val = clf.validation_indices_
    assert len(val) == math.ceil(0.25 * 64)
    assert abs(np.mean(y[val]) - np.mean(y)) < 0.1
    again = small(n_epochs=2, validation_fraction=0.25).fit(X, y)
    np.testing.assert_array_equal(val, again.validation_indices_)
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    # standardisation statistics come from the training part only
    train = np.setdiff1d(np.arange(64), val)
    assert clf.mean_[0] == pytest.approx(X[train].mean(), abs=1e-6)


def test_without_validation_it_trains_every_epoch_and_keeps_the_last():
    X, y = sines()
    clf = small(n_epochs=3, validation_fraction=None).fit(X, y)
    assert len(clf.history_["loss"]) == 3
    assert clf.history_["val_loss"] == []
    assert clf.history_["val_macro_f1"] == []
    assert clf.best_epoch_ == 2
    assert len(clf.validation_indices_) == 0


def test_patience_none_runs_all_epochs_but_restores_the_best():
    X, y = overfitting_task()
    clf = small(n_epochs=8, learning_rate=1e-2, patience=None, class_weight=None)
    clf.fit(X, y)
    assert len(clf.history_["loss"]) == 8
    assert clf.best_epoch_ == int(np.argmin(clf.history_["val_loss"]))


def test_tiny_classes_fall_back_to_no_validation_with_a_warning():
    X, y = sines(n=12)
    y = y.copy()
    y[0] = 2  # a class with a single series cannot be split
    with pytest.warns(UserWarning, match="without validation"):
        clf = small(n_epochs=2).fit(X, y)
    assert len(clf.validation_indices_) == 0
    assert clf.best_epoch_ == 1


def test_freeze_encoder_trains_the_head_only():
    X, y = sines()
    init = CNN(1, out_dim=8, **TINY)
    clf = EncoderClassifier(
        init_encoder=init,
        freeze_encoder=True,
        n_epochs=5,
        batch_size=8,
        learning_rate=1e-2,
        validation_fraction=None,
    ).fit(X, y)
    fitted = clf.model_[0].state_dict()
    for name, value in init.state_dict().items():  # weights and BN statistics
        assert torch.equal(fitted[name], value), name
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]  # the head learned


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"validation_fraction": 0}, ValueError, "validation_fraction"),
        ({"patience": 0}, ValueError, "'patience' parameter"),
        ({"freeze_encoder": "yes"}, TypeError, "freeze_encoder"),
    ],
)
def test_bad_early_stopping_params(params, error, match):
    X, y = sines()
    with pytest.raises(error, match=match):
        small(n_epochs=1, **params).fit(X, y)


class NaNEncoder(nn.Module):
    out_dim = 2

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x.mean(dim=-1).repeat(1, 2) * self.scale * float("nan")


def test_a_non_finite_loss_is_a_training_error_counted_from_one():
    # It was a plain RuntimeError naming "epoch 0", unlike pretraining's errors.
    from tscl.training import TrainingError

    X, y = sines()
    with pytest.raises(TrainingError, match="at epoch 1, step 1 .*Lower learning_rate"):
        EncoderClassifier(init_encoder=NaNEncoder(), n_epochs=2).fit(X, y)


def test_fine_tuning_resolves_its_device_like_pretraining(monkeypatch):
    # It called training.resolve_device, which ignored LOCAL_RANK under torchrun.
    from tscl import distributed

    seen = []

    def resolve(device):
        seen.append(device)
        return torch.device("cpu")

    monkeypatch.setattr(distributed, "resolve_device", resolve)
    X, y = sines()
    clf = EncoderClassifier(
        n_epochs=1,
        device="cuda",
        n_components=4,
        encoder_params={"hidden_dim": 4, "depth": 1},
    )
    clf.fit(X, y).predict(X)
    assert seen[:2] == ["cuda", "cuda"]


def test_fine_tune_returns_probe_keys_from_a_fitted_contrastive_encoder():
    X, y = sines()
    enc = ContrastiveEncoder(
        n_components=8, n_epochs=1, batch_size=8, encoder_params=TINY, random_state=0
    ).fit(X)
    result = fine_tune(
        enc, X[::2], y[::2], X[1::2], y[1::2], n_epochs=2, freeze_encoder=True
    )
    assert {"accuracy", "macro_f1", "auroc", "auprc", "fit_time", "y_pred"} <= set(
        result
    )
    model = result["model"]
    assert isinstance(model, EncoderClassifier)
    assert model.init_encoder is enc.encoder_
    for name, value in enc.encoder_.state_dict().items():  # frozen: a copy, unchanged
        assert torch.equal(model.model_[0].state_dict()[name], value)
    np.testing.assert_array_equal(result["y_pred"], model.predict(X[1::2]))


def test_fine_tune_from_scratch_matches_encoder_classifier():
    X, y = sines()
    params = {"n_components": 8, "encoder_params": TINY, "n_epochs": 2}
    result = fine_tune(None, X[::2], y[::2], X[1::2], y[1::2], random_state=0, **params)
    clf = EncoderClassifier(random_state=0, **params).fit(X[::2], y[::2])
    np.testing.assert_array_equal(result["y_pred"], clf.predict(X[1::2]))


@pytest.mark.parametrize(
    ("pretrained", "params", "error"),
    [
        ("cnn", {}, TypeError),
        (None, {"init_encoder": CNN(1, out_dim=4, **TINY)}, TypeError),
        (ContrastiveEncoder(), {}, NotFittedError),
    ],
)
def test_fine_tune_rejects_bad_pretrained(pretrained, params, error):
    X, y = sines()
    with pytest.raises(error):
        fine_tune(pretrained, X, y, X, y, n_epochs=1, **params)


def test_groups_keep_each_recording_on_one_side_of_the_validation_split():
    X, y = overfitting_task()
    groups = np.repeat(np.arange(16), 4)  # 16 recordings of 4 windows
    y = np.repeat(np.arange(16) % 2, 4)  # one label per recording
    clf = small(n_epochs=2, validation_fraction=0.25).fit(X, y, groups=groups)
    val = clf.validation_indices_
    train = np.setdiff1d(np.arange(64), val)
    assert len(val) > 0
    assert not set(groups[val]) & set(groups[train])
    assert set(y[val]) == {0, 1}
    again = small(n_epochs=2, validation_fraction=0.25).fit(X, y, groups=groups)
    np.testing.assert_array_equal(val, again.validation_indices_)
    with pytest.raises(ValueError, match="one recording id per series"):
        small(n_epochs=1).fit(X, y, groups=groups[:10])
    with pytest.raises(ValueError, match="groups holds NaN"):
        small(n_epochs=1).fit(X, y, groups=np.where(groups == 3, np.nan, groups))


def test_augment_changes_training_only_and_random_crops_train_on_stretches():
    X, y = sines(length=64)
    plain = small(n_epochs=3, validation_fraction=None).fit(X, y)
    jittered = small(n_epochs=3, validation_fraction=None, augment="jitter(sigma=0.5)")
    jittered.fit(X, y)
    assert not np.allclose(plain.predict_proba(X), jittered.predict_proba(X))
    cropped = small(
        n_epochs=30, validation_fraction=None, augment="random_crop(length=32)"
    ).fit(X, y)
    assert cropped.predict_proba(X).shape == (40, 2)  # predicts on whole series
    assert cropped.score(X, y) > 0.9
    again = small(
        n_epochs=30, validation_fraction=None, augment="random_crop(length=32)"
    ).fit(X, y)
    np.testing.assert_array_equal(cropped.predict_proba(X), again.predict_proba(X))
