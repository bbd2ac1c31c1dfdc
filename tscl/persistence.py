"""The saved-model file format: a folder that runs no code and cannot mix two saves.

A model folder holds ``config.json`` (what the model is: its parameters and fitted
statistics, the format's name and version, the versions that wrote it and the
SHA-256 digests of the two other files), ``encoder.pt`` (a state dict read back
with ``torch.load(..., weights_only=True)``) and ``history.json`` (the training
history). This module writes and reads those files and knows nothing of
estimators: :meth:`tscl.ContrastiveEncoder.save` and :func:`tscl.load` convert a
model to and from them.

**A save is atomic as a whole.** :func:`write` fills a hidden sibling folder
(``.<name>.<pid>.<random>.tmp``), flushes it to disk, then swaps it with the
target in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere a rename
of the old folder aside and of the new one into place). A kill, a full disk or
Ctrl-C leaves either the old folder or the new one at ``path``, never a mixture;
what a killed save left beside it is removed by the next save.

**A read checks what it reads.** :func:`read` refuses a folder without tscl's
marker (``"format": "tscl-model"`` and an integer version), one from a newer
tscl, and files whose digest is not the one ``config.json`` records (a folder
assembled from two saves, or edited by hand).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import torch

from tscl import _files
from tscl._validation import parse_json, short_repr
from tscl._version import __version__

__all__ = [
    "FILES",
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFiles",
    "check_target",
    "is_model_folder",
    "read",
    "upgrade",
    "write",
]

FORMAT = "tscl-model"
#: 2: ``digests`` of encoder.pt and history.json are required (1: tscl 0.1.0).
FORMAT_VERSION = 2
FILES = ("config.json", "encoder.pt", "history.json")
#: The largest files :func:`read` reads: ``config.json`` and ``history.json``
#: (a history of a million epochs is smaller), and ``encoder.pt`` (the largest
#: encoder tscl builds, 2**31 float32 weights, and room for its keys).
MAX_JSON_BYTES = 64 * 2**20
MAX_WEIGHTS_BYTES = 8 * 2**30 + 64 * 2**20


class ModelFiles(NamedTuple):
    """What a model folder holds, as :func:`read` returns it."""

    #: dict: ``format``, ``format_version``, ``tscl_version``, ``torch_version``,
    #: ``digests`` and whatever the writer stored (an estimator's ``params`` and
    #: ``fitted``).
    config: dict[str, Any]
    #: dict of str to Tensor: the encoder's state dict, on the CPU.
    weights: dict[str, torch.Tensor]
    #: dict: the training history (empty if the folder has none).
    history: dict[str, Any]


def _marker(config_file: Path) -> dict[str, Any] | None:
    """Return the configuration if ``config_file`` carries tscl's marker, else None."""
    try:
        text = _files.read_bounded(config_file, MAX_JSON_BYTES, "configuration")
        config = parse_json(text, "config.json")
    except (OSError, ValueError):
        return None
    version = config.get("format_version") if isinstance(config, dict) else None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        return None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return None
    return config


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder whose ``config.json`` carries tscl's marker.

    Parameters
    ----------
    path : str or os.PathLike
        Any path.

    Returns
    -------
    bool

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.json").write_text('{"learning_rate": 0.1}')
    >>> is_model_folder(folder)  # a user's own config.json
    False
    """
    folder = Path(path)
    return folder.is_dir() and _marker(folder / "config.json") is not None


def check_target(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can receive a model folder, before any work is done.

    Parameters
    ----------
    path : str or os.PathLike
        A new path in an existing or creatable folder, an empty folder, or a
        model folder written by tscl (recognised by its marker) to replace.

    Returns
    -------
    Path

    Raises
    ------
    FileExistsError
        If ``path`` is a file, or a non-empty folder without tscl's marker (a
        project folder holding its own ``config.json``, say).
    PermissionError
        If the folder that would hold ``path`` cannot be written to.

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
    if target.is_dir() and any(target.iterdir()) and not is_model_folder(target):
        held = sorted(p.name for p in target.iterdir())
        raise FileExistsError(
            f"{target} is a non-empty directory that is not a tscl model folder (it "
            f"holds {held[:3]} and no config.json with format {short_repr(FORMAT)}); "
            "refusing to write into it. Choose a new directory."
        )
    parent = next(p for p in (target.parent, *target.parent.parents) if p.exists())
    if not parent.is_dir():
        raise FileExistsError(
            f"Cannot create the model folder {target}: {parent} is a file. "
            "Choose another path. Nothing was written."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(
            f"Cannot write the model folder {target}: {parent} is not writable. "
            "Choose another path. Nothing was written."
        )
    return target


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(data: Any, name: str) -> bytes:
    try:
        return json.dumps(data, indent=2).encode()
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"Cannot save: {name} would hold a value that is not JSON "
            f"serialisable ({err}). encoder_params and method_params must hold "
            "plain numbers, strings, lists and dicts. Nothing was written."
        ) from None


def write(
    path: str | os.PathLike[str],
    config: dict[str, Any],
    weights: dict[str, torch.Tensor],
    history: dict[str, Any],
) -> None:
    """Write a model folder atomically: all of the new one, or the old one whole.

    Parameters
    ----------
    path : str or os.PathLike
        A new path, an empty folder, or a model folder to replace.
    config : dict
        JSON-ready description of the model; the format's name and version,
        the tscl and torch versions and the files' digests are added.
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
    OSError
        If the disk is full or the folder cannot be written; ``path`` is then
        as it was and no temporary folder is left.

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
    target = check_target(path)
    history_bytes = _json_bytes(history, "history.json")
    _json_bytes(config, "config.json")  # fail before anything is written
    state = {k: v.detach().cpu() for k, v in weights.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_saves(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.mkdir(mode=0o777)
        _files.write_atomic(tmp / "encoder.pt", lambda f: torch.save(state, f))
        _files.write_atomic(tmp / "history.json", lambda f: f.write(history_bytes))
        digests = {
            "encoder.pt": _digest((tmp / "encoder.pt").read_bytes()),
            "history.json": _digest(history_bytes),
        }
        envelope = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tscl_version": __version__,
            "torch_version": torch.__version__,
            "digests": digests,
        }
        config_bytes = _json_bytes({**envelope, **config}, "config.json")
        _files.write_atomic(tmp / "config.json", lambda f: f.write(config_bytes))
        _keep_modes(target, tmp)
        _files.replace_folder(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise


def _keep_modes(old: Path, new: Path) -> None:
    """Give the new files the modes of the files they replace."""
    for name in FILES:
        with contextlib.suppress(OSError):
            os.chmod(new / name, (old / name).stat().st_mode & 0o7777)
    with contextlib.suppress(OSError):
        os.chmod(new, old.stat().st_mode & 0o7777)


def _remove_stale_saves(target: Path) -> None:
    """Remove the temporary folders that killed saves of ``target`` left."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        if tmp.is_dir() and not _files.owner_alive(tmp.name):
            shutil.rmtree(tmp, ignore_errors=True)


def _read_json(file: Path, what: str, data: bytes | None = None) -> Any:
    if data is None:
        data = _files.read_bounded(file, MAX_JSON_BYTES, what)
    try:
        return parse_json(data, str(file))
    except ValueError as err:
        raise ValueError(
            f"{err} The model directory is damaged ({what}). Save the model again."
        ) from None


def _read_config(path: Path, allow_older: bool = False) -> dict[str, Any]:
    if not path.exists():
        aside = sorted(path.parent.glob(f".{path.name}.*.old"))
        hint = (
            f" A save that was interrupted left its previous version in {aside[0]}: "
            f"rename it to {path.name} to use it."
            if aside
            else ""
        )
        raise FileNotFoundError(f"No model directory at {path}.{hint}")
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
    version = config.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ValueError(
            f"{config_file} has an invalid format_version {short_repr(version)}; the "
            "model "
            "directory is damaged. Save the model again."
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer tscl "
            f"({config.get('tscl_version')}); upgrade tscl to read it."
        )
    if version < FORMAT_VERSION and not allow_older:
        raise ValueError(
            f"{path} was written by an older tscl ({config.get('tscl_version')}, "
            f"model format {version}; this tscl reads format {FORMAT_VERSION}, "
            "whose folders carry the digests that detect a folder mixed from two "
            "saves or edited). If you trust the folder, convert it once with "
            f"tscl.persistence.upgrade({short_repr(str(path))}); or save the model "
            "again."
        )
    digests = config.get("digests")
    if version == FORMAT_VERSION and not (
        isinstance(digests, dict)
        and all(isinstance(digests.get(name), str) for name in FILES[1:])
    ):
        raise ValueError(
            f"{config_file} claims model format {version} but lacks the digests of "
            f"{' and '.join(FILES[1:])} that this format requires; the folder was "
            "edited or damaged. Save the model again."
        )
    return config


def _check_digest(config: dict[str, Any], file: Path, data: bytes) -> None:
    """Refuse a file whose digest is not the one its config.json records."""
    digests = config["digests"]  # _read_config checked that format 2 has them
    expected = digests.get(file.name)
    if expected != _digest(data):
        raise ValueError(
            f"{file} could not be read as this model's weights or history: its "
            "SHA-256 digest is not the one config.json records, so the folder "
            "mixes two saves or was edited by hand. Save the model again."
        )


def _read_weights(
    root: Path, config: dict[str, Any] | None
) -> tuple[bytes, dict[str, torch.Tensor]]:
    """Read ``encoder.pt``: its bytes and the state dict they hold.

    With ``config``, the bytes' digest must be the one it records; the state
    dict is loaded from those very bytes (``weights_only``), not the file again.
    """
    weights_file = root / "encoder.pt"
    if not weights_file.exists():
        raise ValueError(f"{root} has no encoder.pt; the model is incomplete.")
    data = _files.read_bounded(weights_file, MAX_WEIGHTS_BYTES, "weights")
    if config is not None:
        _check_digest(config, weights_file, data)
    try:
        weights = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(
            f"{weights_file} could not be read as this model's weights "
            f"({_files.load_error_reason(err, weights_file)})."
        ) from None
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise ValueError(
            f"{weights_file} could not be read as this model's weights: it holds a "
            f"{type(weights).__name__}, not a state dict of tensors."
        )
    return data, weights


def read(path: str | os.PathLike[str]) -> ModelFiles:
    """Read a model folder without running code from it, and check its files.

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
        file is missing, damaged or from another save (the message names it).
    """
    root = Path(path)
    config = _read_config(root)
    _, weights = _read_weights(root, config)
    history_file = root / "history.json"
    if not history_file.exists():
        raise ValueError(f"{root} has no history.json; the model is incomplete.")
    raw = _files.read_bounded(history_file, MAX_JSON_BYTES, "history")
    _check_digest(config, history_file, raw)
    history = _read_json(history_file, "its history", raw)
    if not isinstance(history, dict):
        raise ValueError(f"{history_file} does not hold a dict of per-epoch lists.")
    return ModelFiles(config, weights, history)


def upgrade(path: str | os.PathLike[str]) -> Path:
    """Convert a model folder of an older tscl to the current format, in place.

    Format 1 folders (tscl 0.1.0) carry no trustworthy digests of their files,
    so :func:`read` refuses them: nothing tells a folder mixed from two saves or
    edited by hand from a genuine one. Call this once on a folder you trust: it
    records the digests of the files the folder holds now and marks it with
    the current format. The weights are read with ``weights_only=True`` first,
    so a file that is not a state dict is refused and nothing is changed.

    Parameters
    ----------
    path : str or os.PathLike
        A folder written by an older tscl.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    ValueError
        If the folder is already in the current format, is not a tscl model
        folder, or its weights or history cannot be read.

    Examples
    --------
    >>> import json, tempfile
    >>> import torch
    >>> folder = Path(tempfile.mkdtemp()) / "old"
    >>> folder.mkdir()
    >>> torch.save({"w": torch.zeros(2)}, folder / "encoder.pt")
    >>> _ = (folder / "history.json").write_text("{}")
    >>> _ = (folder / "config.json").write_text(json.dumps(
    ...     {"format": "tscl-model", "format_version": 1, "tscl_version": "0.1.0"}))
    >>> _ = upgrade(folder)
    >>> sorted(read(folder).weights)
    ['w']
    """
    root = Path(path)
    config = _read_config(root, allow_older=True)
    if config.get("format_version", 0) == FORMAT_VERSION:
        raise ValueError(f"{root} is already in model format {FORMAT_VERSION}.")
    history_file = root / "history.json"
    data, _ = _read_weights(root, None)  # refused before anything is changed
    history = b"{}"
    if history_file.exists():
        history = _files.read_bounded(history_file, MAX_JSON_BYTES, "history")
        _read_json(history_file, "its history", history)
    else:
        _files.write_atomic(history_file, lambda f: f.write(history))
    config.update(
        format_version=FORMAT_VERSION,
        digests={"encoder.pt": _digest(data), "history.json": _digest(history)},
    )
    config_bytes = _json_bytes(config, "config.json")
    _files.write_atomic(root / "config.json", lambda f: f.write(config_bytes))
    return root
