"""Fault cases: kills, a full disk, concurrent runs, tampered files, extreme values.

What tscl promises (docs/guarantees.md): a saved model folder and a checkpoint
are each whole or absent after a kill; ``tscl.load`` refuses a folder that mixes
two saves or whose fields do not fit together; resume refuses other data;
nothing a user wrote is overwritten; bad input is a clear error, never a silent
wrong answer.
"""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import tscl
from tscl import checkpoint, persistence
from tscl.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = {"hidden_dim": 8, "depth": 2}


def _X(n: int = 16, length: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 2, length)).astype(np.float32)


def _model(seed: int = 0, **params) -> tscl.ContrastiveEncoder:
    settings = {
        "method": "simclr",
        "n_components": 4,
        "n_epochs": 1,
        "batch_size": 8,
        "random_state": seed,
        "encoder_params": TINY,
        **params,
    }
    return tscl.ContrastiveEncoder(**settings)


@pytest.fixture(scope="module")
def two_models():
    return _model(0).fit(_X()), _model(1).fit(_X())


# ------------------------------------------------------- kill -9 during a save

SAVER = textwrap.dedent(
    """
    import sys, tscl
    first, second, target = sys.argv[1:]
    models = [tscl.load(first), tscl.load(second)]
    print("ready", flush=True)
    i = 0
    while True:
        models[i % 2].save(target)
        i += 1
    """
)


def test_a_save_killed_at_any_moment_leaves_one_whole_model(two_models, tmp_path):
    a, b = two_models
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    expected = [m.transform(_X()) for m in (a, b)]
    target = tmp_path / "model"
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    for delay in (0.05, 0.13, 0.31, 0.52, 0.77):
        saver = subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "a"), str(tmp_path / "b"),
             str(target)],
            stdout=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        assert saver.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        saver.send_signal(signal.SIGKILL)
        assert saver.wait(timeout=30) == -signal.SIGKILL
        if not target.exists():  # killed between the renames of a fallback swap
            continue
        loaded = tscl.load(target)  # complete and consistent, or an error
        got = loaded.transform(_X())
        assert any(np.array_equal(got, e) for e in expected)
    _model(2).fit(_X()).save(target)  # the next save cleans up what kills left
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.")]
    assert leftovers == []


CHECKPOINTER = textwrap.dedent(
    """
    import sys, torch
    from tscl import checkpoint
    print("ready", flush=True)
    epoch = 0
    while True:
        epoch += 1
        checkpoint.save_checkpoint(
            sys.argv[1], {"epoch": epoch, "weights": torch.full((50_000,), epoch)}
        )
    """
)


def test_a_checkpoint_write_killed_at_any_moment_leaves_a_whole_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    script = tmp_path / "writer.py"
    script.write_text(CHECKPOINTER)
    for delay in (0.05, 0.2, 0.45):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, cwd=ROOT
        )
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
        if path.exists():
            state = checkpoint.load_checkpoint(path, run={})
            assert bool((state["weights"] == state["epoch"]).all())  # one write
    with checkpoint.locked(path):  # a new run removes what the kills left
        pass
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------- a full disk


def _full_disk(limit: int = 2048) -> None:
    """In a child process: writes beyond ``limit`` bytes fail (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


FULL_DISK_SAVE = textwrap.dedent(
    """
    import resource, signal, sys, tscl
    model = tscl.load(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
    try:
        model.save(sys.argv[2])
    except OSError as err:
        print("OSError", err.errno)
    """
)


def test_a_full_disk_during_a_save_keeps_the_old_model(two_models, tmp_path):
    a, b = two_models
    b.save(tmp_path / "b")
    target = tmp_path / "model"
    a.save(target)
    before = a.transform(_X())
    script = tmp_path / "full.py"
    script.write_text(FULL_DISK_SAVE)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "b"), str(target)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert out.stdout.startswith("OSError"), out.stderr
    np.testing.assert_array_equal(tscl.load(target).transform(_X()), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "full.py", "model"]


def test_a_full_disk_during_a_checkpoint_keeps_the_old_one(tmp_path):
    path = tmp_path / "run.pt"
    checkpoint.save_checkpoint(path, {"epoch": 1, "big": torch.zeros(8)})
    code = textwrap.dedent(
        f"""
        import resource, signal, torch
        from tscl import checkpoint
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            checkpoint.save_checkpoint({str(path)!r},
                                       {{"epoch": 2, "big": torch.zeros(100_000)}})
        except OSError as err:
            print("OSError", err.errno)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.stdout.startswith("OSError"), out.stderr
    assert checkpoint.load_checkpoint(path, run={})["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_pretrain_keeps_the_trained_model_when_the_output_cannot_be_written(
    tmp_path, capsys, monkeypatch
):
    X = tmp_path / "X.npy"
    np.save(X, _X())
    real_save = tscl.ContrastiveEncoder.save
    calls = []

    def full_disk_for_out(self, path):
        calls.append(Path(path))
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(tscl.ContrastiveEncoder, "save", full_disk_for_out)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "spare"))
    (tmp_path / "spare").mkdir()
    out = tmp_path / "model"
    args = ["pretrain", str(X), "--out", str(out), "--method", "simclr"]
    args += ["--epochs", "1", "--n-components", "4", "--encoder-params", '{"depth": 1}']
    assert main(args) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert error.startswith("tscl: error: Could not write the trained model")
    assert "No space left on device" in error
    kept = calls[1]
    assert str(kept) in error
    assert tscl.load(kept).transform(_X()).shape == (16, 4)


def test_outputs_that_cannot_be_written_fail_before_any_work(tmp_path, capsys):
    X = tmp_path / "X.npy"
    np.save(X, _X())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    start = time.perf_counter()
    for out in (blocker / "model", Path("/proc/tscl-model")):  # under a file, read-only
        assert main(["pretrain", str(X), "--out", str(out)]) == 1
        assert capsys.readouterr().err.startswith("tscl: error: ")
    assert time.perf_counter() - start < 10  # refused before training
    model = tmp_path / "m"
    _model().fit(_X()).save(model)
    assert main(["embed", str(model), str(X), "--out", "/proc/Z.npy"]) == 1
    assert "Cannot write to /proc" in capsys.readouterr().err


# ---------------------------------------------------------- concurrent writers


def test_a_second_run_on_the_same_checkpoint_fails_at_once(tmp_path):
    path = tmp_path / "run.pt"
    with checkpoint.locked(path):
        with pytest.raises(FileExistsError, match="being written by another run"):
            _model(checkpoint=path).fit(_X())
    assert not path.exists()
    _model(checkpoint=path).fit(_X())  # the lock is released: the run goes ahead
    assert path.exists()
    assert not path.with_name("run.pt.lock").exists()


def test_a_stale_lock_and_temporaries_of_a_killed_run_are_cleaned_up(tmp_path):
    path = tmp_path / "run.pt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    import socket

    path.with_name("run.pt.lock").write_text(f"{socket.gethostname()}:{dead}")
    stale = tmp_path / f".run.pt.{dead}.abcdef.tmp"
    stale.write_bytes(b"half a checkpoint")
    _model(checkpoint=path).fit(_X())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]


_RACER = """
import sys, time
from tscl import checkpoint
path, start = sys.argv[1], float(sys.argv[2])
read = checkpoint._lock_holder
def slow(*args, **kwargs):  # a pause between reading a lock and acting on it
    holder = read(*args, **kwargs)
    time.sleep(0.05)
    return holder
checkpoint._lock_holder = slow
while time.time() < start:
    time.sleep(0.001)
try:
    with checkpoint.locked(path):
        print("took", flush=True)
        time.sleep(1.0)
except FileExistsError as err:
    print("refused", "being written by another run" in str(err), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_two_runs_that_find_the_same_stale_lock_never_both_take_it(tmp_path):
    import socket

    path = tmp_path / "run.pt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    for _ in range(5):
        path.with_name("run.pt.lock").write_text(f"{socket.gethostname()}:{dead}")
        start = time.time() + 4  # both are started and waiting by then
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, str(path), str(start)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for _ in range(2)
        ]
        said = sorted(r.communicate(timeout=60)[0].strip() for r in racers)
        assert said == ["refused True", "took"]


# ----------------------------------------------------------- tampered folders


@pytest.fixture
def saved(two_models, tmp_path) -> Path:
    path = tmp_path / "model"
    two_models[0].save(path)
    return path


def test_a_folder_mixing_two_saves_is_refused(two_models, saved, tmp_path):
    two_models[1].save(tmp_path / "other")
    os.replace(tmp_path / "other" / "encoder.pt", saved / "encoder.pt")
    with pytest.raises(ValueError, match="digest is not the one config.json records"):
        tscl.load(saved)


def test_edited_weights_are_refused(saved):
    data = bytearray((saved / "encoder.pt").read_bytes())
    data[-100] ^= 0xFF
    (saved / "encoder.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="mixes two saves or was edited"):
        tscl.load(saved)


def _redigest(saved: Path) -> None:
    """Record the digests of the folder's files as they are now."""
    _edit(
        saved,
        lambda c: c.update(
            digests={
                name: persistence._digest((saved / name).read_bytes())
                for name in ("encoder.pt", "history.json")
            }
        ),
    )


def _edit(saved: Path, edit) -> None:
    config = json.loads((saved / "config.json").read_text())
    edit(config)
    (saved / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda c: c["fitted"].update(mean_=[0.0]), "mean_ must hold 2 finite"),
        (lambda c: c["fitted"].update(mean_=[0.0, float("nan")]), "not finite"),
        (lambda c: c["fitted"].update(scale_=[1.0, 0.0]), "scale_ must be > 0"),
        (lambda c: c["fitted"].update(n_channels_in_=10**9), "n_channels_in_"),
        (lambda c: c["fitted"].update(n_features_in_=3), "differs from n_channels"),
        (lambda c: c["params"].update(n_components=10**9), "beyond 1048576"),
        (
            lambda c: c["params"].update(
                encoder_params={"hidden_dim": 4096, "depth": 9}
            ),
            "906,072,068 weights .* more than tscl builds",
        ),
        (
            lambda c: c["params"].update(encoder_params={"hidden_dim": 1024}),
            "encoder.pt could not be read as this model's weights",
        ),
        (lambda c: c["params"].update(n_components="many"), "n_components"),
        (
            lambda c: c["params"].update(encoder_params={"depth": 200000}),
            "'depth' parameter of .* <= 64. Got 200000",
        ),
        (
            lambda c: c["params"].update(
                encoder_params={"hidden_dim": 60000, "kernel_size": 1001}
            ),
            "would have .* weights .*more than tscl builds",
        ),
    ],
)
def test_every_field_is_checked_before_anything_is_built(saved, edit, match):
    _edit(saved, edit)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        tscl.load(saved)
    assert time.perf_counter() - start < 5  # nothing large was built


def test_paths_in_a_loaded_config_are_never_used_for_a_new_fit(saved, tmp_path):
    trap = tmp_path / "elsewhere.pt"
    _edit(saved, lambda c: c["params"].update(checkpoint=str(trap), resume=True))
    loaded = tscl.load(saved)
    assert (loaded.checkpoint, loaded.resume) == (None, False)
    loaded.fit(_X())
    assert not trap.exists()


def test_an_empty_or_code_carrying_weights_file_is_refused_cleanly(saved):
    (saved / "encoder.pt").write_bytes(b"")
    _redigest(saved)  # the digests match: the reader itself must refuse it
    with pytest.raises(ValueError, match="the file is empty"):
        tscl.load(saved)

    class Payload:
        def __reduce__(self):
            return (print, ("ran code",))

    torch.save({"w": Payload()}, saved / "encoder.pt")
    _redigest(saved)
    with pytest.raises(ValueError, match="weights-only loading refuses") as caught:
        tscl.load(saved)
    assert "weights_only=False" not in str(caught.value)


def test_a_corrupt_history_is_named(saved):
    (saved / "history.json").write_text("{not json")
    _redigest(saved)
    with pytest.raises(ValueError, match="history.json is not valid JSON"):
        tscl.load(saved)


def test_a_folder_of_the_users_own_is_never_written_into(two_models, tmp_path):
    (tmp_path / "config.json").write_text('{"learning_rate": 0.1}')
    (tmp_path / "history.json").write_text("[]")
    with pytest.raises(FileExistsError, match="not a tscl model folder"):
        two_models[0].save(tmp_path)
    assert (tmp_path / "config.json").read_text() == '{"learning_rate": 0.1}'
    assert persistence.is_model_folder(tmp_path) is False


# ------------------------------------------------------ resume with other data


def test_resume_refuses_other_series_and_says_which(tmp_path):
    X = _X(n=40)
    path = tmp_path / "run.pt"
    _model(checkpoint=path, n_epochs=2).fit(X)
    changed = X.copy()
    changed[8:16] = changed[8:16, :, ::-1]  # rows 8-15 reversed in time
    with pytest.raises(ValueError, match=r"differ from the checkpoint's in rows 8"):
        _model(checkpoint=path, n_epochs=2, resume=True).fit(changed)


def test_resume_refuses_other_labels(tmp_path):
    X, y = _X(n=40), np.arange(40) % 2
    path = tmp_path / "run.pt"
    _model(checkpoint=path, method="supcon", n_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="labels:"):
        _model(checkpoint=path, method="supcon", n_epochs=2, resume=True).fit(X, 1 - y)


# ------------------------------------------------------------ extreme values


def test_huge_but_finite_values_standardise_correctly():
    X = _X().astype(np.float64)
    small = _model().fit(X).transform(X)
    huge = _model().fit(X * 1e200).transform(X * 1e200)
    np.testing.assert_allclose(huge, small, atol=1e-5)


def test_values_far_beyond_the_training_scale_are_an_error():
    model = _model().fit(_X())
    with pytest.raises(ValueError, match="exceed float32's range"):
        model.transform(_X().astype(np.float64) * 1e40)


# ------------------------------------------------------------------- loaders


def test_ucr_labels_that_do_not_fit_an_integer_stay_distinct(tmp_path):
    from tscl.datasets import load_ucr_file

    file = tmp_path / "X_TRAIN.tsv"
    file.write_text("1e30\t0.1\t0.2\n12345678901234567890\t0.3\t0.4\n")
    assert load_ucr_file(file).y.tolist() == ["1e30", "12345678901234567890"]


def test_ucr_loader_messages_name_the_file_and_the_fix(tmp_path):
    from tscl.datasets import load_ucr_file

    with pytest.raises(IsADirectoryError, match="is a folder; pass one of its split"):
        load_ucr_file(tmp_path)
    comma = tmp_path / "C_TRAIN.tsv"
    comma.write_text("1,0.1,0.2\n2,0.3,0.4\n")
    with pytest.raises(ValueError, match="C_TRAIN.tsv looks comma-separated"):
        load_ucr_file(comma)


def test_price_file_problems_are_named(tmp_path):
    from tscl.datasets import load_prices

    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "Date,Close\n2001-01-02,1.0\n2001-01-03,2.5\u00a0\n".encode("latin-1")
    )
    with pytest.raises(ValueError, match="latin.csv is not UTF-8"):
        load_prices(latin)
    hole = tmp_path / "hole.csv"
    hole.write_text("Date,Close\n2001-01-02,1.0\n2001-01-03,1.1\n2002-02-07,1.2\n")
    with pytest.warns(UserWarning, match="hole.csv: 1 gap.*400 days"):
        load_prices(hole)


def test_a_broken_wfdb_header_names_the_record(tmp_path):
    pytest.importorskip("wfdb")
    from tscl.datasets import load_wfdb_windows

    (tmp_path / "r.hea").write_text("r 2 360 sixty\nr.dat 212 200 11 1024 0 0 0 MLII\n")
    (tmp_path / "r.dat").write_bytes(b"\x00" * 30)
    with pytest.raises(ValueError, match="WFDB record .*r'.*could not be read"):
        load_wfdb_windows(tmp_path / "r")


@pytest.mark.parametrize("rate", ["-360", "abc", "0", "nan", "inf/1"])
def test_an_unreadable_wfdb_rate_is_refused_not_taken_for_250_hz(tmp_path, rate):
    pytest.importorskip("wfdb")
    from tscl.datasets import load_wfdb_windows, segment_beats

    source = ROOT / "datasets" / "mitdb"
    lines = (source / "100.hea").read_text().splitlines()
    lines[0] = f"100 2 {rate} 216000"
    (tmp_path / "100.hea").write_text("\n".join(lines) + "\n")
    shutil.copy(source / "100.dat", tmp_path / "100.dat")
    shutil.copy(source / "100.atr", tmp_path / "100.atr")
    with pytest.raises(ValueError, match=f"sampling frequency .*'{rate}'.*250 Hz"):
        load_wfdb_windows(tmp_path / "100", window_s=10)
    with pytest.raises(ValueError, match="not a positive number of Hz"):
        segment_beats(tmp_path / "100")
    lines[0] = "100 2"  # no rate and so no length
    (tmp_path / "100.hea").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="sampling frequency 250.*length None"):
        load_wfdb_windows(tmp_path / "100", window_s=10, sampto_s=60)


@pytest.mark.parametrize(
    "text",
    [
        "time_warp(n_knots=1000000000)",
        "magnitude_warp(n_knots=20000000)",
        "permutation(max_segments=1000000)",
        "jitter(sigma=0.1) + drift(n_knots=10000001)",
    ],
)
def test_absurd_augmentation_sizes_are_refused_when_read(text, tmp_path, capsys):
    from tscl import augment

    start = time.perf_counter()
    with pytest.raises(ValueError, match="must be an integer >= 2 and <= 10000"):
        augment.parse(text)
    spec = augment.to_spec(augment.TimeWarp())
    spec["params"]["n_knots"] = 10**9
    with pytest.raises(ValueError, match="n_knots"):
        augment.from_spec(spec)
    assert time.perf_counter() - start < 5
    data = str(ROOT / "datasets" / "ucr" / "ECG200" / "ECG200_TRAIN.tsv")
    out = str(tmp_path / "m")
    assert main(["pretrain", data, "--out", out, "--augment", text]) == 1
    assert "must be an integer >= 2 and <= 10000" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _run_with_timeout(code: str, seconds: float = 60) -> subprocess.CompletedProcess:
    """Run Python code in a child process: a hang ends as a timeout."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=seconds,
        cwd=ROOT,
    )


@pytest.mark.parametrize("name", ["config.json", "history.json", "encoder.pt"])
def test_model_files_that_are_devices_or_huge_are_refused_before_reading(
    saved, tmp_path, name
):
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:  # sparse: 9 GiB long, no disk used
        handle.truncate(9 * 2**30)
    for target, match in ((Path("/dev/zero"), "not a regular file \\(a character"),
                          (huge, "holds 9,663,676,416 bytes, more than")):  # fmt: skip
        (saved / name).unlink()
        (saved / name).symlink_to(target)
        start = time.perf_counter()
        with pytest.raises(ValueError, match=match):
            tscl.load(saved)
        assert time.perf_counter() - start < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("name", ["config.json", "history.json", "encoder.pt"])
def test_a_fifo_in_a_model_folder_does_not_hang_load_or_info(saved, name):
    (saved / name).unlink()
    os.mkfifo(saved / name)
    code = textwrap.dedent(f"""
        import tscl
        from tscl.cli import main
        try:
            tscl.load({str(saved)!r})
        except ValueError as err:
            print("load:", err)
        print("info:", main(["info", {str(saved)!r}]))
    """)
    done = _run_with_timeout(code)
    assert "load:" in done.stdout, done.stderr
    assert "info: 1" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_checkpoint_that_is_a_fifo_or_a_device_is_refused(tmp_path):
    from tscl.checkpoint import load_checkpoint

    with pytest.raises(ValueError, match="not a regular file \\(a character device"):
        load_checkpoint("/dev/zero", {})
    os.mkfifo(tmp_path / "ckpt.pt")
    code = textwrap.dedent(f"""
        from tscl.checkpoint import load_checkpoint
        try:
            load_checkpoint({str(tmp_path / "ckpt.pt")!r}, {{}})
        except ValueError as err:
            print("refused:", err)
    """)
    done = _run_with_timeout(code)
    assert "refused:" in done.stdout, done.stderr
    assert "a FIFO" in done.stdout


def test_a_folder_without_the_digests_its_format_requires_is_refused(saved):
    _edit(saved, lambda c: c.pop("digests"))  # a format 2 folder, digests removed
    with pytest.raises(ValueError, match="claims model format 2 but lacks the dig"):
        tscl.load(saved)
    _edit(saved, lambda c: c.update(format_version=1))  # and posing as 0.1.0
    with pytest.raises(ValueError, match="written by an older tscl.*upgrade"):
        tscl.load(saved)


def test_an_older_folder_that_the_user_trusts_is_upgraded_once(saved):
    X = _X()
    expected = tscl.load(saved).transform(X)
    _edit(saved, lambda c: (c.pop("digests"), c.update(format_version=1)))
    persistence.upgrade(saved)
    np.testing.assert_array_equal(tscl.load(saved).transform(X), expected)
    with pytest.raises(ValueError, match="already in model format 2"):
        persistence.upgrade(saved)
    (saved / "history.json").unlink()
    with pytest.raises(ValueError, match="has no history.json; the model is incom"):
        tscl.load(saved)
    _edit(saved, lambda c: (c.pop("digests"), c.update(format_version=1)))
    torch.save([1, 2], saved / "encoder.pt")  # not a state dict: nothing changes
    before = (saved / "config.json").read_bytes()
    with pytest.raises(ValueError, match="holds a list, not a state dict"):
        persistence.upgrade(saved)
    assert (saved / "config.json").read_bytes() == before
