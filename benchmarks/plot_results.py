"""Draw the figures of docs/benchmarks.md from the benchmarks' JSON lines.

* ``ucr_accuracy.png``: accuracy per UCR dataset under TS2Vec's SVM protocol,
  tscl beside TS2Vec (this CPU) and T-Loss (published), from ``ucr.jsonl``;
* ``ecg_label_fractions.png``: macro-F1 against the share of labels, one panel
  per ECG task, mean ± std over seeds, from ``ecg.jsonl``.

Usage::

    python benchmarks/plot_results.py            # reads benchmarks/results/
    python benchmarks/plot_results.py --out docs/images

Needs matplotlib (``pip install tscl[plot]``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT  # noqa: E402


def _latest(path: Path, key: tuple[str, ...]) -> list[dict]:
    """Rows of a JSON lines file, the last one of each ``key`` combination."""
    rows: dict[tuple, dict] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        rows[tuple(row[k] for k in key)] = row
    return list(rows.values())


def plot_ucr(results: Path, out: Path) -> Path:
    import matplotlib.pyplot as plt
    from ucr import T_LOSS, TS2VEC_THIS_CPU

    rows = _latest(results / "ucr.jsonl", ("dataset", "seed"))
    names = sorted({r["dataset"] for r in rows})
    ours = [np.mean([r["accuracy"] for r in rows if r["dataset"] == n]) for n in names]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.bar(x - 0.27, ours, 0.27, label="tscl default (SVM protocol)")
    ts2vec = [np.mean(TS2VEC_THIS_CPU.get(n, [np.nan])) for n in names]
    ax.bar(x, ts2vec, 0.27, label="TS2Vec, official code on this CPU")
    ax.bar(x + 0.27, [T_LOSS.get(n, np.nan) for n in names], 0.27, label="T-Loss")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0.3, 1.02)
    ax.set_ylabel("test accuracy")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("UCR, official splits, TS2Vec's SVM protocol")
    fig.tight_layout()
    path = out / "ucr_accuracy.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_ecg(results: Path, out: Path) -> Path:
    import matplotlib.pyplot as plt

    rows = _latest(results / "ecg.jsonl", ("task", "method", "fraction", "seed"))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    titles = {
        "challenge2017": "Challenge 2017 AF (macro-F1 over N, A, O)",
        "mitdb100_beats": "MIT-BIH record 100 beats, N vs S",
    }
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.6))
    for ax, task in zip(np.atleast_1d(axes), tasks, strict=True):
        mine = [r for r in rows if r["task"] == task]
        for method in dict.fromkeys(r["method"] for r in mine):
            fractions = sorted({r["fraction"] for r in mine if r["method"] == method})
            scores = [
                [
                    r["macro_f1"]
                    for r in mine
                    if r["method"] == method and r["fraction"] == f
                ]
                for f in fractions
            ]
            ax.errorbar(
                np.array(fractions) * 100,
                [np.mean(s) for s in scores],
                yerr=[np.std(s) for s in scores],
                marker="o",
                capsize=3,
                label=method,
            )
        ax.set_xscale("log")
        ax.set_xlabel("labelled training series (%)")
        ax.set_ylabel("macro-F1")
        ax.set_title(titles.get(task, task), fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "ecg_label_fractions.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in (("ucr.jsonl", plot_ucr), ("ecg.jsonl", plot_ecg)):
        if (args.results / name).is_file():
            paths.append(draw(args.results, args.out))
            print(f"Wrote {paths[-1]}")
        else:
            print(f"{args.results / name} is absent: run its benchmark first")
    return paths


if __name__ == "__main__":
    main()
