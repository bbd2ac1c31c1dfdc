"""UCR accuracy and training speed: tscl against the TS2Vec reference.

The other half of the CPU target of ``throughput.py``: accuracy at an equal or
better level. On UCR datasets (official splits) the reference
(``ts2vec_reference.py``, TS2Vec in plain PyTorch) trains with TS2Vec's UCR
settings (batch 8, learning rate 1e-3, 320 dimensions, 200 iterations, or 600
above 100,000 values) and encodes each series with its averaged weights,
max-pooled over time; tscl trains the default ``ContrastiveEncoder`` (and
``method="ts2vec"`` with ``--with-ts2vec-method``). Both fits are timed (the
whole fit); representations are scored with
``tscl.evaluation.svm_probe(..., protocol="ts2vec")``. The reference's samples
are its ``iterations x 8`` windows, tscl's ``n_train x n_epochs``.

``--temporal-unit`` and ``--flush-denormal`` set the reference and the run as
in ``throughput.py``; ``--precision`` and ``--compile`` are passed to
``ContrastiveEncoder``.

Usage::

    python benchmarks/throughput_accuracy.py --flush-denormal --with-ts2vec-method
    python benchmarks/throughput_accuracy.py --quick   # shipped ECG200, seconds

Results are appended as JSON lines to ``--out`` (default
``benchmarks/results/throughput_accuracy.jsonl``); the markdown table goes
beside it (``throughput_accuracy.md``) and is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import tscl
from tscl.datasets import load_ucr
from tscl.evaluation import svm_probe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    add_training_arguments,
    append_row,
    cell,
    check_run_arguments,
    context,
    describe,
    run_limits,
    table,
    write_results,
)
from ts2vec_reference import TS2VecReference  # noqa: E402

UCR_DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand"]
REFERENCE = "TS2Vec reference"


def accuracy_rows(name: str, args: argparse.Namespace, seed: int) -> list[dict]:
    """Fit, encode and score the reference and tscl on one UCR dataset."""
    X_train, y_train, X_test, y_test = load_ucr(name, args.root)
    rows = []
    as_btc = (
        (lambda X: X[:, :, None])
        if X_train.ndim == 2
        else (lambda X: X.transpose(0, 2, 1))
    )
    n_iters = 200 if X_train.size <= 100_000 else 600
    if args.quick:
        n_iters = 4
    start = time.perf_counter()
    reference = TS2VecReference(
        as_btc(X_train).shape[2], args.device, seed, temporal_unit=args.temporal_unit
    )
    reference.fit(as_btc(X_train), batch_size=8, n_iters=n_iters)
    fit_s = time.perf_counter() - start
    Z = [reference.encode(as_btc(X).astype(np.float32)) for X in (X_train, X_test)]
    samples = n_iters * min(8, len(X_train))
    rows.append(_score(REFERENCE, Z, y_train, y_test, fit_s, samples, seed))
    models: dict[str, dict[str, Any]] = {"tscl simclr (default)": {}}
    if args.with_ts2vec_method:
        models["tscl ts2vec"] = {"method": "ts2vec"}
    for label, params in models.items():
        if args.quick:
            params = {
                **params,
                "n_epochs": 1,
                "encoder_params": {"hidden_dim": 8, "depth": 2},
            }
        model = tscl.ContrastiveEncoder(
            **params, device=args.device, random_state=seed, **args.estimator_params
        )
        start = time.perf_counter()
        model.fit(X_train)
        fit_s = time.perf_counter() - start
        Z = [model.transform(X) for X in (X_train, X_test)]
        samples = len(X_train) * model.n_epochs
        rows.append(_score(label, Z, y_train, y_test, fit_s, samples, seed))
    for row in rows:
        row.update(dataset=name, n_train=len(X_train), length=X_train.shape[-1])
    return rows


def _score(
    label: str,
    Z: list,
    y_train: Any,
    y_test: Any,
    fit_s: float,
    samples: int,
    seed: int,
) -> dict:
    result = svm_probe(
        Z[0], y_train, Z[1], y_test, protocol="ts2vec", random_state=seed
    )
    return {
        "model": label,
        "seed": seed,
        "accuracy": result["accuracy"],
        "fit_time_s": fit_s,
        "samples": samples,
        "samples_per_s": samples / fit_s,
    }


def accuracy_markdown(rows: list[dict], header: str) -> str:
    """The table per dataset and model, then each tscl model against the reference."""
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    labels = list(dict.fromkeys(r["model"] for r in rows))

    def mean(key: str, model: str, dataset: str | None = None) -> float:
        return float(
            np.mean(
                [
                    r[key]
                    for r in rows
                    if r["model"] == model and dataset in (None, r["dataset"])
                ]
            )
        )

    body = []
    for name in names:
        for label in labels:
            mine = [r for r in rows if r["dataset"] == name and r["model"] == label]
            body.append(
                [
                    name,
                    label,
                    cell([r["accuracy"] for r in mine]),
                    cell([r["fit_time_s"] for r in mine], 1),
                    cell([r["samples_per_s"] for r in mine], 1),
                ]
            )
    columns = ["dataset", "model", "accuracy", "fit s", "training samples/s"]
    lines = [header, "", table(columns, body), ""]
    for label in labels[1:]:
        ours, theirs = mean("accuracy", label), mean("accuracy", REFERENCE)
        speed = [
            mean("samples_per_s", label, n) / mean("samples_per_s", REFERENCE, n)
            for n in names
        ]
        wins = sum(
            mean("accuracy", label, n) >= mean("accuracy", REFERENCE, n) for n in names
        )
        lines.append(
            f"- {label} against the TS2Vec reference: mean accuracy {ours:.3f} vs "
            f"{theirs:.3f} ({ours - theirs:+.3f}), at or above on {wins} of "
            f"{len(names)}; training samples/s {min(speed):.2f}x to "
            f"{max(speed):.2f}x the reference's."
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(
        parser,
        "throughput_accuracy",
        "ECG200 shipped in datasets/ucr, 1 seed, 4 reference iterations and 1 "
        "tiny epoch (a smoke test)",
    )
    parser.add_argument("--datasets", nargs="+", default=UCR_DATASETS)
    parser.add_argument(
        "--root", type=Path, default=None,
        help=f"UCR folder (default {SHARED_DATA / 'ucr'}; the shipped "
        "datasets/ucr with --quick)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 to N - 1")
    parser.add_argument(
        "--with-ts2vec-method", action="store_true",
        help="also ContrastiveEncoder(method='ts2vec')",
    )  # fmt: skip
    parser.add_argument(
        "--temporal-unit", type=int, default=0,
        help="the reference's temporal_unit (TS2Vec's default 0)",
    )  # fmt: skip
    add_training_arguments(parser)
    args = parser.parse_args(argv)
    check_run_arguments(parser, args, ("seeds",))
    if args.temporal_unit < 0:
        parser.error(f"--temporal-unit must be at least 0; got {args.temporal_unit}")
    args.estimator_params = {"precision": args.precision, "compile": args.compile}
    if args.quick:
        args.seeds = 1
        args.root = args.root or ROOT / "datasets" / "ucr"
        args.datasets = ["ECG200"] if args.datasets == UCR_DATASETS else args.datasets
    args.root = args.root or SHARED_DATA / "ucr"
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    with run_limits(args):
        return _run(args)


def _run(args: argparse.Namespace) -> list[dict]:
    run_context = context(args.device)
    header = (
        f"UCR accuracy (TS2Vec's SVM protocol) and training speed: the TS2Vec "
        f"reference (batch 8, 320 dims, 200 iterations) against tscl's default "
        f"ContrastiveEncoder, {args.seeds} seed(s); {describe(run_context)}"
    )
    print(header, flush=True)
    rows = []
    for name in args.datasets:
        for seed in range(args.seeds):
            for row in accuracy_rows(name, args, seed):
                row.update(run_context)
                append_row(row, args.out)
                rows.append(row)
                print(
                    f"{name:18s} seed {seed} {row['model']:22s} accuracy "
                    f"{row['accuracy']:.3f}  fit {row['fit_time_s']:6.1f} s "
                    f"({row['samples_per_s']:.1f} samples/s)",
                    flush=True,
                )
    write_results(rows, args.out, accuracy_markdown(rows, header), appended=True)
    return rows


if __name__ == "__main__":
    main()
