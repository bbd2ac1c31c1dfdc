"""Batched, torch-native augmentations that make the views of contrastive learning.

Every augmentation takes a tensor of shape ``(batch, channels, time)``, draws all
its randomness from the ``torch.Generator`` it is given (on the tensor's device),
never edits its input in place and applies itself to each sample with
probability ``p``. Compose them with ``+``, :class:`Compose`, :class:`OneOf` and
:class:`RandomApply`, and make views with :class:`Views`.

Where things are:

- ``_core.py``: the :class:`Augmentation` base class and composition;
- ``_time.py``: time-domain transforms (noise, scaling, warps, crops, masks, mixup);
- ``_channels.py``: across channels (shuffle, rotation, lead dropout);
- ``_frequency.py``: frequency-domain transforms (TF-C);
- ``_ecg.py``: ECG noise models in physical units;
- ``_tsaug.py``: the adapter for tsaug augmenters.

To add an augmentation: subclass :class:`Augmentation` in the module of its
family, store the constructor arguments, check them in ``_check_params``,
implement ``_transform`` and add the class to :data:`AUGMENTATIONS` below. The
tests in ``tests/test_augment.py`` then cover it.
"""

from __future__ import annotations

from typing import Any

from tscl._validation import resolve_name
from tscl.augment._channels import ChannelDropout, ChannelShuffle, Rotation
from tscl.augment._core import Augmentation, Compose, OneOf, RandomApply, Views
from tscl.augment._ecg import (
    BaselineWander,
    ElectrodeMotion,
    EMGNoise,
    PowerlineNoise,
)
from tscl.augment._frequency import FrequencyMask, FrequencyNoise
from tscl.augment._time import (
    Crop,
    Drift,
    Flip,
    Jitter,
    MagnitudeWarp,
    Masking,
    Mixup,
    Permutation,
    RandomCrop,
    Resample,
    Reverse,
    Scaling,
    TimeWarp,
)
from tscl.augment._tsaug import Tsaug, as_augmentation

__all__ = [
    "AUGMENTATIONS",
    "COMBINATORS",
    "Augmentation",
    "BaselineWander",
    "ChannelDropout",
    "ChannelShuffle",
    "Compose",
    "Crop",
    "Drift",
    "EMGNoise",
    "ElectrodeMotion",
    "Flip",
    "FrequencyMask",
    "FrequencyNoise",
    "Jitter",
    "MagnitudeWarp",
    "Masking",
    "Mixup",
    "OneOf",
    "Permutation",
    "PowerlineNoise",
    "RandomApply",
    "RandomCrop",
    "Resample",
    "Reverse",
    "Rotation",
    "Scaling",
    "TimeWarp",
    "Tsaug",
    "Views",
    "as_augmentation",
    "default_augmentation",
    "from_spec",
    "to_spec",
]


def default_augmentation() -> Augmentation:
    """Return the default view pipeline of :class:`tscl.ContrastiveEncoder`.

    A random resized crop keeping 50-100% of the series, a scaling by N(1, 0.1²)
    per sample and Gaussian jitter of 0.03 (inputs are standardised per channel
    by the estimator, so these are in units of the series' standard deviation).

    Returns
    -------
    Augmentation
        ``Crop((0.5, 1.0)) + Scaling(0.1) + Jitter(0.03)``.

    Examples
    --------
    >>> default_augmentation()
    Compose(augmentations=[Crop(), Scaling(), Jitter()])
    """
    return Crop() + Scaling() + Jitter()


def to_spec(augmentation: Augmentation) -> dict[str, Any]:
    """Describe a registered augmentation (or composition) as JSON-ready data.

    The inverse of :func:`from_spec`. Saved models store their views this way,
    so that loading one never runs code from the file.

    Parameters
    ----------
    augmentation : Augmentation
        An instance of a class in :data:`AUGMENTATIONS` or :data:`COMBINATORS`,
        whose parameters are numbers, strings, None, tuples, lists or such
        augmentations.

    Returns
    -------
    dict
        ``{"class": name, "params": {...}}``; nested augmentations appear as
        ``{"augmentation": spec}`` and tuples as ``{"tuple": [...]}``.

    Raises
    ------
    TypeError
        For an augmentation that is not registered, or a parameter that JSON
        cannot hold.

    Examples
    --------
    >>> spec = to_spec(Jitter(sigma=0.1) + Scaling())
    >>> spec["class"], spec["params"]["augmentations"][0]["augmentation"]["class"]
    ('compose', 'jitter')
    >>> from_spec(spec)
    Compose(augmentations=[Jitter(sigma=0.1), Scaling()])
    """
    registry = {**AUGMENTATIONS, **COMBINATORS}
    name = next((k for k, v in registry.items() if type(augmentation) is v), None)
    if name is None:
        raise TypeError(
            f"{augmentation!r} is not a registered tscl augmentation, so it cannot "
            "be described as data. Register its class in tscl.augment.AUGMENTATIONS "
            "or pickle the object instead."
        )
    params = augmentation.get_params(deep=False)
    return {"class": name, "params": {k: _to_json(v) for k, v in params.items()}}


def _to_json(value: Any) -> Any:
    if isinstance(value, Augmentation):
        return {"augmentation": to_spec(value)}
    if isinstance(value, tuple):
        return {"tuple": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"An augmentation parameter holds {value!r}, which cannot be stored as data "
        "(numbers, strings, None, tuples, lists and augmentations can)."
    )


def from_spec(spec: dict[str, Any]) -> Augmentation:
    """Build an augmentation from :func:`to_spec`'s description.

    Parameters
    ----------
    spec : dict
        ``{"class": name, "params": {...}}`` with a name in
        :data:`AUGMENTATIONS` or :data:`COMBINATORS`.

    Returns
    -------
    Augmentation

    Raises
    ------
    ValueError
        For a malformed spec or an unknown class name (the message lists the
        valid ones).
    TypeError
        For parameters the class does not take.

    Examples
    --------
    >>> from_spec({"class": "jitter", "params": {"sigma": 0.2}})
    Jitter(sigma=0.2)
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("params", {}), dict):
        raise ValueError(
            f"An augmentation spec is a dict {{'class': name, 'params': {{...}}}}; "
            f"got {spec!r}."
        )
    name = spec.get("class")
    name = "compose" if name == "Compose" else name  # written by tscl 0.1.0
    registry = {**AUGMENTATIONS, **COMBINATORS}
    cls = resolve_name(name, registry, "augmentation", "class")
    params = {k: _from_json(v) for k, v in spec.get("params", {}).items()}
    if name == "compose":  # tscl 0.1.0 stored members without the wrapper
        params["augmentations"] = [
            from_spec(a) if isinstance(a, dict) else a
            for a in params.get("augmentations", [])
        ]
    if isinstance(params.get("scale"), list):  # tscl 0.1.0 stored tuples as lists
        params["scale"] = tuple(params["scale"])
    augmentation: Augmentation = cls(**params)
    return augmentation


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "augmentation" in value:
        return from_spec(value["augmentation"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_from_json(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


#: Every augmentation by name; each constructs with its defaults.
AUGMENTATIONS: dict[str, type[Augmentation]] = {
    # time domain
    "jitter": Jitter,
    "scaling": Scaling,
    "magnitude_warp": MagnitudeWarp,
    "time_warp": TimeWarp,
    "crop": Crop,
    "random_crop": RandomCrop,
    "permutation": Permutation,
    "masking": Masking,
    "reverse": Reverse,
    "flip": Flip,
    "drift": Drift,
    "resample": Resample,
    "mixup": Mixup,
    # channels
    "channel_shuffle": ChannelShuffle,
    "rotation": Rotation,
    "channel_dropout": ChannelDropout,
    # frequency domain
    "frequency_mask": FrequencyMask,
    "frequency_noise": FrequencyNoise,
    # ECG noise in physical units (fs in Hz, amplitudes in mV)
    "baseline_wander": BaselineWander,
    "powerline_noise": PowerlineNoise,
    "emg_noise": EMGNoise,
    "electrode_motion": ElectrodeMotion,
}

#: Augmentations built from other augmentations (no defaults: they need members).
COMBINATORS: dict[str, type[Augmentation]] = {
    "compose": Compose,
    "one_of": OneOf,
    "random_apply": RandomApply,
}
