"""Tests for tscl.monitoring: naive references, known values, the monitor, errors."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tscl.monitoring import (
    METRICS,
    CollapseMonitor,
    CollapseWarning,
    alignment,
    collapse_metrics,
    effective_rank,
    embedding_std,
    uniformity,
)

SHAPES = [(2, 1), (3, 5), (8, 3), (17, 6), (40, 40)]


def _randn(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


def _unit_rows(z: torch.Tensor) -> np.ndarray:
    x = z.double().numpy()
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --- naive references --------------------------------------------------------


def _naive_embedding_std(z: torch.Tensor) -> float:
    f = _unit_rows(z)
    n, dim = f.shape
    stds = []
    for j in range(dim):
        mean = sum(f[i, j] for i in range(n)) / n
        stds.append(math.sqrt(sum((f[i, j] - mean) ** 2 for i in range(n)) / n))
    return sum(stds) / dim * math.sqrt(dim)


def _naive_effective_rank(z: torch.Tensor) -> float:
    x = z.double().numpy()
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    p = s / s.sum() + 1e-7
    return float(np.exp(-np.sum(p * np.log(p))))


def _naive_alignment(z1: torch.Tensor, z2: torch.Tensor, alpha: float) -> float:
    f1, f2 = _unit_rows(z1), _unit_rows(z2)
    n = len(f1)
    return sum(np.linalg.norm(f1[i] - f2[i]) ** alpha for i in range(n)) / n


def _naive_uniformity(z: torch.Tensor, t: float) -> float:
    f = _unit_rows(z)
    n = len(f)
    total, count = 0.0, 0
    for i in range(n):
        for j in range(i + 1, n):
            total += math.exp(-t * float(np.sum((f[i] - f[j]) ** 2)))
            count += 1
    return math.log(total / count)


@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_embedding_std_matches_naive(n, dim):
    z = _randn(n, dim, seed=n) + 0.3  # off-centre, so the mean matters
    assert embedding_std(z) == pytest.approx(_naive_embedding_std(z), rel=1e-9)


@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_effective_rank_matches_numpy_svd(n, dim):
    z = _randn(n, dim, seed=n) * torch.linspace(0.1, 2.0, dim)  # uneven spectrum
    assert effective_rank(z) == pytest.approx(_naive_effective_rank(z), rel=1e-9)


@pytest.mark.parametrize("alpha", [0.5, 1, 2, 3.0])
@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_alignment_matches_naive(n, dim, alpha):
    z1 = _randn(n, dim, seed=n)
    z2 = z1 + 0.5 * _randn(n, dim, seed=n + 100)
    got = alignment(z1, z2, alpha=alpha)
    assert got == pytest.approx(_naive_alignment(z1, z2, alpha), rel=1e-9)


@pytest.mark.parametrize("t", [0.5, 2, 5.0])
@pytest.mark.parametrize(("n", "dim"), SHAPES)
def test_uniformity_matches_double_loop(n, dim, t):
    z = _randn(n, dim, seed=n)
    assert uniformity(z, t=t) == pytest.approx(_naive_uniformity(z, t), rel=1e-9)


def test_collapse_metrics_combines_the_four_metrics():
    z1, z2 = _randn(10, 4, seed=1), _randn(10, 4, seed=2)
    z = torch.cat([z1, z2])
    metrics = collapse_metrics(z1, z2)
    assert tuple(metrics) == METRICS
    assert metrics == {
        "embedding_std": embedding_std(z),
        "effective_rank": effective_rank(z),
        "alignment": alignment(z1, z2),
        "uniformity": uniformity(z),
    }


# --- known values ------------------------------------------------------------


@pytest.mark.parametrize("row", [torch.ones(6), torch.full((6,), 0.1), _randn(1, 6)[0]])
def test_identical_embeddings_give_zero(row):
    z = row.repeat(9, 1)  # (9, 6), all rows the same
    assert embedding_std(z) == 0.0
    assert effective_rank(z) == 0.0
    assert uniformity(z) == 0.0
    assert alignment(z, z) == 0.0


def test_identical_views_have_zero_alignment():
    z = _randn(16, 8)
    assert alignment(z, z) == 0.0
    assert alignment(z, 3.0 * z) == pytest.approx(0.0, abs=1e-12)  # scale-free


def test_alignment_of_opposite_and_orthogonal_views():
    z = torch.eye(4)
    assert alignment(z, -z) == pytest.approx(4.0)
    assert alignment(z, -z, alpha=1) == pytest.approx(2.0)
    assert alignment(z, z.roll(1, dims=0)) == pytest.approx(2.0)  # orthogonal


def test_cross_polytope_values():
    # The 6 points +-e_k in 3-D: mean zero, equal spread in every direction.
    z = torch.cat([torch.eye(3), -torch.eye(3)])
    assert embedding_std(z) == pytest.approx(1.0)
    assert effective_rank(z) == pytest.approx(3.0, rel=1e-4)
    # 3 antipodal pairs at squared distance 4, 12 orthogonal pairs at 2.
    expected = math.log((3 * math.exp(-8) + 12 * math.exp(-4)) / 15)
    assert uniformity(z) == pytest.approx(expected)


def test_isotropic_gaussian_is_healthy():
    z = _randn(4000, 16)
    assert embedding_std(z) == pytest.approx(1.0, abs=0.03)
    assert effective_rank(z) > 15.5
    assert uniformity(z) < -3.0  # near the -4 of a perfectly even spread


def test_two_dimensional_subspace_has_rank_about_two():
    z = _randn(500, 2) @ _randn(2, 16, seed=1)  # (500, 16) of rank 2
    assert 1.0 <= effective_rank(z) <= 2.0 + 1e-3


def test_points_on_a_line_have_rank_one_but_full_std():
    z = _randn(200, 1) * _randn(1, 8, seed=1)  # (200, 8) on one line through 0
    assert effective_rank(z) == pytest.approx(1.0, abs=1e-3)
    assert embedding_std(z) > 0.3  # the two signs look spread; the rank catches it


def test_std_and_uniformity_ignore_row_norms():
    z = _randn(20, 5).double()
    scale = torch.rand(20, 1, generator=torch.Generator().manual_seed(3)) + 0.1
    scale = scale.double()
    assert embedding_std(z * scale) == pytest.approx(embedding_std(z), rel=1e-9)
    assert uniformity(z * scale) == pytest.approx(uniformity(z), rel=1e-9)


def test_effective_rank_ignores_a_shared_offset():
    z = _randn(30, 5)
    assert effective_rank(z + 100.0) == pytest.approx(effective_rank(z), rel=1e-6)


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64]
)
def test_any_float_dtype_is_computed_in_float64(dtype):
    z1, z2 = _randn(12, 4, seed=1).to(dtype), _randn(12, 4, seed=2).to(dtype)
    assert collapse_metrics(z1, z2) == collapse_metrics(z1.double(), z2.double())


def test_inputs_that_require_grad_are_accepted_and_untouched():
    z1 = _randn(8, 4).requires_grad_()
    z2 = _randn(8, 4, seed=1)
    metrics = collapse_metrics(z1, z2)
    assert all(isinstance(v, float) for v in metrics.values())
    assert z1.grad is None


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    z1, z2 = _randn(64, 16, seed=1), _randn(64, 16, seed=2)
    cpu = collapse_metrics(z1, z2)
    cuda = collapse_metrics(z1.cuda(), z2.cuda())
    assert cuda == pytest.approx(cpu, rel=1e-9)
    assert effective_rank(torch.ones(8, 4, device="cuda")) == 0.0


@settings(deadline=None, max_examples=25)
@given(
    n=st.integers(2, 12),
    dim=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_metrics_stay_in_their_ranges(n, dim, seed, scale):
    z1, z2 = scale * _randn(n, dim, seed), scale * _randn(n, dim, seed + 1)
    m = collapse_metrics(z1, z2)
    assert 0.0 <= m["embedding_std"] <= 1.0 + 1e-9
    assert 0.0 <= m["effective_rank"] <= min(2 * n - 1, dim) + 1e-3
    assert 0.0 <= m["alignment"] <= 4.0 + 1e-9
    assert -8.0 - 1e-9 <= m["uniformity"] <= 0.0


# --- CollapseMonitor ---------------------------------------------------------


def _healthy(epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
    z = _randn(64, 16, seed=epoch)
    return z, z + 0.1 * _randn(64, 16, seed=epoch + 1000)


def _collapsed(epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.ones(64, 16) + 1e-4 * _randn(64, 16, seed=epoch)  # near one point
    return z, z.clone()


def test_monitor_warns_once_and_records_every_collapsed_epoch():
    monitor = CollapseMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Python's own de-duplication is off
        for epoch in range(3):
            monitor.update(*_healthy(epoch), epoch=epoch)
        for epoch in range(3, 7):
            monitor.update(*_collapsed(epoch), epoch=epoch)
    collapse = [w for w in caught if issubclass(w.category, CollapseWarning)]
    assert len(collapse) == 1
    message = str(collapse[0].message)
    assert "epoch 3" in message
    for fix in ("learning rate", "larger batch", "augmentations", "momentum"):
        assert fix in message
    assert "temperature" in message
    assert collapse[0].filename == __file__  # stacklevel points at the caller
    assert monitor.collapsed_epochs == [3, 4, 5, 6]
    assert monitor.epochs == list(range(7))
    assert tuple(monitor.history) == METRICS
    assert METRICS == ("embedding_std", "effective_rank", "alignment", "uniformity")
    assert all(len(values) == 7 for values in monitor.history.values())
    assert monitor.history["embedding_std"][3] < 0.05


def _run_collapsed(monitor: CollapseMonitor, epochs: range) -> None:
    for epoch in epochs:
        monitor.update(*_collapsed(epoch), epoch=epoch)


def test_monitor_warning_with_pytest_warns():
    monitor = CollapseMonitor()
    with pytest.warns(CollapseWarning, match=r"epoch 5.*learning rate") as record:
        _run_collapsed(monitor, range(5, 9))
    assert len([w for w in record if w.category is CollapseWarning]) == 1
    assert monitor.collapsed_epochs == [5, 6, 7, 8]


def test_monitor_is_silent_on_healthy_embeddings():
    monitor = CollapseMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        for epoch in range(5):
            metrics = monitor.update(*_healthy(epoch), epoch=epoch)
            assert metrics["effective_rank"] > 10
    assert monitor.collapsed_epochs == []


def test_monitor_catches_dimensional_collapse_through_the_rank():
    z = _randn(64, 1) * _randn(1, 16, seed=1)  # one direction, both signs
    monitor = CollapseMonitor()
    with pytest.warns(CollapseWarning, match="effective_rank=1"):
        metrics = monitor.update(z, z, epoch=0)
    assert metrics["embedding_std"] > 0.05
    assert monitor.collapsed_epochs == [0]


def test_each_monitor_warns_on_its_own():
    for _ in range(2):
        with pytest.warns(CollapseWarning):
            CollapseMonitor().update(*_collapsed(0), epoch=0)


def test_custom_thresholds_are_used():
    monitor = CollapseMonitor(std_threshold=1.5, rank_threshold=1.0)
    with pytest.warns(CollapseWarning, match="collapse below 1.5"):
        monitor.update(*_healthy(0), epoch=0)  # std <= 1 < 1.5
    assert repr(monitor) == "CollapseMonitor(std_threshold=1.5, rank_threshold=1.0)"


@pytest.mark.parametrize("name", ["std_threshold", "rank_threshold"])
@pytest.mark.parametrize("value", [0, -0.1, math.nan, math.inf])
def test_monitor_rejects_bad_threshold_values(name, value):
    with pytest.raises(ValueError, match=f"'{name}' parameter of CollapseMonitor"):
        CollapseMonitor(**{name: value})


@pytest.mark.parametrize("name", ["std_threshold", "rank_threshold"])
def test_monitor_rejects_non_numeric_thresholds(name):
    with pytest.raises(TypeError, match=f"'{name}'.*Got '0.1' of type str"):
        CollapseMonitor(**{name: "0.1"})


@pytest.mark.parametrize(
    ("epoch", "error", "match"),
    [(-1, ValueError, ">= 0. Got -1"), (1.5, TypeError, "1.5"), (True, TypeError, "")],
)
def test_monitor_rejects_bad_epochs(epoch, error, match):
    with pytest.raises(error, match=f"'epoch'.*{match}"):
        CollapseMonitor().update(*_healthy(0), epoch=epoch)


# --- bad inputs --------------------------------------------------------------

SINGLE = {
    "embedding_std": embedding_std,
    "effective_rank": effective_rank,
    "uniformity": uniformity,
    "alignment": lambda z: alignment(z, z),
    "collapse_metrics": lambda z: collapse_metrics(z, z),
    "monitor": lambda z: CollapseMonitor().update(z, z, epoch=0),
}

BAD_INPUTS = [
    (np.zeros((4, 3)), TypeError, r"torch.Tensor of shape \(n, dim\); got ndarray"),
    ([[0.0, 1.0]] * 3, TypeError, "got list"),
    (torch.zeros(4, 3, dtype=torch.int64), TypeError, r"torch.int64. Use .*\.float"),
    (torch.zeros(4), ValueError, r"shape \(n, dim\) with dim >= 1; got \(4,\)"),
    (torch.zeros(4, 3, 2), ValueError, r"got \(4, 3, 2\)\. Flatten"),
    (torch.zeros(4, 0), ValueError, r"dim >= 1; got \(4, 0\)"),
    (torch.zeros(1, 3), ValueError, r"at least 2 rows; got shape \(1, 3\)"),
    (torch.tensor([[0.0, math.nan], [1.0, 2.0]]), ValueError, "1 NaN or infinite"),
    (torch.tensor([[math.inf, 0.0], [1.0, -math.inf]]), ValueError, "2 NaN or inf"),
]


@pytest.mark.parametrize(("z", "error", "match"), BAD_INPUTS)
@pytest.mark.parametrize("func", SINGLE.values(), ids=SINGLE.keys())
def test_bad_inputs_raise_helpful_errors(func, z, error, match):
    with pytest.raises(error, match=match):
        func(z)


@pytest.mark.parametrize(
    "func",
    [alignment, collapse_metrics, lambda a, b: CollapseMonitor().update(a, b, 0)],
    ids=["alignment", "collapse_metrics", "monitor"],
)
def test_views_of_different_shapes_are_rejected(func):
    with pytest.raises(ValueError, match=r"same shape.*got \(4, 3\) and \(5, 3\)"):
        func(torch.zeros(4, 3), torch.zeros(5, 3))


def test_second_view_is_named_in_the_message():
    with pytest.raises(ValueError, match="'z2' holds 1 NaN"):
        alignment(torch.zeros(2, 2), torch.tensor([[0.0, 1.0], [math.nan, 1.0]]))


@pytest.mark.parametrize(
    ("func", "name"), [(alignment, "alpha"), (uniformity, "t")], ids=["alpha", "t"]
)
@pytest.mark.parametrize("value", [0, -2.0, math.inf, math.nan])
def test_bad_powers_raise_value_error(func, name, value):
    z = _randn(4, 3)
    args = (z, z) if func is alignment else (z,)
    with pytest.raises(ValueError, match=f"'{name}' parameter of {func.__name__}"):
        func(*args, **{name: value})


def test_non_numeric_power_raises_type_error():
    z = _randn(4, 3)
    with pytest.raises(TypeError, match="'t' parameter of uniformity"):
        uniformity(z, t="2")  # type: ignore[arg-type]


def test_monitor_state_round_trips_and_keeps_the_warning_shown_once():
    import warnings

    monitor = CollapseMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.update(torch.ones(8, 4), torch.ones(8, 4), epoch=1)
    assert len(caught) == 1
    restored = CollapseMonitor()
    restored.load_state_dict(monitor.state_dict())
    assert restored.history == monitor.history
    assert (restored.epochs, restored.collapsed_epochs) == ([1], [1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored.update(torch.ones(8, 4), torch.ones(8, 4), epoch=2)
    assert caught == []  # already warned before the checkpoint
    with pytest.raises(ValueError, match="warned"):
        restored.load_state_dict({"history": {}, "epochs": [], "collapsed_epochs": []})
