"""Distributed training: 2 gloo processes on the CPU against 1 on the whole batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from tscl import ContrastiveEncoder, distributed, training
from tscl.augment import Jitter, Scaling, Views
from tscl.training import _batching, _loop

wfdb = pytest.importorskip("wfdb")

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_dim": 8, "depth": 2}
WORLD = 2


def _series(n: int = 16, length: int = 64) -> np.ndarray:
    """Real ECG windows (MIT-BIH record 100, lead MLII), standardised."""
    signal = wfdb.rdrecord(str(ROOT / "datasets" / "mitdb" / "100"), sampto=n * length)
    X = signal.p_signal[:, 0].reshape(n, 1, length).astype(np.float32)
    return (X - X.mean()) / X.std()


def _pair(n: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two fixed views of n series and labels with classes split across ranks."""
    x1 = torch.from_numpy(_series(n))
    x2 = 0.9 * x1.flip(-1) + 0.05 * torch.linspace(-1, 1, x1.shape[-1])
    labels = torch.tensor([0, 1, 2, -1, 1, 0, -1, 2])[:n]
    return x1, x2, labels


def _method(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    params = {"queue_size": 32} if name == "moco" else None
    model = ContrastiveEncoder(
        name, n_components=8, encoder_params=TINY, method_params=params
    )._build_model(1)
    return model.train()


def _loss_and_grads(
    model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor, labels: torch.Tensor
) -> dict[str, Any]:
    uses = getattr(model, "module", model).label_use != "ignored"
    loss = model(x1, x2, labels) if uses else model(x1, x2)
    loss.backward()
    inner = getattr(model, "module", model)
    grads = {
        name: p.grad.clone()
        for name, p in inner.named_parameters()
        if p.grad is not None
    }
    out = {"loss": distributed.all_mean(loss.detach()), "grads": grads}
    if hasattr(inner, "queue"):
        out["queue"] = inner.queue.clone()
    return out


GATHERING = ["simclr", "supcon", "clip", "moco"]


def _worker_gradients(rank: int, tmp: str) -> dict[str, Any]:
    x1, x2, labels = _pair()
    share = slice(rank * 4, rank * 4 + 4)
    results = {}
    for name in GATHERING:
        ddp = torch.nn.parallel.DistributedDataParallel(_method(name))
        results[name] = _loss_and_grads(ddp, x1[share], x2[share], labels[share])
    return results


def _worker_train(rank: int, tmp: str, stop_after: int | None) -> dict[str, Any]:
    """Fit a small SimCLR and BYOL; optionally stop after a checkpoint."""
    X = _series(24)
    out: dict[str, Any] = {"rank": rank, "world": distributed.world_size()}
    for name in ("simclr", "byol"):
        torch.manual_seed(1)
        model = _method(name)
        views = Views(Jitter(0.05) + Scaling(0.1), n=2)
        path = Path(tmp) / f"{name}.pt"
        config = training.TrainConfig(
            n_epochs=3, batch_size=4, checkpoint=path, resume=True
        )
        if stop_after is not None:
            _stop_after_checkpoint(stop_after)
        try:
            history = training.train(model, X, views, config, seed=3)
        except _Stopped:
            out[name] = "stopped"
            continue
        out[name] = {"state": model.state_dict(), "loss": history["loss"]}
    return out


class _Stopped(Exception):
    pass


def _stop_after_checkpoint(epoch: int) -> None:
    original = _loop._Loop.save

    def save(self: Any, *args: Any) -> None:
        original(self, *args)
        if self.epoch == epoch:
            _loop._Loop.save = original  # type: ignore[method-assign]
            raise _Stopped

    _loop._Loop.save = save  # type: ignore[method-assign]


WORKERS = {"gradients": _worker_gradients, "train": _worker_train}


def _entry(rank: int, name: str, tmp: str, args: tuple[Any, ...]) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp}/rendezvous", rank=rank, world_size=WORLD
    )
    try:
        result = WORKERS[name](rank, tmp, *args)
        torch.save(result, f"{tmp}/result{rank}.pt")
    finally:
        dist.destroy_process_group()


def _spawn(name: str, tmp: Path, *args: Any) -> list[dict[str, Any]]:
    for old in tmp.glob("rendezvous*"):
        old.unlink()
    mp.spawn(_entry, args=(name, str(tmp), args), nprocs=WORLD)
    return [torch.load(tmp / f"result{r}.pt") for r in range(WORLD)]


@pytest.fixture(scope="module")
def gathered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _spawn("gradients", tmp_path_factory.mktemp("grad"))


@pytest.mark.parametrize("name", GATHERING)
def test_two_processes_equal_one_on_the_concatenated_batch(
    gathered: list[dict[str, Any]], name: str
) -> None:
    x1, x2, labels = _pair()
    single = _loss_and_grads(_method(name), x1, x2, labels)
    for rank_result in gathered:
        result = rank_result[name]
        torch.testing.assert_close(result["loss"], single["loss"], rtol=1e-5, atol=1e-6)
        assert result["grads"].keys() == single["grads"].keys()
        for key, grad in single["grads"].items():
            torch.testing.assert_close(
                result["grads"][key], grad, rtol=1e-4, atol=1e-6, msg=key
            )


def test_moco_queue_holds_every_process_keys_in_order(
    gathered: list[dict[str, Any]],
) -> None:
    x1, x2, labels = _pair()
    single = _loss_and_grads(_method("moco"), x1, x2, labels)
    for rank_result in gathered:
        torch.testing.assert_close(rank_result["moco"]["queue"], single["queue"])


def test_without_gathering_the_loss_would_differ(gathered: list[Any]) -> None:
    """Guard: the test above is sensitive to the cross-process negatives."""
    x1, x2, _ = _pair()
    with torch.no_grad():
        local = _method("simclr")(x1[:4], x2[:4])
    full = gathered[0]["simclr"]["loss"]
    assert abs(float(local) - float(full)) > 1e-3


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _spawn("train", tmp_path_factory.mktemp("train"), None)


def test_processes_end_with_the_same_weights_and_targets(
    trained: list[dict[str, Any]],
) -> None:
    zero, one = trained
    assert zero["world"] == one["world"] == WORLD
    for name in ("simclr", "byol"):
        assert zero[name]["loss"] == one[name]["loss"]  # averaged over processes
        assert np.all(np.isfinite(zero[name]["loss"]))
        for key, value in zero[name]["state"].items():
            assert torch.equal(value, one[name]["state"][key]), (name, key)
    assert any(key.startswith("target.") for key in zero["byol"]["state"])


def test_distributed_resume_matches_an_uninterrupted_run(
    trained: list[dict[str, Any]], tmp_path: Path
) -> None:
    stopped = _spawn("train", tmp_path, 1)
    assert stopped[0]["simclr"] == stopped[1]["simclr"] == "stopped"
    checkpoint = torch.load(tmp_path / "simclr.pt", weights_only=True)
    assert checkpoint["epoch"] == 1
    assert len(checkpoint["rng"]) == WORLD  # every process's generators
    resumed = _spawn("train", tmp_path, None)
    for rank in range(WORLD):
        reference = trained[rank]["simclr"]
        assert resumed[rank]["simclr"]["loss"] == reference["loss"]
        for key, value in reference["state"].items():
            assert torch.equal(resumed[rank]["simclr"]["state"][key], value), key


def test_batches_are_shared_without_overlap() -> None:
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    shares = []
    for rank in range(3):
        generator.set_state(state)
        shares.append(_batching.batches(20, 3, generator, rank, 3))
    assert len({len(s) for s in shares}) == 1  # same number of steps everywhere
    for step in zip(*shares, strict=True):
        together = torch.cat(step)
        assert len(together) == len(set(together.tolist()))
        assert len({len(part) for part in step}) == 1


def test_torchrun_pretrain_writes_one_model(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", _series(16)[:, 0])
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--standalone", "-m", "tscl", "pretrain", "x.npy", "--out", "model",
        "--epochs", "2", "--batch-size", "4", "--n-components", "8",
        "--encoder-params", '{"hidden_dim": 8, "depth": 2}', "--seed", "0",
        "--device", "cpu", "--checkpoint-every", "1",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("Saved model") == 1
    assert "2 process(es)" in done.stdout
    assert (tmp_path / "model" / "encoder.pt").is_file()
    assert torch.load(tmp_path / "model.checkpoint.pt", weights_only=True)["epoch"] == 2


def test_setup_outside_a_launcher_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.setup("cpu") == torch.device("cpu")
    assert not dist.is_initialized()
    assert distributed.world_size() == 1 and distributed.rank() == 0  # noqa: PT018


def test_launcher_without_master_address_is_explained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(RuntimeError, match="torchrun"):
        distributed.setup("cpu")


def test_under_a_launcher_cuda_means_the_local_rank_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    for name in ("auto", "cuda"):
        assert distributed.resolve_device(name) == torch.device("cuda", 1)
    assert distributed.resolve_device("cuda:0") == torch.device("cuda", 0)
    assert distributed.resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="LOCAL_RANK=1 has no GPU"):
        distributed.resolve_device("cuda")
    monkeypatch.delenv("WORLD_SIZE")
    assert distributed.resolve_device("cuda") == torch.device("cuda")


def test_gloo_lets_processes_share_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="TSCL_BACKEND=gloo"):
        distributed.resolve_device("cuda")
    monkeypatch.setenv("TSCL_BACKEND", "gloo")
    assert distributed.resolve_device("cuda") == torch.device("cuda", 0)
    assert distributed.backend(torch.device("cuda", 0)) == "gloo"


def test_backend_choice_and_its_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSCL_BACKEND", raising=False)
    assert distributed.backend(torch.device("cuda", 0)) == "nccl"
    assert distributed.backend(torch.device("cpu")) == "gloo"
    monkeypatch.setenv("TSCL_BACKEND", "NCCL")
    with pytest.raises(ValueError, match="nccl needs GPUs"):
        distributed.backend(torch.device("cpu"))
    monkeypatch.setenv("TSCL_BACKEND", "mpi")
    with pytest.raises(ValueError, match="'mpi' is not a backend"):
        distributed.backend(torch.device("cpu"))
