"""Devices and ``torch.distributed``: device resolution, process setup, gathering.

The lowest layer of tscl: it imports no other tscl module. :func:`resolve_device`
is where every part of tscl (training, ``transform``, fine-tuning, the demo)
turns ``device="auto"`` into a device, the local rank's GPU under ``torchrun``.

tscl trains with :class:`~torch.nn.parallel.DistributedDataParallel` when it runs
in several processes, e.g. under ``torchrun --nproc_per_node=N -m tscl pretrain
...``. :func:`setup` joins the process group that ``torchrun`` describes in the
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``): NCCL on GPUs, gloo on CPUs (``TSCL_BACKEND`` overrides it, see
:func:`backend`). Everything else works in a single
process too, where it does nothing: :func:`gather` returns its input,
:func:`rank` is 0 and :func:`world_size` is 1.

Methods call :func:`gather_others` to contrast their batch with the embeddings
of every other process. Gradients flow back to the process that computed each
embedding, so with equal batches the loss and the gradients equal those of one
process on the concatenated batch.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from tscl._validation import short_repr

__all__ = [
    "BACKEND_VARIABLE",
    "all_gather_objects",
    "all_mean",
    "backend",
    "barrier",
    "broadcast_buffers",
    "gather",
    "gather_others",
    "is_main_process",
    "launched",
    "rank",
    "parse_device",
    "resolve_device",
    "setup",
    "world_size",
]


def _active() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Return the number of processes training together (1 outside a group).

    Examples
    --------
    >>> world_size()
    1
    """
    return dist.get_world_size() if _active() else 1


def rank() -> int:
    """Return this process's rank, 0 to ``world_size() - 1`` (0 outside a group).

    Examples
    --------
    >>> rank()
    0
    """
    return dist.get_rank() if _active() else 0


def is_main_process() -> bool:
    """Return True on rank 0, the process that logs, shows progress and writes.

    Examples
    --------
    >>> is_main_process()
    True
    """
    return rank() == 0


def launched() -> bool:
    """Return True when a launcher such as ``torchrun`` started several processes.

    It reads ``WORLD_SIZE`` from the environment.

    Examples
    --------
    >>> import os
    >>> launched() == (int(os.environ.get("WORLD_SIZE", "1")) > 1)
    True
    """
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def setup(device: str | torch.device = "auto") -> torch.device:
    """Join the process group ``torchrun`` describes and return this process's device.

    Outside ``torchrun`` (and when a group already exists) nothing is
    initialised. On GPUs each process takes ``cuda:LOCAL_RANK`` and the NCCL
    backend; on CPUs the gloo backend.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. Under a launcher,
        ``"auto"`` and ``"cuda"`` mean the GPU of this process's local rank.

    Returns
    -------
    torch.device
        The device this process trains on.

    Raises
    ------
    ValueError
        For a malformed device, CUDA on a machine without it, or fewer GPUs than
        processes on this machine.
    RuntimeError
        If the environment of a launcher is incomplete (``MASTER_ADDR`` unset).

    Examples
    --------
    >>> setup("cpu")  # a single process: nothing to join
    device(type='cpu')
    """
    resolved = resolve_device(device)
    if not launched() and not _active():
        return resolved
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if not _active():
        if "MASTER_ADDR" not in os.environ:
            raise RuntimeError(
                "WORLD_SIZE is set but MASTER_ADDR is not: start the processes with "
                "torchrun (e.g. torchrun --nproc_per_node=2 -m tscl pretrain ...), "
                "which sets RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT."
            )
        chosen = backend(resolved)
        device_id = _device_id(resolved) if chosen == "nccl" else None
        dist.init_process_group(chosen, device_id=device_id)
    return resolved


#: Environment variable that overrides the process group's backend.
BACKEND_VARIABLE = "TSCL_BACKEND"


def backend(device: torch.device) -> str:
    """Return the process group backend for ``device``: NCCL on GPUs, else gloo.

    The environment variable ``TSCL_BACKEND`` (``nccl`` or ``gloo``) overrides
    it. With ``gloo`` on GPUs, processes may share a GPU (``LOCAL_RANK``
    modulo the GPU count), e.g. two processes on a one-GPU machine, which NCCL
    refuses.

    Parameters
    ----------
    device : torch.device
        The device this process trains on.

    Returns
    -------
    str
        ``"nccl"`` or ``"gloo"``.

    Raises
    ------
    ValueError
        If ``TSCL_BACKEND`` is another name, or ``nccl`` without CUDA.

    Examples
    --------
    >>> backend(torch.device("cpu"))
    'gloo'
    """
    chosen = os.environ.get(BACKEND_VARIABLE, "").strip().lower()
    if chosen not in ("", "nccl", "gloo"):
        raise ValueError(
            f"{BACKEND_VARIABLE}={short_repr(chosen)} is not a backend tscl trains "
            "with; use "
            f"'nccl' (GPUs) or 'gloo' (CPUs, or processes sharing a GPU), or unset it."
        )
    if chosen == "nccl" and device.type != "cuda":
        raise ValueError(
            f"{BACKEND_VARIABLE}=nccl needs GPUs, but this process trains on "
            f"{device}; unset {BACKEND_VARIABLE} or use gloo."
        )
    return chosen or ("nccl" if device.type == "cuda" else "gloo")


def parse_device(device: Any) -> torch.device:
    """Read a ``device`` parameter (``"auto"`` is this machine's best device).

    Raises
    ------
    ValueError
        If ``device`` is not a device name, e.g. None or ``"gpu"``.

    Examples
    --------
    >>> parse_device("cuda:1")
    device(type='cuda', index=1)
    """
    if isinstance(device, str) and device.lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        if not isinstance(device, (str, torch.device)):
            raise TypeError
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda' or 'cuda:N'; "
            f"got {short_repr(device)}."
        ) from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` to a device.

    The one place where tscl picks a device: training, ``transform``,
    fine-tuning and the demo all call it. ``"auto"`` picks CUDA when it is
    available, else the CPU. Under a launcher such as ``torchrun``, ``"auto"``
    and ``"cuda"`` (without an index) mean ``cuda:LOCAL_RANK``, this process's
    own GPU. Nothing is initialised.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For a malformed name, a CUDA device on a machine without CUDA, or, under
        a launcher, fewer GPUs than processes on this machine.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cpu", "cuda")
    True
    """
    resolved = parse_device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={short_repr(device)} was asked for but CUDA is not available here "
            "(torch "
            f"{torch.__version__}). Use device='auto' or 'cpu', or install a CUDA "
            "build of torch."
        )
    if resolved.type != "cuda" or resolved.index is not None:
        return resolved
    if not launched() and not _active():
        return resolved
    local = int(os.environ.get("LOCAL_RANK", "0"))
    count = torch.cuda.device_count()
    if local >= count:
        if os.environ.get(BACKEND_VARIABLE, "").strip().lower() == "gloo":
            return torch.device("cuda", local % count)  # gloo lets them share
        raise ValueError(
            f"Process with LOCAL_RANK={local} has no GPU: this machine has "
            f"{count}. Start at most that many processes per node "
            f"(--nproc_per_node), set {BACKEND_VARIABLE}=gloo to let processes "
            "share GPUs (slower; for tests), or train on device='cpu'."
        )
    return torch.device("cuda", local)


def _device_id(device: torch.device) -> torch.device | None:
    return device if device.type == "cuda" else None


class _Gather(torch.autograd.Function):
    """All-gather along dim 0 whose backward returns each process its gradient.

    Every process's loss may depend on every process's rows, so the gradient of
    a row is the sum over processes of the gradients they computed for it: an
    all-reduce of the whole gradient, then this process's slice.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rows = x.shape[0]
        return torch.cat(parts)  # (world * batch, ...)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)
        start = dist.get_rank() * ctx.rows
        return grad[start : start + ctx.rows]


def gather(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every process along dim 0, keeping gradients.

    Every process must pass a tensor of the same shape. Process ``r``'s rows
    are ``r * len(x)`` to ``(r + 1) * len(x)`` of the result.

    Parameters
    ----------
    x : Tensor of shape (batch, ...)
        This process's rows, e.g. its embeddings.

    Returns
    -------
    Tensor of shape (world_size * batch, ...)
        ``x`` itself in a single process.

    Examples
    --------
    >>> x = torch.ones(3, 2)
    >>> gather(x) is x  # a single process
    True
    """
    if world_size() == 1:
        return x
    out: Tensor = _Gather.apply(x)
    return out


def gather_others(x: Tensor) -> Tensor:
    """Return the other processes' rows, with gradients (:func:`gather` minus ours).

    Parameters
    ----------
    x : Tensor of shape (batch, ...)
        This process's rows.

    Returns
    -------
    Tensor of shape ((world_size - 1) * batch, ...)
        Empty (0 rows) in a single process.

    Examples
    --------
    >>> gather_others(torch.ones(3, 2)).shape
    torch.Size([0, 2])
    """
    if world_size() == 1:
        return x[:0]
    everything = gather(x)
    start = rank() * x.shape[0]
    return torch.cat([everything[:start], everything[start + x.shape[0] :]])


def all_gather_objects(value: Any) -> list[Any]:
    """Collect a picklable value from every process, in rank order.

    Used for per-process state such as random generators in checkpoints.

    Parameters
    ----------
    value : object
        This process's value.

    Returns
    -------
    list
        One value per process (``[value]`` in a single process).

    Examples
    --------
    >>> all_gather_objects(3)
    [3]
    """
    if world_size() == 1:
        return [value]
    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, value)
    return out


def all_mean(x: Tensor) -> Tensor:
    """Average ``x`` over processes, without gradients (``x`` itself in one process).

    Parameters
    ----------
    x : Tensor
        Same shape in every process, e.g. this process's losses.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> all_mean(torch.tensor([1.0, 2.0]))
    tensor([1., 2.])
    """
    if world_size() == 1:
        return x
    total = x.detach().clone()
    dist.all_reduce(total)
    return total / world_size()


def broadcast_buffers(module: torch.nn.Module) -> None:
    """Copy rank 0's buffers (e.g. BatchNorm statistics) to every process.

    DistributedDataParallel keeps parameters equal; buffers updated in the
    forward pass drift apart, so training calls this after each epoch.

    Parameters
    ----------
    module : nn.Module
        The module whose buffers are overwritten in place.

    Examples
    --------
    >>> broadcast_buffers(torch.nn.BatchNorm1d(3))  # a single process: no-op
    """
    if world_size() == 1:
        return
    for buffer in module.buffers():
        dist.broadcast(buffer.data, src=0)


def barrier() -> None:
    """Wait until every process gets here (nothing in a single process).

    Examples
    --------
    >>> barrier()
    """
    if world_size() > 1:
        dist.barrier()
