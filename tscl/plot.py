"""Figures that show what an augmentation does to a series.

Needs matplotlib (``pip install 'tscl[plot]'``), imported only when a figure is
drawn. The figures are built on :class:`matplotlib.figure.Figure` directly, not
through ``pyplot``, so they set no backend and leave no global state behind.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tscl._validation import (
    CHANNELS_LAST_MAX_CHANNELS,
    check_array_values,
    check_count,
    check_param,
    import_optional,
    short_repr,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["augmentations"]

_OWNER = "tscl.plot.augmentations"


def augmentations(
    x: Any,
    aug: Callable[..., torch.Tensor],
    n_views: int = 3,
    *,
    fs: float | None = None,
    channel_names: Sequence[str] | None = None,
    title: str | None = None,
    random_state: int | None = None,
    path: str | os.PathLike[str] | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> Figure:
    """Draw a series and ``n_views`` augmented views of it, one panel each.

    The views come from one call of ``aug`` on the series repeated ``n_views``
    times as a batch, with a ``torch.Generator`` seeded with ``random_state``,
    so the figure is reproducible. Panels are stacked vertically: the original
    ("original"), then "view 1", "view 2", .... Every channel is drawn in each
    panel, channels offset vertically (each centred on the original's mean and
    labelled on the y axis); all panels share the y limits so changes of
    amplitude show. Views shortened by the augmentation (e.g.
    :class:`tscl.augment.RandomCrop`) are drawn at their own length, from 0.

    Parameters
    ----------
    x : array-like or Tensor of shape (time,) or (channels, time)
        One series; NaN and infinity are rejected.
    aug : callable
        An :class:`tscl.augment.Augmentation`, or any callable
        ``aug(x, generator) -> Tensor`` on ``(batch, channels, time)`` tensors.
    n_views : int, default=3
        Number of augmented views, at least 1.
    fs : float, optional
        Sampling rate in Hz; the x axis is then in seconds, else in timesteps.
    channel_names : sequence of str, optional
        One name per channel, shown on the y axis; ``"channel 0"``, ... by
        default (a single channel gets no name unless one is given).
    title : str, optional
        The figure's title; ``repr(aug)`` shortened to about 80 characters by
        default.
    random_state : int, optional
        Seed of the generator the views are drawn from; ``None`` means 0.
    path : str or path-like, optional
        Where to save the figure (PNG unless the suffix names another format
        that matplotlib writes).
    figsize : tuple of (float, float), optional
        Width and height in inches; by default 8 by (1 + 1.6 per panel).
    dpi : int, default=100
        Resolution of the saved file.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with ``n_views + 1`` axes.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``x`` is not numeric, ``aug`` is not callable or ``aug`` does not
        return a tensor.
    ValueError
        If ``x`` is not 1-D or 2-D, is empty or holds NaN or infinity, if an
        option is out of range, or if ``aug`` returns the wrong shape.

    See Also
    --------
    tscl.augment : the augmentations.

    Examples
    --------
    >>> import numpy as np
    >>> from tscl.augment import Jitter
    >>> t = np.arange(500) / 100.0
    >>> x = np.stack([np.sin(2 * np.pi * t), np.sign(np.sin(np.pi * t))])  # (2, 500)
    >>> fig = augmentations(x, Jitter(sigma=0.1), n_views=2, fs=100.0)
    >>> [ax.get_title() for ax in fig.axes]
    ['original', 'view 1', 'view 2']
    >>> fig.get_suptitle()
    'Jitter(sigma=0.1)'

    Pass ``path="jitter.png"`` to save the figure as well.
    """
    figure = import_optional("matplotlib.figure", "plot", "tscl.plot")
    series = _as_series(x)  # (channels, time)
    names = _check_options(aug, n_views, fs, channel_names, random_state, series)
    views = _make_views(series, aug, n_views, random_state)  # (n_views, channels, *)
    panels = [series.detach().cpu().double().numpy(), *views]
    same_length = all(p.shape[-1] == panels[0].shape[-1] for p in panels)
    size = figsize if figsize is not None else (8.0, 1.0 + 1.6 * len(panels))
    fig = figure.Figure(figsize=size, layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=same_length, sharey=True, squeeze=False)
    _draw(list(axes[:, 0]), panels, names, fs)
    fig.suptitle(title if title is not None else _short_repr(aug))
    if path is not None:
        fmt = None if Path(path).suffix else "png"
        fig.savefig(path, dpi=dpi, format=fmt)
    return fig


def _as_series(x: Any) -> torch.Tensor:
    """Check one series and return it as a floating tensor (channels, time)."""
    if isinstance(x, torch.Tensor):
        if x.is_complex() or x.dtype == torch.bool:
            raise TypeError(f"x must hold real numbers; got a tensor of {x.dtype}.")
        tensor = x.detach() if x.is_floating_point() else x.detach().float()
        check_array_values(tensor.cpu().double().numpy(), "x")
    else:
        if isinstance(x, (str, bytes)):
            raise TypeError(f"x must be an array-like series; got {short_repr(x)}.")
        array = np.asarray(x)
        check_array_values(array, "x")
        dtype = np.float64 if array.dtype == np.float64 else np.float32
        tensor = torch.as_tensor(array.astype(dtype, copy=True))
    shape = tuple(tensor.shape)
    if tensor.ndim not in (1, 2):
        hint = (
            " To plot one sample of a batch X, pass X[i]." if tensor.ndim == 3 else ""
        )
        raise ValueError(
            f"x must be one series of shape (time,) or (channels, time); got shape "
            f"{shape}.{hint}"
        )
    if (
        tensor.ndim == 2
        and shape[0] > shape[1]
        and shape[1] <= CHANNELS_LAST_MAX_CHANNELS
    ):
        raise ValueError(
            f"x has shape {shape}, more channels than timesteps; x must have shape "
            "(channels, time). If channels are last, pass x.T."
        )
    return tensor.reshape(1, -1) if tensor.ndim == 1 else tensor


def _check_options(
    aug: Any,
    n_views: Any,
    fs: Any,
    channel_names: Any,
    random_state: Any,
    series: torch.Tensor,
) -> list[str]:
    """Check the options; return one label per channel ("" for an unnamed one)."""
    if not callable(aug):
        raise TypeError(
            "aug must be an augmentation or a callable aug(x, generator); got "
            f"{short_repr(aug)}."
        )
    check_count(n_views, "n_views", owner=_OWNER)
    if fs is not None:
        check_param(fs, "fs", owner=_OWNER, interval=(0, None))
    if random_state is not None:
        check_param(random_state, "random_state", owner=_OWNER, kind=numbers.Integral)
    channels = series.shape[0]
    if channel_names is None:
        return [""] if channels == 1 else [f"channel {c}" for c in range(channels)]
    if isinstance(channel_names, str) or not isinstance(channel_names, Sequence):
        raise TypeError(
            f"channel_names must be a list of str, one per channel; got "
            f"{short_repr(channel_names)}."
        )
    if len(channel_names) != channels:
        raise ValueError(
            f"channel_names has {len(channel_names)} names but x has {channels} "
            "channel(s); give one name per channel."
        )
    return [str(name) for name in channel_names]


def _make_views(
    series: torch.Tensor,
    aug: Callable[..., torch.Tensor],
    n_views: int,
    random_state: int | None,
) -> list[np.ndarray]:
    """Augment the series repeated ``n_views`` times; return each view as numpy."""
    batch = series.unsqueeze(0).repeat(n_views, 1, 1)  # (n_views, channels, time)
    generator = torch.Generator(device=series.device).manual_seed(random_state or 0)
    out = aug(batch, generator)
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"aug must return a torch.Tensor; {_short_repr(aug)} returned "
            f"{type(out).__name__}."
        )
    expected = (n_views, series.shape[0])
    if out.ndim != 3 or tuple(out.shape[:2]) != expected or out.shape[-1] < 1:
        raise ValueError(
            f"aug must return shape (batch, channels, time) = ({n_views}, "
            f"{series.shape[0]}, time) for an input of shape {tuple(batch.shape)}; "
            f"{_short_repr(aug)} returned {tuple(out.shape)}."
        )
    return list(out.detach().cpu().double().numpy())


def _draw(
    axes: list[Axes],
    panels: list[np.ndarray],
    names: list[str],
    fs: float | None,
) -> None:
    """Plot every channel of each panel, channels offset vertically."""
    original = panels[0]
    channels, length = original.shape
    centre = original.mean(axis=1, keepdims=True)  # (channels, 1)
    upper = np.max([(p - centre).max(axis=1) for p in panels], axis=0)  # (channels,)
    lower = np.min([(p - centre).min(axis=1) for p in panels], axis=0)  # (channels,)
    gap = 0.1 * float((upper - lower).max())
    step = float((upper[1:] - lower[:-1]).max(initial=0.0)) + gap
    step = step if step > 0 else 1.0
    offset = -step * np.arange(channels)[:, None]  # (channels, 1)
    shift = centre - offset if channels > 1 else np.zeros_like(centre)
    for i, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
        n = panel.shape[-1]
        t = np.arange(n) / fs if fs is not None else np.arange(n)
        for c in range(channels):
            ax.plot(t, panel[c] - shift[c], color=f"C{c % 10}", lw=0.8)
        name = "original" if i == 0 else f"view {i}"
        if n != length:
            name += f" ({n} of {length} timesteps)"
        ax.set_title(name, fontsize="small", pad=3)
        ax.margins(x=0)
        if channels > 1:
            ax.set_yticks(offset[:, 0], names)
            for c, label in enumerate(ax.get_yticklabels()):
                label.set_color(f"C{c % 10}")
        elif names[0]:
            ax.set_ylabel(names[0])
    end = (length - 1) / fs if fs is not None else length - 1
    for ax in axes:
        ax.set_xlim(0, max(end, 1e-12))
    axes[-1].set_xlabel("time (s)" if fs is not None else "timestep")


def _short_repr(aug: Any, limit: int = 80) -> str:
    """``repr(aug)`` on one line, cut to ``limit`` characters."""
    name = getattr(aug, "__qualname__", None)
    text = name if callable(aug) and isinstance(name, str) else repr(aug)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
