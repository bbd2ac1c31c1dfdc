"""Draw the figures of docs/benchmarks.md from the benchmarks' JSON lines.

* ``ucr_accuracy.png`` and ``uea_accuracy.png``: accuracy per dataset under
  TS2Vec's SVM protocol, tscl's models beside the TS2Vec reference run in the
  same benchmark and T-Loss (published), and tscl's default against the
  reference per dataset, from ``ucr.jsonl`` and ``uea.jsonl``;
* ``ecg_label_fractions.png``: macro-F1 against the share of labels, one panel
  per ECG label-fraction task, mean ± std over seeds, from ``ecg.jsonl``;
* ``cinc2017_label_fractions.png``: the Challenge F1 against the share of labels
  of each row of the Challenge 2017 benchmark, mean ± std over folds, from
  ``cinc2017.jsonl``.

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


def plot_archive(results: Path, out: Path, archive: str) -> Path:
    """Per dataset: tscl's default against the TS2Vec reference, and T-Loss.

    Left, the mean accuracy of each model per dataset; right, tscl's default
    against the reference, one point per dataset (above the diagonal: tscl
    better).
    """
    import _archive
    import matplotlib.pyplot as plt

    rows = _latest(results / f"{archive}.jsonl", ("dataset", "model", "seed"))
    names = sorted({r["dataset"] for r in rows})
    models = list(dict.fromkeys(r["model"] for r in rows))
    t_loss = _archive.published(f"t_loss_{archive}")

    def mean(model: str, name: str) -> float:
        found = [
            r["accuracy"] for r in rows if r["model"] == model and r["dataset"] == name
        ]
        return float(np.mean(found)) if found else np.nan

    fig, (bars, scatter) = plt.subplots(
        1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [2.2, 1]}
    )
    x = np.arange(len(names))
    columns = [*models, "T-Loss (published)"]
    width = 0.8 / len(columns)
    for i, label in enumerate(columns):
        heights = [
            t_loss.get(n, np.nan) if i == len(models) else mean(label, n) for n in names
        ]
        bars.bar(x + (i - (len(columns) - 1) / 2) * width, heights, width, label=label)
    bars.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    bars.set_ylim(0.3, 1.02)
    bars.set_ylabel("test accuracy (mean over seeds)")
    bars.legend(loc="lower left", fontsize=8)
    bars.set_title(f"{archive.upper()}, official splits, TS2Vec's SVM protocol")
    if {"default", "reference"} <= set(models):
        ref = [mean("reference", n) for n in names]
        ours = [mean("default", n) for n in names]
        scatter.scatter(ref, ours, s=18)
        for n, a, b in zip(names, ref, ours, strict=True):
            scatter.annotate(
                n, (a, b), fontsize=6, xytext=(2, 2), textcoords="offset points"
            )
        low = np.nanmin([*ref, *ours]) - 0.02
        scatter.plot([low, 1], [low, 1], color="grey", linewidth=0.8)
        scatter.set_xlabel("TS2Vec reference (official code)")
        scatter.set_ylabel("tscl default")
        scatter.set_title("per dataset: above the line, tscl wins", fontsize=10)
    fig.tight_layout()
    path = out / f"{archive}_accuracy.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_ecg(results: Path, out: Path) -> Path:
    import matplotlib.pyplot as plt

    rows = [
        json.loads(line)
        for line in (results / "ecg.jsonl").read_text().splitlines()
        if '"fraction"' in line  # the label-fraction tasks, not the DS1/DS2 one
    ]
    rows = list({(r["task"], r["method"], r["fraction"], r["seed"]): r
                 for r in rows}.values())  # fmt: skip
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


def plot_cinc2017(results: Path, out: Path) -> Path:
    """Challenge F1 against the share of labels, mean ± std over the folds."""
    import matplotlib.pyplot as plt

    rows = _latest(results / "cinc2017.jsonl", ("fold", "row", "fraction", "draw"))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for row in dict.fromkeys(r["row"] for r in rows):
        fractions = sorted({r["fraction"] for r in rows if r["row"] == row})
        per_fold = [
            [
                np.mean(
                    [
                        r["f1"]
                        for r in rows
                        if (r["row"], r["fraction"], r["fold"]) == (row, f, k)
                    ]
                )  # fmt: skip
                for k in sorted({r["fold"] for r in rows if r["row"] == row})
                if any(
                    (r["row"], r["fraction"], r["fold"]) == (row, f, k) for r in rows
                )
            ]
            for f in fractions
        ]
        ax.errorbar(
            np.array(fractions) * 100,
            [np.mean(v) for v in per_fold],
            yerr=[np.std(v) for v in per_fold],
            marker="o",
            capsize=3,
            label=row,
            linestyle="--" if "boosted" in row else "-",
        )
    ax.set_xscale("log")
    ax.set_xticks([1, 10, 100], ["1%", "10%", "100%"])
    ax.set_xlabel("labels of the training folds")
    ax.set_ylabel("Challenge F1 (mean of N, A, O)")
    folds = sorted({r["fold"] for r in rows})
    ran = "all 5 folds" if len(folds) == 5 else f"test fold(s) {folds} of 5"
    ax.set_title(f"PhysioNet/CinC 2017, 7,527 records, {ran}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "cinc2017_label_fractions.png"
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
    draws = {
        "ucr.jsonl": lambda r, o: plot_archive(r, o, "ucr"),
        "uea.jsonl": lambda r, o: plot_archive(r, o, "uea"),
        "ecg.jsonl": plot_ecg,
        "cinc2017.jsonl": plot_cinc2017,
    }
    for name, draw in draws.items():
        if (args.results / name).is_file():
            paths.append(draw(args.results, args.out))
            print(f"Wrote {paths[-1]}")
        else:
            print(f"{args.results / name} is absent: run its benchmark first")
    return paths


if __name__ == "__main__":
    main()
