"""Files that are whole or absent: the one atomic writer tscl uses.

Every file tscl writes (checkpoints, saved models, ``tscl embed`` output) goes
through :func:`write_atomic`: the bytes go to a hidden temporary file in the
target's folder, are flushed to disk, and the file is renamed onto the target
(``os.replace``, atomic on POSIX and Windows), after which the folder is flushed
too. A crash, a full disk or Ctrl-C leaves the old file (or none) and no
temporary file. New files get the permissions of any file the user creates
(``0o666`` less the umask); a replaced file keeps its mode.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import pickle
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "check_writable",
    "fsync_folder",
    "load_error_reason",
    "owner_alive",
    "replace_folder",
    "write_atomic",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename) to disk; best effort.

    Windows cannot open a folder, and some file systems refuse ``fsync`` on
    one: the rename is then as durable as the platform makes it.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder whose entries changed.

    Examples
    --------
    >>> import tempfile
    >>> fsync_folder(tempfile.gettempdir())
    """
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temporary(target: Path) -> tuple[int, Path]:
    """Create a new hidden file beside ``target``; the umask sets its mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        token = f"{os.getpid()}.{secrets.token_hex(6)}"  # see owner_alive
        tmp = target.with_name(f".{target.name}.{token}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def write_atomic(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]
) -> None:
    """Write a file so that ``path`` holds either the old bytes or all the new ones.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    write : callable
        ``write(file)`` writes the content to a binary file object, e.g.
        ``lambda f: torch.save(state, f)`` or ``lambda f: np.save(f, Z)``.

    Raises
    ------
    OSError
        If the folder is missing or not writable, or the disk is full; an
        existing file at ``path`` is then unchanged and no temporary file is
        left. Any exception from ``write`` (Ctrl-C included) also leaves the
        old file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "note.txt", lambda f: f.write(b"first"))
    >>> write_atomic(folder / "note.txt", lambda f: f.write(b"second"))
    >>> (folder / "note.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('second', ['note.txt'])
    """
    target = Path(path)
    mode = None
    with contextlib.suppress(OSError):
        mode = target.stat().st_mode & 0o7777  # a replaced file keeps its mode
    fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        cause = _os_error(err)
        if cause is not None and cause is not err:  # e.g. torch's zip writer
            raise cause from None  # failing after a full disk: report the disk
        raise
    fsync_folder(target.parent)


def _os_error(err: BaseException | None) -> OSError | None:
    """Return the first ``OSError`` in an exception's context chain, if any."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, OSError):
            return err
        err, seen = err.__context__, seen + 1
    return None


def load_error_reason(err: BaseException, path: Path) -> str:
    """Say in one line why ``torch.load(path, weights_only=True)`` failed.

    torch's own message advises retrying with ``weights_only=False``, which would
    run any code in the file; this one never does.

    Parameters
    ----------
    err : BaseException
        What ``torch.load`` raised.
    path : Path
        The file it read.

    Returns
    -------
    str
        E.g. ``"the file is empty"`` or ``"it holds objects that safe,
        weights-only loading refuses: ..."``.

    Examples
    --------
    >>> import tempfile
    >>> empty = Path(tempfile.mkdtemp()) / "encoder.pt"
    >>> _ = empty.write_bytes(b"")
    >>> load_error_reason(EOFError(), empty)
    'the file is empty'
    """
    text = _ANSI.sub("", str(err))
    if isinstance(err, pickle.UnpicklingError):
        detail = text.partition("WeightsUnpickler error:")[2]
        lines = [line.strip() for line in detail.splitlines() if line.strip()]
        reason = "it holds objects that safe, weights-only loading refuses"
        return f"{reason}: {lines[0].split('. ')[0]}" if lines else reason
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            return "the file is empty"
    if isinstance(err, EOFError):
        return "the file ends too early"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    first = lines[0].split(". ")[0]
    first = first if len(first) <= 160 else first[:157] + "..."
    return f"{type(err).__name__}: {first}"


def owner_alive(name: str) -> bool:
    """Whether the process that named a temporary ``.<name>.<pid>.<token>.tmp`` runs.

    Temporaries of a process that is gone (killed mid-write) can be removed;
    those of a running one (a concurrent save) must not.

    Parameters
    ----------
    name : str
        The temporary's file or folder name.

    Returns
    -------
    bool
        False when the name holds no pid or the pid is not running here.

    Examples
    --------
    >>> owner_alive(f".model.{os.getpid()}.ab12.tmp")
    True
    """
    try:
        pid = int(name.rsplit(".", 3)[-3])
    except (ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # the file system cannot exchange: rename aside instead
    raise OSError(code, os.strerror(code), str(b))


def replace_folder(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put the folder ``new`` at ``target``, replacing what is there at once.

    ``new`` is flushed to disk first. A missing or empty ``target`` is replaced
    by a rename; a full one is swapped with ``new`` in one step where the
    platform can (Linux), else renamed aside first (for an instant ``target``
    is then absent, its old content in ``.<name>.<pid>.<token>.old``), and the
    old content is removed.

    Parameters
    ----------
    new : str or os.PathLike
        A complete folder beside ``target`` (on the same file system).
    target : str or os.PathLike
        Where it belongs.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "model").mkdir(); _ = (root / "model" / "a").write_text("old")
    >>> (root / "next").mkdir(); _ = (root / "next" / "a").write_text("new")
    >>> replace_folder(root / "next", root / "model")
    >>> (root / "model" / "a").read_text(), sorted(p.name for p in root.iterdir())
    ('new', ['model'])
    """
    new, target = Path(new), Path(target)
    fsync_folder(new)
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        os.replace(new, target)
    elif _exchange(new, target):
        shutil.rmtree(new)  # it now holds the old folder
    else:
        aside = target.with_name(
            f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
        )
        os.rename(target, aside)
        os.rename(new, target)
        shutil.rmtree(aside, ignore_errors=True)
    fsync_folder(target.parent)


def check_writable(folder: str | os.PathLike[str]) -> None:
    """Raise a clear ``OSError`` unless a file can be created in ``folder``.

    Tries it (a hidden file, removed at once): permissions, read-only mounts
    and the like are caught before any work is done. A folder that does not
    exist yet is judged by its nearest existing parent.

    Parameters
    ----------
    folder : str or os.PathLike
        Where an output will be written.

    Raises
    ------
    OSError
        With the folder and the reason (``PermissionError`` for permissions).

    Examples
    --------
    >>> import tempfile
    >>> check_writable(tempfile.gettempdir())
    """
    path = Path(folder)
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    probe = existing / f".tscl-write-test.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        kind = PermissionError if isinstance(err, PermissionError) else OSError
        raise kind(
            f"Cannot write to {existing} ({err.strerror or err}); choose an output "
            "in a folder you can write to. Nothing was done."
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def read_bounded(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """Read a whole file that must be a regular file of at most ``limit`` bytes.

    Model folders and checkpoints are read through this, so that a file
    replaced by a link to a huge file, to ``/dev/zero`` or to a FIFO is refused
    with its name instead of exhausting memory or hanging: the file is checked
    with ``os.stat`` before it is opened, and no more than its size then is
    read.

    Parameters
    ----------
    path : str or os.PathLike
        The file (links are followed).
    limit : int
        The most bytes it may hold.
    what : str
        What the file is, for the message ("weights", "configuration").

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If the file is not a regular file or holds more than ``limit`` bytes.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.json").write_text("{}")
    >>> read_bounded(folder / "a.json", 10, "configuration")
    b'{}'
    >>> read_bounded("/dev/zero", 10, "configuration")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: /dev/zero is not a regular file (a character device), so it ...
    """
    file = Path(path)
    info = os.stat(file)
    if not stat.S_ISREG(info.st_mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a file")
        raise ValueError(
            f"{file} is not a regular file ({kind}), so it cannot be this model's "
            f"{what}; restore the file or save the model again."
        )
    if info.st_size > limit:
        raise ValueError(
            f"{file} holds {info.st_size:,} bytes, more than tscl reads as "
            f"{what} ({limit:,}); it is not a file tscl wrote. Restore the file or "
            "save the model again."
        )
    with open(file, "rb") as handle:  # read(n) allocates n bytes: ask for the size
        data = handle.read(info.st_size)
        grew = handle.read(1)
    if grew:
        raise ValueError(
            f"{file} grew while it was read (it held {info.st_size:,} bytes); it is "
            f"not a file tscl wrote as {what}. Stop what writes to it and try again."
        )
    return data


_FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}
