"""Peak memory of pretraining on a memory-mapped corpus against one held in memory.

Builds a corpus of short overlapping ECG windows (0.25 s every 0.05 s at 360
Hz, both leads: many small windows, so that one epoch is mostly reading and
per-step overhead) from the MIT-BIH records with
:func:`tscl.datasets.write_corpus` (one record in memory at a time), then runs
one epoch of :class:`tscl.ContrastiveEncoder` in a fresh process per mode:

* ``memmap``: ``fit(load_corpus(path))``: batches are read from the file;
* ``in memory``: ``fit(np.load(path))``: the corpus is loaded first, as a user
  without the memory map would.

Each child reports its peak resident memory (``VmHWM``, which counts the
corpus's file pages the memory map has touched: page cache that the kernel can
drop under pressure) and its peak anonymous memory (``RssAnon`` sampled every
10 ms: what the process cannot give back), both in MiB.

Usage::

    python benchmarks/corpus_memory.py                  # 0.26 GB corpus
    python benchmarks/corpus_memory.py --stride-s 0.01  # 1.3 GB
    python benchmarks/corpus_memory.py --quick         # shipped records, seconds

Results: ``benchmarks/results/corpus_memory.jsonl`` and ``corpus_memory.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    context,
    describe,
    table,
    write_results,
)

RECORDS = ["100", "104", "106", "108", "113", "121", "202", "223", "231", "232"]
MODEL = {
    "method": "simclr",  # the recipe the memory figures were measured with
    "encoder": "cnn",
    "n_components": 32,
    "n_epochs": 1,
    "batch_size": 256,
    "encoder_params": {"hidden_dim": 16, "depth": 3},
    "random_state": 0,
}


def _status(field: str) -> float:
    """A ``/proc/self/status`` field in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(path: str, mode: str) -> None:
    """Fit one epoch in this process and print its peak memory as JSON."""
    import tscl
    from tscl.datasets import load_corpus

    peak = {"anon": _status("RssAnon")}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak["anon"] = max(peak["anon"], _status("RssAnon"))

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    X = load_corpus(path) if mode == "memmap" else np.load(path)
    tscl.ContrastiveEncoder(**MODEL).fit(X)
    done.set()
    watcher.join()
    print(
        json.dumps(
            {
                "mode": mode,
                "peak_rss_mib": _status("VmHWM"),
                "peak_anon_mib": peak["anon"],
                "seconds": time.perf_counter() - start,
            }
        )
    )


def build(args: argparse.Namespace, folder: Path) -> Path:
    from tscl.datasets import load_wfdb_windows, write_corpus

    records = [args.mitdb / r for r in RECORDS]
    chunks = (
        load_wfdb_windows(r, window_s=args.window_s, stride_s=args.stride_s)
        for r in records
    )
    start = time.perf_counter()
    corpus = write_corpus(folder / "corpus.npy", chunks)
    print(
        f"corpus: {corpus.shape} float32, {corpus.nbytes / 2**20:.0f} MiB, written "
        f"in {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return folder / "corpus.npy"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mitdb", type=Path, default=None)
    parser.add_argument("--window-s", type=float, default=0.25)
    parser.add_argument("--stride-s", type=float, default=0.05)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/corpus_memory.jsonl"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return []
    if args.mitdb is None:
        full = SHARED_DATA / "ecg" / "mitdb"
        shipped = ROOT / "datasets" / "mitdb"
        args.mitdb = full if full.is_dir() and not args.quick else shipped
    if args.quick:
        args.stride_s = max(args.stride_s, 1.0)
    run_context = context("cpu")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = build(args, Path(tmp))
        shape = list(np.load(path, mmap_mode="r").shape)
        for mode in ("memmap", "in memory"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path), mode],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = {
                **json.loads(out.strip().splitlines()[-1]),
                "corpus_shape": shape,
                "corpus_mib": path.stat().st_size / 2**20,
                "model": MODEL,
                **run_context,
            }
            print(
                f"{mode:10s} peak RSS {row['peak_rss_mib']:.0f} MiB, peak anonymous "
                f"{row['peak_anon_mib']:.0f} MiB, {row['seconds']:.0f} s",
                flush=True,
            )
            rows.append(row)
    header = (
        f"Pretraining memory, 1 epoch on a {rows[0]['corpus_mib']:.0f} MiB corpus "
        f"{tuple(shape)} of MIT-BIH windows from {args.mitdb}; {describe(run_context)}"
    )
    body = [
        [
            r["mode"],
            f"{r['peak_anon_mib']:.0f}",
            f"{r['peak_rss_mib']:.0f}",
            f"{r['seconds']:.0f}",
        ]
        for r in rows
    ]
    columns = ["corpus passed as", "peak anonymous MiB", "peak RSS MiB", "seconds"]
    write_results(rows, args.out, header + "\n\n" + table(columns, body) + "\n")
    return rows


if __name__ == "__main__":
    main()
