"""Tests for tscl.methods: every registered method trains its encoder."""

import copy

import pytest
import torch
from torch import nn

from tscl.encoders import CNN
from tscl.methods import METHODS, Method, SimCLR, build_method, projection_head

ALL_METHODS = list(METHODS.values())
IDS = [cls.__name__ for cls in ALL_METHODS]


def _encoder(in_channels: int = 2) -> CNN:
    torch.manual_seed(0)
    return CNN(in_channels, out_dim=8, hidden_dim=8, depth=2)


def _views(batch: int = 8, channels: int = 2, length: int = 32):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(batch, channels, length, generator=generator)
    return x, x + 0.1 * torch.randn(x.shape, generator=generator)


def test_registry_names_are_lowercase_method_classes():
    assert "simclr" in METHODS
    for name, cls in METHODS.items():
        assert name == name.lower()
        assert issubclass(cls, Method)


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_loss_is_a_finite_scalar_with_a_gradient(cls):
    method = build_method(cls, _encoder())
    loss = method(*_views())
    assert loss.shape == ()
    assert torch.isfinite(loss)
    assert loss.requires_grad


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_one_step_changes_the_encoder_weights(cls):
    method = build_method(cls, _encoder())
    before = copy.deepcopy(method.encoder.state_dict())
    optimizer = torch.optim.SGD(method.parameters(), lr=0.1)
    loss = method(*_views())
    optimizer.zero_grad()
    loss.backward()
    trainable = dict(method.encoder.named_parameters())
    for name, param in trainable.items():
        assert param.grad is not None, f"encoder parameter {name} got no gradient"
    optimizer.step()
    method.on_step_end(1, 1)
    after = method.encoder.state_dict()
    changed = [k for k in trainable if not torch.equal(before[k], after[k])]
    assert len(changed) == len(trainable)


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_parameters_outside_the_gradient_get_none(cls):
    method = build_method(cls, _encoder())
    method(*_views()).backward()
    frozen = [p for p in method.parameters() if not p.requires_grad]
    assert all(p.grad is None for p in frozen)
    trainable = [p for p in method.parameters() if p.requires_grad]
    assert trainable
    assert all(p.grad is not None for p in trainable)


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_downstream_encoder_is_the_one_given(cls):
    encoder = _encoder()
    method = build_method(cls, encoder)
    assert method.encoder is encoder


def test_simclr_loss_is_lower_for_aligned_views():
    method = SimCLR(_encoder(), projection_dim=4).eval()
    x, _ = _views(batch=16)
    with torch.no_grad():
        aligned = method(x, x)
        unrelated = method(x, torch.randn_like(x))
    assert aligned < unrelated


def test_projection_head_shape():
    head = projection_head(16, 4, hidden_dim=32)
    assert head(torch.randn(3, 16)).shape == (3, 4)
    assert head[0].out_features == 32
    assert projection_head(16, 4)[0].out_features == 16


# ----------------------------------------------------------------- build_method


def test_build_method_by_name_is_case_insensitive():
    method = build_method("SimCLR", _encoder(), {"projection_dim": 4})
    assert type(method) is SimCLR
    assert method.head[-1].out_features == 4


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_build_method_by_class_and_instance(cls):
    method = build_method(cls, _encoder())
    assert type(method) is cls
    assert build_method(method, _encoder()) is method  # instance passes through


def test_build_method_passes_params():
    method = build_method("simclr", _encoder(), {"temperature": 0.5})
    assert method.criterion.temperature == 0.5


def test_build_method_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown method 'moco2'") as info:
        build_method("moco2", _encoder())
    for name in METHODS:
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("bad", [42, nn.Linear, CNN])
def test_build_method_rejects_other_objects(bad):
    with pytest.raises(TypeError, match="'method' parameter must be"):
        build_method(bad, _encoder())


def test_build_method_bad_params():
    with pytest.raises(TypeError, match=r"Could not build SimCLR.*'tau'"):
        build_method("simclr", _encoder(), {"tau": 0.1})
    with pytest.raises(ValueError, match="'temperature' parameter of NTXent"):
        build_method("simclr", _encoder(), {"temperature": -1.0})
    with pytest.raises(ValueError, match="'projection_dim' parameter of SimCLR"):
        build_method("simclr", _encoder(), {"projection_dim": 0})


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_encoder_without_out_dim_is_a_type_error(cls):
    encoder = nn.Sequential(nn.Conv1d(2, 8, 3), nn.AdaptiveMaxPool1d(1), nn.Flatten())
    with pytest.raises(TypeError, match="integer 'out_dim' attribute"):
        build_method(cls, encoder)
    encoder.out_dim = 8.0
    with pytest.raises(TypeError, match="Sequential"):
        build_method(cls, encoder)
