"""Contrastive pretraining on daily returns, judged on S&P 500 regimes in time order.

Data (read with :mod:`tscl.datasets.finance` from ``--data``, default
``../shared/data/finance`` beside the repository): the daily log returns of
``--series`` (default S&P 500, NASDAQ Composite, Microsoft and WTI crude oil),
cut into windows of ``--window`` returns (default 60) that end on day ``t``
and are divided by the standard deviation of the last ``--lookback`` returns
up to ``t`` (default 250, about a trading year: the scale is known on day
``t``, and the window keeps its volatility level relative to the past year).

Split: one chronological cut at ``--test-start`` (default 2015-01-01). Test
windows end on or after it; training windows end at least ``horizon`` days
earlier (:func:`tscl.datasets.finance.chronological_split` with
``gap=horizon``), so no training label looks into the test period.

Pretraining: :class:`tscl.ContrastiveEncoder` (``--method``, default simclr,
with the ``finance`` view preset, which keeps volatility and time order; a
dilated CNN) on the pooled
univariate windows of every series that end before ``--test-start``, without
labels. One encoder per seed serves every task.

Tasks, all on the first series (S&P 500), labels from days ``t + 1 .. t +
horizon`` only:

* ``vol20``: is the realised volatility of the next 20 days above the median
  of the training windows' (threshold fitted on the training period only)?
* ``dir5`` and ``dir1``: is the sum of the next 5 (1) returns positive?

Methods per task and seed, all trained on the same training windows:

* the pretrained encoder's representations scored by
  :func:`tscl.evaluation.linear_probe` (logistic regression, ``C`` chosen by
  cross-validation inside the training period);
* ``raw logistic``: the same probe on the scaled window itself (one feature per
  day);
* ``supervised CNN``: :class:`tscl.evaluation.EncoderClassifier`, the same CNN
  and a linear head trained from scratch with cross-entropy for
  ``--supervised-epochs`` epochs (no early stopping: random hold-outs of
  overlapping windows share most of their days with the training windows);
* ``persistence``: no training; the realised volatility of the last
  ``horizon`` days against the same threshold (``vol20``), or the sign of the
  last ``horizon`` days' return (``dir``), whose value also ranks the windows
  for AUROC.

Metrics on the test windows: accuracy, macro-F1 and AUROC (the score of class
1), as mean ± std over ``--seeds`` seeds (the persistence rule has no seed).

The defaults take about 8 minutes on an idle 2-core CPU with ``--threads 1``
(per seed: 30 pretraining epochs of about 3 s on about 4,300 windows, 3 x 15
supervised epochs of about 1.5 s on about 3,800 windows, and the probes);
``--quick`` (1 epoch, a tiny CNN, sparse pretraining windows, 1 seed) takes
seconds. Results are appended as JSON lines to ``--out`` (default
``benchmarks/results/finance.jsonl``), one per task, method and seed, with the
parameters, versions, git SHA and machine; the markdown tables of this run go
beside it (``finance.md``) and are printed.

Usage::

    python benchmarks/finance.py --threads 1           # the default run, CPU
    python benchmarks/finance.py --quick               # a smoke test
    python benchmarks/finance.py --tasks vol20 --seeds 5 --epochs 60
    python benchmarks/finance.py --series sp500 --data datasets/finance --quick
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

import tscl
from tscl import augment, evaluation, methods
from tscl.datasets import finance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    add_run_arguments,
    cell,
    check_run_arguments,
    describe,
    threads,
    write_results,
)
from _common import context as run_context  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "finance"
SERIES = ["sp500", "nasdaq", "msft", "wti"]
#: Task name: (label, horizon in trading days).
TASKS = {
    "vol20": ("vol_regime", 20),
    "dir5": ("direction", 5),
    "dir1": ("direction", 1),
}
#: Model and training settings: the default run, and --quick (a smoke test).
DEFAULTS = {
    "epochs": 30,
    "supervised_epochs": 15,
    "n_components": 64,
    "hidden_dim": 32,
    "depth": 4,
    "pretrain_stride": 5,
    "seeds": 3,
}
QUICK = {
    "epochs": 1,
    "supervised_epochs": 1,
    "n_components": 8,
    "hidden_dim": 8,
    "depth": 2,
    "pretrain_stride": 20,
    "seeds": 1,
}


# ------------------------------------------------------------------ data


def load_returns(args: argparse.Namespace) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Log returns and their dates per series, read before any training."""
    out = {}
    for name in args.series:
        path = args.data / f"{name}.csv"
        try:
            with warnings.catch_warnings():  # wti.csv has 290 '.' days, dropped
                warnings.simplefilter("ignore", UserWarning)
                dates, prices = finance.load_prices(path)
            out[name] = (finance.log_returns(prices), dates[1:])
        except (FileNotFoundError, ValueError) as exc:
            raise SystemExit(
                f"finance.py: error: {exc} Pass --data FOLDER (holding "
                f"<name>.csv for each of --series {','.join(args.series)})."
            ) from None
    return out


def windows(
    returns: np.ndarray, dates: np.ndarray, args: argparse.Namespace, **kwargs: Any
) -> finance.ReturnWindows:
    return finance.return_windows(
        returns, dates, window=args.window, lookback=args.lookback, **kwargs
    )


def pretraining_windows(data: dict, args: argparse.Namespace) -> np.ndarray:
    """Windows of every series that end before the test period, pooled."""
    parts = []
    for returns, dates in data.values():
        w = windows(returns, dates, args, horizon=1, stride=args.pretrain_stride)
        parts.append(w.X[w.dates < np.datetime64(args.test_start)])
    return np.concatenate(parts)


def task_data(data: dict, task: str, args: argparse.Namespace) -> dict[str, Any]:
    """Scaled windows, raw windows, labels and the split of one task."""
    returns, dates = next(iter(data.values()))
    label, horizon = TASKS[task]
    w = windows(returns, dates, args, horizon=horizon, train_end=args.test_start)
    raw = windows(returns, dates, args, horizon=horizon, normalize="none")
    train, test = finance.chronological_split(
        w.dates, test_start=args.test_start, gap=horizon
    )
    y = w.vol_regime if label == "vol_regime" else w.direction
    recent = raw.X[:, 0, -horizon:]  # the last `horizon` returns up to day t
    if label == "vol_regime":
        naive = np.sqrt(np.mean(recent**2, axis=1))
        naive_pred = (naive > w.vol_threshold).astype(np.int64)
    else:
        naive = recent.sum(axis=1)
        naive_pred = (naive > 0).astype(np.int64)
    return {
        "X": w.X,
        "y": y,
        "train": train,
        "test": test,
        "naive": naive,
        "naive_pred": naive_pred,
        "info": {
            "horizon": horizon,
            "n_train": len(train),
            "n_test": len(test),
            "train_span": f"{w.dates[train[0]]}..{w.dates[train[-1]]}",
            "test_span": f"{w.dates[test[0]]}..{w.dates[test[-1]]}",
            "positive_rate_train": float(y[train].mean()),
            "positive_rate_test": float(y[test].mean()),
            "vol_threshold": w.vol_threshold if label == "vol_regime" else None,
        },
    }


# ------------------------------------------------------------------ methods


def probe_row(Z: np.ndarray, task: dict, seed: int) -> dict:
    """The linear probe on features ``Z`` of all windows of the task."""
    train, test, y = task["train"], task["test"], task["y"]
    result = evaluation.linear_probe(
        Z[train], y[train], Z[test], y[test], random_state=seed
    )
    auroc = result.get("auroc")
    if auroc is None:  # probes that do not report it yet
        auroc = roc_auc_score(y[test], result["model"].predict_proba(Z[test])[:, 1])
    return {
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "auroc": float(auroc),
    }


def supervised_row(task: dict, args: argparse.Namespace, seed: int) -> dict:
    train, test, X, y = task["train"], task["test"], task["X"], task["y"]
    params: dict[str, Any] = {
        "n_components": args.n_components,
        "n_epochs": args.supervised_epochs,
        "batch_size": args.batch_size,
        "encoder_params": {"hidden_dim": args.hidden_dim, "depth": args.depth},
    }
    if "validation_fraction" in evaluation.EncoderClassifier().get_params():
        params["validation_fraction"] = None  # all epochs, no random hold-out
    model = evaluation.EncoderClassifier(
        "cnn", **params, device=args.device, random_state=seed
    )
    start = time.perf_counter()
    model.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    proba = model.predict_proba(X[test])[:, list(model.classes_).index(1)]
    row = evaluation.scores(y[test], model.predict(X[test]))
    return {
        "accuracy": row["accuracy"],
        "macro_f1": row["macro_f1"],
        "auroc": float(roc_auc_score(y[test], proba)),
        "fit_time_s": fit_time,
        "params": params,
    }


def persistence_row(task: dict) -> dict:
    test, y = task["test"], task["y"]
    row = evaluation.scores(y[test], task["naive_pred"][test])
    return {
        "accuracy": row["accuracy"],
        "macro_f1": row["macro_f1"],
        "auroc": float(roc_auc_score(y[test], task["naive"][test])),
    }


def views(spec: str | None) -> augment.Augmentation | None:
    """A preset (``finance``), ``crop,jitter`` or ``crop + jitter(sigma=0.1)``.

    ``None`` or ``method`` means the method's own default views.
    """
    if spec is None or spec == "method":
        return None
    if "(" not in spec:  # the comma-separated form: each with its defaults
        spec = " + ".join(spec.split(","))
    return augment.parse(spec)


def pretrain(X: np.ndarray, args: argparse.Namespace, seed: int) -> tuple[Any, dict]:
    params = {
        "encoder": "cnn",
        "n_components": args.n_components,
        "n_epochs": args.epochs,
        "batch_size": args.batch_size,
        "encoder_params": {"hidden_dim": args.hidden_dim, "depth": args.depth},
    }
    model = tscl.ContrastiveEncoder(
        method=args.method,
        augment=views(args.augment),
        **params,
        device=args.device,
        random_state=seed,
    )
    start = time.perf_counter()
    model.fit(X)
    info = {
        "params": params,
        "fit_time_s": time.perf_counter() - start,
        "final_loss": float(model.history_["loss"][-1]),
        "n_pretrain": len(X),
    }
    return model, info


# ------------------------------------------------------------------ the run


def run(args: argparse.Namespace, data: dict, context: dict) -> list[dict]:
    tasks = {name: task_data(data, name, args) for name in args.tasks}
    X_pre = pretraining_windows(data, args)
    print(f"pretraining windows: {X_pre.shape} from {', '.join(data)}", flush=True)
    rows = []

    def emit(task: str, method: str, seed: int | None, row: dict) -> None:
        row = {
            "task": task,
            "method": method,
            "seed": seed,
            **tasks[task]["info"],
            "fit_time_s": None,
            **row,
            **context,
        }
        rows.append(row)
        print(_line(row), flush=True)

    for name, task in tasks.items():
        emit(name, "persistence", None, persistence_row(task))
    for seed in range(args.seeds):
        model, info = pretrain(X_pre, args, seed)
        print(f"seed {seed}: pretrained in {info['fit_time_s']:.1f} s", flush=True)
        for name, task in tasks.items():
            Z = model.transform(task["X"])
            label = f"{args.method} [{args.augment}]"
            emit(name, label, seed, {**info, **probe_row(Z, task, seed)})
            flat = task["X"].reshape(len(task["X"]), -1)
            emit(name, "raw logistic", seed, probe_row(flat, task, seed))
            emit(name, "supervised CNN", seed, supervised_row(task, args, seed))
    return rows


def _line(row: dict) -> str:
    seed = "-" if row["seed"] is None else row["seed"]
    text = (
        f"{row['task']:6s} {row['method']:15s} seed {seed}  acc {row['accuracy']:.3f}"
        f"  macro-F1 {row['macro_f1']:.3f}  AUROC {row['auroc']:.3f}"
    )
    if row["fit_time_s"] is not None:
        text += f"  fit {row['fit_time_s']:.1f} s"
    return text


def markdown(rows: list[dict], header: str) -> str:
    """One table per task: accuracy, macro-F1, AUROC per method over seeds."""
    lines = [header, ""]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        info = mine[0]
        lines += [
            f"**{task}** ({TASKS[task][0]}, horizon {info['horizon']}): train "
            f"{info['n_train']} windows ({info['train_span']}, "
            f"{info['positive_rate_train']:.1%} positive), test {info['n_test']} "
            f"({info['test_span']}, {info['positive_rate_test']:.1%} positive).",
            "",
            "| method | accuracy | macro-F1 | AUROC | seeds | fit (s) |",
            "|---|---|---|---|---|---|",
        ]
        for method in dict.fromkeys(r["method"] for r in mine):
            sel = [r for r in mine if r["method"] == method]
            fits = [r["fit_time_s"] for r in sel if r["fit_time_s"] is not None]
            cells = [cell([r[k] for r in sel]) for k in ("accuracy", "macro_f1")]
            cells += [cell([r["auroc"] for r in sel]), str(len(sel))]
            cells.append(f"{np.mean(fits):.1f}" if fits else "–")
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help=f"folder with <series>.csv price files (default {DATA})",
    )
    parser.add_argument(
        "--series",
        default=",".join(SERIES),
        help="comma-separated file stems; all pretrain, the first is the "
        f"downstream target (default {','.join(SERIES)})",
    )
    parser.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help=f"comma-separated tasks among {','.join(TASKS)} (default: all)",
    )
    parser.add_argument("--method", default="simclr", help="(default simclr)")
    parser.add_argument(
        "--augment",
        default="finance",
        help="views: a preset of tscl.augment.PRESETS, names of "
        "tscl.augment.AUGMENTATIONS joined by commas or +, e.g. crop,jitter, or "
        "'method' for the method's own default views (default: finance)",
    )
    parser.add_argument("--test-start", default="2015-01-01", help="(default 2015)")
    parser.add_argument("--window", type=int, default=60, help="(default 60)")
    parser.add_argument("--lookback", type=int, default=250, help="(default 250)")
    for name, help_text in (
        ("epochs", "pretraining epochs"),
        ("supervised_epochs", "epochs of the supervised CNN"),
        ("n_components", "CNN output size"),
        ("hidden_dim", "CNN hidden channels"),
        ("depth", "CNN blocks"),
        ("pretrain_stride", "days between pretraining windows"),
        ("seeds", "seeds 0 .. N-1"),
    ):
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=int,
            default=None,
            help=f"{help_text} (default {DEFAULTS[name]}; {QUICK[name]} with --quick)",
        )
    parser.add_argument("--batch-size", type=int, default=128, help="(default 128)")
    add_run_arguments(parser, "finance", "a smoke test")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    _check_args(parser, args)
    return args


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_run_arguments(parser, args, (*DEFAULTS, "window", "lookback"))
    if args.batch_size < 2:
        parser.error(f"--batch-size must be at least 2; got {args.batch_size}")
    args.series = args.series.split(",")
    args.tasks = args.tasks.split(",")
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    try:
        views(args.augment)
    except ValueError as error:
        parser.error(f"--augment: {error}")
    if args.method not in methods.METHODS:
        parser.error(
            f"unknown method {args.method!r}; choose from {list(methods.METHODS)}"
        )
    longest = max(TASKS[t][1] for t in args.tasks)
    if args.window < max(longest, 2):
        parser.error(
            f"--window must be at least 2 and the longest task horizon ({longest}); "
            f"got {args.window}"
        )
    try:
        np.datetime64(args.test_start, "D")
    except ValueError:
        parser.error(
            f"--test-start must be a date like 2015-01-01; got {args.test_start}"
        )


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    data = load_returns(args)
    with threads(args.threads):
        context = {
            **run_context(args.device),
            "series": args.series,
            "test_start": args.test_start,
            "window": args.window,
            "lookback": args.lookback,
        }
        header = (
            f"Finance benchmark: {args.method} "
            f"(views: {args.augment or 'the method default'}) pretrained "
            f"{args.epochs} epochs on "
            f"{','.join(args.series)} (windows of {args.window} returns scaled by "
            f"the last {args.lookback}, every {args.pretrain_stride} days, before "
            f"{args.test_start}); CNN (hidden {args.hidden_dim}, depth "
            f"{args.depth}), {args.n_components} components, batch "
            f"{args.batch_size}; supervised CNN {args.supervised_epochs} epochs; "
            f"{args.seeds} seed(s); {describe(context)}"
        )
        print(header, flush=True)
        start = time.perf_counter()
        rows = run(args, data, context)
        print(f"total {time.perf_counter() - start:.1f} s", flush=True)
    write_results(rows, args.out, markdown(rows, header))
    return rows


if __name__ == "__main__":
    main()
