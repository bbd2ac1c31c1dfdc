"""``tscl demo``: pretrain on every shipped ECG recording, judge on Challenge 2017 AF.

The whole job on the real records shipped in ``datasets/``:

1. SimCLR (dilated residual CNN) pretrains, without labels, on every ECG
   recording the repository ships: 30 s windows of the MIT-BIH records (both
   leads) and of the 300 Challenge 2017 records, resampled to 50 Hz. The two
   views of a window are two random 10 s stretches of it, scaled and jittered
   (the ``"ecg"`` preset): the encoder learns what stays the same along a
   recording (rhythm, morphology). Passing the recordings as ``groups`` (every
   window of a recording a positive) was measured too and scored lower here
   (macro-F1 0.467 against 0.498, one seed), so the demo does not.
2. The labelled Challenge 2017 records are cut into 10 s windows; a record is
   represented by the mean of its windows' representations.
3. Stratified 5-fold cross-validation compares a linear probe on the pretrained
   encoder with (a) the same probe on a randomly initialised encoder, (b)
   RR-interval features (:func:`tscl.features.rr_features`), (c) the learned
   and the RR features side by side, (d) the encoder that ships with tscl,
   ``ecg-cinc2017`` (:mod:`tscl.pretrained`: pretrained on 7,227 other
   Challenge 2017 records, none of these 300), alone and beside the RR
   features, and (e) the same CNN trained supervised from scratch on each
   fold's labels. Rows (a)-(c) show what pretraining on the few shipped
   recordings buys, (d) what pretraining on a large corpus buys.
4. One table (macro-F1 over N, A, O, the challenge's metric; accuracy; fit time)
   and a PNG with the loss curve and a 2-D map of the embeddings.

The pretraining corpus holds the signals (never the labels) of the records that
are later scored, as when a clinic pretrains on all of its own unlabelled
recordings before labelling a few.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold

from tscl import augment, datasets, distributed, encoders, evaluation, features
from tscl import pretrained as pretrained_module
from tscl._validation import import_optional
from tscl.estimator import ContrastiveEncoder

__all__ = ["run_demo"]

FS = 50.0  # common rate, Hz: enough for R peaks and rhythm, cheap on a CPU
WINDOW_S = 10.0  # evaluation window and view length, seconds
CONTEXT_S = 30.0  # pretraining window: the views are two stretches of it
CHALLENGE_FS = 300.0  # rate of the Challenge 2017 records, Hz
F1_LABELS = ["N", "A", "O"]  # the challenge's F1 leaves out the noisy class "~"
ENCODER_PARAMS = {"hidden_dim": 32, "depth": 6}
#: Two random 10 s stretches of each 30 s window, scaled and jittered: the
#: ``"ecg"`` preset, which a 30 s window crops to 10 s.
VIEWS = augment.ecg_augmentation()
N_COMPONENTS = 128
PCA_SIZES = (4, 8, 16, 32)  # learned dimensions kept beside the RR features
N_EPOCHS = 15  # pretraining epochs over the whole corpus
SUPERVISED_EPOCHS = 10  # epochs of the supervised CNN on each fold
LEARNED = "SimCLR pretrained + linear probe"
RR = "RR-interval features + probe"
BOTH = "SimCLR + RR features + probe"
SHIPPED_NAME = "ecg-cinc2017"
SHIPPED = "shipped ecg-cinc2017 + linear probe"
SHIPPED_BOTH = "shipped ecg-cinc2017 + RR + probe"
#: Rows that join learned features (compressed) to the RR features, and the
#: learned features they join.
JOINED = {BOTH: LEARNED, SHIPPED_BOTH: SHIPPED}


def _znorm(X: np.ndarray) -> np.ndarray:
    """Standardise each window and channel (ECG gains differ between devices)."""
    std = X.std(axis=-1, keepdims=True)
    return ((X - X.mean(axis=-1, keepdims=True)) / np.maximum(std, 1e-6)).astype(
        np.float32
    )


def _record_windows(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cut each record into non-overlapping windows; zero-pad records too short."""
    size = int(FS * WINDOW_S)
    windows, owner = [], []
    for i, sig in enumerate(signals):
        sig = _znorm(sig[None, :])[0]
        if len(sig) < size:
            sig = np.pad(sig, (0, size - len(sig)))
        w = datasets.sliding_windows(sig[None, :], size)  # (n_windows, 1, size)
        windows.append(w)
        owner.append(np.full(len(w), i))
    return np.concatenate(windows).astype(np.float32), np.concatenate(owner)


def _pretraining_corpus(
    root: Path, signals: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Every shipped recording in 30 s windows (half overlapping) and its record id.

    MIT-BIH: both leads of each record, one group per record (its two leads at
    one moment are positives). Challenge 2017: each record at ``FS``, one group
    per record, zero-padded to 30 s when shorter.
    """
    size, step = int(FS * CONTEXT_S), int(FS * CONTEXT_S / 2)
    windows, groups = [], []
    for record in sorted(p.stem for p in (root / "mitdb").glob("*.hea")):
        for lead in (0, 1):
            w = datasets.load_mitdb_windows(
                root / "mitdb",
                records=[record],
                fs=FS,
                window_s=CONTEXT_S,
                stride_s=CONTEXT_S / 2,
                lead=lead,
            )
            windows.append(_znorm(w))
            groups += [f"mitdb/{record}"] * len(w)
    for i, sig in enumerate(signals):
        sig = np.pad(sig, (0, max(0, size - len(sig))))
        w = datasets.sliding_windows(sig[None, :], size, step)
        windows.append(_znorm(w))
        groups += [f"challenge2017/{i}"] * len(w)
    return np.concatenate(windows), np.asarray(groups)


def _counts(labels: np.ndarray) -> str:
    """Count each label, as ``"A 50, N 150, ..."``."""
    names, counts = np.unique(labels, return_counts=True)
    return ", ".join(f"{c} {n}" for c, n in zip(names, counts, strict=True))


def _per_record(Z: np.ndarray, owner: np.ndarray, n_records: int) -> np.ndarray:
    """Mean of each record's window representations."""
    sums = np.zeros((n_records, Z.shape[1]))
    np.add.at(sums, owner, Z)
    return sums / np.bincount(owner, minlength=n_records)[:, None]


def _supervised_fold(
    windows: np.ndarray,
    owner: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    device: str,
    n_epochs: int,
    seed: int,
) -> dict[str, Any]:
    """Train the CNN from scratch on one fold; average window probabilities."""
    in_train = np.isin(owner, train)
    clf = evaluation.EncoderClassifier(
        "cnn",
        n_components=N_COMPONENTS,
        encoder_params=ENCODER_PARAMS,
        n_epochs=n_epochs,
        validation_fraction=None,  # every epoch, as before early stopping existed
        device=device,
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(windows[in_train], labels[owner[in_train]])
    fit_time = time.perf_counter() - start
    proba = _per_record(clf.predict_proba(windows), owner, len(labels))
    y_pred = clf.classes_[proba[test].argmax(axis=1)]
    return {**evaluation.scores(labels[test], y_pred, F1_LABELS), "fit_time": fit_time}


def _compress_and_join(
    learned: np.ndarray,
    rr: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
    sizes: tuple[int, ...] = PCA_SIZES,
) -> tuple[np.ndarray, np.ndarray]:
    """Join the learned features, reduced by PCA, to the RR features of one fold.

    128 learned dimensions next to 15 RR features swamp the RR features in
    a probe fitted on 240 records; a few principal components do not. How
    many (among ``sizes``) is chosen by an inner stratified 5-fold
    cross-validation on the training fold only; with fewer than 10 records,
    the smallest size is kept.
    """

    def joined(fit_rows: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
        pca = PCA(k, random_state=seed).fit(learned[fit_rows])
        return np.hstack([pca.transform(learned[rows]), rr[rows]])

    inner = StratifiedKFold(5, shuffle=True, random_state=seed)

    def inner_f1(k: int) -> float:
        scores = []
        for a, b in inner.split(train, labels[train]):
            a, b = train[a], train[b]
            r = evaluation.linear_probe(
                joined(a, a, k),
                labels[a],
                joined(a, b, k),
                labels[b],
                C=1.0,
                f1_labels=F1_LABELS,
            )
            scores.append(r["macro_f1"])
        return float(np.mean(scores))

    # PCA needs no more components than the smallest inner training split has rows
    largest = min(learned.shape[1], len(train) - len(train) // 5 - 1)
    fitting = [k for k in sizes if k <= largest] or [max(1, largest)]
    if len(train) < 10:
        best = fitting[0]  # too few records to cross-validate: the smallest size
    else:
        best = max(fitting, key=inner_f1)
    return joined(train, train, best), joined(train, test, best)


def _cross_validate(
    feats: dict[str, np.ndarray],
    windows: np.ndarray,
    owner: np.ndarray,
    labels: np.ndarray,
    device: str,
    supervised_epochs: int,
    seed: int,
    verbose: bool,
) -> dict[str, list[dict[str, Any]]]:
    """Score every method on the same stratified folds."""
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in feats}
    results["supervised CNN (scratch)"] = []
    for k, (train, test) in enumerate(folds.split(np.zeros(len(labels)), labels)):
        for name, Z in feats.items():
            if name in JOINED:
                Z_train, Z_test = _compress_and_join(
                    feats[JOINED[name]], feats[RR], labels, train, test, seed
                )
            else:
                Z_train, Z_test = Z[train], Z[test]
            r = evaluation.linear_probe(
                Z_train, labels[train], Z_test, labels[test], f1_labels=F1_LABELS
            )
            results[name].append(
                {k: r[k] for k in ("accuracy", "macro_f1", "fit_time")}
            )
        results["supervised CNN (scratch)"].append(
            _supervised_fold(
                windows, owner, labels, train, test, device, supervised_epochs, seed + k
            )
        )
        if verbose:
            print(f"  fold {k + 1}/5 done", flush=True)
    return results


def _table(results: dict[str, list[dict[str, Any]]], pretrain_time: float) -> str:
    """Format mean ± std over folds as a fixed-width table."""
    head = f"{'method':<34}{'macro-F1 (N,A,O)':>18}{'accuracy':>16}{'fit s/fold':>12}"
    lines = [head, "-" * len(head)]
    for name, folds in results.items():
        f1 = np.array([f["macro_f1"] for f in folds])
        acc = np.array([f["accuracy"] for f in folds])
        fit = np.mean([f["fit_time"] for f in folds])
        if name.startswith("SimCLR"):
            fit += pretrain_time  # pretraining is part of this method's cost
        lines.append(
            f"{name:<34}{f1.mean():>10.3f} ± {f1.std():.3f}"
            f"{acc.mean():>9.3f} ± {acc.std():.3f}{fit:>12.1f}"
        )
    return "\n".join(lines)


def _plot(
    history: dict[str, Any], Z: np.ndarray, labels: np.ndarray, path: Path
) -> None:
    """Loss curve and a t-SNE map of the record embeddings, coloured by class."""
    matplotlib = import_optional("matplotlib", "plot", "The demo's figure")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    xy = TSNE(2, init="pca", perplexity=30, random_state=0).fit_transform(
        StandardScaler().fit_transform(Z)
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(np.arange(1, len(history["loss"]) + 1), history["loss"], marker="o")
    left.set(
        xlabel="epoch",
        ylabel="NT-Xent loss",
        title="SimCLR pretraining on every shipped ECG recording",
    )
    names = {"N": "normal", "A": "AF", "O": "other rhythm", "~": "noisy"}
    for label, name in names.items():
        m = labels == label
        right.scatter(xy[m, 0], xy[m, 1], s=12, label=f"{name} ({m.sum()})")
    right.legend()
    right.set(
        title="Challenge 2017 records, t-SNE of SimCLR embeddings", xticks=[], yticks=[]
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_demo(
    data_dir: str | Path | None = None,
    out_dir: str | Path = "demo_output",
    *,
    device: str = "auto",
    n_epochs: int = N_EPOCHS,
    supervised_epochs: int = SUPERVISED_EPOCHS,
    seed: int = 0,
    verbose: bool = True,
) -> dict[str, Any]:
    """Run the demo end to end, print its table and return the results.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``mitdb/`` and ``challenge2017/``; defaults to the
        repository's ``datasets/``.
    out_dir : str or Path, default="demo_output"
        Where the PNG and ``demo_results.json`` are written.
    device : str, default="auto"
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    n_epochs : int, default=N_EPOCHS
        SimCLR pretraining epochs.
    supervised_epochs : int, default=SUPERVISED_EPOCHS
        Epochs of the supervised baseline on each fold.
    seed : int, default=0
        Seeds pretraining, initialisation and the folds.
    verbose : bool, default=True
        Print progress and the table.

    Returns
    -------
    dict
        Per-method fold scores, the table, timings and the PNG's path.
    """
    start = time.perf_counter()
    distributed.resolve_device(device)  # a bad device fails before any work
    root = Path(data_dir) if data_dir is not None else datasets.shipped_data_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = print if verbose else (lambda *a, **k: None)
    raw300, labels, _ = datasets.load_challenge2017(root / "challenge2017")
    signals = [datasets.resample(x, CHALLENGE_FS, FS) for x in raw300]
    unlabelled, recordings = _pretraining_corpus(root, signals)
    windows, owner = _record_windows(signals)
    say(
        f"Pretraining corpus: {len(unlabelled)} unlabelled {CONTEXT_S:.0f} s windows "
        f"at {FS:.0f} Hz from {len(set(recordings))} recordings (MIT-BIH, both "
        f"leads; Challenge 2017). Scored: {len(labels)} Challenge 2017 records "
        f"({_counts(labels)}), {len(windows)} windows of {WINDOW_S:.0f} s."
    )
    model = ContrastiveEncoder(
        "simclr",
        "cnn",
        n_components=N_COMPONENTS,
        encoder_params=ENCODER_PARAMS,
        augment=VIEWS,
        n_epochs=n_epochs,
        batch_size=64,
        device=device,
        random_state=seed,
        verbose=int(verbose),
    )
    t0 = time.perf_counter()
    model.fit(unlabelled)
    pretrain_time = time.perf_counter() - t0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random_encoder = encoders.build_encoder("cnn", 1, N_COMPONENTS, ENCODER_PARAMS)
    t0 = time.perf_counter()
    rr = features.rr_features(raw300, fs=CHALLENGE_FS)
    rr_time = time.perf_counter() - t0
    learned = _per_record(model.transform(windows), owner, len(labels))
    t0 = time.perf_counter()
    shipped = pretrained_module.load(SHIPPED_NAME, fs=CHALLENGE_FS).transform(raw300)
    shipped_time = time.perf_counter() - t0
    feats = {
        LEARNED: learned,
        "random-init CNN + linear probe": _per_record(
            encoders.encode(random_encoder, model._standardize(windows), device),
            owner,
            len(labels),
        ),
        RR: rr,
        BOTH: np.hstack([learned, rr]),  # each fold joins them (_compress_and_join)
        SHIPPED: shipped,
        SHIPPED_BOTH: np.hstack([shipped, rr]),
    }
    say("Cross-validating (stratified 5-fold, same folds for every method)...")
    results = _cross_validate(
        feats, windows, owner, labels, device, supervised_epochs, seed, verbose
    )
    for name in (RR, BOTH, SHIPPED_BOTH):
        for fold in results[name]:
            fold["fit_time"] += rr_time / 5  # QRS detection is part of the cost
    for name in (SHIPPED, SHIPPED_BOTH):
        for fold in results[name]:
            fold["fit_time"] += shipped_time / 5  # embedding the records
    table = _table(results, pretrain_time)
    png = out / "demo.png"
    _plot(model.history_, learned, labels, png)
    wall = time.perf_counter() - start
    summary = {
        "table": table,
        "results": results,
        "pretrain_time": pretrain_time,
        "wall_time": wall,
        "device": str(device),
        "png": str(png),
        "history": model.history_,
    }
    (out / "demo_results.json").write_text(json.dumps(summary, indent=2))
    say(
        "\nPhysioNet/CinC 2017 AF classification, 300 records, stratified 5-fold CV "
        "(mean ± std over folds)\n" + table
    )
    say(
        f"\nFigure: {png.resolve()}\nWall time: {wall:.0f} s on "
        f"{distributed.resolve_device(device)} "
        f"(pretraining {pretrain_time:.0f} s)."
    )
    return summary
