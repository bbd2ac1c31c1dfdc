"""Tests for tscl.encoders: the shared interface of every registered encoder."""

import inspect

import pytest
import torch
from torch import nn

from tscl.encoders import (
    CNN,
    ENCODERS,
    Encoder,
    Transformer,
    TS2VecEncoder,
    build_encoder,
)

ALL_ENCODERS = list(ENCODERS.values())
IDS = [cls.__name__ for cls in ALL_ENCODERS]


def _tiny_params(cls: type) -> dict:
    """Small settings for any encoder class, keeping only those it takes."""
    small = {"hidden_dim": 8, "depth": 2, "n_heads": 2, "patch_size": 4}
    accepted = inspect.signature(cls).parameters
    return {k: v for k, v in small.items() if k in accepted}


def _build(cls: type, in_channels: int, out_dim: int = 6) -> Encoder:
    torch.manual_seed(0)
    return cls(in_channels, out_dim, **_tiny_params(cls))


def test_registry_names_are_lowercase_encoder_classes():
    assert set(ENCODERS) >= {"cnn", "transformer"}
    for name, cls in ENCODERS.items():
        assert name == name.lower()
        assert issubclass(cls, Encoder)


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
@pytest.mark.parametrize(("batch", "channels"), [(2, 1), (3, 12), (5, 2)])
@pytest.mark.parametrize("length", ["min", 37, 64])
def test_forward_backward(cls, batch, channels, length):
    encoder = _build(cls, channels)
    time = encoder.min_length if length == "min" else length
    x = torch.randn(batch, channels, time)
    out = encoder(x)
    assert out.shape == (batch, encoder.out_dim) == (batch, 6)
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    for name, param in encoder.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, f"{name} got a zero gradient"


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_forward_features_shape(cls):
    encoder = _build(cls, 3)
    features = encoder.forward_features(torch.randn(4, 3, 40))
    assert features.ndim == 3
    assert features.shape[:2] == (4, 8)  # (batch, hidden_dim, time')
    assert 1 <= features.shape[2] <= 40


def test_forward_features_time_axis():
    assert CNN(2, 4, hidden_dim=8, depth=2).forward_features(
        torch.randn(3, 2, 50)
    ).shape == (3, 8, 50)
    transformer = Transformer(2, 4, hidden_dim=8, depth=1, n_heads=2, patch_size=8)
    # 50 timesteps are padded to 56 = 7 patches of 8.
    assert transformer.forward_features(torch.randn(3, 2, 50)).shape == (3, 8, 7)


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_wrong_channel_count_is_a_clear_error(cls):
    encoder = _build(cls, 3)
    with pytest.raises(ValueError, match=r"built for 3 channel\(s\).*with 2"):
        encoder(torch.randn(4, 2, 32))


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_too_short_input_is_a_clear_error(cls):
    encoder = _build(cls, 1)
    with pytest.raises(ValueError, match=r"at least|non-empty"):
        encoder(torch.randn(4, 1, encoder.min_length - 1))


def test_transformer_too_short_message():
    encoder = Transformer(1, 4, hidden_dim=8, depth=1, n_heads=2, patch_size=8)
    assert encoder.min_length == 8
    with pytest.raises(ValueError, match="Transformer needs series of at least 8"):
        encoder(torch.randn(2, 1, 7))


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_bad_input_types(cls):
    encoder = _build(cls, 1)
    with pytest.raises(TypeError, match="floating-point"):
        encoder(torch.ones(2, 1, 32, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        encoder(torch.randn(2, 32))


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_output_does_not_depend_on_the_rest_of_the_batch(cls):
    encoder = _build(cls, 2).eval()
    x = torch.randn(8, 2, 48)
    with torch.no_grad():
        together = encoder(x)
        alone = torch.cat([encoder(x[i : i + 1]) for i in range(len(x))])
        shuffled = encoder(x.flip(0)).flip(0)
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(together, shuffled, rtol=1e-4, atol=1e-5)


def test_cnn_accepts_any_length_and_receptive_field_is_local():
    encoder = CNN(1, 4, hidden_dim=8, depth=2, kernel_size=3).eval()
    x = torch.randn(1, 1, 64)
    y = x.clone()
    y[..., -1] += 10.0
    with torch.no_grad():
        fx, fy = encoder.forward_features(x), encoder.forward_features(y)
    # Receptive field 1 + 2 * 2 * (2**2 - 1) = 13: early steps cannot see the end.
    torch.testing.assert_close(fx[..., :50], fy[..., :50])
    assert not torch.allclose(fx[..., -1], fy[..., -1])


@pytest.mark.parametrize("dtype", [torch.float64])
@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_runs_in_float64(cls, dtype):
    encoder = _build(cls, 2).to(dtype)
    out = encoder(torch.randn(3, 2, 32, dtype=dtype))
    assert out.dtype == dtype
    assert torch.isfinite(out).all()


# ---------------------------------------------------------------- build_encoder


@pytest.mark.parametrize("name", list(ENCODERS))
def test_build_encoder_by_name(name):
    cls = ENCODERS[name]
    encoder = build_encoder(name.upper(), 3, 5, _tiny_params(cls))
    assert type(encoder) is cls
    assert encoder.out_dim == 5
    assert encoder.in_channels == 3


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_build_encoder_by_class_and_instance(cls):
    built = build_encoder(cls, 2, 4, _tiny_params(cls))
    assert type(built) is cls
    assert built(torch.randn(2, 2, 32)).shape == (2, 4)
    assert build_encoder(built, 99, 99) is built  # instances pass through


def test_build_encoder_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown encoder 'rnn'") as info:
        build_encoder("rnn", 1, 4)
    for name in ENCODERS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("bad", [42, nn.Linear(2, 2).weight, dict])
def test_build_encoder_rejects_other_objects(bad):
    with pytest.raises(TypeError, match="'encoder' parameter must be"):
        build_encoder(bad, 1, 4)


def test_build_encoder_accepts_any_module_class():
    class Custom(nn.Module):
        def __init__(self, in_channels: int, out_dim: int) -> None:
            super().__init__()
            self.out_dim = out_dim
            self.linear = nn.Linear(in_channels, out_dim)

    assert build_encoder(Custom, 2, 3).out_dim == 3


def test_build_encoder_bad_params_are_a_type_error():
    with pytest.raises(
        TypeError, match=r"CNN takes no parameter 'n_layers' .*: hidden_dim, depth"
    ):
        build_encoder("cnn", 1, 4, {"n_layers": 3})


# ---------------------------------------------------------- constructor checks


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: CNN(1, 4, kernel_size=4), ValueError, "odd kernel_size"),
        (lambda: CNN(1, 4, kernel_size=0), ValueError, "'kernel_size'"),
        (lambda: CNN(0, 4), ValueError, "'in_channels' parameter of CNN"),
        (lambda: CNN(1, 0), ValueError, "'out_dim' parameter of CNN"),
        (lambda: CNN(1, 4, depth=0), ValueError, "'depth'"),
        (lambda: CNN(1, 4, hidden_dim=8.0), TypeError, "'hidden_dim'"),
        (lambda: CNN(True, 4), TypeError, "'in_channels'"),
        (
            lambda: Transformer(1, 4, hidden_dim=10, n_heads=4),
            ValueError,
            "hidden_dim divisible by n_heads",
        ),
        (lambda: Transformer(1, 4, n_heads=0), ValueError, "'n_heads'"),
        (lambda: Transformer(1, 4, patch_size=0), ValueError, "'patch_size'"),
        (lambda: Transformer(1, 4, dropout=1.0), ValueError, "'dropout'"),
        (lambda: Transformer(1, 4, dropout="0"), TypeError, "'dropout'"),
    ],
)
def test_bad_constructor_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ------------------------------------------------- timestamps and rebuilding


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
@pytest.mark.parametrize("length", [37, 64])
def test_forward_timestamps_covers_the_series_in_strides(cls, length):
    encoder = _build(cls, 3)
    x = torch.randn(4, 3, length)
    stamps = encoder.forward_timestamps(x)
    steps = -(-length // encoder.timestamp_stride)  # ceil
    assert stamps.shape == (4, encoder.out_dim, steps)
    stamps.square().sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())


def test_cnn_pools_its_timestamps_by_the_maximum():
    encoder = _build(CNN, 2)
    x = torch.randn(3, 2, 30)
    stamps = encoder.forward_timestamps(x)
    assert torch.allclose(stamps.max(dim=2).values, encoder(x))


def test_transformer_pools_its_patches_by_the_mean():
    encoder = _build(Transformer, 2)
    x = torch.randn(3, 2, 32)
    assert torch.allclose(
        encoder.forward_timestamps(x).mean(dim=2), encoder(x), atol=1e-6
    )


def test_timestamps_of_a_plain_module_is_a_clear_error():
    from tscl.encoders import timestamps

    with pytest.raises(TypeError, match="has no forward_timestamps"):
        timestamps(nn.Conv1d(1, 2, 3), torch.zeros(1, 1, 8))


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_rebuild_keeps_the_settings_and_reinitialises(cls):
    encoder = _build(cls, 3)
    other = encoder.rebuild(5, 4)
    assert type(other) is cls
    assert (other.in_channels, other.out_dim) == (5, 4)
    assert other.settings == encoder.settings
    assert other(torch.randn(2, 5, 40)).shape == (2, 4)
    same = encoder.rebuild(3, 6)
    assert not all(
        torch.equal(a, b)
        for a, b in zip(encoder.parameters(), same.parameters(), strict=True)
    )


# ----------------------------------------------- settings, rebuild and encode


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
def test_settings_and_rebuild_need_nothing_from_the_subclass(cls):
    import copy
    import pickle

    encoder = _build(cls, 2)
    assert encoder.settings == _tiny_params(cls) | {
        k: v.default
        for k, v in inspect.signature(cls).parameters.items()
        if k not in ("in_channels", "out_dim") and k not in _tiny_params(cls)
    }
    other = encoder.rebuild(3, 5)
    assert type(other) is cls
    assert (other.in_channels, other.out_dim) == (3, 5)
    assert other.settings == encoder.settings
    assert other(torch.randn(2, 3, 40)).shape == (2, 5)
    assert copy.deepcopy(encoder).settings == encoder.settings
    assert pickle.loads(pickle.dumps(encoder)).settings == encoder.settings


def test_a_new_encoder_subclass_gets_settings_for_free():
    class Tiny(Encoder):
        def __init__(self, in_channels: int, out_dim: int = 4, width: int = 3):
            super().__init__()
            self.in_channels, self.out_dim = in_channels, out_dim
            self.conv = nn.Conv1d(in_channels, width, 1)
            self.head = nn.Conv1d(width, out_dim, 1)

        def forward_features(self, x):
            return self.conv(x)

        def timestamps(self, features):
            return self.head(features)

        def pool(self, features):
            return self.timestamps(features).mean(dim=2)

    assert Tiny(2, width=7).settings == {"width": 7}
    assert Tiny(2, width=7).rebuild(1, 2).conv.out_channels == 7


@pytest.mark.parametrize("cls", ALL_ENCODERS, ids=IDS)
@pytest.mark.parametrize("level", ["instance", "timestamp"])
def test_encode_gives_each_row_the_same_bits_whatever_else_is_encoded(cls, level):
    # Chunks of one fixed shape: float32 kernels that pick other paths for other
    # batch sizes made rows differ by up to 4e-7 between subsets.
    import numpy as np

    from tscl.encoders import encode

    encoder = _build(cls, 3)
    X = np.random.default_rng(0).normal(size=(45, 3, 48)).astype(np.float32)
    whole = encode(encoder, X, level=level)
    for rows in (slice(0, 1), slice(7, 12), slice(13, 45), slice(44, 45)):
        np.testing.assert_array_equal(
            encode(encoder, X[rows], level=level), whole[rows]
        )
    order = np.random.default_rng(1).permutation(45)
    np.testing.assert_array_equal(encode(encoder, X[order], level=level), whole[order])
    other_chunks = encode(encoder, X, batch_size=8, level=level)  # another shape
    np.testing.assert_allclose(other_chunks, whole, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("length", [3, 40, 127, 130, 600])
def test_deep_dilations_use_the_centre_tap_alone_with_the_same_result(
    kernel_size, length
):
    """Blocks whose dilation reaches past the series read only padding off-centre."""
    from tscl.encoders import _base

    torch.manual_seed(0)
    encoder = TS2VecEncoder(
        2, out_dim=16, hidden_dim=8, depth=8, kernel_size=kernel_size
    )
    x = torch.randn(3, 2, length, requires_grad=True)
    encoder.train(False)
    fast = encoder.forward_timestamps(x)
    fast.square().sum().backward()
    fast_grads = [p.grad.clone() for p in encoder.parameters()]
    encoder.zero_grad()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_base, "_dilated", lambda conv, x: conv(x))
        full = encoder.forward_timestamps(x)
        full.square().sum().backward()
    torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-5)
    grads = [p.grad for p in encoder.parameters()]
    for mine, theirs in zip(fast_grads, grads, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("level", ["instance", "timestamp"])
@pytest.mark.parametrize("kind", ["cnn", "ts2vec"])
def test_long_series_are_encoded_in_pieces_with_the_whole_series_result(
    monkeypatch, level, kind
):
    import numpy as np

    from tscl.encoders import _encode, encode

    torch.manual_seed(0)
    if kind == "cnn":
        encoder: Encoder = CNN(2, out_dim=8, hidden_dim=4, depth=2)
    else:
        encoder = TS2VecEncoder(2, out_dim=8, hidden_dim=4, depth=2)
    assert encoder.receptive_radius == (6 if kind == "cnn" else 14)
    X = np.random.default_rng(0).normal(size=(3, 2, 301)).astype(np.float32)
    whole = encode(encoder, X, level=level)
    seen = []
    forward = encoder.forward_timestamps

    def spy(x):
        seen.append(x.shape[2])
        return forward(x)

    monkeypatch.setattr(encoder, "forward_timestamps", spy)
    monkeypatch.setattr(_encode, "ENCODE_STEPS", 40)
    pieces = encode(encoder, X, level=level)
    assert max(seen) <= 40
    assert len(seen) > 10
    np.testing.assert_allclose(pieces, whole, rtol=1e-5, atol=1e-6)


def test_encoders_without_a_receptive_radius_are_encoded_whole(monkeypatch):
    import numpy as np

    from tscl.encoders import _encode, encode

    encoder = Transformer(1, out_dim=8, hidden_dim=8, n_heads=2, depth=1)
    assert encoder.receptive_radius is None
    monkeypatch.setattr(_encode, "ENCODE_STEPS", 16)
    X = np.random.default_rng(0).normal(size=(2, 1, 64)).astype(np.float32)
    assert encode(encoder, X).shape == (2, 8)


def test_encode_tensor_bounds_each_pass_and_gives_the_whole_result(monkeypatch):
    from tscl.encoders import _encode, encode_tensor

    torch.manual_seed(0)
    encoder = TS2VecEncoder(2, out_dim=8, hidden_dim=4, depth=2).eval()
    x = torch.randn(5, 2, 301)
    whole = encoder(x)
    seen = []
    forward = encoder.forward_timestamps

    def spy(piece):
        seen.append(tuple(piece.shape))
        return forward(piece)

    monkeypatch.setattr(encoder, "forward_timestamps", spy)
    monkeypatch.setattr(_encode, "ENCODE_STEPS", 40)
    monkeypatch.setattr(_encode, "ENCODE_VALUES", 2 * 2 * 301)  # two series a pass
    with torch.no_grad():
        parts = encode_tensor(encoder, x)
    assert max(shape[0] for shape in seen) == 2
    assert max(shape[2] for shape in seen) <= 40
    torch.testing.assert_close(parts, whole, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bad", [torch.zeros(0, 1, 8), torch.zeros(3, 8), [1.0]])
def test_encode_tensor_refuses_what_is_not_a_batch_of_series(bad):
    from tscl.encoders import encode_tensor

    with pytest.raises(ValueError, match=r"shape \(batch, channels, time\)"):
        encode_tensor(CNN(1, out_dim=4, hidden_dim=4, depth=1), bad)
