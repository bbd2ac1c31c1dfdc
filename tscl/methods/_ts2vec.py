"""TS2Vec: hierarchical contrast of timestamp representations of overlapping crops."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from tscl import encoders, losses
from tscl._validation import check_count, check_param
from tscl.methods._base import Method

__all__ = ["SoftCLT", "TS2Vec"]


class TS2Vec(Method):
    """TS2Vec: hierarchical contrast of timestamp representations (Yue et al. 2022).

    As TS2Vec's code trains it: each step cuts a random window of at most
    ``max_train_length`` timesteps from the batch, then two overlapping crops
    (the same random segment lengths for the batch, a random offset per
    series), encodes every timestep of each crop and applies
    :class:`tscl.losses.Hierarchical` to the timesteps the crops share: the
    same timestep seen in two contexts is the positive. The randomness of the
    views is the encoder's: :class:`tscl.encoders.TS2VecEncoder` (this
    method's default encoder) masks half of the projected timesteps of each
    crop in training, so the default views leave the series unchanged; with an
    encoder that does not mask, the default views mask half the input
    timesteps instead (:class:`tscl.augment.Masking`). A running average of the
    weights (SWA, as TS2Vec's ``AveragedModel``) is the encoder that
    ``transform`` uses.

    Trained by :class:`tscl.ContrastiveEncoder` with its parameters left at
    ``"auto"``, it also takes TS2Vec's training settings: the ``TS2VecEncoder``
    with 320 output dimensions, batches of 8 (the incomplete last batch of a
    pass dropped), AdamW at a constant learning rate with weight decay 0.01,
    and 200 optimiser steps when the data holds at most 100,000 values, else
    600.

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
    max_train_length : int or None, default=3000
        Longer series are cut to a random window of this many timesteps at
        each step (TS2Vec's ``max_train_length``); None keeps them whole.
    weight_average : bool, default=True
        Keep the running average of the weights over every step (and the
        initial weights) as the trained encoder.
    tau_temporal : float, default=0.0
        Soft temporal targets (SoftCLT): a timestep also pulls its neighbours,
        with a weight that falls with the lag at this sharpness (see
        :class:`tscl.losses.Hierarchical`); 0 keeps TS2Vec's hard targets.
    tau_instance : float, default=0.0
        Soft instance-wise targets (SoftCLT): two series of the batch pull each
        other with weight ``2 * 0.5 * sigmoid(-tau_instance * d)``, ``d`` the
        Euclidean distance between their (standardised) series divided by
        ``sqrt(2 * channels * timesteps)``; 0 keeps TS2Vec's hard targets.
    pooled_weight : float, default=0.0
        Weight of an extra instance term (NT-Xent, temperature 0.1) between the
        representations of the two whole crops, max-pooled over time.

    References
    ----------
    .. [1] Yue et al., TS2Vec: Towards Universal Representation of Time Series,
       AAAI 2022, arXiv:2106.10466
    .. [2] Izmailov et al., Averaging Weights Leads to Wider Optima and Better
       Generalization (SWA), UAI 2018, arXiv:1803.05407
    .. [3] Lee et al., Soft Contrastive Learning for Time Series (SoftCLT),
       ICLR 2024, arXiv:2312.16424

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import TS2VecEncoder
    >>> model = TS2Vec(TS2VecEncoder(1, out_dim=8, hidden_dim=4, depth=1))
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x).shape
    torch.Size([])
    """

    default_encoder = "ts2vec"
    default_batch_size = 8
    schedule = "constant"
    weight_decay = 0.01  # AdamW's default, which TS2Vec keeps
    drop_last = True
    variable_shapes = True  # crops of random lengths

    def __init__(
        self,
        encoder: nn.Module,
        alpha: float = 0.5,
        temporal_unit: int = 0,
        max_train_length: int | None = 3000,
        weight_average: bool = True,
        tau_temporal: float = 0.0,
        tau_instance: float = 0.0,
        pooled_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if not callable(getattr(encoder, "forward_timestamps", None)):
            raise TypeError(
                f"TS2Vec needs an encoder with forward_timestamps(x) -> (batch, "
                f"out_dim, time), as tscl.encoders have; {type(encoder).__name__} "
                "has none. Use encoder='ts2vec', 'cnn' or 'transformer'."
            )
        check_param(weight_average, "weight_average", owner=self, kind=bool)
        check_param(
            tau_instance, "tau_instance", owner=self, interval=(0, None), closed="left"
        )
        check_param(
            pooled_weight,
            "pooled_weight",
            owner=self,
            interval=(0, None),
            closed="left",
        )
        self.encoder = encoder
        self.criterion = losses.Hierarchical(alpha, temporal_unit, tau_temporal)
        self.tau_instance = tau_instance
        self.pooled_weight = pooled_weight
        self.pooled = losses.NTXent(temperature=0.1)
        stride = int(getattr(encoder, "timestamp_stride", 1))
        self.min_length = 2 ** (temporal_unit + 1) * stride  # the shortest crop
        if max_train_length is not None:
            check_count(max_train_length, "max_train_length", owner=self, maximum=2**24)
            if max_train_length < self.min_length:
                raise ValueError(
                    f"max_train_length={max_train_length} is shorter than the "
                    f"shortest crop ({self.min_length} timesteps); raise it or "
                    "lower temporal_unit."
                )
        self.max_train_length = max_train_length
        self.average = None
        if weight_average:  # TS2Vec averages from the initial weights on
            self.average = torch.optim.swa_utils.AveragedModel(encoder)
            self.average.requires_grad_(False)  # follows the encoder, no gradient
            if not any(p.is_meta for p in encoder.parameters()):  # a planned build
                self.average.update_parameters(encoder)
        # from the caller's seeded global RNG (on the CPU even inside a device scope)
        seed = int(torch.randint(2**62, (), device="cpu"))
        self.crops = torch.Generator().manual_seed(seed)

    def get_extra_state(self) -> Any:
        """Return the crop generator's state, so that a resumed run crops the same."""
        return {"crops": self.crops.get_state()}

    def set_extra_state(self, state: Any) -> None:
        """Restore the crop generator from :meth:`get_extra_state`."""
        self.crops.set_state(state["crops"])

    @classmethod
    def default_augmentation(cls, encoder: nn.Module | None = None) -> Any:
        """No change when the encoder masks timesteps itself, else half masked."""
        from tscl import augment

        if float(getattr(encoder, "mask_ratio", 0.0)) > 0:
            return augment.Compose([])
        return augment.Masking(ratio=0.5, mode="binomial")

    @classmethod
    def default_budget(cls, n_samples: int, n_values: int) -> dict[str, int]:
        """TS2Vec's: 200 steps for at most 100,000 values, else 600."""
        return {"n_steps": 200 if n_values <= 100_000 else 600}

    def trained_encoder(self) -> nn.Module:
        """Return the running average of the weights (else the online encoder)."""
        return self.encoder if self.average is None else self.average.module

    def on_step_end(self, step: int, total_steps: int) -> None:
        """Add the new weights to the running average."""
        if self.average is not None:
            self.average.update_parameters(self.encoder)

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Hierarchical loss on the overlap of two random crops."""
        if x1.shape != x2.shape:
            raise ValueError(
                "TS2Vec needs two views of the same length, aligned in time; got "
                f"{tuple(x1.shape)} and {tuple(x2.shape)}. Use augmentations that "
                "keep the length (no Crop or RandomCrop: TS2Vec crops itself)."
            )
        x1, x2 = self._window(x1, x2)
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
        whole1 = encoders.timestamps(self.encoder, view1)  # (b, d, len1)
        whole2 = encoders.timestamps(self.encoder, view2)
        z1, z2 = whole1[..., -length:], whole2[..., :length]  # the shared steps
        if self.tau_instance > 0:
            loss = self.criterion(z1, z2, self._instance_weights(x1))
        else:
            loss = self.criterion(z1, z2)
        if self.pooled_weight > 0:
            pooled = self.pooled(whole1.amax(dim=2), whole2.amax(dim=2))
            loss = loss + self.pooled_weight * pooled
        return loss

    def _instance_weights(self, x: Tensor) -> Tensor:
        """SoftCLT's soft instance targets from the distances between the series."""
        flat = x.flatten(1).float()  # (batch, channels * time)
        distance = torch.cdist(flat, flat, compute_mode="donot_use_mm_for_euclid_dist")
        distance = distance / math.sqrt(2 * flat.shape[1])
        weights = torch.sigmoid(-self.tau_instance * distance)  # 2 * 0.5 * sigmoid
        return weights.fill_diagonal_(1.0)

    def _window(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        """One random window of ``max_train_length`` timesteps of both views."""
        limit = self.max_train_length
        if limit is None or x1.shape[2] <= limit:
            return x1, x2
        start = int(torch.randint(x1.shape[2] - limit + 1, (), generator=self.crops))
        return x1[..., start : start + limit], x2[..., start : start + limit]


class SoftCLT(TS2Vec):
    """TS2Vec with SoftCLT's soft temporal targets: the default method of tscl.

    :class:`TS2Vec` as its official code trains it, with one change: each
    timestep also pulls its neighbours in time, with a target that falls with
    the lag (SoftCLT's soft temporal contrast, [1]_; the weights are
    :class:`tscl.losses.Hierarchical`'s). Instance-wise targets stay hard by
    default: SoftCLT's soft instance targets (``tau_instance``) and an extra
    instance term on the pooled crops (``pooled_weight``) lowered the
    cross-validated accuracy on the training splits (see docs/methods.md, "The
    default").

    Parameters
    ----------
    encoder : Encoder
        As for :class:`TS2Vec`.
    alpha, temporal_unit, max_train_length, weight_average
        As for :class:`TS2Vec`.
    tau_temporal : float, default=1.0
        Sharpness of the soft temporal targets; larger is closer to TS2Vec.
    tau_instance, pooled_weight : float, default=0.0
        As for :class:`TS2Vec`.

    References
    ----------
    .. [1] Lee et al., Soft Contrastive Learning for Time Series (SoftCLT),
       ICLR 2024, arXiv:2312.16424
    .. [2] Yue et al., TS2Vec: Towards Universal Representation of Time Series,
       AAAI 2022, arXiv:2106.10466

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import TS2VecEncoder
    >>> model = SoftCLT(TS2VecEncoder(1, out_dim=8, hidden_dim=4, depth=1))
    >>> model.criterion.tau_temporal
    1.0
    >>> model(torch.randn(6, 1, 32), torch.randn(6, 1, 32)).shape
    torch.Size([])
    """

    def __init__(
        self,
        encoder: nn.Module,
        alpha: float = 0.5,
        temporal_unit: int = 0,
        max_train_length: int | None = 3000,
        weight_average: bool = True,
        tau_temporal: float = 1.0,
        tau_instance: float = 0.0,
        pooled_weight: float = 0.0,
    ) -> None:
        super().__init__(
            encoder,
            alpha=alpha,
            temporal_unit=temporal_unit,
            max_train_length=max_train_length,
            weight_average=weight_average,
            tau_temporal=tau_temporal,
            tau_instance=tau_instance,
            pooled_weight=pooled_weight,
        )


def _take(x: Tensor, start: Tensor, length: int, stride: int) -> Tensor:
    """Per-row crops ``x[i, :, start[i] * stride : (start[i] + length) * stride]``."""
    steps = torch.arange(length * stride, device=x.device)
    index = (start[:, None] * stride + steps)[:, None, :]  # (batch, 1, length)
    return x.gather(2, index.expand(-1, x.shape[1], -1))
