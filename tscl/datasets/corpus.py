"""Corpora larger than memory: windows streamed into one memory-mapped ``.npy`` file.

:func:`write_corpus` appends window arrays (one record at a time, say) to a
``.npy`` file without ever holding them together in memory; :func:`load_corpus`
opens it memory-mapped. :meth:`tscl.ContrastiveEncoder.fit` and ``transform``
read a memory-mapped array batch by batch: the corpus is never copied into
memory, and its pages are file cache that the operating system can drop. See
the data guide for the measured peak memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from tscl import _files

__all__ = ["load_corpus", "write_corpus"]

#: Bytes copied per read when the temporary file becomes the ``.npy`` file.
_COPY_BYTES = 1 << 24


def write_corpus(
    path: str | os.PathLike[str],
    chunks: Iterable[Any],
    *,
    dtype: Any = np.float32,
) -> np.memmap:
    """Stream arrays of windows into one ``.npy`` file and open it memory-mapped.

    Each chunk is converted to ``dtype`` and appended to a temporary file next to
    ``path``; at the end the ``.npy`` header is written and the file renamed to
    ``path``, so an interrupted run leaves no half-written corpus under
    ``path``. Memory use is one chunk at a time.

    Parameters
    ----------
    path : str or path
        The ``.npy`` file to write. An existing file is replaced only once the
        new one is complete.
    chunks : iterable of array-like of shape (n_i, n_channels, n_timesteps) \
or (n_i, n_timesteps)
        Windows, e.g. ``load_wfdb_windows(record)`` for one record at a time
        from a generator. Every chunk must have the first chunk's trailing shape;
        empty chunks (``n_i = 0``) are skipped.
    dtype : {np.float32, np.float64}, default=np.float32
        Stored dtype; float32 halves the file and is what training uses.

    Returns
    -------
    numpy.memmap of shape (n_windows, ...)
        The corpus opened read-only, as :func:`load_corpus` returns it.

    Raises
    ------
    ValueError
        If ``chunks`` is empty, a chunk has the wrong rank or trailing shape, or
        holds NaN or inf (the message names the chunk), or ``dtype`` is not a
        float dtype.

    Examples
    --------
    >>> import tempfile
    >>> from tscl.datasets import load_wfdb_windows
    >>> records = ["datasets/mitdb/100", "datasets/mitdb/106"]
    >>> chunks = (load_wfdb_windows(r, fs=100.0, window_s=5.0) for r in records)
    >>> corpus = write_corpus(Path(tempfile.mkdtemp()) / "mitdb.npy", chunks)
    >>> corpus.shape, corpus.dtype
    ((240, 2, 500), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be np.float32 or np.float64; got {dtype}. Training reads "
            "float32, so float32 is the usual choice."
        )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    shape: tuple[int, ...] | None = None
    count = 0
    try:
        with tmp.open("wb") as raw:
            for index, chunk in enumerate(chunks):
                array = np.ascontiguousarray(chunk, dtype=dtype)
                shape = _check_chunk(array, index, shape)
                if array.shape[0]:
                    if not np.isfinite(array).all():
                        raise ValueError(
                            f"Chunk {index} holds NaN or inf; fill or drop those "
                            "windows first (tscl does not impute)."
                        )
                    raw.write(array.tobytes())
                    count += array.shape[0]
        if shape is None or count == 0:
            raise ValueError(
                "chunks held no windows; pass at least one non-empty array of shape "
                "(n_windows, n_channels, n_timesteps)."
            )
        _finish_npy(tmp, path, (count, *shape), dtype)
    finally:
        tmp.unlink(missing_ok=True)
    return load_corpus(path)


def _check_chunk(
    array: np.ndarray, index: int, shape: tuple[int, ...] | None
) -> tuple[int, ...]:
    if array.ndim not in (2, 3):
        raise ValueError(
            f"Chunk {index} has shape {array.shape}; expected (n_windows, "
            "n_channels, n_timesteps) or (n_windows, n_timesteps)."
        )
    if shape is not None and array.shape[1:] != shape:
        raise ValueError(
            f"Chunk {index} has windows of shape {array.shape[1:]}, but the first "
            f"chunk's are {shape}. Cut every record to the same window length and "
            "channels."
        )
    return tuple(array.shape[1:])


def _finish_npy(
    tmp: Path, path: Path, shape: tuple[int, ...], dtype: np.dtype[Any]
) -> None:
    """Write the ``.npy`` header and ``tmp``'s data to ``path``, atomically."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}

    def write(out: IO[bytes]) -> None:
        np.lib.format.write_array_header_2_0(out, {**header, "shape": shape})
        with tmp.open("rb") as raw:
            while block := raw.read(_COPY_BYTES):
                out.write(block)

    _files.write_atomic(path, write)


def load_corpus(path: str | os.PathLike[str]) -> np.memmap:
    """Open a ``.npy`` corpus memory-mapped, read-only, and check its layout.

    Parameters
    ----------
    path : str or path
        A file written by :func:`write_corpus` or :func:`numpy.save`.

    Returns
    -------
    numpy.memmap of shape (n_windows, n_channels, n_timesteps) or \
(n_windows, n_timesteps)
        Nothing is read until it is indexed; pass it to
        :meth:`tscl.ContrastiveEncoder.fit` as it is.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a 2-D or 3-D float32/float64 array.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "toy.npy"
    >>> np.save(path, np.zeros((4, 1, 16), dtype=np.float32))
    >>> load_corpus(path).shape
    (4, 1, 16)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Corpus file {path} does not exist"
            + (" (it is a folder; pass the .npy file in it)." if path.is_dir() else ".")
        )
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.ndim not in (2, 3) or array.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{path} holds a {array.ndim}-D {array.dtype} array of shape "
            f"{array.shape}; a corpus is (n_windows, n_channels, n_timesteps) or "
            "(n_windows, n_timesteps) float32 or float64. Rewrite it with "
            "write_corpus."
        )
    return array
