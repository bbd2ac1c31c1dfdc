"""Encoders pretrained by the tscl team that ship with the package, loaded by name.

Each lives in a folder of this package: ``model/`` (a model written by
:meth:`tscl.ContrastiveEncoder.save`, checked on load) and ``card.json`` (what
it was trained on, how, its licence and measured figures, and the settings of
the :class:`tscl.records.RecordEncoder` that embeds records with it). Nothing
is downloaded: ``load`` works offline.

To add one: train it with a script in ``benchmarks/`` that rebuilds it bit for
bit, save it into a new folder here with its ``card.json``, and write its card
in ``datasets/cards/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from tscl import estimator as estimator_module
from tscl import records as records_module
from tscl._validation import short_repr

__all__ = ["PretrainedEncoder", "available", "load"]

#: The folder that holds one sub-folder per shipped encoder.
FOLDER = Path(__file__).resolve().parent
#: RecordEncoder settings a card may give.
_RECORD_SETTINGS = ("model_fs", "context_s", "window_s", "stride_s", "pooling")


def _names() -> list[str]:
    return sorted(p.parent.name for p in FOLDER.glob("*/card.json"))


def _card(name: Any) -> dict[str, Any]:
    """Read and check the card of the shipped encoder ``name``."""
    names = _names()
    if not isinstance(name, str) or name not in names:
        raise ValueError(
            f"No pretrained encoder named {short_repr(name)}; the shipped ones are "
            f"{', '.join(map(repr, names)) or 'none'} (see tscl.pretrained."
            "available())."
        )
    path = FOLDER / name / "card.json"
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        settings = {k: card["record_encoder"][k] for k in _RECORD_SETTINGS}
        summary = str(card["summary"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"The card of the pretrained encoder {short_repr(name)} ({path}) is "
            "damaged "
            f"({type(err).__name__}: {err}); reinstall tscl."
        ) from None
    return {**card, "record_encoder": settings, "summary": summary}


def available() -> dict[str, str]:
    """List the pretrained encoders that ship with tscl, with a one-line card each.

    Returns
    -------
    dict of str to str
        Name -> what it was trained on and what it gives.

    Examples
    --------
    >>> sorted(available())
    ['ecg-cinc2017']
    """
    return {name: _card(name)["summary"] for name in _names()}


class PretrainedEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """A shipped pretrained encoder as a scikit-learn transformer of records.

    ``fit`` loads the weights by name (nothing is trained, nothing downloaded;
    the labels and records it is given are ignored), so the transformer can sit
    in a ``Pipeline`` and survive ``clone`` and cross-validation.
    ``transform`` embeds single-lead records of any length, in mV at ``fs`` Hz,
    as :class:`tscl.records.RecordEncoder` does with the settings of the card:
    resampling to the model's rate, standardisation, overlapping windows and
    the mean of their representations per record.

    Parameters
    ----------
    name : str, default="ecg-cinc2017"
        A name of :func:`available`.
    fs : float, default=300.0
        Sampling rate of the records given to ``transform``, in Hz.

    Attributes
    ----------
    encoder_ : RecordEncoder
        The loaded encoder with the card's settings and ``fs``.
    card_ : dict
        The card: training data, recipe, licence and figures.

    See Also
    --------
    load : The same, fitted, in one call.

    Examples
    --------
    >>> from sklearn.pipeline import make_union
    >>> from tscl.datasets import load_challenge2017
    >>> from tscl.features import RRFeatures
    >>> records, labels, names = load_challenge2017()
    >>> union = make_union(PretrainedEncoder("ecg-cinc2017"), RRFeatures(fs=300))
    >>> union.fit_transform(records[:3]).shape
    (3, 143)
    """

    def __init__(self, name: str = "ecg-cinc2017", fs: float = 300.0) -> None:
        self.name = name
        self.fs = fs

    def fit(self, X: Any = None, y: Any = None) -> PretrainedEncoder:
        """Load the weights of ``name``; ``X`` and ``y`` are ignored.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self : PretrainedEncoder

        Raises
        ------
        ValueError
            If ``name`` is not shipped, ``fs`` is out of range, or the shipped
            files are damaged.
        """
        card = _card(self.name)
        model = estimator_module.load(FOLDER / self.name / "model")
        encoder = records_module.RecordEncoder(fs=self.fs, **card["record_encoder"])
        encoder._check_params()
        encoder.model_ = model
        encoder.n_features_in_ = 0
        self.encoder_, self.card_ = encoder, card
        self.n_features_in_ = 0
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Embed each record as one vector.

        Parameters
        ----------
        X : list of 1-D array-like, or array-like of shape (n_records, n_timesteps)
            Single-lead records in mV at ``fs`` Hz, of any length, finite.

        Returns
        -------
        ndarray of shape (n_records, n_components)
        """
        check_is_fitted(self, "encoder_")
        Z = self.encoder_.transform(X)
        self._n_features_out = Z.shape[1]
        return Z

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # a list of records
        tags.requires_fit = False
        return tags


def load(name: str, *, fs: float = 300.0) -> PretrainedEncoder:
    """Load a shipped pretrained encoder by name, ready to ``transform``.

    Parameters
    ----------
    name : str
        A name of :func:`available`, e.g. ``"ecg-cinc2017"``.
    fs : float, default=300.0
        Sampling rate of the records you will embed, in Hz.

    Returns
    -------
    PretrainedEncoder
        Fitted.

    Raises
    ------
    ValueError
        If no encoder has that name (the message lists them).

    Examples
    --------
    >>> from tscl.datasets import load_challenge2017
    >>> records, labels, names = load_challenge2017()
    >>> encoder = load("ecg-cinc2017")
    >>> encoder.transform(records[:2]).shape
    (2, 128)
    """
    return PretrainedEncoder(name, fs=fs).fit()
