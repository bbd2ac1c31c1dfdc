import sys

import numpy as np
import pytest
import torch

from tscl import plot
from tscl.augment import Flip, Jitter, RandomCrop, Scaling

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _series(channels=2, length=200):
    t = np.arange(length) / 50.0
    rows = [np.sin(2 * np.pi * (c + 1) * t) + 0.1 * c for c in range(channels)]
    return np.stack(rows)  # (channels, time)


def _ydata(fig):
    return [np.asarray(line.get_ydata()) for ax in fig.axes for line in ax.lines]


@pytest.mark.parametrize("n_views", [1, 3])
def test_returns_figure_with_one_panel_per_view(n_views):
    fig = plot.augmentations(_series(), Jitter(0.1), n_views=n_views)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_views + 1
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["original"] + [f"view {i}" for i in range(1, n_views + 1)]
    assert fig.get_suptitle() == "Jitter(sigma=0.1)"
    assert all(len(ax.lines) == 2 for ax in fig.axes)  # every channel drawn


@pytest.mark.parametrize(
    "x",
    [
        _series(1, 100)[0],
        _series(3, 100),
        torch.from_numpy(_series(1, 100)[0]).float(),
        torch.from_numpy(_series(2, 100)),
        list(_series(1, 50)[0]),
        np.arange(60, dtype=np.int64),
    ],
    ids=["numpy-1d", "numpy-2d", "torch-1d", "torch-2d", "list", "int"],
)
def test_accepts_1d_and_2d_numpy_and_torch(x):
    fig = plot.augmentations(x, Scaling(0.2), n_views=2)
    channels = 1 if np.ndim(x) == 1 else len(x)
    assert all(len(ax.lines) == channels for ax in fig.axes)
    # The original panel shows the series itself (single channel: no shift).
    if channels == 1:
        np.testing.assert_allclose(
            fig.axes[0].lines[0].get_ydata(), np.asarray(x, dtype=float), rtol=1e-6
        )


def test_input_is_not_modified():
    x = torch.from_numpy(_series())
    before = x.clone()
    plot.augmentations(x, Flip(), n_views=1)
    assert torch.equal(x, before)


def test_shortened_views_drawn_at_their_own_length():
    fig = plot.augmentations(_series(2, 200), RandomCrop(length=0.5), n_views=2)
    lengths = [len(ax.lines[0].get_xdata()) for ax in fig.axes]
    assert lengths == [200, 100, 100]
    assert fig.axes[1].get_title() == "view 1 (100 of 200 timesteps)"
    assert fig.axes[1].get_xlim() == fig.axes[0].get_xlim()  # same scale


def test_fs_gives_seconds():
    fig = plot.augmentations(_series(2, 360), Jitter(), n_views=1, fs=360.0)
    t = fig.axes[0].lines[0].get_xdata()
    assert t[1] == pytest.approx(1 / 360)
    assert t[-1] == pytest.approx(359 / 360)
    assert fig.axes[-1].get_xlabel() == "time (s)"
    fig = plot.augmentations(_series(2, 50), Jitter(), n_views=1)
    assert fig.axes[-1].get_xlabel() == "timestep"


def test_channel_names_and_title():
    fig = plot.augmentations(
        _series(2), Jitter(), n_views=1, channel_names=["MLII", "V5"], title="ECG"
    )
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["MLII", "V5"]
    assert fig.get_suptitle() == "ECG"


def test_long_repr_is_shortened():
    aug = Jitter(0.01) + Scaling(0.1) + Flip() + Jitter(0.02) + Scaling(0.3) + Flip()
    fig = plot.augmentations(_series(), aug, n_views=1)
    title = fig.get_suptitle()
    assert len(title) <= 80
    assert title.endswith("...")
    assert "\n" not in title


def test_path_writes_png(tmp_path):
    path = tmp_path / "jitter.png"
    fig = plot.augmentations(_series(), Jitter(), n_views=2, path=path, dpi=40)
    assert isinstance(fig, Figure)
    assert path.read_bytes()[:8] == PNG_MAGIC
    bare = tmp_path / "no_suffix"
    plot.augmentations(_series(), Jitter(), n_views=1, path=str(bare), dpi=40)
    assert bare.read_bytes()[:8] == PNG_MAGIC


def test_same_random_state_same_views():
    x = _series()
    a = _ydata(plot.augmentations(x, Jitter(0.2), random_state=3))
    b = _ydata(plot.augmentations(x, Jitter(0.2), random_state=3))
    c = _ydata(plot.augmentations(x, Jitter(0.2), random_state=4))
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a[2:], c[2:], strict=True))
    views = a[2:]  # the views differ from each other
    assert not np.array_equal(views[0], views[2])


def test_accepts_any_callable():
    def negate(x, generator):
        return -x

    fig = plot.augmentations(_series(1, 30)[0], negate, n_views=1)
    np.testing.assert_allclose(
        fig.axes[1].lines[0].get_ydata(), -fig.axes[0].lines[0].get_ydata()
    )
    assert fig.get_suptitle().endswith("negate")


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (
            np.zeros((4, 2, 50)),
            ValueError,
            r"\(time,\) or \(channels, time\).*"
            r"\(4, 2, 50\).*X\[i\]",
        ),
        (np.zeros((500, 2)), ValueError, r"\(500, 2\).*pass x\.T"),
        (np.array(1.0), ValueError, r"got shape \(\)"),
        (np.array([]), ValueError, "empty"),
        (np.array([0.0, np.nan, 1.0]), ValueError, "NaN"),
        (np.array([[0.0, 1.0], [np.inf, 1.0]]), ValueError, "infinite"),
        (torch.tensor([0.0, float("nan")]), ValueError, "NaN"),
        (np.array(["a", "b"]), TypeError, "real numbers"),
        ("abc", TypeError, "array-like"),
        (torch.zeros(5, dtype=torch.complex64), TypeError, "real numbers"),
    ],
    ids=[
        "3d",
        "channels-last",
        "0d",
        "empty",
        "nan",
        "inf",
        "torch-nan",
        "str-array",
        "str",
        "complex",
    ],
)
def test_bad_series_raise_clearly(x, error, match):
    with pytest.raises(error, match=match):
        plot.augmentations(x, Jitter())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_views": 0}, ValueError, "'n_views'.*>= 1. Got 0"),
        ({"n_views": 1.5}, TypeError, "'n_views'"),
        ({"fs": 0}, ValueError, "'fs'"),
        ({"random_state": "a"}, TypeError, "'random_state'"),
        ({"channel_names": ["a"]}, ValueError, "1 names but x has 2 channel"),
        ({"channel_names": "ab"}, TypeError, "channel_names"),
        ({"aug": 3}, TypeError, "callable"),
        ({"aug": lambda x, g: x[0]}, ValueError, r"returned \(2, 50\)"),
        ({"aug": lambda x, g: x.numpy()}, TypeError, "torch.Tensor"),
    ],
    ids=repr,
)
def test_bad_options_raise_clearly(kwargs, error, match):
    kwargs = {"aug": Jitter(), **kwargs}
    with pytest.raises(error, match=match):
        plot.augmentations(_series(2, 50), **kwargs)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'tscl\[plot\]'"):
        plot.augmentations(_series(), Jitter())
