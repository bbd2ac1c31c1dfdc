"""TS2Vec as tscl trains it, against TS2Vec's official code (ts2vec_reference.py).

The reference in benchmarks/ repeats the official code statement by statement;
here tscl's network, loss and training settings are checked against it piece by
piece (the accuracy comparison on UCR lives in benchmarks/ucr.py).
"""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tscl
from tscl.encoders import TS2VecEncoder
from tscl.losses import Hierarchical, timelag_weights
from tscl.methods import TS2Vec
from tscl.training import TrainConfig

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def reference():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        "ts2vec_reference", BENCHMARKS / "ts2vec_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_reference_weights(ours: TS2VecEncoder, theirs) -> None:
    """Load the reference TSEncoder's weights into a TS2VecEncoder."""
    state = {}
    ref = theirs.state_dict()
    state["input.weight"] = ref["input_fc.weight"][:, :, None]
    state["input.bias"] = ref["input_fc.bias"]
    blocks = theirs.feature_extractor.net
    for i, _ in enumerate(blocks):
        name = f"blocks.{i}" if i < len(blocks) - 1 else "last"
        prefix = f"feature_extractor.net.{i}"
        for conv in ("conv1", "conv2"):
            state[f"{name}.{conv}.weight"] = ref[f"{prefix}.{conv}.conv.weight"]
            state[f"{name}.{conv}.bias"] = ref[f"{prefix}.{conv}.conv.bias"]
        if f"{prefix}.projector.weight" in ref:
            state[f"{name}.skip.weight"] = ref[f"{prefix}.projector.weight"]
            state[f"{name}.skip.bias"] = ref[f"{prefix}.projector.bias"]
    ours.load_state_dict(state)


def test_the_encoder_is_ts2vecs_network(reference):
    torch.manual_seed(0)
    theirs = reference.TSEncoder(input_dims=3).eval()
    ours = TS2VecEncoder(3).eval()
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in theirs.parameters()
    )
    _copy_reference_weights(ours, theirs)
    x = torch.randn(4, 3, 57)
    expected = theirs(x.transpose(1, 2).clone()).transpose(1, 2)  # (b, 320, t)
    torch.testing.assert_close(ours.forward_timestamps(x), expected)
    torch.testing.assert_close(ours(x), expected.amax(dim=2))


def test_the_mask_zeroes_whole_projected_timesteps_in_training_only():
    torch.manual_seed(0)
    encoder = TS2VecEncoder(1, out_dim=4, hidden_dim=6, depth=1, dropout=0.0)
    h = encoder.input(torch.ones(64, 1, 40))
    seen = []
    encoder.blocks.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    encoder.train()(torch.ones(64, 1, 40))
    kept = (seen[-1] != 0).all(dim=1)  # (batch, time): whole vectors kept or not
    assert ((seen[-1] == 0).all(dim=1) | kept).all()
    assert 0.45 < kept.float().mean() < 0.55  # TS2Vec's p = 0.5
    torch.testing.assert_close(
        seen[-1][kept[:, None, :].expand_as(h)], h[kept[:, None, :].expand_as(h)]
    )
    encoder.eval()(torch.ones(64, 1, 40))
    torch.testing.assert_close(seen[-1], h)  # no mask at inference


def test_the_loss_is_ts2vecs(reference):
    torch.manual_seed(0)
    z1, z2 = torch.randn(5, 7, 13), torch.randn(5, 7, 13)  # (batch, dim, time)
    expected = reference.hierarchical_contrastive_loss(
        z1.transpose(1, 2), z2.transpose(1, 2)
    )
    torch.testing.assert_close(Hierarchical()(z1, z2), expected)


def _naive_soft(z1, z2, inst, tau_temporal, alpha=0.5):
    """SoftCLT's hierarchical loss with explicit loops over anchors, in float64."""
    a, b = z1.double().transpose(1, 2), z2.double().transpose(1, 2)  # (b, t, d)
    total, scales = 0.0, 0

    def term(group1, group2, weights):  # (n, d) each; weights (n, n)
        n = len(group1)
        z = torch.cat([group1, group2])
        out = 0.0
        for i in range(2 * n):
            logits = torch.stack([z[i] @ z[k] for k in range(2 * n) if k != i])
            logp = torch.log_softmax(logits, 0)
            others = [k for k in range(2 * n) if k != i]
            for pos, k in enumerate(others):
                out -= float(weights[i % n, k % n]) * float(logp[pos])
        return out / (2 * n)

    while True:
        total += alpha * np.mean(
            [term(a[:, t], b[:, t], inst) for t in range(a.shape[1])]
        )
        if a.shape[1] > 1:
            lags = timelag_weights(a.shape[1], tau_temporal * 2**scales).double()
            total += (1 - alpha) * np.mean(
                [term(a[i], b[i], lags) for i in range(len(a))]
            )
        scales += 1
        if a.shape[1] == 1:
            return total / scales
        a = torch.nn.functional.max_pool1d(a.transpose(1, 2), 2).transpose(1, 2)
        b = torch.nn.functional.max_pool1d(b.transpose(1, 2), 2).transpose(1, 2)


def test_soft_targets_match_softclts_formula():
    torch.manual_seed(0)
    z1, z2 = torch.randn(3, 4, 5), torch.randn(3, 4, 5)
    inst = torch.tensor([[1.0, 0.3, 0.1], [0.3, 1.0, 0.6], [0.1, 0.6, 1.0]])
    got = Hierarchical(tau_temporal=0.7)(z1, z2, instance_weights=inst)
    assert got.item() == pytest.approx(_naive_soft(z1, z2, inst, 0.7), rel=1e-5)


def test_soft_targets_reduce_to_hard_ones():
    z1, z2 = torch.randn(4, 6, 9), torch.randn(4, 6, 9)
    hard = Hierarchical()(z1, z2)
    torch.testing.assert_close(Hierarchical()(z1, z2, torch.eye(4)), hard)
    assert not torch.isclose(Hierarchical(tau_temporal=1.0)(z1, z2), hard)


def test_the_estimator_trains_ts2vec_with_its_settings():
    X = np.random.default_rng(0).normal(size=(20, 1, 48)).astype(np.float32)
    model = tscl.ContrastiveEncoder(method="ts2vec", random_state=0)
    config = model._train_config(20, 20 * 48)
    assert (config.n_steps, config.batch_size, config.schedule) == (200, 8, "constant")
    assert (config.weight_decay, config.drop_last) == (0.01, True)
    assert model._train_config(600, 600 * 200).n_steps == 600  # > 100,000 values
    small = tscl.ContrastiveEncoder(
        method="ts2vec",
        n_epochs=3,
        random_state=0,
        encoder_params={"hidden_dim": 8, "depth": 2},
    ).fit(X)
    assert isinstance(small.encoder_, TS2VecEncoder)
    assert small.transform(X).shape == (20, 320)
    assert small.history_["n_steps"] == 3 * 2  # 20 series: 2 full batches of 8
    assert small.history_["learning_rate"] == [1e-3] * 3  # constant


def test_transform_uses_the_running_average_of_the_weights():
    torch.manual_seed(0)
    method = TS2Vec(TS2VecEncoder(1, out_dim=4, hidden_dim=4, depth=1))
    first = [p.detach().clone() for p in method.encoder.parameters()]
    optimizer = torch.optim.SGD(method.encoder.parameters(), lr=0.5)
    x = torch.randn(8, 1, 32)
    for step in range(3):
        optimizer.zero_grad()
        method(x, x).backward()
        optimizer.step()
        method.on_step_end(step + 1, 3)
    online = list(method.encoder.parameters())
    averaged = list(method.trained_encoder().parameters())
    assert not torch.equal(averaged[0], online[0])
    # the average of 4 iterates: the initial weights and the 3 steps'
    assert method.average.n_averaged.item() == 4
    assert not torch.equal(averaged[0], first[0])
    no_average = TS2Vec(
        TS2VecEncoder(1, 4, hidden_dim=4, depth=1), weight_average=False
    )
    assert no_average.trained_encoder() is no_average.encoder


def test_long_series_are_cut_to_a_window_of_max_train_length():
    torch.manual_seed(0)
    method = TS2Vec(TS2VecEncoder(1, 4, hidden_dim=4, depth=1), max_train_length=32)
    seen = []
    method.encoder.input.register_forward_pre_hook(
        lambda m, args: seen.append(args[0].shape[2])
    )
    x = torch.randn(4, 1, 100)
    method(x, x)
    assert max(seen) <= 32
    with pytest.raises(ValueError, match="max_train_length=1 is shorter"):
        TS2Vec(TS2VecEncoder(1, 4), max_train_length=1)


def test_a_step_budget_stops_in_the_middle_of_an_epoch():
    from tscl.augment import Jitter, Views
    from tscl.encoders import CNN
    from tscl.methods import SimCLR
    from tscl.training import train

    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(20, 1, 32)).astype(np.float32)
    method = SimCLR(CNN(1, 8, hidden_dim=4, depth=1), projection_dim=4)
    config = TrainConfig(n_steps=7, batch_size=8, drop_last=True, schedule="constant")
    history = train(method, X, Views(Jitter(0.1)), config)
    assert history["n_steps"] == 7  # 2 full batches an epoch: 4 epochs, the last short
    assert len(history["loss"]) == 4
    assert history["learning_rate"] == [1e-3] * 4
    assert TrainConfig(n_steps=7).resumable()["n_steps"] == 7
    assert "n_steps" not in TrainConfig().resumable()  # old checkpoints still match


def test_collapse_is_measured_at_most_ten_times():
    from tscl.augment import Jitter, Views
    from tscl.encoders import CNN
    from tscl.methods import SimCLR
    from tscl.training import train

    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(8, 1, 16)).astype(np.float32)
    method = SimCLR(CNN(1, 8, hidden_dim=4, depth=1), projection_dim=4)
    config = TrainConfig(n_epochs=25, batch_size=8, monitor_share=1.0)
    history = train(method, X, Views(Jitter(0.1)), config)
    measured = [not math.isnan(v) for v in history["embedding_std"]]
    assert len(measured) == 25
    assert sum(measured) == 9  # epochs 3, 6, ..., 24 and the last
    assert measured[-1]


@pytest.mark.parametrize(
    ("n_series", "steps", "batch", "share", "plan"),
    [
        (50, 200, 8, 0.02, (50, 1)),  # TS2Vec on GunPoint: once, every series
        (500, 200, 8, 0.02, (96, 1)),  # ECG5000: once, the budget's 96 series
        (1000, 750, 64, 0.02, (128, 10)),  # a long SimCLR run: ten times
        (1000, 100, 64, 0.02, (128, 3)),
        (40, 3, 8, 0.02, (16, 1)),  # tiny runs: once, on 16 series
        (8, 3, 8, 0.02, (8, 1)),
        (8, 25, 8, 1.0, (8, 10)),
    ],
)
def test_collapse_measures_take_at_most_their_share_of_the_work(
    n_series, steps, batch, share, plan
):
    from tscl.training._train import _monitor_plan

    config = TrainConfig(batch_size=batch, monitor_share=share)
    probe, measures = _monitor_plan(n_series, steps, batch, config)
    assert (probe, measures) == plan
    if probe > 16:  # two forward views against ~3 forward passes per step
        assert measures * 2 * probe <= share * 3 * steps * 2 * batch


def test_a_default_ts2vec_fit_measures_collapse_once():
    from tscl import ContrastiveEncoder

    X = np.random.default_rng(0).normal(size=(24, 1, 32)).astype(np.float32)
    model = ContrastiveEncoder(
        encoder_params={"hidden_dim": 4, "depth": 1},
        n_components=8,
        n_epochs=4,
        random_state=0,
    ).fit(X)
    measured = [not math.isnan(v) for v in model.history_["embedding_std"]]
    assert measured == [False, False, False, True]


def test_collapse_is_measured_on_the_training_window_of_long_series(monkeypatch):
    from tscl.encoders import _encode

    seen = []
    forward = _encode.encode_tensor

    def spy(encoder, x):
        seen.append(x.shape[-1])
        return forward(encoder, x)

    monkeypatch.setattr(_encode, "encode_tensor", spy)
    monkeypatch.setattr(tscl.encoders, "encode_tensor", spy)
    X = np.random.default_rng(0).normal(size=(16, 1, 300)).astype(np.float32)
    tscl.ContrastiveEncoder(
        encoder_params={"hidden_dim": 4, "depth": 1},
        n_components=8,
        n_epochs=1,
        method_params={"max_train_length": 64},
        random_state=0,
    ).fit(X)
    assert seen == [64, 64]  # two views, one measure, each cut to the window
