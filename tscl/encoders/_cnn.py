"""Dilated residual 1-D CNNs: tscl's ``CNN`` and TS2Vec's encoder."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tscl._validation import check_param
from tscl.encoders._base import Encoder, _check_sizes, _DilatedBlock

__all__ = ["CNN", "TS2VecEncoder"]


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
        self.receptive_radius = (kernel_size - 1) * (2**depth - 1)

    def forward_features(self, x: Tensor) -> Tensor:
        """Per-timestep features of shape ``(batch, hidden_dim, time)``."""
        return self.blocks(self.input(x))

    def timestamps(self, features: Tensor) -> Tensor:
        """Project every timestep to ``out_dim``."""
        return self.head(features)  # (batch, out_dim, time)

    def pool(self, features: Tensor) -> Tensor:
        """Project per timestep, then take the maximum over time."""
        return self.timestamps(features).max(dim=2).values  # (batch, out_dim)


class TS2VecEncoder(Encoder):
    """TS2Vec's encoder: masked input projection and dilated residual blocks.

    The network of Yue et al. (2022), as their code builds it: a per-timestep
    linear projection of the input to ``hidden_dim`` channels (a 1x1
    convolution); in training, each timestep of the projection is kept with
    probability ``1 - mask_ratio`` and zeroed otherwise (TS2Vec's binomial
    timestamp masking, drawn from torch's global generator); ``depth`` residual
    blocks of two GELU + dilated convolutions (dilation ``2**i``); a last block
    of the same kind (dilation ``2**depth``) to ``out_dim`` channels with a 1x1
    projection on its residual, which gives the timestamp representations;
    dropout on them in training. The instance representation is their maximum
    over time (``encoding_window="full_series"``).

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_dim : int, default=320
        Size of the representation (TS2Vec's ``output_dims``).
    hidden_dim : int, default=64
        Channels of the hidden blocks (``hidden_dims``).
    depth : int, default=10
        Hidden blocks; one more maps to ``out_dim`` (``depth``).
    kernel_size : int, default=3
        Odd kernel size of every dilated convolution.
    mask_ratio : float, default=0.5
        Share of the projected timesteps zeroed in training; 0 turns masking off.
    dropout : float, default=0.1
        Dropout on the timestamp representations in training.

    References
    ----------
    .. [1] Yue et al., TS2Vec: Towards Universal Representation of Time Series,
       AAAI 2022, arXiv:2106.10466

    Examples
    --------
    >>> enc = TS2VecEncoder(in_channels=2, out_dim=16, hidden_dim=8, depth=2)
    >>> enc.eval()(torch.randn(4, 2, 50)).shape
    torch.Size([4, 16])
    >>> enc.forward_timestamps(torch.randn(4, 2, 50)).shape
    torch.Size([4, 16, 50])
    >>> sum(p.numel() for p in TS2VecEncoder(1).parameters())  # TS2Vec's 637,248
    637248
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int = 320,
        hidden_dim: int = 64,
        depth: int = 10,
        kernel_size: int = 3,
        mask_ratio: float = 0.5,
        dropout: float = 0.1,
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
            raise ValueError(
                f"TS2VecEncoder needs an odd kernel_size; got {kernel_size}."
            )
        for name, value in (("mask_ratio", mask_ratio), ("dropout", dropout)):
            check_param(value, name, owner=self, interval=(0, 1), closed="left")
        self.in_channels, self.out_dim = in_channels, out_dim
        self.mask_ratio = mask_ratio
        self.input = nn.Conv1d(in_channels, hidden_dim, 1)
        self.blocks = nn.Sequential(
            *(
                _DilatedBlock(hidden_dim, hidden_dim, 2**i, kernel_size)
                for i in range(depth)
            )
        )
        self.last = _DilatedBlock(
            hidden_dim, out_dim, 2**depth, kernel_size, project=True
        )
        self.dropout = nn.Dropout(dropout)
        self.receptive_radius = (kernel_size - 1) * (2 ** (depth + 1) - 1)

    def forward_features(self, x: Tensor) -> Tensor:
        """Per-timestep features of the hidden blocks, ``(batch, hidden_dim, time)``."""
        h = self.input(x)  # (batch, hidden, time)
        if self.training and self.mask_ratio > 0:
            draw = torch.rand(h.shape[0], 1, h.shape[2], device=h.device)
            h = h * (draw >= self.mask_ratio).to(h.dtype)  # whole timesteps
        return self.blocks(h)

    def timestamps(self, features: Tensor) -> Tensor:
        """Run the last block: one ``out_dim`` vector per timestep."""
        return self.dropout(self.last(features))  # (batch, out_dim, time)

    def pool(self, features: Tensor) -> Tensor:
        """Take the maximum over time of the timestamp representations."""
        return self.timestamps(features).max(dim=2).values  # (batch, out_dim)
