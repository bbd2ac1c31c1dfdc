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

2. **Heartbeats at the standard inter-patient split** (de Chazal et al.
   2004): the annotated beats of MIT-BIH's DS1 records train, those of DS2
   test, no patient on both sides, AAMI classes N, S, V and F (Q beats and the
   four paced records left out). Beats of 0.7 s around each annotated R peak
   of lead 0 at 180 Hz, baseline removed. SimCLR pretrains a ResNet1D on the
   beats of DS1 and DS2 without labels (views: a 0.7 s stretch of 0.9 s
   around the beat, scaled and jittered). A class-balanced logistic
   regression, its ``C`` chosen by patient-wise cross-validation on DS1 only,
   is fitted on: the RR features of de Chazal et al. and their per-patient
   ratios (:func:`tscl.features.beat_rr_features`), the raw beat, the raw
   beat + RR, the pretrained encoder, and the pretrained encoder + RR. The
   sensitivity and positive predictive value of each class on DS2 are printed
   beside de Chazal et al.'s published figures. Needs all 48 records with
   their annotations (``--mitdb-full``, ``../shared/data/ecg/mitdb-full``).

Usage::

    python benchmarks/ecg.py                  # about 40 minutes on 2 CPU cores
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
import threadpoolctl
from sklearn.model_selection import train_test_split

import tscl
from tscl import ContrastiveEncoder, datasets, demo, evaluation, features

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
BEAT_FS = 180.0  # half MIT-BIH's 360 Hz: the QRS shape is kept
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

#: de Chazal et al. (2004), DS2, their linear discriminant with features of both
#: leads (the configuration they recommend): sensitivity and positive
#: predictive value (%) per AAMI class.
DE_CHAZAL = {
    "N": (86.9, 99.2),
    "S": (75.9, 38.5),
    "V": (77.7, 81.9),
    "F": (89.4, 8.6),
}
BEAT_CLASSES = ["N", "S", "V", "F"]
BEAT_CONTEXT = (0.35, 0.55)  # seconds before and after the R peak, pretraining
BEAT_WINDOW = (0.25, 0.45)  # the beat that is embedded: the context's centre
#: Two records of DS1 and two of DS2 for the --quick smoke run.
QUICK_BEAT_RECORDS = ["106", "119", "100", "200"]


def _beats(
    root: Path,
    fs: float,
    window: tuple[float, float],
    records: list[str] | None = None,
) -> datasets.Beats:
    """The annotated N, S, V and F beats of DS1 and DS2, lead 0, centred."""
    beats = datasets.load_mitdb_beats(
        root,
        records=records or [*datasets.MITDB_DS1, *datasets.MITDB_DS2],
        fs=fs,
        channels=0,
        before=window[0],
        after=window[1],
    )
    beats = beats[np.isin(beats.aami, BEAT_CLASSES)]
    X = beats.X - np.median(beats.X, axis=2, keepdims=True)  # baseline per beat
    return datasets.Beats(**{**beats.__dict__, "X": X.astype(np.float32)})


def _rr(beats: datasets.Beats) -> np.ndarray:
    """de Chazal's RR intervals and their per-patient ratios, per beat."""
    # R-peak times: the beats keep their sample at 360 Hz, MIT-BIH's rate
    return features.beat_rr_features(
        beats.rr_pre, beats.rr_post, beats.record, beats.sample / 360.0
    )


def _sensitivity_ppv(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Sensitivity and positive predictive value (%) of each AAMI class."""
    out = {}
    for c in BEAT_CLASSES:
        hit = np.sum((y_pred == c) & (y_true == c))
        out[f"se_{c}"] = 100.0 * hit / max(np.sum(y_true == c), 1)
        out[f"ppv_{c}"] = 100.0 * hit / max(np.sum(y_pred == c), 1)
    return out


def _fit_linear(
    Z_train: np.ndarray, y: np.ndarray, groups: np.ndarray, Z_test: np.ndarray
) -> np.ndarray:
    """Class-balanced logistic regression, ``C`` chosen on DS1 by record-wise CV.

    The folds hold whole patients (``GroupKFold``), as DS2 does, and score the
    macro-F1; DS2's labels are never seen.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    search = GridSearchCV(
        make_pipeline(
            StandardScaler(),
            LogisticRegression(class_weight="balanced", max_iter=3000),
        ),
        {"logisticregression__C": np.logspace(-3, 1, 5)},
        cv=GroupKFold(min(5, len(np.unique(groups)))),
        scoring="f1_macro",
    )
    with threadpoolctl.threadpool_limits(1):
        search.fit(Z_train, y, groups=groups)
        return search.predict(Z_test)


def beats_task(args: argparse.Namespace, settings: dict) -> list[dict]:
    """Inter-patient AAMI beat classes: DS1 trains, DS2 tests (de Chazal 2004)."""
    records = QUICK_BEAT_RECORDS if args.quick else None
    beats = _beats(args.mitdb_full, BEAT_FS, BEAT_WINDOW, records)
    context_beats = _beats(args.mitdb_full, BEAT_FS, BEAT_CONTEXT, records)
    train, test = datasets.inter_patient_split(beats.record)
    y = beats.aami
    counts = {c: (int((y[train] == c).sum()), int((y[test] == c).sum()))
              for c in BEAT_CLASSES}  # fmt: skip
    print(
        f"MIT-BIH inter-patient: {len(train)} DS1 beats, {len(test)} DS2 beats "
        f"(DS1/DS2 per class: {counts}); pretraining on all of them without labels",
        flush=True,
    )
    size = beats.X.shape[2]
    model = ContrastiveEncoder(
        "simclr",
        "resnet",
        augment=tscl.augment.RandomCrop(size)
        + tscl.augment.Scaling(0.1)
        + tscl.augment.Jitter(0.03),
        encoder_params={"depth": 3},
        n_epochs=settings["beat_epochs"],
        batch_size=256,
        device=args.device,
        random_state=0,
    )
    if args.quick:
        model.set_params(encoder_params={"hidden_dim": 8, "depth": 2})
    start = time.perf_counter()
    model.fit(context_beats.X)
    pretrain = time.perf_counter() - start
    Z = model.transform(beats.X)
    rr = _rr(beats)
    raw = beats.X[:, 0, ::2]  # the beat at half the rate
    runs = {
        "RR features": rr,
        "raw beat": raw,
        "raw beat + RR": np.hstack([raw, rr]),
        "SimCLR beat encoder": Z,
        "SimCLR beat encoder + RR": np.hstack([Z, rr]),
    }
    rows = []
    for method, F in runs.items():
        start = time.perf_counter()
        y_pred = _fit_linear(F[train], y[train], beats.record[train], F[test])
        row = {
            "task": "mitdb_inter_patient",
            "method": method,
            **_sensitivity_ppv(y[test], y_pred),
            "accuracy": float(np.mean(y_pred == y[test])),
            "fit_time": time.perf_counter() - start,
            "pretrain_s": pretrain if method.startswith("SimCLR") else None,
            "n_train": int(len(train)),
            "n_test": int(len(test)),
        }
        print(
            f"  {method:26s} "
            + " ".join(
                f"{c} {row[f'se_{c}']:.1f}/{row[f'ppv_{c}']:.1f}" for c in BEAT_CLASSES
            ),
            flush=True,
        )
        rows.append(row)
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
        if task == "mitdb_inter_patient":
            parts += [beats_markdown(mine), ""]
            continue
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


def beats_markdown(rows: list[dict]) -> str:
    """Sensitivity / positive predictive value per class on DS2, with de Chazal's."""
    head = ["method"] + [f"{c} Se / +P" for c in BEAT_CLASSES] + ["accuracy"]
    body = [
        ["de Chazal et al. 2004 (published, LD, both leads)"]
        + [f"{se:.1f} / {ppv:.1f}" for se, ppv in DE_CHAZAL.values()]
        + ["–"]
    ]
    for r in rows:
        body.append(
            [r["method"]]
            + [f"{r[f'se_{c}']:.1f} / {r[f'ppv_{c}']:.1f}" for c in BEAT_CLASSES]
            + [f"{100 * r['accuracy']:.1f}"]
        )
    title = (
        f"**MIT-BIH inter-patient split: DS1 ({rows[0]['n_train']} beats) trains, "
        f"DS2 ({rows[0]['n_test']} beats) tests; sensitivity / positive predictive "
        "value (%) per AAMI class**"
    )
    return "\n".join([title, "", table(head, body)])


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
        "--mitdb-full",
        type=Path,
        default=shared / "mitdb-full",
        help=f"all 48 MIT-BIH records with annotations (default {shared / 'mitdb-full'}"
        "); the beat task is skipped without it",
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
        if "beats" in args.tasks and (args.mitdb_full / "100.atr").is_file():
            rows += beats_task(args, settings)
        elif "beats" in args.tasks:
            print(f"Beat task skipped: no MIT-BIH records in {args.mitdb_full}.")
    rows = [{**row, **run_context} for row in rows]
    write_results(rows, args.out, markdown(rows, header))
    return rows


if __name__ == "__main__":
    main()
