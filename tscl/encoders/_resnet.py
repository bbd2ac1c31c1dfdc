"""A strided residual 1-D CNN: the time axis halves at every stage, as in ECG work."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from tscl._validation import check_choice
from tscl.encoders._base import Encoder, _check_sizes

__all__ = ["ResNet1D"]


class ResNet1D(Encoder):
    """Residual 1-D CNN whose stages halve the time axis, with batch norm.

    The family of networks that classify ECG rhythm from raw signals [1]_ [2]_:
    a stem convolution (kernel 15, stride 2) to ``hidden_dim`` channels, then
    ``depth`` residual stages, each two convolutions of ``kernel_size`` with
    batch norm and ReLU, the first of stride 2 (the skip path is a strided 1x1
    convolution). The width doubles every second stage. A 1x1 projection gives
    one ``out_dim`` vector per ``2 ** (depth + 1)`` input timesteps; the
    representation is their mean (or maximum) over time, so any length works
    and a long record is summarised as a whole.

    Halving the time axis makes it cheap: at 100 Hz a 10 s window costs about
    40 MFLOP with the defaults, a twentieth of a same-width dilated CNN at full
    resolution. The receptive field, ``15 + (kernel_size - 1) * 3 * (2 ** (depth
    + 1) - 2)`` timesteps (1,131 with the defaults, 11 s at 100 Hz), spans
    several heartbeats, which rhythm (RR irregularity) needs.

    Batch norm uses batch statistics in training only: in eval mode (``transform``)
    each series is encoded on its own.

    Parameters
    ----------
    in_channels : int
        Number of input channels.
    out_dim : int, default=128
        Size of the representation.
    hidden_dim : int, default=32
        Channels of the stem and the first two stages.
    depth : int, default=5
        Residual stages, each halving the time axis.
    kernel_size : int, default=7
        Odd kernel size of the stage convolutions.
    pooling : {"mean", "max"}, default="mean"
        Reduction over time of the per-timestep projections.

    References
    ----------
    .. [1] Hannun et al., Cardiologist-level arrhythmia detection and
       classification in ambulatory electrocardiograms using a deep neural
       network, Nature Medicine 25, 2019.
    .. [2] Ribeiro et al., Automatic diagnosis of the 12-lead ECG using a deep
       neural network, Nature Communications 11, 2020.

    Examples
    --------
    >>> import torch
    >>> enc = ResNet1D(in_channels=1, out_dim=16, hidden_dim=8, depth=3)
    >>> enc(torch.randn(4, 1, 1000)).shape
    torch.Size([4, 16])
    >>> enc.timestamp_stride, enc.forward_timestamps(torch.randn(4, 1, 1000)).shape
    (16, torch.Size([4, 16, 63]))
    """

    POOLINGS = ("mean", "max")

    def __init__(
        self,
        in_channels: int,
        out_dim: int = 128,
        hidden_dim: int = 32,
        depth: int = 5,
        kernel_size: int = 7,
        pooling: str = "mean",
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
            raise ValueError(f"ResNet1D needs an odd kernel_size; got {kernel_size}.")
        if depth > 12:
            raise ValueError(
                f"ResNet1D halves the time axis {depth} times; depth must be at "
                "most 12 (a stride of 8192 timesteps)."
            )
        check_choice(pooling, "pooling", self.POOLINGS, owner=self)
        self.in_channels, self.out_dim, self.pooling = in_channels, out_dim, pooling
        self.timestamp_stride = self.min_length = 2 ** (depth + 1)
        self.stem = nn.Sequential(
            nn.Conv1d(in_channels, hidden_dim, 15, stride=2, padding=7, bias=False),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(inplace=True),
        )
        widths = [hidden_dim * 2 ** (i // 2) for i in range(depth)]
        self.stages = nn.Sequential(
            *(
                _StridedBlock(c_in, c_out, kernel_size)
                for c_in, c_out in zip([hidden_dim, *widths[:-1]], widths, strict=True)
            )
        )
        self.head = nn.Conv1d(widths[-1], out_dim, 1)

    def forward_features(self, x: Tensor) -> Tensor:
        """Features of shape ``(batch, channels, ceil(time / timestamp_stride))``."""
        return self.stages(self.stem(x))

    def timestamps(self, features: Tensor) -> Tensor:
        """Project every step to ``out_dim``."""
        return self.head(features)  # (batch, out_dim, time')

    def pool(self, features: Tensor) -> Tensor:
        """Project per step, then take the mean (or maximum) over time."""
        steps = self.timestamps(features)  # (batch, out_dim, time')
        if self.pooling == "max":
            return steps.max(dim=2).values
        return steps.mean(dim=2)  # (batch, out_dim)


class _StridedBlock(nn.Module):
    """Two convolutions with batch norm, the first of stride 2, and a skip path."""

    def __init__(self, channels_in: int, channels: int, kernel: int) -> None:
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv1d(channels_in, channels, kernel, 2, pad, bias=False)
        self.norm1 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel, 1, pad, bias=False)
        self.norm2 = nn.BatchNorm1d(channels)
        self.skip = nn.Sequential(
            nn.Conv1d(channels_in, channels, 1, 2, bias=False),
            nn.BatchNorm1d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = self.skip(x)  # (batch, channels, ceil(time / 2))
        x = F.relu(self.norm1(self.conv1(x)), inplace=True)
        x = self.norm2(self.conv2(x))
        return F.relu(x + residual, inplace=True)
