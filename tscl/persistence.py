"""The saved-model file format: a folder that runs no code when it is read.

A model folder holds ``config.json`` (what the model is: its parameters and fitted
statistics, plus the format and the versions that wrote it), ``encoder.pt`` (a
state dict read back with ``torch.load(..., weights_only=True)``) and
``history.json`` (the training history). This module writes and reads those files
and knows nothing of estimators: :meth:`tscl.ContrastiveEncoder.save` and
:func:`tscl.load` convert a model to and from them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

import torch

from tscl import _files
from tscl._version import __version__

__all__ = [
    "FILES",
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFiles",
    "check_target",
    "read",
    "write",
]

FORMAT = "tscl-model"
FORMAT_VERSION = 1
FILES = ("config.json", "encoder.pt", "history.json")


class ModelFiles(NamedTuple):
    """What a model folder holds, as :func:`read` returns it."""

    #: dict: ``format``, ``format_version``, ``tscl_version``, ``torch_version``
    #: and whatever the writer stored (an estimator's ``params`` and ``fitted``).
    config: dict[str, Any]
    #: dict of str to Tensor: the encoder's state dict, on the CPU.
    weights: dict[str, torch.Tensor]
    #: dict: the training history (empty if the folder has none).
    history: dict[str, Any]


def check_target(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can receive a model folder, before any work is done.

    Parameters
    ----------
    path : str or os.PathLike
        A new or empty folder, or a model folder to overwrite.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        If ``path`` is a file, or a non-empty folder that is not a model folder.

    Examples
    --------
    >>> import tempfile
    >>> check_target(Path(tempfile.mkdtemp()) / "model").name
    'model'
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise FileExistsError(
            f"{target} exists and is not a directory; choose another "
            "path for the model. Nothing was written."
        )
    if target.is_dir():
        extra = sorted(p.name for p in target.iterdir() if p.name not in FILES)
        if extra and not (target / "config.json").exists():
            raise FileExistsError(
                f"{target} is a non-empty directory that is not a tscl model (it "
                f"holds {extra[:3]}); refusing to write into it. Choose a new "
                "directory."
            )
    return target


def write(
    path: str | os.PathLike[str],
    config: dict[str, Any],
    weights: dict[str, torch.Tensor],
    history: dict[str, Any],
) -> None:
    """Write a model folder: ``config.json``, ``encoder.pt`` and ``history.json``.

    Each file is written atomically (:func:`tscl._files.write_atomic`).

    Parameters
    ----------
    path : str or os.PathLike
        A new or empty folder, or a model folder to overwrite.
    config : dict
        JSON-ready description of the model; the format name and version and
        the tscl and torch versions are added.
    weights : dict of str to Tensor
        The encoder's state dict (copied to the CPU).
    history : dict
        JSON-ready training history.

    Raises
    ------
    FileExistsError
        If ``path`` is a file or a non-empty folder that is not a model folder.
    TypeError
        If ``config`` or ``history`` is not JSON serialisable; nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "model"
    >>> write(folder, {"params": {}}, {"w": torch.ones(2)}, {"loss": [0.5]})
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'encoder.pt', 'history.json']
    >>> read(folder).history
    {'loss': [0.5]}
    """
    envelope = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tscl_version": __version__,
        "torch_version": torch.__version__,
    }
    texts = {}
    for name, data in (
        ("config.json", {**envelope, **config}),
        ("history.json", history),
    ):
        try:
            texts[name] = json.dumps(data, indent=2).encode()
        except TypeError as err:
            raise TypeError(
                f"Cannot save: {name} would hold a value that is not JSON "
                f"serialisable ({err}). encoder_params and method_params must hold "
                "plain numbers, strings, lists and dicts. Nothing was written."
            ) from None
    target = check_target(path)
    target.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in weights.items()}
    _files.write_atomic(target / "encoder.pt", lambda f: torch.save(state, f))
    for name in ("history.json", "config.json"):
        _files.write_atomic(target / name, _writer(texts[name]))


def _writer(data: bytes) -> Callable[[IO[bytes]], object]:
    return lambda file: file.write(data)


def _read_json(file: Path, what: str) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{file} is not valid JSON ({err}); the model directory is damaged "
            f"({what}). Save the model again."
        ) from None


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"No model directory at {path}.")
    config_file = path / "config.json"
    if not path.is_dir() or not config_file.exists():
        raise ValueError(
            f"{path} is not a tscl model directory: it has no "
            "config.json. Pass a directory written by "
            "ContrastiveEncoder.save or `tscl pretrain --out`."
        )
    config = _read_json(config_file, "its configuration")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{config_file} is not a tscl model configuration.")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer tscl "
            f"({config.get('tscl_version')}); upgrade tscl to read it."
        )
    return config


def read(path: str | os.PathLike[str]) -> ModelFiles:
    """Read a model folder without running code from it.

    Parameters
    ----------
    path : str or os.PathLike
        A folder written by :func:`write`.

    Returns
    -------
    ModelFiles
        ``config``, ``weights`` and ``history``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a model folder, was written by a newer tscl, or a
        file is missing or damaged (the message names it).
    """
    root = Path(path)
    config = _read_config(root)
    weights_file = root / "encoder.pt"
    if not weights_file.is_file():
        raise ValueError(f"{root} has no encoder.pt; the model is incomplete.")
    try:
        weights = torch.load(weights_file, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(
            f"{weights_file} could not be read as this model's weights "
            f"({_files.load_error_reason(err, weights_file)})."
        ) from None
    if not isinstance(weights, dict):
        raise ValueError(
            f"{weights_file} holds a {type(weights).__name__}, not a state dict of "
            "weights; the model directory is damaged."
        )
    history_file = root / "history.json"
    history = _read_json(history_file, "its history") if history_file.exists() else {}
    return ModelFiles(config, weights, history)
