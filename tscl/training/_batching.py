"""How training reads its data: shuffled batches shared between processes, and rows.

:class:`Rows` holds the training series (an array, a tensor on any device, or a
memory map read batch by batch); :func:`batches` draws each process's share of
every shuffled batch. Both belong to :func:`tscl.training.train`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from tscl._validation import is_memmap

__all__ = ["Rows", "batches"]


def batches(
    n: int,
    batch_size: int,
    generator: torch.Generator,
    rank: int = 0,
    world: int = 1,
    drop_last: bool = False,
) -> list[Tensor]:
    """Return this process's share of shuffled index batches.

    The order is drawn the same way in every process: each global batch of
    ``batch_size * world`` indices is cut into ``world`` equal shares (a few
    indices of a short last batch are left out to make the shares equal).
    A last share of one sample is dropped, and with ``drop_last`` any
    incomplete last batch (as TS2Vec's ``DataLoader(drop_last=True)``).
    """
    order = torch.randperm(n, generator=generator)
    batches = []
    for chunk in order.split(batch_size * world):
        share = len(chunk) // world
        batches.append(chunk[rank * share : (rank + 1) * share])
    short = len(batches[-1]) < (batch_size if drop_last else 2)
    if len(batches) > 1 and short:
        batches.pop()
    return batches


class Rows:
    """The training series, held as one tensor or read from a memory map per batch.

    An in-memory array is prepared (e.g. standardised) once and copied into a
    tensor; a tensor stays on its device (a GPU tensor never visits the host);
    a memory-mapped array (a corpus larger than memory) is never copied whole:
    each batch reads its rows in file order and prepares them. All give the
    same batches. With ``pin``, host batches are gathered into page-locked
    memory so that their copy to the GPU runs asynchronously.
    """

    def __init__(
        self,
        X: np.ndarray | Tensor,
        prepare: Callable[[Any], Any] | None,
        pin: bool,
    ) -> None:
        self.prepare = prepare or (lambda rows: rows)
        self.lazy = is_memmap(X)
        if self.lazy:
            self.source = X
        elif isinstance(X, Tensor):
            self.data = self.prepare(X.detach()).to(torch.float32)
        else:  # torch.tensor copies, so read-only input is fine
            self.data = torch.tensor(self.prepare(X), dtype=torch.float32)
        self.pin = pin and (self.lazy or self.data.device.type == "cpu")

    def __len__(self) -> int:
        return len(self.source) if self.lazy else len(self.data)

    def take(self, index: Tensor) -> Tensor:
        if self.lazy:
            return self._read(index)
        if not self.pin:
            return self.data[index.to(self.data.device)]
        shape = (len(index), *self.data.shape[1:])
        out = torch.empty(shape, dtype=self.data.dtype, pin_memory=True)
        return torch.index_select(self.data, 0, index, out=out)

    def _read(self, index: Tensor) -> Tensor:
        order = index.numpy()
        sorted_index = np.sort(order)  # sequential reads from the file
        rows = np.asarray(self.source[sorted_index])
        rows = rows[np.searchsorted(sorted_index, order)]
        batch = torch.from_numpy(
            np.ascontiguousarray(self.prepare(rows), dtype=np.float32)
        )
        return batch.pin_memory() if self.pin else batch
