"""The TS2Vec classification protocol on UCR datasets, beside published figures.

For each dataset (UCR archive 2018, official train/test split) the default
:class:`tscl.ContrastiveEncoder` (SimCLR on the dilated CNN, every parameter at
its default unless ``--epochs`` is given) pretrains on the training split
without labels. Its representations of both splits are then scored with the
protocol of TS2Vec (Yue et al. 2022, arXiv:2106.10466), as its code runs it:
an RBF SVC on the raw representations, ``C`` chosen among ``10**-4 ... 10**4``
and ``inf`` by 5-fold cross-validation on the training split, or ``C=inf``
without a search when the split has fewer than 50 series or fewer than 5 per
class (:func:`tscl.evaluation.svm_probe` with ``protocol="ts2vec"``).

Variable-length series (PLAID) and gaps (DodgerLoopDay) are filled with
``load_ucr(..., missing="resample")``: gaps interpolated, each series stretched
to the dataset's full length.

Beside our accuracy the table gives, where known:

* ``TS2Vec (this CPU)``: TS2Vec's official code run on this project's 2-core
  CPU with its UCR settings (batch 8, 320 dimensions, 200 iterations), three
  seeds; the figures come with the project's issue 5 and trained at 16-60
  samples/s;
* ``T-Loss``: the published accuracies of Franceschi et al. (NeurIPS 2019),
  column ``Ours(10)`` of ``results_ucr.csv`` in
  github.com/White-Link/UnsupervisedScalableRepresentationLearningTimeSeries
  (commit f2a5c1a), the column the TS2Vec paper's T-Loss figures match.

TS2Vec's own per-dataset table (the paper's appendix) was not available to us
in a readable, citable source, so it is not quoted.

Also recorded per run: fit time, training throughput in series per second
(``n_train * epochs / fit time``; each series gives two views), and the time
to encode both splits.

Usage::

    python benchmarks/ucr.py --root ../shared/data/ucr --all --seeds 3
    python benchmarks/ucr.py --root DIR --datasets GunPoint ArrowHead
    python benchmarks/ucr.py --quick          # seconds: ECG200 shipped in datasets/

Results are appended as JSON lines to ``--out`` (default
``benchmarks/results/ucr.jsonl``); the markdown table goes beside it
(``ucr.md``) and is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import tscl
from tscl.datasets import data_home, load_ucr
from tscl.evaluation import svm_probe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    append_row,
    cell,
    check_run_arguments,
    context,
    describe,
    table,
    threads,
    write_results,
)

#: TS2Vec's official code on this project's CPU (batch 8, 320 dims, 200
#: iterations), three seeds, as given with issue 5.
TS2VEC_THIS_CPU = {
    "GunPoint": [0.980, 0.980, 0.987],
    "ItalyPowerDemand": [0.955, 0.960, 0.960],
    "ArrowHead": [0.846, 0.823, 0.846],
}
#: T-Loss, published (results_ucr.csv, column "Ours(10)"); DodgerLoopDay has none.
T_LOSS = {
    "ArrowHead": 0.766,
    "Coffee": 1.0,
    "ECG200": 0.94,
    "ECG5000": 0.933,
    "ECGFiveDays": 1.0,
    "GunPoint": 0.98,
    "ItalyPowerDemand": 0.954,
    "PLAID": 0.555,
    "Strawberry": 0.954,
    "SyntheticControl": 0.987,
    "TwoLeadECG": 0.999,
}
QUICK = {"epochs": 1, "encoder_params": {"hidden_dim": 8, "depth": 2}}


def run_one(name: str, data: tuple, args: argparse.Namespace, seed: int) -> dict:
    """Pretrain, encode and score one dataset with one seed."""
    X_train, y_train, X_test, y_test = data
    params: dict = {"device": args.device, "random_state": seed}
    if args.epochs is not None:
        params["n_epochs"] = args.epochs
    if args.quick:
        params["encoder_params"] = QUICK["encoder_params"]
    model = tscl.ContrastiveEncoder(**params)
    start = time.perf_counter()
    model.fit(X_train)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    encode_time = time.perf_counter() - start
    result = svm_probe(
        Z_train, y_train, Z_test, y_test, protocol="ts2vec", random_state=seed
    )
    return {
        "dataset": name,
        "seed": seed,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "length": X_train.shape[-1],
        "n_classes": len(np.unique(y_train)),
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "svm_C": _chosen_C(result["model"]),
        "fit_time_s": fit_time,
        "samples_per_s": len(X_train) * model.n_epochs / fit_time,
        "encode_time_s": encode_time,
        "n_epochs": model.n_epochs,
        "final_loss": model.history_["loss"][-1],
        "params": {k: v for k, v in params.items() if k != "random_state"},
    }


def _chosen_C(model: object) -> float:
    last = model[-1] if hasattr(model, "__getitem__") else model  # type: ignore[index]
    best = getattr(last, "best_params_", None)
    return float(best["C"] if best else last.C)  # type: ignore[attr-defined]


def markdown(rows: list[dict], header: str) -> str:
    """Per-dataset accuracy and speed, then means over the datasets with figures."""
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    body, ours = [], {}
    for name in names:
        mine = [r for r in rows if r["dataset"] == name]
        ours[name] = float(np.mean([r["accuracy"] for r in mine]))
        body.append(
            [
                name,
                mine[0]["n_train"],
                mine[0]["length"],
                cell([r["accuracy"] for r in mine]),
                cell(TS2VEC_THIS_CPU.get(name, [])),
                cell([T_LOSS[name]] if name in T_LOSS else []),
                cell([r["fit_time_s"] for r in mine], 1),
                cell([r["samples_per_s"] for r in mine], 0),
            ]
        )
    columns = [
        "dataset",
        "train",
        "length",
        "tscl (SVM protocol)",
        "TS2Vec (this CPU)",
        "T-Loss (published)",
        "fit s",
        "series/s",
    ]
    lines = [header, "", table(columns, body), ""]
    for label, reference in (
        (
            "TS2Vec (this CPU)",
            {k: float(np.mean(v)) for k, v in TS2VEC_THIS_CPU.items()},
        ),
        ("T-Loss (published)", T_LOSS),
    ):
        shared = [n for n in names if n in reference]
        if shared:
            mine = np.mean([ours[n] for n in shared])
            theirs = np.mean([reference[n] for n in shared])
            wins = sum(ours[n] >= reference[n] for n in shared)
            lines.append(
                f"- Against {label} on {len(shared)} dataset(s): mean accuracy "
                f"{mine:.3f} vs {theirs:.3f} ({mine - theirs:+.3f}); at or above on "
                f"{wins} of {len(shared)}."
            )
    lines.append(
        f"- Mean over all {len(names)} dataset(s): {np.mean(list(ours.values())):.3f}."
    )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="folder of UCR datasets in the archive's layout (default: "
        f"{SHARED_DATA / 'ucr'} when present, else $TSCL_DATA or ~/tscl_data; "
        "datasets/ucr with --quick)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--datasets", nargs="+", help="dataset names")
    which.add_argument(
        "--all", action="store_true", help="every dataset folder found in --root"
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds 0 .. N-1 (default 3)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="pretraining epochs (default: the estimator's default; 1 with --quick)",
    )
    add_run_arguments(
        parser,
        "ucr",
        "a smoke test in seconds: shipped ECG200, 1 epoch, tiny CNN, 1 seed",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="train nothing: rebuild the table from every run in --out (the last "
        "row of each dataset and seed), e.g. after runs with different --datasets",
    )
    args = parser.parse_args(argv)
    if args.report:
        return args
    if args.quick:
        args.root = args.root or ROOT / "datasets" / "ucr"
        args.datasets = args.datasets or ["ECG200"]
        args.seeds, args.epochs = 1, args.epochs or QUICK["epochs"]
    if args.root is None:
        shared = SHARED_DATA / "ucr"
        args.root = shared if shared.is_dir() else data_home()
    check_run_arguments(parser, args, ("seeds", "epochs"))
    if args.all:
        args.datasets = (
            sorted(
                p.name
                for p in args.root.iterdir()
                if (p / f"{p.name}_TRAIN.tsv").is_file()
            )
            if args.root.is_dir()
            else []
        )
        if not args.datasets:
            parser.error(f"--all found no UCR dataset folder in {args.root}")
    if not args.datasets:
        parser.error("name the datasets with --datasets A B ... or pass --all")
    return args


def report(out: Path) -> list[dict]:
    """Rebuild the markdown table from every row in ``out``."""
    if not out.is_file():
        raise SystemExit(
            f"ucr.py: error: {out} does not exist; run the benchmark first"
        )
    latest = {}
    for line in out.read_text().splitlines():
        row = json.loads(line)
        latest[row["dataset"], row["seed"]] = row
    rows = sorted(latest.values(), key=lambda r: (r["dataset"], r["seed"]))
    header = (
        "UCR, TS2Vec's SVM protocol: default ContrastiveEncoder, the latest run of "
        f"each dataset and seed in {out.name}; {describe(rows[-1])}"
    )
    write_results(rows, out, markdown(rows, header), appended=True)
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if args.report:
        return report(args.out)
    data = {}
    for name in args.datasets:  # every dataset read first, so a missing one fails now
        try:
            data[name] = load_ucr(name, args.root, missing="resample")
        except (FileNotFoundError, ValueError) as exc:
            raise SystemExit(f"ucr.py: error: {exc}") from None
    with threads(args.threads):
        run_context = context(args.device)
        header = (
            f"UCR, TS2Vec's SVM protocol: default ContrastiveEncoder"
            f"{'' if args.epochs is None else f' with {args.epochs} epochs'}"
            f"{' (quick: tiny CNN)' if args.quick else ''}, {args.seeds} seed(s); "
            f"{describe(run_context)}"
        )
        print(header, flush=True)
        rows = []
        for name, split in data.items():
            for seed in range(args.seeds):
                row = {**run_one(name, split, args, seed), **run_context}
                print(
                    f"{name:20s} seed {seed}  accuracy {row['accuracy']:.3f}  "
                    f"fit {row['fit_time_s']:.1f} s ({row['samples_per_s']:.0f} "
                    "series/s)",
                    flush=True,
                )
                rows.append(row)
                append_row(row, args.out)  # a long run keeps what it has done
    write_results(rows, args.out, markdown(rows, header), appended=True)
    return rows


if __name__ == "__main__":
    main()
