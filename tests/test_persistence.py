"""Tests for tscl.persistence: a safe, code-free model format."""

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import tscl
from tscl import persistence
from tscl.augment import (
    AUGMENTATIONS,
    Crop,
    Flip,
    Jitter,
    OneOf,
    Permutation,
    RandomApply,
    Resample,
    Scaling,
)
from tscl.encoders import CNN


def _X(n: int = 16, channels: int = 2, length: int = 32) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, channels, length))


def _estimator(**kwargs) -> tscl.ContrastiveEncoder:
    params = {
        "method": "simclr",
        "encoder": "auto",  # SimCLR's: a CNN
        "n_components": 4,
        "n_epochs": 1,
        "batch_size": 8,
        "random_state": 0,
        "device": "cpu",
        "encoder_params": {"hidden_dim": 8, "depth": 2},
    }
    params.update(kwargs)
    return tscl.ContrastiveEncoder(**params)


@pytest.fixture(scope="module")
def fitted() -> tscl.ContrastiveEncoder:
    return _estimator().fit(_X())


@pytest.fixture
def saved(fitted, tmp_path) -> Path:
    path = tmp_path / "model"
    fitted.save(path)
    return path


def _jitter_by_hand(x: torch.Tensor, generator=None) -> torch.Tensor:
    """A plain-function augmentation, which cannot be stored as JSON."""
    return x + 0.01 * torch.randn(x.shape, generator=generator)


def test_round_trip_gives_an_identical_transform(fitted, saved):
    loaded = tscl.load(saved)
    X = _X(n=5)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    assert loaded.get_params() == fitted.get_params()
    assert loaded.history_ == fitted.history_
    np.testing.assert_array_equal(loaded.mean_, fitted.mean_)
    np.testing.assert_array_equal(loaded.scale_, fitted.scale_)
    assert loaded.n_features_in_ == fitted.n_features_in_
    assert loaded.n_channels_in_ == fitted.n_channels_in_
    assert not loaded.encoder_.training
    assert list(loaded.get_feature_names_out()) == list(fitted.get_feature_names_out())


def test_round_trip_keeps_dtype_and_2d_input(tmp_path):
    X = _X(channels=1)[:, 0, :].astype(np.float32)
    estimator = _estimator().fit(X)
    estimator.save(tmp_path / "m")
    loaded = tscl.load(str(tmp_path / "m"))  # str paths work too
    out = loaded.transform(X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, estimator.transform(X))


def test_model_directory_layout(saved):
    assert sorted(p.name for p in saved.iterdir()) == sorted(persistence.FILES)
    config = json.loads((saved / "config.json").read_text())
    assert config["format"] == "tscl-model"
    assert config["format_version"] == persistence.FORMAT_VERSION
    assert config["tscl_version"] == tscl.__version__
    assert config["params"]["method"] == "simclr"
    assert config["params"]["encoder"] == "auto"  # the method's: a CNN
    assert config["fitted"]["n_channels_in_"] == 2
    state = torch.load(saved / "encoder.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_save_returns_self_and_overwrites_a_model_directory(fitted, saved):
    other = _estimator(random_state=1).fit(_X())
    assert other.save(saved) is other
    X = _X(n=3)
    np.testing.assert_array_equal(tscl.load(saved).transform(X), other.transform(X))
    assert not np.array_equal(tscl.load(saved).transform(X), fitted.transform(X))
    assert not [p for p in saved.iterdir() if p.name.startswith(".")]  # no temp files


def test_classes_are_saved_by_registry_name(tmp_path):
    estimator = _estimator(method=tscl.methods.SimCLR, encoder=CNN).fit(_X())
    estimator.save(tmp_path / "m")
    loaded = tscl.load(tmp_path / "m")
    assert loaded.encoder == "cnn"
    assert loaded.method == "simclr"
    np.testing.assert_array_equal(loaded.transform(_X()), estimator.transform(_X()))


def test_encoder_instance_is_refused_and_nothing_written(tmp_path):
    # The instance's own settings (hidden_dim=8) are not stored, so the model could
    # not be rebuilt on load; saving must refuse rather than write a broken model.
    estimator = _estimator(
        encoder=CNN(2, 4, hidden_dim=8, depth=1), encoder_params=None
    ).fit(_X())
    with pytest.raises(TypeError, match="Nothing was written"):
        estimator.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_loader_uses_weights_only(saved, tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (os.makedirs, (str(marker),))

    torch.save({"input.weight": Payload()}, saved / "encoder.pt")
    with pytest.raises(ValueError, match="could not be read"):
        tscl.load(saved)
    assert not marker.exists()  # the pickled code never ran


def test_mismatched_weights_are_a_value_error(saved):
    torch.save({"bogus": torch.zeros(3)}, saved / "encoder.pt")
    with pytest.raises(ValueError, match="could not be read as this model's weights"):
        tscl.load(saved)


def test_corrupt_or_missing_weights_are_a_value_error(saved):
    (saved / "encoder.pt").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="could not be read"):
        tscl.load(saved)
    (saved / "encoder.pt").unlink()
    with pytest.raises(ValueError, match="no encoder.pt"):
        tscl.load(saved)


def test_missing_history_is_an_incomplete_folder(saved):
    (saved / "history.json").unlink()  # format 2 records its digest: it is required
    with pytest.raises(ValueError, match="has no history.json; the model is incomp"):
        tscl.load(saved)


def test_missing_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model directory"):
        tscl.load(tmp_path / "nowhere")


def test_directory_without_config_is_a_value_error(tmp_path):
    (tmp_path / "other.txt").write_text("hello")
    with pytest.raises(ValueError, match="has no config.json"):
        tscl.load(tmp_path)
    with pytest.raises(ValueError, match="not a tscl model directory"):
        tscl.load(tmp_path / "other.txt")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a tscl model configuration"),
        ('{"format": "other"}', "not a tscl model configuration"),
        (
            '{"format": "tscl-model", "format_version": 99, "tscl_version": "9.0"}',
            r"newer tscl \(9.0\)",
        ),
    ],
)
def test_bad_config_is_a_value_error(saved, text, match):
    (saved / "config.json").write_text(text)
    with pytest.raises(ValueError, match=match):
        tscl.load(saved)


def test_binary_config_is_a_value_error(saved):
    (saved / "config.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not valid JSON"):
        tscl.load(saved)


def test_refuses_a_non_empty_non_model_directory(fitted, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="refusing to write"):
        fitted.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_a_file_path(fitted, tmp_path):
    target = tmp_path / "model"
    target.write_text("x")
    with pytest.raises(FileExistsError, match="not a directory"):
        fitted.save(target)
    assert target.read_text() == "x"


def test_writes_into_an_empty_directory(fitted, tmp_path):
    fitted.save(tmp_path)
    assert (tmp_path / "config.json").exists()
    assert (tmp_path / "encoder.pt").exists()


def test_unfitted_estimator_is_not_saved(tmp_path):
    with pytest.raises(NotFittedError):
        _estimator().save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_non_json_params_are_refused_and_nothing_written(tmp_path):
    estimator = _estimator(encoder_params={"hidden_dim": np.int64(8), "depth": 1})
    estimator.fit(_X())
    with pytest.raises(TypeError, match="not JSON serialisable"):
        estimator.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_custom_augmentation_saves_and_warns_on_load(tmp_path):
    estimator = _estimator(augment=_jitter_by_hand).fit(_X())
    estimator.save(tmp_path / "m")
    with pytest.warns(UserWarning, match="augment=None"):
        loaded = tscl.load(tmp_path / "m")
    assert loaded.augment is None
    np.testing.assert_array_equal(loaded.transform(_X()), estimator.transform(_X()))


def test_compose_of_tscl_augmentations_round_trips(tmp_path):
    augment = (
        Crop(scale=(0.6, 0.9))
        + Scaling(sigma=0.2, per_channel=True, p=0.5)
        + Jitter(sigma=0.05)
        + Permutation(max_segments=3)
    )
    estimator = _estimator(augment=augment).fit(_X())
    estimator.save(tmp_path / "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about
        loaded = tscl.load(tmp_path / "m")
    assert repr(loaded.augment) == repr(augment)
    assert loaded.augment.augmentations[0].scale == (0.6, 0.9)
    x = torch.randn(4, 2, 32)
    torch.testing.assert_close(
        loaded.augment(x, torch.Generator().manual_seed(0)),
        augment(x, torch.Generator().manual_seed(0)),
    )


def test_nested_combinators_round_trip_without_fitting(tmp_path):
    from tscl.augment import from_spec, to_spec

    augment = OneOf(
        [RandomApply(Flip(), p=0.3), Resample(rate_range=(0.9, 1.1)) + Jitter()],
        weights=[1.0, 2.0],
    )
    spec = json.loads(json.dumps(to_spec(augment)))
    loaded = from_spec(spec)
    assert repr(loaded) == repr(augment)
    assert loaded.augmentations[1].augmentations[0].rate_range == (0.9, 1.1)
    for cls in AUGMENTATIONS.values():  # every registered class with defaults
        spec = json.loads(json.dumps(to_spec(cls())))
        assert repr(from_spec(spec)) == repr(cls())


def test_a_combinator_holding_a_custom_callable_is_unrestorable(tmp_path):
    from tscl.augment import to_spec

    with pytest.raises(TypeError, match="cannot be stored as data"):
        to_spec(RandomApply(_jitter_by_hand))
    estimator = _estimator(augment=RandomApply(_jitter_by_hand)).fit(_X())
    estimator.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert set(config["params"]["augment"]) == {"unrestorable"}


def test_single_augmentation_round_trips(tmp_path):
    estimator = _estimator(augment=Jitter(sigma=0.1, p=0.7)).fit(_X())
    estimator.save(tmp_path / "m")
    assert repr(tscl.load(tmp_path / "m").augment) == "Jitter(p=0.7, sigma=0.1)"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda c: c.pop("fitted"), "KeyError"),
        (lambda c: c["params"].update(colour="red"), "TypeError"),
        (lambda c: c["params"].update(encoder="resnet9"), "Unknown encoder"),
    ],
)
def test_config_that_parses_but_cannot_be_rebuilt_is_a_value_error(saved, edit, match):
    config = json.loads((saved / "config.json").read_text())
    edit(config)
    (saved / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=rf"does not describe a model.*{match}"):
        tscl.load(saved)


@pytest.fixture
def group_umask():
    """A umask that lets the group read (0o027), restored afterwards."""
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def test_saved_files_follow_the_umask_like_any_other_file(tmp_path, group_umask):
    # Written through mkstemp, they were 0o600: a colleague could not read them.
    _estimator().fit(_X()).save(tmp_path / "m")
    for name in ("config.json", "encoder.pt", "history.json"):
        mode = (tmp_path / "m" / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~group_umask, f"{name}: {oct(mode)}"


def test_a_replaced_model_file_keeps_its_mode(tmp_path):
    estimator = _estimator().fit(_X())
    estimator.save(tmp_path / "m")
    (tmp_path / "m" / "encoder.pt").chmod(0o644)
    estimator.save(tmp_path / "m")
    assert (tmp_path / "m" / "encoder.pt").stat().st_mode & 0o777 == 0o644


def test_fitted_attributes_round_trip_without_a_list_in_persistence(tmp_path):
    estimator = _estimator().fit(_X())
    estimator.extra_statistic_ = np.array([1.5, 2.5])  # a new fitted attribute
    estimator.save(tmp_path / "m")
    loaded = tscl.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.extra_statistic_, [1.5, 2.5])
    for name in ("n_features_in_", "n_channels_in_", "n_dims_in_"):
        assert getattr(loaded, name) == getattr(estimator, name)
