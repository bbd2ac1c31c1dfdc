"""CUDA paths: autocast, torch.compile, pinned transfers, MoCo's queue, transform.

Every test here is marked ``gpu`` and skipped without CUDA; ``make gpu-check``
runs them on a GPU machine (``benchmarks/gpu_check.py``). The CPU test of the
check's own plumbing is ``test_gpu_check_skips_without_cuda`` and its smoke run.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tscl import ContrastiveEncoder
from tscl.methods import MoCo

ROOT = Path(__file__).resolve().parents[1]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _series(n: int = 64, length: int = 128) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, length)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    X = np.sin(2 * np.pi * 5 * t + phase) + 0.1 * rng.normal(size=(n, length))
    return X.astype(np.float32)


def _encoder(**params) -> ContrastiveEncoder:
    settings = {
        "method": "simclr",
        "n_components": 8,
        "n_epochs": 2,
        "batch_size": 16,
        "encoder_params": {"hidden_dim": 16, "depth": 2},
        "random_state": 0,
        "device": "cuda",
        **params,
    }
    return ContrastiveEncoder(**settings)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
@pytest.mark.parametrize("method", ["simclr", "softclt"])
def test_autocast_trains_with_finite_losses(precision, method):
    enc = _encoder(precision=precision, method=method).fit(_series())
    assert np.isfinite(enc.history_["loss"]).all()
    assert np.isfinite(enc.transform(_series())).all()


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
def test_compiled_training_matches_eager_closely():
    eager = _encoder().fit(_series())
    compiled = _encoder(compile=True).fit(_series())
    assert np.isfinite(compiled.history_["loss"]).all()
    np.testing.assert_allclose(
        compiled.history_["loss"], eager.history_["loss"], rtol=0.05
    )


@pytest.mark.gpu
@needs_cuda
@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
def test_transform_on_cuda_matches_the_cpu():
    enc = _encoder().fit(_series())
    on_gpu = enc.transform(_series())
    enc.set_params(device="cpu")
    np.testing.assert_allclose(on_gpu, enc.transform(_series()), atol=1e-4)


@pytest.mark.gpu
@needs_cuda
def test_moco_queue_lives_and_advances_on_the_gpu():
    from tscl.encoders import CNN

    model = MoCo(CNN(1, 8, hidden_dim=8, depth=2), queue_size=32).cuda()
    x = torch.randn(8, 1, 64, device="cuda")
    loss = model(x, x + 0.01 * torch.randn_like(x))
    loss.backward()
    model.on_step_end(0, 10)
    assert model.queue.device.type == "cuda"
    assert int(model.queue_pointer) == 16  # both views' keys entered


@pytest.mark.gpu
@needs_cuda
def test_pinned_batches_of_arrays_and_memory_maps(tmp_path):
    from tscl.training._batching import Rows

    X = _series(16)[:, None, :]
    np.save(tmp_path / "X.npy", X)
    index = torch.tensor([3, 1, 7])
    for source in (X, np.load(tmp_path / "X.npy", mmap_mode="r")):
        batch = Rows(source, None, pin=True).take(index)
        assert batch.is_pinned()
        on_gpu = batch.to("cuda", non_blocking=True)
        torch.cuda.synchronize()
        np.testing.assert_array_equal(on_gpu.cpu().numpy(), X[[3, 1, 7]])
    gpu_rows = Rows(torch.from_numpy(X).cuda(), None, pin=True)
    assert not gpu_rows.pin
    assert gpu_rows.take(index).device.type == "cuda"


def test_gpu_check_skips_without_cuda(tmp_path):
    """Without CUDA the check says so in one line and succeeds (a CPU test)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gpu-check: skipped: no CUDA GPU")
    assert list(tmp_path.iterdir()) == []


def test_gpu_check_plumbing_on_the_cpu(tmp_path):
    """``--smoke`` runs the steps on the CPU: they run and their figures are read."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu_check.py"),
            str(tmp_path),
            "--smoke",
            "--steps",
            "throughput fp32",
            "augment",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "summary.md").read_text()
    assert "| throughput fp32 | ok |" in table
    assert "TS2Vec ref." in table
    assert "| augment | ok |" in table
    assert "x tsaug CPU" in table
    steps = json.loads((tmp_path / "summary.json").read_text())
    assert [s["name"] for s in steps] == ["throughput fp32", "augment"]
