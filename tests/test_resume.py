"""Resuming interrupted training, bad checkpoints, NaN losses and out of memory.

The promise: ``--resume`` continues an interrupted run (also after ``kill -9``)
and ends with the same weights as an uninterrupted run with the same seed; a
corrupt, truncated or foreign checkpoint is a clear error and is never
overwritten; a NaN loss or running out of memory stops training with a message
that says where and what to change, keeping the last good checkpoint.
"""

import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import tscl
from tscl import ContrastiveEncoder, checkpoint
from tscl.augment import Jitter
from tscl.cli import main
from tscl.methods import SimCLR
from tscl.training import TrainingError

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_dim": 8, "depth": 2}
SETTINGS = {
    "method": "simclr",  # written for SimCLR's epochs and batches
    "encoder": "cnn",
    "n_components": 8,
    "n_epochs": 4,
    "batch_size": 16,
    "random_state": 0,
    "device": "cpu",
}
# 40 series in batches of 16: steps of 16, 16 and 8 series, 3 steps per epoch.
STEPS_PER_EPOCH = 3


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def ecg(mitdb_windows) -> tuple[np.ndarray, np.ndarray]:
    """40 windows of 128 samples of MIT-BIH record 100 (MLII, 360 Hz taken to 120).

    Labels split the windows at their median standard deviation.
    """
    X = mitdb_windows()
    spread = X.std(axis=2)[:, 0]
    y = (spread > np.median(spread)).astype(np.int64)
    return X, y


def _estimator(path: Path | None = None, **params) -> ContrastiveEncoder:
    settings = {"encoder_params": TINY, **SETTINGS, **params}
    return ContrastiveEncoder(checkpoint=path, **settings)


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _epoch_of(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])


class _StopAtSave:
    """Stands in for save_checkpoint: writes the first saves, then is "killed".

    The call after ``keep`` saves raises KeyboardInterrupt before writing, as a
    crash during the epoch after the last checkpoint would.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.calls = 0
        self.save = checkpoint.save_checkpoint

    def __call__(self, path, state) -> None:
        self.calls += 1
        if self.calls > self.keep:
            raise KeyboardInterrupt
        self.save(path, state)


RESUMABLE = {
    "simclr-cnn": {"method": "simclr"},
    "moco-cnn": {"method": "moco", "method_params": {"queue_size": 64}},
    "byol-cnn": {"method": "byol"},
    "ts2vec-cnn": {"method": "ts2vec", "encoder": "cnn"},
    # TS2Vec's network: a timestep mask and dropout from torch's generator, and
    # the running average of the weights (SWA) in the method's state
    "ts2vec-ts2vec": {"method": "ts2vec", "encoder": "ts2vec"},
    "supcon-labels": {"method": "supcon"},
    "simclr-transformer-dropout": {
        "method": "simclr",
        "encoder": "transformer",
        "encoder_params": {"hidden_dim": 8, "depth": 2, "n_heads": 2, "dropout": 0.1},
    },
}


@pytest.mark.parametrize("params", RESUMABLE.values(), ids=RESUMABLE.keys())
def test_resumed_fit_ends_with_the_weights_of_an_uninterrupted_one(
    ecg, tmp_path, monkeypatch, params
):
    X, labels = ecg
    y = labels if params["method"] == "supcon" else None
    reference = _estimator(**params).fit(X, y)

    path = tmp_path / "run.pt"
    stop = _StopAtSave(keep=2)
    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "save_checkpoint", stop)
        with pytest.raises(KeyboardInterrupt):
            _estimator(path, **params).fit(X, y)
    assert stop.calls == 3  # epoch 3 was trained, then "killed" before its save
    assert _epoch_of(path) == 2

    resumed = _estimator(path, resume=True, **params).fit(X, y)
    _assert_same_weights(reference.encoder_.state_dict(), resumed.encoder_.state_dict())
    assert resumed.history_["loss"] == reference.history_["loss"]
    assert len(resumed.history_["loss"]) == 4
    assert resumed.history_["n_steps"] == reference.history_["n_steps"]
    if params["method"] != "ts2vec":  # TS2Vec drops the incomplete last batch
        assert resumed.history_["n_steps"] == 4 * STEPS_PER_EPOCH
    assert _epoch_of(path) == 4
    np.testing.assert_array_equal(resumed.transform(X), reference.transform(X))


def test_resume_from_a_finished_run_trains_no_further(ecg, tmp_path, monkeypatch):
    X, _ = ecg
    path = tmp_path / "run.pt"
    first = _estimator(path, n_epochs=2).fit(X)
    calls = []
    original = SimCLR.forward
    monkeypatch.setattr(
        SimCLR, "forward", lambda self, *a: calls.append(1) or original(self, *a)
    )
    again = _estimator(path, n_epochs=2, resume=True).fit(X)
    assert calls == []
    _assert_same_weights(first.encoder_.state_dict(), again.encoder_.state_dict())
    assert again.history_["loss"] == first.history_["loss"]


def _pretrain_command(data: Path, out: Path, epochs: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tscl",
        "pretrain",
        str(data),
        "--out",
        str(out),
        "--method",
        "simclr",
        "--encoder",
        "cnn",
        "--epochs",
        str(epochs),
        "--batch-size",
        "16",
        "--n-components",
        "8",
        "--encoder-params",
        '{"hidden_dim": 8, "depth": 2}',
        "--checkpoint-every",
        "1",
        "--seed",
        "0",
        "--device",
        "cpu",
    ]


def _saved_epoch(path: Path) -> int:
    """The checkpoint's epoch, or 0 while there is none (yet) to read."""
    try:
        return _epoch_of(path)
    except (OSError, RuntimeError, EOFError, KeyError):
        return 0


def test_cli_resume_after_kill_9_gives_the_uninterrupted_weights(
    tmp_path, mitdb_windows
):
    # 200 windows of 128 samples: 13 steps an epoch; 24 epochs take several
    # seconds, so the run is killed long before it ends.
    X = mitdb_windows(200)
    data = tmp_path / "X.npy"
    np.save(data, X)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    epochs = 24
    # The uninterrupted run goes on beside the interrupted one.
    reference = subprocess.Popen(
        _pretrain_command(data, tmp_path / "reference", epochs), **quiet
    )
    out = tmp_path / "model"
    saved = tmp_path / "model.checkpoint.pt"  # the default: beside --out
    command = _pretrain_command(data, out, epochs)
    killed = subprocess.Popen(command, **quiet)
    try:
        deadline = time.monotonic() + 120
        while _saved_epoch(saved) < 1 and killed.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint after 120 s"
            time.sleep(0.05)
        os.kill(killed.pid, signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL, "the run ended before"
        at_kill = _epoch_of(saved)
        assert 1 <= at_kill < epochs
        assert not out.exists()
        resumed = subprocess.run(
            [*command, "--resume"], capture_output=True, text=True, env=env, timeout=300
        )
        assert resumed.returncode == 0, resumed.stderr
        assert reference.wait(timeout=300) == 0
    finally:
        for process in (killed, reference):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert _epoch_of(saved) == epochs
    a = tscl.load(tmp_path / "reference")
    b = tscl.load(out)
    _assert_same_weights(a.encoder_.state_dict(), b.encoder_.state_dict())
    assert b.history_["loss"] == a.history_["loss"]


@pytest.fixture(scope="module")
def written(ecg, tmp_path_factory) -> Path:
    """A real checkpoint of a 1-epoch run with batch_size 8."""
    path = tmp_path_factory.mktemp("written") / "batch8.pt"
    _estimator(path, n_epochs=1, batch_size=8).fit(ecg[0])
    return path


def _truncated(folder: Path, written: Path) -> Path:
    data = written.read_bytes()
    return _write(folder / "half.pt", data[: len(data) // 2])


def _random_bytes(folder: Path, written: Path) -> Path:
    noise = np.random.default_rng(0).integers(0, 256, size=4096, dtype=np.uint8)
    return _write(folder / "noise.pt", noise.tobytes())


def _bare_state_dict(folder: Path, written: Path) -> Path:
    path = folder / "weights.pt"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path)
    return path


def _other_batch_size(folder: Path, written: Path) -> Path:
    return _write(folder / "batch8.pt", written.read_bytes())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_CHECKPOINTS = {
    "truncated": (_truncated, r"not a readable tscl checkpoint.*truncated"),
    "random-bytes": (_random_bytes, r"not a readable tscl checkpoint.*corrupt"),
    "bare-state-dict": (_bare_state_dict, r"not a tscl checkpoint.*'weight'"),
    "other-batch-size": (_other_batch_size, r"batch_size: 16 here, 8 in the"),
}


@pytest.mark.parametrize(
    ("make", "match"), BAD_CHECKPOINTS.values(), ids=BAD_CHECKPOINTS.keys()
)
def test_a_bad_checkpoint_is_a_clear_error_and_is_left_alone(
    ecg, written, tmp_path, monkeypatch, make, match
):
    path = make(tmp_path, written)
    before = path.read_bytes()
    calls = []
    original = SimCLR.forward
    monkeypatch.setattr(
        SimCLR, "forward", lambda self, *a: calls.append(1) or original(self, *a)
    )
    with pytest.raises(ValueError, match=match) as info:
        _estimator(path, resume=True).fit(ecg[0])
    assert str(path) in str(info.value)
    assert calls == []  # refused before any step
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp files


@pytest.mark.parametrize(
    ("make", "match"), BAD_CHECKPOINTS.values(), ids=BAD_CHECKPOINTS.keys()
)
def test_cli_resume_from_a_bad_checkpoint_exits_1_without_a_traceback(
    ecg, written, tmp_path, capsys, make, match
):
    data = tmp_path / "X.npy"
    np.save(data, ecg[0])
    out = tmp_path / "model"
    path = make(tmp_path, written).rename(tmp_path / "model.checkpoint.pt")
    before = path.read_bytes()
    args = _pretrain_command(data, out, epochs=4)[3:]  # no python -m tscl
    assert main([*args, "--resume"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tscl: error: ")
    assert "Traceback" not in err
    # The run differences are listed one per line; every other error is one line.
    lines = err.splitlines()
    assert len(lines) == 1 or "different run" in lines[0]
    assert [line for line in lines if line.startswith("tscl:")] == [lines[0]]
    assert re.search(match, err, re.DOTALL)
    assert path.read_bytes() == before
    assert not out.exists()


UNRECORDED = {
    "temperature": {"method_params": {"temperature": 0.5}},
    "augment": {"augment": Jitter(0.5)},
}


@pytest.mark.parametrize("change", UNRECORDED.values(), ids=UNRECORDED.keys())
def test_resume_with_other_method_settings_or_augmentation_is_refused(
    ecg, tmp_path, monkeypatch, change
):
    X = ecg[0]
    path = tmp_path / "run.pt"
    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "save_checkpoint", _StopAtSave(keep=1))
        with pytest.raises(KeyboardInterrupt):
            _estimator(path, n_epochs=2).fit(X)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="different run"):
        _estimator(path, n_epochs=2, resume=True, **change).fit(X)
    assert path.read_bytes() == before


class _NaNAt:
    """Wraps SimCLR.forward so that the loss of one call (counted from 1) is NaN."""

    def __init__(self, call: int) -> None:
        self.call = call
        self.calls = 0
        self.forward = SimCLR.forward

    def __call__(self, method, *args):
        self.calls += 1
        loss = self.forward(method, *args)
        return loss * math.nan if self.calls == self.call else loss


def test_nan_loss_names_epoch_step_and_learning_rate_and_keeps_the_checkpoint(
    ecg, tmp_path, monkeypatch
):
    path = tmp_path / "run.pt"
    # Call 8 is the second step of epoch 3.
    nan = _NaNAt(call=2 * STEPS_PER_EPOCH + 2)
    monkeypatch.setattr(SimCLR, "forward", lambda self, *a: nan(self, *a))
    with pytest.raises(TrainingError) as info:
        _estimator(path, learning_rate=0.01).fit(ecg[0])
    assert nan.calls == nan.call  # stopped at once
    total = 4 * STEPS_PER_EPOCH
    lr = 0.5 * 0.01 * (1 + math.cos(math.pi * 7 / total))  # cosine, after 7 steps
    message = str(info.value)
    assert "nan" in message
    assert f"epoch 3, step 8 (learning rate {lr:.3g})" in message
    assert "Lower learning_rate" in message
    assert "\n" not in message
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["epoch"] == 2
    assert saved["step"] == 2 * STEPS_PER_EPOCH
    assert len(saved["history"]["loss"]) == 2
    assert all(math.isfinite(v) for v in saved["history"]["loss"])
    assert all(
        torch.isfinite(t).all()
        for t in saved["model"].values()
        if t.dtype.is_floating_point
    )


def test_cli_nan_loss_is_one_error_line(ecg, tmp_path, capsys, monkeypatch):
    data = tmp_path / "X.npy"
    np.save(data, ecg[0])
    nan = _NaNAt(call=STEPS_PER_EPOCH + 1)
    monkeypatch.setattr(SimCLR, "forward", lambda self, *a: nan(self, *a))
    out = tmp_path / "model"
    args = _pretrain_command(data, out, epochs=4)[3:]
    assert main(args) == 1
    err = capsys.readouterr().err
    line = err.splitlines()[-1]  # after the progress bar
    assert line.startswith("tscl: error: The training loss became nan at epoch 2,")
    assert "Traceback" not in err
    assert not out.exists()
    assert _epoch_of(tmp_path / "model.checkpoint.pt") == 1


class _OutOfMemoryAt:
    """Wraps SimCLR.forward so that one call runs out of memory."""

    def __init__(self, call: int) -> None:
        self.call = call
        self.calls = 0
        self.forward = SimCLR.forward

    def __call__(self, method, *args):
        self.calls += 1
        if self.calls == self.call:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return self.forward(method, *args)


def test_out_of_memory_suggests_a_smaller_batch_or_bf16_and_keeps_the_checkpoint(
    ecg, tmp_path, monkeypatch
):
    path = tmp_path / "run.pt"
    writes = []

    def save(target, state):
        original(target, state)
        writes.append(Path(target).read_bytes())

    original = checkpoint.save_checkpoint
    monkeypatch.setattr(checkpoint, "save_checkpoint", save)
    oom = _OutOfMemoryAt(call=2 * STEPS_PER_EPOCH + 1)  # first step of epoch 3
    monkeypatch.setattr(SimCLR, "forward", lambda self, *a: oom(self, *a))
    with pytest.raises(TrainingError) as info:
        _estimator(path).fit(ecg[0])
    message = str(info.value)
    assert "Out of memory" in message
    assert "epoch 3, step 7" in message
    assert "batch_size=16" in message
    assert "smaller batch_size" in message
    assert "precision='bf16'" in message
    assert isinstance(info.value.__cause__, torch.OutOfMemoryError)
    assert len(writes) == 2
    assert path.read_bytes() == writes[-1]  # the epoch-2 checkpoint, untouched
    assert _epoch_of(path) == 2


def test_an_existing_checkpoint_without_resume_is_refused_before_training(
    ecg, tmp_path, monkeypatch
):
    path = tmp_path / "run.pt"
    path.write_bytes(b"an earlier run")
    calls = []
    monkeypatch.setattr(SimCLR, "forward", lambda *a: calls.append(1))
    with pytest.raises(FileExistsError, match="pass resume=True"):
        _estimator(path).fit(ecg[0])
    assert calls == []
    assert path.read_bytes() == b"an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


def test_resume_without_a_checkpoint_trains_from_scratch_and_writes_one(ecg, tmp_path):
    X = ecg[0]
    path = tmp_path / "run.pt"
    fresh = _estimator(path, n_epochs=2, resume=True).fit(X)
    plain = _estimator(n_epochs=2).fit(X)
    _assert_same_weights(fresh.encoder_.state_dict(), plain.encoder_.state_dict())
    assert fresh.history_["loss"] == plain.history_["loss"]
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["epoch"] == 2
    assert saved["format"] == checkpoint.FORMAT
