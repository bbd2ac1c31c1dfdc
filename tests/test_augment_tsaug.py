"""Tests for tscl.augment._tsaug: the adapter that runs tsaug augmenters."""

import subprocess
import sys
import warnings

import pytest
import torch
from sklearn.base import clone

tsaug = pytest.importorskip("tsaug")

from tscl.augment import Compose, Jitter, Views  # noqa: E402
from tscl.augment._tsaug import Tsaug, as_augmentation  # noqa: E402


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def ramp(batch: int = 4, channels: int = 3, length: int = 32) -> torch.Tensor:
    """A batch whose every value is distinct, so any reordering shows."""
    return torch.arange(batch * channels * length, dtype=torch.float64).reshape(
        batch, channels, length
    )


# ---------------------------------------------------------- layout and dtype


@pytest.mark.parametrize("channels", [1, 12])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_op_round_trips_exactly(channels, dtype):
    x = torch.randn(5, channels, 40, generator=gen()).to(dtype)
    before = x.clone()
    for augmenter in [tsaug.AddNoise(scale=0.0), tsaug.Reverse() + tsaug.Reverse()]:
        y = Tsaug(augmenter)(x, gen())
        assert y.dtype == dtype
        assert torch.equal(y, x)
    assert torch.equal(x, before)  # the input is untouched


@pytest.mark.parametrize("channels", [1, 12])
def test_time_and_channel_axes_are_kept(channels):
    x = ramp(channels=channels)
    y = Tsaug(tsaug.Reverse())(x)
    assert torch.equal(y, x.flip(-1))  # time reversed, channels in order


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64])
def test_dtype_is_kept(dtype):
    x = torch.randn(4, 2, 30, generator=gen()).to(dtype)
    y = Tsaug(tsaug.AddNoise(scale=0.1) + tsaug.Drift(max_drift=0.1))(x, gen())
    assert y.dtype == dtype
    assert y.shape == x.shape
    assert torch.isfinite(y).all()
    assert not torch.equal(y, x)
    assert torch.equal(Tsaug(tsaug.Reverse())(x), x.flip(-1))


# ---------------------------------------------------------------- randomness


def test_fresh_draws_despite_fixed_seeds_and_reproducible():
    augmenter = tsaug.AddNoise(scale=0.1, seed=1) + tsaug.Drift(seed=2)
    aug = Tsaug(augmenter)
    x = torch.randn(6, 2, 50, generator=gen())
    g = gen(3)
    first, second = aug(x, g), aug(x, g)
    assert not torch.equal(first, second)  # fresh draws on every call
    assert torch.equal(first, aug(x, gen(3)))  # same torch seed, same output
    g = gen(3)
    aug(x, g)
    assert torch.equal(second, aug(x, g))  # the whole sequence repeats
    assert not torch.equal(aug(x), aug(x))  # global generator


def test_same_torch_seed_same_output_across_instances():
    x = torch.randn(6, 2, 50, generator=gen())
    make = lambda: Tsaug(tsaug.TimeWarp(seed=7) + tsaug.AddNoise())  # noqa: E731
    assert torch.equal(make()(x, gen(5)), make()(x, gen(5)))


def test_user_augmenter_is_not_mutated():
    noise, drift = tsaug.AddNoise(scale=0.1, seed=1), tsaug.Drift(seed=2) * 3
    pipe = noise + drift
    aug = Tsaug(pipe)
    aug(torch.randn(3, 1, 20, generator=gen()), gen())
    assert aug.augmenter is pipe
    assert [m.seed for m in pipe] == [1, 2]
    assert [m.repeats for m in pipe] == [1, 3]
    assert (noise.seed, drift.seed, drift.repeats) == (1, 2, 3)


# ------------------------------------------------------- tsaug's * and @


def test_repeats_keep_the_batch_size_and_sample_order():
    x = ramp(batch=5)
    y = Tsaug(tsaug.Reverse() * 3)(x, gen())
    assert torch.equal(y, x.flip(-1))  # one copy per sample, in order
    z = Tsaug(tsaug.AddNoise(scale=0.01) * 3 + tsaug.Drift(max_drift=0.01) * 2)(
        x, gen()
    )
    assert z.shape == x.shape
    distance = (z[:, None] - x[None]).abs().mean((2, 3))  # (batch, batch)
    assert torch.equal(distance.argmin(1), torch.arange(5))  # rows keep their sample


def test_prob_applies_per_sample():
    x = ramp(batch=64, channels=1, length=8)
    y = Tsaug(tsaug.Reverse() @ 0.5)(x, gen())
    reversed_ = (y == x.flip(-1)).all(-1).all(-1)
    unchanged = (y == x).all(-1).all(-1)
    assert torch.all(reversed_ | unchanged)
    assert 10 < int(reversed_.sum()) < 54


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_p_keeps_some_samples(p):
    x = torch.randn(32, 2, 20, generator=gen())
    y = Tsaug(tsaug.AddNoise(scale=0.5), p=p)(x, gen())
    unchanged = (y == x).all(-1).all(-1)
    if p == 0:
        assert torch.equal(y, x)
    else:
        assert 0 < int(unchanged.sum()) < 32


# -------------------------------------------------------------- length change


def test_crop_shortens_the_series():
    aug = Tsaug(tsaug.AddNoise(scale=0.01) + tsaug.Crop(size=20))
    assert aug.keeps_length is False
    assert aug.min_length == 20
    y = aug(torch.randn(4, 3, 50, generator=gen()), gen())
    assert y.shape == (4, 3, 20)
    x = ramp(channels=2, length=50)
    crops = Tsaug(tsaug.Crop(size=20))(x, gen())
    for sample, crop in zip(x, crops, strict=True):  # each crop is a window of x
        start = int(crop[0, 0] - sample[0, 0])
        assert torch.equal(crop, sample[:, start : start + 20])
    with pytest.raises(ValueError, match="at least 20 timesteps"):
        aug(torch.randn(2, 1, 19))
    assert Tsaug(tsaug.Crop(size=20))(torch.randn(2, 1, 20)).shape == (2, 1, 20)


def test_length_properties():
    assert Tsaug(tsaug.AddNoise()).keeps_length
    assert Tsaug(tsaug.AddNoise()).min_length == 1
    assert Tsaug(tsaug.Crop(size=(10, 30), resize=16)).min_length == 29
    assert Tsaug(tsaug.Crop(size=[8, 40], resize=16)).min_length == 40
    resize = Tsaug(tsaug.Resize(size=64) + tsaug.Crop(size=50))
    assert not resize.keeps_length
    assert resize.min_length == 1
    assert resize(torch.randn(2, 1, 10), gen()).shape == (2, 1, 50)


def test_p_below_one_with_a_length_change_raises():
    x = torch.randn(4, 1, 50)
    with pytest.raises(ValueError, match="changes the series length"):
        Tsaug(tsaug.Crop(size=20), p=0.5)(x)
    with pytest.raises(ValueError, match="changes the series length"):
        Tsaug(tsaug.Resize(size=20), p=0.0)(x)
    with pytest.raises(ValueError, match="remove the @"):
        Tsaug(tsaug.Crop(size=20) @ 0.5)(x)


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize("junk", [None, 3, "AddNoise", tsaug.AddNoise])
def test_non_tsaug_objects_raise_type_error(junk):
    with pytest.raises(TypeError, match=r"Tsaug\(tsaug.AddNoise\(scale=0.01\)\)"):
        Tsaug(junk)(torch.randn(2, 1, 10))


def test_tscl_augmentation_gets_a_hint():
    with pytest.raises(TypeError, match="need no wrapper"):
        Tsaug(Jitter())(torch.randn(2, 1, 10))


def test_missing_tsaug_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tsaug", None)  # makes `import tsaug` fail
    with pytest.raises(ImportError, match="pip install 'tscl\\[tsaug\\]'"):
        Tsaug(object())(torch.randn(2, 1, 10))


def test_tscl_imports_without_tsaug():
    code = (
        "import sys; sys.modules['tsaug'] = None; "
        "import tscl, tscl.augment, tscl.augment._tsaug as m; "
        "assert m.as_augmentation(print) is print"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tsaug_errors_are_wrapped():
    x = torch.randn(4, 2, 50, generator=gen())
    aug = Tsaug(tsaug.Quantize(n_levels=3, how="kmeans"))
    shape = r"failed on a batch of shape \(4, 50, 2\)"
    with pytest.raises(RuntimeError, match=shape) as info:
        aug(x)
    assert "tsaug's Quantize(n_levels=3, how='kmeans') failed" in str(info.value)
    assert info.value.__cause__ is not None  # the original error is chained


# ----------------------------------------------------------------- devices


def test_device_warning_once_and_not_a_param():
    aug = Tsaug(tsaug.AddNoise())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug._warn_device(torch.device("cpu"))  # no warning on the CPU
    with pytest.warns(UserWarning, match="to the CPU for tsaug"):
        aug._warn_device(torch.device("cuda"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aug._warn_device(torch.device("cuda"))  # once per instance
    assert set(aug.get_params()) == {"augmenter", "p"}
    assert set(clone(aug).__dict__) == {"augmenter", "p"}  # the flag is not copied


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_round_trip():
    x = torch.randn(4, 2, 30, device="cuda")
    aug = Tsaug(tsaug.AddNoise(scale=0.1))
    with pytest.warns(UserWarning, match="to the CPU"):
        y = aug(x, torch.Generator(device="cuda").manual_seed(0))
    assert y.device == x.device
    assert y.shape == x.shape
    z = aug(x, torch.Generator(device="cuda").manual_seed(0))
    assert torch.equal(y, z)


# ---------------------------------------------------------- sklearn and tscl


def test_repr_clone_and_composition():
    aug = Tsaug(tsaug.AddNoise(scale=0.01, seed=1) + tsaug.Reverse() * 2, p=0.5)
    assert repr(aug) == (
        "Tsaug(augmenter=AddNoise(scale=0.01, seed=1) + Reverse(repeats=2), p=0.5)"
    )
    copied = clone(aug)
    assert copied.augmenter is not aug.augmenter
    assert repr(copied) == repr(aug)
    both = aug + Jitter(0.1)
    assert isinstance(both, Compose)
    v1, v2 = Views(both)(torch.randn(3, 2, 16), gen())
    assert v1.shape == (3, 2, 16)
    assert not torch.equal(v1, v2)


def test_as_augmentation():
    jitter = Jitter()
    assert as_augmentation(jitter) is jitter

    def fn(x, generator=None):
        return x

    assert as_augmentation(fn) is fn
    noise = tsaug.AddNoise()
    wrapped = as_augmentation(noise)
    assert isinstance(wrapped, Tsaug)
    assert wrapped.augmenter is noise
    pipe = as_augmentation(tsaug.AddNoise() + tsaug.Drift())
    assert isinstance(pipe, Tsaug)
    assert pipe(torch.randn(2, 1, 20)).shape == (2, 1, 20)
    for junk in [None, 3, "jitter", [Jitter()]]:
        with pytest.raises(TypeError, match="tsaug augmenter or pipeline"):
            as_augmentation(junk)
