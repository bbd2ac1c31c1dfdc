"""Training options: precision, torch.compile, tensor input, batch sharding, CLI."""

import json
import math
import re

import numpy as np
import pytest
import torch

import tscl
from tscl import ContrastiveEncoder
from tscl.augment import Jitter, Scaling, Views
from tscl.cli import main
from tscl.encoders import CNN
from tscl.methods import SimCLR
from tscl.training import PRECISIONS, TrainConfig, train
from tscl.training._batching import batches as _batches

SETTINGS = {
    "method": "simclr",
    "n_components": 8,
    "encoder_params": {"hidden_dim": 8, "depth": 2},
    "n_epochs": 2,
    "batch_size": 16,
    "random_state": 0,
    "device": "cpu",
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def X(mitdb_windows) -> np.ndarray:
    """40 windows of 128 samples of MIT-BIH record 100 (MLII, 360 Hz taken to 120)."""
    return mitdb_windows()


def _method() -> SimCLR:
    torch.manual_seed(0)
    return SimCLR(CNN(1, out_dim=8, hidden_dim=8, depth=2), projection_dim=8)


def _views() -> Views:
    return Views(Scaling(0.1) + Jitter(0.05))


@pytest.mark.parametrize(
    ("precision", "dtype"), [("bf16", torch.bfloat16), ("fp16", torch.float16)]
)
def test_low_precision_fits_on_cpu_under_autocast(X, monkeypatch, precision, dtype):
    seen = []
    forward = SimCLR.forward

    def spy(self, *args):
        seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return forward(self, *args)

    monkeypatch.setattr(SimCLR, "forward", spy)
    settings = {**SETTINGS, "n_epochs": 1}
    model = ContrastiveEncoder(precision=precision, **settings).fit(X)
    assert seen == [(True, dtype)] * 3  # 3 steps an epoch
    assert math.isfinite(model.history_["loss"][0])
    assert all(np.isfinite(model.history_["embedding_std"]))
    Z = model.transform(X)
    assert Z.shape == (40, 8)
    assert Z.dtype == np.float32
    assert np.isfinite(Z).all()
    assert all(p.dtype == torch.float32 for p in model.encoder_.parameters())


def test_fp32_trains_without_autocast(X, monkeypatch):
    seen = []
    forward = SimCLR.forward

    def spy(self, *args):
        seen.append(torch.is_autocast_enabled("cpu"))
        return forward(self, *args)

    monkeypatch.setattr(SimCLR, "forward", spy)
    ContrastiveEncoder(**{**SETTINGS, "n_epochs": 1}).fit(X)
    assert seen == [False] * 3


@pytest.mark.parametrize("precision", ["fp8", "FP16", "float16", None])
def test_unknown_precision_names_the_choices(X, precision):
    choices = re.escape(str(list(PRECISIONS)))
    with pytest.raises(ValueError, match=rf"precision.*{choices}; got {precision!r}"):
        ContrastiveEncoder(precision=precision, **SETTINGS).fit(X)
    with pytest.raises(ValueError, match=rf"{choices}; got {precision!r}"):
        train(_method(), X, _views(), TrainConfig(n_epochs=1, precision=precision))


@pytest.mark.parametrize("compile", ["yes", 1, None])
def test_compile_must_be_a_bool(X, compile):
    with pytest.raises(TypeError, match="compile"):
        ContrastiveEncoder(compile=compile, **SETTINGS).fit(X)
    with pytest.raises(TypeError, match=r"'compile' parameter of train.*bool"):
        train(_method(), X, _views(), TrainConfig(n_epochs=1, compile=compile))


@pytest.mark.slow
def test_compiled_training_matches_eager(X):
    # About 20-40 s on a 2-core CPU, nearly all of it compiling.
    eager = ContrastiveEncoder(**SETTINGS).fit(X)
    compiled = ContrastiveEncoder(compile=True, **SETTINGS).fit(X)
    np.testing.assert_allclose(
        compiled.history_["loss"], eager.history_["loss"], rtol=0, atol=1e-4
    )
    a, b = eager.encoder_.state_dict(), compiled.encoder_.state_dict()
    assert a.keys() == b.keys()  # the plain encoder, no _orig_mod prefix
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=1e-4)
    np.testing.assert_allclose(compiled.transform(X), eager.transform(X), atol=1e-4)


def test_a_tensor_gives_exactly_the_fit_and_transform_of_the_same_array(X):
    from_array = ContrastiveEncoder(**SETTINGS).fit(X)
    tensor = torch.from_numpy(X.copy())
    from_tensor = ContrastiveEncoder(**SETTINGS).fit(tensor)
    assert torch.equal(tensor, torch.from_numpy(X))  # left as it was
    np.testing.assert_allclose(from_tensor.mean_, from_array.mean_, rtol=1e-12)
    np.testing.assert_allclose(from_tensor.scale_, from_array.scale_, rtol=1e-12)
    assert from_tensor.n_features_in_ == from_array.n_features_in_ == 1
    assert from_tensor.history_["loss"] == from_array.history_["loss"]
    a, b = from_array.encoder_.state_dict(), from_tensor.encoder_.state_dict()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    Z = from_array.transform(X)
    np.testing.assert_array_equal(from_tensor.transform(X), Z)
    np.testing.assert_array_equal(from_tensor.transform(tensor), Z)
    np.testing.assert_array_equal(from_array.transform(tensor), Z)


def test_a_2d_tensor_is_one_channel(X):
    flat = torch.from_numpy(X[:, 0].copy())
    model = ContrastiveEncoder(**{**SETTINGS, "n_epochs": 1}).fit(flat)
    assert model.n_features_in_ == 128
    assert model.transform(flat).shape == (40, 8)


def test_a_tensor_fit_forgets_the_column_names_of_an_earlier_table_fit(X):
    pandas = pytest.importorskip("pandas")
    model = ContrastiveEncoder(**{**SETTINGS, "n_epochs": 1})
    model.fit(pandas.DataFrame(X[:, 0], columns=[f"t{i}" for i in range(128)]))
    assert hasattr(model, "feature_names_in_")
    model.fit(torch.from_numpy(X[:, 0].copy()))
    assert not hasattr(model, "feature_names_in_")
    assert model.transform(X[:, 0]).shape == (40, 8)  # no column-name warning


def test_a_tensor_with_nan_or_inf_is_a_value_error(X):
    for bad in (math.nan, math.inf):
        tensor = torch.from_numpy(X.copy())
        tensor[3, 0, 17] = bad
        with pytest.raises(ValueError, match="NaN or infinite"):
            ContrastiveEncoder(**SETTINGS).fit(tensor)


def test_an_integer_tensor_is_a_type_error(X):
    tensor = torch.from_numpy((X * 1000).astype(np.int64))
    with pytest.raises(TypeError, match=r"torch.int64.*X.float\(\)"):
        ContrastiveEncoder(**SETTINGS).fit(tensor)


def _previous_batches(n: int, batch_size: int, seed: int) -> list[torch.Tensor]:
    """The batches of one process before sharding existed."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()
    return batches


@pytest.mark.parametrize(
    ("n", "batch_size"), [(40, 16), (33, 16), (32, 16), (17, 8), (7, 7), (2, 2)]
)
def test_one_process_gets_the_batches_of_before(n, batch_size):
    for seed in range(3):
        got = _batches(n, batch_size, torch.Generator().manual_seed(seed))
        expected = _previous_batches(n, batch_size, seed)
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert torch.equal(a, b)
    assert [len(b) for b in _batches(33, 16, torch.Generator())] == [16, 16]


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize(("n", "batch_size"), [(40, 16), (41, 5), (37, 4), (12, 2)])
def test_each_process_gets_an_equal_disjoint_share_of_every_global_batch(
    world, n, batch_size
):
    seed = 7
    shares = [
        _batches(n, batch_size, torch.Generator().manual_seed(seed), rank, world)
        for rank in range(world)
    ]
    assert len({len(s) for s in shares}) == 1  # the same number of steps
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    chunks = order.split(batch_size * world)
    for step, parts in enumerate(zip(*shares, strict=True)):
        share = len(parts[0])
        assert share >= 2
        assert share <= batch_size
        assert all(len(part) == share for part in parts)
        joined = torch.cat(parts)
        assert len(set(joined.tolist())) == world * share  # disjoint
        assert torch.equal(joined, chunks[step][: world * share])
    n_steps = len(shares[0])
    full = n // (batch_size * world)
    assert n_steps in (full, full + 1)
    for rank in range(world):
        used = {i for part in shares[rank] for i in part.tolist()}
        assert len(used) == sum(len(part) for part in shares[rank])


def test_full_global_batches_use_every_series_once():
    world, batch_size, n = 2, 8, 48
    seen = []
    for rank in range(world):
        for part in _batches(n, batch_size, torch.Generator().manual_seed(0), rank, 2):
            assert len(part) == batch_size
            seen += part.tolist()
    assert sorted(seen) == list(range(n))


def _cli_args(data, out) -> list[str]:
    return [
        "pretrain",
        str(data),
        "--out",
        str(out),
        "--method",
        "simclr",
        "--encoder",
        "cnn",
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--n-components",
        "8",
        "--encoder-params",
        '{"hidden_dim": 8, "depth": 2}',
        "--seed",
        "0",
        "--device",
        "cpu",
    ]


def test_cli_pretrain_in_bf16_writes_a_model(X, tmp_path, capsys):
    data = tmp_path / "X.npy"
    np.save(data, X)
    out = tmp_path / "model"
    assert main([*_cli_args(data, out), "--precision", "bf16"]) == 0
    assert "Saved model" in capsys.readouterr().out
    model = tscl.load(out)
    assert model.precision == "bf16"
    assert model.transform(X).shape == (40, 8)
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 2
    assert all(math.isfinite(v) for v in history["loss"])
    assert not (tmp_path / "model.checkpoint.pt").exists()  # none asked for


def test_cli_unknown_precision_is_refused_by_argparse(X, tmp_path, capsys):
    data = tmp_path / "X.npy"
    np.save(data, X)
    with pytest.raises(SystemExit) as info:
        main([*_cli_args(data, tmp_path / "m"), "--precision", "fp8"])
    assert info.value.code == 2
    assert "'fp32', 'bf16', 'fp16'" in capsys.readouterr().err


def test_cli_checkpoint_every_zero_is_refused_before_training(X, tmp_path, capsys):
    data = tmp_path / "X.npy"
    np.save(data, X)
    out = tmp_path / "model"
    assert main([*_cli_args(data, out), "--checkpoint-every", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tscl: error:")
    assert "checkpoint_every" in err
    assert not out.exists()
    assert not (tmp_path / "model.checkpoint.pt").exists()


def test_cli_resume_without_a_checkpoint_trains_and_writes_one(X, tmp_path, capsys):
    data = tmp_path / "X.npy"
    np.save(data, X)
    out = tmp_path / "model"
    assert main([*_cli_args(data, out), "--resume"]) == 0
    path = tmp_path / "model.checkpoint.pt"
    assert f"checkpoint in {path}" in capsys.readouterr().out
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["epoch"] == 2
    assert saved["step"] == 6
    model = tscl.load(out)
    assert saved["history"]["loss"] == model.history_["loss"]
    encoder = {
        name[len("encoder.") :]: value
        for name, value in saved["model"].items()
        if name.startswith("encoder.")
    }
    state = model.encoder_.state_dict()
    assert encoder.keys() == state.keys()
    for name in state:
        assert torch.equal(encoder[name], state[name]), name


def test_the_optimizer_is_torchs_fused_adamw_on_cpu_parameters():
    from torch import nn

    from tscl.training import make_optimizer

    optimizer, _ = make_optimizer(nn.Linear(3, 2).parameters(), 1e-3, 0.01, 10)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["fused"] is True


@pytest.mark.parametrize("share", [0, -0.1, 1.5, float("nan")])
def test_monitor_share_out_of_range_is_refused_by_name(share):
    with pytest.raises(ValueError, match="monitor_share"):
        TrainConfig(monitor_share=share).check()
