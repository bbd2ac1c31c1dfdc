"""Running any encoder on arrays: timestamps, output size, fixed-shape encoding."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tscl import distributed
from tscl._validation import check_choice, check_count

__all__ = ["encode", "output_size", "timestamps"]


def timestamps(encoder: nn.Module, x: Tensor) -> Tensor:
    """Run ``encoder.forward_timestamps(x)``, or say clearly that it has none.

    Parameters
    ----------
    encoder : nn.Module
        An encoder with ``forward_timestamps``, as tscl's have.
    x : Tensor of shape (batch, in_channels, time)
        Input batch.

    Returns
    -------
    Tensor of shape (batch, out_dim, time')

    Raises
    ------
    TypeError
        If the encoder has no ``forward_timestamps``.

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> encoder = CNN(1, out_dim=8, hidden_dim=4, depth=1)
    >>> timestamps(encoder, torch.randn(2, 1, 30)).shape
    torch.Size([2, 8, 30])
    """
    forward = getattr(encoder, "forward_timestamps", None)
    if not callable(forward):
        raise TypeError(
            f"The encoder {type(encoder).__name__} has no forward_timestamps(x) -> "
            "(batch, out_dim, time), which timestamp representations need; "
            "tscl.encoders have it."
        )
    out: Tensor = forward(x)
    return out


def output_size(encoder: nn.Module) -> int:
    """Return an encoder's representation size, its ``out_dim`` attribute.

    Parameters
    ----------
    encoder : nn.Module
        Any encoder; tscl's own and user modules that follow the interface.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If the module has no integer ``out_dim``.

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> output_size(CNN(1, out_dim=8, hidden_dim=4, depth=1))
    8
    """
    out_dim = getattr(encoder, "out_dim", None)
    if not isinstance(out_dim, int):
        raise TypeError(
            f"The encoder {type(encoder).__name__} must have an integer 'out_dim' "
            "attribute (the size of its output), as tscl.encoders do."
        )
    return out_dim


#: Input values per forward pass of :func:`encode` when it picks the chunk size
#: (every pass gets that many series, padded with zeros when fewer are left):
#: about 170 MB per 320-channel activation of TS2Vec's network.
ENCODE_VALUES = 1 << 17
#: Most series per forward pass of :func:`encode`.
ENCODE_MAX_ROWS = 256
#: Longest stretch of a series per forward pass of :func:`encode`, for encoders
#: with a ``receptive_radius``: longer series are encoded in overlapping pieces,
#: which bounds the memory of encoding a series of any length.
ENCODE_STEPS = 1 << 16


def encode(
    encoder: nn.Module,
    X3: Any,
    device: str | torch.device = "cpu",
    batch_size: int | None = None,
    level: str = "instance",
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Run ``encoder`` on ``X3`` in eval mode, in chunks of one fixed shape.

    Every forward pass gets ``batch_size`` series (the last chunk is padded
    with zeros and the padding dropped), so each series' representation is
    computed by the same kernels whatever else is encoded with it: the output
    for a row does not depend on how many rows are passed or where it sits
    (scikit-learn's ``check_methods_subset_invariance``, bit for bit). Series
    longer than ``ENCODE_STEPS`` (65,536) timesteps are encoded in overlapping
    pieces of at most that length when the encoder gives its
    ``receptive_radius`` (``"cnn"`` and ``"ts2vec"``): each piece carries the
    radius of context on each side, so the result is the whole series' one,
    and the memory of a pass is bounded whatever the length (about 0.3 GB for
    TS2Vec's network, plus the output).

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, dim)``; left on its device
        and in its mode.
    X3 : ndarray of shape (n_samples, n_channels, n_timesteps)
        Input series, in memory or memory-mapped.
    device : str or torch.device, default="cpu"
        Where to compute (see :func:`tscl.distributed.resolve_device`; under
        ``torchrun``, ``"auto"`` is this process's GPU).
    batch_size : int, optional
        Series per forward pass. By default it depends only on the series'
        shape: ``ENCODE_VALUES // (n_channels * n_timesteps)`` series, between 1
        and ``ENCODE_MAX_ROWS``.
    level : {"instance", "timestamp"}, default="instance"
        ``encoder(x)``, or ``encoder.forward_timestamps(x)``.
    prepare : callable, optional
        ``prepare(rows) -> rows`` applied to each chunk of ``X3`` first (e.g. a
        standardisation), so that a memory-mapped ``X3`` is never copied whole.

    Returns
    -------
    ndarray of shape (n_samples, dim), or (n_samples, dim, time') for timestamps
        float32.

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> encoder = CNN(1, out_dim=8, hidden_dim=4, depth=1)
    >>> X = np.random.default_rng(0).normal(size=(5, 1, 32)).astype(np.float32)
    >>> Z = encode(encoder, X)
    >>> Z.shape, bool((encode(encoder, X[2:3]) == Z[2:3]).all())
    ((5, 8), True)
    """
    check_choice(level, "level", ("instance", "timestamp"), owner="encode")
    n, channels, steps = X3.shape
    size = batch_size or min(
        max(ENCODE_VALUES // (channels * steps), 1), ENCODE_MAX_ROWS
    )
    check_count(size, "batch_size", owner="encode")
    target = distributed.resolve_device(device)
    model = (
        encoder if _device_of(encoder) == target else copy.deepcopy(encoder).to(target)
    )
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, n, size):
            rows = np.asarray(X3[start : start + size])
            rows = rows if prepare is None else prepare(rows)
            chunk = torch.zeros((size, channels, steps), dtype=torch.float32)
            chunk[: len(rows)] = torch.as_tensor(rows, dtype=torch.float32)
            chunk = chunk.to(target)
            z = _forward(model, chunk, level)
            out.append(z[: len(rows)].float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out)


def encode_tensor(encoder: nn.Module, x: Tensor) -> Tensor:
    """Instance representations of a batch, in passes of bounded memory.

    ``encoder(x)`` for ``x`` of shape ``(batch, channels, time)``, computed on
    groups of series of at most ``ENCODE_VALUES`` input values (one series at
    least) and, for encoders with a ``receptive_radius``, on pieces of at most
    ``ENCODE_STEPS`` timesteps: the result of one pass, with the memory of a
    pass of :func:`encode`. The encoder's mode and device are the caller's.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, dim)``.
    x : Tensor of shape (batch, channels, time)
        On the encoder's device.

    Returns
    -------
    Tensor of shape (batch, dim)

    Raises
    ------
    ValueError
        If ``x`` is not a 3-D tensor with at least one series, channel and
        timestep (the encoder checks the channels and the length).

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> encoder = CNN(1, out_dim=8, hidden_dim=4, depth=1).eval()
    >>> x = torch.randn(5, 1, 32)
    >>> bool(torch.allclose(encode_tensor(encoder, x), encoder(x), atol=1e-6))
    True
    """
    if not isinstance(x, Tensor) or x.ndim != 3 or 0 in x.shape:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(
            "encode_tensor needs a tensor of shape (batch, channels, time) with at "
            f"least one series, channel and timestep; got {shape}."
        )
    rows = max(ENCODE_VALUES // (x.shape[1] * x.shape[2]), 1)
    parts = [
        _forward(encoder, x[i : i + rows], "instance") for i in range(0, len(x), rows)
    ]
    return torch.cat(parts)


def _forward(model: nn.Module, x: Tensor, level: str) -> Tensor:
    """Encode ``x`` whole, or in overlapping pieces of at most ``ENCODE_STEPS``.

    A piece covers ``core`` timesteps plus ``receptive_radius`` on each side
    (fewer at the ends of the series, where the encoder pads anyway), so the
    representation of every timestep of its core is the one the whole series
    gives; the instance representation is the maximum over the pieces' cores.
    """
    radius = getattr(model, "receptive_radius", None)
    steps = x.shape[2]
    core = ENCODE_STEPS - 2 * (radius or 0)
    if (
        radius is None
        or steps <= ENCODE_STEPS
        or core < 1
        or getattr(model, "timestamp_stride", 1) != 1
    ):
        return model(x) if level == "instance" else timestamps(model, x)
    pieces = []
    for start in range(0, steps, core):
        stop = min(start + core, steps)
        low, high = max(start - radius, 0), min(stop + radius, steps)
        piece = timestamps(model, x[..., low:high])[..., start - low : stop - low]
        pieces.append(piece.amax(dim=2) if level == "instance" else piece)
    if level == "instance":
        return torch.stack(pieces).amax(dim=0)
    return torch.cat(pieces, dim=2)


def _device_of(module: nn.Module) -> torch.device:
    """Return the device of a module's first parameter (the CPU if it has none)."""
    first = next(module.parameters(), None)
    return torch.device("cpu") if first is None else first.device
