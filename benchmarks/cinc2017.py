"""PhysioNet/CinC Challenge 2017 at real scale: does pretraining pay off?

The 7,527 labelled single-lead records of the Challenge 2017 training set that
``../shared/data/ecg/challenge2017-training`` holds (or any folder in
PhysioNet's layout: ``REFERENCE.csv`` and one ``<name>.mat`` per record), in a
fixed, seeded, stratified 5-fold split written to ``cinc2017_folds.csv`` beside
this script. For each fold, the recipe (:class:`tscl.records.RecordEncoder`
with :func:`tscl.records.default_ecg_estimator`) pretrains on the training
folds' records without their labels (never on the test fold); then, with 1%,
10% and 100% of the training folds' labels (:func:`tscl.evaluation.subsample_labels`,
three label draws below 100%), these are scored on the test fold:

* ``probe``: a linear probe (logistic regression, ``C`` by inner CV) on the
  pretrained encoder's record vectors;
* ``fine-tuned``: the pretrained encoder and a linear head trained end to end
  on random 10 s stretches of the labelled records, epochs chosen by early
  stopping on a validation split of them (whole records);
* ``scratch``: the same network and training from random weights;
* ``rr``: the 15 RR-interval features (:func:`tscl.features.rr_features`);
* ``learned + rr``: the record vectors, compressed by PCA to a size chosen by
  inner cross-validation on the labelled records (4, 8, 16, 32 or all 128),
  and the RR features side by side.

The feature rows are scored with two classifiers: the linear probe and
gradient-boosted trees (``HistGradientBoostingClassifier``, class-balanced),
which is what a user would fit on hand-made features. The score is the
Challenge's F1: the mean of the N, A and O F1 scores (the noisy class is
predicted but not averaged). Per-class F1, accuracy and fit times are kept.

``--select`` runs the recipe selection instead: each candidate of
:data:`CANDIDATES` pretrains on the training folds of fold 0 and is scored by
an inner stratified 5-fold cross-validation on those records only (the test
fold is never seen). What suggested each candidate:

* 100 Hz instead of 50 Hz: P waves (absent in AF) and the QRS shape need more
  than 50 Hz; rhythm networks run at 200-500 Hz [Hannun2019]_, [Ribeiro2020]_,
  self-supervised ECG work at 100 Hz [Mehari2022]_.
* SimCLR with the ``"ecg"`` views [Chen2020]_ against the package default,
  SoftCLT [Lee2024]_ on TS2Vec's network [Yue2022]_, and BYOL [Grill2020]_.
* ``groups``: every window of one record a positive of the others, CLOCS's
  patient-specific contrast [Kiyasseh2021]_.
* depth 4/5/6 of ``ResNet1D``: receptive fields of 5.5, 11 and 23 s, from one
  to many beats [Hannun2019]_.
* ``pooling``: a record as the mean (or mean and maximum) of its windows, as
  record-level scores are aggregated from windows in [Mehari2022]_.

.. [Chen2020] Chen, Kornblith, Norouzi and Hinton, A simple framework for
   contrastive learning of visual representations, ICML 2020.
.. [Grill2020] Grill et al., Bootstrap your own latent, NeurIPS 2020.
.. [Hannun2019] Hannun et al., Cardiologist-level arrhythmia detection and
   classification in ambulatory electrocardiograms using a deep neural network,
   Nature Medicine 25, 2019.
.. [Kiyasseh2021] Kiyasseh, Zhu and Clifton, CLOCS: contrastive learning of
   cardiac signals across space, time, and patients, ICML 2021.
.. [Lee2024] Lee, Park and Lee, Soft contrastive learning for time series,
   ICLR 2024.
.. [Mehari2022] Mehari and Strodthoff, Self-supervised representation learning
   from 12-lead ECG data, Computers in Biology and Medicine 141, 2022.
.. [Ribeiro2020] Ribeiro et al., Automatic diagnosis of the 12-lead ECG using a
   deep neural network, Nature Communications 11, 2020.
.. [Yue2022] Yue et al., TS2Vec: towards universal representation of time
   series, AAAI 2022.

Usage::

    python benchmarks/cinc2017.py --threads 2             # all folds, hours on a CPU
    python benchmarks/cinc2017.py --folds 0 1 --threads 2  # some folds; resumes
    python benchmarks/cinc2017.py --select NAME [NAME ...] # candidates of the recipe
    python benchmarks/cinc2017.py --report                 # tables from the results
    python benchmarks/cinc2017.py --quick                  # smoke test, shipped records

Results go to ``benchmarks/results/cinc2017.jsonl`` (one line per fold, row,
classifier, fraction and label draw) and ``cinc2017.md``; the selection to
``cinc2017_selection.jsonl`` and ``.md``. Pretrained fold models are cached in
``--cache`` (a run that stops resumes from them and from the JSON lines).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import threadpoolctl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

import tscl
from tscl import datasets, demo, evaluation, features, records

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

FS = 300.0
FOLDS_FILE = Path(__file__).resolve().parent / "cinc2017_folds.csv"
FOLD_SEED = 2017
FRACTIONS = (0.01, 0.1, 1.0)
LABEL_DRAWS = {0.01: 3, 0.1: 3, 1.0: 1}
CLASSES = ("N", "A", "O", "~")
F1_LABELS = ["N", "A", "O"]  # the Challenge's F1 averages these three
#: Most epochs of the fine-tuned and scratch networks, by label fraction (early
#: stopping on the validation split picks the epoch).
MAX_EPOCHS = {0.01: 200, 0.1: 100, 1.0: 60}
PATIENCE = 10
#: Learned dimensions kept beside the RR features (PCA; the size is chosen by
#: an inner 5-fold CV on the labelled records, as in the demo; 128 is all).
PCA_SIZES = (4, 8, 16, 32, 128)
#: Settings of the quick smoke run (shipped records, tiny network).
QUICK = {
    "encoder_params": {"hidden_dim": 4, "depth": 2},
    "n_epochs": 1,
    "max_epochs": 2,
}


# ------------------------------------------------------------------ data


def load(root: Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """The records (mV, 300 Hz), labels and names of a Challenge 2017 folder."""
    signals, labels, names = datasets.load_challenge2017(root)
    return signals, labels, names


def folds(names: list[str], labels: np.ndarray, path: Path) -> np.ndarray:
    """The fold of each record, read from ``path`` (written there the first time).

    The split is ``StratifiedKFold(5, shuffle=True, random_state=2017)`` over
    the records in ``REFERENCE.csv`` order. A file that names other records or
    labels than the folder holds is an error, never silently redone.
    """
    if not path.is_file():
        split = StratifiedKFold(5, shuffle=True, random_state=FOLD_SEED)
        fold = np.empty(len(labels), dtype=np.int64)
        for k, (_, test) in enumerate(split.split(np.zeros(len(labels)), labels)):
            fold[test] = k
        with path.open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["record", "label", "fold"])
            writer.writerows(zip(names, labels, fold.tolist(), strict=True))
        return fold
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if [r["record"] for r in rows] != list(names) or [r["label"] for r in rows] != [
        str(label) for label in labels
    ]:
        raise SystemExit(
            f"{path} lists other records or labels than the data folder "
            f"({len(rows)} rows against {len(names)} records). Point --root at the "
            "Challenge 2017 training set (7,527 records of REFERENCE.csv v3) or "
            "pass --folds-file with a new path to write a split of your data."
        )
    return np.array([int(r["fold"]) for r in rows])


# ------------------------------------------------------------------ recipe


def recipe(args: argparse.Namespace, **changes: Any) -> records.RecordEncoder:
    """The RecordEncoder of the benchmark (the shipped recipe unless changed)."""
    estimator = records.default_ecg_estimator().set_params(
        device=args.device, random_state=0
    )
    if args.quick:
        estimator.set_params(
            encoder_params=QUICK["encoder_params"], n_epochs=QUICK["n_epochs"]
        )
    estimator.set_params(**changes.pop("estimator", {}))
    return records.RecordEncoder(estimator, fs=FS, **changes)


#: Candidates of ``--select``: changes to :func:`recipe` (SimCLR, ResNet1D at
#: 100 Hz, the "ecg" views, 60 epochs), each with what suggested it. ``corpus``
#: adds the 48 MIT-BIH records (both leads) to the pretraining records.
THIRTY = {"n_epochs": 30}
CANDIDATES: dict[str, dict[str, Any]] = {
    # the recipe
    "simclr-resnet-100hz": {},
    # half the pretraining
    "simclr-resnet-100hz-30ep": {"estimator": THIRTY},
    # 50 Hz, the demo's rate, where P waves and the QRS shape are blurred
    "simclr-resnet-50hz-30ep": {"model_fs": 50.0, "estimator": THIRTY},
    # CLOCS's patient-specific contrast: every window of a record a positive
    "simclr-resnet-100hz-groups-30ep": {"groups": True, "estimator": THIRTY},
    # receptive fields of 23 s and 5.5 s instead of 11 s (one stage more, less)
    "simclr-resnet-100hz-depth6-30ep": {
        "estimator": {**THIRTY, "encoder_params": {"depth": 6}}
    },
    "simclr-resnet-100hz-depth4-30ep": {
        "estimator": {**THIRTY, "encoder_params": {"depth": 4}}
    },
    # record-level pooling: the mean and the maximum of a record's windows
    "simclr-resnet-100hz-meanmax": {"pooling": "meanmax"},
    # the MIT-BIH Arrhythmia records (both leads) added to the corpus
    "simclr-resnet-100hz-mitdb-30ep": {"corpus": "mitdb", "estimator": THIRTY},
    # BYOL: no negatives, so no shortcut through what tells records apart
    "byol-resnet-100hz-30ep": {"estimator": {**THIRTY, "method": "byol"}},
    # SoftCLT's soft hierarchical contrast of timesteps on the strided ResNet1D
    "softclt-resnet-100hz-30ep": {
        "estimator": {**THIRTY, "method": "softclt", "augment": None, "batch_size": 64}
    },  # fmt: skip
    # tscl's default: SoftCLT on TS2Vec's network with TS2Vec's budget
    "softclt-ts2vec-100hz": {
        "estimator": {
            "method": "softclt",
            "encoder": "auto",
            "augment": None,
            "n_components": "auto",
            "n_epochs": "auto",
            "batch_size": "auto",
        }
    },
}


# ------------------------------------------------------------------ scoring


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """The Challenge F1 (mean of N, A, O), per-class F1 and accuracy."""
    per_class = f1_score(y_true, y_pred, labels=list(CLASSES), average=None)
    return {
        "f1": float(np.mean(per_class[:3])),
        **{f"f1_{c}": float(v) for c, v in zip(CLASSES, per_class, strict=True)},
        "accuracy": float(accuracy_score(y_true, y_pred)),
    }


def linear(
    Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, y_test: np.ndarray
) -> Any:
    """Predictions of the linear probe (``C`` by inner CV on the training rows).

    One BLAS thread: lbfgs on a few thousand rows is ten times slower with two
    threads fighting over small products.
    """
    with threadpoolctl.threadpool_limits(1):
        result = evaluation.linear_probe(
            Z_train, y_train, Z_test, y_test, f1_labels=F1_LABELS
        )
    return result["y_pred"]


def boosted(
    Z_train: np.ndarray, y_train: np.ndarray, Z_test: np.ndarray, y_test: np.ndarray
) -> Any:
    """Predictions of class-balanced gradient-boosted trees (``y_test`` unused)."""
    model = HistGradientBoostingClassifier(class_weight="balanced", random_state=0)
    return model.fit(Z_train, y_train).predict(Z_test)


CLASSIFIERS = {"linear": linear, "boosted": boosted}


def network(
    encoder: records.RecordEncoder,
    prepared: list[np.ndarray],
    y: np.ndarray,
    labelled: np.ndarray,
    test: np.ndarray,
    init: Any,
    max_epochs: int,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Fine-tune (``init``: a pretrained encoder) or train from scratch (None).

    The network trains on random ``window_s`` stretches of the labelled
    records' context windows, early stopped on a stratified validation split of
    whole records; a record's prediction is the mean of its windows'
    probabilities. Returns the predictions and the epochs run.
    """
    size = encoder._samples(encoder.context_s)
    window = encoder._samples(encoder.window_s)
    X, owner = records.record_windows([prepared[i] for i in labelled], size)
    template = encoder.model_
    clf = evaluation.EncoderClassifier(
        template.encoder,
        n_components=template.encoder_.out_dim,
        encoder_params=template.encoder_params,
        init_encoder=init,
        augment=tscl.augment.RandomCrop(window),
        n_epochs=max_epochs,
        batch_size=128,
        patience=PATIENCE,
        device=template.device,
        random_state=seed,
    )
    clf.fit(X, y[labelled][owner], groups=owner)
    X_test, test_owner = records.record_windows(
        [prepared[i] for i in test], window, encoder._samples(encoder.stride_s)
    )
    proba = np.zeros((len(test), len(clf.classes_)))
    np.add.at(proba, test_owner, clf.predict_proba(X_test))
    return clf.classes_[proba.argmax(axis=1)], len(clf.history_["loss"])


# ------------------------------------------------------------------ folds


def pretrained(
    args: argparse.Namespace, signals: list[np.ndarray], train: np.ndarray, name: str
) -> tuple[records.RecordEncoder, float]:
    """The fold's RecordEncoder, from the cache or pretrained on ``train``."""
    encoder = recipe(args)
    path = args.cache / name
    if not args.quick and (path / "config.json").is_file():  # quick: never cached
        encoder._check_params()
        encoder.model_ = tscl.load(path)
        encoder.n_features_in_ = 0
        return encoder, float(sum(encoder.model_.history_["epoch_time"]))
    start = time.perf_counter()
    encoder.fit([signals[i] for i in train])
    seconds = time.perf_counter() - start
    if not args.quick:
        encoder.model_.save(path)
    return encoder, seconds


def run_fold(
    args: argparse.Namespace,
    data: tuple[list[np.ndarray], np.ndarray, np.ndarray],
    fold: int,
    done: set[tuple],
) -> list[dict]:
    """Every row, fraction and label draw of one fold (those not done yet)."""
    signals, labels, fold_of = data
    train, test = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
    cached = (args.cache / f"fold{fold}" / "config.json").is_file()
    what = "loading the model pretrained" if cached else "pretraining"
    print(f"Fold {fold}: {what} on {len(train)} records...", flush=True)
    encoder, pretrain_s = pretrained(args, signals, train, f"fold{fold}")
    start = time.perf_counter()
    Z = encoder.transform(signals)
    embed_s = time.perf_counter() - start
    start = time.perf_counter()
    rr = features.rr_features(signals, FS)
    rr_s = time.perf_counter() - start
    prepared = encoder.prepare(signals)
    base = {"fold": fold, "pretrain_s": pretrain_s, "embed_s": embed_s, "rr_s": rr_s}
    rows = []
    for fraction in FRACTIONS:
        for draw in range(LABEL_DRAWS[fraction] if not args.quick else 1):
            picked = evaluation.subsample_labels(labels[train], fraction, draw)
            labelled = train[picked]
            for row, run in _rows(args, Z, rr, encoder, prepared, labels).items():
                key = (fold, row, fraction, draw)
                if key in done:
                    continue
                start = time.perf_counter()
                y_pred, extra = run(labelled, test, fraction, draw)
                result = {
                    **base,
                    "row": row,
                    "fraction": fraction,
                    "draw": draw,
                    "n_labelled": len(labelled),
                    **score(labels[test], y_pred),
                    "fit_s": time.perf_counter() - start,
                    **extra,
                }
                _say(result)
                rows.append(result)
                if not args.quick:
                    append_row({**result, **args.run_context}, args.out)
    return rows


def _rows(
    args: argparse.Namespace,
    Z: np.ndarray,
    rr: np.ndarray,
    encoder: records.RecordEncoder,
    prepared: list[np.ndarray],
    labels: np.ndarray,
) -> dict[str, Any]:
    """The benchmark's rows: name -> run(labelled, test, fraction, draw)."""

    def on(features_: np.ndarray, classify: Any) -> Any:
        def run(labelled, test, fraction, draw):  # noqa: ANN001, ANN202
            return classify(
                features_[labelled], labels[labelled], features_[test], labels[test]
            ), {}

        return run

    def joined(classify: Any) -> Any:
        def run(labelled, test, fraction, draw):  # noqa: ANN001, ANN202
            with threadpoolctl.threadpool_limits(1):
                Z_train, Z_test = demo._compress_and_join(
                    Z, rr, labels, labelled, test, 0, PCA_SIZES
                )
            y_pred = classify(Z_train, labels[labelled], Z_test, labels[test])
            return y_pred, {"learned_dims": Z_train.shape[1] - rr.shape[1]}

        return run

    def trained(init: Any) -> Any:
        def run(labelled, test, fraction, draw):  # noqa: ANN001, ANN202
            epochs = QUICK["max_epochs"] if args.quick else MAX_EPOCHS[fraction]
            start = init() if init is not None else None
            y_pred, ran = network(
                encoder, prepared, labels, labelled, test, start, epochs, draw
            )
            return y_pred, {"epochs_run": ran}

        return run

    return {
        "probe (linear)": on(Z, linear),
        "fine-tuned": trained(lambda: encoder.model_.encoder_),
        "scratch": trained(None),
        "rr (linear)": on(rr, linear),
        "rr (boosted)": on(rr, boosted),
        "learned + rr (linear)": joined(linear),
        "learned + rr (boosted)": joined(boosted),
    }


# ------------------------------------------------------------------ selection


def select(
    args: argparse.Namespace, data: tuple[list[np.ndarray], np.ndarray, np.ndarray]
) -> list[dict]:
    """Score each named candidate by inner 5-fold CV on fold 0's training records."""
    signals, labels, fold_of = data
    train = np.flatnonzero(fold_of != 0)
    y = labels[train]
    rr = features.rr_features([signals[i] for i in train], FS)
    rows = []
    for name in args.select:
        changes = _changes(name)
        extra = _mitdb_records(args) if changes.pop("corpus", None) else []
        encoder = recipe(args, **changes)
        start = time.perf_counter()
        encoder.fit([signals[i] for i in train] + extra)
        pretrain_s = time.perf_counter() - start
        Z = encoder.transform([signals[i] for i in train])
        inner = StratifiedKFold(5, shuffle=True, random_state=0)
        scores: dict[str, list[float]] = {}
        for a, b in inner.split(Z, y):
            for key, (features_, classify, fraction) in {
                "probe_100": (Z, linear, 1.0),
                "probe_10": (Z, linear, 0.1),
                "learned_rr_linear_100": (np.hstack([Z, rr]), linear, 1.0),
                "learned_rr_boosted_100": (np.hstack([Z, rr]), boosted, 1.0),
                "rr_linear_100": (rr, linear, 1.0),
                "rr_boosted_100": (rr, boosted, 1.0),
            }.items():
                for draw in range(1 if fraction == 1.0 else 3):
                    part = a[evaluation.subsample_labels(y[a], fraction, draw)]
                    y_pred = classify(features_[part], y[part], features_[b], y[b])
                    scores.setdefault(key, []).append(score(y[b], y_pred)["f1"])
        row = {
            "candidate": name,
            "changes": repr(_changes(name)),
            "pretrain_s": pretrain_s,
            "final_loss": encoder.model_.history_["loss"][-1],
            **{k: float(np.mean(v)) for k, v in scores.items()},
            **args.run_context,
        }
        print(
            f"{name}: "
            + ", ".join(f"{k} {row[k]:.4f}" for k in scores)
            + f" (pretraining {pretrain_s:.0f} s)",
            flush=True,
        )
        rows.append(row)
        if not args.quick:
            append_row(row, args.select_out)
    return rows


def _mitdb_records(args: argparse.Namespace) -> list[np.ndarray]:
    """Both leads of every MIT-BIH record of ``--mitdb``, resampled to 300 Hz."""
    import wfdb

    records = []
    for header in sorted(args.mitdb.glob("*.hea")):
        record = wfdb.rdrecord(str(header.with_suffix("")))
        for lead in record.p_signal.T:
            lead = np.nan_to_num(lead)
            records.append(datasets.resample(lead, float(record.fs), FS))
    return records


def _changes(name: str) -> dict[str, Any]:
    """A deep copy of a candidate's changes (set_params keeps what it is given)."""
    import copy

    return copy.deepcopy(CANDIDATES[name])


# ------------------------------------------------------------------ output


def _say(row: dict) -> None:
    print(
        f"  fold {row['fold']} {row['row']:24s} {row['fraction']:>5.0%} draw "
        f"{row['draw']}: F1 {row['f1']:.3f} (N {row['f1_N']:.3f}, A "
        f"{row['f1_A']:.3f}, O {row['f1_O']:.3f}), accuracy {row['accuracy']:.3f}, "
        f"{row['fit_s']:.0f} s",
        flush=True,
    )


def markdown(rows: list[dict], header: str) -> str:
    """The benchmark's tables: F1 by row and fraction, per class, times."""
    order = list(dict.fromkeys(r["row"] for r in rows))
    folds_seen = sorted({r["fold"] for r in rows})

    def runs(row: str, fraction: float) -> list[dict]:
        return [r for r in rows if r["row"] == row and r["fraction"] == fraction]

    def fold_means(row: str, fraction: float, key: str) -> list[float]:
        """One value per fold: the mean over its label draws."""
        found = runs(row, fraction)
        return [
            float(np.mean([r[key] for r in found if r["fold"] == k]))
            for k in folds_seen
            if any(r["fold"] == k for r in found)
        ]

    labelled = {
        f: int(np.mean([r["n_labelled"] for r in rows if r["fraction"] == f]))
        for f in FRACTIONS
        if any(r["fraction"] == f for r in rows)
    }
    main_table = table(
        ["row"] + [f"{f:.0%} ({n} labelled)" for f, n in labelled.items()],
        [[row] + [cell(fold_means(row, f, "f1")) for f in labelled] for row in order],
    )
    per_class = table(
        ["row", "F1 N", "F1 A", "F1 O", "F1 ~", "accuracy", "fit s"],
        [
            [row]
            + [
                cell(fold_means(row, 1.0, key))
                for key in ("f1_N", "f1_A", "f1_O", "f1_~", "accuracy")
            ]
            + [cell(fold_means(row, 1.0, "fit_s"), 0)]
            for row in order
            if runs(row, 1.0)
        ],
    )
    pretrain = cell([float(np.mean([r["pretrain_s"] for r in rows if r["fold"] == k]))
                     for k in folds_seen], 0)  # fmt: skip
    return "\n".join(
        [
            header,
            "",
            f"**Challenge F1 (mean of the N, A and O F1 scores), mean ± std over "
            f"folds {', '.join(map(str, folds_seen))}** (below 100%, each fold's "
            "value is the mean of 3 label draws)",
            "",
            main_table,
            "",
            "**100% of the labels: per-class F1 and accuracy (mean ± std over "
            "folds), fit time per fold (s)**",
            "",
            per_class,
            "",
            f"Pretraining per fold: {pretrain} s.",
            "",
        ]
    )


def selection_markdown(rows: list[dict], header: str) -> str:
    keys = [
        "probe_100",
        "probe_10",
        "learned_rr_linear_100",
        "learned_rr_boosted_100",
        "rr_linear_100",
        "rr_boosted_100",
    ]
    body = [
        [r["candidate"]] + [f"{r[k]:.4f}" for k in keys] + [f"{r['pretrain_s']:.0f}"]
        for r in rows
    ]
    return "\n".join(
        [
            header,
            "",
            "**Recipe selection: inner 5-fold CV F1 on the training folds of fold 0 "
            "(the test fold is never used)**",
            "",
            table(["candidate", *keys, "pretrain s"], body),
            "",
        ]
    )


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=SHARED_DATA / "ecg" / "challenge2017-training",
        help="Challenge 2017 training folder (REFERENCE.csv and .mat files)",
    )
    parser.add_argument(
        "--mitdb", type=Path, default=SHARED_DATA / "ecg" / "mitdb-full",
        help="MIT-BIH records for the candidate that adds them",
    )  # fmt: skip
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--folds-file", type=Path, default=FOLDS_FILE)
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "runs" / "cinc2017",
        help="where the pretrained fold models are kept (default runs/cinc2017)",
    )  # fmt: skip
    parser.add_argument(
        "--select", nargs="+", choices=sorted(CANDIDATES), default=None,
        help="score these candidate recipes instead (inner CV on fold 0's "
        "training folds)",
    )  # fmt: skip
    parser.add_argument("--report", action="store_true", help="only rewrite the tables")
    add_run_arguments(
        parser, "cinc2017", "a smoke test: the shipped 300 records, tiny network"
    )
    args = parser.parse_args(argv)
    check_run_arguments(parser, args)
    if args.quick:
        args.root = ROOT / "datasets" / "challenge2017"
        args.folds = [0]
        args.folds_file = None
    args.select_out = args.out.with_name(args.out.stem + "_selection.jsonl")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    import json

    args = parse_args(argv)
    with threads(args.threads):
        args.run_context = context(args.device)
        header = f"PhysioNet/CinC 2017, {describe(args.run_context)}"
        if args.report:
            rows = [json.loads(line) for line in args.out.read_text().splitlines()]
            write_results(rows, args.out, markdown(rows, header), appended=True)
            return rows
        signals, labels, names = load(args.root)
        if args.folds_file is None:  # the quick run: a split of the shipped records
            fold_of = np.arange(len(labels)) % 5
        else:
            fold_of = folds(names, labels, args.folds_file)
        data = (signals, labels, fold_of)
        print(f"{len(labels)} records; {header}", flush=True)
        if args.select:
            rows = select(args, data)
            previous = _read(args.select_out) if not args.quick else rows
            if not args.quick:
                args.select_out.with_suffix(".md").write_text(
                    selection_markdown(previous, header)
                )
            return rows
        done = {
            (r["fold"], r["row"], r["fraction"], r["draw"]) for r in _read(args.out)
        }
        rows = []
        for fold in args.folds:
            rows += run_fold(args, data, fold, done if not args.quick else set())
    if args.quick:
        print("\n" + markdown(rows, header))
        return rows
    everything = _read(args.out)
    write_results(everything, args.out, markdown(everything, header), appended=True)
    return rows


def _read(path: Path) -> list[dict]:
    import json

    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


if __name__ == "__main__":
    main()
