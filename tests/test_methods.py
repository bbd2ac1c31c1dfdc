"""Tests for tscl.methods: every registered method trains its encoder."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from tscl.encoders import CNN, Transformer
from tscl.methods import (
    BYOL,
    CLIP,
    METHODS,
    ChannelGroup,
    CLIPPair,
    Method,
    MoCo,
    MomentumTarget,
    PairEncoder,
    SimCLR,
    SimSiam,
    Spectrum,
    SupCon,
    Triplet,
    TS2Vec,
    build_method,
    method_class,
    projection_head,
)
from tscl.methods._ts2vec import _take

ALL_METHODS = list(METHODS.values())
IDS = [cls.__name__ for cls in ALL_METHODS]
MOMENTUM = [MoCo, BYOL]
SMALL = {"projection_dim": 4}


def _encoder(in_channels: int = 2) -> CNN:
    torch.manual_seed(0)
    return CNN(in_channels, out_dim=8, hidden_dim=8, depth=2)


def _views(batch: int = 8, channels: int = 2, length: int = 32):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(batch, channels, length, generator=generator)
    return x, x + 0.1 * torch.randn(x.shape, generator=generator)


def _labels(batch: int = 8) -> torch.Tensor:
    return torch.arange(batch) % 3


def _loss(method: Method, x1, x2, batch: int = 8):
    if method.label_use == "required":
        return method(x1, x2, _labels(batch))
    return method(x1, x2)


def _build(cls, encoder=None):
    torch.manual_seed(0)
    params = {"queue_size": 32} if cls is MoCo else {}
    return build_method(cls, encoder or _encoder(), params)


# ------------------------------------------------------------------ registry


def test_every_registered_method_follows_the_contract():
    assert METHODS, "the registry is empty"
    for name, cls in METHODS.items():
        assert name == name.lower()
        assert issubclass(cls, Method)
        assert cls.label_use in ("ignored", "optional", "required")
        assert "References" in (cls.__doc__ or ""), f"{name} cites no paper"


def test_a_registered_method_is_picked_up_by_the_estimator_and_the_cli(monkeypatch):
    from tscl import ContrastiveEncoder
    from tscl._cli_args import build_parser

    class Mirror(SimCLR):
        """SimCLR under another name, as a new method would be registered.

        References
        ----------
        .. [1] None; a test double.
        """

    monkeypatch.setitem(METHODS, "mirror", Mirror)
    X = np.random.default_rng(0).normal(size=(16, 1, 32)).astype(np.float32)
    params = {"hidden_dim": 4, "depth": 1}
    model = ContrastiveEncoder(
        "mirror",
        n_epochs=1,
        n_components=4,
        batch_size=8,
        encoder_params=params,
        random_state=0,
    ).fit(X)
    assert model.transform(X).shape == (16, 4)
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert "mirror" in commands.choices["pretrain"].format_help()


def test_label_use_of_each_method():
    assert SupCon.label_use == "required"
    assert Triplet.label_use == "optional"
    assert SimCLR.label_use == MoCo.label_use == BYOL.label_use == "ignored"


# ------------------------------------------------------- contract, every method


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_loss_is_a_finite_scalar_with_a_gradient(cls):
    method = _build(cls)
    loss = _loss(method, *_views())
    assert loss.shape == ()
    assert torch.isfinite(loss)
    assert loss.requires_grad


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_one_step_changes_every_online_encoder_weight(cls):
    method = _build(cls)
    before = copy.deepcopy(method.encoder.state_dict())
    optimizer = torch.optim.SGD(method.parameters(), lr=0.1)
    loss = _loss(method, *_views())
    optimizer.zero_grad()
    loss.backward()
    trainable = dict(method.encoder.named_parameters())
    for name, param in trainable.items():
        assert param.grad is not None, f"encoder parameter {name} got no gradient"
    optimizer.step()
    method.on_step_end(1, 10)
    after = method.encoder.state_dict()
    changed = [k for k in trainable if not torch.equal(before[k], after[k])]
    assert len(changed) == len(trainable)


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_parameters_outside_the_gradient_get_none(cls):
    method = _build(cls)
    _loss(method, *_views()).backward()
    frozen = [p for p in method.parameters() if not p.requires_grad]
    assert all(p.grad is None for p in frozen)
    trainable = [p for p in method.parameters() if p.requires_grad]
    assert trainable
    assert all(p.grad is not None for p in trainable)


@pytest.mark.parametrize("cls", [c for c in ALL_METHODS if c is not CLIP], ids=str)
def test_downstream_encoder_is_the_one_given(cls):
    encoder = _encoder()
    assert _build(cls, encoder).encoder is encoder


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_method_runs_with_a_transformer_encoder(cls):
    torch.manual_seed(0)
    encoder = Transformer(2, out_dim=8, hidden_dim=8, depth=1, n_heads=2, patch_size=4)
    method = _build(cls, encoder)
    loss = _loss(method, *_views())
    loss.backward()
    assert torch.isfinite(loss)


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_loss_is_lower_for_aligned_views(cls):
    """Views of the same series must cost less than views of different series."""
    method = _build(cls).eval()
    x, _ = _views(batch=16)
    other = torch.randn_like(x)
    with torch.no_grad():
        if cls is CLIP:  # needs training to align its two encoders
            pytest.skip("CLIP's two modality encoders are unrelated before training")
        unlabelled = torch.full((16,), -1)  # positives: only the other view
        aligned = (
            method(x, x, unlabelled) if cls.label_use != "ignored" else method(x, x)
        )
        unrelated = (
            method(x, other, unlabelled)
            if cls.label_use != "ignored"
            else method(x, other)
        )
    assert aligned < unrelated


# ------------------------------------------------------------ momentum methods


@pytest.mark.parametrize("cls", MOMENTUM, ids=lambda c: c.__name__)
def test_momentum_target_gets_no_gradient_and_follows_the_online_network(cls):
    method = _build(cls)
    target = method.target
    assert isinstance(target, MomentumTarget)
    assert all(not p.requires_grad for p in target.parameters())
    before = copy.deepcopy(target.state_dict())
    optimizer = torch.optim.SGD(method.parameters(), lr=0.5)
    _loss(method, *_views()).backward()
    assert all(p.grad is None for p in target.parameters())
    optimizer.step()
    # the optimiser leaves the weights alone (BatchNorm statistics may move)
    assert all(torch.equal(before[k], v) for k, v in target.named_parameters())
    method.on_step_end(1, 100)
    online = dict(method.encoder.named_parameters())
    for name, value in target.net[0].named_parameters():
        old = before[f"net.0.{name}"]
        m = target.current_momentum(1, 100)
        assert torch.allclose(value, m * old + (1 - m) * online[name].detach())


@pytest.mark.parametrize("cls", MOMENTUM, ids=lambda c: c.__name__)
def test_momentum_and_its_schedule_reach_the_target(cls):
    method = cls(_encoder(), momentum=0.9, momentum_schedule="constant")
    assert (method.target.momentum, method.target.schedule) == (0.9, "constant")
    before = copy.deepcopy(method.target.state_dict())
    with torch.no_grad():
        for param in method.encoder.parameters():
            param.add_(1.0)
    method.on_step_end(10, 10)  # constant: 0.9 even at the last step
    moved = method.target.net[0].input.bias - before["net.0.input.bias"]
    assert torch.allclose(moved, torch.full_like(moved, 0.1), atol=1e-6)


def test_momentum_schedules():
    target = MomentumTarget(nn.Linear(2, 2), momentum=0.9, schedule="cosine")
    assert target.current_momentum(1, 11) == pytest.approx(0.9)
    assert target.current_momentum(6, 11) == pytest.approx(0.95)
    assert target.current_momentum(11, 11) == pytest.approx(1.0)
    constant = MomentumTarget(nn.Linear(2, 2), momentum=0.9, schedule="constant")
    assert constant.current_momentum(11, 11) == 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"momentum": 1.5}, "'momentum' parameter"),
        ({"momentum": -0.1}, "'momentum' parameter"),
        ({"schedule": "linear"}, "'schedule' parameter"),
    ],
)
def test_momentum_target_checks_its_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MomentumTarget(nn.Linear(2, 2), **kwargs)


def test_moco_queue_is_a_ring_buffer_of_normalised_keys():
    method = MoCo(_encoder(), projection_dim=4, queue_size=20)
    x1, x2 = _views(batch=8)
    method(x1, x2)
    assert int(method.queue_pointer) == 16
    assert torch.allclose(method.queue[:16].norm(dim=1), torch.ones(16))
    keys = nn.functional.normalize(
        torch.cat([method.target(x1), method.target(x2)]), dim=1
    )
    assert torch.allclose(method.queue[:16], keys)
    method(x1, x2)  # the same 16 keys again: they wrap around
    assert int(method.queue_pointer) == 12
    assert torch.allclose(method.queue[16:20], keys[:4])
    assert torch.allclose(method.queue[:12], keys[4:])


def test_moco_queue_is_left_alone_in_eval_mode():
    method = MoCo(_encoder(), projection_dim=4, queue_size=16).eval()
    before = method.queue.clone()
    method(*_views())
    assert torch.equal(method.queue, before)
    assert int(method.queue_pointer) == 0


def test_moco_rejects_a_bad_queue_size():
    with pytest.raises(ValueError, match="'queue_size' parameter of MoCo"):
        MoCo(_encoder(), queue_size=0)


def test_simsiam_has_no_target_network_and_stops_the_gradient():
    method = SimSiam(_encoder(), projection_dim=4, hidden_dim=8)
    assert method.target is None
    x1, x2 = _views()
    online = method.online()
    z1, z2 = online(x1), online(x2)
    expected = (
        method.criterion(method.predictor(z1), z2.detach())
        + method.criterion(method.predictor(z2), z1.detach())
    ) / 2
    assert torch.allclose(method(x1, x2), expected)


# ------------------------------------------------------------- labelled methods


def test_simclr_takes_negatives_from_other_processes():
    """Extra negatives enter the NT-Xent denominator, as in the loss itself."""
    method = SimCLR(_encoder(), projection_dim=4)
    x1, x2 = _views()
    others = torch.randn(16, 4)
    with torch.no_grad():
        z1, z2 = method.project(x1), method.project(x2)
        expected = method.criterion(z1, z2, others)
        assert torch.allclose(method(x1, x2, negatives=others), expected)
        assert not torch.allclose(method(x1, x2, negatives=others), method(x1, x2))


def test_supcon_needs_labels():
    with pytest.raises(ValueError, match=r"SupCon needs labels.*fit\(X, y\)"):
        SupCon(_encoder())(*_views())


def test_supcon_without_labels_equals_simclr():
    x1, x2 = _views()
    torch.manual_seed(0)
    supcon = SupCon(_encoder(), projection_dim=4)
    torch.manual_seed(0)
    simclr = SimCLR(_encoder(), projection_dim=4)
    unlabelled = torch.full((8,), -1)
    assert torch.allclose(supcon(x1, x2, unlabelled), simclr(x1, x2))


def test_triplet_uses_labels_when_given_and_its_miner():
    method = Triplet(_encoder(), projection_dim=4, miner="batch_hard")
    x1, x2 = _views()
    assert method.criterion.miner == "batch_hard"
    assert not torch.allclose(method(x1, x2), method(x1, x2, _labels()))
    with pytest.raises(ValueError, match="'miner' parameter of Triplet"):
        Triplet(_encoder(), miner="hardest")


# ----------------------------------------------------------------------- ts2vec


class _Pointwise(nn.Module):
    """Timestamp representations that depend on one timestep (or patch) only."""

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.out_dim, self.timestamp_stride = 3, stride
        self.proj = nn.Conv1d(2, 3, 1)

    def forward_timestamps(self, x):
        pooled = nn.functional.avg_pool1d(x, self.timestamp_stride)
        return self.proj(pooled)

    def forward(self, x):
        return self.forward_timestamps(x).max(dim=2).values


@pytest.mark.parametrize("stride", [1, 4])
def test_ts2vec_contrasts_the_same_timesteps_of_both_crops(stride):
    method = TS2Vec(_Pointwise(stride))
    seen = []
    method.criterion.forward = lambda z1, z2: seen.append((z1, z2)) or z1.sum()
    x = torch.randn(5, 2, 64)
    for _ in range(20):
        method(x, x.clone())
    for z1, z2 in seen:
        assert z1.shape == z2.shape
        assert torch.allclose(z1, z2)  # the same timesteps, hence the same values
    assert len({z1.shape[2] for z1, _ in seen}) > 1  # crop lengths vary


def test_take_crops_each_row_at_its_offset():
    x = torch.arange(20.0).reshape(2, 1, 10)
    out = _take(x, torch.tensor([1, 3]), length=2, stride=2)
    assert out.tolist() == [[[2.0, 3.0, 4.0, 5.0]], [[16.0, 17.0, 18.0, 19.0]]]


def test_ts2vec_errors():
    with pytest.raises(TypeError, match="forward_timestamps"):
        TS2Vec(nn.Sequential(nn.Flatten()))
    method = TS2Vec(_encoder())
    x = torch.randn(4, 2, 32)
    with pytest.raises(ValueError, match="same length, aligned in time"):
        method(x, x[..., :30])
    with pytest.raises(ValueError, match="at least 8 timesteps"):
        TS2Vec(_encoder(), temporal_unit=2)(x[..., :7], x[..., :7])
    with pytest.raises(ValueError, match="'alpha' parameter of Hierarchical"):
        TS2Vec(_encoder(), alpha=1.5)


def test_ts2vec_min_length_is_its_shortest_crop():
    assert TS2Vec(_encoder()).min_length == 2
    assert TS2Vec(_encoder(), temporal_unit=2).min_length == 8
    transformer = Transformer(2, out_dim=8, hidden_dim=8, depth=1, n_heads=2)
    assert TS2Vec(transformer).min_length == 16  # two patches of 8
    assert SimCLR(_encoder()).min_length == 1


def test_ts2vec_crops_come_from_the_seeded_global_rng():
    x1, x2 = _views()
    torch.manual_seed(3)
    a = TS2Vec(_encoder())
    torch.manual_seed(3)
    b = TS2Vec(_encoder())
    assert torch.equal(a(x1, x2), b(x1, x2))


# ------------------------------------------------------------------------- clip


def test_clip_time_frequency_pair_splits_n_components():
    method = CLIP(_encoder(), projection_dim=4)
    encoder = method.encoder
    assert isinstance(encoder, PairEncoder)
    assert isinstance(encoder.modality_b, Spectrum)
    assert (encoder.encoder_a.out_dim, encoder.encoder_b.out_dim) == (4, 4)
    assert encoder(torch.randn(3, 2, 32)).shape == (3, 8)
    with pytest.raises(ValueError, match="level='instance'"):
        encoder.forward_timestamps(torch.randn(3, 2, 32))


def test_clip_lead_groups():
    encoder = CNN(5, out_dim=7, hidden_dim=4, depth=1)
    method = CLIP(encoder, pairing="leads", groups=([0, 1, 2], [3, 4]))
    pair = method.encoder
    assert pair.encoder_a.in_channels == 3
    assert pair.encoder_b.in_channels == 2
    assert pair.out_dim == 7
    x = torch.randn(4, 5, 32)
    assert pair.forward_timestamps(x).shape == (4, 7, 32)
    halves = CLIP(CNN(4, out_dim=8, hidden_dim=4, depth=1), pairing="leads")
    assert halves.encoder.modality_a.channels == [0, 1]
    assert halves.encoder.modality_b.channels == [2, 3]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pairing": "audio"}, ValueError, "'pairing' parameter of CLIP"),
        ({"pairing": "leads", "groups": ([0], [])}, ValueError, "non-empty"),
        ({"pairing": "leads", "groups": ([0], [2])}, ValueError, "outside 0..1"),
        ({"groups": ([0], [1])}, ValueError, "only used with pairing='leads'"),
        ({"pairing": "leads", "groups": ([0], [0.5])}, TypeError, "integer channel"),
        ({"pairing": "leads", "groups": (["a"], [1])}, TypeError, "integer channel"),
        ({"pairing": "leads", "groups": 3}, TypeError, "integer channel"),
        ({"pairing": "leads", "groups": ([0], [1], [1])}, ValueError, "two non-empty"),
    ],
)
def test_clip_checks_its_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        CLIP(_encoder(), **kwargs)


def test_clip_needs_two_channels_for_leads_and_a_rebuildable_encoder():
    with pytest.raises(ValueError, match="at least 2 channels"):
        CLIP(_encoder(1), pairing="leads")
    with pytest.raises(ValueError, match="n_components"):
        CLIP(CNN(2, out_dim=1, hidden_dim=4, depth=1))
    plain = nn.Sequential(nn.Flatten())
    plain.out_dim = 8
    with pytest.raises(TypeError, match="CLIPPair"):
        CLIP(plain)


def test_spectrum_is_the_orthonormal_amplitude_spectrum():
    x = torch.randn(2, 3, 16, dtype=torch.float64)
    expected = np.abs(np.fft.rfft(x.numpy(), norm="ortho"))
    assert np.allclose(Spectrum()(x).numpy(), expected)
    assert Spectrum()(x.to(torch.bfloat16)).dtype == torch.bfloat16


def test_channel_group_checks_its_input():
    with pytest.raises(ValueError, match="more than 3 channels"):
        ChannelGroup([0, 3])(torch.zeros(2, 3, 8))


def test_clip_pair_trains_a_signal_against_covariates():
    torch.manual_seed(0)
    covariates = nn.Sequential(nn.Linear(3, 8), nn.ReLU())
    covariates.out_dim = 8
    pair = CLIPPair(CNN(1, 8, hidden_dim=8, depth=2), covariates, projection_dim=4)
    signal = torch.randn(16, 1, 32)
    table = signal[:, 0, :3] * 3  # covariates that the signal determines
    optimizer = torch.optim.Adam(pair.parameters(), lr=1e-2)
    first = None
    for _ in range(30):
        loss = pair(signal, table)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first
    assert pair.criterion.log_scale.grad is not None


# ----------------------------------------------------------------- build_method


def test_projection_head_shape():
    head = projection_head(16, 4, hidden_dim=32)
    assert head(torch.randn(3, 16)).shape == (3, 4)
    assert head[0].out_features == 32
    assert projection_head(16, 4)[0].out_features == 16


def test_build_method_by_name_is_case_insensitive():
    method = build_method("SimCLR", _encoder(), {"projection_dim": 4})
    assert type(method) is SimCLR
    assert method.head[-1].out_features == 4


@pytest.mark.parametrize("cls", ALL_METHODS, ids=IDS)
def test_build_method_by_class_and_instance(cls):
    method = _build(cls)
    assert type(method) is cls
    assert build_method(method, _encoder()) is method  # instance passes through
    assert method_class(method) is cls


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


@pytest.mark.parametrize(
    ("name", "params", "error", "match"),
    [
        (
            "simclr",
            {"tau": 0.1},
            TypeError,
            r"SimCLR takes no parameter 'tau'.*temperature",
        ),
        ("simclr", {"temperature": -1.0}, ValueError, "'temperature' .* NTXent"),
        ("simclr", {"projection_dim": 0}, ValueError, "'projection_dim' .* SimCLR"),
        ("byol", {"hidden_dim": 0}, ValueError, "'hidden_dim' parameter of BYOL"),
        ("moco", {"temperature": math.inf}, ValueError, "'temperature'"),
        ("triplet", {"margin": -1}, ValueError, "'margin' parameter of Triplet"),
        ("clip", {"temperature": 0}, ValueError, "'temperature' parameter of CLIP"),
    ],
)
def test_build_method_bad_params(name, params, error, match):
    with pytest.raises(error, match=match):
        build_method(name, _encoder(), params)


@pytest.mark.parametrize(
    "cls", [c for c in ALL_METHODS if not issubclass(c, TS2Vec)], ids=str
)
def test_encoder_without_out_dim_is_a_type_error(cls):
    encoder = nn.Sequential(nn.Conv1d(2, 8, 3), nn.AdaptiveMaxPool1d(1), nn.Flatten())
    encoder.forward_timestamps = encoder.forward  # TS2Vec checks this first
    encoder.rebuild, encoder.in_channels = (lambda c, d: None), 2  # so does CLIP
    with pytest.raises(TypeError, match="integer 'out_dim' attribute"):
        build_method(cls, encoder)


# ------------------------------------------------------------------------ CUDA


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_trains_on_cuda(name):
    """Two epochs on the GPU: finite losses, collapse measures and outputs."""
    from tscl import ContrastiveEncoder

    X, y = _shapes_task(n=64)
    X = np.stack([X, X[::-1]], axis=1)  # two channels
    enc = ContrastiveEncoder(
        method=name,
        n_components=8,
        n_epochs=2,
        batch_size=32,
        encoder_params={"hidden_dim": 16, "depth": 2},
        method_params={"moco": {"queue_size": 64}}.get(name),
        random_state=0,
        device="cuda",
    ).fit(X, y)
    assert next(enc.encoder_.parameters()).device.type == "cpu"
    assert np.isfinite(enc.history_["loss"]).all()
    assert np.isfinite(enc.history_["effective_rank"]).all()
    assert np.isfinite(enc.transform(X)).all()
    if name != "clip":  # a time-frequency pair has no timestamp level
        assert enc.transform(X, level="timestamp").shape[:2] == (64, 64)


# ------------------------------------------- learning: better than a random init


def _shapes_task(n: int = 240, length: int = 64, seed: int = 0):
    """Three waveforms (sine, square, sawtooth), random shift, amplitudes 0.1-10.

    The classes are easy to tell apart once amplitude is factored out; a random
    encoder's features are dominated by the amplitude.
    """
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.linspace(0, 1, length)
    sine = np.sin(4 * np.pi * t)
    templates = np.stack([sine, np.sign(sine), 2 * (4 * t % 1) - 1])
    shift = rng.integers(0, length, n)
    X = np.stack([np.roll(templates[c], s) for c, s in zip(y, shift, strict=True)])
    X = X * np.exp(rng.uniform(np.log(0.1), np.log(10), (n, 1)))
    X = X + 0.05 * rng.normal(size=(n, length))
    return X.astype(np.float32), y


@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_short_fit_beats_the_random_initial_encoder(name):
    """A linear probe on the trained encoder beats one on its initial weights.

    40 epochs of 4 steps on 120 series, with the CNN encoder. TS2Vec and
    SoftCLT get scaling added to masking views (amplitude is the nuisance).
    CLIP pairs two channels that show the same waveform: its time-frequency
    pairing is not tested here, as a random spectrum encoder already separates
    these waveforms by their harmonics.
    """
    from tscl import ContrastiveEncoder, augment
    from tscl.encoders import encode
    from tscl.evaluation import linear_probe

    X, y = _shapes_task()
    X = X[:, None, :]
    params = {
        "moco": {"queue_size": 64},
        "byol": {"hidden_dim": 64},
        "simsiam": {"hidden_dim": 64},
        "clip": {"pairing": "leads"},
    }
    views = None
    if issubclass(METHODS[name], TS2Vec):  # TS2Vec and SoftCLT
        views = augment.Scaling(sigma=1.0) + augment.Masking(ratio=0.5)
    if name == "clip":
        X = np.concatenate([X, _shapes_task(seed=1)[0][:, None, :]], axis=1)
    train, test = slice(0, 120), slice(120, None)
    enc = ContrastiveEncoder(
        method=name,
        encoder="cnn",  # TS2VecEncoder's random features already score 0.9 here
        augment=views,
        n_components=8,
        n_epochs=40,
        batch_size=32,
        encoder_params={"hidden_dim": 16, "depth": 2},
        method_params=params.get(name),
        random_state=0,
        device="cpu",
    )
    enc.fit(X[train], y[train] if METHODS[name].label_use == "required" else None)
    Z = enc.transform(X)
    trained = linear_probe(Z[train], y[train], Z[test], y[test])["accuracy"]
    seed = np.random.RandomState(0).randint(2**31 - 1)  # what fit seeds torch with
    torch.manual_seed(seed)
    initial = enc._build_model(X.shape[1]).encoder
    Z0 = encode(initial, enc._standardize(X), "cpu")
    random = linear_probe(Z0[train], y[train], Z0[test], y[test])["accuracy"]
    assert trained >= random + 0.05, f"trained {trained:.3f}, random {random:.3f}"
