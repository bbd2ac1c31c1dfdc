"""How the estimator turns itself into a model folder and back.

:mod:`tscl.persistence` writes and reads the files and knows nothing of
estimators; :class:`SavingMixin` gives :class:`tscl.ContrastiveEncoder` its
``save`` and the conversion of its parameters and fitted attributes to and
from the folder's ``config.json``. Every fitted attribute (a name ending in
``_``) but the encoder and the history is stored, so a new one needs no edit.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from tscl import augment as augment_module
from tscl import encoders, methods, persistence
from tscl._validation import short_repr

__all__ = ["SavingMixin"]


class SavingMixin:
    """``save`` and the conversion to and from a model folder's configuration."""

    history_: dict[str, Any]
    encoder_: torch.nn.Module
    n_channels_in_: int
    augment: Any

    if TYPE_CHECKING:  # given by the estimator class

        def get_params(self, deep: bool = True) -> dict[str, Any]: ...

        def _build_model(self, n_channels: int) -> methods.Method: ...

        def _set_fitted(self, encoder: torch.nn.Module, n_channels: int) -> None: ...

    def save(self, path: str | os.PathLike[str]) -> Any:
        """Write the fitted model to directory ``path`` in a format that runs no code.

        ``config.json`` holds the parameters and fitted statistics,
        ``encoder.pt`` the weights (read back with ``weights_only=True``) and
        ``history.json`` the training history (:mod:`tscl.persistence`). See
        :func:`tscl.load`.

        Parameters
        ----------
        path : str or Path
            A new or empty directory, or one written by an earlier ``save``.

        Returns
        -------
        self : ContrastiveEncoder

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        FileExistsError
            If ``path`` is a file or a non-empty directory that is not a model.
        TypeError
            If a parameter cannot be stored safely (nothing is written).
        """
        check_is_fitted(self)
        config = {"params": self._params_to_json(), "fitted": self._fitted_to_json()}
        persistence.write(path, config, self.encoder_.state_dict(), self.history_)
        return self

    def _params_to_json(self) -> dict[str, Any]:
        """Return the parameters as JSON: registry names, view specs, no paths."""
        params = self.get_params(deep=False)
        params["method"] = _registry_name(params["method"], methods.METHODS, "method")
        params["encoder"] = _registry_name(
            params["encoder"], encoders.ENCODERS, "encoder"
        )
        try:
            params["augment"] = (
                self.augment
                if self.augment is None or isinstance(self.augment, str)
                else augment_module.to_spec(self.augment)
            )
        except TypeError:
            params["augment"] = {"unrestorable": repr(self.augment)}
        if not isinstance(params["random_state"], (int, type(None))):
            params["random_state"] = None
        params["checkpoint"], params["resume"] = None, False  # belong to one fit
        return params

    def _fitted_to_json(self) -> dict[str, Any]:
        """Every fitted attribute (``name_``) but the encoder and the history."""
        fitted = {}
        for name, value in vars(self).items():
            if name.startswith("_") or not name.endswith("_"):
                continue
            if name in ("encoder_", "history_"):
                continue
            fitted[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return fitted

    @classmethod
    def _from_files(cls, files: persistence.ModelFiles, root: str) -> Any:
        """Rebuild a fitted estimator from a model folder's contents.

        Every field is checked against its type, its bounds and the others
        before anything is built; the network is first built on the ``meta``
        device (no memory) and its shapes compared with the weights file.
        """
        config = files.config
        try:
            estimator, fitted = _checked_config(cls, config)
            with torch.random.fork_rng(devices=[]), torch.device("meta"):
                planned = estimator._build_model(fitted["n_channels_in_"])
            _check_size(planned.trained_encoder(), files.weights)
            with torch.random.fork_rng(devices=[]):  # building draws nothing we keep
                model = estimator._build_model(fitted["n_channels_in_"])
                encoder = model.trained_encoder()  # e.g. a pair for CLIP
        except _WeightsMismatch as err:
            raise ValueError(
                f"{root}/encoder.pt could not be read as this model's weights ({err})."
            ) from None
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"{root}/config.json does not describe a model this tscl can "
                f"rebuild ({type(err).__name__}: {err}); it may be damaged or "
                "written by another version."
            ) from None
        try:
            encoder.load_state_dict(files.weights)
        except (RuntimeError, KeyError, TypeError) as err:
            reason = " ".join(line.strip() for line in str(err).splitlines()[:2])
            raise ValueError(
                f"{root}/encoder.pt could not be read as this model's weights "
                f"({reason})."
            ) from None
        if not all(bool(torch.isfinite(v).all()) for v in files.weights.values()):
            raise ValueError(
                f"{root}/encoder.pt holds NaN or infinite weights; the model is "
                "damaged. Save or train it again."
            )
        for name, value in fitted.items():
            setattr(estimator, name, value)
        estimator._set_fitted(encoder.eval(), estimator.n_channels_in_)
        estimator.history_ = files.history
        return estimator


#: The largest integer a saved model's settings may hold (sizes, counts).
MAX_SETTING = 1 << 20
#: The largest encoder a saved model may describe, in parameters.
MAX_PARAMETERS = encoders.MAX_PARAMETERS
#: The most input channels a saved model may have been fitted on.
MAX_CHANNELS = 1 << 16


class _WeightsMismatch(Exception):
    """The weights file does not fit the network the configuration describes."""


def _check_settings(value: Any, where: str) -> None:
    """Refuse JSON settings that are not plain, finite and of bounded size."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_settings(item, f"{where}[{short_repr(key)}]")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_settings(item, f"{where}[{i}]")
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_SETTING:
            raise ValueError(
                f"{where} = {value} is beyond {MAX_SETTING}, the largest size a "
                "saved model may hold"
            )
    elif isinstance(value, float):
        if not np.isfinite(value):
            raise ValueError(f"{where} = {value} is not finite")
    else:
        raise TypeError(f"{where} holds {type(value).__name__}, not a JSON value")


def _checked_config(cls: Any, config: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Return the estimator and its fitted attributes, every field checked."""
    params, fitted = dict(config["params"]), dict(config["fitted"])
    unknown = set(params) - set(cls().get_params(deep=False))
    if unknown:
        raise TypeError(f"unknown parameters {sorted(unknown)}")
    for name in ("encoder_params", "method_params"):
        if params.get(name) is not None and not isinstance(params[name], dict):
            raise TypeError(f"{name} must be a dict or None")
    _check_settings({k: v for k, v in params.items() if k != "augment"}, "params")
    params["augment"] = _augment_from_json(params.get("augment"))
    params["checkpoint"], params["resume"] = None, False  # never from a file
    estimator = cls(**params)
    estimator._check_params()  # names, types and ranges, as fit checks them
    return estimator, _checked_fitted(fitted)


def _checked_fitted(fitted: dict[str, Any]) -> dict[str, Any]:
    """Return the fitted attributes, the statistics checked against each other."""
    _check_settings(fitted, "fitted")
    fitted.setdefault("n_dims_in_", 3)  # tscl 0.1.0 did not store it
    channels = fitted["n_channels_in_"]
    if not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(
            f"n_channels_in_ = {short_repr(channels)} is not a channel count"
        )
    if fitted["n_dims_in_"] not in (2, 3):
        raise ValueError(
            f"n_dims_in_ = {short_repr(fitted['n_dims_in_'])} is not 2 or 3"
        )
    if not isinstance(fitted["n_features_in_"], int) or fitted["n_features_in_"] < 1:
        raise ValueError(f"n_features_in_ = {short_repr(fitted['n_features_in_'])}")
    if fitted["n_dims_in_"] == 3 and fitted["n_features_in_"] != channels:
        raise ValueError(  # for 3-D input the features are the channels
            f"n_features_in_ = {fitted['n_features_in_']} differs from "
            f"n_channels_in_ = {channels} for 3-D input"
        )
    for name in ("mean_", "scale_"):
        try:
            values = np.asarray(fitted[name], dtype=np.float64)
        except (TypeError, ValueError):
            values = np.full(0, np.nan)
        if values.shape != (channels,) or not np.isfinite(values).all():
            raise ValueError(
                f"{name} must hold {channels} finite numbers, one per channel; "
                f"got {short_repr(fitted[name])}"
            )
        if name == "scale_" and (values <= 0).any():
            raise ValueError(f"scale_ must be > 0; got {short_repr(fitted[name])}")
    return {name: _fitted_from_json(value) for name, value in fitted.items()}


def _check_size(planned: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Compare the planned network (on ``meta``) with the weights file's tensors."""
    expected = planned.state_dict()
    size = sum(t.numel() for t in expected.values())
    if size > MAX_PARAMETERS:
        raise ValueError(
            f"the network would have {size:,} parameters, more than the "
            f"{MAX_PARAMETERS:,} a saved model may describe"
        )
    if set(expected) != set(weights):
        missing, extra = set(expected) - set(weights), set(weights) - set(expected)
        raise _WeightsMismatch(
            f"missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}"
        )
    for name, tensor in expected.items():
        if tuple(tensor.shape) != tuple(weights[name].shape):
            raise _WeightsMismatch(
                f"{name} has shape {tuple(weights[name].shape)} in the file, "
                f"{tuple(tensor.shape)} in the model config.json describes"
            )


def _registry_name(value: Any, registry: dict[str, Any], parameter: str) -> str:
    """Return the registry name of a name or class; refuse an instance."""
    if isinstance(value, str):
        return value.lower()
    for name, registered in registry.items():
        if value is registered:
            return name
    raise TypeError(
        f"Cannot save a model whose '{parameter}' is {short_repr(value)}: only names "
        "in "
        f"{sorted(registry)} (or their classes) can be saved safely. Add your class "
        f"to the registry or pickle the estimator instead. Nothing was written."
    )


def _augment_from_json(spec: Any) -> Any:
    if spec is None:
        return None
    if isinstance(spec, str):  # a preset or composition name, as it was given
        augment_module.parse(spec)  # refuses what is not one
        return spec
    if "unrestorable" in spec:
        warnings.warn(
            f"The saved model was trained with augment={spec['unrestorable']}, which "
            "cannot be stored safely; the loaded estimator has augment=None. Set it "
            "again before refitting.",
            UserWarning,
            stacklevel=4,
        )
        return None
    return augment_module.from_spec(spec)


def _fitted_from_json(value: Any) -> Any:
    """Return a stored fitted value: lists were arrays (of objects for strings)."""
    if not isinstance(value, list):
        return value
    strings = any(isinstance(v, str) for v in value)
    return np.asarray(value, dtype=object if strings else None)
