"""Tests for tscl.augment: the contract of every augmentation, then each one's use."""

import math
import os

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from torch.overrides import TorchFunctionMode

import tscl.augment
from tscl.augment import (
    AUGMENTATIONS,
    COMBINATORS,
    Augmentation,
    BaselineWander,
    ChannelDropout,
    ChannelShuffle,
    Compose,
    Crop,
    Drift,
    ElectrodeMotion,
    EMGNoise,
    Flip,
    FrequencyMask,
    FrequencyNoise,
    Jitter,
    MagnitudeWarp,
    Masking,
    Mixup,
    OneOf,
    Permutation,
    PowerlineNoise,
    RandomApply,
    RandomCrop,
    Resample,
    Reverse,
    Rotation,
    Scaling,
    TimeWarp,
    Views,
    default_augmentation,
)


def _all_augmentations() -> list[Augmentation]:
    other_settings = [
        BaselineWander(fs=100.0, frequency_range=(0.1, 2.0), n_components=1),
        PowerlineNoise(fs=250.0, frequency=60.0, n_harmonics=5),
        EMGNoise(fs=360.0, band=(5.0, 400.0)),
        ElectrodeMotion(fs=250.0, duration_range=(0.01, 2.0), n_bursts=3),
        Permutation(segments="equal"),
        Masking(mode="continuous", per_channel=True),
    ]
    singles = [cls() for cls in AUGMENTATIONS.values()]
    keeping = [cls() for cls in AUGMENTATIONS.values() if cls.keeps_length]
    shortening = [cls() for cls in AUGMENTATIONS.values() if not cls.keeps_length]
    return [
        *singles,
        Compose(keeping),
        Compose([*keeping, *shortening]),
        OneOf([Jitter(), TimeWarp(), Permutation(), ChannelShuffle()], p=1.0),
        OneOf([RandomCrop(length=0.5), RandomCrop(length=0.5) + Jitter()]),
        RandomApply(MagnitudeWarp() + FrequencyNoise(), p=0.75),
        *other_settings,
    ]


ALL_AUGMENTATIONS = _all_augmentations()
IDS = [
    type(a).__name__
    + ("" if a.keeps_length else "-shortening")
    + ("-" + type(a.augmentations[0]).__name__ if isinstance(a, OneOf) else "")
    for a in ALL_AUGMENTATIONS
]
#: Augmentations whose output has the input's shape (``p`` then keeps samples).
KEEPING = [a for a in ALL_AUGMENTATIONS if a.keeps_length]
KEEPING_IDS = [i for a, i in zip(ALL_AUGMENTATIONS, IDS, strict=True) if a.keeps_length]
SETTINGS = settings(deadline=None, max_examples=25)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _with_p(aug: Augmentation, p: float) -> Augmentation:
    return clone(aug).set_params(p=p)


def _random(aug: Augmentation) -> Augmentation:
    """``aug`` itself, or with ``p=0.5`` when only ``p`` makes it random (Flip)."""
    return aug if aug.is_random else _with_p(aug, 0.5)


def _members(aug: Augmentation) -> list[Augmentation]:
    if isinstance(aug, Compose):
        return [m for a in aug.augmentations for m in _members(a)]
    return [aug]


def _out_shape(aug: Augmentation, x: torch.Tensor) -> tuple[int, ...]:
    """The shape ``aug`` gives for ``x``: the same unless it shortens series."""
    if isinstance(aug, OneOf):
        return _out_shape(aug.augmentations[0], x)
    if isinstance(aug, RandomApply):
        return _out_shape(aug.augmentation, x)
    length = x.shape[-1]
    for member in _members(aug):
        if not member.keeps_length:
            length = member.output_length(length)
    return (*x.shape[:-1], length)


# ---------------------------------------------------------------------- contract


def test_every_registered_augmentation_is_an_augmentation():
    assert AUGMENTATIONS  # the registry is not empty
    for name, cls in {**AUGMENTATIONS, **COMBINATORS}.items():
        assert name == name.lower()
        assert issubclass(cls, Augmentation)
    assert not set(AUGMENTATIONS) & set(COMBINATORS)


def test_every_public_augmentation_is_registered():
    registered = {*AUGMENTATIONS.values(), *COMBINATORS.values()}
    public = {
        obj
        for name in tscl.augment.__all__
        if isinstance(obj := getattr(tscl.augment, name), type)
        and issubclass(obj, Augmentation)
        and obj is not Augmentation
    }
    unregistered = {cls.__name__ for cls in public - registered}
    assert unregistered <= {"Tsaug"}  # the adapter needs a tsaug object


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_keeps_shape_dtype_device_and_input(aug):
    x = torch.randn(32, 3, 40, generator=_gen(1))
    before = x.clone()
    y = aug(x, _gen(0))
    assert y.shape == _out_shape(aug, x)
    assert y.dtype == x.dtype
    assert y.device == x.device
    assert torch.equal(x, before)  # no in-place edits
    assert y is not x
    assert not torch.equal(y, x)  # it did something


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_same_seed_same_output_and_fresh_draws_without_seed(aug):
    aug = _random(aug)
    x = torch.randn(32, 3, 40, generator=_gen(1))
    assert torch.equal(aug(x, _gen(7)), aug(x, _gen(7)))
    assert not torch.equal(aug(x, _gen(7)), aug(x, _gen(8)))
    assert not torch.equal(aug(x), aug(x))  # no hidden re-seeding


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_one_generator_gives_a_new_view_on_each_call(aug):
    aug = _random(aug)
    x = torch.randn(16, 3, 40, generator=_gen(1))
    generator = _gen(3)
    assert not torch.equal(aug(x, generator), aug(x, generator))


@pytest.mark.parametrize("aug", KEEPING, ids=KEEPING_IDS)
def test_p_zero_returns_an_equal_new_tensor(aug):
    x = torch.randn(16, 2, 40, generator=_gen(1))
    y = _with_p(aug, 0.0)(x, _gen(0))
    assert torch.equal(y, x)
    assert y is not x
    assert y.data_ptr() != x.data_ptr()  # a copy, not a view


@pytest.mark.parametrize("aug", KEEPING, ids=KEEPING_IDS)
def test_p_half_transforms_some_samples_and_keeps_others_exactly(aug):
    x = torch.randn(256, 3, 40, generator=_gen(1))
    y = _with_p(aug, 0.5)(x, _gen(0))
    same = (y == x).flatten(1).all(dim=1)  # (batch,)
    n_same = int(same.sum())
    # About half are kept (a transformed sample may rarely equal its input).
    assert 64 < n_same < 224
    assert (~same).any()


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
@pytest.mark.parametrize("channels", [1, 12])
@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16]
)
def test_channels_and_dtypes(aug, channels, dtype):
    x = torch.randn(8, channels, 32, generator=_gen(1)).to(dtype)
    y = aug(x, _gen(0))
    assert y.shape == _out_shape(aug, x)
    assert y.dtype == dtype
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_half_precision_follows_full_precision(aug):
    """bfloat16 output is the float32 output, rounded: no precision bugs."""
    x = torch.randn(8, 3, 300, generator=_gen(1))
    full = aug(x.bfloat16().float(), _gen(0))
    half = aug(x.bfloat16(), _gen(0)).float()
    assert (half - full).abs().max() <= 0.05 * full.abs().max() + 0.05


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_shortest_supported_length_works_and_shorter_is_rejected(aug):
    x = torch.randn(8, 2, aug.min_length, generator=_gen(1))
    assert aug(x, _gen(0)).shape == _out_shape(aug, x)
    with pytest.raises(ValueError, match=r"at least|non-empty"):
        aug(torch.randn(8, 2, aug.min_length - 1), _gen(0))


@pytest.mark.parametrize("aug", [Crop(), Permutation()], ids=["Crop", "Permutation"])
def test_too_short_message_names_the_augmentation_and_minimum(aug):
    with pytest.raises(ValueError, match=rf"{type(aug).__name__} needs series of at"):
        aug(torch.randn(4, 1, 1))


@SETTINGS
@given(
    index=st.integers(0, len(ALL_AUGMENTATIONS) - 1),
    batch=st.integers(1, 9),
    channels=st.integers(1, 5),
    extra=st.integers(0, 60),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_contract_over_generated_shapes_and_dtypes(
    index, batch, channels, extra, dtype, seed
):
    aug = ALL_AUGMENTATIONS[index]
    length = aug.min_length + extra
    x = torch.randn(batch, channels, length, dtype=dtype, generator=_gen(seed))
    before = x.clone()
    y = aug(x, _gen(seed))
    assert y.shape == _out_shape(aug, x)
    assert y.dtype == dtype
    assert torch.equal(x, before)
    assert torch.isfinite(y).all()
    assert torch.equal(y, aug(x, _gen(seed)))


class _CallCounter(TorchFunctionMode):
    """Count torch function calls (a Python loop over samples multiplies them)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: D105
        self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_batched_no_loop_over_samples_or_channels(aug):
    counts = []
    for batch, channels in ((2, 2), (64, 2), (2, 12)):
        x = torch.randn(batch, channels, 32, generator=_gen(1))
        with _CallCounter() as counter:
            aug(x, _gen(0))
        counts.append(counter.calls)
    assert counts[0] > 0
    assert counts[0] == counts[1] == counts[2]  # independent of batch and channels


@pytest.mark.parametrize("aug", KEEPING, ids=KEEPING_IDS)
def test_large_batch_runs(aug):
    x = torch.randn(4096, 1, 128, generator=_gen(1))
    y = _with_p(aug, 0.5)(x, _gen(0))
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_cuda_contract(aug):
    x = torch.randn(64, 3, 100, device="cuda")
    before = x.clone()
    generator = torch.Generator(device="cuda").manual_seed(0)
    y = aug(x, generator)
    assert y.device == x.device
    assert y.shape == _out_shape(aug, x)
    assert torch.equal(x, before)
    again = aug(x, torch.Generator(device="cuda").manual_seed(0))
    assert torch.equal(y, again)


def test_generator_on_another_device_or_of_another_type_is_a_clear_error():
    with pytest.raises(TypeError, match="torch.Generator or None"):
        Jitter()(torch.zeros(2, 1, 8), 0)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch.Generator.device=x.device"):
            Jitter()(torch.zeros(2, 1, 8), torch.Generator(device="cuda"))


# -------------------------------------------------------------------- semantics


def test_jitter_noise_std_is_sigma():
    x = torch.zeros(64, 4, 256)
    y = Jitter(sigma=0.5)(x, _gen(0))
    assert float(y.std()) == pytest.approx(0.5, rel=0.02)
    assert float(y.mean()) == pytest.approx(0.0, abs=0.01)


def test_jitter_sigma_zero_is_identity():
    x = torch.randn(4, 2, 16)
    assert torch.equal(Jitter(sigma=0.0)(x, _gen(0)), x)


def test_scaling_shares_one_factor_per_sample():
    x = torch.rand(32, 3, 20, generator=_gen(1)) + 1.0  # no zeros to divide by
    ratio = Scaling(sigma=0.5)(x, _gen(0)) / x  # (batch, channels, time)
    per_sample = ratio[:, :1, :1]
    torch.testing.assert_close(ratio, per_sample.expand_as(ratio))
    assert per_sample.std() > 0.1  # factors differ between samples
    assert float(ratio.mean()) == pytest.approx(1.0, abs=0.25)


def test_scaling_per_channel_draws_a_factor_per_channel():
    x = torch.ones(16, 3, 20)
    y = Scaling(sigma=0.5, per_channel=True)(x, _gen(0))
    torch.testing.assert_close(y, y[:, :, :1].expand_as(y))  # constant over time
    assert not torch.allclose(y[:, 0], y[:, 1])  # but not across channels


@pytest.mark.parametrize("length", [2, 3, 10, 64, 128, 500])
def test_crop_full_scale_is_identity(length):
    x = torch.randn(8, 3, length, generator=_gen(1))
    # grid_sample's float32 coordinates move positions by ~1e-4 timesteps.
    torch.testing.assert_close(Crop(scale=(1.0, 1.0))(x, _gen(0)), x, atol=2e-3, rtol=0)
    x64 = x.double()
    torch.testing.assert_close(Crop(scale=(1.0, 1.0))(x64, _gen(0)), x64)


def test_crop_values_stay_within_each_sample_range():
    x = (
        torch.randn(64, 2, 50, generator=_gen(1))
        * torch.arange(1.0, 65.0)[:, None, None]
    )
    y = Crop(scale=(0.1, 0.9))(x, _gen(0))
    low = x.amin(dim=(1, 2))
    high = x.amax(dim=(1, 2))
    assert (y.amin(dim=(1, 2)) >= low).all()
    assert (y.amax(dim=(1, 2)) <= high).all()


def test_crop_of_a_ramp_keeps_it_increasing_and_shrinks_its_range():
    x = torch.arange(100.0).reshape(1, 1, 100).repeat(16, 2, 1)
    y = Crop(scale=(0.5, 0.5))(x, _gen(0))
    assert (y.diff(dim=2) > 0).all()  # a resized span of a ramp is a ramp
    span = y[..., -1] - y[..., 0]
    torch.testing.assert_close(span, torch.full_like(span, 49.5))  # half of 99
    assert torch.equal(y[:, 0], y[:, 1])  # channels cropped alike


def test_permutation_keeps_values_and_shares_order_across_channels():
    x0 = torch.randn(64, 1, 50, generator=_gen(1))
    x = torch.cat([x0, x0 + 100.0], dim=1)
    y = Permutation(max_segments=5)(x, _gen(0))
    torch.testing.assert_close(
        y.sort(dim=2).values, x.sort(dim=2).values, rtol=0, atol=0
    )
    torch.testing.assert_close(y[:, 1] - 100.0, y[:, 0])  # same order per channel
    changed = (y != x).flatten(1).any(dim=1)
    assert changed.float().mean() > 0.5  # it really reorders most samples


def test_permutation_makes_at_most_max_segments_segments():
    x = torch.arange(40.0).reshape(1, 1, 40).repeat(256, 1, 1)
    y = Permutation(max_segments=3)(x, _gen(0))[:, 0]
    # Inside a segment the ramp steps by 1; each segment boundary breaks that.
    breaks = (y.diff(dim=1) != 1).sum(dim=1)
    assert breaks.max() <= 2
    assert breaks.max() >= 1


def test_add_builds_a_flat_compose():
    a, b, c, d = Jitter(0.1), Scaling(0.2), Crop(), Permutation()
    chain = (a + b) + (c + d)
    assert type(chain) is Compose
    assert chain.augmentations == [a, b, c, d]
    assert (a + (b + c)).augmentations == [a, b, c]
    assert chain.min_length == 2


def test_compose_applies_in_order():
    x = torch.ones(4, 1, 8)
    shift = Scaling(sigma=0.0) + Jitter(sigma=0.0)  # both identity: chain runs
    assert torch.equal(shift(x, _gen(0)), x)
    chain = Jitter(0.1) + Scaling(0.5)
    generator_a, generator_b = _gen(0), _gen(0)
    expected = Scaling(0.5)(Jitter(0.1)(x, generator_b), generator_b)
    assert torch.equal(chain(x, generator_a), expected)


def test_add_rejects_non_augmentations():
    with pytest.raises(TypeError):
        Jitter() + 1  # noqa: B018


def test_compose_rejects_non_callables():
    with pytest.raises(TypeError, match="list of augmentations"):
        Compose([Jitter(), 3])(torch.zeros(2, 1, 8))
    with pytest.raises(TypeError, match="list of augmentations"):
        Compose(Jitter())(torch.zeros(2, 1, 8))


def test_empty_compose_returns_a_copy():
    x = torch.randn(2, 1, 8)
    y = Compose([])(x)
    assert torch.equal(y, x)
    assert Compose([]).min_length == 1


def test_views_returns_n_different_tensors():
    x = torch.randn(8, 2, 32)
    views = Views(default_augmentation(), n=3)(x, _gen(0))
    assert len(views) == 3
    for v in views:
        assert v.shape == x.shape
    for i in range(3):
        for j in range(i + 1, 3):
            assert not torch.equal(views[i], views[j])


def test_views_is_reproducible_and_checks_n():
    x = torch.randn(8, 1, 32)
    first = Views(Jitter(0.1), n=2)(x, _gen(0))
    second = Views(Jitter(0.1), n=2)(x, _gen(0))
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    with pytest.raises(ValueError, match="'n' parameter of Views"):
        Views(Jitter(), n=0)(x)
    with pytest.raises(TypeError, match="'n' parameter of Views"):
        Views(Jitter(), n=2.0)(x)


def test_default_augmentation():
    aug = default_augmentation()
    assert repr(aug) == "Compose(augmentations=[Crop(), Scaling(), Jitter()])"


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("aug", "error", "match"),
    [
        (Jitter(sigma=-0.1), ValueError, "'sigma' parameter of Jitter"),
        (Jitter(sigma="0.1"), TypeError, "'sigma' parameter of Jitter"),
        (Scaling(sigma=-1.0), ValueError, "'sigma' parameter of Scaling"),
        (Scaling(per_channel=1), TypeError, "'per_channel' parameter"),
        (Crop(scale=(0.0, 1.0)), ValueError, "'scale' parameter of Crop"),
        (Crop(scale=(0.5, 1.5)), ValueError, "'scale' parameter of Crop"),
        (Crop(scale=(0.9, 0.5)), ValueError, r"scale\[0\] <= scale\[1\]"),
        (Crop(scale=0.5), TypeError, "pair"),
        (Crop(scale=(0.5, 0.7, 0.9)), TypeError, "pair"),
        (Permutation(max_segments=1), ValueError, "integer >= 2"),
        (Permutation(max_segments=3.0), TypeError, "'max_segments'"),
        (Jitter(p=1.5), ValueError, "'p' parameter of Jitter"),
        (Crop(p=-0.1), ValueError, "'p' parameter of Crop"),
        (Scaling(p=math.nan), ValueError, "'p' parameter of Scaling"),
        (Permutation(p=None), TypeError, "'p' parameter of Permutation"),
        (Permutation(segments="even"), ValueError, "one of \\['random', 'equal'\\]"),
        (MagnitudeWarp(sigma=-1), ValueError, "'sigma' parameter of MagnitudeWarp"),
        (MagnitudeWarp(n_knots=1), ValueError, "'n_knots' parameter"),
        (TimeWarp(n_knots=2.5), TypeError, "'n_knots' parameter of TimeWarp"),
        (Masking(ratio=1.0), ValueError, "'ratio' parameter of Masking"),
        (Masking(mode="spans"), ValueError, "one of \\['binomial', 'continuous'\\]"),
        (Masking(n_spans=0), ValueError, "'n_spans' parameter"),
        (Masking(value=None), TypeError, "'value' parameter"),
        (Drift(max_drift=-0.1), ValueError, "'max_drift' parameter of Drift"),
        (Resample(rate_range=(0.0, 1.0)), ValueError, "'rate_range' parameter"),
        (Resample(rate_range=(2.0, 1.0)), ValueError, r"rate_range\[0\] <="),
        (Resample(rate_range=1.2), TypeError, "pair"),
        (Mixup(max_weight=0.7), ValueError, "'max_weight' parameter of Mixup"),
        (Rotation(max_angle=270), ValueError, "'max_angle' parameter of Rotation"),
        (ChannelDropout(rate=2), ValueError, "'rate' parameter of ChannelDropout"),
        (FrequencyMask(ratio=-0.1), ValueError, "'ratio' parameter"),
        (FrequencyNoise(strength=-1), ValueError, "'strength' parameter"),
        (
            Jitter(sigma=math.inf),
            ValueError,
            "'sigma' parameter of Jitter must be a finite",
        ),
        (Scaling(sigma=math.inf), ValueError, "must be a finite"),
        (Drift(max_drift=math.inf), ValueError, "'max_drift' parameter"),
        (Resample(rate_range=(0.5, math.inf)), ValueError, "'rate_range' parameter"),
        (TimeWarp(sigma=math.inf), ValueError, "'sigma' parameter of TimeWarp"),
        (FrequencyNoise(strength=math.inf), ValueError, "'strength' parameter"),
        (Masking(value=math.nan), ValueError, "'value' parameter of Masking"),
        (OneOf([Jitter()], weights=[math.inf]), ValueError, "'weights' parameter"),
    ],
)
def test_bad_parameters_raise_clear_errors_on_call(aug, error, match):
    with pytest.raises(error, match=match):
        aug(torch.randn(4, 1, 16))


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_bad_input_raises_clear_errors(aug):
    with pytest.raises(TypeError, match="torch.Tensor"):
        aug([[[1.0, 2.0, 3.0]]])
    with pytest.raises(ValueError, match=r"unsqueeze\(1\)"):
        aug(torch.randn(4, 16))
    with pytest.raises(TypeError, match="floating-point"):
        aug(torch.ones(4, 1, 16, dtype=torch.int64))


# ----------------------------------------------------------------------- sklearn


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_sklearn_clone_and_params(aug):
    copy = clone(aug)
    assert copy is not aug
    assert repr(copy) == repr(aug)
    params = aug.get_params(deep=False)
    assert "p" in params
    copy.set_params(p=0.25)
    assert copy.p == 0.25
    assert aug.p == params["p"] != 0.25  # the original is untouched


def test_nested_params_of_compose():
    aug = Jitter(0.1) + Crop()
    params = aug.get_params(deep=True)
    assert params["p"] == 1.0
    assert params["augmentations"][0].sigma == 0.1
    views = Views(Jitter(0.1))
    assert views.get_params(deep=True)["augmentation__sigma"] == 0.1
    views.set_params(augmentation__sigma=0.3)
    assert views.augmentation.sigma == 0.3


def test_set_params_does_not_validate():
    aug = Jitter()
    aug.set_params(sigma=-1.0)  # checked on call, not in set_params
    with pytest.raises(ValueError, match="sigma"):
        aug(torch.zeros(2, 1, 4))


# -------------------------------------------------------------------- RandomCrop


def test_random_crop_takes_contiguous_spans_of_fixed_length():
    x = torch.arange(50.0).reshape(1, 1, 50).repeat(64, 3, 1)
    y = RandomCrop(length=20)(x, _gen(0))
    assert y.shape == (64, 3, 20)
    steps = y[..., 1:] - y[..., :-1]
    assert torch.equal(steps, torch.ones_like(steps))  # contiguous, not resized
    assert torch.equal(y[:, 0], y[:, 2])  # channels share the span
    starts = y[:, 0, 0]
    assert starts.min() >= 0
    assert starts.max() <= 30
    assert len(starts.unique()) > 10  # spans start at many places


def test_random_crop_fraction_and_centred_span_when_p_is_zero():
    x = torch.arange(10.0).reshape(1, 1, 10)
    assert RandomCrop(length=0.5)(x).shape == (1, 1, 5)
    assert RandomCrop(length=4, p=0.0)(x).tolist() == [[[3.0, 4.0, 5.0, 6.0]]]
    assert RandomCrop(length=10)(x).equal(x)


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"RandomCrop\(length=20\) needs series"):
        RandomCrop(length=20)(torch.randn(2, 1, 10))
    with pytest.raises(ValueError, match="'length' parameter"):
        RandomCrop(length=1.5)(torch.randn(2, 1, 10))
    with pytest.raises(ValueError, match="'length' parameter"):
        RandomCrop(length=0)(torch.randn(2, 1, 10))


def test_compose_with_a_shortening_member_refuses_p_below_one():
    aug = Compose([RandomCrop(length=8), Jitter()], p=0.5)
    with pytest.raises(ValueError, match="set p on the members"):
        aug(torch.randn(2, 1, 16))
    assert (RandomCrop(length=8) + Jitter())(torch.randn(2, 1, 16)).shape == (2, 1, 8)


# ------------------------------------------------------- warps, masks, mixing


def test_magnitude_warp_is_a_smooth_positive_factor_around_one():
    x = torch.ones(64, 3, 200)
    y = MagnitudeWarp(sigma=0.2, n_knots=4)(x, _gen(0))
    assert y.diff(dim=-1).abs().max() < 0.05  # smooth
    assert abs(float(y.mean()) - 1) < 0.05
    assert 0.1 < float(y.std()) < 0.3
    assert not torch.allclose(y[:, 0], y[:, 1])  # one curve per channel
    shared = MagnitudeWarp(per_channel=False)(x, _gen(0))
    assert torch.equal(shared[:, 0], shared[:, 2])


def test_time_warp_is_monotone_keeps_the_ends_and_shares_channels():
    ramp = torch.arange(100.0).reshape(1, 1, 100).repeat(32, 2, 1)
    y = TimeWarp(sigma=0.5)(ramp, _gen(0))
    assert (y.diff(dim=-1) > 0).all()
    torch.testing.assert_close(y[..., 0], ramp[..., 0])
    torch.testing.assert_close(y[..., -1], ramp[..., -1])
    assert torch.equal(y[:, 0], y[:, 1])
    assert (y - ramp).abs().max() > 2  # really warped
    torch.testing.assert_close(TimeWarp(sigma=0.0)(ramp, _gen(0)), ramp)


@pytest.mark.parametrize("segments", ["random", "equal"])
def test_permutation_segments(segments):
    x = torch.arange(60.0).reshape(1, 1, 60).repeat(256, 1, 1)
    y = Permutation(max_segments=4, segments=segments)(x, _gen(0))[:, 0]
    assert torch.equal(y.sort(dim=1).values, x[:, 0])
    jumps = y.diff(dim=1) != 1
    assert jumps.sum(dim=1).max() <= 3  # at most 4 segments
    # Each output segment starts with its first input value: a cut point.
    starts = torch.cat([y[:, 0], y[:, 1:][jumps]]).long().unique().tolist()
    equal_cuts = {0, 15, 30, 45, 20, 40}  # 60 cut into 2, 3 or 4 equal segments
    if segments == "equal":
        assert set(starts) <= equal_cuts
    else:
        assert len(set(starts) - equal_cuts) > 10  # cuts anywhere


@pytest.mark.parametrize("mode", ["binomial", "continuous"])
def test_masking_ratio_and_modes(mode):
    x = torch.ones(512, 3, 200)
    y = Masking(ratio=0.2, mode=mode, n_spans=2)(x, _gen(0))
    masked = y == 0
    assert torch.equal(masked[:, 0], masked[:, 2])  # channels masked together
    fraction = float(masked.float().mean())
    if mode == "binomial":
        assert fraction == pytest.approx(0.2, abs=0.01)
    else:
        assert 0.12 < fraction <= 0.2  # two spans of 20, which may overlap
        runs = masked[:, 0].int().diff(dim=1).clamp(min=0).sum(dim=1)
        assert runs.max() <= 2  # at most two contiguous spans
    per_channel = Masking(ratio=0.5, per_channel=True, value=-1.0)(x, _gen(0))
    assert not torch.equal(per_channel[:, 0], per_channel[:, 1])
    assert set(per_channel.unique().tolist()) == {-1.0, 1.0}


def test_reverse_and_flip():
    x = torch.randn(4, 2, 10)
    assert torch.equal(Reverse()(x), x.flip(-1))
    assert torch.equal(Reverse()(Reverse()(x)), x)
    assert torch.equal(Flip()(x), -x)


def test_drift_starts_at_zero_stays_within_max_drift_and_is_smooth():
    x = torch.zeros(256, 2, 300)
    y = Drift(max_drift=0.5)(x, _gen(0))
    assert torch.equal(y[..., 0], torch.zeros_like(y[..., 0]))
    peaks = y.abs().amax(dim=-1)
    assert peaks.max() <= 0.5 + 1e-6
    assert peaks.mean() == pytest.approx(0.25, abs=0.05)  # uniform in (0, 0.5]
    assert y.diff(dim=-1).abs().max() < 0.1


def test_resample_changes_speed_around_the_centre():
    ramp = torch.arange(101.0).reshape(1, 1, 101).repeat(64, 1, 1)
    y = Resample(rate_range=(0.5, 2.0))(ramp, _gen(0))
    torch.testing.assert_close(y[..., 50], ramp[..., 50])  # centre stays
    slopes = y[..., 50] - y[..., 49]  # the local rate
    assert slopes.min() >= 0.5 - 1e-5
    assert slopes.max() <= 2.0 + 1e-5
    assert slopes.std() > 0.2
    assert y.min() >= 0
    assert y.max() <= 100  # mirrored back into the series
    fast = Resample(rate_range=(2.0, 2.0))(ramp[:1], _gen(0))[0, 0]
    t = torch.arange(101.0)
    pos = 2 * t - 50  # twice the speed around the centre, mirrored at both ends
    expected = torch.where(pos < 0, -pos, torch.where(pos > 100, 200 - pos, pos))
    torch.testing.assert_close(fast, expected)


def test_mixup_mixes_within_the_batch_and_keeps_samples_dominant():
    x = torch.arange(64.0).reshape(64, 1, 1).repeat(1, 2, 10)
    y = Mixup(max_weight=0.3)(x, _gen(0))
    assert ((y - x).abs() <= 0.3 * 63 + 1e-4).all()
    assert (y[:, 0] == y[:, 0, :1]).all()  # one weight per sample
    assert (y != x).any()
    single = torch.randn(1, 2, 10)
    assert torch.equal(Mixup()(single), single)


# ------------------------------------------------------------------- channels


def test_channel_shuffle_permutes_whole_channels():
    x = torch.arange(5.0).reshape(1, 5, 1).repeat(128, 1, 7)
    y = ChannelShuffle()(x, _gen(0))
    assert torch.equal(y.sort(dim=1).values, x)
    assert (y == y[..., :1]).all()
    assert (y[:, :, 0] != x[:, :, 0]).any(dim=1).float().mean() > 0.9
    one = torch.randn(4, 1, 7)
    assert torch.equal(ChannelShuffle()(one), one)


def test_rotation_keeps_norms_and_angle():
    x = torch.randn(256, 3, 50, dtype=torch.float64, generator=_gen(1))
    y = Rotation(max_angle=30)(x, _gen(0))
    torch.testing.assert_close(y.norm(dim=1), x.norm(dim=1))
    cosine = (x * y).sum(dim=1) / (x.norm(dim=1) * y.norm(dim=1))
    assert cosine.min() >= math.cos(math.radians(30)) - 1e-9
    assert cosine.min() < math.cos(math.radians(10))  # some rotate noticeably
    one = torch.randn(4, 1, 7)
    assert torch.equal(Rotation()(one), one)
    assert torch.allclose(Rotation(max_angle=0)(x), x)


def test_channel_dropout_zeroes_whole_channels_but_never_all():
    x = torch.ones(1024, 4, 6)
    y = ChannelDropout(rate=0.5)(x, _gen(0))
    per_channel = y[..., 0]
    assert ((y == 0) | (y == 1)).all()
    assert (y == y[..., :1]).all()
    assert (per_channel.sum(dim=1) >= 1).all()
    assert float((per_channel == 0).float().mean()) == pytest.approx(0.5, abs=0.05)
    everything = ChannelDropout(rate=1.0)(x, _gen(0))
    assert (everything[..., 0].sum(dim=1) == 1).all()
    one = torch.randn(4, 1, 7)
    assert torch.equal(ChannelDropout(rate=1.0)(one), one)


# ------------------------------------------------------------ frequency domain


def _power(x: torch.Tensor) -> torch.Tensor:
    return torch.fft.rfft(x.double(), dim=-1).abs() ** 2


def test_frequency_mask_removes_components_only():
    x = torch.randn(64, 2, 128, generator=_gen(1))
    y = FrequencyMask(ratio=0.3)(x, _gen(0))
    before, after = _power(x), _power(y)
    removed = after < 1e-8 * before.amax()
    assert float(removed.float().mean()) == pytest.approx(0.3, abs=0.03)
    kept = ~removed
    torch.testing.assert_close(after[kept], before[kept], rtol=1e-3, atol=1e-6)
    assert torch.allclose(FrequencyMask(ratio=0.0)(x), x, atol=1e-5)


def test_frequency_noise_adds_bounded_components_at_chosen_bins():
    x = torch.randn(64, 2, 128, generator=_gen(1))
    y = FrequencyNoise(ratio=0.2, strength=0.1)(x, _gen(0))
    added = torch.fft.rfft((y - x).double(), dim=-1).abs()
    peak = torch.fft.rfft(x.double(), dim=-1).abs().amax(dim=-1, keepdim=True)
    assert (added <= 0.1 * peak + 1e-4).all()
    touched = added > 1e-4 * peak
    assert 0.1 < float(touched.float().mean()) <= 0.22


# ---------------------------------------------------------------- composition


def test_one_of_applies_exactly_one_member_per_sample_with_weights():
    x = torch.ones(4000, 1, 4)
    aug = OneOf([Flip(), Scaling(sigma=0.0) + Jitter(sigma=0.0)], weights=[3, 1])
    y = aug(x, _gen(0))
    flipped = (y == -1).all(dim=(1, 2))
    unchanged = (y == 1).all(dim=(1, 2))
    assert bool((flipped ^ unchanged).all())
    assert float(flipped.float().mean()) == pytest.approx(0.75, abs=0.03)


def test_one_of_and_random_apply_errors():
    x = torch.randn(2, 1, 16)
    with pytest.raises(ValueError, match="at least one augmentation"):
        OneOf([])(x)
    with pytest.raises(ValueError, match="one weight per augmentation"):
        OneOf([Jitter(), Flip()], weights=[1.0])(x)
    with pytest.raises(ValueError, match="positive weight"):
        OneOf([Jitter(), Flip()], weights=[0, 0])(x)
    with pytest.raises(ValueError, match="different shapes"):
        OneOf([RandomCrop(length=4), RandomCrop(length=8)])(x)
    with pytest.raises(ValueError, match="set p on the members"):
        OneOf([RandomCrop(length=4)], p=0.5)(x)
    with pytest.raises(TypeError, match="must be an augmentation"):
        RandomApply("jitter")(x)
    with pytest.raises(ValueError, match="shortens the series"):
        RandomApply(RandomCrop(length=4), p=0.5)(x)


def test_random_apply_uses_p():
    x = torch.ones(2000, 1, 3)
    y = RandomApply(Flip(), p=0.3)(x, _gen(0))
    assert float((y[:, 0, 0] == -1).float().mean()) == pytest.approx(0.3, abs=0.04)
    assert RandomApply(Flip()).p == 0.5


def test_members_are_reachable_by_index_for_grid_search():
    aug = Jitter(0.1) + Crop()
    params = aug.get_params(deep=True)
    assert params["augmentations__0__sigma"] == 0.1
    assert params["augmentations__1__scale"] == (0.5, 1.0)
    copy = clone(aug).set_params(augmentations__0__sigma=0.5, p=0.9)
    assert copy.augmentations[0].sigma == 0.5
    assert copy.p == 0.9
    assert aug.augmentations[0].sigma == 0.1  # the original is untouched
    with pytest.raises(ValueError, match="has 2 augmentations"):
        clone(aug).set_params(augmentations__5__sigma=0.5)
    one_of = OneOf([Jitter(), Flip()]).set_params(augmentations__0__sigma=0.2)
    assert one_of.augmentations[0].sigma == 0.2


# ---------------------------------------------------------- parallel CPU draws


def test_large_cpu_draws_are_reproducible_whatever_the_thread_count():
    x = torch.zeros(64, 4, 2**14)  # 4M values: drawn in parallel blocks
    draws = []
    for threads in (1, 2):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            draws.append(Jitter(1.0)(x, _gen(5)))
        finally:
            torch.set_num_threads(before)
    assert torch.equal(draws[0], draws[1])
    assert float(draws[0].std()) == pytest.approx(1.0, abs=0.01)
    blocks = draws[0].tensor_split(4)
    assert not torch.equal(blocks[0], blocks[1])  # blocks have their own seeds
    uniform = Masking(ratio=0.3)(torch.ones(64, 4, 2**14), _gen(5))
    assert float((uniform == 0).float().mean()) == pytest.approx(0.3, abs=0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_forgets_the_parent_s_thread_pool():
    from tscl.augment import _core

    Jitter()(torch.zeros(64, 4, 2**14), _gen(0))  # starts the thread pool
    assert _core._POOL is not None
    pid = os.fork()
    if pid == 0:  # the child: its copy of the pool has no threads, so drop it
        os._exit(0 if _core._POOL is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _core._POOL is not None  # the parent keeps its pool


@pytest.mark.parametrize("name", sorted(tscl.augment.PRESETS))
def test_presets_by_name_keep_shape_and_dtype(name):
    views = tscl.augment.parse(name)
    assert repr(views) == repr(tscl.augment.PRESETS[name]())
    x = torch.randn(4, 2, 64)
    out = views(x, torch.Generator().manual_seed(0))
    assert out.dtype == x.dtype
    assert out.shape[:2] == x.shape[:2]
    assert 0 < out.shape[-1] <= 64
    assert torch.isfinite(out).all()


def test_domain_presets_keep_what_their_domain_needs():
    # sine waves of 10 samples' period with amplitudes 1 to 3: any crop of
    # several periods has the window's standard deviation
    wave = torch.sin(2 * torch.pi * torch.arange(100) / 10)
    x = wave * torch.linspace(1.0, 3.0, 8)[:, None, None]
    g = torch.Generator().manual_seed(0)
    finance = tscl.augment.finance_augmentation()(x, g)
    assert finance.shape[-1] == 75  # three quarters of the window
    # no rescaling: each window's volatility survives the view (up to the jitter)
    ratio = finance.std(dim=-1) / x.std(dim=-1)
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=0.05)
    ecg = tscl.augment.ecg_augmentation()(x, g)
    assert ecg.shape[-1] == 33  # a third of the window: a neighbouring segment


def test_estimator_takes_a_preset_name_and_saves_it(tmp_path):
    from tscl import ContrastiveEncoder, load

    X = torch.randn(16, 1, 64).numpy()
    model = ContrastiveEncoder(
        "simclr",
        "cnn",
        augment="finance",
        n_components=8,
        n_epochs=1,
        batch_size=8,
        encoder_params={"hidden_dim": 8, "depth": 2},
        random_state=0,
    ).fit(X)
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert again.augment == "finance"
    with pytest.raises(ValueError, match="ecg.*finance"):
        ContrastiveEncoder(augment="volatility").fit(X)
