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
import os
import pickle
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["fsync_folder", "load_error_reason", "write_atomic"]

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
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
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
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(target.parent)


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
