"""The settings of a training run and what every training loop shares.

:class:`TrainConfig` groups the settings (budget, optimiser, precision,
checkpoints) and checks them in one place; :func:`make_optimizer` is the one
optimiser and schedule, :func:`check_loss` the one NaN check and
:class:`TrainingError` the one error of pretraining (:func:`tscl.training.train`)
and fine-tuning (:class:`tscl.evaluation.EncoderClassifier`).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from tscl import checkpoint as checkpoints
from tscl._validation import check_choice, check_count, check_param

__all__ = [
    "PRECISIONS",
    "SCHEDULES",
    "TrainConfig",
    "TrainingError",
    "check_loss",
    "make_optimizer",
]

#: The largest learning rate and weight decay a run takes: larger ones overflow
#: the optimizer's float arithmetic, and no recipe uses anything near them.
MAX_LEARNING_RATE = 10.0
MAX_WEIGHT_DECAY = 100.0

#: Learning-rate schedules: a cosine decay to 0 over the run, or a constant rate.
SCHEDULES = ("cosine", "constant")

#: Autocast dtype of each ``precision``; ``"fp32"`` trains without autocast.
PRECISIONS: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


class TrainingError(RuntimeError):
    """Training stopped: a NaN or infinite loss, or the device ran out of memory.

    The message names the epoch, the step and what to change; a checkpoint
    written before the failure is kept.
    """


@dataclass(frozen=True)
class TrainConfig:
    """How a pretraining run trains: budget, optimiser, precision and checkpoints.

    One object for the settings that :func:`train` uses, checked in one place
    (:meth:`check`). :class:`tscl.ContrastiveEncoder` builds it from its
    parameters, the ``tscl pretrain`` command from its options (its defaults
    are these), and a checkpoint stores the part a resumed run must match
    (:meth:`resumable`).

    Parameters
    ----------
    n_epochs : int, default=50
        Passes over the data.
    n_steps : int, optional
        Optimiser steps in all: training stops after this many, in the middle
        of an epoch if need be (``n_epochs`` is then ignored). The budget of
        TS2Vec-style training, counted in steps whatever the dataset's size.
    batch_size : int, default=64
        Series per step in each process (capped at the number of series
        divided by the number of processes).
    learning_rate : float, default=1e-3
        AdamW learning rate, with a cosine decay to 0 over the run.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    schedule : {"cosine", "constant"}, default="cosine"
        The learning rate decays to 0 with a cosine over the run, or stays
        constant (as in TS2Vec).
    drop_last : bool, default=False
        Drop the incomplete last batch of every pass (as TS2Vec does); else
        only a last batch of one series is dropped.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        ``"bf16"`` and ``"fp16"`` run the method under ``torch.autocast`` (fp16
        with a gradient scaler); losses are computed in float32.
    compile : bool, default=False
        Run the method through ``torch.compile`` (slow first steps).
    checkpoint : str or os.PathLike, optional
        File that holds the training state after every ``checkpoint_every``
        epochs and the last one, written atomically (:mod:`tscl.checkpoint`).
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    resume : bool, default=False
        Continue from ``checkpoint`` when it exists (else start afresh); the
        run then ends with the same weights as an uninterrupted one. Without it
        an existing ``checkpoint`` is an error, never overwritten.
    verbose : int, default=0
        Show a progress bar when > 0.
    monitor_share : float, default=0.02
        Share of the run's encoder work that the collapse measures may take
        (see :func:`tscl.training.train`): 0.02 gives one measure after the
        last epoch to short runs such as TS2Vec's 200 steps, and up to 10 to
        long ones; 1.0 measures after every epoch of runs of up to 10 epochs.

    Examples
    --------
    >>> config = TrainConfig(n_epochs=2, batch_size=16)
    >>> config.check()
    >>> config.resumable()["batch_size"]
    16
    >>> TrainConfig(precision="bf17").check(owner="ContrastiveEncoder")
    Traceback (most recent call last):
    ...
    ValueError: The 'precision' parameter of ContrastiveEncoder must be one of ...
    """

    n_epochs: int = 50
    n_steps: int | None = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    drop_last: bool = False
    precision: str = "fp32"
    compile: bool = False
    checkpoint: str | os.PathLike[str] | None = None
    checkpoint_every: int = 1
    resume: bool = False
    verbose: int = 0
    monitor_share: float = 0.02

    def check(self, owner: object | None = "TrainConfig") -> None:
        """Raise a clear error for any setting out of range, before any work.

        Parameters
        ----------
        owner : object or str, default="TrainConfig"
            Who the settings belong to, named in the messages (e.g. the
            estimator whose parameters they are).

        Raises
        ------
        TypeError
            For a setting of the wrong type (a checkpoint path that is not a
            str or path).
        ValueError
            For a setting out of range.
        FileNotFoundError, FileExistsError, PermissionError
            For a checkpoint path that cannot be used (see
            :func:`tscl.checkpoint.check_checkpoint_path`).
        """
        for name in ("n_epochs", "batch_size", "checkpoint_every"):
            check_count(getattr(self, name), name, owner=owner)
        if self.n_steps is not None:
            check_count(self.n_steps, "n_steps", owner=owner)
        check_choice(self.schedule, "schedule", SCHEDULES, owner=owner)
        check_param(
            self.learning_rate,
            "learning_rate",
            owner=owner,
            interval=(0, MAX_LEARNING_RATE),
            closed="right",
        )
        check_param(
            self.weight_decay,
            "weight_decay",
            owner=owner,
            interval=(0, MAX_WEIGHT_DECAY),
            closed="both",
        )
        check_param(self.verbose, "verbose", owner=owner, kind=(numbers.Integral, bool))
        check_param(
            self.monitor_share,
            "monitor_share",
            owner=owner,
            interval=(0, 1),
            closed="right",
        )
        for flag in ("compile", "resume", "drop_last"):
            check_param(getattr(self, flag), flag, owner=owner, kind=bool)
        check_choice(
            self.precision,
            "precision",
            PRECISIONS,
            owner=owner,
            hint="'bf16' suits recent GPUs (A100, H100) and CPUs with AMX; 'fp16' "
            "older GPUs.",
        )
        if self.checkpoint is not None:
            checkpoints.check_checkpoint_path(self.checkpoint, self.resume)

    def resumable(self) -> dict[str, Any]:
        """Return the settings a checkpoint must match to be resumed.

        Returns
        -------
        dict
            ``n_epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``
            and ``precision``, and ``n_steps``, ``schedule`` and
            ``drop_last`` where they are not their defaults (so checkpoints of
            earlier versions still match); where and how often checkpoints are
            written, progress bars and compilation may change between runs.
        """
        keep = ("n_epochs", "batch_size", "learning_rate", "weight_decay", "precision")
        found = {key: value for key, value in asdict(self).items() if key in keep}
        defaults = TrainConfig()
        for key in ("n_steps", "schedule", "drop_last"):
            if getattr(self, key) != getattr(defaults, key):
                found[key] = getattr(self, key)
        return found

    def total_steps(self, batches_per_epoch: int) -> int:
        """Return the optimiser steps of the run: ``n_steps``, else every epoch's.

        Parameters
        ----------
        batches_per_epoch : int
            Steps in one pass over the data.

        Returns
        -------
        int
        """
        if self.n_steps is not None:
            return self.n_steps
        return batches_per_epoch * self.n_epochs

    def epochs(self, batches_per_epoch: int) -> int:
        """Return the passes the run starts: ``n_epochs``, or enough for ``n_steps``.

        Parameters
        ----------
        batches_per_epoch : int
            Steps in one pass over the data.

        Returns
        -------
        int
        """
        if self.n_steps is None:
            return self.n_epochs
        return -(-self.n_steps // max(batches_per_epoch, 1))


def make_optimizer(
    parameters: Iterable[nn.Parameter],
    learning_rate: float,
    weight_decay: float,
    total_steps: int,
    schedule: str = "cosine",
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Return AdamW and its learning-rate schedule: tscl's one recipe.

    Pretraining (:func:`train`) and fine-tuning
    (:class:`tscl.evaluation.EncoderClassifier`) both train with it.

    Parameters
    ----------
    parameters : iterable of nn.Parameter
        What to optimise.
    learning_rate : float
        Initial learning rate.
    weight_decay : float
        AdamW weight decay.
    total_steps : int
        Optimiser steps in the run; the cosine schedule reaches 0 at the last.
    schedule : {"cosine", "constant"}, default="cosine"
        A cosine decay to 0, or a constant learning rate.

    Returns
    -------
    optimizer : torch.optim.AdamW
    scheduler : torch.optim.lr_scheduler.LRScheduler
        ``CosineAnnealingLR``, or ``LambdaLR`` at a factor of 1; call
        ``scheduler.step()`` after each ``optimizer.step()``.

    Examples
    --------
    >>> layer = nn.Linear(3, 1)
    >>> optimizer, scheduler = make_optimizer(layer.parameters(), 0.1, 0.0, 10)
    >>> type(optimizer).__name__, scheduler.get_last_lr()
    ('AdamW', [0.1])
    """
    parameters = list(parameters)
    # torch's fused AdamW (one kernel for every tensor; CPU and CUDA): the same
    # update, about 3x faster than its per-tensor loop on this CPU (1.0 against
    # 3.3 ms for TS2Vec's network)
    fused = bool(parameters) and all(
        p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters
    )
    optimizer = torch.optim.AdamW(
        parameters, lr=learning_rate, weight_decay=weight_decay, fused=fused or None
    )
    check_choice(schedule, "schedule", SCHEDULES, owner="make_optimizer")
    scheduler: torch.optim.lr_scheduler.LRScheduler
    if schedule == "constant":
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _constant)
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(total_steps, 1)
        )
    return optimizer, scheduler


def _constant(step: int) -> float:
    """Return 1: a constant learning rate (a function, which schedulers can save)."""
    return 1.0


def check_loss(
    value: float, epoch: int, step: int, learning_rate: float, what: str = "training"
) -> None:
    """Raise :class:`TrainingError` for a NaN or infinite loss.

    Parameters
    ----------
    value : float
        The loss.
    epoch, step : int
        Where it happened, counted from 1.
    learning_rate : float
        The learning rate of that step, for the message.
    what : str, default="training"
        Whose loss, e.g. ``"EncoderClassifier's"``.

    Raises
    ------
    TrainingError
        If ``value`` is not finite; the message names the epoch, the step, the
        learning rate and the usual fixes.

    Examples
    --------
    >>> check_loss(0.5, epoch=1, step=3, learning_rate=1e-3)
    >>> check_loss(float("nan"), epoch=2, step=7, learning_rate=1e-3)
    Traceback (most recent call last):
    ...
    tscl.training.TrainingError: The training loss became nan at epoch 2, step 7 ...
    """
    if math.isfinite(value):
        return
    raise TrainingError(
        f"The {what} loss became {value} at epoch {epoch}, step {step} (learning "
        f"rate {learning_rate:.3g}). Lower learning_rate, check the input scale, "
        "or use precision='fp32'. Checkpoints written so far are kept."
    )


for _public in (TrainConfig, TrainingError):  # shown as tscl.training.<name>
    _public.__module__ = "tscl.training"
