"""TS2Vec: hierarchical contrast of timestamp representations of overlapping crops."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from tscl import encoders, losses
from tscl.methods._base import Method

__all__ = ["TS2Vec"]


class TS2Vec(Method):
    """TS2Vec-style hierarchical contrastive learning (Yue et al. 2022).

    Each step crops two overlapping segments from the two views of every series
    (the same random segment lengths for the batch, a random offset per series),
    encodes every timestep and applies :class:`tscl.losses.Hierarchical` to the
    timesteps the crops share: the same timestep seen in two contexts is the
    positive. The default views mask half the timesteps at random
    (:class:`tscl.augment.Masking`), TS2Vec's only augmentation besides the
    crops; any views that keep the length and the time alignment work.

    The encoder must have ``forward_timestamps`` (tscl's encoders do). Its
    instance representation is the maximum over time of the timestamp ones for
    :class:`tscl.encoders.CNN`, as in the paper. ``ContrastiveEncoder.transform(X,
    level="timestamp")`` returns the timestamp representations.

    Parameters
    ----------
    encoder : Encoder
        An encoder with ``forward_timestamps(x) -> (batch, out_dim, time')`` and
        ``timestamp_stride``; crops are drawn in whole strides (patches).
    alpha : float, default=0.5
        Weight of the instance-wise term against the temporal one.
    temporal_unit : int, default=0
        Skip the temporal term at the finest ``temporal_unit`` scales; the
        shortest crop is ``2 ** (temporal_unit + 1)`` strides.

    References
    ----------
    .. [1] Yue et al., TS2Vec: Towards Universal Representation of Time Series,
       AAAI 2022, arXiv:2106.10466

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = TS2Vec(CNN(1, out_dim=8, hidden_dim=4, depth=1))
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    """

    def __init__(
        self, encoder: nn.Module, alpha: float = 0.5, temporal_unit: int = 0
    ) -> None:
        super().__init__()
        if not callable(getattr(encoder, "forward_timestamps", None)):
            raise TypeError(
                f"TS2Vec needs an encoder with forward_timestamps(x) -> (batch, "
                f"out_dim, time), as tscl.encoders have; {type(encoder).__name__} "
                "has none. Use encoder='cnn' or 'transformer', or add the method."
            )
        self.encoder = encoder
        self.criterion = losses.Hierarchical(alpha, temporal_unit)
        stride = int(getattr(encoder, "timestamp_stride", 1))
        self.min_length = 2 ** (temporal_unit + 1) * stride  # the shortest crop
        seed = int(torch.randint(2**62, ()))  # from the caller's seeded global RNG
        self.crops = torch.Generator().manual_seed(seed)

    def get_extra_state(self) -> Any:
        """Return the crop generator's state, so that a resumed run crops the same."""
        return {"crops": self.crops.get_state()}

    def set_extra_state(self, state: Any) -> None:
        """Restore the crop generator from :meth:`get_extra_state`."""
        self.crops.set_state(state["crops"])

    @classmethod
    def default_augmentation(cls) -> Any:
        """Half the timesteps masked at random, independently in each view."""
        from tscl import augment

        return augment.Masking(ratio=0.5, mode="binomial")

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Hierarchical loss on the overlap of two random crops."""
        if x1.shape != x2.shape:
            raise ValueError(
                "TS2Vec needs two views of the same length, aligned in time; got "
                f"{tuple(x1.shape)} and {tuple(x2.shape)}. Use augmentations that "
                "keep the length (no Crop or RandomCrop: TS2Vec crops itself)."
            )
        stride = int(getattr(self.encoder, "timestamp_stride", 1))
        units, shortest = x1.shape[2] // stride, 2 ** (self.criterion.temporal_unit + 1)
        if units < shortest:
            raise ValueError(
                f"TS2Vec needs series of at least {shortest * stride} timesteps "
                f"({shortest} x timestamp_stride {stride}) to crop; got "
                f"{x1.shape[2]}. Lower temporal_unit or use longer series."
            )
        g = self.crops
        length = int(torch.randint(shortest, units + 1, (), generator=g))
        left = int(torch.randint(units - length + 1, (), generator=g))
        right = left + length
        outer_left = int(torch.randint(left + 1, (), generator=g))
        outer_right = int(torch.randint(right, units + 1, (), generator=g))
        offset = torch.randint(
            -outer_left, units - outer_right + 1, (x1.shape[0],), generator=g
        ).to(x1.device)
        view1 = _take(x1, offset + outer_left, right - outer_left, stride)
        view2 = _take(x2, offset + left, outer_right - left, stride)
        z1 = encoders.timestamps(self.encoder, view1)[..., -length:]  # (b, d, len)
        z2 = encoders.timestamps(self.encoder, view2)[..., :length]
        return self.criterion(z1, z2)


def _take(x: Tensor, start: Tensor, length: int, stride: int) -> Tensor:
    """Per-row crops ``x[i, :, start[i] * stride : (start[i] + length) * stride]``."""
    steps = torch.arange(length * stride, device=x.device)
    index = (start[:, None] * stride + steps)[:, None, :]  # (batch, 1, length)
    return x.gather(2, index.expand(-1, x.shape[1], -1))
