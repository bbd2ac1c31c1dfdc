"""Tests for tscl.training: the fit loop and device resolution."""

import math
import warnings

import numpy as np
import pytest
import torch

from tscl.augment import Jitter, Scaling, Views, default_augmentation
from tscl.distributed import resolve_device
from tscl.encoders import CNN
from tscl.methods import Method, SimCLR
from tscl.training import TrainConfig, train

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _sinusoids(n: int = 32, length: int = 64, seed: int = 0) -> np.ndarray:
    """Two classes of noisy sinusoids (slow and fast), shape (n, 1, length)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    freq = np.where(np.arange(n) % 2 == 0, 2.0, 7.0)[:, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    X = np.sin(2 * np.pi * freq * t + phase) + 0.1 * rng.normal(size=(n, length))
    return X[:, None, :].astype(np.float32)


def _method(seed: int = 0, in_channels: int = 1) -> SimCLR:
    torch.manual_seed(seed)
    encoder = CNN(in_channels, out_dim=8, hidden_dim=8, depth=2)
    return SimCLR(encoder, projection_dim=8, temperature=0.5)


def _train(method: Method, X: np.ndarray, seed: int = 0, **kwargs):
    settings = {"n_epochs": 2, "batch_size": 8, "learning_rate": 3e-3, **kwargs}
    views = Views(Scaling(0.1) + Jitter(0.05))
    return train(method, X, views, TrainConfig(**settings), seed=seed)


def test_history_has_per_epoch_losses_and_step_count():
    X = _sinusoids(n=32)
    history = _train(_method(), X, n_epochs=3, batch_size=8)
    assert set(history) >= {"loss", "epoch_time", "learning_rate", "n_steps"}
    assert len(history["loss"]) == len(history["epoch_time"]) == 3
    assert len(history["learning_rate"]) == 3
    assert all(math.isfinite(v) and v > 0 for v in history["loss"])
    assert all(t >= 0 for t in history["epoch_time"])
    assert history["n_steps"] == 3 * 4
    # Cosine decay ends at zero.
    assert history["learning_rate"][0] > history["learning_rate"][1]
    assert history["learning_rate"][-1] == pytest.approx(0.0, abs=1e-12)


def test_last_batch_of_one_sample_is_dropped():
    history = _train(_method(), _sinusoids(n=33), n_epochs=2, batch_size=8)
    assert history["n_steps"] == 2 * 4  # 8 + 8 + 8 + 8 (+ 1 dropped)


def test_batch_size_is_capped_at_the_number_of_samples():
    history = _train(_method(), _sinusoids(n=6), n_epochs=2, batch_size=64)
    assert history["n_steps"] == 2


def test_method_is_left_in_eval_mode_and_trained_in_place():
    method = _method()
    before = [p.detach().clone() for p in method.encoder.parameters()]
    _train(method, _sinusoids())
    assert not method.training
    assert not method.encoder.training
    after = list(method.encoder.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_same_seed_gives_identical_weights():
    X = _sinusoids()
    first, second, other = _method(), _method(), _method()
    _train(first, X, seed=3)
    _train(second, X, seed=3)
    _train(other, X, seed=4)
    for a, b in zip(
        first.state_dict().values(), second.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert any(
        not torch.equal(a, b)
        for a, b in zip(
            first.state_dict().values(), other.state_dict().values(), strict=True
        )
    )


def test_does_not_touch_the_input_or_the_global_rng():
    X = _sinusoids()
    X.setflags(write=False)  # read-only input is fine
    copy = X.copy()
    method = _method()
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    _train(method, X, n_epochs=1)
    np.testing.assert_array_equal(X, copy)
    assert torch.equal(torch.rand(1), expected)


def test_loss_decreases_on_two_classes_of_sinusoids():
    X = _sinusoids(n=64, length=64)
    history = train(
        _method(),
        X,
        Views(default_augmentation()),
        TrainConfig(n_epochs=6, batch_size=16, learning_rate=5e-3),
        seed=0,
    )
    losses = history["loss"]
    assert losses[-1] < losses[0]
    assert np.mean(losses[-2:]) < np.mean(losses[:2])


def test_float64_input_is_trained_in_float32():
    history = _train(_method(), _sinusoids().astype(np.float64), n_epochs=1)
    assert math.isfinite(history["loss"][0])


def test_verbose_shows_a_progress_bar(capsys):
    _train(_method(), _sinusoids(n=8), n_epochs=1, verbose=1)
    assert "pretraining" in capsys.readouterr().err


class _NaNAfter(Method):
    """A method whose loss becomes NaN at a given call."""

    def __init__(self, bad_call: int) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = CNN(1, out_dim=4, hidden_dim=4, depth=1)
        self.bad_call = bad_call
        self.calls = 0

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        loss = (self.encoder(x1) - self.encoder(x2)).square().mean()
        return loss * math.nan if self.calls >= self.bad_call else loss


def test_nan_loss_raises_naming_epoch_step_and_learning_rate():
    # 32 samples in batches of 8: 4 steps per epoch, so call 6 is epoch 2, step 6.
    with pytest.raises(RuntimeError) as info:
        _train(_NaNAfter(bad_call=6), _sinusoids(n=32), n_epochs=3, learning_rate=0.01)
    message = str(info.value)
    assert "nan" in message
    assert "epoch 2" in message
    assert "step 6" in message
    assert "learning rate" in message
    assert "Lower learning_rate" in message


def test_nan_loss_on_the_first_step():
    with pytest.raises(RuntimeError, match=r"epoch 1, step 1 \(learning rate 0.01\)"):
        _train(_NaNAfter(bad_call=1), _sinusoids(n=16), learning_rate=0.01)


def test_on_step_end_is_called_after_every_step():
    calls = []

    class Recording(SimCLR):
        def on_step_end(self, step: int, total_steps: int) -> None:
            calls.append((step, total_steps))

    torch.manual_seed(0)
    method = Recording(CNN(1, 4, hidden_dim=4, depth=1), projection_dim=4)
    _train(method, _sinusoids(n=16), n_epochs=2, batch_size=8)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


# ---------------------------------------------------------------- resolve_device


def test_resolve_device_auto():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("AUTO").type == expected


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_resolve_device_cpu(device):
    assert resolve_device(device) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1", torch.device("cuda")])
def test_resolve_device_cuda_without_cuda_is_a_clear_error(device):
    with pytest.raises(ValueError, match="CUDA is not available") as info:
        resolve_device(device)
    assert "device='auto'" in str(info.value)


@pytest.mark.parametrize("device", ["gpu0", "cuda:x", "", None])
def test_resolve_device_garbage_is_a_value_error(device):
    with pytest.raises(ValueError, match="'device' parameter must be"):
        resolve_device(device)


@pytest.mark.gpu
@needs_cuda
def test_trains_on_cuda():
    seen = []

    class Recording(Views):
        def __call__(self, x, generator=None):
            views = super().__call__(x, generator)
            seen.extend(v.device.type for v in views)
            return views

    method = _method()
    history = train(
        method,
        _sinusoids(),
        Recording(default_augmentation()),
        TrainConfig(n_epochs=1, batch_size=8),
        device="cuda",
    )
    assert history["n_steps"] == 4
    assert seen
    assert set(seen) == {"cuda"}
    assert all(p.device.type == "cuda" for p in method.encoder.parameters())
    out = method.encoder(torch.randn(2, 1, 64, device="cuda"))
    assert out.device.type == "cuda"


# ------------------------------------------------------------ labels, collapse


class _Recorder(SimCLR):
    """SimCLR that records the labels and the first value of each view."""

    label_use = "optional"

    def __init__(self, encoder) -> None:
        super().__init__(encoder, projection_dim=4)
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x1, x2, labels=None):
        self.seen.append((x1[:, 0, 0].clone(), labels))
        return super().forward(x1, x2)


@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
def test_each_batch_gets_the_labels_of_its_series():
    X = np.repeat(np.arange(20, dtype=np.float32), 16).reshape(20, 1, 16)
    y = np.arange(20) % 4 - 1  # -1 for every fourth series
    torch.manual_seed(0)
    method = _Recorder(CNN(1, out_dim=4, hidden_dim=4, depth=1))
    train(
        method,
        X,
        lambda batch, generator: [batch, batch],
        TrainConfig(n_epochs=2, batch_size=6),
        y=y,
    )
    assert len(method.seen) == 2 * 4  # 20 series in batches of 6, 6, 6 and 2
    for first_values, labels in method.seen:
        assert labels.dtype == torch.long
        assert labels.tolist() == y[first_values.long().numpy()].tolist()


def test_without_labels_the_method_gets_none():
    torch.manual_seed(0)
    method = _Recorder(CNN(1, out_dim=4, hidden_dim=4, depth=1))
    _train(method, _sinusoids(16))
    assert all(labels is None for _, labels in method.seen)


def test_history_holds_the_collapse_measures_per_epoch():
    history = _train(_method(), _sinusoids(), n_epochs=3, monitor_share=1.0)
    for name in ("embedding_std", "effective_rank", "alignment", "uniformity"):
        assert len(history[name]) == 3
        assert all(math.isfinite(v) for v in history[name])
    assert all(1 <= r <= 8 for r in history["effective_rank"])


class _Collapsing(SimCLR):
    """SimCLR whose encoder is forced to a constant output after every step."""

    def on_step_end(self, step: int, total_steps: int) -> None:
        with torch.no_grad():
            for name, param in self.encoder.named_parameters():
                if name.endswith("weight"):
                    param.zero_()


def test_a_forced_collapse_is_measured_and_warned_about_once():
    from tscl.monitoring import CollapseWarning

    torch.manual_seed(0)
    method = _Collapsing(CNN(1, out_dim=8, hidden_dim=8, depth=2), projection_dim=4)
    with pytest.warns(CollapseWarning, match="collapsed at epoch 1") as record:
        history = _train(method, _sinusoids(), n_epochs=3, monitor_share=1.0)
    assert len([w for w in record if w.category is CollapseWarning]) == 1
    assert "lower the learning rate" in str(record[0].message)
    assert history["embedding_std"] == [0.0, 0.0, 0.0]
    assert history["uniformity"] == [0.0, 0.0, 0.0]


def test_a_healthy_run_gives_no_collapse_warning():
    from tscl.monitoring import CollapseWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        _train(_method(), _sinusoids(), n_epochs=2)


def test_collapse_probe_leaves_the_training_draws_alone(monkeypatch):
    """Monitoring must not change what is trained: same seed, same weights."""
    from tscl.training import _loop

    a, b = _method(), _method()
    _train(a, _sinusoids())
    monkeypatch.setattr(_loop, "_measure", lambda *args: {})
    _train(b, _sinusoids())
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name


# ------------------------------------------------------------ TrainConfig


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"n_epochs": 0}, ValueError, "'n_epochs' parameter of Owner"),
        ({"batch_size": 2.5}, TypeError, "'batch_size' parameter of Owner"),
        ({"learning_rate": -1.0}, ValueError, "'learning_rate'"),
        ({"weight_decay": -1e-4}, ValueError, "'weight_decay'"),
        ({"precision": "fp8"}, ValueError, r"one of \['fp32', 'bf16', 'fp16'\]"),
        ({"compile": 1}, TypeError, "'compile'"),
        ({"resume": "yes"}, TypeError, "'resume'"),
        ({"checkpoint_every": 0}, ValueError, "'checkpoint_every'"),
        ({"verbose": "loud"}, TypeError, "'verbose'"),
        ({"checkpoint": 5}, TypeError, "str or os.PathLike"),
    ],
)
def test_train_config_checks_every_setting_in_one_place(settings, error, match):
    with pytest.raises(error, match=match):
        TrainConfig(**settings).check(owner="Owner")


def test_train_config_is_what_a_checkpoint_compares():
    config = TrainConfig(n_epochs=3, batch_size=8, verbose=1, compile=True)
    assert config.resumable() == {
        "n_epochs": 3,
        "batch_size": 8,
        "learning_rate": 1e-3,
        "weight_decay": 1e-4,
        "precision": "fp32",
    }


def test_the_estimator_takes_its_auto_settings_from_the_method():
    from tscl import ContrastiveEncoder

    config = ContrastiveEncoder(method="simclr")._train_config(100, 1000)
    assert (config.n_epochs, config.n_steps, config.batch_size) == (50, None, 64)
    assert (config.schedule, config.weight_decay) == ("cosine", 1e-4)
    config = ContrastiveEncoder(
        method="simclr", n_epochs=3, batch_size=5
    )._train_config()
    assert (config.n_epochs, config.batch_size) == (3, 5)
    assert ContrastiveEncoder(method="simclr")._output_size() == 128
    assert ContrastiveEncoder(method="ts2vec")._output_size() == 320
    assert ContrastiveEncoder(method="ts2vec", encoder="cnn")._output_size() == 128


def test_epoch_time_waits_for_the_device(monkeypatch):
    import tscl.training._train as module

    waited = []
    monkeypatch.setattr(module, "_wait_for", lambda device: waited.append(device))
    _train(_method(), _sinusoids(), n_epochs=2)
    assert waited == [torch.device("cpu")] * 2
