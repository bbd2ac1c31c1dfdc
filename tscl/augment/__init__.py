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
