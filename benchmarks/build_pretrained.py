"""Rebuild the shipped pretrained ECG encoder ``ecg-cinc2017`` from the raw records.

Pretrains :class:`tscl.records.RecordEncoder` with the benchmark's recipe
(:func:`tscl.records.default_ecg_estimator`, ``random_state=0``) on the
records of the PhysioNet/CinC Challenge 2017 training set minus the 300 that
``datasets/challenge2017`` ships for the demo, without labels, and writes it to
``tscl/pretrained/ecg-cinc2017/`` (``model/`` and ``card.json``).

On the same machine, with the same torch build and ``--threads``, the weights
come out bit for bit the same: ``--check`` rebuilds into a temporary folder and
compares the SHA-256 digest of the weights with the shipped ones.

Usage::

    python benchmarks/build_pretrained.py --threads 2          # writes the package
    python benchmarks/build_pretrained.py --threads 2 --check  # compares only
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import tscl
from tscl import datasets, records
from tscl import pretrained as shipped

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, SHARED_DATA, context, describe  # noqa: E402

NAME = "ecg-cinc2017"
SUMMARY = (
    "Single-lead ECG records of any length (mV, any rate): SimCLR on a strided "
    "ResNet1D at 100 Hz, pretrained without labels on 7,227 PhysioNet/CinC 2017 "
    "records; 128 numbers per record."
)


def corpus(root: Path, quick: bool = False) -> tuple[list[np.ndarray], list[str]]:
    """The training records minus the demo's 300, in REFERENCE.csv order.

    ``quick``: 40 of the shipped records instead (a smoke test of the script).
    """
    signals, _, names = datasets.load_challenge2017(root)
    if quick:
        return signals[:40], names[:40]
    demo = set(datasets.load_challenge2017()[2])
    keep = [i for i, name in enumerate(names) if name not in demo]
    return [signals[i] for i in keep], [names[i] for i in keep]


def card(encoder: records.RecordEncoder, names: list[str], run: dict) -> dict:
    """The machine-readable card stored beside the weights."""
    return {
        "name": NAME,
        "summary": SUMMARY,
        "record_encoder": {
            k: encoder.get_params()[k]
            for k in ("model_fs", "context_s", "window_s", "stride_s", "pooling")
        },
        "estimator": encoder.model_._params_to_json(),
        "training_data": {
            "dataset": "PhysioNet/CinC Challenge 2017 training set (labels unused)",
            "records": len(names),
            "excluded": "the 300 records shipped in datasets/challenge2017 (the "
            "demo's) and the 1,001 records held out from ../shared",
            "first": names[0],
            "last": names[-1],
        },
        "licence": "Weights: BSD-3-Clause, as tscl. Trained on data under ODC-By "
        "1.0: Clifford et al., AF Classification from a Short Single Lead ECG "
        "Recording: the PhysioNet/Computing in Cardiology Challenge 2017, CinC 2017, "
        "doi:10.22489/CinC.2017.065-469; Goldberger et al., PhysioBank, "
        "PhysioToolkit, and PhysioNet, Circulation 101(23), 2000.",
        "card": "datasets/cards/ecg-cinc2017.md",
        "built": {k: run[k] for k in ("torch", "tscl", "git_sha", "machine", "time")},
    }


def build(
    root: Path, threads: int, quick: bool = False
) -> tuple[records.RecordEncoder, list[str], float]:
    torch.set_num_threads(threads)
    signals, names = corpus(root, quick)
    print(f"Pretraining on {len(signals)} records...", flush=True)
    estimator = records.default_ecg_estimator().set_params(
        random_state=0, device="cpu", verbose=int(not quick)
    )
    if quick:
        estimator.set_params(n_epochs=1, encoder_params={"hidden_dim": 4, "depth": 2})
    encoder = records.RecordEncoder(estimator, fs=300.0)
    start = time.perf_counter()
    encoder.fit(signals)
    return encoder, names, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=SHARED_DATA / "ecg" / "challenge2017-training"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--out", type=Path, default=shipped.FOLDER / NAME)
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke test: a tiny model on 40 shipped records, written to --out "
        "(which must then be given)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        if args.out == shipped.FOLDER / NAME:
            parser.error("--quick needs --out elsewhere than the shipped encoder")
        args.root = ROOT / "datasets" / "challenge2017"
    encoder, names, seconds = build(args.root, args.threads, args.quick)
    run = context("cpu")
    print(f"Pretrained in {seconds:.0f} s; {describe(run)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / NAME if args.check else args.out
        if not args.check and target.exists():
            shutil.rmtree(target / "model", ignore_errors=True)
        target.mkdir(parents=True, exist_ok=True)
        encoder.model_.save(target / "model")
        info = card(encoder, names, run)
        info["built"]["seconds"] = round(seconds)
        info["built"]["threads"] = args.threads
        if args.check:
            new = json.loads((target / "model" / "config.json").read_text())
            old = json.loads((args.out / "model" / "config.json").read_text())
            new_digest = new["digests"]["encoder.pt"]  # the history holds times
            old_digest = old["digests"]["encoder.pt"]
            same = new_digest == old_digest
            print(
                f"The rebuilt weights are bit for bit the shipped ones ({new_digest})."
                if same
                else "The rebuilt weights differ from the shipped ones: "
                f"{new_digest} against {old_digest}."
            )
            raise SystemExit(0 if same else 1)
        (target / "card.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"Wrote {args.out} ({tscl.__version__})")


if __name__ == "__main__":
    main()
