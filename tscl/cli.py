"""The ``tscl`` command line: ``pretrain``, ``embed`` and ``demo``.

Every error a user can cause (a missing file, bad data, an unknown name) is
printed as one line, ``tscl: error: ...``, with exit status 1 and no traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tscl import _files
from tscl.encoders import ENCODERS
from tscl.estimator import ContrastiveEncoder
from tscl.methods import METHODS
from tscl.training import PRECISIONS, TrainingError

__all__ = ["load_data", "main"]

USER_ERRORS = (
    ValueError,
    TypeError,
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    ImportError,
    TrainingError,
)


def load_data(path: str | os.PathLike[str]) -> np.ndarray:
    """Read training data from a ``.npy`` array or a UCR ``.tsv`` file.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file of shape ``(n, t)`` or ``(n, c, t)`` (read without
        pickle), or a UCR ``*.tsv`` file whose first column (the label) is
        dropped.

    Returns
    -------
    ndarray

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read as such data or has another extension.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"Data file not found: {file}. Pass a .npy array of "
            "shape (n, t) or (n, c, t), or a UCR _TRAIN.tsv file."
        )
    suffix = file.suffix.lower()
    if suffix == ".npy":
        try:
            return np.load(file, allow_pickle=False)
        except ValueError as err:
            raise ValueError(
                f"{file} is not a readable .npy array ({err}). Save "
                "numeric data with np.save(path, X)."
            ) from None
    if suffix == ".tsv":
        from tscl import datasets

        X, _ = datasets.load_ucr_file(file)
        return X
    raise ValueError(
        f"Unsupported data file {file}: expected a .npy array or a UCR .tsv file."
    )


def _count_or_auto(text: str) -> int | str:
    """Parse an integer option that also takes ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or 'auto'; got {text!r}"
        ) from None


def _json_dict(text: str | None, option: str) -> dict[str, Any] | None:
    """Parse a JSON object given on the command line."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{option} must be a JSON object such as '{{\"hidden_dim\": 32}}'; "
            f"got {text!r} ({err.msg})."
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"{option} must be a JSON object; got {text!r}.")
    return value


def _labels(path: str | None) -> np.ndarray | None:
    """Labels from a 1-D ``.npy`` file or the first column of a UCR ``.tsv``."""
    if path is None:
        return None
    file = Path(path)
    if file.suffix.lower() == ".tsv" and file.is_file():
        from tscl import datasets

        return datasets.load_ucr_file(file)[1]
    y = load_data(path)
    if y.ndim != 1:
        raise ValueError(
            f"--labels must hold one label per series (a 1-D array); {file} has "
            f"shape {y.shape}."
        )
    return y


def _checkpoint_path(args: argparse.Namespace) -> Path | None:
    """``--checkpoint``, else ``<out>.checkpoint.pt`` when checkpoints are asked for."""
    if args.checkpoint is not None:
        return Path(args.checkpoint)
    if args.checkpoint_every is None and not args.resume:
        return None
    out = Path(args.out)
    return out.with_name(out.name + ".checkpoint.pt")


def _pretrain(args: argparse.Namespace) -> None:
    from tscl import distributed, persistence

    out = Path(args.out)
    persistence.check_target(out)  # fail before training, not after
    checkpoint = _checkpoint_path(args)
    X = load_data(args.data)
    y = _labels(args.labels)
    model = ContrastiveEncoder(
        args.method,
        args.encoder,
        n_components=args.n_components,
        n_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        encoder_params=_json_dict(args.encoder_params, "--encoder-params"),
        method_params=_json_dict(args.method_params, "--method-params"),
        device=args.device,
        random_state=args.seed,
        verbose=1,
        precision=args.precision,
        compile=args.compile,
        checkpoint=checkpoint,
        checkpoint_every=1 if args.checkpoint_every is None else args.checkpoint_every,
        resume=args.resume,
    )
    model.fit(X, y)
    if not distributed.is_main_process():
        return
    model.save(out)
    kept = f"; checkpoint in {checkpoint}" if checkpoint is not None else ""
    print(
        f"Saved model to {out} (final loss {model.history_['loss'][-1]:.4f}; "
        f"history in {out / 'history.json'}{kept}) after training in "
        f"{distributed.world_size()} process(es)."
    )


def _embed(args: argparse.Namespace) -> None:
    import tscl

    out = Path(args.out)  # checked first: no work is done for a bad --out
    if out.suffix != ".npy":
        raise ValueError(f"--out must end in .npy; got {out}.")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"The folder of --out does not exist: {out.parent}.")
    model = tscl.load(args.model)
    Z = model.transform(load_data(args.data), level=args.level)
    _files.write_atomic(out, lambda file: np.save(file, Z))
    print(f"Wrote embeddings of shape {Z.shape} to {out}.")


def _demo(args: argparse.Namespace) -> None:
    from tscl.demo import run_demo

    run_demo(
        args.data_dir,
        args.out,
        device=args.device,
        n_epochs=args.epochs,
        seed=args.seed,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tscl", description="Self-supervised contrastive learning for time series."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "pretrain",
        help="pretrain an encoder on unlabelled series",
        description="Pretrain a contrastive encoder and save it.",
    )
    p.add_argument("data", help=".npy array (n, t) or (n, c, t), or UCR _TRAIN.tsv")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument(
        "--method",
        default="simclr",
        help=f"one of {', '.join(METHODS)} (default simclr)",
    )
    p.add_argument(
        "--labels",
        default=None,
        help="labels for supcon/triplet (-1 = unlabelled): a 1-D .npy, or a UCR "
        ".tsv whose first column is read",
    )
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(ContrastiveEncoder).parameters.items()
    }
    p.add_argument(
        "--encoder",
        default=defaults["encoder"],
        help=f"one of {', '.join(ENCODERS)}, or auto: the method's (default auto)",
    )
    p.add_argument(
        "--epochs",
        type=_count_or_auto,
        default=defaults["n_epochs"],
        help="passes over the data, or auto: the method's budget (default auto)",
    )
    p.add_argument(
        "--batch-size",
        type=_count_or_auto,
        default=defaults["batch_size"],
        help="series per step, or auto: the method's (default auto)",
    )
    p.add_argument("--learning-rate", type=float, default=defaults["learning_rate"])
    p.add_argument(
        "--n-components",
        type=_count_or_auto,
        default=defaults["n_components"],
        help="representation size, or auto: the encoder's (default auto)",
    )
    p.add_argument(
        "--encoder-params",
        default=None,
        help="JSON object of encoder settings, e.g. '{\"hidden_dim\": 32}'",
    )
    p.add_argument(
        "--method-params",
        default=None,
        help="JSON object of method settings, e.g. '{\"temperature\": 0.2}'",
    )
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
    p.set_defaults(run=_pretrain)
    e = sub.add_parser(
        "embed",
        help="embed series with a pretrained model",
        description="Write the representations of DATA to a .npy.",
    )
    e.add_argument("model", help="model directory from `tscl pretrain`")
    e.add_argument("data", help=".npy array or UCR .tsv file")
    e.add_argument("--out", required=True, help="output .npy file")
    e.add_argument(
        "--level",
        default="instance",
        choices=["instance", "timestamp"],
        help="one vector per series (default) or per timestep",
    )
    e.set_defaults(run=_embed)
    d = sub.add_parser(
        "demo",
        help="pretrain on MIT-BIH, evaluate on Challenge 2017",
        description="The end-to-end demo on the shipped ECG records.",
    )
    d.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    d.add_argument("--epochs", type=int, default=30, help="pretraining epochs")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument(
        "--data-dir",
        default=None,
        help="folder with mitdb/ and challenge2017/ (default: datasets/)",
    )
    d.add_argument("--out", default="demo_output", help="folder for the figure")
    d.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on a user error (printed without a traceback).
    """
    args: Any = _parser().parse_args(argv)
    try:
        args.run(args)
    except USER_ERRORS as err:
        message = " ".join(line.strip() for line in str(err).splitlines())
        print(f"tscl: error: {message}", file=sys.stderr)
        return 1
    finally:
        _leave_group()
    return 0


def _leave_group() -> None:
    """Leave the process group ``torchrun`` made us join, if any."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
