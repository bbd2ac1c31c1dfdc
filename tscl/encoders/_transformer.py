"""A transformer over patches of the series."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tscl._validation import check_param
from tscl.encoders._base import Encoder, _check_sizes

__all__ = ["Transformer"]


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
