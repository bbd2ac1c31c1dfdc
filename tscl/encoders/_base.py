"""The ``Encoder`` base class and the residual block the convolutional ones share."""

from __future__ import annotations

import inspect
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from tscl._validation import MAX_SIZE, check_count, check_tensor

__all__ = ["Encoder"]


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
    #: Timesteps on each side of a timestep that its timestamp representation
    #: depends on, for encoders whose instance representation is the maximum of
    #: their timestamp ones over time; None for the others (e.g. attention over
    #: the whole series). :func:`tscl.encoders.encode` cuts series longer than
    #: ``ENCODE_STEPS`` in overlapping pieces for encoders that give it.
    receptive_radius: int | None = None

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


#: Upper bounds of encoder sizes, checked before anything is built: a depth of
#: 200,000 or a kernel of a million would take minutes or all memory to build.
#: Sizes not named here are bounded by ``MAX_SIZE``.
SIZE_LIMITS = {"depth": 64, "kernel_size": 1025, "n_heads": 256}


def _check_sizes(owner: nn.Module, **sizes: Any) -> None:
    """Check that every size is an integer from 1 to its limit (SIZE_LIMITS)."""
    for name, value in sizes.items():
        check_count(value, name, owner=owner, maximum=SIZE_LIMITS.get(name, MAX_SIZE))


class _DilatedBlock(nn.Module):
    """Two dilated convolutions with GELU and a residual connection."""

    def __init__(
        self,
        channels_in: int,
        channels: int,
        dilation: int,
        kernel: int,
        project: bool = False,
    ) -> None:
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv1 = nn.Conv1d(
            channels_in, channels, kernel, padding=pad, dilation=dilation
        )
        self.conv2 = nn.Conv1d(
            channels, channels, kernel, padding=pad, dilation=dilation
        )
        self.skip = (
            nn.Conv1d(channels_in, channels, 1)
            if channels_in != channels or project
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.skip is None else self.skip(x)
        x = _dilated(self.conv1, F.gelu(x))
        x = _dilated(self.conv2, F.gelu(x))
        return x + residual


def _dilated(conv: nn.Conv1d, x: Tensor) -> Tensor:
    """Apply a "same"-padded dilated ``conv``: its centre tap alone when it can.

    When the dilation is at least the series' length, every tap but the centre
    one reads the zero padding at every timestep, so the convolution equals its
    centre tap alone (a 1x1 convolution): the same result for a third of the
    work with kernel 3. TS2Vec's deepest blocks (dilations 256 to 1024) are
    such for series shorter than their dilation, as most training crops are.
    The gradient of the other taps is zero either way.
    """
    if conv.dilation[0] < x.shape[-1] or conv.kernel_size[0] == 1:
        return conv(x)
    centre = conv.kernel_size[0] // 2
    return F.conv1d(x, conv.weight[:, :, centre : centre + 1], conv.bias)
