"""The arguments of every ``tscl`` subcommand (argparse), apart from what they do.

:func:`build_parser` returns the parser; :mod:`tscl.cli` runs the subcommand it
names. Defaults and lists of names come from the estimator's signature and the
registries, so they cannot drift from them.
"""

from __future__ import annotations

import argparse
import inspect
import math
from typing import Any

from tscl._validation import short_repr
from tscl.augment import PRESETS
from tscl.encoders import ENCODERS
from tscl.estimator import ContrastiveEncoder
from tscl.evaluation import PROBES
from tscl.methods import METHODS
from tscl.training import PRECISIONS

__all__ = ["build_parser", "count_or_auto"]

DATA_HELP = (
    ".npy array (n, t) or (n, c, t), UCR .tsv, UEA .ts/.arff, CSV (one series per "
    "row) or a folder of WFDB records (with --window-s)"
)


def count_or_auto(text: str) -> int | str:
    """Parse an integer option that also takes ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or 'auto'; got {short_repr(text)}"
        ) from None


def positive(text: str) -> float:
    """Parse a finite number > 0 (seconds, Hz): argparse's ``type`` for them."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number > 0; got {short_repr(text)}"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a finite number > 0; got {short_repr(text)}"
        )
    return value


def _inputs(parser: argparse.ArgumentParser) -> None:
    """How the data files are read: gaps of UCR/UEA files, WFDB windows."""
    parser.add_argument(
        "--missing",
        default="resample",
        choices=["keep", "pad", "resample"],
        help="gaps and variable lengths of UCR/UEA files (default resample)",
    )
    parser.add_argument(
        "--window-s",
        type=positive,
        default=None,
        help="window length in seconds for a folder of WFDB records",
    )
    parser.add_argument(
        "--fs",
        type=positive,
        default=None,
        help="resample WFDB records to this rate (Hz)",
    )


def _pretrain(sub: Any) -> None:
    p = sub.add_parser(
        "pretrain",
        help="pretrain an encoder on unlabelled series",
        description="Pretrain a contrastive encoder and save it.",
    )
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(ContrastiveEncoder).parameters.items()
    }
    p.add_argument("data", help=DATA_HELP)
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument(
        "--method",
        default=defaults["method"],
        help=f"one of {', '.join(METHODS)} (default {defaults['method']})",
    )
    p.add_argument(
        "--augment",
        default=None,
        metavar="NAME_OR_SPEC",
        help=f"views: a preset ({', '.join(PRESETS)}), registered augmentations "
        "joined by +, e.g. 'crop(scale=(0.6, 1.0)) + jitter(sigma=0.05)', or JSON "
        "(default: the method's)",
    )
    p.add_argument(
        "--labels",
        default=None,
        help="labels for supcon/triplet (-1 = unlabelled): a 1-D .npy, or a UCR "
        ".tsv / UEA .ts file whose labels are read",
    )
    p.add_argument(
        "--encoder",
        default=defaults["encoder"],
        help=f"one of {', '.join(ENCODERS)}, or auto: the method's (default auto)",
    )
    for flag, name, what in (
        ("--epochs", "n_epochs", "passes over the data, or auto: the method's budget"),
        ("--batch-size", "batch_size", "series per step, or auto: the method's"),
        ("--n-components", "n_components", "representation size, or auto"),
    ):
        p.add_argument(
            flag,
            type=count_or_auto,
            default=defaults[name],
            help=f"{what} (default {defaults[name]})",
        )
    p.add_argument("--learning-rate", type=float, default=defaults["learning_rate"])
    for flag, example in (
        ("--encoder-params", '{"hidden_dim": 32}'),
        ("--method-params", '{"temperature": 0.2}'),
    ):
        p.add_argument(flag, default=None, help=f"JSON object, e.g. '{example}'")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument(
        "--device",
        default="auto",
        help="auto, cpu, cuda or cuda:N (under torchrun: each process's own GPU)",
    )
    p.add_argument(
        "--precision",
        default="fp32",
        choices=list(PRECISIONS),
        help="training precision (bf16/fp16: autocast)",
    )
    p.add_argument("--compile", action="store_true", help="train via torch.compile")
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="write a checkpoint every N epochs (and after the last)",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        help="checkpoint file (default: OUT.checkpoint.pt beside --out)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint if it exists (same data and settings)",
    )
    _inputs(p)


def _embed(sub: Any) -> None:
    e = sub.add_parser(
        "embed",
        help="embed series with a pretrained model",
        description="Write the representations of DATA to a .npy.",
    )
    e.add_argument("model", help="model directory from `tscl pretrain`")
    e.add_argument("data", help=DATA_HELP)
    e.add_argument("--out", required=True, help="output .npy file")
    e.add_argument(
        "--level",
        default="instance",
        choices=["instance", "timestamp"],
        help="one vector per series (default) or per timestep",
    )
    _inputs(e)


def _evaluate(sub: Any) -> None:
    v = sub.add_parser(
        "evaluate",
        help="score a pretrained model with a probe on labelled data",
        description="Fit a probe on the representations of TRAIN, score it on TEST.",
    )
    v.add_argument("model", help="model directory from `tscl pretrain`")
    v.add_argument("train", help=f"labelled training data: {DATA_HELP}")
    v.add_argument("test", help="labelled test data, same format")
    v.add_argument(
        "--probe",
        default="linear",
        choices=sorted(PROBES),
        help="linear (logistic regression, default), svm (TS2Vec's protocol) or knn",
    )
    v.add_argument(
        "--train-labels", default=None, help="labels of TRAIN when it holds none"
    )
    v.add_argument(
        "--test-labels", default=None, help="labels of TEST when it holds none"
    )
    v.add_argument("--out", default=None, help="also write the scores to this JSON")
    v.add_argument("--seed", type=int, default=0, help="the probe's random state")
    _inputs(v)


def _info(sub: Any) -> None:
    i = sub.add_parser(
        "info",
        help="describe a saved model",
        description="What was trained: method, encoder, settings, data, history.",
    )
    i.add_argument("model", help="model directory from `tscl pretrain`")
    i.add_argument("--json", action="store_true", help="print JSON instead of text")


def _demo(sub: Any) -> None:
    d = sub.add_parser(
        "demo",
        help="pretrain on the shipped ECG, evaluate on Challenge 2017",
        description="The end-to-end demo on the shipped ECG records.",
    )
    d.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    d.add_argument(
        "--epochs", type=int, default=None, help="pretraining epochs (default 15)"
    )
    d.add_argument("--seed", type=int, default=0)
    d.add_argument(
        "--data-dir",
        default=None,
        help="folder with mitdb/ and challenge2017/ (default: datasets/)",
    )
    d.add_argument("--out", default="demo_output", help="folder for the figure")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``tscl`` command and its subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Its ``command`` attribute names the subcommand.

    Examples
    --------
    >>> build_parser().parse_args(["info", "model"]).command
    'info'
    """
    parser = argparse.ArgumentParser(
        prog="tscl", description="Self-supervised contrastive learning for time series."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_pretrain, _embed, _evaluate, _info, _demo):
        add(sub)
    return parser
