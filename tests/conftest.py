"""Fixtures shared by the training tests: real ECG windows and one torch thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

RECORD = Path(__file__).resolve().parents[1] / "datasets" / "mitdb" / "100"


def _windows(n: int = 40, length: int = 128, step: int = 3) -> np.ndarray:
    """``n`` windows of MIT-BIH record 100 (MLII), every ``step``-th sample."""
    wfdb = pytest.importorskip("wfdb")
    record = wfdb.rdrecord(str(RECORD), channels=[0], sampto=n * length * step)
    signal = record.p_signal[:, 0].astype(np.float32)
    return np.ascontiguousarray(signal[::step].reshape(n, 1, length))


@pytest.fixture(scope="session")
def mitdb_windows() -> Callable[..., np.ndarray]:
    """Return `windows(n=40, length=128, step=3)`: real ECG of shape (n, 1, length)."""
    return _windows


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Train tiny models on one thread: on a shared CPU, two spin and wait."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
