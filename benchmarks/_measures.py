"""Hardware measures of tscl's training: encoder FLOPs, busy share, the card's peak.

Used by ``throughput.py``; imported by name like ``_common`` (the scripts put
their own folder on ``sys.path``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils import flop_counter

from tscl import encoders, methods
from tscl.training._train import EPOCH_LABEL

#: torch's profiler annotation of ``optimizer.zero_grad``, which the training
#: loop calls once per step (fp16's gradient scaler may skip ``optimizer.step``).


def _cpu_flash_attention(q: Any, k: Any, v: Any, *args: Any, **kwargs: Any) -> int:
    return int(flop_counter.sdpa_flop_count(q, k, v))


def _cpu_flash_attention_backward(
    grad: Any, q: Any, k: Any, v: Any, *args: Any, **kwargs: Any
) -> int:
    return int(flop_counter.sdpa_backward_flop_count(grad, q, k, v))


#: The CPU's attention kernel, which FlopCounterMode does not count by itself.
CPU_ATTENTION = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_flash_attention,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: (
        _cpu_flash_attention_backward
    ),
}


def encoder_flops(encoder: str, shape: tuple[int, int, int]) -> int:
    """The encoder's FLOPs in one SimCLR step: both views, forward and backward.

    Counted on two series and scaled to the batch: the encoder treats each
    series on its own, so its count is linear in the batch.
    """
    batch, channels, length = shape
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = encoders.build_encoder(encoder, channels, 128, None)
        method = methods.build_method("simclr", net)
        views = methods.METHODS["simclr"].default_augmentation()
        x = torch.randn(2, channels, length)
        counter = flop_counter.FlopCounterMode(
            display=False, custom_mapping=CPU_ATTENTION
        )
        with counter:
            method(views(x, None), views(x, None)).backward()
    counts = counter.get_flop_counts()
    name = next(k for k in counts if k.count(".") == 1 and k.endswith(".encoder"))
    return sum(counts[name].values()) * batch // 2


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping ``(start, end)`` intervals."""
    total, reach = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def epoch_window(events: list[Any], epoch: int = 2) -> tuple[float, float] | None:
    """Start and end of the training loop's ``tscl.epoch.<epoch>`` profiler label.

    The loop labels each epoch's steps, from its first batch to the moment the
    device has finished them: the span that ``history_["epoch_time"]`` times.
    None (and a message) when the profile holds no such label.
    """
    name = f"{EPOCH_LABEL}{epoch}"
    spans = [e.time_range for e in events if e.name == name]
    if len(spans) != 1:
        print(f"{len(spans)} profiler spans named {name!r}, 1 expected")
        return None
    return spans[0].start, spans[0].end


def busy_share(fit: Callable[[], object], cuda: bool) -> float | None:
    """Share of epoch 2's wall time covered by GPU events (CPU ops on the CPU).

    ``fit`` trains for at least two epochs under ``torch.profiler``; epoch 2 is
    the span of the loop's own label (:func:`epoch_window`).
    """
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        fit()
    events = prof.events()
    window = epoch_window(events)
    if window is None:
        return None
    start, end = window
    kind = DeviceType.CUDA if cuda else DeviceType.CPU
    intervals = [
        (max(e.time_range.start, start), min(e.time_range.end, end))
        for e in events
        if e.device_type == kind and not e.is_user_annotation
        and e.time_range.end > start and e.time_range.start < end
    ]  # fmt: skip
    return union_length(intervals) / (end - start)


def bf16_peak_tflops(device: str) -> float | None:
    """The card's dense bf16 peak in TFLOP/s, None for a card not in the table."""
    if not device.startswith("cuda"):
        return None
    name = torch.cuda.get_device_name(device)
    if "H200" in name and "NVL" not in name:
        return 989.4
    if "H100" in name:
        return 756.0 if "PCIe" in name else 989.4 if "NVL" not in name else None
    return None
