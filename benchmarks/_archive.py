"""What ``ucr.py`` and ``uea.py`` share: models, one run, resuming, the report.

Each run fits one model with one seed on one dataset's training split, encodes
both splits and scores the representations with TS2Vec's protocol (an RBF SVC,
``C`` by 5-fold cross-validation on the training split:
``tscl.evaluation.svm_probe(..., protocol="ts2vec")``). The models:

* ``default``: ``tscl.ContrastiveEncoder()`` with every parameter at its default;
* ``ts2vec``: ``ContrastiveEncoder(method="ts2vec")``, tscl's TS2Vec;
* ``reference``: ``ts2vec_reference.TS2VecReference``, TS2Vec's official code
  repeated statement by statement, with its own data handling (NaN kept,
  ``load_UCR``'s normalisation), seeded as its ``train.py`` seeds;
* any other label given as ``--variant LABEL='{"method": ..., ...}'``:
  ``ContrastiveEncoder(**params)``, for experiments. Two keys change the
  method's recipe instead, for the TS2Vec family's budget experiments:
  ``"_n_steps": N`` (N optimiser steps, 3N above 100,000 values, in place of
  200 and 600) and ``"_schedule"`` (``"cosine"`` or ``"constant"``).

Every run is one JSON line in ``--out``; a run whose (dataset, model, seed) is
already there is skipped, so an interrupted benchmark resumes where it stopped.
The report is built from every line of ``--out`` for the datasets and models
asked for: mean accuracy per dataset and model, T-Loss's published figure, the
fit time and its ratio to the reference, then per model the mean accuracy, the
mean rank, and wins/ties/losses against T-Loss and the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import tscl
from tscl import methods
from tscl.evaluation import svm_probe
from tscl.training import SCHEDULES

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ts2vec_reference as reference_module  # noqa: E402
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    append_row,
    check_run_arguments,
    table,
    threads,
    write_results,
)

PUBLISHED = Path(__file__).resolve().parent / "published"
BUILTIN = {"default": {}, "ts2vec": {"method": "ts2vec"}}
REFERENCE = "reference"
#: Two mean accuracies closer than this count as a tie.
TIE = 5e-4
#: What ``--quick`` changes in the built-in models: one epoch of a tiny network.
QUICK = {"n_epochs": 1, "encoder_params": {"hidden_dim": 8, "depth": 2}}


def parse_archive_args(
    argv: list[str] | None,
    archive: str,
    description: str,
    quick_dataset: str,
    datasets_in: Callable[[Path], list[str]],
) -> argparse.Namespace:
    """The arguments of ``ucr.py`` and ``uea.py``, checked.

    ``archive`` ("ucr" or "uea") names the default folders: ``../shared/data/
    <archive>`` when present, else ``$TSCL_DATA`` or ``~/tscl_data``; with
    ``--quick``, the shipped ``datasets/<archive>`` and ``quick_dataset``.
    """
    name = archive.upper()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help=f"folder of {name} datasets in the archive's layout (default: "
        f"{SHARED_DATA / archive} when present, else $TSCL_DATA or ~/tscl_data; "
        f"datasets/{archive} with --quick)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--datasets", nargs="+", help="dataset names")
    which.add_argument(
        "--all", action="store_true", help="every dataset folder found in --root"
    )
    add_model_arguments(parser)
    add_run_arguments(
        parser,
        archive,
        f"a smoke test in seconds: shipped {quick_dataset}, tiny models",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="train nothing: rebuild the report from the runs in --out",
    )
    args = parser.parse_args(argv)
    args.reference_iters = None  # TS2Vec's own budget
    if args.quick:
        args.root = args.root or ROOT / "datasets" / archive
        args.datasets = args.datasets or [quick_dataset]
        args.seeds, args.reference_iters = 1, 2
        args.variant = [*args.variant, *quick_variants(args.models)]
    if args.root is None:
        from tscl.datasets import data_home

        shared = SHARED_DATA / archive
        args.root = shared if shared.is_dir() else data_home()
    check_run_arguments(parser, args, ("seeds",))
    if args.all:
        args.datasets = datasets_in(args.root)
        if not args.datasets:
            parser.error(f"--all found no {name} dataset folder in {args.root}")
    if not args.datasets:
        parser.error("name the datasets with --datasets A B ... or pass --all")
    return args


def quick_variants(models: list[str]) -> list[str]:
    """Tiny, one-epoch versions of the built-in models, as --variant values."""
    return [
        f"{label}={json.dumps({**BUILTIN[label], **QUICK})}"
        for label in models
        if label in BUILTIN
    ]


def published(name: str) -> dict[str, float]:
    """Published accuracies by dataset from ``published/<name>.csv``."""
    found = {}
    for line in (PUBLISHED / f"{name}.csv").read_text().splitlines():
        if line.startswith("#") or line.startswith("dataset,"):
            continue
        dataset, _, value = line.partition(",")
        if value.strip():
            found[dataset] = float(value)
    return found


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--models``, ``--variant``, ``--with-reference``, ``--seeds``, ``--missing``."""
    parser.add_argument(
        "--models",
        nargs="+",
        default=["default"],
        help="tscl models: 'default' (ContrastiveEncoder()), 'ts2vec' "
        "(method='ts2vec') or labels given with --variant (default: default)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="another model, ContrastiveEncoder(**JSON), e.g. "
        'soft=\'{"method": "ts2vec", "n_components": 160}\' (repeatable)',
    )
    parser.add_argument(
        "--with-reference",
        action="store_true",
        help="also run TS2Vec's official code as ts2vec_reference.py repeats it",
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument(
        "--missing",
        default="resample",
        choices=["pad", "resample"],
        help="how tscl's models get gaps and variable lengths filled (the "
        "loaders' policy; default resample); the reference keeps NaN as TS2Vec",
    )


def model_table(args: argparse.Namespace) -> dict[str, dict[str, Any] | None]:
    """The models to run by label: tscl parameters, or None for the reference."""
    models: dict[str, dict[str, Any] | None] = {}
    variants = {}
    for text in args.variant:
        label, sep, spec = text.partition("=")
        try:
            params = json.loads(spec) if sep else None
        except json.JSONDecodeError as err:
            raise SystemExit(f"error: --variant {label}: {err}") from None
        if not isinstance(params, dict):
            raise SystemExit(f"error: --variant {text!r} is not LABEL='{{...}}'")
        steps, schedule = params.get("_n_steps", 1), params.get("_schedule", "constant")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise SystemExit(
                f"error: --variant {label}: _n_steps must be an integer >= 1"
            )
        if schedule not in SCHEDULES:
            raise SystemExit(
                f"error: --variant {label}: _schedule must be one of {SCHEDULES}"
            )
        variants[label] = params
    for label in args.models:
        if label not in BUILTIN and label not in variants:
            raise SystemExit(
                f"error: unknown model {label!r}: use default, ts2vec or a --variant"
            )
        models[label] = variants.get(label, BUILTIN.get(label))
    for label, params in variants.items():
        models.setdefault(label, params)
    if args.with_reference:
        models[REFERENCE] = None
    return models


def _score(Z_train: Any, y_train: Any, Z_test: Any, y_test: Any, seed: int) -> dict:
    result = svm_probe(
        Z_train, y_train, Z_test, y_test, protocol="ts2vec", random_state=seed
    )
    return {
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "cv_accuracy": cv_accuracy(Z_train, y_train, seed),
    }


def cv_accuracy(Z_train: Any, y_train: Any, seed: int) -> float:
    """The protocol's accuracy by stratified cross-validation on the training split.

    What choices of a default are judged by: the test split is never looked
    at. Up to 5 folds (fewer when a class has fewer series); each fold runs
    the whole protocol (its own search of ``C``) on the other folds.
    """
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y_train)
    smallest = int(np.unique(y, return_counts=True)[1].min())
    n_splits = min(5, smallest)
    if n_splits < 2:
        return float("nan")
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    scores = []
    for train, test in folds.split(Z_train, y):
        result = svm_probe(
            Z_train[train], y[train], Z_train[test], y[test], protocol="ts2vec"
        )
        scores.append(result["accuracy"] * len(test))
    return float(np.sum(scores) / len(y))


def run_tscl(
    split: Any, params: dict[str, Any], seed: int, args: argparse.Namespace
) -> dict:
    """Fit, encode and score one tscl model."""
    X_train, y_train, X_test, y_test = split
    settings = {k: v for k, v in params.items() if not k.startswith("_")}
    model = tscl.ContrastiveEncoder(**settings, device=args.device, random_state=seed)
    start = time.perf_counter()
    with recipe(settings.get("method", "softclt"), params):
        model.fit(X_train)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    encode_time = time.perf_counter() - start
    return {
        **_score(Z_train, y_train, Z_test, y_test, seed),
        "fit_time_s": fit_time,
        "encode_time_s": encode_time,
        "n_steps": model.history_["n_steps"],
        "final_loss": model.history_["loss"][-1],
        "params": params,
    }


@contextlib.contextmanager
def recipe(method: str, params: dict[str, Any]) -> Iterator[None]:
    """Give ``method``'s class the variant's budget and schedule meanwhile."""
    cls = methods.method_class(method)
    saved = {
        k: cls.__dict__[k] for k in ("default_budget", "schedule") if k in cls.__dict__
    }
    if "_n_steps" in params:
        steps = int(params["_n_steps"])
        cls.default_budget = classmethod(  # type: ignore[method-assign]
            lambda _, n, values: {"n_steps": steps if values <= 100_000 else 3 * steps}
        )
    if "_schedule" in params:
        cls.schedule = params["_schedule"]
    try:
        yield
    finally:
        for key in ("default_budget", "schedule"):
            if key in saved:
                setattr(cls, key, saved[key])
            elif key in cls.__dict__:
                delattr(cls, key)


def run_reference(split: Any, seed: int, args: argparse.Namespace) -> dict:
    """Fit, encode and score TS2Vec's official code (``ts2vec_reference``)."""
    X_train, y_train, X_test, y_test = split
    reference_module.seed_everything(seed)
    start = time.perf_counter()
    model = reference_module.TS2VecReference(X_train.shape[-1], args.device)
    losses = model.fit(X_train, n_iters=args.reference_iters)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    Z_train, Z_test = model.encode(X_train), model.encode(X_test)
    encode_time = time.perf_counter() - start
    return {
        **_score(Z_train, y_train, Z_test, y_test, seed),
        "fit_time_s": fit_time,
        "encode_time_s": encode_time,
        "n_steps": model.n_iters,
        "final_loss": losses[-1] if losses else None,
        "params": {},
    }


def done_runs(out: Path) -> dict[tuple[str, str, int], dict]:
    """The latest row of each (dataset, model, seed) already in ``out``."""
    rows: dict[tuple[str, str, int], dict] = {}
    if out.is_file():
        for line in out.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["dataset"], row["model"], row["seed"]] = row
    return rows


def run_all(
    datasets: list[str],
    load: Callable[[str, str], Any],
    load_reference: Callable[[str], Any],
    args: argparse.Namespace,
    run_context: dict,
) -> None:
    """Run every missing (dataset, model, seed), appending each row to ``--out``."""
    models = model_table(args)
    done = done_runs(args.out)
    with threads(args.threads):
        for name in datasets:
            todo = [
                (label, seed)
                for label in models
                for seed in range(args.seeds)
                if (name, label, seed) not in done
            ]
            if not todo:
                continue
            split = load(name, args.missing)
            reference_split = load_reference(name) if REFERENCE in models else None
            for label, seed in todo:
                params = models[label]
                if params is None:
                    result = run_reference(reference_split, seed, args)
                else:
                    result = run_tscl(split, params, seed, args)
                row = {
                    "dataset": name,
                    "model": label,
                    "seed": seed,
                    "n_train": len(split[0]),
                    "n_test": len(split[2]),
                    "n_channels": 1 if split[0].ndim == 2 else split[0].shape[1],
                    "length": split[0].shape[-1],
                    **result,
                    **run_context,
                }
                print(
                    f"{name:24s} {label:12s} seed {seed}  accuracy "
                    f"{row['accuracy']:.3f}  fit {row['fit_time_s']:.1f} s",
                    flush=True,
                )
                append_row(row, args.out)


def summary(
    rows: list[dict], models: list[str], t_loss: dict[str, float]
) -> tuple[list[list[Any]], list[str], dict[str, dict[str, float]]]:
    """Per-dataset rows of the table, the dataset names and the mean accuracies."""
    names = sorted({r["dataset"] for r in rows})
    means: dict[str, dict[str, float]] = {label: {} for label in models}
    body = []
    for name in names:
        mine = [r for r in rows if r["dataset"] == name]
        line: list[Any] = [name, mine[0]["n_train"], mine[0]["length"]]
        for label in models:
            runs = [r for r in mine if r["model"] == label]
            values = [r["accuracy"] for r in runs]
            if values:
                means[label][name] = float(np.mean(values))
                line.append(f"{np.mean(values):.3f} ± {np.std(values):.3f}")
            else:
                line.append("")
        line.append(f"{t_loss[name]:.3f}" if name in t_loss else "")
        reference_time = [r["fit_time_s"] for r in mine if r["model"] == REFERENCE]
        for label in models:
            times = [r["fit_time_s"] for r in mine if r["model"] == label]
            cell = f"{np.mean(times):.1f}" if times else ""
            if times and reference_time and label != REFERENCE:
                cell += f" ({np.mean(times) / np.mean(reference_time):.2f}x)"
            line.append(cell)
        body.append(line)
    return body, names, means


def _wtl(ours: dict[str, float], theirs: dict[str, float]) -> str:
    shared = [n for n in ours if n in theirs]
    wins = sum(ours[n] > theirs[n] + TIE for n in shared)
    losses = sum(ours[n] < theirs[n] - TIE for n in shared)
    return f"{wins}/{len(shared) - wins - losses}/{losses}"


def ranks(means: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    """Mean rank of each model over the datasets every model has (1 = best)."""
    from scipy.stats import rankdata

    labels = [m for m in means if means[m]]
    shared = [n for n in names if all(n in means[m] for m in labels)]
    if not shared:
        return {}
    table_ = np.array([[means[m][n] for m in labels] for n in shared])
    order = np.array([rankdata(-row) for row in table_])
    return dict(zip(labels, order.mean(axis=0).tolist(), strict=True))


def report(
    rows: list[dict], models: list[str], t_loss: dict[str, float], header: str
) -> str:
    """The markdown report: per-dataset table, then one line per model."""
    body, names, means = summary(rows, models, t_loss)
    columns = ["dataset", "train", "length", *models, "T-Loss (published)"]
    columns += [f"fit s {m}" for m in models]
    lines = [header, "", table(columns, body), ""]
    mean_rank = ranks(means, names)
    for label in models:
        ours = means[label]
        if not ours:
            continue
        line = (
            f"- **{label}**: mean accuracy {np.mean(list(ours.values())):.3f} on "
            f"{len(ours)} dataset(s)"
        )
        if label in mean_rank:
            line += f", mean rank {mean_rank[label]:.2f} of {len(mean_rank)}"
        line += f"; wins/ties/losses against T-Loss {_wtl(ours, t_loss)}"
        if label != REFERENCE and means.get(REFERENCE):
            shared = [n for n in ours if n in means[REFERENCE]]
            gap = np.mean([ours[n] - means[REFERENCE][n] for n in shared])
            ratios = [
                np.mean([r["fit_time_s"] for r in rows if r["model"] == label
                         and r["dataset"] == n])
                / np.mean([r["fit_time_s"] for r in rows if r["model"] == REFERENCE
                           and r["dataset"] == n])
                for n in shared
            ]  # fmt: skip
            line += (
                f", against the reference {_wtl(ours, means[REFERENCE])} "
                f"({gap:+.3f} mean accuracy on {len(shared)}); fit time "
                f"{min(ratios):.2f}x to {max(ratios):.2f}x the reference's"
            )
        lines.append(line + ".")
    return "\n".join(lines) + "\n"


def finish(
    datasets: list[str],
    args: argparse.Namespace,
    t_loss: dict[str, float],
    header: str,
) -> list[dict]:
    """Report every row in ``--out`` for the datasets and models of this run."""
    models = list(model_table(args))
    latest = done_runs(args.out)
    rows = [
        r for (d, m, _), r in sorted(latest.items()) if d in datasets and m in models
    ]
    text = report(rows, models, t_loss, header) if rows else header + "\n"
    write_results(rows, args.out, text, appended=True)
    return rows
