"""ContrastiveEncoder: scikit-learn integration, input checks and real data."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import tscl
from tscl import ContrastiveEncoder, augment, datasets
from tscl.encoders import CNN

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_dim": 8, "depth": 2}


def tiny(**kwargs) -> ContrastiveEncoder:
    params = {
        "method": "simclr",  # the tests below were written for SimCLR's budget
        "encoder": "cnn",
        "n_components": 8,
        "n_epochs": 2,
        "batch_size": 16,
        "encoder_params": TINY,
        "random_state": 0,
        "device": "cpu",
    }
    params.update(kwargs)
    return ContrastiveEncoder(**params)


def two_class(n=40, channels=1, length=64, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    t = np.linspace(0, 1, length)
    freq = np.where(y == 0, 3.0, 9.0)[:, None, None]
    X = np.sin(2 * np.pi * freq * t) + 0.2 * rng.normal(size=(n, channels, length))
    return X.astype(np.float32), y


def test_fit_transform_shapes_and_dtypes():
    X, _ = two_class()
    enc = tiny().fit(X)
    assert enc.transform(X).shape == (40, 8)
    assert enc.transform(X).dtype == np.float32
    assert enc.transform(X.astype(np.float64)).dtype == np.float64
    assert enc.n_channels_in_ == 1
    assert enc.n_features_in_ == 1
    assert len(enc.history_["loss"]) == 2
    assert enc.history_["n_steps"] == 6


def test_univariate_2d_equals_3d_with_one_channel():
    X, _ = two_class()
    a = tiny().fit(X[:, 0]).transform(X[:, 0])
    b = tiny().fit(X).transform(X)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_multichannel_and_other_length_at_transform():
    X, _ = two_class(channels=3)
    enc = tiny().fit(X)
    assert enc.transform(X[:, :, :48]).shape == (40, 8)  # 3-D: any length


def test_same_random_state_same_result_and_global_rng_untouched():
    X, _ = two_class()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = tiny().fit(X).transform(X)
    after = torch.rand(1)
    assert torch.equal(before, after)
    np.testing.assert_array_equal(a, tiny().fit(X).transform(X))
    assert not np.allclose(a, tiny(random_state=1).fit(X).transform(X))


def test_user_encoder_instance_is_not_trained_in_place():
    X, _ = two_class()
    mine = CNN(1, out_dim=8, hidden_dim=8, depth=2)
    before = [p.detach().clone() for p in mine.parameters()]
    tiny(encoder=mine).fit(X)
    assert all(
        torch.equal(a, b) for a, b in zip(before, mine.parameters(), strict=True)
    )


def test_pipeline_with_classifier_learns_the_task():
    X, y = two_class(n=60)
    pipe = make_pipeline(tiny(n_epochs=5), LogisticRegression(max_iter=1000))
    assert pipe.fit(X[::2], y[::2]).score(X[1::2], y[1::2]) >= 0.9


def test_grid_search_with_nested_augment_parameter():
    X, y = two_class(n=40)
    pipe = make_pipeline(
        tiny(n_epochs=1, augment=augment.Jitter(0.03)), LogisticRegression()
    )
    grid = GridSearchCV(
        pipe, {"contrastiveencoder__augment__sigma": [0.01, 0.1]}, cv=2
    ).fit(X, y)
    assert grid.best_params_["contrastiveencoder__augment__sigma"] in (0.01, 0.1)
    assert len(grid.cv_results_["mean_test_score"]) == 2


def test_grid_search_reaches_a_member_of_a_compose_by_index():
    X, y = two_class(n=40)
    pipe = make_pipeline(
        tiny(n_epochs=1, augment=augment.Crop() + augment.Jitter(0.03)),
        LogisticRegression(),
    )
    key = "contrastiveencoder__augment__augmentations__1__sigma"
    assert pipe.get_params()[key] == 0.03
    grid = GridSearchCV(pipe, {key: [0.01, 0.2]}, cv=2).fit(X, y)
    best = grid.best_estimator_[0].augment.augmentations[1].sigma
    assert best == grid.best_params_[key]
    assert pipe[0].augment.augmentations[1].sigma == 0.03  # the original kept


def test_a_tsaug_pipeline_plugs_straight_into_the_estimator():
    tsaug = pytest.importorskip("tsaug")
    X, _ = two_class()
    pipeline = tsaug.AddNoise(scale=0.05, normalize=False, seed=3) + tsaug.Drift(
        max_drift=0.2, seed=4
    )
    enc = tiny(augment=pipeline).fit(X)
    assert enc.transform(X).shape == (40, 8)
    again = tiny(augment=pipeline).fit(X)  # same random_state, same model
    np.testing.assert_allclose(again.transform(X), enc.transform(X), rtol=1e-5)


def test_an_unusable_augment_is_a_clear_type_error():
    X, _ = two_class()
    with pytest.raises(TypeError, match=r"'augment' parameter must be.*got int"):
        tiny(augment=3).fit(X)
    with pytest.raises(ValueError, match=r"'wobble' is not registered.*preset"):
        tiny(augment="wobble").fit(X)


def test_clone_and_pickle_round_trip():
    X, _ = two_class()
    enc = tiny(augment=augment.Crop() + augment.Jitter(0.05))
    assert clone(enc).get_params()["augment"].augmentations[1].sigma == 0.05
    enc.fit(X)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(again.transform(X), enc.transform(X))
    assert next(again.encoder_.parameters()).device.type == "cpu"


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X, _ = two_class()
    out = tiny().set_output(transform="pandas").fit(X[:, 0]).transform(X[:, 0])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns)[:2] == ["contrastiveencoder0", "contrastiveencoder1"]


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.full((8, 32), np.nan), ValueError, "NaN"),
        (np.full((8, 32), np.inf), ValueError, "infinite"),
        (np.zeros((8, 500, 12)), ValueError, r"X\.transpose\(0, 2, 1\)"),
        (np.zeros((2, 3, 4, 5)), ValueError, "4-D"),
        (np.zeros((0, 32)), ValueError, "sample"),
        (np.zeros((1, 32)), ValueError, "at least 2 samples"),
        (np.zeros((8, 1)), ValueError, "too short"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "real numbers"),
        (np.array([[1.0, "x"], [2.0, 3.0]], dtype=object), TypeError, "'x'"),
    ],
)
def test_bad_input_is_rejected_before_training(X, error, match):
    with pytest.raises(error, match=match):
        tiny().fit(X)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"method": "simclrr"}, ValueError, "Valid names: 'byol', .*'simclr'"),
        ({"encoder": "resnet9"}, ValueError, "'cnn', 'resnet', 'transformer'"),
        ({"n_epochs": 0}, ValueError, "n_epochs"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate"),
        ({"device": "tpu:7"}, ValueError, "device"),
        ({"augment": 0.5}, TypeError, "augment"),
        ({"encoder_params": {"hidden_dims": 3}}, TypeError, "hidden_dims"),
    ],
)
def test_bad_parameters_name_the_fix(params, error, match):
    X, _ = two_class()
    with pytest.raises(error, match=match):
        tiny(**params).fit(X)


def test_transform_checks_channels_and_fitted():
    X, _ = two_class(channels=2)
    with pytest.raises(Exception, match="not fitted"):
        tiny().transform(X)
    enc = tiny().fit(X)
    with pytest.raises(
        ValueError,
        match=r"X has 1 features.*the channels.*the fit had 2",
    ):
        enc.transform(X[:, :1])  # not scikit-learn's "X has 1 features"


def test_transform_with_other_rank_names_the_fix():
    X, _ = two_class()
    enc2d = tiny(n_epochs=1).fit(X[:, 0])
    with pytest.raises(ValueError, match=r"fitted on 2-D .* Pass X\[:, 0\]"):
        enc2d.transform(X)
    enc3d = tiny(n_epochs=1).fit(X)
    with pytest.raises(ValueError, match=r"fitted on 3-D .* X\[:, None, :\]"):
        enc3d.transform(X[:, 0])


def test_submodules_are_reachable_from_the_package():
    import tscl

    assert tscl.datasets.load_ucr is datasets.load_ucr
    assert tscl.evaluation.linear_probe.__name__ == "linear_probe"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = tscl.nope


def test_random_crop_views_train_and_too_long_crops_fail_before_training():
    X, _ = two_class(length=64)
    enc = tiny(augment=augment.RandomCrop(length=32) + augment.Jitter()).fit(X)
    assert enc.transform(X).shape == (40, 8)  # transform sees the full length
    with pytest.raises(ValueError, match=r"RandomCrop\(length=100\) needs"):
        tiny(augment=augment.RandomCrop(length=100)).fit(X)
    with pytest.raises(ValueError, match="shortens series of 64 timesteps to 4"):
        tiny(
            encoder="transformer",
            encoder_params={"hidden_dim": 8},
            augment=augment.RandomCrop(length=4),
        ).fit(X)


def test_transformer_encoder_fits_and_transforms_any_length():
    X, _ = two_class(channels=2, length=64)
    enc = tiny(
        encoder="transformer",
        encoder_params={"hidden_dim": 8, "depth": 1, "n_heads": 2},
    ).fit(X)
    assert enc.transform(X).shape == (40, 8)
    assert enc.transform(X[:, :, :37]).shape == (40, 8)  # padded to 5 patches
    assert np.isfinite(enc.transform(X)).all()


def test_transformer_encoder_too_short_series():
    X, _ = two_class(length=6)
    with pytest.raises(ValueError, match="at least 8"):
        tiny(encoder="transformer", encoder_params={"hidden_dim": 8}).fit(X)


def test_real_ecg200_probe_beats_chance():
    X_train, y_train, X_test, y_test = datasets.load_ucr(
        "ECG200", root=ROOT / "datasets" / "ucr"
    )
    # A short fit with the default method; the majority class gives 0.64.
    encoder = ContrastiveEncoder(
        n_epochs=20, encoder_params={"hidden_dim": 16, "depth": 4}, random_state=0
    )
    pipe = make_pipeline(encoder, LogisticRegression(max_iter=1000))
    score = pipe.fit(X_train, y_train).score(X_test, y_test)
    assert score > 0.72


# --------------------------------------------------------------- every method

METHOD_PARAMS = {"moco": {"queue_size": 16}, "byol": {"hidden_dim": 16}}


@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
@pytest.mark.parametrize("name", sorted(tscl.methods.METHODS))
def test_every_method_fits_transforms_and_round_trips_through_save(name, tmp_path):
    X, y = two_class(channels=2)
    enc = tiny(method=name, method_params=METHOD_PARAMS.get(name)).fit(X, y)
    Z = enc.transform(X)
    assert Z.shape == (40, 8)
    assert np.isfinite(Z).all()
    assert len(enc.history_["effective_rank"]) == 2
    enc.save(tmp_path / name)
    loaded = tscl.load(tmp_path / name)
    np.testing.assert_allclose(loaded.transform(X), Z, rtol=1e-5, atol=1e-6)


def test_supcon_needs_y_and_takes_string_and_partial_labels():
    X, y = two_class()
    with pytest.raises(ValueError, match=r"learns from labels: call fit\(X, y\)"):
        tiny(method="supcon").fit(X)
    names = np.where(y == 0, "normal", "abnormal")
    a = tiny(method="supcon").fit(X, names).transform(X)
    b = tiny(method="supcon").fit(X, 1 - y).transform(X)  # same partition
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    partial = np.where(np.arange(40) % 4 == 0, y, -1)  # a quarter labelled
    assert tiny(method="supcon").fit(X, partial).transform(X).shape == (40, 8)


def test_supcon_with_no_label_at_all_equals_simclr():
    X, _ = two_class()
    params = {"projection_dim": 8, "temperature": 0.2}
    a = tiny(method="supcon", method_params=params).fit(X, np.full(40, -1))
    b = tiny(method="simclr", method_params=params).fit(X)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.linspace(0, 1, 40), "'continuous'"),
        (np.zeros((40, 2)), "y must be 1-D|y should be a 1d array"),
        (np.zeros(39), "inconsistent numbers of samples"),
        (np.array(["a"] * 20 + [None] * 20, dtype=object), "mixes label types"),
    ],
)
def test_bad_labels_are_clear_errors(y, match):
    X, _ = two_class()
    with pytest.raises(ValueError, match=match):
        tiny(method="supcon").fit(X, y)


def test_triplet_uses_y_when_given_and_simclr_ignores_it():
    X, y = two_class()
    unsupervised = tiny(method="triplet").fit(X).history_["loss"]
    supervised = tiny(method="triplet").fit(X, y).history_["loss"]
    assert unsupervised != supervised
    assert tiny().fit(X, y).history_["loss"] == tiny().fit(X).history_["loss"]


def test_ts2vec_defaults_to_masking_views():
    assert isinstance(tscl.methods.TS2Vec.default_augmentation(), augment.Masking)
    assert isinstance(tscl.methods.SimCLR.default_augmentation(), augment.Compose)


def test_timestamp_level_transform():
    X, _ = two_class()
    enc = tiny(method="ts2vec").fit(X)
    Zt = enc.transform(X, level="timestamp")
    assert Zt.shape == (40, 64, 8)
    assert Zt.dtype == np.float32
    # the CNN's instance representation is the maximum over timestamps
    np.testing.assert_allclose(Zt.max(axis=1), enc.transform(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(
        ValueError, match="'level' parameter of ContrastiveEncoder must be one of"
    ):
        enc.transform(X, level="patch")


def test_timestamp_level_with_a_transformer_repeats_each_patch():
    X, _ = two_class(length=30)
    enc = tiny(
        encoder="transformer",
        encoder_params={"hidden_dim": 8, "depth": 1, "n_heads": 2, "patch_size": 4},
        n_epochs=1,
    ).fit(X)
    Zt = enc.transform(X, level="timestamp")
    assert Zt.shape == (40, 30, 8)  # 8 patches of 4, the last one padded
    np.testing.assert_array_equal(Zt[:, 0], Zt[:, 3])
    assert not np.allclose(Zt[:, 3], Zt[:, 4])


def test_clip_time_frequency_has_no_timestamp_level():
    X, _ = two_class()
    enc = tiny(method="clip").fit(X)
    with pytest.raises(ValueError, match="spectrum"):
        enc.transform(X, level="timestamp")
    leads = tiny(method="clip", method_params={"pairing": "leads"})
    X2, _ = two_class(channels=2)
    assert leads.fit(X2).transform(X2, level="timestamp").shape == (40, 64, 8)


def test_timestamp_level_with_pandas_output_names_the_fix():
    pytest.importorskip("pandas")
    X, _ = two_class()
    enc = tiny(n_epochs=1).fit(X).set_output(transform="pandas")
    with pytest.raises(ValueError, match=r"set_output\(transform='default'\)"):
        enc.transform(X, level="timestamp")
    assert enc.set_output(transform="default").transform(X, level="timestamp").ndim == 3


def test_a_series_too_short_for_ts2vec_crops_fails_before_training():
    X, _ = two_class(length=6)
    with pytest.raises(ValueError, match="need at least 8"):
        tiny(method="ts2vec", method_params={"temporal_unit": 2}).fit(X)
    with pytest.raises(ValueError, match="minimum of 8 of the encoder and method"):
        tiny(
            method="ts2vec",
            method_params={"temporal_unit": 2},
            augment=augment.RandomCrop(length=4),
        ).fit(two_class(length=16)[0])


def _gappy(seed: int = 0) -> np.ndarray:
    X, _ = two_class(channels=2)
    X = X.astype(np.float64).copy()
    rng = np.random.default_rng(seed)
    X[rng.random(X.shape) < 0.1] = np.nan  # gaps
    X[3, :, -7:] = np.nan  # a shorter series, padded at the end
    return X


def test_nan_are_refused_by_default_with_the_policies_named():
    with pytest.raises(ValueError, match=r"NaN value.*missing='pad' or 'resample'"):
        tiny().fit(_gappy())


@pytest.mark.parametrize("policy", ["pad", "resample"])
def test_the_missing_policy_fills_nan_as_fill_missing_does(policy):
    from tscl.datasets import fill_missing

    X = _gappy()
    ours = tiny(missing=policy).fit(X)
    filled = tiny().fit(fill_missing(X, policy))
    Z = ours.transform(X)
    np.testing.assert_array_equal(Z, filled.transform(fill_missing(X, policy)))
    assert np.isfinite(Z).all()
    assert ours.__sklearn_tags__().input_tags.allow_nan
    assert not filled.__sklearn_tags__().input_tags.allow_nan


def test_the_missing_policy_refuses_an_empty_series_by_its_row():
    X = _gappy()
    X[5] = np.nan
    with pytest.raises(ValueError, match="Case 5 of X has no observed value"):
        tiny(missing="resample").fit(X)
    with pytest.raises(ValueError, match="'missing' parameter"):
        tiny(missing="drop").fit(_gappy())


def test_the_missing_policy_is_saved_with_the_model(tmp_path):
    X = _gappy()
    model = tiny(missing="pad").fit(X)
    model.save(tmp_path / "m")
    loaded = tscl.load(tmp_path / "m")
    assert loaded.missing == "pad"
    np.testing.assert_allclose(loaded.transform(X), model.transform(X), rtol=1e-6)
