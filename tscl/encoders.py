"""Encoders: map a batch ``(batch, channels, time)`` to representations.

Every encoder has one interface, as in timm: ``__init__(in_channels, out_dim,
**kwargs)``, ``forward_features(x) -> (batch, hidden_dim, time')``,
``forward(x) -> (batch, out_dim)``, ``forward_timestamps(x) -> (batch, out_dim,
time')`` (one representation per timestep, or per patch), and the attributes
``out_dim``, ``min_length`` (the shortest series it accepts) and
``timestamp_stride`` (timesteps per entry of ``time'``). To add one: write the
class (``forward_features``, ``timestamps`` and ``pool``) and add it to
:data:`ENCODERS`.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tscl import distributed
from tscl._validation import (
    check_choice,
    check_count,
    check_param,
    check_tensor,
    resolve_name,
)

__all__ = [
    "CNN",
    "ENCODERS",
    "Encoder",
    "Transformer",
    "build_encoder",
    "encode",
    "output_size",
    "timestamps",
]


class Encoder(nn.Module):
    """Base class: checks the input's channels and length, then encodes it.

    A subclass's ``__init__(in_channels, out_dim, **settings)`` only has to
    build the network: the base class records the arguments it was called with,
    so :attr:`settings` and :meth:`rebuild` work for every encoder.
    """

    in_channels: int
    out_dim: int
    min_length: int = 1
    timestamp_stride: int = 1

    def __new__(cls, *args: Any, **kwargs: Any) -> Encoder:
        """Create the module and record the arguments ``__init__`` is called with."""
        self = super().__new__(cls)
        if not args and not kwargs:  # copy and pickle restore the arguments later
            return self
        bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(list(bound.arguments.items())[1:])  # without self
        object.__setattr__(self, "_arguments", arguments)  # before Module init
        return self

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor's arguments other than ``in_channels`` and ``out_dim``."""
        arguments = self.__dict__.get("_arguments")
        if arguments is None:  # pickled by tscl <= 0.1.0, which stored them
            return dict(self.__dict__.get("settings", {}))
        skip = ("in_channels", "out_dim")
        return {k: v for k, v in arguments.items() if k not in skip}

    def forward_features(self, x: Tensor) -> Tensor:
        """Return features of shape ``(batch, hidden_dim, time')``."""
        raise NotImplementedError  # pragma: no cover

    def timestamps(self, features: Tensor) -> Tensor:
        """Project features to ``(batch, out_dim, time')``, one vector per step."""
        raise NotImplementedError  # pragma: no cover

    def pool(self, features: Tensor) -> Tensor:
        """Reduce ``(batch, hidden_dim, time')`` features to ``(batch, out_dim)``."""
        raise NotImplementedError  # pragma: no cover

    def forward_timestamps(self, x: Tensor) -> Tensor:
        """Encode every timestep (or patch) of ``x``.

        Parameters
        ----------
        x : Tensor of shape (batch, in_channels, time)
            Input batch, ``time >= min_length``.

        Returns
        -------
        Tensor of shape (batch, out_dim, time')
            ``time' = ceil(time / timestamp_stride)``; entry ``j`` covers
            timesteps ``j * timestamp_stride`` to ``(j + 1) * timestamp_stride - 1``.
        """
        self.check_input(x)
        return self.timestamps(self.forward_features(x))

    def rebuild(self, in_channels: int, out_dim: int) -> Encoder:
        """Return a freshly initialised encoder of this kind and settings.

        Methods that need a second encoder for another input (CLIP-style pairs)
        use it.

        Parameters
        ----------
        in_channels : int
            Input channels of the new encoder.
        out_dim : int
            Its representation size.

        Returns
        -------
        Encoder
        """
        return type(self)(in_channels, out_dim, **self.settings)

    def forward(self, x: Tensor) -> Tensor:
        """Encode ``x`` of shape ``(batch, in_channels, time)`` to ``(batch, out_dim)``.

        Parameters
        ----------
        x : Tensor of shape (batch, in_channels, time)
            Input batch, ``time >= min_length``.

        Returns
        -------
        Tensor of shape (batch, out_dim)
        """
        self.check_input(x)
        return self.pool(self.forward_features(x))

    def check_input(self, x: Tensor) -> None:
        """Raise a clear error when ``x`` does not fit this encoder."""
        check_tensor(x, owner=self)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} was built for {self.in_channels} channel(s); "
                f"got a batch of shape {tuple(x.shape)} with {x.shape[1]}."
            )
        if x.shape[2] < self.min_length:
            raise ValueError(
                f"{type(self).__name__} needs series of at least {self.min_length} "
                f"timesteps; got {x.shape[2]}."
            )


def _check_sizes(owner: nn.Module, **sizes: Any) -> None:
    """Check that every size is an integer >= 1."""
    for name, value in sizes.items():
        check_count(value, name, owner=owner)


class _DilatedBlock(nn.Module):
    """Two dilated convolutions with GELU and a residual connection."""

    def __init__(self, channels_in: int, channels: int, dilation: int, kernel: int):
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv1 = nn.Conv1d(
            channels_in, channels, kernel, padding=pad, dilation=dilation
        )
        self.conv2 = nn.Conv1d(
            channels, channels, kernel, padding=pad, dilation=dilation
        )
        self.skip = (
            nn.Conv1d(channels_in, channels, 1) if channels_in != channels else None
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.skip is None else self.skip(x)
        x = self.conv1(F.gelu(x))
        x = self.conv2(F.gelu(x))
        return x + residual


class CNN(Encoder):
    """Dilated residual 1-D CNN with global max pooling (as in TS2Vec's encoder).

    A 1x1 input projection, ``depth`` residual blocks whose dilation doubles at
    each block (receptive field ``1 + 2 (kernel_size - 1)(2^depth - 1)``), a 1x1
    projection to ``out_dim`` per timestep, then the maximum over time. Works for
    any number of channels and any length; no normalisation layer, so a sample's
    representation does not depend on the rest of its batch.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_dim : int, default=128
        Size of the representation.
    hidden_dim : int, default=64
        Channels of the hidden layers.
    depth : int, default=6
        Number of residual blocks.
    kernel_size : int, default=3
        Odd kernel size of every convolution.

    Examples
    --------
    >>> enc = CNN(in_channels=2, out_dim=16, hidden_dim=8, depth=2)
    >>> enc(torch.randn(4, 2, 50)).shape
    torch.Size([4, 16])
    >>> enc.forward_features(torch.randn(4, 2, 50)).shape
    torch.Size([4, 8, 50])
    >>> enc.forward_timestamps(torch.randn(4, 2, 50)).shape
    torch.Size([4, 16, 50])
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int = 128,
        hidden_dim: int = 64,
        depth: int = 6,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        _check_sizes(
            self,
            in_channels=in_channels,
            out_dim=out_dim,
            hidden_dim=hidden_dim,
            depth=depth,
            kernel_size=kernel_size,
        )
        if kernel_size % 2 == 0:
            raise ValueError(f"CNN needs an odd kernel_size; got {kernel_size}.")
        self.in_channels, self.out_dim = in_channels, out_dim
        self.input = nn.Conv1d(in_channels, hidden_dim, 1)
        self.blocks = nn.Sequential(
            *(
                _DilatedBlock(hidden_dim, hidden_dim, 2**i, kernel_size)
                for i in range(depth)
            )
        )
        self.head = nn.Conv1d(hidden_dim, out_dim, 1)

    def forward_features(self, x: Tensor) -> Tensor:
        """Per-timestep features of shape ``(batch, hidden_dim, time)``."""
        return self.blocks(self.input(x))

    def timestamps(self, features: Tensor) -> Tensor:
        """Project every timestep to ``out_dim``."""
        return self.head(features)  # (batch, out_dim, time)

    def pool(self, features: Tensor) -> Tensor:
        """Project per timestep, then take the maximum over time."""
        return self.timestamps(features).max(dim=2).values  # (batch, out_dim)


class Transformer(Encoder):
    """Transformer over non-overlapping patches, mean-pooled.

    A strided convolution embeds patches of ``patch_size`` timesteps (the series
    is zero-padded on the right to a multiple of it), sinusoidal positions are
    added, ``depth`` pre-norm transformer layers follow and the mean over patches
    is projected to ``out_dim``. Any channel count; any length >= ``patch_size``.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_dim : int, default=128
        Size of the representation.
    hidden_dim : int, default=64
        Model width; a multiple of ``n_heads``.
    depth : int, default=3
        Number of transformer layers.
    n_heads : int, default=4
        Attention heads.
    patch_size : int, default=8
        Timesteps per patch.
    dropout : float, default=0.0
        Dropout inside the transformer layers.

    Examples
    --------
    >>> enc = Transformer(in_channels=3, out_dim=16, hidden_dim=8, depth=1, n_heads=2)
    >>> enc(torch.randn(2, 3, 70)).shape
    torch.Size([2, 16])
    >>> enc.forward_features(torch.randn(2, 3, 70)).shape  # 70 -> 9 patches of 8
    torch.Size([2, 8, 9])
    >>> enc.forward_timestamps(torch.randn(2, 3, 70)).shape
    torch.Size([2, 16, 9])
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int = 128,
        hidden_dim: int = 64,
        depth: int = 3,
        n_heads: int = 4,
        patch_size: int = 8,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_sizes(
            self,
            in_channels=in_channels,
            out_dim=out_dim,
            hidden_dim=hidden_dim,
            depth=depth,
            n_heads=n_heads,
            patch_size=patch_size,
        )
        check_param(dropout, "dropout", owner=self, interval=(0, 1), closed="left")
        if hidden_dim % n_heads:
            raise ValueError(
                f"Transformer needs hidden_dim divisible by n_heads; got "
                f"hidden_dim={hidden_dim}, n_heads={n_heads}."
            )
        self.in_channels, self.out_dim = in_channels, out_dim
        self.patch_size = self.min_length = self.timestamp_stride = patch_size
        self.embed = nn.Conv1d(in_channels, hidden_dim, patch_size, stride=patch_size)
        layer = nn.TransformerEncoderLayer(
            hidden_dim,
            n_heads,
            4 * hidden_dim,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.layers = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden_dim)
        self.head = nn.Linear(hidden_dim, out_dim)

    def forward_features(self, x: Tensor) -> Tensor:
        """Patch features of shape ``(batch, hidden_dim, n_patches)``."""
        pad = -x.shape[2] % self.patch_size
        tokens = self.embed(F.pad(x, (0, pad))).transpose(1, 2)  # (batch, n, hidden)
        tokens = tokens + _sinusoid(tokens.shape[1], tokens.shape[2], tokens)
        return self.norm(self.layers(tokens)).transpose(1, 2)

    def timestamps(self, features: Tensor) -> Tensor:
        """Project every patch to ``out_dim``."""
        return self.head(features.transpose(1, 2)).transpose(1, 2)  # (b, out, n)

    def pool(self, features: Tensor) -> Tensor:
        """Mean over patches, then a linear projection."""
        return self.head(features.mean(dim=2))  # (batch, out_dim)


def _sinusoid(n: int, dim: int, like: Tensor) -> Tensor:
    """Sinusoidal position encodings of shape ``(n, dim)``."""
    position = torch.arange(n, device=like.device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, dim, 2, device=like.device, dtype=torch.float32)
        * (-math.log(10000.0) / dim)
    )
    table = torch.zeros(n, dim, device=like.device)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table.to(like.dtype)


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


#: Input values per forward pass of :func:`encode` when it picks the chunk size.
ENCODE_VALUES = 1 << 19
#: Most series per forward pass of :func:`encode`.
ENCODE_MAX_ROWS = 256


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
    (scikit-learn's ``check_methods_subset_invariance``, bit for bit).

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
            z = model(chunk) if level == "instance" else timestamps(model, chunk)
            out.append(z[: len(rows)].float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out)


def _device_of(module: nn.Module) -> torch.device:
    """Return the device of a module's first parameter (the CPU if it has none)."""
    first = next(module.parameters(), None)
    return torch.device("cpu") if first is None else first.device


def build_encoder(
    encoder: str | type[nn.Module] | nn.Module,
    in_channels: int,
    out_dim: int,
    params: dict[str, Any] | None = None,
) -> nn.Module:
    """Build an encoder from a registry name or a class; pass an instance through.

    Parameters
    ----------
    encoder : str, class or nn.Module
        A name in :data:`ENCODERS`, an encoder class, or a built module.
    in_channels : int
        Input channels.
    out_dim : int
        Representation size.
    params : dict, optional
        Extra keyword arguments for the class.

    Returns
    -------
    nn.Module

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        If ``encoder`` is neither a name, a class nor a module, or ``params`` are
        not accepted by the class.

    Examples
    --------
    >>> build_encoder("cnn", 1, 8, {"hidden_dim": 4, "depth": 1}).out_dim
    8
    """
    found = resolve_name(encoder, ENCODERS, "encoder", "encoder")
    if isinstance(found, nn.Module):
        return found
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise TypeError(
            "The 'encoder' parameter must be a name in "
            f"{sorted(ENCODERS)}, an nn.Module class or instance; got {encoder!r}."
        )
    try:
        return found(in_channels, out_dim, **(params or {}))
    except TypeError as err:
        raise TypeError(
            f"Could not build {found.__name__} with encoder_params={params!r}: {err}"
        ) from None


#: Encoders by name. ``ContrastiveEncoder(encoder=...)`` takes a name or a class.
ENCODERS: dict[str, type[Encoder]] = {"cnn": CNN, "transformer": Transformer}
