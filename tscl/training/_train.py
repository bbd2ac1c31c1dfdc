"""``train``: pretrain a method on series and return its history.

It builds the rows and batches, the run's description (what a checkpoint must
match), resumes from a checkpoint and drives one :class:`_Loop` epoch by epoch.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from tscl import checkpoint as checkpoints
from tscl import distributed
from tscl.methods import Method
from tscl.training._batching import Rows, batches
from tscl.training._config import TrainConfig
from tscl.training._loop import ViewMaker, _Loop

__all__ = ["stable_repr", "train"]

#: At most this many series on which collapse is measured (two views each).
PROBE_SIZE = 128
#: At least this many (or all the series) when the measures' budget is smaller.
MIN_PROBE = 16
#: At most this many collapse measures per run, evenly spaced, the last epoch's
#: included.
MEASURES = 10
#: ``torch.profiler`` label of each epoch's steps (``"tscl.epoch.1"``, ...): the
#: span that ``history["epoch_time"]`` times, for profiles of a fit.
EPOCH_LABEL = "tscl.epoch."


def train(
    method: Method,
    X: np.ndarray | Tensor,
    views: ViewMaker,
    config: TrainConfig,
    *,
    y: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    prepare: Callable[[Any], Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Pretrain ``method`` on ``X`` as ``config`` says and return the per-epoch history.

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
    config : TrainConfig
        Budget, optimiser, precision and checkpoints; checked first.
    y : ndarray of shape (n_samples,), optional
        Integer class codes, ``-1`` for unlabelled series; each batch's codes are
        passed to ``method(x1, x2, labels)``. ``None`` calls ``method(x1, x2)``.
    groups : ndarray of shape (n_samples,), optional
        Integer group codes (the recording or patient of each series); each
        batch's codes are passed as ``method(..., groups=codes)`` to methods
        whose ``group_use`` is true.
    device : torch.device or str, default="cpu"
        Where the model, the batches and the augmentations live.
    seed : int, default=0
        Seeds the shuffling and the augmentation generator.
    prepare : callable, optional
        ``prepare(rows) -> rows`` applied to the series before training, e.g. the
        estimator's standardisation: to all of ``X`` at once, or to each batch
        read from a memory map. It must act on each series on its own.
    settings : dict, optional
        Further settings (JSON-like values) a checkpoint must match to be
        resumed, e.g. the estimator's parameters. The method's and the views'
        ``repr``, the data's shape and checksum, ``config.resumable()`` and the
        number of processes are always compared.

    Returns
    -------
    dict
        ``loss`` (mean per epoch, over all processes), ``epoch_time`` (seconds
        per epoch, after the device has finished the epoch's work),
        ``learning_rate`` (at the end of each epoch), ``n_steps``, and per
        epoch the collapse measures of :func:`tscl.monitoring.collapse_metrics`
        on the encoder's output for two views of up to 128 training series,
        evenly spaced, the last epoch's included (NaN for the others): as many
        times (at most 10) as ``config.monitor_share`` of the run's encoder
        work allows, at least once.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite (the message gives the epoch, the
        step and the learning rate), or the device runs out of memory. A
        checkpoint written before is kept.
    ValueError
        For a setting of ``config`` out of range, or a checkpoint that is
        unreadable or from another run.
    FileExistsError
        If ``config.checkpoint`` exists and ``config.resume`` is false.

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
    ...     config = TrainConfig(n_epochs=2, batch_size=16,
    ...                          checkpoint=f"{folder}/run.pt")
    ...     history = train(model, X, Views(Jitter(0.1)), config)
    >>> history["n_steps"], len(history["loss"])
    (4, 2)
    """
    config.check(owner="train")
    path = None if config.checkpoint is None else Path(config.checkpoint)
    lock: Any = contextlib.nullcontext()
    if path is not None and distributed.is_main_process():
        lock = checkpoints.locked(path)  # a second run on it fails at once
    with lock:
        return _run(
            method,
            X,
            views,
            config,
            torch.device(device),
            (y, groups),
            seed,
            prepare,
            settings,
        )


def _run(
    method: Method,
    X: np.ndarray | Tensor,
    views: ViewMaker,
    config: TrainConfig,
    device: torch.device,
    codes: tuple[np.ndarray | None, np.ndarray | None],
    seed: int,
    prepare: Callable[[Any], Any] | None,
    settings: dict[str, Any] | None,
) -> dict[str, Any]:
    """Run the body of :func:`train`, once the checkpoint is locked."""
    y, groups = codes
    world, rank = distributed.world_size(), distributed.rank()
    data = Rows(X, prepare, pin=device.type == "cuda")
    if len(data) < 2 * world:
        raise ValueError(
            f"Training in {world} processes needs at least 2 series per process; "
            f"got {len(data)} series. Use fewer processes or more data."
        )
    batch_size = min(config.batch_size, len(data) // world)

    def shares(generator: torch.Generator) -> list[Tensor]:
        return batches(len(data), batch_size, generator, rank, world, config.drop_last)

    n_batches = len(shares(torch.Generator()))
    n_epochs = config.epochs(n_batches)
    loop = _Loop.build(method, views, device, config.total_steps(n_batches), seed)
    loop.configure(config)
    probe_size, measures = _monitor_plan(len(data), loop.total, batch_size, config)
    loop.monitor_every = -(-n_epochs // measures)
    run = dict(settings or {})
    run |= _describe_run(method, views, data, codes, config, batch_size)
    path = None if config.checkpoint is None else Path(config.checkpoint)
    if path is not None and config.resume and path.exists():
        seed = loop.restore(checkpoints.load_checkpoint(path, run))
    targets = None if y is None else torch.as_tensor(y, dtype=torch.long)
    owners = None if groups is None else torch.as_tensor(groups, dtype=torch.long)
    pick = torch.Generator().manual_seed(seed + 2)  # leaves the shuffling alone
    probe = data.take(torch.randperm(len(data), generator=pick)[:probe_size])
    probe = probe.to(device)
    bar = tqdm(
        total=loop.total,
        initial=loop.step,
        disable=not config.verbose or rank != 0,
        desc="pretraining",
        unit="step",
    )
    with bar:
        for epoch in range(loop.epoch, n_epochs):
            with torch.profiler.record_function(f"{EPOCH_LABEL}{epoch + 1}"):
                start = time.perf_counter()
                for index in shares(loop.shuffle):
                    if loop.step == loop.total:  # n_steps reached mid-epoch
                        break
                    batch = data.take(index).to(device, non_blocking=True)
                    labels = batch_groups = None
                    if targets is not None:
                        labels = targets[index].to(device, non_blocking=True)
                    if owners is not None:
                        batch_groups = owners[index].to(device, non_blocking=True)
                    with loop.out_of_memory(epoch, batch_size):
                        loop.train_step(batch, labels, epoch, batch_groups)
                    bar.update(1)
                    if loop.last_loss is not None:
                        bar.set_postfix(epoch=epoch + 1, loss=f"{loop.last_loss:.4f}")
                with loop.out_of_memory(epoch, batch_size):
                    loop.flush()
                    _wait_for(device)  # the clock counts all of the epoch's work
                    seconds = time.perf_counter() - start
            with loop.out_of_memory(epoch, batch_size):
                loop.end_epoch(epoch, seconds, probe, seed, last=epoch + 1 == n_epochs)
            if path is not None and (
                loop.epoch % config.checkpoint_every == 0 or loop.epoch == n_epochs
            ):
                loop.save(path, run, seed)
    loop.history["n_steps"] = loop.step
    method.eval()
    return loop.history


def _monitor_plan(
    n_series: int, total_steps: int, batch_size: int, config: TrainConfig
) -> tuple[int, int]:
    """Return the probe's size and the number of collapse measures of a run.

    A training step encodes two views of ``batch_size`` series forward and
    backward (about three forward passes each); a measure encodes two views of
    the probe forward. The measures together take at most
    ``config.monitor_share`` of the run's encoder work, so a probe of at most
    ``PROBE_SIZE`` series is measured up to ``MEASURES`` times; when even one
    measure exceeds that, once after the last epoch, on ``MIN_PROBE`` series
    or the share's worth if more.
    """
    budget = int(config.monitor_share * 3 * total_steps * batch_size)  # probe series
    probe = min(PROBE_SIZE, n_series)
    if budget < probe:
        probe = min(max(MIN_PROBE, budget), n_series)
    return probe, min(max(budget // probe, 1), MEASURES)


def _wait_for(device: torch.device) -> None:
    """Wait until ``device`` has run everything queued (GPUs run asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _describe_run(
    method: Method,
    views: ViewMaker,
    data: Rows,
    codes: tuple[np.ndarray | None, np.ndarray | None],
    config: TrainConfig,
    batch_size: int,
) -> dict[str, Any]:
    """Describe what a checkpoint must match to resume: the data, model, schedule.

    With a checkpoint, every series is fingerprinted (SHA-256 of blocks of rows,
    read block by block, so a memory-mapped corpus is never loaded whole), and
    so are the labels and the groups.
    """
    y, groups = codes
    first = data.take(torch.tensor([0])).cpu()
    run: dict[str, Any] = {
        "method": _fingerprint(method),
        "views": _fingerprint(views),
        "n_parameters": sum(p.numel() for p in method.parameters()),
        "data_shape": [len(data), *first.shape[1:]],
        "labels": None if y is None else _digest([np.asarray(y).tobytes()]),
        **config.resumable(),
        "batch_size": batch_size,  # as capped by the data
        "world_size": distributed.world_size(),
    }
    if groups is not None:  # absent otherwise, as in checkpoints from before groups
        run["groups"] = _digest([np.asarray(groups).tobytes()])
    if config.checkpoint is not None:
        run["data_blocks"] = _data_blocks(data)
    return run


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:16]


def _data_blocks(data: Rows) -> dict[str, Any]:
    """SHA-256 digests of at most 256 blocks of consecutive rows."""
    rows = max(1, -(-len(data) // 256))
    digests = []
    for start in range(0, len(data), rows):
        index = torch.arange(start, min(start + rows, len(data)))
        digests.append(_digest([data.take(index).cpu().numpy().tobytes()]))
    return {"rows": rows, "digests": digests}


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
