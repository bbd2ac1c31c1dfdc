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

import ast
from collections.abc import Callable
from typing import Any

from tscl._validation import (
    MAX_NESTING,
    check_keywords,
    check_nesting,
    parse_json,
    resolve_name,
    short_repr,
)
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
    "PRESETS",
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
    "ecg_augmentation",
    "finance_augmentation",
    "from_spec",
    "no_augmentation",
    "parse",
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
            f"{short_repr(augmentation)} is not a registered tscl augmentation, so it "
            "cannot "
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
        f"An augmentation parameter holds {short_repr(value)}, which cannot be stored "
        "as data "
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
    check_nesting(spec, "The augmentation spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("params", {}), dict):
        raise ValueError(
            f"An augmentation spec is a dict {{'class': name, 'params': {{...}}}}; "
            f"got {short_repr(spec)}."
        )
    name = spec.get("class")
    name = "compose" if name == "Compose" else name  # written by tscl 0.1.0
    registry = {**AUGMENTATIONS, **COMBINATORS}
    if not isinstance(name, str):
        raise ValueError(
            f"An augmentation spec's 'class' is a name in {sorted(registry)}; got "
            f"{short_repr(name)}."
        )
    cls = resolve_name(name, registry, "augmentation", "class")
    check_keywords(cls, spec.get("params", {}), f"the spec of {short_repr(name)}")
    params = {k: _from_json(v) for k, v in spec.get("params", {}).items()}
    if name == "compose":  # tscl 0.1.0 stored members without the wrapper
        params["augmentations"] = [
            from_spec(a) if isinstance(a, dict) else a
            for a in params.get("augmentations", [])
        ]
    if isinstance(params.get("scale"), list):  # tscl 0.1.0 stored tuples as lists
        params["scale"] = tuple(params["scale"])
    augmentation: Augmentation = cls(**params)
    _check_now(augmentation)
    return augmentation


def _check_now(augmentation: Any) -> None:
    """Check the parameters of an augmentation and its members before any call.

    Augmentations check their parameters when called, as scikit-learn's
    estimators do in ``fit``; text and specs are checked when read, so that an
    absurd ``n_knots`` is refused by ``parse`` instead of by the first training
    step. Members nested deeper than ``MAX_NESTING`` are refused.
    """
    stack: list[tuple[Any, int]] = [(augmentation, 0)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, Augmentation):
            continue
        if level > MAX_NESTING:
            raise ValueError(
                f"The augmentation nests members more than {MAX_NESTING} levels "
                "deep; tscl builds at most that."
            )
        node.check()
        for value in vars(node).values():
            for member in value if isinstance(value, (list, tuple)) else [value]:
                stack.append((member, level + 1))


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "augmentation" in value:
        return from_spec(value["augmentation"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(_from_json(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def parse(text: str) -> Augmentation:
    """Build views from text: a preset name, a composition, or a JSON spec.

    What ``tscl pretrain --augment`` takes.

    Parameters
    ----------
    text : str
        A name in :data:`PRESETS` (``"default"``, ``"none"``, ...); or registered
        augmentations joined by ``+``, each with keyword arguments of literal
        values, e.g. ``"crop(scale=(0.6, 1.0)) + jitter(sigma=0.05)"``; or the
        JSON of :func:`to_spec`.

    Returns
    -------
    Augmentation

    Raises
    ------
    ValueError
        For a name that is neither a preset nor registered (the message lists
        both), arguments that are not literals, or malformed text.
    TypeError
        For arguments an augmentation does not take.

    Examples
    --------
    >>> parse("scaling(sigma=0.2) + jitter")
    Compose(augmentations=[Scaling(sigma=0.2), Jitter()])
    >>> parse("none")
    Compose(augmentations=[])
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            "Expected an augmentation: a preset, a composition or JSON; got "
            f"{short_repr(text)}."
        )
    text = text.strip()
    if text.startswith("{"):
        return from_spec(parse_json(text, "The augmentation JSON"))
    if text.lower() in PRESETS:
        return PRESETS[text.lower()]()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ValueError(
            _parse_error(text, "it is not a preset or a composition")
        ) from None
    members: list[ast.expr] = []
    while isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):
        members.insert(0, tree.right)
        tree = tree.left
    members.insert(0, tree)
    built = [_member(node, text) for node in members]
    for member in built:
        _check_now(member)
    return built[0] if len(built) == 1 else Compose(built)


def _parse_error(text: str, why: str) -> str:
    return (
        f"Cannot read the augmentation {short_repr(text)}: {why}. Pass a preset "
        f"({', '.join(sorted(PRESETS))}), registered augmentations joined by + "
        "with keyword arguments, e.g. 'crop(scale=(0.6, 1.0)) + jitter(sigma=0.05)' "
        f"(names: {', '.join(sorted(AUGMENTATIONS))}), or JSON from to_spec."
    )


def _member(node: ast.expr, text: str) -> Augmentation:
    """One ``name`` or ``name(key=literal, ...)`` of a composition."""
    call = node if isinstance(node, ast.Call) else None
    name_node = call.func if call is not None else node
    if not isinstance(name_node, ast.Name) or (call is not None and call.args):
        raise ValueError(_parse_error(text, "each part is name(key=value, ...)"))
    if name_node.id.lower() not in AUGMENTATIONS:
        raise ValueError(
            _parse_error(text, f"{short_repr(name_node.id)} is not registered")
        )
    cls = AUGMENTATIONS[name_node.id.lower()]
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords if call is not None else []:
        if keyword.arg is None:
            raise ValueError(_parse_error(text, "** arguments are not allowed"))
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise ValueError(
                _parse_error(
                    text, f"the value of {short_repr(keyword.arg)} is not a literal"
                )
            ) from None
    check_keywords(cls, kwargs, f"the augmentation {name_node.id}(...)")
    augmentation: Augmentation = cls(**kwargs)
    return augmentation


def no_augmentation() -> Augmentation:
    """Return views that leave the series unchanged (``Compose([])``).

    For methods whose encoder draws the randomness itself (TS2Vec's masking).

    Returns
    -------
    Augmentation

    Examples
    --------
    >>> no_augmentation()
    Compose(augmentations=[])
    """
    return Compose([])


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


def ecg_augmentation() -> Augmentation:
    """Return views for ECG windows: two stretches of one recording, lightly noised.

    Each view is a random third of the window (:class:`RandomCrop`, the
    neighbouring segments of CLOCS's temporal contrast: the same patient, rhythm
    and morphology a few seconds apart), scaled by N(1, 0.2²) (gains differ
    between devices, leads and electrode contact) and jittered by 0.1 standard
    deviations (sensor noise). Pretrain on windows three times as long as the
    ones you will embed (30 s windows, 10 s views in ``tscl demo``).

    Chosen by measurement in the demo's setting (SimCLR on every shipped ECG
    recording, linear probe on Challenge 2017, one seed): this pipeline gave a
    macro-F1 of 0.498 against 0.431 for a gentler one (a half-window crop,
    ``Scaling(0.1)``, ``Jitter(0.05)``).

    What it must not destroy, so nothing here does: the time scale (heart
    rate and RR intervals: no :class:`Crop` resizing, :class:`TimeWarp` or
    :class:`Resample`), the polarity of the waves (no :class:`Flip`: an inverted
    T wave is a finding) and the order of the beats (no :class:`Permutation` or
    :class:`Reverse`).

    Returns
    -------
    Augmentation
        ``RandomCrop(1 / 3) + Scaling(0.2) + Jitter(0.1)``.

    References
    ----------
    .. [1] Kiyasseh, Zhu and Clifton, CLOCS: Contrastive Learning of Cardiac
       Signals Across Space, Time, and Patients, ICML 2021, arXiv:2005.13249

    Examples
    --------
    >>> ecg_augmentation().augmentations[0]
    RandomCrop(length=0.3333333333333333)
    """
    return RandomCrop(length=1 / 3) + Scaling(sigma=0.2) + Jitter(sigma=0.1)


def finance_augmentation() -> Augmentation:
    """Return views for windows of returns that keep volatility and time order.

    Each view is a random stretch of three quarters of the window
    (:class:`RandomCrop`: the same market a few days apart) with a little noise
    (:class:`Jitter`, 0.05 standard deviations of the returns).

    What it must not destroy: the size of the returns, which *is* the
    volatility that regimes and risk are about (no :class:`Scaling` or
    :class:`MagnitudeWarp`: ``tscl.ContrastiveEncoder`` standardises with the
    statistics of the whole training set, not of each window, so calm and
    turbulent windows stay apart), and the order of the days (no
    :class:`Permutation`, :class:`Reverse` or :class:`TimeWarp`: volatility
    clusters in time). The sign of returns is not symmetric either (no
    :class:`Flip`).

    Returns
    -------
    Augmentation
        ``RandomCrop(0.75) + Jitter(0.05)``.

    Examples
    --------
    >>> finance_augmentation()
    Compose(augmentations=[RandomCrop(length=0.75), Jitter(sigma=0.05)])
    """
    return RandomCrop(length=0.75) + Jitter(sigma=0.05)


#: View presets by name: functions that return a fresh pipeline
#: (``ContrastiveEncoder(augment="ecg")``, ``--augment ecg``).
PRESETS: dict[str, Callable[[], Augmentation]] = {
    "default": default_augmentation,
    "none": no_augmentation,
    "ecg": ecg_augmentation,
    "finance": finance_augmentation,
}
