"""Tests for tscl._validation: data layout, parameter and name checks."""

import numbers
import re

import numpy as np
import pytest
import torch

from tscl._validation import (
    as_3d,
    check_array_values,
    check_param,
    check_tensor,
    resolve_name,
)

# --------------------------------------------------------------------------- as_3d


def test_as_3d_adds_a_channel_axis_to_2d_input():
    X = np.arange(12.0).reshape(3, 4)
    X3 = as_3d(X)
    assert X3.shape == (3, 1, 4)
    np.testing.assert_array_equal(X3[:, 0, :], X)


def test_as_3d_keeps_3d_input_and_float64():
    X = np.random.default_rng(0).normal(size=(5, 2, 40))
    X3 = as_3d(X)
    assert X3.shape == (5, 2, 40)
    assert X3.dtype == np.float64
    np.testing.assert_array_equal(X3, X)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.float32, bool])
def test_as_3d_returns_float32_for_other_numeric_dtypes(dtype):
    X = np.ones((2, 3, 8), dtype=dtype)
    assert as_3d(X).dtype == np.float32


def test_as_3d_accepts_lists_and_tensors():
    assert as_3d([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).shape == (2, 1, 3)
    X3 = as_3d(torch.ones(2, 3, 10))
    assert isinstance(X3, np.ndarray)
    assert X3.shape == (2, 3, 10)


def test_as_3d_rejects_1d_with_the_fix():
    with pytest.raises(ValueError, match=r"1-D.*X\[None, :\]"):
        as_3d(np.zeros(10))


def test_as_3d_rejects_4d():
    with pytest.raises(ValueError, match=r"4-D shape \(2, 3, 4, 5\)"):
        as_3d(np.zeros((2, 3, 4, 5)))


def test_as_3d_uses_the_argument_name():
    with pytest.raises(ValueError, match=r"^X_test must have shape"):
        as_3d(np.zeros((2, 3, 4, 5)), name="X_test")


@pytest.mark.parametrize(
    ("value", "label"), [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")]
)
def test_as_3d_rejects_non_finite_values_naming_count_and_fix(value, label):
    X = np.zeros((4, 2, 16))
    X[1, 0, 3] = value
    X[3, 1, 7] = value
    with pytest.raises(ValueError, match=f"2 {label} value") as info:
        as_3d(X)
    message = str(info.value)
    assert "(1, 0, 3)" in message  # where the first one is
    assert "fill or drop" in message  # the usual fix


def test_as_3d_suggests_transpose_for_channels_last():
    with pytest.raises(ValueError, match=re.escape("X.transpose(0, 2, 1)")) as info:
        as_3d(np.zeros((8, 500, 12)))
    assert "(8, 500, 12)" in str(info.value)


def test_as_3d_does_not_guess_when_layout_is_plausible():
    # Many channels but even more timesteps, and few long channels, are both fine.
    assert as_3d(np.zeros((2, 12, 500))).shape == (2, 12, 500)
    assert as_3d(np.zeros((2, 500, 64))).shape == (2, 500, 64)


@pytest.mark.parametrize(
    "X",
    [
        np.array([[1, "a"], [2, "b"]], dtype=object),
        np.array([["a", "b"], ["c", "d"]]),
        np.array([[1 + 1j, 2j]]),
    ],
    ids=["object", "str", "complex"],
)
def test_as_3d_rejects_non_real_dtypes_with_type_error(X):
    with pytest.raises(TypeError, match="real numbers"):
        as_3d(X)


@pytest.mark.parametrize("X", ["abc", b"abc", 3.0, None])
def test_as_3d_rejects_non_arrays(X):
    with pytest.raises(TypeError, match="must be an array"):
        as_3d(X)


@pytest.mark.parametrize("shape", [(0, 10), (3, 0), (0, 2, 8)])
def test_as_3d_rejects_empty_input(shape):
    with pytest.raises(ValueError, match="empty"):
        as_3d(np.zeros(shape))


def test_as_3d_rejects_ragged_lists():
    with pytest.raises(ValueError, match="one length"):
        as_3d([[1.0, 2.0], [3.0]])


def test_check_array_values_passes_clean_integers():
    check_array_values(np.arange(6).reshape(2, 3))  # ints cannot hold NaN
    with pytest.raises(ValueError, match="1 NaN"):
        check_array_values(np.array([[1.0, np.nan]]))


# --------------------------------------------------------------------- check_param


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.3), np.int64(2)])
def test_check_param_accepts_numbers(value):
    assert check_param(value, "x") is None  # accepted: no error


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_param_rejects_bool_as_number(value):
    with pytest.raises(TypeError, match=r"'x' parameter must be of type Real"):
        check_param(value, "x")


def test_check_param_accepts_bool_when_asked_for():
    check_param(True, "flag", kind=bool)
    with pytest.raises(TypeError, match="must be of type bool. Got 1 of type int"):
        check_param(1, "flag", kind=bool)


@pytest.mark.parametrize("value", ["0.1", None, [1.0]])
def test_check_param_type_error_names_parameter_owner_and_value(value):
    with pytest.raises(TypeError) as info:
        check_param(value, "temperature", owner="NTXent")
    message = str(info.value)
    assert "'temperature' parameter of NTXent" in message
    assert repr(value) in message


def test_check_param_integral_rejects_floats():
    with pytest.raises(TypeError, match="Integral"):
        check_param(2.0, "depth", kind=numbers.Integral)


def test_check_param_owner_object_uses_class_name():
    class Thing:
        pass

    with pytest.raises(ValueError, match="'n' parameter of Thing"):
        check_param(-1, "n", owner=Thing(), interval=(0, None))


@pytest.mark.parametrize(
    ("value", "interval", "closed", "ok"),
    [
        (0.0, (0, 1), "neither", False),
        (1.0, (0, 1), "neither", False),
        (0.5, (0, 1), "neither", True),
        (0.0, (0, 1), "left", True),
        (1.0, (0, 1), "left", False),
        (1.0, (0, 1), "right", True),
        (0.0, (0, 1), "right", False),
        (0.0, (0, 1), "both", True),
        (1.0, (0, 1), "both", True),
        (1e9, (0, None), "neither", True),
        (-1e9, (None, 0), "neither", True),
        (float("nan"), (None, None), "both", False),
        (float("nan"), (0, 1), "both", False),
    ],
)
def test_check_param_intervals(value, interval, closed, ok):
    if ok:
        check_param(value, "x", interval=interval, closed=closed)
    else:
        with pytest.raises(ValueError, match="'x' parameter"):
            check_param(value, "x", interval=interval, closed=closed)


def test_check_param_value_error_message_states_bounds():
    with pytest.raises(ValueError, match="'p' parameter") as info:
        check_param(1.5, "p", owner="Jitter", interval=(0, 1), closed="both")
    assert str(info.value) == (
        "The 'p' parameter of Jitter must be a number >= 0 and <= 1. Got 1.5."
    )
    with pytest.raises(ValueError, match="max_segments") as info:
        check_param(
            1, "max_segments", kind=numbers.Integral, interval=(2, None), closed="left"
        )
    assert "must be an integer >= 2. Got 1." in str(info.value)


# -------------------------------------------------------------------- resolve_name


def test_resolve_name_looks_up_case_insensitively():
    registry = {"cnn": 1, "transformer": 2}
    assert resolve_name("cnn", registry, "encoder", "encoder") == 1
    assert resolve_name("Transformer", registry, "encoder", "encoder") == 2


def test_resolve_name_passes_non_strings_through():
    sentinel = object()
    assert resolve_name(sentinel, {"a": 1}, "thing", "thing") is sentinel


def test_resolve_name_lists_valid_names():
    with pytest.raises(ValueError, match="rnn") as info:
        resolve_name("rnn", {"transformer": 2, "cnn": 1}, "encoder", "encoder")
    message = str(info.value)
    assert "Unknown encoder 'rnn'" in message
    assert "Valid names: 'cnn', 'transformer'." in message


# -------------------------------------------------------------------- check_tensor


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_check_tensor_returns_the_same_tensor(dtype):
    x = torch.zeros(2, 3, 8, dtype=dtype)
    assert check_tensor(x) is x


def test_check_tensor_rejects_non_tensors():
    with pytest.raises(TypeError, match=r"torch.as_tensor"):
        check_tensor(np.zeros((2, 1, 8)))


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.uint8])
def test_check_tensor_rejects_non_floating_tensors(dtype):
    with pytest.raises(TypeError, match=r"floating-point.*x.float\(\)"):
        check_tensor(torch.zeros(2, 1, 8, dtype=dtype))


@pytest.mark.parametrize("shape", [(8,), (2, 8), (2, 1, 8, 1)])
def test_check_tensor_rejects_wrong_rank(shape):
    with pytest.raises(ValueError, match=r"\(batch, channels, time\)"):
        check_tensor(torch.zeros(shape))


def test_check_tensor_suggests_unsqueeze_and_names_owner():
    class Owner:
        pass

    with pytest.raises(ValueError, match=r"for Owner.*unsqueeze\(1\)"):
        check_tensor(torch.zeros(2, 8), owner=Owner())


@pytest.mark.parametrize("shape", [(0, 1, 8), (2, 0, 8), (2, 1, 0)])
def test_check_tensor_rejects_empty(shape):
    with pytest.raises(ValueError, match="non-empty"):
        check_tensor(torch.zeros(shape))


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan, float("inf")])
@pytest.mark.parametrize("interval", [None, (0, None), (None, None)])
def test_check_param_rejects_non_finite_numbers_even_without_bounds(value, interval):
    with pytest.raises(
        ValueError, match=r"'sigma' parameter of Jitter must be a finite"
    ):
        check_param(value, "sigma", owner="Jitter", interval=interval)
    check_param(1e15, "sigma", owner="Jitter", interval=interval)  # large is fine
    with pytest.raises(ValueError, match=r"at most 1e\+15 in magnitude; got 1e\+300"):
        check_param(1e300, "sigma", owner="Jitter", interval=interval)  # absurd
    with pytest.raises(ValueError, match="in magnitude"):  # not an OverflowError
        check_param(10**400, "sigma", owner="Jitter", interval=interval)
