"""Tests for tscl.augment: the contract of every augmentation, then each one's use."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from torch.overrides import TorchFunctionMode

from tscl.augment import (
    AUGMENTATIONS,
    Augmentation,
    Compose,
    Crop,
    Jitter,
    Permutation,
    RandomCrop,
    Scaling,
    Views,
    default_augmentation,
)


def _all_augmentations() -> list[Augmentation]:
    singles = [cls() for cls in AUGMENTATIONS.values()]
    keeping = [cls() for cls in AUGMENTATIONS.values() if cls.keeps_length]
    shortening = [cls() for cls in AUGMENTATIONS.values() if not cls.keeps_length]
    return [*singles, Compose(keeping), Compose([*keeping, *shortening])]


ALL_AUGMENTATIONS = _all_augmentations()
IDS = [
    type(a).__name__ + ("" if a.keeps_length else "-shortening")
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


def _out_shape(aug: Augmentation, x: torch.Tensor) -> tuple[int, ...]:
    """The shape ``aug`` gives for ``x``: the same unless it shortens series."""
    length = x.shape[-1]
    for member in aug.augmentations if isinstance(aug, Compose) else [aug]:
        if not member.keeps_length:
            length = member.output_length(length)
    return (*x.shape[:-1], length)


# ---------------------------------------------------------------------- contract


def test_every_registered_augmentation_is_an_augmentation():
    assert AUGMENTATIONS  # the registry is not empty
    for name, cls in AUGMENTATIONS.items():
        assert name == name.lower()
        assert issubclass(cls, Augmentation)


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
    x = torch.randn(32, 2, 40, generator=_gen(1))
    assert torch.equal(aug(x, _gen(7)), aug(x, _gen(7)))
    assert not torch.equal(aug(x, _gen(7)), aug(x, _gen(8)))
    assert not torch.equal(aug(x), aug(x))  # no hidden re-seeding


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
def test_one_generator_gives_a_new_view_on_each_call(aug):
    x = torch.randn(16, 1, 40, generator=_gen(1))
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
    x = torch.randn(256, 2, 40, generator=_gen(1))
    y = _with_p(aug, 0.5)(x, _gen(0))
    same = (y == x).flatten(1).all(dim=1)  # (batch,)
    n_same = int(same.sum())
    # About half are kept (a transformed sample may rarely equal its input).
    assert 64 < n_same < 224
    assert (~same).any()


@pytest.mark.parametrize("aug", ALL_AUGMENTATIONS, ids=IDS)
@pytest.mark.parametrize("channels", [1, 12])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_channels_and_dtypes(aug, channels, dtype):
    x = torch.randn(8, channels, 32, generator=_gen(1), dtype=dtype)
    y = aug(x, _gen(0))
    assert y.shape == _out_shape(aug, x)
    assert y.dtype == dtype
    assert torch.isfinite(y).all()


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
def test_batched_no_loop_over_samples(aug):
    counts = []
    for batch in (2, 64):
        x = torch.randn(batch, 1, 32, generator=_gen(1))
        with _CallCounter() as counter:
            aug(x, _gen(0))
        counts.append(counter.calls)
    assert counts[0] > 0
    assert counts[0] == counts[1]  # the work is independent of the batch size


@pytest.mark.parametrize("aug", KEEPING, ids=KEEPING_IDS)
def test_large_batch_runs(aug):
    x = torch.randn(4096, 1, 128, generator=_gen(1))
    y = _with_p(aug, 0.5)(x, _gen(0))
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


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
    assert torch.equal(Crop(scale=(1.0, 1.0))(x, _gen(0)), x)


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
    assert aug.p == 1.0  # the original is untouched


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
