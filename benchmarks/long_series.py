"""Long series: fit and transform time and peak memory, tscl against TS2Vec's code.

TS2Vec's users run out of memory on long series (zhihanyue/ts2vec issues #10
and #32): its temporal loss builds ``batch x 2T x 2T`` logits for crops of up to
``max_train_length`` (3,000) timesteps, and its ``encode`` runs each series
whole. tscl computes the same loss in blocks (``tscl.losses.LOSS_BLOCK_VALUES``)
and encodes series longer than ``tscl.encoders.ENCODE_STEPS`` in overlapping
pieces that carry the network's receptive field, with the same results.

Data: ``--n-series`` real ECG series of ``--length`` timesteps (default 16 of
100,000, 4.6 minutes each at 360 Hz): lead 0 of the MIT-BIH records
(``../shared/data/ecg/mitdb``, else the shipped ``datasets/mitdb``) cut into
consecutive windows, standardised.

Models, each in a fresh process (this script with ``--one``):

* ``default``: ``ContrastiveEncoder()`` (SoftCLT on TS2Vec's network), trained
  for ``--steps`` steps (``n_epochs`` of ``n_series / 8`` steps), then
  ``transform`` of every series;
* ``reference``: TS2Vec's official code as ``ts2vec_reference.py`` repeats it
  (its ``fit`` splits each series into sections of about ``max_train_length``)
  for ``--steps`` iterations, then its ``encode`` (``full_series``).

Each reports its resident set before the model (Python, torch and the data),
its peak resident set from there on (``VmHWM``, reset after loading the data),
the fit time per step and the transform time, under an address-space cap
(``--memory-limit-gib``) so that a run too large for the machine fails with
an error instead of waking the OOM killer.

Usage::

    python benchmarks/long_series.py --threads 1        # 16 x 100,000, 20 steps
    python benchmarks/long_series.py --quick            # seconds

Results are appended as JSON lines to ``--out`` (default
``benchmarks/results/long_series.jsonl``); the markdown table goes beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import tscl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    add_run_arguments,
    address_space_cap,
    check_run_arguments,
    context,
    describe,
    json_from_child,
    status_mib,
    table,
    threads,
    write_results,
)
from _throughput_data import windows  # noqa: E402
from ts2vec_reference import TS2VecReference, seed_everything  # noqa: E402

MODELS = ("default", "reference")


def run_one(model: str, args: argparse.Namespace) -> dict:
    """Fit and transform one model in this process; time and memory."""
    X = windows((args.n_series, 1, args.length), args.n_series)
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS
    before = status_mib("VmRSS")
    try:
        with address_space_cap(args.memory_limit_gib):
            start = time.perf_counter()
            if model == "default":
                per_epoch = max(args.n_series // 8, 1)
                encoder = tscl.ContrastiveEncoder(
                    n_epochs=max(args.steps // per_epoch, 1), random_state=args.seed
                ).fit(X)
                steps = encoder.history_["n_steps"]
                fit_s = time.perf_counter() - start
                start = time.perf_counter()
                Z = encoder.transform(X)
            else:
                seed_everything(args.seed)
                reference = TS2VecReference(1)
                data = np.ascontiguousarray(X.transpose(0, 2, 1))
                reference.fit(data, n_iters=args.steps)
                steps = reference.n_iters
                fit_s = time.perf_counter() - start
                start = time.perf_counter()
                Z = reference.encode(data)
            transform_s = time.perf_counter() - start
    except (RuntimeError, MemoryError) as err:  # the address-space cap
        return {"before_mib": before, "error": str(err).splitlines()[0][:200]}
    return {
        "before_mib": before,
        "peak_mib": status_mib("VmHWM"),
        "fit_s": fit_s,
        "n_steps": steps,
        "fit_s_per_step": fit_s / steps,
        "transform_s": transform_s,
        "finite": bool(np.isfinite(Z).all()),
        "shape": list(Z.shape),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-series", type=int, default=16, help="default 16")
    parser.add_argument(
        "--length", type=int, default=100_000, help="timesteps (default 100,000)"
    )
    parser.add_argument("--steps", type=int, default=20, help="training steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument(
        "--memory-limit-gib", type=float, default=16.0,
        help="address-space cap of each run (default 16; 0: none)",
    )  # fmt: skip
    add_run_arguments(parser, "long_series", "tiny shapes, seconds")
    parser.add_argument(
        "--report",
        action="store_true",
        help="run nothing: rebuild the table from the latest run of each model",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    check_run_arguments(parser, args, ("n_series", "length", "steps"))
    if args.n_series < 2 or args.length < 8:
        parser.error(
            "the models contrast series of the batch and crop them: --n-series "
            f"must be at least 2 and --length at least 8; got {args.n_series} and "
            f"{args.length}"
        )
    if args.quick:
        args.n_series, args.length, args.steps = 4, 1_000, 2
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if args.one:
        with threads(args.threads):
            print(json.dumps(run_one(args.one, args)))
        return []
    with threads(args.threads):
        header = (
            f"Long series: {args.n_series} ECG series of {args.length:,} timesteps, "
            f"{args.steps} training steps, then every series encoded whole; "
            f"{describe(context(args.device))}"
        )
    print(header, flush=True)
    rows = []
    for model in [] if args.report else args.models:
        command = [
            sys.executable,
            __file__,
            *(sys.argv[1:] if argv is None else argv),
            "--one",
            model,
        ]
        result = json_from_child(command)
        row = {"model": model, **{k: v for k, v in vars(args).items()
                                  if k in ("n_series", "length", "steps", "seed")},
               **result}  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    latest = {}  # the latest run of each model in --out, this run's included
    if args.out.is_file():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            latest[row["model"]] = row
    latest.update({row["model"]: row for row in rows})
    lines = []
    for row in latest.values():
        if "error" in row:
            lines.append([row["model"], "–", "–", "–", "–", row["error"]])
            continue
        lines.append(
            [
                row["model"],
                f"{row['fit_s_per_step']:.2f}",
                f"{row['transform_s']:.1f}",
                f"{row['peak_mib']:,.0f}",
                f"{row['before_mib']:,.0f}",
                "",
            ]
        )
    markdown = (
        header
        + "\n\n"
        + table(
            [
                "model",
                "fit s/step",
                "transform s",
                "peak RSS MiB",
                "RSS before MiB",
                "error",
            ],
            lines,
        )
        + "\n"
    )
    write_results(rows, args.out, markdown)
    return rows if rows else list(latest.values())


if __name__ == "__main__":
    main()
