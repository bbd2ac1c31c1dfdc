"""The UEA multivariate archive under TS2Vec's protocol: tscl against TS2Vec.

The same protocol and models as ``ucr.py`` (see ``_archive.py``) on a folder of
UEA datasets in the archive's layout (``<Name>/<Name>_TRAIN.ts`` or ``.arff``):
each model pretrains on the training split without labels, an RBF SVC with
TS2Vec's search of ``C`` scores the representations. tscl's models get the
series through ``tscl.datasets.load_uea`` (variable lengths filled by
``--missing``); the reference standardises each channel with the training
split's statistics and keeps NaN, as TS2Vec's ``load_UEA`` and ``fit`` do.
T-Loss's published accuracies (``published/t_loss_uea.csv``) are quoted beside.

Usage::

    python benchmarks/uea.py --all --root ../shared/data/uea --with-reference \\
        --models default ts2vec
    python benchmarks/uea.py --quick     # seconds: BasicMotions shipped in datasets/

Results go to ``--out`` (default ``benchmarks/results/uea.jsonl``) and the
report beside it (``uea.md``); interrupted runs resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tscl.datasets import load_uea

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _archive  # noqa: E402
from _common import (  # noqa: E402
    context,
    describe,
    threads,
)
from ts2vec_reference import load_uea_as_ts2vec  # noqa: E402


def datasets_in(root: Path) -> list[str]:
    """Every dataset folder of ``root`` with a training split, sorted."""
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if any((p / f"{p.name}_TRAIN{s}").is_file() for s in (".ts", ".arff"))
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return _archive.parse_archive_args(
        argv, "uea", __doc__.split("\n\n")[0], "BasicMotions", datasets_in
    )


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    t_loss = _archive.published("t_loss_uea")
    with threads(args.threads):  # so that the context names the threads used
        run_context = context(args.device)
    header = (
        f"UEA archive, TS2Vec's SVM protocol, {args.seeds} seed(s), models "
        f"{', '.join(_archive.model_table(args))}; {describe(run_context)}"
    )
    if not args.report:
        print(header, flush=True)
        _archive.run_all(
            args.datasets,
            lambda name, missing: load_uea(name, args.root, missing=missing),
            lambda name: load_uea_as_ts2vec(name, args.root),
            args,
            run_context,
        )
    return _archive.finish(args.datasets, args, t_loss, header)


if __name__ == "__main__":
    main()
