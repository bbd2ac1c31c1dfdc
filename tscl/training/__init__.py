"""Pretraining: the loop every method shares and the settings of a run.

``train`` never branches on the method: it asks the method for a loss on two views
(and the batch's labels, when there are any) and calls its ``on_step_end`` after
each step. After every epoch it measures the encoder's representations of a fixed
probe batch for signs of collapse (:mod:`tscl.monitoring`). The same loop runs on
a CPU, on one GPU (optionally in bf16 or fp16 autocast and compiled with
``torch.compile``) and in several processes with DistributedDataParallel
(:mod:`tscl.distributed`). Checkpoints (:mod:`tscl.checkpoint`) hold everything a
resumed run needs to end with the same weights as an uninterrupted one.

Where things are:

- ``_config.py``: :class:`TrainConfig` (a run's settings, checked in one place),
  :func:`make_optimizer`, :func:`check_loss`, :class:`TrainingError`;
- ``_train.py``: :func:`train` and the description a checkpoint must match;
- ``_loop.py``: one run's state (steps, loss checks, epochs, checkpoints);
- ``_batching.py``: the training rows and each process's share of every batch.
"""

from tscl.training._config import (
    PRECISIONS,
    SCHEDULES,
    TrainConfig,
    TrainingError,
    check_loss,
    make_optimizer,
)
from tscl.training._train import stable_repr, train

__all__ = [
    "PRECISIONS",
    "SCHEDULES",
    "TrainConfig",
    "TrainingError",
    "check_loss",
    "make_optimizer",
    "stable_repr",
    "train",
]
