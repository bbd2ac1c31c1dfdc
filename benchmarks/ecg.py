"""ECG: self-supervised pretraining on unlabelled records, judged with few labels.

Two tasks on real PhysioNet data:

1. **PhysioNet/CinC Challenge 2017 AF classification** (N, A = atrial
   fibrillation, O = other rhythm, ~ = noisy). SimCLR pretrains the demo's CNN
   (``tscl.demo``: 50 Hz, views are two random 10 s stretches of a 30 s
   window, scaled and jittered) on unlabelled windows: MIT-BIH records (both
   leads; the full 30-minute records of ``../shared/data/ecg/mitdb`` when
   present, else the shipped 10-minute ones) and the Challenge records
   themselves, without their labels. The Challenge records are split once,
   stratified, into halves (train / test). From the training half,
   :func:`tscl.evaluation.subsample_labels` picks 1%, 5%, 10% and 100% of the
   labelled records (at least one per class) for each seed; on the same records:

   * ``SimCLR + linear probe``: a logistic regression on the record's mean
     window representation;
   * ``supervised CNN (scratch)``: the same CNN trained end to end on the
     windows of those records (:class:`tscl.evaluation.EncoderClassifier`,
     early stopping off, as a validation split of 2-15 records is noise);
     window probabilities averaged per record.

   The score is the Challenge's macro-F1 over N, A and O on the fixed test
   half, also accuracy and AUROC (one-vs-rest).

2. **Beat classification on MIT-BIH record 100**, the only record with
   reference beat labels here (AAMI N and S; its single V beat is dropped).
   Beats of 0.7 s around each annotated R peak at 100 Hz
   (:func:`tscl.datasets.segment_beats`), each standardised. SimCLR pretrains
   the default CNN on unlabelled beats of the other, non-paced records, whose
   R peaks come from wfdb's XQRS detector. Record 100 is split in time (first
   half train, second half test; an intra-patient split, as no other labelled
   record is available) and the label fractions are as above, against a
   logistic regression on the raw beats and the CNN trained from scratch.

Usage::

    python benchmarks/ecg.py                  # about 15 minutes on 2 CPU cores
    python benchmarks/ecg.py --seeds 5 --device cuda
    python benchmarks/ecg.py --quick          # a smoke test on the shipped data

Results go to ``benchmarks/results/ecg.jsonl`` (one line per task, method,
fraction and seed) and ``ecg.md`` (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from tscl import ContrastiveEncoder, datasets, demo, evaluation

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    cell,
    check_run_arguments,
    context,
    describe,
    table,
    threads,
    write_results,
)

F1_LABELS = demo.F1_LABELS
FRACTIONS = (0.01, 0.05, 0.1, 1.0)
MITDB_UNLABELLED = ["104", "106", "108", "113", "121", "202", "223", "231", "232"]
BEAT_FS = 100.0
SETTINGS = {
    "full": {"epochs": 30, "supervised_epochs": 20, "beat_epochs": 20, "beats": 6000},
    "quick": {"epochs": 1, "supervised_epochs": 1, "beat_epochs": 1, "beats": 300},
}


# ------------------------------------------------------------------ Challenge 2017


def challenge_task(args: argparse.Namespace, settings: dict) -> list[dict]:
    """Label fractions of the Challenge 2017 records: SimCLR probe vs scratch CNN."""
    raw, labels, _ = datasets.load_challenge2017(args.challenge)
    signals = [datasets.resample(x, demo.CHALLENGE_FS, demo.FS) for x in raw]
    windows, owner = demo._record_windows(signals)  # 10 s windows, per record
    corpus = [
        datasets.load_mitdb_windows(
            args.mitdb,
            fs=demo.FS,
            window_s=demo.CONTEXT_S,
            stride_s=demo.CONTEXT_S / 2,
            lead=lead,
        )
        for lead in (0, 1)
    ]
    size = int(demo.FS * demo.CONTEXT_S)
    corpus += [  # the Challenge records, unlabelled, in the same 30 s windows
        datasets.sliding_windows(x[None, :], size, size // 2)
        for x in signals
        if len(x) >= size
    ]
    unlabelled = demo._znorm(np.concatenate(corpus))
    print(
        f"Challenge 2017: pretraining on {len(unlabelled)} unlabelled 30 s windows "
        f"(MIT-BIH both leads + Challenge records); {len(labels)} labelled records",
        flush=True,
    )
    model = ContrastiveEncoder(
        "simclr",  # the recipe the figures below were measured with
        "cnn",
        n_components=demo.N_COMPONENTS,
        encoder_params=demo.ENCODER_PARAMS,
        augment=demo.VIEWS,
        n_epochs=settings["epochs"],
        device=args.device,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(unlabelled)
    pretrain = time.perf_counter() - start
    Z = demo._per_record(model.transform(windows), owner, len(labels))
    train, test = train_test_split(
        np.arange(len(labels)), test_size=0.5, stratify=labels, random_state=0
    )
    runs = {
        "SimCLR + linear probe": (
            Z[train],
            Z[test],
            functools.partial(evaluation.linear_probe, f1_labels=F1_LABELS),
        ),
        "supervised CNN (scratch)": (
            train[:, None],
            test[:, None],
            functools.partial(
                _scratch_records, windows, owner, args, settings["supervised_epochs"]
            ),
        ),
    }
    rows = []
    for method, (Z_train, Z_test, probe) in runs.items():
        study = evaluation.label_fraction_study(
            Z_train,
            labels[train],
            Z_test,
            labels[test],
            fractions=FRACTIONS,
            seeds=range(args.seeds),
            probe=probe,
        )
        for row in study["rows"]:
            rows.append(
                {
                    "task": "challenge2017",
                    "method": method,
                    **row,
                    "pretrain_s": pretrain,
                }
            )
            _say(rows[-1])
    return rows


def _scratch_records(
    windows: np.ndarray,
    owner: np.ndarray,
    args: argparse.Namespace,
    epochs: int,
    train_records: np.ndarray,
    y_train: np.ndarray,
    test_records: np.ndarray,
    y_test: np.ndarray,
    *,
    random_state: int,
) -> dict[str, Any]:
    """Train the CNN on the windows of ``train_records``; score records of the rest."""
    label_of = dict(zip(train_records[:, 0].tolist(), y_train.tolist(), strict=True))
    keep = np.isin(owner, train_records[:, 0])
    clf = evaluation.EncoderClassifier(
        n_components=demo.N_COMPONENTS,
        encoder_params=demo.ENCODER_PARAMS,
        n_epochs=epochs,
        validation_fraction=None,
        device=args.device,
        random_state=random_state,
    )
    start = time.perf_counter()
    clf.fit(windows[keep], np.array([label_of[o] for o in owner[keep]]))
    fit_time = time.perf_counter() - start
    tested = np.isin(owner, test_records[:, 0])
    position = {record: i for i, record in enumerate(test_records[:, 0].tolist())}
    record_proba = demo._per_record(
        clf.predict_proba(windows[tested]),
        np.array([position[o] for o in owner[tested].tolist()]),
        len(test_records),
    )
    y_pred = clf.classes_[record_proba.argmax(axis=1)]
    return {
        **evaluation.scores(
            y_test, y_pred, F1_LABELS, y_score=record_proba, classes=clf.classes_
        ),
        "fit_time": fit_time,
    }


# ------------------------------------------------------------------ beats


def beats_task(args: argparse.Namespace, settings: dict) -> list[dict]:
    """Label fractions of record 100's beats: SimCLR probe vs raw and scratch CNN."""
    common = {"fs": BEAT_FS, "channels": 0, "normalize": "beat"}
    beats = datasets.segment_beats(str(Path(args.mitdb) / "100"), **common)
    keep = np.isin(beats.aami, ["N", "S"])
    X, y = beats.X[keep], beats.aami[keep]
    others = [r for r in MITDB_UNLABELLED if r != "104"]  # 104 is paced
    unlabelled = datasets.load_mitdb_beats(
        args.mitdb, records=others, annotation=None, **common
    ).X
    rng = np.random.default_rng(0)
    if len(unlabelled) > settings["beats"]:
        unlabelled = unlabelled[rng.choice(len(unlabelled), settings["beats"], False)]
    half = len(X) // 2  # in time: the first half trains, the second tests
    print(
        f"Record 100: {len(X)} beats (N {int((y == 'N').sum())}, S "
        f"{int((y == 'S').sum())}); pretraining on {len(unlabelled)} unlabelled "
        f"beats of records {', '.join(others)}",
        flush=True,
    )
    model = ContrastiveEncoder(
        "simclr",
        "cnn",
        n_epochs=settings["beat_epochs"],
        device=args.device,
        random_state=0,
    )
    if args.quick:
        model.set_params(encoder_params={"hidden_dim": 8, "depth": 2})
    start = time.perf_counter()
    model.fit(unlabelled)
    pretrain = time.perf_counter() - start
    Z = model.transform(X)
    runs = {
        "SimCLR + linear probe": (Z, evaluation.linear_probe),
        "raw beat + linear probe": (X[:, 0], evaluation.linear_probe),
        "supervised CNN (scratch)": (
            X,
            functools.partial(
                evaluation.fine_tune,
                None,
                n_epochs=settings["supervised_epochs"],
                validation_fraction=None,
                device=args.device,
            ),
        ),
    }
    rows = []
    for method, (features, probe) in runs.items():
        study = evaluation.label_fraction_study(
            features[:half],
            y[:half],
            features[half:],
            y[half:],
            fractions=FRACTIONS,
            seeds=range(args.seeds),
            probe=probe,
        )
        for row in study["rows"]:
            rows.append({"task": "mitdb100_beats", "method": method, **row})
            rows[-1]["pretrain_s"] = pretrain if method.startswith("SimCLR") else None
            _say(rows[-1])
    return rows


# ------------------------------------------------------------------ output


def _say(row: dict) -> None:
    print(
        f"  {row['task']:15s} {row['method']:26s} {row['fraction']:>5.0%} seed "
        f"{row['seed']}: macro-F1 {row['macro_f1']:.3f}, accuracy "
        f"{row['accuracy']:.3f}, AUROC {row['auroc']:.3f} "
        f"({row['n_labelled']} labelled)",
        flush=True,
    )


def markdown(rows: list[dict], header: str) -> str:
    """One table per task: macro-F1 (and AUROC) per method and label fraction."""
    parts = [header, ""]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        fractions = sorted({r["fraction"] for r in mine})
        methods = list(dict.fromkeys(r["method"] for r in mine))
        body = []
        for method in methods:
            line = [method]
            for fraction in fractions:
                runs = [
                    r
                    for r in mine
                    if r["method"] == method and r["fraction"] == fraction
                ]
                line.append(
                    f"{cell([r['macro_f1'] for r in runs])} "
                    f"(AUROC {cell([r['auroc'] for r in runs])})"
                )
            body.append(line)
        labelled = {
            f: int(np.mean([r["n_labelled"] for r in mine if r["fraction"] == f]))
            for f in fractions
        }
        columns = ["method"] + [f"{f:.0%} ({labelled[f]} labelled)" for f in fractions]
        title = {
            "challenge2017": "Challenge 2017 AF, test half (150 records): macro-F1 "
            "over N, A, O (AUROC one-vs-rest), mean ± std over seeds",
            "mitdb100_beats": "MIT-BIH record 100 beats, N vs S, second half of the "
            "record: macro-F1 (AUROC), mean ± std over seeds",
        }[task]
        parts += [f"**{title}**", "", table(columns, body), ""]
    return "\n".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    shared = SHARED_DATA / "ecg"
    parser.add_argument(
        "--mitdb",
        type=Path,
        default=None,
        help=f"MIT-BIH folder (default {shared / 'mitdb'} when present, else the "
        "shipped datasets/mitdb; always the shipped one with --quick)",
    )
    parser.add_argument(
        "--challenge",
        type=Path,
        default=ROOT / "datasets" / "challenge2017",
        help="Challenge 2017 folder with REFERENCE.csv (default: shipped)",
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds (default 5)")
    parser.add_argument(
        "--tasks",
        nargs="+",
        choices=["challenge2017", "beats"],
        default=["challenge2017", "beats"],
    )
    add_run_arguments(parser, "ecg", "a smoke test on the shipped data, 1 epoch")
    args = parser.parse_args(argv)
    if args.mitdb is None:
        full = shared / "mitdb"
        use_full = full.is_dir() and not args.quick
        args.mitdb = full if use_full else ROOT / "datasets" / "mitdb"
    if args.quick:
        args.seeds = 1
    check_run_arguments(parser, args, ("seeds",))
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    rows: list[dict] = []
    with threads(args.threads):
        run_context = context(args.device)
        header = (
            f"ECG benchmark: SimCLR {settings['epochs']} epochs (Challenge), "
            f"{settings['beat_epochs']} (beats), supervised "
            f"{settings['supervised_epochs']} epochs, {args.seeds} seed(s), MIT-BIH "
            f"from {args.mitdb}; "
            f"{describe(run_context)}"
        )
        print(header, flush=True)
        if "challenge2017" in args.tasks:
            rows += challenge_task(args, settings)
        if "beats" in args.tasks:
            rows += beats_task(args, settings)
    rows = [{**row, **run_context} for row in rows]
    write_results(rows, args.out, markdown(rows, header))
    return rows


if __name__ == "__main__":
    main()
