"""The ``tscl`` command line: ``pretrain``, ``embed``, ``evaluate``, ``info``, ``demo``.

Every error a user can cause (a missing file, bad data, an unknown name, a full
disk) is printed as one line, ``tscl: error: ...``, with exit status 1 and no
traceback. The arguments of each subcommand are in :mod:`tscl._cli_args`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tscl import _files, augment
from tscl._cli_args import build_parser
from tscl._inputs import read_series
from tscl._validation import parse_json, short_repr
from tscl.estimator import ContrastiveEncoder
from tscl.training import TrainingError

__all__ = ["load_data", "main"]

USER_ERRORS = (
    ValueError,
    TypeError,
    OSError,  # missing files, permissions, a full disk, a read-only folder
    ImportError,
    TrainingError,
)


def load_data(path: str | os.PathLike[str], **options: Any) -> np.ndarray:
    """Read series from any format the command line takes (labels dropped).

    Parameters
    ----------
    path : str or Path
        A ``.npy`` array, a UCR ``.tsv`` or UEA ``.ts``/``.arff`` file, a CSV of
        one series per row, or a folder of WFDB records.
    **options
        ``missing``, ``window_s`` and ``fs`` of
        :func:`tscl._inputs.read_series`.

    Returns
    -------
    ndarray

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read as such data or has another extension.

    Examples
    --------
    >>> load_data("datasets/ucr/ECG200/ECG200_TEST.tsv").shape
    (100, 96)
    """
    return read_series(path, **options).X


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    return {"missing": args.missing, "window_s": args.window_s, "fs": args.fs}


def _json_dict(text: str | None, option: str) -> dict[str, Any] | None:
    """Parse a JSON object given on the command line."""
    if text is None:
        return None
    try:
        value = parse_json(text, option)
    except ValueError as err:
        raise ValueError(
            f"{option} must be a JSON object such as '{{\"hidden_dim\": 32}}'; {err}"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"{option} must be a JSON object; got {short_repr(text)}.")
    return value


def _labels(path: str | None, option: str = "--labels") -> np.ndarray | None:
    """Labels from a 1-D ``.npy`` file or those a UCR/UEA file holds."""
    if path is None:
        return None
    series = read_series(path)
    y = series.y if series.y is not None else series.X
    if y.ndim != 1:
        raise ValueError(
            f"{option} must hold one label per series (a 1-D array, or a UCR/UEA "
            f"file); {path} has shape {y.shape}."
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
    _files.check_writable(out.parent)
    checkpoint = _checkpoint_path(args)
    X = load_data(args.data, **_inputs(args))
    y = _labels(args.labels)
    views = None if args.augment is None else augment.parse(args.augment)
    model = ContrastiveEncoder(
        args.method,
        args.encoder,
        augment=views,
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
    _save_or_keep(model, out, checkpoint)
    kept = f"; checkpoint in {checkpoint}" if checkpoint is not None else ""
    print(
        f"Saved model to {out} (final loss {model.history_['loss'][-1]:.4f}; "
        f"history in {out / 'history.json'}{kept}) after training in "
        f"{distributed.world_size()} process(es)."
    )


def _save_or_keep(model: Any, out: Path, checkpoint: Path | None) -> None:
    """Save the trained model to ``out``; if that fails, somewhere it fits."""
    try:
        model.save(out)
        return
    except OSError as err:
        reason = err.strerror or str(err)
    fallback = Path(tempfile.gettempdir()) / f"tscl-unsaved-{os.getpid()}"
    try:
        model.save(fallback)
    except OSError as err:
        where = f" The checkpoint {checkpoint} holds it." if checkpoint else ""
        raise OSError(
            f"Could not write the trained model to {out} ({reason}) nor to "
            f"{fallback} ({err.strerror or err}).{where} Free some space and train "
            "again."
        ) from None
    raise OSError(
        f"Could not write the trained model to {out} ({reason}); it was saved to "
        f"{fallback} instead: move that folder where you want it (tscl.load reads "
        "it)."
    )


def _embed(args: argparse.Namespace) -> None:
    import tscl

    out = Path(args.out)  # checked first: no work is done for a bad --out
    if out.suffix != ".npy":
        raise ValueError(f"--out must end in .npy; got {out}.")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"The folder of --out does not exist: {out.parent}.")
    _files.check_writable(out.parent)
    model = tscl.load(args.model)
    Z = model.transform(load_data(args.data, **_inputs(args)), level=args.level)
    _files.write_atomic(out, lambda file: np.save(file, Z))
    print(f"Wrote embeddings of shape {Z.shape} to {out}.")


def _evaluate(args: argparse.Namespace) -> None:
    import tscl
    from tscl.evaluation import PROBES

    if args.out is not None:
        _files.check_writable(Path(args.out).parent)
    model = tscl.load(args.model)
    splits = {}
    for name, path, labels in (
        ("train", args.train, args.train_labels),
        ("test", args.test, args.test_labels),
    ):
        X, y = read_series(path, **_inputs(args))
        given = _labels(labels, f"--{name}-labels")
        y = given if given is not None else y
        if y is None:
            raise ValueError(
                f"{path} holds no labels; pass --{name}-labels (a 1-D .npy), or use "
                "a labelled UCR .tsv or UEA .ts file."
            )
        if len(y) != len(X):
            raise ValueError(
                f"{len(X)} series in {path} but {len(y)} labels; pass one label "
                "per series."
            )
        splits[name] = (model.transform(X), y)
    probe = PROBES[args.probe]
    extra = {"random_state": args.seed} if args.probe != "knn" else {}
    result = probe(*splits["train"], *splits["test"], **extra)
    scores = {k: float(result[k]) for k in ("accuracy", "macro_f1", "auroc", "auprc")}
    rows = [f"{'metric':10s} {'value':>8s}", "-" * 19]
    rows += [f"{k:10s} {v:8.3f}" for k, v in scores.items()]
    n_train, n_test = len(splits["train"][1]), len(splits["test"][1])
    print(f"{args.probe} probe on {args.model}: {n_train} training, {n_test} test")
    print("\n".join(rows))
    if args.out is not None:
        report = {
            "model": str(args.model),
            "probe": args.probe,
            "train": args.train,
            "test": args.test,
            "n_train": n_train,
            "n_test": n_test,
            **scores,
        }
        text = json.dumps(report, indent=2).encode()
        _files.write_atomic(Path(args.out), lambda file: file.write(text))
        print(f"Wrote {args.out}.")


def _info(args: argparse.Namespace) -> None:
    import tscl
    from tscl import persistence

    model = tscl.load(args.model)  # every file checked, as for any use
    config, _, history = persistence.read(args.model)
    params, fitted = config.get("params", {}), config.get("fitted", {})
    losses = [v for v in history.get("loss", []) if isinstance(v, (int, float))]
    choice = model._encoder_choice()
    summary = {
        "model": str(args.model),
        "method": params.get("method"),
        "encoder": choice if isinstance(choice, str) else type(choice).__name__,
        "network": {
            "class": type(model.encoder_).__name__,
            "outputs": model._output_size(),
            "parameters": sum(p.numel() for p in model.encoder_.parameters()),
        },
        "settings": {k: v for k, v in params.items() if k not in ("method", "encoder")},
        "data": {
            "channels": fitted.get("n_channels_in_"),
            "n_features_in": fitted.get("n_features_in_"),
            "input rank": fitted.get("n_dims_in_"),
        },
        "history": {
            "epochs": len(history.get("loss", [])),
            "steps": history.get("n_steps"),
            "first loss": losses[0] if losses else None,
            "final loss": losses[-1] if losses else None,
            "training seconds": round(float(sum(history.get("epoch_time", []))), 1),
        },
        "versions": {
            "tscl": config.get("tscl_version"),
            "torch": config.get("torch_version"),
            "format": f"{config.get('format')} {config.get('format_version')}",
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, item in value.items():
                print(f"  {name}: {json.dumps(item)}")
        else:
            print(f"{key}: {value}")


def _demo(args: argparse.Namespace) -> None:
    from tscl.demo import N_EPOCHS, run_demo

    run_demo(
        args.data_dir,
        args.out,
        device=args.device,
        n_epochs=N_EPOCHS if args.epochs is None else args.epochs,
        seed=args.seed,
    )


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
    args: Any = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except USER_ERRORS as err:
        message = " ".join(line.strip() for line in str(err).splitlines())
        print(f"tscl: error: {message}", file=sys.stderr)
        return 1
    finally:
        _leave_group()
    return 0


#: What each subcommand runs.
COMMANDS = {
    "pretrain": _pretrain,
    "embed": _embed,
    "evaluate": _evaluate,
    "info": _info,
    "demo": _demo,
}


def _leave_group() -> None:
    """Leave the process group ``torchrun`` made us join, if any."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
