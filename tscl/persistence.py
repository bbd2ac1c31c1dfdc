"""Save and load fitted encoders in a format that runs no code when read.

A model directory holds ``config.json`` (parameters, fitted statistics, versions),
``encoder.pt`` (a weights-only state dict) and ``history.json``.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tscl import augment, encoders, methods

__all__ = ["load", "save"]

FORMAT = "tscl-model"
FORMAT_VERSION = 1
FILES = ("config.json", "encoder.pt", "history.json")


def _registry_name(value: Any, registry: dict[str, Any], parameter: str) -> str:
    if isinstance(value, str):
        return value.lower()
    cls = value if isinstance(value, type) else None  # an instance's settings
    for name, registered in registry.items():  # are not stored, so refuse it
        if cls is registered:
            return name
    raise TypeError(
        f"Cannot save a model whose '{parameter}' is {value!r}: only names in "
        f"{sorted(registry)} (or their classes) can be saved safely. Add your class "
        f"to the registry or pickle the estimator instead. Nothing was written."
    )


def _augment_registry() -> dict[str, type]:
    return {**augment.AUGMENTATIONS, **augment.COMBINATORS}


class _Unrestorable(Exception):
    """An augmentation (or a member of one) that JSON cannot describe."""


def _param_to_json(value: Any) -> Any:
    if isinstance(value, augment.Augmentation):
        return {"augmentation": _augment_spec(value)}
    if isinstance(value, tuple):
        return {"tuple": [_param_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_param_to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise _Unrestorable


def _augment_spec(aug: Any) -> dict[str, Any]:
    name = next((k for k, v in _augment_registry().items() if type(aug) is v), None)
    if name is None:
        raise _Unrestorable
    params = aug.get_params(deep=False)
    return {"class": name, "params": {k: _param_to_json(v) for k, v in params.items()}}


def _augment_to_json(aug: Any) -> Any:
    """Describe a tscl augmentation as JSON; anything else becomes unrestorable."""
    if aug is None:
        return None
    try:
        return _augment_spec(aug)
    except _Unrestorable:
        return {"unrestorable": repr(aug)}


def _param_from_json(value: Any) -> Any:
    if isinstance(value, dict) and "augmentation" in value:
        return _augment_from_spec(value["augmentation"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_param_from_json(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_param_from_json(v) for v in value]
    return value


def _augment_from_spec(spec: dict[str, Any]) -> Any:
    params = {k: _param_from_json(v) for k, v in spec["params"].items()}
    name = "compose" if spec["class"] == "Compose" else spec["class"]  # tscl 0.1.0
    if name == "compose":
        params["augmentations"] = [
            _augment_from_spec(a) if isinstance(a, dict) else a
            for a in params["augmentations"]
        ]
    if isinstance(params.get("scale"), list):  # tscl 0.1.0 stored tuples as lists
        params["scale"] = tuple(params["scale"])
    return _augment_registry()[name](**params)


def _augment_from_json(spec: Any) -> Any:
    if spec is None:
        return None
    if "unrestorable" in spec:
        warnings.warn(
            f"The saved model was trained with augment={spec['unrestorable']}, which "
            "cannot be stored safely; the loaded estimator has augment=None. Set it "
            "again before refitting.",
            UserWarning,
            stacklevel=3,
        )
        return None
    return _augment_from_spec(spec)


def _version() -> str:
    from tscl import __version__

    return __version__


def _config(estimator: Any) -> dict[str, Any]:
    params = estimator.get_params(deep=False)
    params["method"] = _registry_name(params["method"], methods.METHODS, "method")
    params["encoder"] = _registry_name(params["encoder"], encoders.ENCODERS, "encoder")
    params["augment"] = _augment_to_json(params["augment"])
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None
    params["checkpoint"], params["resume"] = None, False  # belong to one fit
    fitted = {
        "n_features_in_": estimator.n_features_in_,
        "n_channels_in_": estimator.n_channels_in_,
        "n_dims_in_": estimator.n_dims_in_,
        "mean_": estimator.mean_.tolist(),
        "scale_": estimator.scale_.tolist(),
    }
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tscl_version": _version(),
        "torch_version": torch.__version__,
        "params": params,
        "fitted": fitted,
    }
    try:
        json.dumps(config)
    except TypeError as err:
        raise TypeError(
            f"Cannot save: a parameter is not JSON serialisable ({err}). "
            "encoder_params and method_params must hold plain numbers, strings, "
            "lists and dicts. Nothing was written."
        ) from None
    return config


def _check_target(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not a directory; choose another "
            "path for the model. Nothing was written."
        )
    if path.is_dir():
        extra = sorted(p.name for p in path.iterdir() if p.name not in FILES)
        if extra and not (path / "config.json").exists():
            raise FileExistsError(
                f"{path} is a non-empty directory that is not a tscl model (it holds "
                f"{extra[:3]}); refusing to write into it. Choose a new directory."
            )


def _write_atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted :class:`~tscl.ContrastiveEncoder` to the directory ``path``.

    Parameters
    ----------
    estimator : ContrastiveEncoder
        A fitted estimator.
    path : str or Path
        A new or empty directory, or a model directory to overwrite.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    FileExistsError
        If ``path`` is a file or a non-empty directory that is not a model.
    TypeError
        If a parameter cannot be stored safely (nothing is written).
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    target = Path(path)
    config = _config(estimator)
    _check_target(target)
    target.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in estimator.encoder_.state_dict().items()}
    _write_atomic(target / "encoder.pt", lambda f: torch.save(state, f))
    for name, data in (("history.json", estimator.history_), ("config.json", config)):
        text = json.dumps(data, indent=2)
        _write_atomic(target / name, lambda f, t=text: Path(f).write_text(t))


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
    try:
        config = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{config_file} is not valid JSON ({err}); the model directory is damaged."
        ) from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{config_file} is not a tscl model configuration.")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} was written by a newer tscl "
            f"({config.get('tscl_version')}); upgrade tscl to read it."
        )
    return config


def load(path: str | os.PathLike[str]) -> Any:
    """Read a model written by :meth:`ContrastiveEncoder.save` without running code.

    Parameters
    ----------
    path : str or Path
        The model directory.

    Returns
    -------
    ContrastiveEncoder
        Fitted, with the saved parameters and weights.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a tscl model directory or its files are damaged.

    Examples
    --------
    >>> import tempfile, numpy as np, tscl
    >>> X = np.random.default_rng(0).normal(size=(16, 32))
    >>> enc = tscl.ContrastiveEncoder(n_components=4, n_epochs=1, random_state=0,
    ...                               encoder_params={"hidden_dim": 4, "depth": 1})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = enc.fit(X).save(d)
    ...     np.allclose(tscl.load(d).transform(X), enc.transform(X))
    True
    """
    from tscl.estimator import ContrastiveEncoder

    root = Path(path)
    config = _read_config(root)
    try:
        params = dict(config["params"])
        params["augment"] = _augment_from_json(params["augment"])
        fitted = config["fitted"]
        estimator = ContrastiveEncoder(**params)
        with torch.random.fork_rng(devices=[]):  # building draws nothing we keep
            encoder = estimator._build_model(fitted["n_channels_in_"]).encoder
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(
            f"{root / 'config.json'} does not describe a model this tscl "
            f"{_version()} can rebuild ({type(err).__name__}: {err}); it may be "
            "damaged or written by another version."
        ) from None
    try:
        state = torch.load(root / "encoder.pt", map_location="cpu", weights_only=True)
        encoder.load_state_dict(state)
    except FileNotFoundError:
        raise ValueError(
            f"{root} has no encoder.pt; the model is incomplete."
        ) from None
    except (RuntimeError, EOFError, KeyError, TypeError, pickle.UnpicklingError) as err:
        raise ValueError(
            f"{root / 'encoder.pt'} could not be read as this model's "
            f"weights ({str(err).splitlines()[0]})."
        ) from None
    estimator.encoder_ = encoder.eval()
    estimator.mean_ = np.asarray(fitted["mean_"])
    estimator.scale_ = np.asarray(fitted["scale_"])
    estimator.n_features_in_ = fitted["n_features_in_"]
    estimator.n_channels_in_ = fitted["n_channels_in_"]
    estimator.n_dims_in_ = fitted.get("n_dims_in_", 3)
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], object)
    estimator._n_features_out = estimator.n_components
    history = root / "history.json"
    estimator.history_ = json.loads(history.read_text()) if history.exists() else {}
    return estimator
