"""Whole fit time of tscl's default and ``ts2vec`` against TS2Vec's official code.

For each dataset, the three fits on its training split run in one process, at
the same thread count, in an order that rotates at each repeat (reference,
default, ts2vec; then default, ts2vec, reference; ...), repeat ``r`` with seed
``r``: TS2Vec's code as ``ts2vec_reference.py`` repeats it (its own data
handling and budget: 200 iterations, 600 above 100,000 values),
``ContrastiveEncoder()`` and ``ContrastiveEncoder(method="ts2vec")``. A fit is
timed whole, from the model's construction to the end of ``fit`` (tscl's
standardisation, its collapse measures and the reference's data preparation
included). Before the first dataset, one small fit of each warms up the
process (the first ``AdamW`` imports torch's compiler stack, about 1.5-6 s,
once per process for both). The report gives the median fit time of each
model and its ratio to the reference's median; only accuracy-free timing is
done here (accuracies: ``ucr.py`` and ``uea.py``).

Usage::

    python benchmarks/fit_time.py --all --threads 1          # every UCR/UEA set
    python benchmarks/fit_time.py --datasets GunPoint ECG200 --repeats 3
    python benchmarks/fit_time.py --quick                   # seconds

Each fit is appended as a JSON line to ``--out`` (default
``benchmarks/results/fit_time.jsonl``); the markdown report, built from every
line there (so runs of other datasets add up), goes beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import tscl
from tscl.datasets import load_ucr, load_uea

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _archive  # noqa: E402
import ucr  # noqa: E402
import uea  # noqa: E402
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    append_row,
    check_run_arguments,
    context,
    describe,
    table,
    threads,
    write_results,
)
from ts2vec_reference import (  # noqa: E402
    TS2VecReference,
    load_ucr_as_ts2vec,
    load_uea_as_ts2vec,
    seed_everything,
)

MODELS = ("reference", "default", "ts2vec")
TSCL_PARAMS: dict[str, dict[str, Any]] = _archive.BUILTIN  # ucr.py's models


def archives(args: argparse.Namespace) -> dict[str, str]:
    """Every dataset of the UCR and UEA folders (``ucr.py``'s and ``uea.py``'s
    rule), by name: its archive."""
    found = dict.fromkeys(ucr.datasets_in(args.ucr_root), "ucr")
    found |= dict.fromkeys(uea.datasets_in(args.uea_root), "uea")
    return found


def load(name: str, archive: str, args: argparse.Namespace) -> tuple[Any, Any]:
    """tscl's training split (gaps and lengths resampled, as ``ucr.py``) and the
    reference's (time last, NaN kept, as TS2Vec's code reads them)."""
    if archive == "ucr":
        ours = load_ucr(name, args.ucr_root, missing="resample").X_train
        theirs = load_ucr_as_ts2vec(name, args.ucr_root)[0]
    else:
        ours = load_uea(name, args.uea_root, missing="resample").X_train
        theirs = load_uea_as_ts2vec(name, args.uea_root)[0]
    return ours, theirs


def fit_once(model: str, X: Any, X_reference: Any, seed: int, quick: bool) -> float:
    """Seconds of one whole fit."""
    start = time.perf_counter()
    if model == "reference":
        seed_everything(seed)
        reference = TS2VecReference(X_reference.shape[-1])
        reference.fit(X_reference, n_iters=len(X_reference) // 8 if quick else None)
    else:
        extra = {"n_epochs": 1} if quick else {}
        tscl.ContrastiveEncoder(**TSCL_PARAMS[model], **extra, random_state=seed).fit(X)
    return time.perf_counter() - start


def warm_up() -> None:
    """One tiny fit of each kind: the imports of the first steps, paid once."""
    X = np.random.default_rng(0).normal(size=(16, 1, 32)).astype(np.float32)
    fit_once("reference", X, X.transpose(0, 2, 1), 0, quick=True)
    for model in ("default", "ts2vec"):
        fit_once(model, X, None, 0, quick=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--datasets", nargs="+", help="UCR or UEA dataset names")
    which.add_argument("--all", action="store_true", help="every dataset found")
    parser.add_argument("--ucr-root", type=Path, default=SHARED_DATA / "ucr")
    parser.add_argument("--uea-root", type=Path, default=SHARED_DATA / "uea")
    parser.add_argument("--repeats", type=int, default=3, help="default 3")
    parser.add_argument(
        "--report", action="store_true", help="fit nothing: rebuild the report"
    )
    add_run_arguments(
        parser, "fit_time", "shipped ECG200 and BasicMotions, one epoch each"
    )
    args = parser.parse_args(argv)
    check_run_arguments(parser, args, ("repeats",))
    if args.quick:
        args.ucr_root, args.uea_root = ROOT / "datasets/ucr", ROOT / "datasets/uea"
        args.datasets, args.repeats = ["ECG200", "BasicMotions"], 1
    if args.report:
        if not args.out.is_file():
            parser.error(f"--report needs the runs in --out; {args.out} does not exist")
        return args
    found = archives(args)
    if args.all:
        args.datasets = list(found)
    if not args.datasets:
        parser.error("name the datasets with --datasets A B ... or pass --all")
    unknown = [name for name in args.datasets if name not in found]
    if unknown:
        parser.error(
            f"no dataset {unknown} in {args.ucr_root} or {args.uea_root}; found "
            f"{sorted(found)}"
        )
    args.archive = {name: found[name] for name in args.datasets}
    return args


def report(rows: list[dict], header: str) -> str:
    """Median fit time per dataset and model, with the ratios to the reference."""
    lines, ratios = [], {m: [] for m in MODELS[1:]}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        median = {
            m: statistics.median(r["fit_s"] for r in mine if r["model"] == m)
            for m in MODELS
            if any(r["model"] == m for r in mine)
        }
        cells = [name, mine[0]["shape"], len(mine) // len(median)]
        cells.append(f"{median['reference']:.1f}" if "reference" in median else "–")
        for m in MODELS[1:]:
            if m not in median:
                cells.append("–")
                continue
            cell = f"{median[m]:.1f}"
            if "reference" in median:
                ratio = median[m] / median["reference"]
                ratios[m].append(ratio)
                cell += f" ({ratio:.2f}x)"
            cells.append(cell)
        lines.append(cells)
    columns = ["dataset", "train shape", "repeats", "reference s"]
    columns += [f"{m} s (ratio)" for m in MODELS[1:]]
    notes = [
        f"- **{m}**: {min(r):.2f}x to {max(r):.2f}x the reference's fit time, "
        f"geometric mean {float(np.exp(np.mean(np.log(r)))):.2f}x over {len(r)} "
        "dataset(s)."
        for m, r in ratios.items()
        if r
    ]
    return f"{header}\n\n{table(columns, lines)}\n\n" + "\n".join(notes) + "\n"


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    with threads(args.threads):
        run_context = context(args.device)
        if args.report:
            rows = [json.loads(line) for line in args.out.read_text().splitlines()]
            run_context = {k: rows[0][k] for k in run_context if k in rows[0]}
        header = (
            f"Whole fit time on the training split, median of the repeats in "
            f"rotating order, one process per run; {describe(run_context)}"
        )
        print(header, flush=True)
        if args.report:
            write_results(rows, args.out, report(rows, header), appended=True)
            return rows
        warm_up()
        rows = []
        for name, archive in args.archive.items():
            X, X_reference = load(name, archive, args)
            for repeat in range(args.repeats):
                turn = repeat % len(MODELS)
                for model in MODELS[turn:] + MODELS[:turn]:
                    seconds = fit_once(model, X, X_reference, repeat, args.quick)
                    row = {
                        "dataset": name,
                        "archive": archive,
                        "shape": list(X.shape),
                        "model": model,
                        "seed": repeat,
                        "fit_s": seconds,
                        **run_context,
                    }
                    print(json.dumps(row), flush=True)
                    append_row(row, args.out)
                    rows.append(row)
    everything = [json.loads(line) for line in args.out.read_text().splitlines()]
    write_results(rows, args.out, report(everything, header), appended=True)
    return rows


if __name__ == "__main__":
    main()
