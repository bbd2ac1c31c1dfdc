"""Self-supervised methods on five UCR datasets, judged by linear and SVM probes.

Every method registered in ``tscl.methods.METHODS`` (methods added later are
picked up) pretrains the same dilated CNN on the training split of each
dataset, without labels, except the methods that need labels
(``label_use = "required"``, e.g. SupCon), which get ``y_train`` and are marked
``supervised``; methods that can use labels but do not need them (triplet) run
self-supervised. The frozen representations of the training and test splits
are then scored on the official test split by two probes fitted on the
training split only:

* ``linear``: :func:`tscl.evaluation.linear_probe`, a logistic regression on
  standardised features, ``C`` chosen by stratified cross-validation;
* ``SVM``: :func:`tscl.evaluation.svm_probe`, the protocol of TS2Vec (Yue et
  al. 2022, arXiv:2106.10466): an RBF SVC on standardised features, ``C`` in
  ``10**-4 ... 10**4`` chosen by stratified cross-validation.

Two baselines per dataset tell whether pretraining helped:

* ``raw``: the probes on the series themselves (standardised with the training
  split's mean and standard deviation), one feature per time step. A method
  below it gives the probes less to work with than the series themselves.
* ``random encoder``: the same CNN, untrained (its initialisation seeded by the
  run's seed), on the same standardised series. Random convolutional
  features are often strong on short series; a method below it has made its
  encoder worse than its initialisation.

Datasets (UCR archive 2018, official splits): ECG200 (100 train / 100 test,
length 96), ECG5000 (500 / 4500, 140), ECGFiveDays (23 / 861, 136),
TwoLeadECG (23 / 1139, 82) and GunPoint (50 / 150, 150), read with
:func:`tscl.datasets.load_ucr` from ``--data`` (default ``../shared/data/ucr``
beside the repository; any folder in the archive's layout works).

The defaults (40 epochs, the CNN with 64 hidden channels and depth 6, 128
components, batch 64) cost each method about 2.5 minutes on a busy 2-core CPU
with ``--threads 1`` (ECG5000 takes 100 s of it; the eight methods registered
today cost within 30% of each other per epoch), so about 21 minutes for the
eight methods and the baselines; an idle 2-core CPU with 2 threads is about
1.6 times faster. On a CPU that other jobs share, pass ``--threads 1``: torch
and BLAS threads that wait on each other can make training and the probes 5
to 20 times slower.

Usage::

    python benchmarks/methods_ucr.py                          # all methods, CPU
    python benchmarks/methods_ucr.py --methods simclr,moco --datasets GunPoint
    python benchmarks/methods_ucr.py --seeds 3                # mean +- std
    python benchmarks/methods_ucr.py --threads 1              # on a shared CPU
    python benchmarks/methods_ucr.py --device cuda --epochs 200
    python benchmarks/methods_ucr.py --quick                  # seconds: a smoke test

Results are appended as JSON lines to ``--out`` (default
``benchmarks/results/methods_ucr.jsonl``), one per dataset, method and seed,
with the parameters, versions, git SHA and machine; the markdown tables of this
run (accuracies with mean ranks, and fit times) are written beside it
(``methods_ucr.md``) and printed. A method that fails is reported and recorded
with an ``error`` field; the other methods still run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

import tscl
from tscl import encoders, evaluation, methods
from tscl.datasets import load_ucr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    add_run_arguments,
    cell,
    check_run_arguments,
    context,
    describe,
    threads,
    write_results,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ucr"
DATASETS = ["ECG200", "ECG5000", "ECGFiveDays", "TwoLeadECG", "GunPoint"]
BASELINES = ["raw", "random encoder"]
#: Model and training settings: the default run, and --quick (a smoke test).
DEFAULTS = {"epochs": 40, "n_components": 128, "hidden_dim": 64, "depth": 6}
QUICK = {"epochs": 1, "n_components": 8, "hidden_dim": 8, "depth": 2}

#: Extra ``method_params`` per method name, for methods whose defaults do not
#: suit these small datasets (e.g. a smaller MoCo queue than the training split
#: allows). Empty: every method runs with its own defaults.
METHOD_PARAMS: dict[str, dict[str, Any]] = {}

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


# ------------------------------------------------------------------ one row


def standardise(X_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``X`` as ``(n, 1, T)`` float32, scaled by the training split's mean and std."""
    mean, std = X_train.mean(dtype=np.float64), X_train.std(dtype=np.float64)
    return ((X - mean) / (std if std > 1e-12 else 1.0)).astype(np.float32)[:, None]


def probes(Z_train: Any, y_train: Any, Z_test: Any, y_test: Any, seed: int) -> dict:
    """Accuracy (and chosen ``C``) of the linear and SVM probes."""
    row = {}
    for name, probe in (
        ("linear", evaluation.linear_probe),
        ("svm", evaluation.svm_probe),
    ):
        result = probe(Z_train, y_train, Z_test, y_test, random_state=seed)
        last = result["model"][-1]
        best = getattr(last, "best_params_", {"C": getattr(last, "C", None)})
        row[f"{name}_accuracy"] = result["accuracy"]
        row[f"{name}_macro_f1"] = result["macro_f1"]
        row[f"{name}_C"] = float(best["C"])
    return row


def raw_row(data: Data, args: argparse.Namespace, seed: int) -> dict:
    X_train, y_train, X_test, y_test = data
    Z_train = standardise(X_train, X_train)[:, 0]
    Z_test = standardise(X_train, X_test)[:, 0]
    return {"params": {}, **probes(Z_train, y_train, Z_test, y_test, seed)}


def random_encoder_row(data: Data, args: argparse.Namespace, seed: int) -> dict:
    X_train, y_train, X_test, y_test = data
    params = {"hidden_dim": args.hidden_dim, "depth": args.depth}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = encoders.build_encoder("cnn", 1, args.n_components, params)
    start = time.perf_counter()
    Z_train = encoders.encode(encoder, standardise(X_train, X_train), args.device)
    Z_test = encoders.encode(encoder, standardise(X_train, X_test), args.device)
    encode_time = time.perf_counter() - start
    return {
        "params": {
            "encoder": "cnn",
            "n_components": args.n_components,
            "encoder_params": params,
        },
        "encode_time_s": encode_time,
        **probes(Z_train, y_train, Z_test, y_test, seed),
    }


def method_row(name: str, data: Data, args: argparse.Namespace, seed: int) -> dict:
    X_train, y_train, X_test, y_test = data
    params = {
        "encoder": "cnn",
        "n_components": args.n_components,
        "n_epochs": args.epochs,
        "batch_size": args.batch_size,
        "encoder_params": {"hidden_dim": args.hidden_dim, "depth": args.depth},
        "method_params": METHOD_PARAMS.get(name),
    }
    model = tscl.ContrastiveEncoder(
        method=name, **params, device=args.device, random_state=seed
    )
    start = time.perf_counter()
    if is_supervised(name):
        model.fit(X_train, y_train)
    else:
        model.fit(X_train)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    encode_time = time.perf_counter() - start
    return {
        "params": params,
        "fit_time_s": fit_time,
        "encode_time_s": encode_time,
        "final_loss": float(model.history_["loss"][-1]),
        **probes(Z_train, y_train, Z_test, y_test, seed),
    }


def is_supervised(name: str) -> bool:
    """Whether method ``name`` needs labels (SupCon): it then gets ``y_train``.

    Methods whose ``label_use`` is ``"optional"`` (triplet) run self-supervised
    here, like the rest.
    """
    method = methods.METHODS.get(name)
    return getattr(method, "label_use", "ignored") == "required"


def guarded(make: Callable[..., dict], *args: Any) -> dict:
    """``make(*args)``, or an ``error`` row when it raises: the run goes on."""
    try:
        return make(*args)
    except Exception as exc:  # one failing method must not stop the run
        return {"error": f"{type(exc).__name__}: {exc}"}


# ------------------------------------------------------------------ the run


def run(args: argparse.Namespace, data: dict[str, Data], context: dict) -> list[dict]:
    rows = []
    for dataset, split in data.items():
        X_train, y_train, X_test, _ = split
        for seed in range(args.seeds):
            for method in BASELINES + args.methods:
                if method == "raw":
                    row = guarded(raw_row, split, args, seed)
                elif method == "random encoder":
                    row = guarded(random_encoder_row, split, args, seed)
                else:
                    row = guarded(method_row, method, split, args, seed)
                row = {
                    "dataset": dataset,
                    "method": method,
                    "seed": seed,
                    "supervised": method not in BASELINES and is_supervised(method),
                    "baseline": method in BASELINES,
                    "n_train": len(X_train),
                    "n_test": len(X_test),
                    "length": X_train.shape[1],
                    "n_classes": len(np.unique(y_train)),
                    "linear_accuracy": None,
                    "svm_accuracy": None,
                    "fit_time_s": None,
                    **row,
                    **context,
                }
                rows.append(row)
                print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    text = f"{row['dataset']:12s} {row['method']:16s} seed {row['seed']}  "
    if "error" in row:
        return text + f"ERROR {row['error']}"
    text += (
        f"linear {row['linear_accuracy']:.3f}  SVM {row['svm_accuracy']:.3f}  "
        f"(C {row['linear_C']:g} / {row['svm_C']:g})"
    )
    if row["fit_time_s"] is not None:
        text += f"  fit {row['fit_time_s']:.1f} s, loss {row['final_loss']:.3f}"
    return text


# ------------------------------------------------------------------ tables


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def _collect(rows: list[dict], key: str) -> dict[tuple[str, str], list | None]:
    """Values of ``key`` per (method, dataset) over seeds; None if a seed failed."""
    found: dict[tuple[str, str], list | None] = {}
    for r in rows:
        cell = (r["method"], r["dataset"])
        values = found.setdefault(cell, [])
        if "error" in r:
            found[cell] = None
        elif values is not None and r[key] is not None:
            values.append(r[key])
    return found


def mean_ranks(rows: list[dict], key: str) -> dict[str, float]:
    """Mean rank over datasets (1 = best) among the methods that ran on all of them."""
    cells = _collect(rows, key)
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    names = [
        m
        for m in dict.fromkeys(r["method"] for r in rows)
        if all(cells.get((m, d)) for d in datasets)
    ]
    if not names:
        return {}
    ranks = np.array(
        [rankdata([-np.mean(cells[m, d] or []) for m in names]) for d in datasets]
    )
    return dict(zip(names, ranks.mean(axis=0), strict=True))


def markdown(rows: list[dict], header: str) -> str:
    """Accuracy and fit-time tables of ``rows`` and their errors, under ``header``."""
    names = list(dict.fromkeys(r["method"] for r in rows))
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    supervised = {r["method"] for r in rows if r["supervised"]}
    label = {m: f"{m} (supervised)" if m in supervised else m for m in names}
    lines = [header, ""]
    lines += _accuracy_table(rows, names, datasets, label)
    lines += [""] + _fit_table(rows, names, datasets, label)
    errors = [r for r in rows if "error" in r]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [
            f"- {r['method']} on {r['dataset']}, seed {r['seed']}: {r['error']}"
            for r in errors
        ]
    return "\n".join(lines) + "\n"


def _accuracy_table(
    rows: list[dict], names: list[str], datasets: list[str], label: dict[str, str]
) -> list[str]:
    accuracy = {k: _collect(rows, f"{k}_accuracy") for k in ("linear", "svm")}
    ranks = {k: mean_ranks(rows, f"{k}_accuracy") for k in ("linear", "svm")}
    columns = [f"{d} {probe}" for d in datasets for probe in ("linear", "SVM")]
    lines = [
        "Test accuracy (mean ± std over seeds) and mean rank over the datasets "
        "(1 = best; only methods that ran on every dataset are ranked).",
        "",
        "| method | " + " | ".join(columns) + " | mean rank linear | mean rank SVM |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for m in names:
        cells = []
        for d in datasets:
            for k in ("linear", "svm"):
                values = accuracy[k].get((m, d))
                cells.append("error" if values is None else cell(values))
        cells += [f"{ranks[k][m]:.2f}" if m in ranks[k] else "" for k in ranks]
        lines.append(f"| {label[m]} | " + " | ".join(cells) + " |")
    return lines


def _fit_table(
    rows: list[dict], names: list[str], datasets: list[str], label: dict[str, str]
) -> list[str]:
    fit = _collect(rows, "fit_time_s")
    lines = [
        "Pretraining time in seconds (`fit`, mean over seeds; baselines do not train).",
        "",
        "| method | " + " | ".join(datasets) + " | total |",
        "|---" * (len(datasets) + 2) + "|",
    ]
    for m in names:
        values = [fit.get((m, d)) for d in datasets]
        cells = [
            "error" if v is None else _seconds(np.mean(v)) if v else "–" for v in values
        ]
        if m in BASELINES:
            cells.append("–")
        elif any(v is None for v in values):
            cells.append("error")
        else:
            cells.append(_seconds(sum(np.mean(v) for v in values if v)))
        lines.append(f"| {label[m]} | " + " | ".join(cells) + " |")
    return lines


# ------------------------------------------------------------------ command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help=f"folder of UCR datasets in the archive's layout (default {DATA})",
    )
    parser.add_argument(
        "--datasets",
        default=None,
        help=f"comma-separated names (default {','.join(DATASETS)}; ECG200 "
        "with --quick)",
    )
    parser.add_argument(
        "--methods",
        default=None,
        help="comma-separated names in tscl.methods.METHODS (default: all, "
        f"currently {','.join(methods.METHODS)})",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"pretraining epochs (default {DEFAULTS['epochs']}; 1 with --quick)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="number of seeds, 0 .. N-1 (default 1); several give mean ± std",
    )
    for name, flag in (
        ("n_components", "--n-components"),
        ("hidden_dim", "--hidden-dim"),
        ("depth", "--depth"),
    ):
        parser.add_argument(
            flag,
            type=int,
            default=None,
            help=f"CNN {name} (default {DEFAULTS[name]}; {QUICK[name]} with --quick)",
        )
    parser.add_argument("--batch-size", type=int, default=64, help="(default 64)")
    add_run_arguments(
        parser,
        "methods_ucr",
        "a smoke test in seconds: one small dataset, 1 epoch, a tiny CNN",
    )
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    _check_args(parser, args)
    return args


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_run_arguments(
        parser, args, ("epochs", "seeds", "n_components", "hidden_dim", "depth")
    )
    if args.batch_size < 2:
        parser.error(f"--batch-size must be at least 2; got {args.batch_size}")
    default = DATASETS[:1] if args.quick else DATASETS
    args.datasets = args.datasets.split(",") if args.datasets else default
    args.methods = args.methods.split(",") if args.methods else list(methods.METHODS)
    unknown = [m for m in args.methods if m not in methods.METHODS]
    if unknown:
        parser.error(
            f"unknown method(s) {unknown}; choose from {sorted(methods.METHODS)}"
        )


def load_datasets(args: argparse.Namespace) -> dict[str, Data]:
    """Every dataset, read before any training so that a missing one fails first."""
    data = {}
    for name in args.datasets:
        try:
            data[name] = load_ucr(name, args.data)
        except (FileNotFoundError, ValueError) as exc:
            raise SystemExit(
                f"methods_ucr.py: error: {exc} Here, pass --data FOLDER (that "
                "folder, in the archive's layout)."
            ) from None
    return data


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    data = load_datasets(args)
    with threads(args.threads):
        run_context = context(args.device)
        header = (
            f"UCR methods benchmark: {args.epochs} epochs, CNN (hidden "
            f"{args.hidden_dim}, depth {args.depth}), {args.n_components} "
            f"components, batch {args.batch_size}, {args.seeds} seed(s); "
            f"{describe(run_context)}"
        )
        print(header, flush=True)
        rows = run(args, data, run_context)
    write_results(rows, args.out, markdown(rows, header))
    return rows


if __name__ == "__main__":
    main()
