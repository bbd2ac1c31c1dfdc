"""Real ECG windows for ``throughput.py``: MIT-BIH lead 0 and PTB's 12 leads.

Imported by name like ``_common`` (the scripts put their own folder on
``sys.path``).
"""

from __future__ import annotations

import numpy as np
from _common import ROOT, SHARED_DATA

from tscl.datasets import load_wfdb_windows, sliding_windows

MITDB_RECORDS = ["100", "104", "106", "108", "113", "121", "202", "223", "231", "232"]
PTB_RECORD = "ecg/ptbdb/s0010_re"
PTB_LEADS = ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]


def windows(shape: tuple[int, int, int], n: int, seed: int = 0) -> np.ndarray:
    """``n`` real windows of ``shape[1:]``, standardised per channel, float32."""
    _, channels, length = shape
    if channels == 1:
        full = SHARED_DATA / "ecg" / "mitdb"
        folder = full if full.is_dir() else ROOT / "datasets" / "mitdb"
        parts = [
            load_wfdb_windows(folder / r, window_s=length / 360.0, channels=0)
            for r in MITDB_RECORDS
        ]
        X = np.concatenate(parts)
        if len(X) < n:
            raise SystemExit(
                f"throughput.py: error: {folder} gives {len(X)} windows of "
                f"{length}; {n} are needed. Lower --steps."
            )
        X = X[np.sort(np.random.default_rng(seed).choice(len(X), n, replace=False))]
    else:
        path = SHARED_DATA / PTB_RECORD
        if not path.with_suffix(".hea").is_file():
            raise SystemExit(
                f"throughput.py: error: the 12-lead shape reads {path}.hea, which "
                "is missing (PTB patient 001, PhysioNet ptbdb)."
            )
        signal = load_wfdb_windows(path, window_s=38.4, channels=PTB_LEADS)[0]
        if channels != len(PTB_LEADS):
            raise SystemExit(f"throughput.py: error: PTB has 12 leads; got {shape}")
        stride = max(1, (signal.shape[1] - length) // max(n - 1, 1))
        X = sliding_windows(signal, length, stride)[:n]
        if len(X) < n:
            raise SystemExit(
                f"throughput.py: error: 38.4 s of PTB give {len(X)} windows of "
                f"{length}; {n} are needed. Lower --steps."
            )
    mean = X.mean(axis=(0, 2), keepdims=True)
    scale = X.std(axis=(0, 2), keepdims=True) + 1e-8
    return ((X - mean) / scale).astype(np.float32)
