"""Tests for tscl.checkpoint: atomic training checkpoints, read without running code."""

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import tscl
from tscl import checkpoint
from tscl.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    check_checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)

RUN = {
    "method": "simclr",
    "encoder": "cnn",
    "shape": [32, 2, 128],
    "batch_size": 16,
    "n_epochs": 10,
    "seed": 0,
    "world_size": 1,
    "precision": "fp32",
    "learning_rate": 1e-3,
}


class _Custom:
    """A class that weights-only loading must refuse."""

    def __init__(self) -> None:
        self.value = 3


class _Evil:
    """Pickles as a call that would create a file, if loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _training(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    return model, optimizer, scheduler


def _step(model, optimizer, scheduler, x: torch.Tensor) -> None:
    optimizer.zero_grad()
    model(x).pow(2).mean().backward()
    optimizer.step()
    scheduler.step()


def _state(model, optimizer, scheduler, generator) -> dict:
    return {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "generator": generator.get_state()},
        "history": {"loss": [1.5, 1.25, 0.875], "seconds": [0.1, 0.2, 0.3]},
        "best": None,
        "run": RUN,
    }


def _assert_same(a, b, where="state") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), where
        assert a.dtype == b.dtype, where
        assert a.shape == b.shape, where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b), where
        assert a == b, where


def _save_real(path: Path, epoch: int = 1) -> None:
    model, _, _ = _training()
    save_checkpoint(path, {"epoch": epoch, "model": model.state_dict(), "run": RUN})


# -- round trip ---------------------------------------------------------------------


def test_round_trip_realistic_state_and_resume(tmp_path):
    model, optimizer, scheduler = _training()
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    _step(model, optimizer, scheduler, x)
    generator = torch.Generator().manual_seed(7)
    torch.randn(3, generator=generator)  # advance it
    state = _state(model, optimizer, scheduler, generator)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, state)

    loaded = load_checkpoint(path, dict(RUN))
    assert loaded["format"] == FORMAT
    assert loaded["format_version"] == FORMAT_VERSION
    _assert_same({k: v for k, v in loaded.items() if "format" not in k}, state)
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)

    # Restore into fresh objects: the next step matches the uninterrupted run.
    model2, optimizer2, scheduler2 = _training(seed=123)
    model2.load_state_dict(loaded["model"])
    optimizer2.load_state_dict(loaded["optimizer"])
    scheduler2.load_state_dict(loaded["scheduler"])
    generator2 = torch.Generator()
    generator2.set_state(loaded["rng"]["generator"])
    assert torch.equal(
        torch.randn(5, generator=generator2), torch.randn(5, generator=generator)
    )
    _step(model, optimizer, scheduler, x)
    _step(model2, optimizer2, scheduler2, x)
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(a, b)
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()
    assert optimizer2.state_dict()["state"][0]["step"] == 2


def test_resaving_a_loaded_state_keeps_one_format_entry(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 1, "run": RUN})
    loaded = load_checkpoint(path, RUN)
    loaded["epoch"] = 2
    save_checkpoint(path, loaded)  # a loaded dict carries format keys already
    again = load_checkpoint(path, RUN)
    assert again["epoch"] == 2
    assert list(again)[:2] == ["format", "format_version"]
    assert again["format"] == FORMAT
    assert again["format_version"] == FORMAT_VERSION


def test_tensors_come_back_on_cpu_and_tuples_match_lists(tmp_path):
    path = tmp_path / "c.pt"
    run = {**RUN, "shape": (32, 2, 128)}
    save_checkpoint(path, {"weights": torch.arange(4.0), "run": run})
    loaded = load_checkpoint(path, RUN)  # RUN has the shape as a list
    assert loaded["weights"].device.type == "cpu"
    assert loaded["run"]["shape"] == (32, 2, 128)


def test_save_refuses_values_weights_only_cannot_read(tmp_path):
    path = tmp_path / "c.pt"
    state = {"rng": {"numpy": np.random.RandomState(0).get_state()}, "run": RUN}
    with pytest.raises(TypeError, match=r"state\['rng'\]\['numpy'\]\[1\] is a numpy"):
        save_checkpoint(path, state)
    with pytest.raises(TypeError, match="must be a dict"):
        save_checkpoint(path, [1, 2])
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_checkpoint(tmp_path / "nope" / "c.pt", {"run": RUN})
    assert not (tmp_path / "nope").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_new_checkpoint_is_not_private_and_old_mode_is_kept(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"run": RUN})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600
    path.chmod(0o640)
    save_checkpoint(path, {"run": RUN})
    assert path.stat().st_mode & 0o777 == 0o640


# -- atomic write -------------------------------------------------------------------


def test_temporary_file_is_hidden_in_the_same_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", spy)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"run": RUN})
    [(src, dst)] = seen
    assert dst == path
    assert src.parent == tmp_path
    assert src.name.startswith(".checkpoint.pt.")
    assert src.name.endswith(".tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


@pytest.mark.parametrize(
    "error", [OSError("No space left on device"), KeyboardInterrupt()]
)
def test_failed_save_keeps_old_checkpoint(tmp_path, monkeypatch, error):
    path = tmp_path / "checkpoint.pt"
    _save_real(path, epoch=1)
    before = path.read_bytes()

    def broken_save(obj, file):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise error

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(type(error)):
        save_checkpoint(path, {"epoch": 2, "run": RUN})
    monkeypatch.undo()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]
    assert path.read_bytes() == before
    assert load_checkpoint(path, RUN)["epoch"] == 1


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def broken_save(obj, file):
        file.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "checkpoint.pt", {"run": RUN})
    assert list(tmp_path.iterdir()) == []


# -- unreadable and foreign files ----------------------------------------------------


def _truncated(path: Path) -> None:
    _save_real(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _custom_class(path: Path) -> None:
    torch.save({"model": _Custom()}, path)


UNREADABLE = {
    "truncated": (_truncated, r"failed finding central directory"),
    "empty": (lambda p: p.write_bytes(b""), "the file is empty"),
    "random bytes": (
        lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
        "not a readable",
    ),
    "json": (lambda p: p.write_text(json.dumps(RUN)), "weights-only loading refuses"),
    "custom class": (_custom_class, r"weights-only loading refuses.*_Custom"),
}


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_unreadable_file_raises_clear_error_and_is_unchanged(tmp_path, name):
    write, reason = UNREADABLE[name]
    path = tmp_path / "checkpoint.pt"
    write(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="is not a readable tscl checkpoint") as info:
        load_checkpoint(path, RUN)
    message = str(info.value)
    assert str(path) in message
    assert re.search(reason, message), message
    assert "truncated, corrupt or from another program" in message
    assert "Nothing was overwritten" in message
    assert "weights_only` set to `False`" not in message  # no advice to run code
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_loading_never_runs_code(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "checkpoint.pt"
    torch.save({"format": FORMAT, "format_version": 1, "x": _Evil(marker)}, path)
    with pytest.raises(ValueError, match="weights-only loading refuses"):
        load_checkpoint(path, RUN)
    assert not marker.exists()


def test_bare_state_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(nn.Linear(2, 1).state_dict(), path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="is not a tscl checkpoint") as info:
        load_checkpoint(path, RUN)
    message = str(info.value)
    assert "a dict with keys ['weight', 'bias']" in message
    assert "ContrastiveEncoder.save" in message
    assert "tscl.load" in message
    assert path.read_bytes() == before


def test_non_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(
        ValueError, match=r"not a tscl checkpoint: it holds a torch.Tensor"
    ):
        load_checkpoint(path, RUN)


def test_model_folder_is_not_a_checkpoint(tmp_path):
    X = np.random.default_rng(0).normal(size=(16, 32))
    params = {"hidden_dim": 4, "depth": 1}
    enc = tscl.ContrastiveEncoder(
        n_components=4, n_epochs=1, random_state=0, encoder_params=params
    )
    enc.fit(X).save(tmp_path / "model")
    with pytest.raises(
        ValueError, match="is a directory.*ContrastiveEncoder.save"
    ) as info:
        load_checkpoint(tmp_path / "model", RUN)
    assert "tscl.load" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt", RUN)


def test_wrong_argument_types(tmp_path):
    with pytest.raises(TypeError, match="'run' of load_checkpoint must be a dict"):
        load_checkpoint(tmp_path / "c.pt", ["simclr"])
    with pytest.raises(TypeError, match="must be a str or os.PathLike"):
        load_checkpoint(3, RUN)


# -- run and version checks ---------------------------------------------------------


def test_run_mismatch_names_every_differing_key(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 4, "run": RUN})
    here = {k: v for k, v in RUN.items() if k != "world_size"}
    here.update(batch_size=32, seed=1, shape=[32, 2, 256], amp=True)
    with pytest.raises(ValueError, match="different run") as info:
        load_checkpoint(path, here)
    message = str(info.value)
    assert "batch_size: 32 here, 16 in the checkpoint" in message
    assert "seed: 1 here, 0 in the checkpoint" in message
    assert "shape: [32, 2, 256] here, [32, 2, 128] in the checkpoint" in message
    assert "amp: True here, absent in the checkpoint" in message
    assert "world_size: absent here, 1 in the checkpoint" in message
    assert "method" not in message
    assert "precision" not in message
    assert message.endswith(
        "Resume with the same settings and data, or pass another checkpoint path."
    )


def test_checkpoint_without_run_lists_all_keys(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 4})
    with pytest.raises(ValueError, match="different run") as info:
        load_checkpoint(path, {"method": "simclr", "seed": 0})
    assert "method: 'simclr' here, absent in the checkpoint" in str(info.value)
    assert "seed: 0 here, absent in the checkpoint" in str(info.value)
    assert load_checkpoint(path, {})["epoch"] == 4


def test_newer_format_version_asks_to_upgrade(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save(
        {"format": FORMAT, "format_version": FORMAT_VERSION + 1, "run": RUN}, path
    )
    with pytest.raises(ValueError, match="newer tscl.*Upgrade tscl"):
        load_checkpoint(path, RUN)


def test_invalid_format_version(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"format": FORMAT, "format_version": "one", "run": RUN}, path)
    with pytest.raises(ValueError, match="invalid checkpoint format_version 'one'"):
        load_checkpoint(path, RUN)


# -- check_checkpoint_path ----------------------------------------------------------


def test_existing_file_without_resume_is_refused_and_kept(tmp_path):
    path = tmp_path / "checkpoint.pt"
    _save_real(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError) as info:
        check_checkpoint_path(path, resume=False)
    assert str(info.value) == (
        f"{path} already exists; pass resume=True (--resume on the command line) "
        "to continue that run, or delete it or choose another path. "
        "It was not overwritten."
    )
    assert path.read_bytes() == before


def test_existing_file_with_resume_is_fine(tmp_path):
    path = tmp_path / "checkpoint.pt"
    _save_real(path)
    assert check_checkpoint_path(path, resume=True) == path
    assert check_checkpoint_path(str(path), resume=True) == path


@pytest.mark.parametrize("resume", [False, True])
def test_missing_file_is_fine(tmp_path, resume):
    path = tmp_path / "checkpoint.pt"
    result = check_checkpoint_path(str(path), resume=resume)
    assert isinstance(result, Path)
    assert result == path
    assert not path.exists()


def test_missing_parent_folder(tmp_path):
    folder = tmp_path / "runs" / "a"
    with pytest.raises(FileNotFoundError, match=f"folder {folder}") as info:
        check_checkpoint_path(folder / "checkpoint.pt", resume=True)
    assert "does not exist" in str(info.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pass a file path such as run/checkpoint.pt"):
        check_checkpoint_path(tmp_path, resume=False)


def test_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "run").write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        check_checkpoint_path(tmp_path / "run" / "checkpoint.pt", resume=False)


def test_bad_path_type():
    with pytest.raises(TypeError, match="check_checkpoint_path must be a str"):
        check_checkpoint_path(None, resume=False)


def test_an_older_checkpoint_is_named_as_such_not_dumped(tmp_path):
    path = tmp_path / "checkpoint.pt"
    older = {k: v for k, v in RUN.items()}  # an older tscl recorded no blocks
    save_checkpoint(path, {"epoch": 2, "run": older})
    blocks = {"rows": 8, "digests": ["ab" * 32] * 16}
    with pytest.raises(ValueError, match="written by an older tscl.*delete") as info:
        load_checkpoint(path, {**RUN, "data_blocks": blocks})
    assert "abab" not in str(info.value)
    here = {**RUN, "data_blocks": blocks}
    save_checkpoint(path, {"epoch": 2, "run": {**here, "labels": "x" * 500}})
    with pytest.raises(ValueError, match="different run") as info:
        load_checkpoint(path, {**here, "labels": "y" * 500})
    assert len(str(info.value)) < 400  # long values are cut, not dumped
