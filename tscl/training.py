"""The pretraining loop shared by every method: batches, views, optimiser, progress.

``train`` never branches on the method: it asks the method for a loss on two views
(and the batch's labels, when there are any) and calls its ``on_step_end`` after
each step. After every epoch it measures the encoder's representations of a fixed
probe batch for signs of collapse (:mod:`tscl.monitoring`).

The same loop runs on a CPU, on one GPU (optionally in bf16 or fp16 autocast and
compiled with ``torch.compile``) and in several processes with
DistributedDataParallel (:mod:`tscl.distributed`): each process takes its share
of every batch. Checkpoints (:mod:`tscl.checkpoint`) hold everything a resumed
run needs to end with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from tscl import checkpoint as checkpoints
from tscl import distributed, monitoring
from tscl._batching import Rows as _Rows
from tscl._batching import batches as _batches
from tscl._validation import check_count
from tscl.methods import Method

__all__ = ["PRECISIONS", "TrainingError", "resolve_device", "stable_repr", "train"]

ViewMaker = Callable[[Tensor, torch.Generator | None], list[Tensor]]

#: Autocast dtype of each ``precision``; ``"fp32"`` trains without autocast.
PRECISIONS: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}

#: Steps between loss checks on a GPU (each check waits for the GPU).
SYNC_EVERY = 32


class TrainingError(RuntimeError):
    """Training stopped: a NaN or infinite loss, or the device ran out of memory.

    The message names the epoch, the step and what to change; a checkpoint
    written before the failure is kept.
    """


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:1"`` into a usable device.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` picks CUDA when it is available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For a malformed name, or a CUDA device on a machine without CUDA.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, str) and device.lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got "
            f"{device!r}."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but CUDA is not available here (torch "
            f"{torch.__version__}). Use device='auto' or 'cpu', or install a CUDA "
            "build of torch."
        )
    return resolved


#: Series per epoch on which collapse is measured.
PROBE_SIZE = 256


def train(
    method: Method,
    X: np.ndarray | Tensor,
    views: ViewMaker,
    *,
    y: np.ndarray | None = None,
    n_epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float = 1e-4,
    device: torch.device | str = "cpu",
    seed: int = 0,
    verbose: int | bool = 0,
    prepare: Callable[[Any], Any] | None = None,
    precision: str = "fp32",
    compile: bool = False,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Pretrain ``method`` on ``X`` and return the per-epoch history.

    In several processes (:mod:`tscl.distributed`, e.g. under ``torchrun``) the
    method is wrapped in DistributedDataParallel and each process trains on its
    share of every batch; progress bars, warnings and checkpoints come from
    rank 0 only.

    Parameters
    ----------
    method : Method
        The self-supervised method (owns the encoder); trained in place.
    X : ndarray or Tensor of shape (n_samples, n_channels, n_timesteps)
        Training series, float32 or float64 (trained in float32). A
        memory-mapped array (e.g. from :func:`tscl.datasets.load_corpus`) is
        read batch by batch and never copied into memory whole; a tensor stays
        on its device (a GPU tensor is never copied to the host).
    views : callable
        ``views(batch, generator)`` returns two augmented views of a batch.
    y : ndarray of shape (n_samples,), optional
        Integer class codes, ``-1`` for unlabelled series; each batch's codes are
        passed to ``method(x1, x2, labels)``. ``None`` calls ``method(x1, x2)``.
    n_epochs : int
        Passes over ``X``.
    batch_size : int
        Samples per step in each process (capped at ``n_samples`` divided by
        the number of processes).
    learning_rate : float
        AdamW learning rate, with a cosine decay to 0 over the run.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    device : torch.device or str, default="cpu"
        Where the model, the batches and the augmentations live.
    seed : int, default=0
        Seeds the shuffling and the augmentation generator.
    verbose : int or bool, default=0
        Show a progress bar when true.
    prepare : callable, optional
        ``prepare(rows) -> rows`` applied to the series before training, e.g. the
        estimator's standardisation: to all of ``X`` at once, or to each batch
        read from a memory map. It must act on each series on its own.
    precision : {"fp32", "bf16", "fp16"}, default="fp32"
        ``"bf16"`` and ``"fp16"`` run the method under ``torch.autocast`` (fp16
        with a gradient scaler); losses are computed in float32.
    compile : bool, default=False
        Run the method through ``torch.compile`` (slow first steps).
    checkpoint : str or Path, optional
        File that holds the training state after every ``checkpoint_every``
        epochs and the last one, written atomically.
    checkpoint_every : int, default=1
        Epochs between checkpoints.
    resume : bool, default=False
        Continue from ``checkpoint`` when it exists (else start afresh); the run
        then ends with the same weights as an uninterrupted one. Without it an
        existing ``checkpoint`` is an error, never overwritten.
    settings : dict, optional
        Further settings (JSON-like values) a checkpoint must match to be
        resumed, e.g. the estimator's parameters. The method's and the views'
        ``repr``, the data's shape and checksum, the schedule, the number of
        processes and the precision are always compared.

    Returns
    -------
    dict
        ``loss`` (mean per epoch, over all processes), ``epoch_time`` (seconds
        per epoch), ``learning_rate`` (at the end of each epoch), ``n_steps``,
        and per epoch the collapse measures of
        :func:`tscl.monitoring.collapse_metrics` (``embedding_std``,
        ``effective_rank``, ``alignment``, ``uniformity``) on the encoder's
        output for two views of up to 256 training series.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite (the message gives the epoch, the
        step and the learning rate), or the device runs out of memory. A
        checkpoint written before is kept.
    ValueError
        For an unknown ``precision``, a bad ``checkpoint`` path or a checkpoint
        that is unreadable or from another run.
    FileExistsError
        If ``checkpoint`` exists and ``resume`` is false.

    Warns
    -----
    tscl.monitoring.CollapseWarning
        The first time the representation collapses (see
        :class:`tscl.monitoring.CollapseMonitor`).

    Examples
    --------
    >>> import tempfile
    >>> from tscl.augment import Jitter, Views
    >>> from tscl.encoders import CNN
    >>> from tscl.methods import SimCLR
    >>> X = np.random.default_rng(0).normal(size=(32, 1, 64)).astype(np.float32)
    >>> model = SimCLR(CNN(1, out_dim=8, hidden_dim=8, depth=2), projection_dim=8)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     history = train(model, X, Views(Jitter(0.1)), n_epochs=2, batch_size=16,
    ...                     learning_rate=1e-3, checkpoint=f"{folder}/run.pt")
    >>> history["n_steps"], len(history["loss"])
    (4, 2)
    """
    device = torch.device(device)
    _check_options(precision, compile, checkpoint_every)
    path = None
    if checkpoint is not None:
        path = checkpoints.check_checkpoint_path(checkpoint, resume)
    world, rank = distributed.world_size(), distributed.rank()
    data = _Rows(X, prepare, pin=device.type == "cuda")
    if len(data) < 2 * world:
        raise ValueError(
            f"Training in {world} processes needs at least 2 series per process; "
            f"got {len(data)} series. Use fewer processes or more data."
        )
    batch_size = min(batch_size, len(data) // world)
    batches = _batches(len(data), batch_size, torch.Generator(), rank, world)
    loop = _Loop.build(method, views, device, len(batches) * n_epochs, seed)
    loop.configure(learning_rate, weight_decay, precision, compile)
    run = dict(settings or {})
    run |= _describe_run(
        method,
        views,
        data,
        y,
        n_epochs,
        batch_size,
        learning_rate,
        weight_decay,
        world,
        precision,
    )
    if path is not None and resume and path.exists():
        seed = loop.restore(checkpoints.load_checkpoint(path, run))
    targets = None if y is None else torch.as_tensor(y, dtype=torch.long)
    pick = torch.Generator().manual_seed(seed + 2)  # leaves the shuffling alone
    probe = data.take(torch.randperm(len(data), generator=pick)[:PROBE_SIZE])
    probe = probe.to(device)
    bar = tqdm(
        total=loop.total,
        initial=loop.step,
        disable=not verbose or rank != 0,
        desc="pretraining",
        unit="step",
    )
    with bar:
        for epoch in range(loop.epoch, n_epochs):
            start = time.perf_counter()
            for index in _batches(len(data), batch_size, loop.shuffle, rank, world):
                batch = data.take(index).to(device, non_blocking=True)
                labels = None
                if targets is not None:
                    labels = targets[index].to(device, non_blocking=True)
                with loop.out_of_memory(epoch, batch_size):
                    loop.train_step(batch, labels, epoch)
                bar.update(1)
                if loop.last_loss is not None:
                    bar.set_postfix(epoch=epoch + 1, loss=f"{loop.last_loss:.4f}")
            with loop.out_of_memory(epoch, batch_size):
                loop.flush()  # waits for the device, so the time counts all work
                loop.end_epoch(epoch, time.perf_counter() - start, probe, seed)
            if path is not None and (
                loop.epoch % checkpoint_every == 0 or loop.epoch == n_epochs
            ):
                loop.save(path, run, seed)
    loop.history["n_steps"] = loop.step
    method.eval()
    return loop.history


def _check_options(precision: str, compile: bool, checkpoint_every: int) -> None:
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {list(PRECISIONS)}; got {precision!r}. "
            "'bf16' suits recent GPUs (A100, H100) and CPUs with AMX; 'fp16' "
            "older GPUs."
        )
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False; got {compile!r}.")
    check_count(checkpoint_every, "checkpoint_every")


def _describe_run(
    method: Method,
    views: ViewMaker,
    data: _Rows,
    y: np.ndarray | None,
    n_epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    world: int,
    precision: str,
) -> dict[str, Any]:
    """Describe what a checkpoint must match to resume: the data, model, schedule."""
    ends = data.take(torch.tensor([0, len(data) - 1])).cpu()
    return {
        "method": _fingerprint(method),
        "views": _fingerprint(views),
        "n_parameters": sum(p.numel() for p in method.parameters()),
        "data_shape": [len(data), *ends.shape[1:]],
        "data_checksum": zlib.crc32(ends.numpy().tobytes()),
        "labels": y is not None,
        "n_epochs": n_epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "world_size": world,
        "precision": precision,
    }


def stable_repr(value: Any) -> str:
    """``repr(value)`` without memory addresses, the same in every process and run.

    Parameters
    ----------
    value : object
        Any object.

    Returns
    -------
    str

    Examples
    --------
    >>> stable_repr(object())
    '<object object>'
    """
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _fingerprint(value: Any) -> str:
    """Class name and a checksum of the settings, e.g. ``'SimCLR 1a2b3c4d'``."""
    return f"{type(value).__name__} {zlib.crc32(stable_repr(value).encode()):08x}"


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

    def configure(
        self, learning_rate: float, weight_decay: float, precision: str, compile: bool
    ) -> None:
        """Move the method to the device, wrap it, and make the optimiser."""
        method = self.method.to(self.device).train()
        model: Any = method
        if distributed.world_size() > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(method, device_ids=ids)
        self.model = torch.compile(model) if compile else model
        self.precision = precision
        self.optimizer = torch.optim.AdamW(
            method.parameters(), lr=learning_rate, weight_decay=weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=self.total
        )
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=precision == "fp16"
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
                f"precision={self.precision!r}. Use a smaller batch_size, "
                "precision='bf16' (about half the activation memory) or a smaller "
                "encoder. Checkpoints written so far are kept."
            ) from err

    def train_step(self, batch: Tensor, labels: Tensor | None, epoch: int) -> None:
        """One optimiser step on a batch (and its labels)."""
        x1, x2 = self.views(batch, self.aug)
        dtype = PRECISIONS[self.precision]
        with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
            loss = self.model(x1, x2) if labels is None else self.model(x1, x2, labels)
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
            if not math.isfinite(value):
                raise TrainingError(
                    f"The training loss became {value} at epoch {epoch}, step "
                    f"{step} (learning rate {lr:.3g}). Lower learning_rate, check "
                    "the input scale, or use precision='fp32'. Checkpoints written "
                    "so far are kept."
                )
        self.losses.extend(values_list)
        self.last_loss = values_list[-1]

    def end_epoch(self, epoch: int, seconds: float, probe: Tensor, seed: int) -> None:
        """Record the epoch's loss, time and collapse measures (after a flush)."""
        distributed.broadcast_buffers(self.method)  # e.g. BatchNorm statistics
        losses, self.losses = self.losses, []
        self.history["loss"].append(float(np.mean(losses)) if losses else math.nan)
        self.history["epoch_time"].append(seconds)
        self.history["learning_rate"].append(self.scheduler.get_last_lr()[0])
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
            monitor = self.monitor
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
                    "monitor": {
                        "history": monitor.history,
                        "epochs": monitor.epochs,
                        "collapsed_epochs": monitor.collapsed_epochs,
                        "warned": monitor._warned,
                    },
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
        saved = state["monitor"]
        self.monitor.history = saved["history"]
        self.monitor.epochs = saved["epochs"]
        self.monitor.collapsed_epochs = saved["collapsed_epochs"]
        self.monitor._warned = saved["warned"]
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
    only with the encoder.
    """
    generator = torch.Generator(device=probe.device).manual_seed(seed)
    method.eval()
    with torch.no_grad():
        x1, x2 = views(probe, generator)
        z1, z2 = method.encoder(x1), method.encoder(x2)  # (probe, dim)
    method.train()
    return monitor.update(z1.float(), z2.float(), epoch + 1)
