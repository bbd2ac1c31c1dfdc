"""TS2Vec's training configuration, written in plain PyTorch after the official code.

The official code is github.com/yuezhihan/ts2vec (``ts2vec.py``,
``models/encoder.py``, ``models/dilated_conv.py``, ``models/losses.py``,
``utils.py``). This module repeats, without its data handling:

* :class:`TSEncoder`: a linear input layer to ``hidden_dim`` channels, a
  binomial timestamp mask of the latent during training, ``depth + 1`` residual
  blocks (:class:`ConvBlock`) of two GELU + dilated convolutions of kernel 3
  with dilation ``2**i`` and channels ``[hidden_dim] * depth + [out_dim]``, a
  1x1 projection on the residual where the channels change and on the last
  block, dropout 0.1 on the output;
* the per-iteration random cropping of ``TS2Vec.fit`` (:func:`draw_crops`,
  :func:`take_per_row`): a random window of ``max_train_length`` first when the
  series are longer, then the overlap's length ``crop_l``, two overlapping
  crops and an offset per series;
* :func:`hierarchical_contrastive_loss`: instance and temporal terms,
  max-pooled by 2 over time per level;
* AdamW, the running (SWA) average of the weights updated after every step,
  and ``loss.item()`` per step (:class:`TS2VecReference`).

Every random draw (crops, masks, the order of the batches) comes from one
seeded ``numpy.random.RandomState`` and dropout from a seeded torch generator,
so a reference built with the same seed does the same work.

Used by ``throughput.py`` (training speed at tscl's batch shapes) and
``throughput_accuracy.py`` (UCR accuracy with TS2Vec's UCR settings).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ConvBlock",
    "SamePadConv",
    "TS2VecReference",
    "TSEncoder",
    "draw_crops",
    "hierarchical_contrastive_loss",
    "instance_contrastive_loss",
    "take_per_row",
    "temporal_contrastive_loss",
]

# ------------------------------------------------------------------- encoder


class SamePadConv(nn.Module):
    """TS2Vec's convolution of kernel 3 with 'same' padding."""

    def __init__(self, channels_in: int, channels_out: int, dilation: int) -> None:
        super().__init__()
        field = 2 * dilation + 1  # kernel 3
        self.conv = nn.Conv1d(
            channels_in, channels_out, 3, padding=field // 2, dilation=dilation
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)  # an odd field: nothing to remove


class ConvBlock(nn.Module):
    """TS2Vec's residual block: GELU, conv, GELU, conv, plus the residual."""

    def __init__(self, channels_in: int, channels_out: int, dilation: int, final: bool):
        super().__init__()
        self.conv1 = SamePadConv(channels_in, channels_out, dilation)
        self.conv2 = SamePadConv(channels_out, channels_out, dilation)
        self.projector = (
            nn.Conv1d(channels_in, channels_out, 1)
            if channels_in != channels_out or final
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.projector is None else self.projector(x)
        x = self.conv2(F.gelu(self.conv1(F.gelu(x))))
        return x + residual


class TSEncoder(nn.Module):
    """TS2Vec's encoder: input (batch, time, channels), output (batch, time, out_dim).

    Parameters
    ----------
    in_channels : int
        Channels of the input (TS2Vec's ``input_dims``).
    out_dim : int, default=320
        Channels of the output (``output_dims``).
    hidden_dim : int, default=64
        Channels of the hidden blocks (``hidden_dims``).
    depth : int, default=10
        Hidden blocks; one more block maps to ``out_dim``.
    """

    def __init__(
        self,
        in_channels: int,
        out_dim: int = 320,
        hidden_dim: int = 64,
        depth: int = 10,
    ) -> None:
        super().__init__()
        widths = [hidden_dim] * depth + [out_dim]
        self.input_fc = nn.Linear(in_channels, hidden_dim)
        self.feature_extractor = nn.Sequential(
            *(
                ConvBlock(
                    widths[i - 1] if i else hidden_dim, w, 2**i, i == len(widths) - 1
                )
                for i, w in enumerate(widths)
            )
        )
        self.repr_dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor, rng: np.random.RandomState | None = None) -> Tensor:
        """Encode ``x``; in training mode ``rng`` draws the timestamp mask."""
        nan_mask = ~x.isnan().any(dim=-1)
        x = x.masked_fill(~nan_mask[..., None], 0)
        x = self.input_fc(x)  # (batch, time, hidden)
        if self.training:  # binomial timestamp mask, drawn on the host as TS2Vec
            assert rng is not None
            draw = rng.binomial(1, 0.5, size=(x.size(0), x.size(1)))
            mask = torch.from_numpy(draw).to(torch.bool).to(x.device) & nan_mask
            x = x.masked_fill(~mask[..., None], 0)
        x = self.feature_extractor(x.transpose(1, 2))  # (batch, out_dim, time)
        return self.repr_dropout(x).transpose(1, 2)  # (batch, time, out_dim)


# -------------------------------------------------------------------- losses


def _pairwise_logits(sim: Tensor) -> Tensor:
    """TS2Vec's logits: the similarity matrix without its diagonal."""
    logits = torch.tril(sim, diagonal=-1)[:, :, :-1]
    logits += torch.triu(sim, diagonal=1)[:, :, 1:]
    return -F.log_softmax(logits, dim=-1)


def instance_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """TS2Vec's instance term: series against series, at each time step."""
    B = z1.size(0)
    if B == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=0).transpose(0, 1)  # (time, 2B, dim)
    logits = _pairwise_logits(z @ z.transpose(1, 2))  # (time, 2B, 2B - 1)
    i = torch.arange(B, device=z1.device)
    return (logits[:, i, B + i - 1].mean() + logits[:, B + i, i].mean()) / 2


def temporal_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """TS2Vec's temporal term: time step against time step, in each series."""
    T = z1.size(1)
    if T == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=1)  # (batch, 2T, dim)
    logits = _pairwise_logits(z @ z.transpose(1, 2))  # (batch, 2T, 2T - 1)
    t = torch.arange(T, device=z1.device)
    return (logits[:, t, T + t - 1].mean() + logits[:, T + t, t].mean()) / 2


def hierarchical_contrastive_loss(
    z1: Tensor, z2: Tensor, alpha: float = 0.5, temporal_unit: int = 0
) -> Tensor:
    """TS2Vec's loss on (batch, time, dim) representations of the same steps.

    Parameters
    ----------
    z1, z2 : Tensor of shape (batch, time, dim)
        Representations of the two crops on their common time steps.
    alpha : float, default=0.5
        Weight of the instance term; the temporal term has ``1 - alpha``.
    temporal_unit : int, default=0
        The temporal term starts at this level of the max-pooling.

    Returns
    -------
    Tensor
        The mean of the terms over the levels, a scalar.
    """
    loss, d = z1.new_zeros(()), 0
    while z1.size(1) > 1:
        loss = loss + alpha * instance_contrastive_loss(z1, z2)
        if d >= temporal_unit:
            loss = loss + (1 - alpha) * temporal_contrastive_loss(z1, z2)
        d += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    if z1.size(1) == 1:
        loss = loss + alpha * instance_contrastive_loss(z1, z2)
        d += 1
    return loss / d


# --------------------------------------------------------------------- crops


def take_per_row(x: Tensor, start: np.ndarray, length: int) -> Tensor:
    """Rows ``x[i, start[i] : start[i] + length]`` of a (batch, time, ch) tensor."""
    index = torch.as_tensor(start[:, None] + np.arange(length), device=x.device)
    return x[torch.arange(len(start), device=x.device)[:, None], index]


def draw_crops(
    rng: np.random.RandomState, batch: int, ts_l: int, temporal_unit: int
) -> tuple[int, np.ndarray, int, np.ndarray, int]:
    """Draw TS2Vec's two overlapping random crops of a batch.

    Parameters
    ----------
    rng : numpy.random.RandomState
        The source of the five draws, in ``TS2Vec.fit``'s order.
    batch : int
        Series in the batch (one offset each).
    ts_l : int
        Their length.
    temporal_unit : int
        The overlap has at least ``2 ** (temporal_unit + 1)`` steps.

    Returns
    -------
    crop_l : int
        The overlap's length: the last ``crop_l`` steps of crop 1 are the first
        ``crop_l`` steps of crop 2.
    start1 : ndarray of shape (batch,)
        Where crop 1 starts in each series.
    length1 : int
        Crop 1's length.
    start2 : ndarray of shape (batch,)
        Where crop 2 starts in each series.
    length2 : int
        Crop 2's length.
    """
    crop_l = rng.randint(low=2 ** (temporal_unit + 1), high=ts_l + 1)
    crop_left = rng.randint(ts_l - crop_l + 1)
    crop_right = crop_left + crop_l
    crop_eleft = rng.randint(crop_left + 1)
    crop_eright = rng.randint(low=crop_right, high=ts_l + 1)
    crop_offset = rng.randint(low=-crop_eleft, high=ts_l - crop_eright + 1, size=batch)
    return (
        crop_l,
        crop_offset + crop_eleft,
        crop_right - crop_eleft,
        crop_offset + crop_left,
        crop_eright - crop_left,
    )


# ----------------------------------------------------------------- the model


class TS2VecReference:
    """TS2Vec's training step, fit and instance encoding, with its UCR defaults.

    Parameters
    ----------
    in_channels : int
        Channels of the series (TS2Vec's ``input_dims``).
    device : str, default="cpu"
        Where the networks and batches live.
    seed : int, default=0
        Seeds the weights (a forked torch generator) and :attr:`rng`.
    out_dim : int, default=320
        Representation size (``output_dims``).
    hidden_dim : int, default=64
        Hidden channels of the encoder (``hidden_dims``).
    depth : int, default=10
        Hidden residual blocks of the encoder (``depth``).
    learning_rate : float, default=1e-3
        AdamW's learning rate (``lr``).
    max_train_length : int, default=3000
        Longer series are cut to a random window of this length at each step
        (``max_train_length``, 3000 in TS2Vec's ``train.py``).
    temporal_unit : int, default=0
        The loss's temporal term skips the ``temporal_unit`` finest scales
        (``temporal_unit``).

    Attributes
    ----------
    rng : numpy.random.RandomState
        The source of the crops, the masks and the batch order.
    net : torch.optim.swa_utils.AveragedModel
        The running average of the weights, which :meth:`encode` uses.
    crop_fractions : list of float
        ``crop_l`` over the series length, one per :meth:`step`.

    Examples
    --------
    >>> reference = TS2VecReference(1, seed=0)
    >>> X = np.random.default_rng(0).standard_normal((16, 40, 1), dtype=np.float32)
    >>> reference.fit(X, batch_size=8, n_iters=2)
    >>> reference.encode(X).shape
    (16, 320)
    """

    def __init__(
        self,
        in_channels: int,
        device: str = "cpu",
        seed: int = 0,
        *,
        out_dim: int = 320,
        hidden_dim: int = 64,
        depth: int = 10,
        learning_rate: float = 1e-3,
        max_train_length: int = 3000,
        temporal_unit: int = 0,
    ) -> None:
        self.device, self.max_train_length = device, max_train_length
        self.temporal_unit = temporal_unit
        self.rng = np.random.RandomState(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._net = TSEncoder(in_channels, out_dim, hidden_dim, depth).to(device)
        self.net = torch.optim.swa_utils.AveragedModel(self._net)
        self.net.update_parameters(self._net)
        self.optimizer = torch.optim.AdamW(self._net.parameters(), lr=learning_rate)
        self.crop_fractions: list[float] = []

    def step(self, x: Tensor) -> float:
        """One iteration of ``TS2Vec.fit`` on a (batch, time, channels) batch.

        Parameters
        ----------
        x : Tensor of shape (batch, time, channels)
            The batch, on any device.

        Returns
        -------
        float
            The step's loss (``loss.item()``, which waits for the device).
        """
        rng, unit = self.rng, self.temporal_unit
        if x.size(1) > self.max_train_length:
            offset = rng.randint(x.size(1) - self.max_train_length + 1)
            x = x[:, offset : offset + self.max_train_length]
        x = x.to(self.device)
        crop_l, start1, length1, start2, length2 = draw_crops(
            rng, x.size(0), x.size(1), unit
        )
        self.crop_fractions.append(crop_l / x.size(1))
        self.optimizer.zero_grad()
        out1 = self._net(take_per_row(x, start1, length1), rng)[:, -crop_l:]
        out2 = self._net(take_per_row(x, start2, length2), rng)[:, :crop_l]
        loss = hierarchical_contrastive_loss(out1, out2, temporal_unit=unit)
        loss.backward()
        self.optimizer.step()
        self.net.update_parameters(self._net)
        return loss.item()

    def fit(self, X: np.ndarray, batch_size: int, n_iters: int) -> None:
        """Train for ``n_iters`` steps over shuffled batches of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_series, time, channels)
            The training series.
        batch_size : int
            Series per step (at most ``n_series``); each pass over ``X`` drops
            the incomplete last batch, as TS2Vec's ``DataLoader`` does.
        n_iters : int
            Steps in all (TS2Vec's UCR setting: 200, or 600 above 100,000
            values).
        """
        data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        batch_size = min(batch_size, len(data))
        self._net.train()
        with torch.random.fork_rng(devices=[]):  # dropout draws
            torch.manual_seed(int(self.rng.randint(2**31 - 1)))
            done = 0
            while done < n_iters:
                order = self.rng.permutation(len(data))
                for start in range(0, len(data) - batch_size + 1, batch_size):
                    if done == n_iters:
                        break
                    self.step(data[order[start : start + batch_size]])
                    done += 1

    def encode(self, X: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """Instance representations: the averaged net, max-pooled over time.

        Parameters
        ----------
        X : ndarray of shape (n_series, time, channels)
            The series to encode, float32.
        batch_size : int, default=8
            Series per forward pass.

        Returns
        -------
        ndarray of shape (n_series, out_dim)
            One representation per series (TS2Vec's
            ``encode(..., encoding_window="full_series")``).
        """
        self.net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                x = torch.from_numpy(X[start : start + batch_size]).float()
                z = self.net(x.to(self.device))  # (batch, time, out_dim), no mask
                out.append(z.max(dim=1).values.cpu().numpy())
        return np.concatenate(out)
