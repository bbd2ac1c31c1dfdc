"""One training run's state: its steps, epochs, checks and checkpoints.

:class:`_Loop` belongs to :func:`tscl.training.train`, which drives it: one
optimiser step per batch, a loss check, the collapse measures after each epoch,
and the checkpoint written and restored.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tscl import checkpoint as checkpoints
from tscl import distributed, encoders, monitoring
from tscl._validation import short_repr
from tscl.methods import Method
from tscl.training._config import (
    PRECISIONS,
    TrainConfig,
    TrainingError,
    check_loss,
    make_optimizer,
)

ViewMaker = Callable[[Tensor, torch.Generator | None], list[Tensor]]

#: Steps between loss checks on a GPU (each check waits for the GPU).
SYNC_EVERY = 32


@dataclass
class _Loop:
    """The state of one training run and its step, epoch and checkpoint logic."""

    method: Method
    views: ViewMaker
    device: torch.device
    total: int
    shuffle: torch.Generator
    aug: torch.Generator
    model: Callable[..., Tensor] = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    scheduler: torch.optim.lr_scheduler.LRScheduler = field(init=False)
    scaler: torch.amp.GradScaler = field(init=False)
    precision: str = "fp32"
    epoch: int = 0
    step: int = 0
    monitor_every: int = 1
    last_loss: float | None = None
    monitor: monitoring.CollapseMonitor = field(
        default_factory=monitoring.CollapseMonitor
    )
    history: dict[str, Any] = field(default_factory=dict)
    pending: list[tuple[Tensor, int, int, float]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        method: Method,
        views: ViewMaker,
        device: torch.device,
        total: int,
        seed: int,
    ) -> _Loop:
        rank = distributed.rank()
        shuffle = torch.Generator().manual_seed(seed)  # the same in every process
        aug = torch.Generator(device=device).manual_seed(seed + 1 + 7919 * rank)
        loop = cls(method, views, device, total, shuffle, aug)
        loop.history = {"loss": [], "epoch_time": [], "learning_rate": []}
        loop.history.update({name: [] for name in monitoring.METRICS})
        return loop

    def configure(self, config: TrainConfig) -> None:
        """Move the method to the device, wrap it, and make the optimiser."""
        method = self.method.to(self.device).train()
        model: Any = method
        if distributed.world_size() > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(method, device_ids=ids)
        if config.compile:  # dynamic shapes where crops change them every step
            dynamic = True if getattr(method, "variable_shapes", False) else None
            model = torch.compile(model, dynamic=dynamic)
        self.model = model
        self.precision = config.precision
        self.optimizer, self.scheduler = make_optimizer(
            method.parameters(),
            config.learning_rate,
            config.weight_decay,
            self.total,
            config.schedule,
        )
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=config.precision == "fp16"
        )

    @contextlib.contextmanager
    def out_of_memory(self, epoch: int, batch_size: int) -> Iterator[None]:
        """Turn the device running out of memory into a :class:`TrainingError`."""
        try:
            yield
        except torch.OutOfMemoryError as err:
            raise TrainingError(
                f"Out of memory on {self.device} at epoch {epoch + 1}, step "
                f"{self.step + 1}, with batch_size={batch_size} per process and "
                f"precision={short_repr(self.precision)}. Use a smaller batch_size, "
                "precision='bf16' (about half the activation memory) or a smaller "
                "encoder. Checkpoints written so far are kept."
            ) from err

    def train_step(
        self,
        batch: Tensor,
        labels: Tensor | None,
        epoch: int,
        groups: Tensor | None = None,
    ) -> None:
        """One optimiser step on a batch (and its labels and groups)."""
        x1, x2 = self.views(batch, self.aug)
        dtype = PRECISIONS[self.precision]
        args = (x1, x2) if labels is None else (x1, x2, labels)
        extra = {} if groups is None else {"groups": groups}
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            loss = self.model(*args, **extra)
        lr = float(self.scheduler.get_last_lr()[0])
        self.pending.append((loss.detach(), epoch + 1, self.step + 1, lr))
        if self.device.type == "cpu" or len(self.pending) >= SYNC_EVERY:
            self.flush()  # checks the loss before it updates the weights
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        with warnings.catch_warnings():  # fp16 skips steps whose gradients overflow
            warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step")
            self.scheduler.step()
        self.step += 1
        self.method.on_step_end(self.step, self.total)

    def flush(self) -> None:
        """Check the losses since the last flush (averaged over processes)."""
        if not self.pending:
            return
        values = torch.stack([entry[0].float() for entry in self.pending])
        values_list = distributed.all_mean(values).cpu().tolist()
        pending, self.pending = self.pending, []
        for value, (_, epoch, step, lr) in zip(values_list, pending, strict=True):
            check_loss(value, epoch, step, lr)
        self.losses.extend(values_list)
        self.last_loss = values_list[-1]

    def end_epoch(
        self, epoch: int, seconds: float, probe: Tensor, seed: int, last: bool
    ) -> None:
        """Record the epoch's loss, time and collapse measures (after a flush).

        Collapse is measured every ``monitor_every`` epochs and after the last;
        the other epochs record NaN.
        """
        distributed.broadcast_buffers(self.method)  # e.g. BatchNorm statistics
        losses, self.losses = self.losses, []
        self.history["loss"].append(float(np.mean(losses)) if losses else math.nan)
        self.history["epoch_time"].append(seconds)
        self.history["learning_rate"].append(self.scheduler.get_last_lr()[0])
        metrics = dict.fromkeys(monitoring.METRICS, math.nan)
        if last or (epoch + 1) % self.monitor_every == 0:
            with warnings.catch_warnings():
                if not distributed.is_main_process():
                    warnings.simplefilter("ignore", monitoring.CollapseWarning)
                metrics = _measure(
                    self.method, probe, self.views, seed + 3, self.monitor, epoch
                )
        for name, value in metrics.items():
            self.history[name].append(value)
        self.epoch = epoch + 1

    def _local_rng(self) -> dict[str, Tensor]:
        cuda = self.device.type == "cuda"
        return {
            "aug": self.aug.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(self.device) if cuda else torch.zeros(0),
        }

    def save(self, path: Path, run: dict[str, Any], seed: int) -> None:
        """Write the checkpoint from rank 0 (every process gives its RNG state)."""
        rng = distributed.all_gather_objects(self._local_rng())
        if distributed.is_main_process():
            checkpoints.save_checkpoint(
                path,
                {
                    "run": run,
                    "seed": seed,
                    "epoch": self.epoch,
                    "step": self.step,
                    "model": self.method.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "scaler": self.scaler.state_dict(),
                    "shuffle": self.shuffle.get_state(),
                    "rng": rng,
                    "history": self.history,
                    "monitor": self.monitor.state_dict(),
                },
            )
        distributed.barrier()

    def restore(self, state: dict[str, Any]) -> int:
        """Load a checkpoint's state; return the run's seed."""
        self.method.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state["scaler"]:
            self.scaler.load_state_dict(state["scaler"])
        self.shuffle.set_state(state["shuffle"])
        mine = state["rng"][distributed.rank()]
        self.aug.set_state(mine["aug"])
        torch.set_rng_state(mine["torch"])
        if self.device.type == "cuda" and mine["cuda"].numel():
            torch.cuda.set_rng_state(mine["cuda"], self.device)
        self.history = state["history"]
        self.monitor.load_state_dict(state["monitor"])
        self.epoch, self.step = state["epoch"], state["step"]
        return int(state["seed"])


def _measure(
    method: Method,
    probe: Tensor,
    views: ViewMaker,
    seed: int,
    monitor: monitoring.CollapseMonitor,
    epoch: int,
) -> dict[str, float]:
    """Collapse measures of the encoder on two views of the probe batch.

    The views are drawn with the same seed every epoch, so the measures change
    only with the encoder. A method that trains on windows of
    ``max_train_length`` timesteps (TS2Vec's) is measured on the first such
    window of each view.
    """
    generator = torch.Generator(device=probe.device).manual_seed(seed)
    method.eval()
    with torch.no_grad():
        x1, x2 = views(probe, generator)
        window = getattr(method, "max_train_length", None)  # TS2Vec's windows
        if window is not None:  # measured where it trains: the first window
            x1, x2 = x1[..., :window], x2[..., :window]
        # (probe, dim), in passes of bounded memory: probes of long series too
        z1, z2 = (
            encoders.encode_tensor(method.encoder, x1),
            encoders.encode_tensor(method.encoder, x2),
        )
    method.train()
    return monitor.update(z1.float(), z2.float(), epoch + 1)
