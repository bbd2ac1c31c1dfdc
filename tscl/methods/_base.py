"""The ``Method`` base class and the heads and momentum helpers methods share."""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from tscl._validation import check_choice, check_param

__all__ = [
    "Method",
    "MomentumTarget",
    "mlp",
    "momentum_target",
    "projection_head",
]


def projection_head(
    in_dim: int, out_dim: int, hidden_dim: int | None = None
) -> nn.Module:
    """Two-layer MLP ``Linear -> ReLU -> Linear`` used on top of the encoder.

    Parameters
    ----------
    in_dim : int
        Encoder output size.
    out_dim : int
        Projection size.
    hidden_dim : int, optional
        Hidden width; defaults to ``in_dim``.

    Returns
    -------
    nn.Module

    Examples
    --------
    >>> projection_head(16, 8)
    Sequential(
      (0): Linear(in_features=16, out_features=16, bias=True)
      (1): ReLU(inplace=True)
      (2): Linear(in_features=16, out_features=8, bias=True)
    )
    """
    hidden = hidden_dim or in_dim
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim)
    )


def mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Module:
    """``Linear -> BatchNorm -> ReLU -> Linear``: BYOL's projector and predictor.

    Parameters
    ----------
    in_dim, hidden_dim, out_dim : int
        Input, hidden and output sizes.

    Returns
    -------
    nn.Module

    Examples
    --------
    >>> mlp(16, 32, 8)(torch.randn(4, 16)).shape
    torch.Size([4, 8])
    """
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.BatchNorm1d(hidden_dim),
        nn.ReLU(inplace=True),
        nn.Linear(hidden_dim, out_dim),
    )


class MomentumTarget(nn.Module):
    """A frozen copy of a network, updated as an exponential moving average.

    After each optimiser step, ``update(online, step, total_steps)`` sets
    ``target = m * target + (1 - m) * online``. With ``schedule="cosine"`` the
    momentum rises from ``momentum`` at the first step to 1 at the last, as in
    BYOL; ``"constant"`` keeps it fixed, as in MoCo v2. The copy never receives
    a gradient.

    Parameters
    ----------
    online : nn.Module
        The network to follow; it is deep-copied.
    momentum : float, default=0.99
        Base momentum in [0, 1].
    schedule : {"cosine", "constant"}, default="cosine"
        How the momentum changes over training.

    References
    ----------
    .. [1] Grill et al., BYOL, NeurIPS 2020, arXiv:2006.07733
    .. [2] He et al., MoCo, CVPR 2020, arXiv:1911.05722

    Examples
    --------
    >>> online = nn.Linear(3, 2)
    >>> target = MomentumTarget(online, momentum=0.5, schedule="constant")
    >>> with torch.no_grad():
    ...     _ = online.weight.add_(1.0)
    >>> target.update(online, step=1, total_steps=10)
    >>> bool(torch.allclose(target.net.weight, online.weight - 0.5))
    True
    """

    SCHEDULES: ClassVar[tuple[str, ...]] = ("cosine", "constant")

    def __init__(
        self, online: nn.Module, momentum: float = 0.99, schedule: str = "cosine"
    ) -> None:
        super().__init__()
        check_param(momentum, "momentum", owner=self, interval=(0, 1), closed="both")
        check_choice(schedule, "schedule", self.SCHEDULES, owner=self)
        self.momentum = momentum
        self.schedule = schedule
        self.net = copy.deepcopy(online)
        self.net.requires_grad_(False)

    def current_momentum(self, step: int, total_steps: int) -> float:
        """Momentum used after ``step`` of ``total_steps``."""
        if self.schedule == "constant" or total_steps <= 1:
            return self.momentum
        progress = min(max((step - 1) / (total_steps - 1), 0.0), 1.0)
        return 1 - (1 - self.momentum) * (math.cos(math.pi * progress) + 1) / 2

    @torch.no_grad()
    def update(self, online: nn.Module, step: int, total_steps: int) -> None:
        """Move the copy towards ``online`` by the momentum of this step."""
        m = self.current_momentum(step, total_steps)
        target = list(self.net.parameters()) + list(self.net.buffers())
        source = list(online.parameters()) + list(online.buffers())
        pairs = zip(target, source, strict=True)
        floats = [(t, s) for t, s in pairs if t.is_floating_point()]
        torch._foreach_mul_([t for t, _ in floats], m)
        torch._foreach_add_([t for t, _ in floats], [s for _, s in floats], alpha=1 - m)

    def forward(self, x: Tensor) -> Tensor:
        """Run the copy without building a graph."""
        with torch.no_grad():
            return self.net(x)


def momentum_target(
    online: nn.Module, momentum: Any, momentum_schedule: Any, owner: object
) -> MomentumTarget:
    """Build a method's :class:`MomentumTarget`, checking its schedule by name.

    The message names ``momentum_schedule``, the method's keyword, not the
    target's ``schedule``.
    """
    check_choice(
        momentum_schedule, "momentum_schedule", MomentumTarget.SCHEDULES, owner=owner
    )
    return MomentumTarget(online, momentum, momentum_schedule)


class Method(nn.Module):
    """Base class of self-supervised methods.

    A method owns its encoder and heads. ``forward(x1, x2, labels=None)`` returns
    the loss for two views of a batch, ``on_step_end(step, total_steps)`` runs
    after each optimiser step (momentum updates), and ``encoder`` is what
    downstream code uses.

    Attributes
    ----------
    label_use : {"ignored", "optional", "required"}
        Whether ``forward`` uses class labels: ``ContrastiveEncoder.fit(X, y)``
        passes ``y`` to methods whose ``label_use`` is not ``"ignored"``, and
        refuses to fit a ``"required"`` one without ``y``.
    min_length : int
        The shortest views the method trains on (1 unless it crops); the
        estimator refuses shorter series before training.
    default_encoder : str
        The encoder the estimator builds when its ``encoder`` is ``"auto"``.
    default_batch_size : int
        The estimator's batch size when its ``batch_size`` is ``"auto"``.
    schedule : {"cosine", "constant"}
        The learning-rate schedule the estimator trains with.
    weight_decay : float
        AdamW's weight decay when the estimator trains it.
    drop_last : bool
        Whether the estimator drops the incomplete last batch of every pass.
    group_use : bool
        Whether ``forward`` takes ``groups`` (the recording or patient of each
        series): ``ContrastiveEncoder.fit(X, groups=g)`` refuses methods that
        do not.
    variable_shapes : bool
        Whether the tensors ``forward`` encodes change shape from step to step
        (random crops); ``compile=True`` then compiles for dynamic shapes
        instead of once per shape.
    """

    encoder: nn.Module
    label_use: ClassVar[str] = "ignored"
    min_length: int = 1
    default_encoder: ClassVar[str] = "cnn"
    default_batch_size: ClassVar[int] = 64
    schedule: ClassVar[str] = "cosine"
    weight_decay: ClassVar[float] = 1e-4
    drop_last: ClassVar[bool] = False
    group_use: ClassVar[bool] = False
    variable_shapes: ClassVar[bool] = False

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Return the training loss for two views of one batch."""
        raise NotImplementedError  # pragma: no cover

    def on_step_end(self, step: int, total_steps: int) -> None:
        """Update state outside the gradient after each optimiser step."""

    @classmethod
    def default_augmentation(cls, encoder: nn.Module | None = None) -> Any:
        """Return the views used when the estimator's ``augment`` is None.

        Parameters
        ----------
        encoder : nn.Module, optional
            The encoder the method trains, for methods whose views depend on it.

        Returns
        -------
        Augmentation
            :func:`tscl.augment.default_augmentation` unless a method overrides it.
        """
        from tscl import augment

        return augment.default_augmentation()

    @classmethod
    def default_budget(cls, n_samples: int, n_values: int) -> dict[str, int]:
        """Return the training budget when the estimator's ``n_epochs`` is "auto".

        Parameters
        ----------
        n_samples : int
            Series in the training data.
        n_values : int
            Values in it (series x channels x timesteps).

        Returns
        -------
        dict
            ``{"n_epochs": k}`` (passes over the data) or ``{"n_steps": k}``
            (optimiser steps, whatever the data's size); 50 epochs here.
        """
        return {"n_epochs": 50}

    def trained_encoder(self) -> nn.Module:
        """Return the encoder that ``transform`` uses after training.

        The online encoder, unless a method keeps another one (TS2Vec's running
        average of the weights).

        Returns
        -------
        nn.Module
        """
        return self.encoder
