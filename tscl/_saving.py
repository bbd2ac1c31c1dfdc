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
                None if self.augment is None else augment_module.to_spec(self.augment)
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
        """Rebuild a fitted estimator from a model folder's contents."""
        config = files.config
        try:
            params = dict(config["params"])
            params["augment"] = _augment_from_json(params["augment"])
            fitted = dict(config["fitted"])
            fitted.setdefault("n_dims_in_", 3)  # tscl 0.1.0 did not store it
            estimator = cls(**params)
            with torch.random.fork_rng(devices=[]):  # building draws nothing we keep
                model = estimator._build_model(int(fitted["n_channels_in_"]))
                encoder = model.trained_encoder()  # e.g. a pair for CLIP
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
        for name, value in fitted.items():
            setattr(estimator, name, _fitted_from_json(value))
        estimator._set_fitted(encoder.eval(), estimator.n_channels_in_)
        estimator.history_ = files.history
        return estimator


def _registry_name(value: Any, registry: dict[str, Any], parameter: str) -> str:
    """Return the registry name of a name or class; refuse an instance."""
    if isinstance(value, str):
        return value.lower()
    for name, registered in registry.items():
        if value is registered:
            return name
    raise TypeError(
        f"Cannot save a model whose '{parameter}' is {value!r}: only names in "
        f"{sorted(registry)} (or their classes) can be saved safely. Add your class "
        f"to the registry or pickle the estimator instead. Nothing was written."
    )


def _augment_from_json(spec: Any) -> Any:
    if spec is None:
        return None
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
