"""The pretraining loop shared by every method: batches, views, optimiser, progress.

``train`` never branches on the method: it asks the method for a loss on two views
(and the batch's labels, when there are any) and calls its ``on_step_end`` after
each step. After every epoch it measures the encoder's representations of a fixed
probe batch for signs of collapse (:mod:`tscl.monitoring`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from tscl import monitoring
from tscl._validation import is_memmap
from tscl.methods import Method

__all__ = ["resolve_device", "train"]

ViewMaker = Callable[[Tensor, torch.Generator | None], list[Tensor]]


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


def _batches(n: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """Shuffled index batches; a last batch of one sample is dropped."""
    order = torch.randperm(n, generator=generator)
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches.pop()
    return batches


#: Series per epoch on which collapse is measured.
PROBE_SIZE = 256


class _Rows:
    """The training series, held as one tensor or read from a memory map per batch.

    An in-memory array is prepared (e.g. standardised) once and copied into a
    tensor; a memory-mapped array (a corpus larger than memory) is never
    copied whole: each batch reads its rows in file order and prepares them.
    Both give the same batches.
    """

    def __init__(
        self,
        X: np.ndarray,
        prepare: Callable[[np.ndarray], np.ndarray] | None,
        pin: bool,
    ) -> None:
        self.prepare = prepare or (lambda rows: rows)
        self.lazy = is_memmap(X)
        self.pin = pin
        if self.lazy:
            self.source = X
        else:  # torch.tensor copies, so read-only input is fine
            data = torch.tensor(self.prepare(X), dtype=torch.float32)
            self.data = data.pin_memory() if pin else data

    def __len__(self) -> int:
        return len(self.source) if self.lazy else len(self.data)

    def take(self, index: Tensor) -> Tensor:
        if not self.lazy:
            return self.data[index]
        order = index.numpy()
        sorted_index = np.sort(order)  # sequential reads from the file
        rows = np.asarray(self.source[sorted_index])
        rows = rows[np.searchsorted(sorted_index, order)]
        batch = torch.from_numpy(
            np.ascontiguousarray(self.prepare(rows), dtype=np.float32)
        )
        return batch.pin_memory() if self.pin else batch


def train(
    method: Method,
    X: np.ndarray,
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
    prepare: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Pretrain ``method`` on ``X`` and return the per-epoch history.

    Parameters
    ----------
    method : Method
        The self-supervised method (owns the encoder); trained in place.
    X : ndarray of shape (n_samples, n_channels, n_timesteps)
        Training series, float32 or float64 (trained in float32). A
        memory-mapped array (e.g. from :func:`tscl.datasets.load_corpus`) is
        read batch by batch and never copied into memory whole.
    views : callable
        ``views(batch, generator)`` returns two augmented views of a batch.
    y : ndarray of shape (n_samples,), optional
        Integer class codes, ``-1`` for unlabelled series; each batch's codes are
        passed to ``method(x1, x2, labels)``. ``None`` calls ``method(x1, x2)``.
    n_epochs : int
        Passes over ``X``.
    batch_size : int
        Samples per step (capped at ``n_samples``).
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

    Returns
    -------
    dict
        ``loss`` (mean per epoch), ``epoch_time`` (seconds per epoch),
        ``learning_rate`` (at the end of each epoch), ``n_steps``, and per epoch
        the collapse measures of :func:`tscl.monitoring.collapse_metrics`
        (``embedding_std``, ``effective_rank``, ``alignment``, ``uniformity``)
        on the encoder's output for two views of up to 256 training series.

    Raises
    ------
    RuntimeError
        If the loss becomes NaN or infinite; the message gives the epoch, the step
        and the learning rate.

    Warns
    -----
    tscl.monitoring.CollapseWarning
        The first time the representation collapses (see
        :class:`tscl.monitoring.CollapseMonitor`).
    """
    device = torch.device(device)
    data = _Rows(X, prepare, pin=device.type == "cuda")
    targets = None if y is None else torch.as_tensor(y, dtype=torch.long)
    shuffle = torch.Generator().manual_seed(seed)
    aug_gen = torch.Generator(device=device).manual_seed(seed + 1)
    pick = torch.Generator().manual_seed(seed + 2)  # leaves the shuffling alone
    probe = data.take(torch.randperm(len(data), generator=pick)[:PROBE_SIZE])
    probe = probe.to(device)
    monitor = monitoring.CollapseMonitor()
    batch_size = min(batch_size, len(data))
    steps_per_epoch = len(_batches(len(data), batch_size, torch.Generator()))
    total = n_epochs * steps_per_epoch
    method.to(device).train()
    optimizer = torch.optim.AdamW(
        method.parameters(), lr=learning_rate, weight_decay=weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    history: dict[str, Any] = {"loss": [], "epoch_time": [], "learning_rate": []}
    history.update({name: [] for name in monitoring.METRICS})
    bar = tqdm(total=total, disable=not verbose, desc="pretraining", unit="step")
    step = 0
    for epoch in range(n_epochs):
        start, losses = time.perf_counter(), []
        for index in _batches(len(data), batch_size, shuffle):
            batch = data.take(index).to(device, non_blocking=True)
            x1, x2 = views(batch, aug_gen)
            if targets is None:
                loss = method(x1, x2)
            else:
                loss = method(x1, x2, targets[index].to(device, non_blocking=True))
            if not torch.isfinite(loss):
                bar.close()
                raise RuntimeError(
                    f"The training loss became {loss.item()} at epoch {epoch + 1}, "
                    f"step {step + 1} (learning rate {scheduler.get_last_lr()[0]:.3g})."
                    " Lower learning_rate, check the input scale, or use float32."
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            method.on_step_end(step, total)
            losses.append(loss.item())
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.4f}")
        history["loss"].append(float(np.mean(losses)) if losses else math.nan)
        history["epoch_time"].append(time.perf_counter() - start)
        history["learning_rate"].append(scheduler.get_last_lr()[0])
        metrics = _measure(method, probe, views, seed + 3, monitor, epoch)
        for name, value in metrics.items():
            history[name].append(value)
    bar.close()
    history["n_steps"] = step
    method.eval()
    return history


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
