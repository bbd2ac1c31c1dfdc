"""The UCR archive under TS2Vec's protocol: tscl against TS2Vec and T-Loss.

For each dataset of a UCR folder (the archive 2018's layout, official
train/test splits) each model pretrains on the training split without labels;
its representations of both splits are then scored with TS2Vec's protocol as
its code runs it (Yue et al. 2022, arXiv:2106.10466): an RBF SVC on the raw
representations, ``C`` among ``10**-4 ... 10**4`` and ``inf`` by 5-fold
cross-validation on the training split, or ``C=inf`` without a search when the
split has fewer than 50 series or fewer than 5 per class
(:func:`tscl.evaluation.svm_probe` with ``protocol="ts2vec"``).

The models (``_archive.py``): tscl's ``default`` ``ContrastiveEncoder()`` and
``ts2vec`` (``method="ts2vec"``), and with ``--with-reference`` TS2Vec's
official code repeated statement by statement (``ts2vec_reference.py``), run
in the same process on the same machine. Gaps and variable lengths (PLAID,
DodgerLoopDay and the archive's other variable-length sets) reach tscl through
the loaders' policy (``--missing``, default ``resample``); the reference keeps
NaN and handles them as TS2Vec does. T-Loss's published accuracies
(``published/t_loss_ucr.csv``) are quoted beside.

The report gives per dataset the mean accuracy over the seeds, T-Loss's figure
and the fit times (with their ratio to the reference's), then per model the
mean accuracy, the mean rank among the models run and wins/ties/losses against
T-Loss and the reference.

Usage::

    python benchmarks/ucr.py --all --root ../shared/data/ucr --with-reference \\
        --models default ts2vec
    python benchmarks/ucr.py --all --root ~/UCRArchive_2018   # all 128, resumable
    python benchmarks/ucr.py --datasets GunPoint ArrowHead --seeds 1
    python benchmarks/ucr.py --quick          # seconds: ECG200 shipped in datasets/

Every run is appended as a JSON line to ``--out`` (default
``benchmarks/results/ucr.jsonl``) as soon as it ends; runs already there are
skipped, so an interrupted run resumes. The markdown report goes beside it
(``ucr.md``) and is printed. ``--report`` rebuilds it without training.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tscl.datasets import load_ucr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _archive  # noqa: E402
from _common import (  # noqa: E402
    context,
    describe,
    threads,
)
from ts2vec_reference import load_ucr_as_ts2vec  # noqa: E402


def datasets_in(root: Path) -> list[str]:
    """Every dataset folder of ``root`` with a ``<name>_TRAIN.tsv``, sorted."""
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if (p / f"{p.name}_TRAIN.tsv").is_file()
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _archive.parse_archive_args(
        argv, "ucr", __doc__.split("\n\n")[0], "ECG200", datasets_in
    )


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    t_loss = _archive.published("t_loss_ucr")
    with threads(args.threads):  # so that the context names the threads used
        run_context = context(args.device)
    header = (
        f"UCR archive, TS2Vec's SVM protocol, {args.seeds} seed(s), models "
        f"{', '.join(_archive.model_table(args))}; {describe(run_context)}"
    )
    if not args.report:
        missing = [
            n for n in args.datasets if not (args.root / n).is_dir() and not (
                args.root / f"{n}_TRAIN.tsv").is_file()
        ]  # fmt: skip
        if missing:
            raise SystemExit(f"ucr.py: error: no dataset {missing} in {args.root}")
        print(header, flush=True)
        _archive.run_all(
            args.datasets,
            lambda name, missing: load_ucr(name, args.root, missing=missing),
            lambda name: load_ucr_as_ts2vec(name, args.root),
            args,
            run_context,
        )
    return _archive.finish(args.datasets, args, t_loss, header)


if __name__ == "__main__":
    main()
