"""Training checkpoints that survive crashes and never run code when read.

A checkpoint is one file holding the state a run needs to resume: model, optimiser
and scheduler state dicts, random-generator states, the history so far and a
``run`` dict that describes the run (method, encoder, data shape, batch size, ...).
It is written by :func:`save_checkpoint` and read by :func:`load_checkpoint`;
:func:`check_checkpoint_path` checks the path before any training starts.

**Atomic write.** :func:`save_checkpoint` writes through tscl's one atomic writer
(``tscl._files.write_atomic``): a hidden temporary file in the same folder
(``.<name>.<random>.tmp``), flushed to disk with ``os.fsync``, then renamed onto the
checkpoint with ``os.replace``, which is atomic on POSIX and Windows.
A crash, a full disk or Ctrl-C while saving therefore leaves the previous
checkpoint whole and removes the temporary file: the file at ``path`` is always
either the old checkpoint or the new one, never half of one.

**Safe load.** :func:`load_checkpoint` reads with
``torch.load(..., weights_only=True)``, which only rebuilds tensors and plain Python
values and refuses anything that would import or call code, so a checkpoint from an
untrusted source cannot execute anything. A truncated, corrupt or foreign file, a
checkpoint from a newer tscl or from a run with other settings raises a
``ValueError`` that says what is wrong; the file is never modified.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from tscl import _files
from tscl._validation import as_path, short_repr

if os.name == "posix":
    import fcntl
else:  # Windows: no flock, see _take_exclusive
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "check_checkpoint_path",
    "load_checkpoint",
    "locked",
    "save_checkpoint",
]

FORMAT = "tscl-checkpoint"
FORMAT_VERSION = 1
#: The largest checkpoint file read: the largest encoder's weights (8 GiB),
#: its optimizer state (twice that for Adam) and room for the rest.
MAX_CHECKPOINT_BYTES = 32 * 2**30

# Values that torch.load(weights_only=True) rebuilds (checked in tests).
_SCALARS = (str, bytes, int, float, complex, bool, type(None))
_TORCH_VALUES = (torch.Tensor, torch.Size, torch.dtype, torch.device)


def _as_path(path: Any, owner: str) -> Path:
    return as_path(path, "path", owner, example="'run/checkpoint.pt'")


def check_checkpoint_path(path: str | os.PathLike[str], resume: bool) -> Path:
    """Check a checkpoint path before training, so that a bad path fails fast.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file to write (and to resume from when ``resume`` is true).
    resume : bool
        Whether the run may continue from an existing checkpoint. When it is true
        and no file exists yet, training starts from epoch 1, so a preemptible
        job can always pass ``--resume``.

    Returns
    -------
    Path
        ``Path(path)``.

    Raises
    ------
    TypeError
        If ``path`` is not a str or path-like object.
    FileNotFoundError
        If the folder that should hold the checkpoint does not exist.
    ValueError
        If ``path`` is a directory, or its parent is not a directory.
    PermissionError
        If the folder cannot be written to.
    FileExistsError
        If the file exists and ``resume`` is false; it is left untouched.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "checkpoint.pt"
    ...     _ = check_checkpoint_path(path, resume=False)  # no file yet: fine
    ...     _ = path.write_bytes(b"an earlier run")
    ...     try:
    ...         check_checkpoint_path(path, resume=False)
    ...     except FileExistsError as err:
    ...         print("refused:", "pass resume=True" in str(err))
    ...     check_checkpoint_path(path, resume=True) == path
    refused: True
    True
    """
    target = _as_path(path, "check_checkpoint_path")
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(
            f"The folder {folder} for the checkpoint {target} does not exist; "
            "create it first or choose another checkpoint path."
        )
    if not folder.is_dir():
        raise ValueError(
            f"{folder} is a file, so {target} cannot be a checkpoint path; "
            "pass a file path inside a folder, such as run/checkpoint.pt."
        )
    if target.is_dir():
        raise ValueError(
            f"{target} is a directory; the checkpoint is a single file, so pass "
            "a file path such as run/checkpoint.pt."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f"Cannot write the checkpoint {target}: the folder {folder} is not "
            "writable. Choose another checkpoint path."
        )
    if target.exists() and not resume:
        raise FileExistsError(
            f"{target} already exists; pass resume=True (--resume on the command "
            "line) to continue that run, or delete it or choose another path. "
            "It was not overwritten."
        )
    return target


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``<path>.lock`` while a run writes the checkpoint ``path``.

    A second run on the same checkpoint fails at once instead of overwriting
    the first one's. The lock is the kernel's (``flock``) on a file that names
    its holder: the kernel frees it when the holder's process ends, however it
    ends, so a killed run's lock is free at once and two runs can never both
    take it. The temporary files of a killed run's interrupted writes are
    removed. Where ``flock`` is missing (Windows), the file is created
    exclusively and a lock whose process is gone is taken over.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file.

    Raises
    ------
    FileExistsError
        If a running process (on this machine, or on another one sharing the
        folder) holds the lock.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "run.pt"
    >>> with locked(path):
    ...     try:
    ...         with locked(path):
    ...             pass
    ...     except FileExistsError as err:
    ...         print("refused:", "another run" in str(err))
    refused: True
    """
    target = Path(path)
    lock = target.with_name(target.name + ".lock")
    owner = f"{socket.gethostname()}:{os.getpid()}"
    take = _take_flock if fcntl is not None else _take_exclusive
    fd = take(lock, target)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, owner.encode())
        for tmp in target.parent.glob(f".{target.name}.*.tmp"):
            if not _files.owner_alive(tmp.name):
                with contextlib.suppress(OSError):
                    tmp.unlink()  # left by a killed write
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()  # while still holding it: see _take_flock
        os.close(fd)  # releases the kernel's lock


def _busy(target: Path, lock: Path, holder: str) -> FileExistsError:
    return FileExistsError(
        f"{target} is being written by another run ({holder}, lock {lock}); wait "
        "for it to end or choose another checkpoint path. If that run is gone, "
        "delete the lock file. Nothing was overwritten."
    )


def _take_flock(lock: Path, target: Path) -> int:
    """Open ``lock`` and hold the kernel's exclusive lock on it (POSIX).

    The kernel releases the lock when its holder's process ends, however it
    ends, so a killed run's lock is free at once and there is no takeover to
    race on. A lock file that its holder removed (on release) between this
    run's open and lock is opened again.
    """
    assert fcntl is not None
    while True:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(lock, alive_only=False) or "an unknown process"
            os.close(fd)
            raise _busy(target, lock, holder) from None
        except OSError:  # a filesystem without flock: fall back
            os.close(fd)
            return _take_exclusive(lock, target)
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the file was removed and maybe re-created: try again


def _take_exclusive(lock: Path, target: Path) -> int:
    """Create ``lock`` exclusively; take over one whose process is gone.

    Where the kernel offers no ``flock`` (Windows, some network filesystems).
    """
    for _ in range(2):
        try:
            return os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is not None:
                raise _busy(target, lock, holder) from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()  # its process is gone
    raise FileExistsError(f"{lock} is held by another run.")  # pragma: no cover


def _lock_holder(lock: Path, alive_only: bool = True) -> str | None:
    """Who holds ``lock``, or None when its process is gone (a stale lock).

    ``alive_only=False`` names the holder the file records without asking
    whether it runs (the kernel already said the lock is held).
    """
    try:
        host, _, pid = lock.read_text().strip().partition(":")
    except (OSError, UnicodeDecodeError):
        return "an unknown process"
    if not pid:
        return None if alive_only else "a process that is starting"
    if host != socket.gethostname():
        return f"process {pid} on {host}"
    if alive_only and (not pid.isdigit() or not _files.owner_alive(f"x.{pid}.0.tmp")):
        return None
    return f"process {pid}"


def _check_storable(value: Any, where: str) -> None:
    """Raise TypeError for a value that weights-only loading could not read back."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, f"a key of {where}")
            _check_storable(item, f"{where}[{short_repr(key)}]")
    elif isinstance(value, (list, tuple, set)):
        for i, item in enumerate(value):
            _check_storable(item, f"{where}[{i}]")
    elif not isinstance(value, _SCALARS + _TORCH_VALUES):
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise TypeError(
            f"Cannot save the checkpoint: {where} is a {kind}, which "
            "torch.load(weights_only=True) cannot read back. A checkpoint holds "
            "tensors, numbers, strings, None and lists, tuples or dicts of them; "
            "convert it (a NumPy array with torch.from_numpy(a) or a.tolist()). "
            "Nothing was written."
        )


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write a training checkpoint atomically.

    The file holds ``{"format": FORMAT, "format_version": FORMAT_VERSION, **state}``.
    It is written to a hidden temporary file in the same folder, flushed to disk
    and renamed onto ``path``; if anything fails (including Ctrl-C) the temporary
    file is removed and an existing checkpoint at ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file; its folder must exist.
    state : dict
        What to store: tensors, numbers, strings, ``None`` and lists, tuples or
        dicts of them (state dicts of models, optimisers and schedulers,
        ``torch.Generator.get_state()``, a ``run`` dict for
        :func:`load_checkpoint` ...). ``"format"`` and ``"format_version"`` keys
        in ``state``, as in a dict returned by :func:`load_checkpoint`, are
        replaced by the current ones.

    Raises
    ------
    TypeError
        If ``state`` is not a dict or holds a value that
        ``torch.load(weights_only=True)`` cannot read back, such as a NumPy
        array; nothing is written.
    FileNotFoundError
        If the folder of ``path`` does not exist.
    OSError
        If writing fails (a full disk, for example); the old checkpoint is kept.

    Examples
    --------
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> model = torch.nn.Linear(3, 2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "checkpoint.pt"
    ...     save_checkpoint(path, {"epoch": 1, "model": model.state_dict()})
    ...     save_checkpoint(path, {"epoch": 2, "model": model.state_dict()})
    ...     print(sorted(p.name for p in Path(d).iterdir()))  # no temporary files
    ...     print(load_checkpoint(path, run={})["epoch"])
    ['checkpoint.pt']
    2
    """
    target = _as_path(path, "save_checkpoint")
    if not isinstance(state, dict):
        raise TypeError(
            f"The 'state' of save_checkpoint must be a dict. Got "
            f"{type(state).__name__} instead. Nothing was written."
        )
    payload = {k: v for k, v in state.items() if k not in ("format", "format_version")}
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}
    _check_storable(payload, "state")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Cannot save the checkpoint {target}: the folder {folder} does not "
            "exist. Nothing was written."
        )
    _files.write_atomic(target, lambda file: torch.save(payload, file))


def _describe(obj: Any) -> str:
    if not isinstance(obj, dict):
        return f"a {type(obj).__module__}.{type(obj).__qualname__}"
    keys = list(obj)
    if len(keys) <= 8:
        return f"a dict with keys {short_repr(keys)}"
    return f"a dict with {len(keys)} keys, starting {keys[:8]!r}"


def _same(a: Any, b: Any) -> bool:
    """Equality of run values; lists equal tuples with the same items."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    try:
        return bool(a == b)
    except Exception:  # an exotic value whose == is not a bool
        return False


def _run_differences(run: dict[str, Any], saved: Any) -> list[str]:
    if not isinstance(saved, dict):
        return [f"run: a dict here, {_describe(saved)} in the checkpoint"]
    missing = object()
    lines = []
    for key in list(run) + [k for k in saved if k not in run]:
        here, there = run.get(key, missing), saved.get(key, missing)
        if here is missing or there is missing or not _same(here, there):
            if key == "data_blocks" and here is not missing and there is not missing:
                lines.append(_block_differences(here, there))
                continue
            here_text = "absent" if here is missing else short_repr(here, 80)
            there_text = "absent" if there is missing else short_repr(there, 80)
            lines.append(f"{key}: {here_text} here, {there_text} in the checkpoint")
    return lines


def _block_differences(here: Any, there: Any) -> str:
    """Say which rows of the data differ, from two runs' block digests."""
    try:
        rows = int(here["rows"])
        pairs = zip(here["digests"], there["digests"], strict=False)
        if rows != int(there["rows"]):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        return "data: other series than the checkpoint's (not the same blocks)"
    differ = [i for i, (a, b) in enumerate(pairs) if a != b]
    if not differ:
        return "data: other series than the checkpoint's (not the same number)"
    first, last = differ[0] * rows, (differ[-1] + 1) * rows - 1
    return (
        f"data: the series differ from the checkpoint's in rows {first} to {last} "
        f"({len(differ)} block(s) of {rows} row(s))"
    )


def _read(target: Path) -> Any:
    if not target.exists():
        raise FileNotFoundError(f"No checkpoint at {target}: the file does not exist.")
    if target.is_dir():
        model = " (a model folder written by ContrastiveEncoder.save)"
        hint = model if (target / "config.json").exists() else ""
        raise ValueError(
            f"{target} is a directory{hint}, not a checkpoint file. A checkpoint "
            "is one file such as run/checkpoint.pt; a model saved with "
            "ContrastiveEncoder.save is a folder read with tscl.load."
        )
    data = _files.read_bounded(target, MAX_CHECKPOINT_BYTES, "checkpoint")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        reason = _files.load_error_reason(err, target)
        raise ValueError(
            f"{target} is not a readable tscl checkpoint ({reason}): it may be "
            "truncated, corrupt or from another program. Nothing was overwritten; "
            "delete it to start again, or pass another checkpoint path."
        ) from None


def load_checkpoint(
    path: str | os.PathLike[str], run: dict[str, Any]
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` and check it fits the run.

    Reading uses ``torch.load(path, map_location="cpu", weights_only=True)``, which
    never runs code from the file. The file is never modified.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file.
    run : dict
        The settings of the run that wants to resume (flat, JSON-like values).
        They must equal the checkpoint's ``"run"`` entry; lists and tuples with
        equal items count as equal.

    Returns
    -------
    dict
        Everything that was saved, plus ``"format"`` and ``"format_version"``;
        tensors are on the CPU.

    Raises
    ------
    TypeError
        If ``path`` is not path-like or ``run`` is not a dict.
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If ``path`` is a directory; if the file is truncated, corrupt, not a tscl
        checkpoint or written by a newer tscl; or if its run differs from ``run``
        (the message lists every differing key).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> run = {"method": "simclr", "batch_size": 64, "shape": [100, 1, 128]}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "checkpoint.pt"
    ...     save_checkpoint(path, {"epoch": 5, "run": run})
    ...     print(load_checkpoint(path, run)["epoch"])
    ...     try:
    ...         load_checkpoint(path, {**run, "batch_size": 32})
    ...     except ValueError as err:
    ...         print(str(err).splitlines()[1])
    5
      batch_size: 32 here, 64 in the checkpoint
    """
    target = _as_path(path, "load_checkpoint")
    if not isinstance(run, dict):
        raise TypeError(
            f"The 'run' of load_checkpoint must be a dict of the run's settings. "
            f"Got {type(run).__name__} instead."
        )
    state = _read(target)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            f"{target} is not a tscl checkpoint: it holds {_describe(state)}, "
            f"without format={short_repr(FORMAT)}. Checkpoints are written during "
            "training "
            "(save_checkpoint); a model saved with ContrastiveEncoder.save is a "
            "folder read with tscl.load, not a checkpoint. Nothing was overwritten; "
            "pass another checkpoint path."
        )
    version = state.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(
            f"{target} has an invalid checkpoint format_version {short_repr(version)} "
            f"(expected an integer from 1 to {FORMAT_VERSION}); it may be corrupt. "
            "Nothing was overwritten; delete it to start again."
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{target} was written by a newer tscl (checkpoint format version "
            f"{version}; this tscl reads up to {FORMAT_VERSION}). Upgrade tscl "
            "(pip install -U tscl) to resume from it, or pass another path."
        )
    saved_run = state.get("run", {})
    if (
        "data_blocks" in run
        and isinstance(saved_run, dict)
        and saved_run
        and "data_blocks" not in saved_run
    ):
        raise ValueError(
            f"{target} was written by an older tscl: its record of the run has no "
            "block digests of the data, which this tscl compares before resuming "
            "(to be sure the series are the same). Finish that run with the tscl "
            "that started it, or delete the checkpoint to start again. Nothing "
            "was overwritten."
        )
    differences = _run_differences(run, saved_run)
    if differences:
        raise ValueError(
            f"{target} was saved by a different run:\n  "
            + "\n  ".join(differences)
            + "\nResume with the same settings and data, or pass another "
            "checkpoint path."
        )
    return state
