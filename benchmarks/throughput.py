"""Pretraining throughput and peak memory: tscl against a TS2Vec reference.

What is timed is tscl's real pretraining: ``ContrastiveEncoder(method="simclr",
encoder="cnn" | "transformer")`` with its defaults, fitted for two epochs of
``--steps`` batches; epoch 1 is the warm-up and samples/s is the windows of
epoch 2 over its ``history_["epoch_time"]`` (the training loop alone, without
the standardisation before it or the collapse measures after each epoch). On a
GPU, where that clock may stop before the GPU has finished the steps it queued,
epoch 2 is timed from the first call of the views in it to the first call of
the collapse measures after it (:class:`_Views`).

The reference is TS2Vec's training configuration, written in plain PyTorch in
this file after the official code (github.com/yuezhihan/ts2vec, ``ts2vec.py``,
``models/encoder.py``, ``models/dilated_conv.py``, ``models/losses.py``): its
``TSEncoder`` (a linear input layer to 64 channels, a binomial timestamp mask
of the latent during training, 11 residual blocks of two GELU + dilated
convolutions of kernel 3 with dilation ``2**i`` and channels ``[64] * 10 +
[320]``, a 1x1 projection on the residual where the channels change and on the
last block, dropout 0.1 on the output); per-iteration random cropping exactly
as ``TS2Vec.fit`` draws it (a random window of ``max_train_length=3000`` first
when the series are longer; then ``crop_l``, two overlapping crops and an
offset per series); ``hierarchical_contrastive_loss`` (instance and temporal
terms, max-pooled by 2 over time per level); AdamW with learning rate 1e-3;
the running (SWA) average of the weights it updates after every step, and
``loss.item()`` per step. It trains at the same batch shape as tscl. Its
crops, masks and batches come from one seeded ``numpy`` generator, so every
repeat does the same work; the mean crop length is reported. Two options
change the reference in its favour: ``--temporal-unit N`` (TS2Vec's own
option to skip the temporal term at the N finest scales; with its default 0
the 12-lead shape ran out of a 16 GiB cap here) and ``--flush-denormal``
(``torch.set_flush_denormal(True)`` for the run, for both models: the
gradients of its loss hold subnormal floats, slow on x86 CPUs).

Data are real windows, standardised per channel: ``(batch, 1, 1000)`` windows
of lead 0 of the ten MIT-BIH records (``../shared/data/ecg/mitdb``, else the
shipped ``datasets/mitdb``; 360 Hz, no overlap, a seeded choice of windows) and
``(batch, 12, 5000)`` overlapping windows of the 12 standard leads of PTB
patient 001 (``../shared/data/ecg/ptbdb/s0010_re``, 1000 Hz, 38.4 s; the
stride gives ``--steps`` batches).

Figures:

* **CPU** (default): per shape and encoder, the median over ``--repeats`` of
  tscl's and the reference's samples/s, run interleaved in one process, and
  their ratio against the target of 3x. Peak memory: each configuration runs
  once more in a fresh process (this script with ``--one``; tscl for one
  epoch, the reference for its warm-up step and the same steps as timed),
  which reports its resident set before the model is built (Python, torch,
  tscl and the data) and its peak resident set from there on (``VmHWM``,
  reset after loading the data), both in MiB. The address space of the CPU
  runs is capped at ``--memory-limit-gib`` so that a configuration too large
  for the machine fails with "can't allocate memory" instead of waking the
  kernel's OOM killer.
* **GPU** (``--device cuda``): samples/s; achieved TFLOP/s, the encoder's
  FLOPs of one training step (both views, forward and backward, counted by
  ``torch.utils.flop_counter.FlopCounterMode``: matrix products, convolutions
  and attention; element-wise operations, the projection head and the loss are
  not counted) over the measured step time, against the card's dense bf16 peak;
  the share of the step time the GPU is busy (the union of the GPU events that
  ``torch.profiler`` records over the wall time of epoch 2 of a profiled fit,
  found by markers on each call of the views); ``torch.cuda.max_memory_allocated``.
  The same FLOP count is reported on the CPU as GFLOP/s; ``--profile`` gives
  the profiler's share on the CPU too (the share of the step time inside torch
  operators).
* ``--accuracy``: the other half of the CPU target, accuracy at equal or
  better level. On UCR datasets (official splits) the reference trains with
  TS2Vec's UCR settings (batch 8, learning rate 1e-3, 320 dimensions, 200
  iterations, or 600 above 100,000 values) and encodes each series with its
  averaged weights, max-pooled over time; tscl trains the default
  ``ContrastiveEncoder`` (and ``method="ts2vec"`` with ``--with-ts2vec-method``).
  Both fits are timed; representations are scored with
  ``tscl.evaluation.svm_probe(..., protocol="ts2vec")``.

Usage::

    python benchmarks/throughput.py                     # this CPU, 3 repeats
    python benchmarks/throughput.py --temporal-unit 1 --flush-denormal \
        --memory-limit-gib 20                           # as in docs/performance.md
    python benchmarks/throughput.py --accuracy          # UCR accuracy and speed
    python benchmarks/throughput.py --device cuda --precision bf16 --compile
    python benchmarks/throughput.py --quick             # tiny shapes, seconds

``--precision`` and ``--compile`` are passed to ``ContrastiveEncoder``. Results
are appended as JSON lines to ``--out`` (default
``benchmarks/results/throughput.jsonl``, ``throughput_accuracy.jsonl`` with
``--accuracy``); the markdown table goes beside it and is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils import flop_counter

import tscl
from tscl import encoders, methods
from tscl.datasets import load_ucr, load_wfdb_windows, sliding_windows
from tscl.evaluation import svm_probe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    ROOT,
    SHARED_DATA,
    add_run_arguments,
    append_row,
    cell,
    check_run_arguments,
    context,
    describe,
    table,
    threads,
    write_results,
)

SHAPES = [(256, 1, 1000), (64, 12, 5000)]
QUICK_SHAPES = [(16, 1, 128), (8, 12, 256)]
ENCODERS = ("cnn", "transformer")
TARGET_RATIO = 3.0  # this CPU: tscl's samples/s over the reference's
TARGET_BUSY = 0.90  # GPU: busy share of each step
TARGET_PEAK = 0.25  # GPU: share of the dense bf16 peak, transformer, large shape
MITDB_RECORDS = ["100", "104", "106", "108", "113", "121", "202", "223", "231", "232"]
PTB_RECORD = "ecg/ptbdb/s0010_re"
PTB_LEADS = ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]
UCR_DATASETS = ["ArrowHead", "GunPoint", "ItalyPowerDemand"]
MARK = "throughput::views"  # profiler marker on every call of the views


# ---------------------------------------------------------------------- data


def windows(shape: tuple[int, int, int], n: int, seed: int = 0) -> np.ndarray:
    """``n`` real windows of ``shape[1:]``, standardised per channel, float32."""
    _, channels, length = shape
    if channels == 1:
        full = SHARED_DATA / "ecg" / "mitdb"
        folder = full if full.is_dir() else ROOT / "datasets" / "mitdb"
        parts = [
            load_wfdb_windows(folder / r, window_s=length / 360.0, channels=0)
            for r in MITDB_RECORDS
        ]
        X = np.concatenate(parts)
        if len(X) < n:
            raise SystemExit(
                f"throughput.py: error: {folder} gives {len(X)} windows of "
                f"{length}; {n} are needed. Lower --steps."
            )
        X = X[np.sort(np.random.default_rng(seed).choice(len(X), n, replace=False))]
    else:
        path = SHARED_DATA / PTB_RECORD
        if not path.with_suffix(".hea").is_file():
            raise SystemExit(
                f"throughput.py: error: the 12-lead shape reads {path}.hea, which "
                "is missing (PTB patient 001, PhysioNet ptbdb)."
            )
        signal = load_wfdb_windows(path, window_s=38.4, channels=PTB_LEADS)[0]
        if channels != len(PTB_LEADS):
            raise SystemExit(f"throughput.py: error: PTB has 12 leads; got {shape}")
        stride = max(1, (signal.shape[1] - length) // max(n - 1, 1))
        X = sliding_windows(signal, length, stride)[:n]
        if len(X) < n:
            raise SystemExit(
                f"throughput.py: error: 38.4 s of PTB give {len(X)} windows of "
                f"{length}; {n} are needed. Lower --steps."
            )
    mean = X.mean(axis=(0, 2), keepdims=True)
    scale = X.std(axis=(0, 2), keepdims=True) + 1e-8
    return ((X - mean) / scale).astype(np.float32)


# ------------------------------------------ TS2Vec reference in plain PyTorch


class SamePadConv(nn.Module):
    """TS2Vec's convolution with 'same' padding."""

    def __init__(self, channels_in: int, channels_out: int, dilation: int) -> None:
        super().__init__()
        field = 2 * dilation + 1  # kernel 3
        self.conv = nn.Conv1d(
            channels_in, channels_out, 3, padding=field // 2, dilation=dilation
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)  # an odd field: nothing to remove


class ConvBlock(nn.Module):
    """TS2Vec's residual block: GELU, conv, GELU, conv, plus the residual."""

    def __init__(self, channels_in: int, channels_out: int, dilation: int, final: bool):
        super().__init__()
        self.conv1 = SamePadConv(channels_in, channels_out, dilation)
        self.conv2 = SamePadConv(channels_out, channels_out, dilation)
        self.projector = (
            nn.Conv1d(channels_in, channels_out, 1)
            if channels_in != channels_out or final
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.projector is None else self.projector(x)
        x = self.conv2(F.gelu(self.conv1(F.gelu(x))))
        return x + residual


class TSEncoder(nn.Module):
    """TS2Vec's encoder: input (batch, time, channels), output (batch, time, 320)."""

    def __init__(self, in_channels: int, out_dim: int = 320, hidden: int = 64):
        super().__init__()
        widths = [hidden] * 10 + [out_dim]
        self.input_fc = nn.Linear(in_channels, hidden)
        self.feature_extractor = nn.Sequential(
            *(
                ConvBlock(widths[i - 1] if i else hidden, w, 2**i, i == len(widths) - 1)
                for i, w in enumerate(widths)
            )
        )
        self.repr_dropout = nn.Dropout(0.1)

    def forward(self, x: Tensor, rng: np.random.RandomState | None = None) -> Tensor:
        nan_mask = ~x.isnan().any(dim=-1)
        x = x.masked_fill(~nan_mask[..., None], 0)
        x = self.input_fc(x)  # (batch, time, hidden)
        if self.training:  # binomial timestamp mask, drawn on the host as TS2Vec
            assert rng is not None
            draw = rng.binomial(1, 0.5, size=(x.size(0), x.size(1)))
            mask = torch.from_numpy(draw).to(torch.bool).to(x.device) & nan_mask
            x = x.masked_fill(~mask[..., None], 0)
        x = self.feature_extractor(x.transpose(1, 2))  # (batch, 320, time)
        return self.repr_dropout(x).transpose(1, 2)  # (batch, time, 320)


def _pairwise_logits(sim: Tensor) -> Tensor:
    """TS2Vec's logits: the similarity matrix without its diagonal."""
    logits = torch.tril(sim, diagonal=-1)[:, :, :-1]
    logits += torch.triu(sim, diagonal=1)[:, :, 1:]
    return -F.log_softmax(logits, dim=-1)


def instance_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    B = z1.size(0)
    if B == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=0).transpose(0, 1)  # (time, 2B, dim)
    logits = _pairwise_logits(z @ z.transpose(1, 2))  # (time, 2B, 2B - 1)
    i = torch.arange(B, device=z1.device)
    return (logits[:, i, B + i - 1].mean() + logits[:, B + i, i].mean()) / 2


def temporal_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    T = z1.size(1)
    if T == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=1)  # (batch, 2T, dim)
    logits = _pairwise_logits(z @ z.transpose(1, 2))  # (batch, 2T, 2T - 1)
    t = torch.arange(T, device=z1.device)
    return (logits[:, t, T + t - 1].mean() + logits[:, T + t, t].mean()) / 2


def hierarchical_contrastive_loss(
    z1: Tensor, z2: Tensor, alpha: float = 0.5, temporal_unit: int = 0
) -> Tensor:
    """TS2Vec's loss on (batch, time, dim) representations of the same steps."""
    loss, d = z1.new_zeros(()), 0
    while z1.size(1) > 1:
        loss = loss + alpha * instance_contrastive_loss(z1, z2)
        if d >= temporal_unit:
            loss = loss + (1 - alpha) * temporal_contrastive_loss(z1, z2)
        d += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    if z1.size(1) == 1:
        loss = loss + alpha * instance_contrastive_loss(z1, z2)
        d += 1
    return loss / d


def take_per_row(x: Tensor, start: np.ndarray, length: int) -> Tensor:
    """Rows ``x[i, start[i] : start[i] + length]`` of a (batch, time, ch) tensor."""
    index = torch.as_tensor(start[:, None] + np.arange(length), device=x.device)
    return x[torch.arange(len(start), device=x.device)[:, None], index]


def draw_crops(
    rng: np.random.RandomState, batch: int, ts_l: int, temporal_unit: int
) -> tuple[int, np.ndarray, int, np.ndarray, int]:
    """TS2Vec's random crops: the overlap's length, then each crop's starts
    (one per series) and length; the last ``crop_l`` steps of crop 1 are the
    first ``crop_l`` steps of crop 2."""
    crop_l = rng.randint(low=2 ** (temporal_unit + 1), high=ts_l + 1)
    crop_left = rng.randint(ts_l - crop_l + 1)
    crop_right = crop_left + crop_l
    crop_eleft = rng.randint(crop_left + 1)
    crop_eright = rng.randint(low=crop_right, high=ts_l + 1)
    crop_offset = rng.randint(low=-crop_eleft, high=ts_l - crop_eright + 1, size=batch)
    return (
        crop_l,
        crop_offset + crop_eleft,
        crop_right - crop_eleft,
        crop_offset + crop_left,
        crop_eright - crop_left,
    )


class TS2VecReference:
    """TS2Vec's training step and encoding, with its UCR defaults."""

    def __init__(
        self,
        in_channels: int,
        device: str = "cpu",
        seed: int = 0,
        max_train_length: int = 3000,
        temporal_unit: int = 0,
    ) -> None:
        self.device, self.max_train_length = device, max_train_length
        self.temporal_unit = temporal_unit
        self.rng = np.random.RandomState(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._net = TSEncoder(in_channels).to(device)
        self.net = torch.optim.swa_utils.AveragedModel(self._net)
        self.net.update_parameters(self._net)
        self.optimizer = torch.optim.AdamW(self._net.parameters(), lr=1e-3)
        self.crop_fractions: list[float] = []

    def step(self, x: Tensor) -> float:
        """One iteration of ``TS2Vec.fit`` on a (batch, time, channels) batch."""
        rng, unit = self.rng, self.temporal_unit
        if x.size(1) > self.max_train_length:
            offset = rng.randint(x.size(1) - self.max_train_length + 1)
            x = x[:, offset : offset + self.max_train_length]
        x = x.to(self.device)
        crop_l, start1, length1, start2, length2 = draw_crops(
            rng, x.size(0), x.size(1), unit
        )
        self.crop_fractions.append(crop_l / x.size(1))
        self.optimizer.zero_grad()
        out1 = self._net(take_per_row(x, start1, length1), rng)[:, -crop_l:]
        out2 = self._net(take_per_row(x, start2, length2), rng)[:, :crop_l]
        loss = hierarchical_contrastive_loss(out1, out2, temporal_unit=unit)
        loss.backward()
        self.optimizer.step()
        self.net.update_parameters(self._net)
        return loss.item()

    def fit(self, X: np.ndarray, batch_size: int, n_iters: int) -> None:
        """``n_iters`` iterations over shuffled batches of ``X`` (n, time, ch)."""
        data = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        batch_size = min(batch_size, len(data))
        self._net.train()
        with torch.random.fork_rng(devices=[]):  # dropout draws
            torch.manual_seed(int(self.rng.randint(2**31 - 1)))
            done = 0
            while done < n_iters:
                order = self.rng.permutation(len(data))
                for start in range(0, len(data) - batch_size + 1, batch_size):
                    if done == n_iters:
                        break
                    self.step(data[order[start : start + batch_size]])
                    done += 1

    def encode(self, X: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """Instance representations: the averaged net, max-pooled over time."""
        self.net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                x = torch.from_numpy(X[start : start + batch_size]).float()
                z = self.net(x.to(self.device))  # (batch, time, 320), no mask
                out.append(z.max(dim=1).values.cpu().numpy())
        return np.concatenate(out)


# -------------------------------------------------------------- tscl, timed


def fit_ours(
    X: np.ndarray, encoder: str, batch: int, args: argparse.Namespace, **extra: Any
) -> tscl.ContrastiveEncoder:
    model = tscl.ContrastiveEncoder(
        method="simclr",
        encoder=encoder,
        n_epochs=extra.pop("n_epochs", 2),
        batch_size=batch,
        device=args.device,
        random_state=args.seed,
        **args.estimator_params,
        **extra,
    )
    return model.fit(X)


def ours_samples_per_s(
    X: np.ndarray, encoder: str, batch: int, args: argparse.Namespace
) -> float:
    """Windows of epoch 2 over its time (epoch 1 is the warm-up).

    The time is ``history_["epoch_time"][-1]`` on the CPU; on a GPU, where the
    loop may stop that clock before the GPU has finished its queued steps, it
    is the span of epoch 2 between the views' calls (see :class:`_Views`).
    """
    views = _Views()
    model = fit_ours(X, encoder, batch, args, augment=views)
    seconds = model.history_["epoch_time"][-1]
    window = _Views.epoch_2(views.calls, len(X) // batch)
    if args.device.startswith("cuda") and window is not None:
        seconds = window[1] - window[0]
    return len(X) / seconds


def reference_samples_per_s(
    X_btc: Tensor, batch: int, args: argparse.Namespace
) -> tuple[float, float]:
    """Samples/s of one pass over ``X_btc`` after one warm-up step; mean crop."""
    reference = TS2VecReference(
        X_btc.shape[2], args.device, args.seed, temporal_unit=args.temporal_unit
    )
    order = reference.rng.permutation(len(X_btc)).reshape(-1, batch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        reference.step(X_btc[order[0]])  # warm-up
        reference.crop_fractions.clear()
        _sync(args.device)
        start = time.perf_counter()
        for index in order:
            reference.step(X_btc[index])
        _sync(args.device)
    seconds = time.perf_counter() - start
    return len(X_btc) / seconds, float(np.mean(reference.crop_fractions))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


# ------------------------------------------------------------------ measures


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


class _Views:
    """tscl's default views, each call clocked and marked in profiler traces.

    The training loop calls the views twice per step and twice after each
    epoch (the collapse measures), so the calls delimit epoch 2: from its
    first call to the first measure after it, by which time the loop has
    waited for the GPU to finish the last step.
    """

    def __init__(self) -> None:
        self.augmentation = methods.METHODS["simclr"].default_augmentation()
        self.calls: list[float] = []

    def __getattr__(self, name: str) -> Any:  # min_length, keeps_length
        if name in ("augmentation", "calls"):
            raise AttributeError(name)
        return getattr(self.augmentation, name)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        self.calls.append(time.perf_counter())
        with torch.profiler.record_function(MARK):
            return self.augmentation(x, generator)

    @staticmethod
    def epoch_2(calls: list[float], n_steps: int) -> tuple[float, float] | None:
        """Start and end of epoch 2 of a two-epoch fit from the calls' times."""
        per_epoch = 2 * n_steps + 2
        if len(calls) != 2 * per_epoch:
            print(f"{len(calls)} calls of the views, {2 * per_epoch} expected")
            return None
        return calls[per_epoch], calls[2 * per_epoch - 2]


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping ``(start, end)`` intervals."""
    total, reach = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def busy_share(
    X: np.ndarray, encoder: str, batch: int, args: argparse.Namespace
) -> float | None:
    """Share of epoch 2's wall time covered by GPU events (CPU ops on the CPU).

    A two-epoch fit runs under ``torch.profiler``; epoch 2 is found by the
    marks of :class:`_Views`.
    """
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    cuda = args.device.startswith("cuda")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        fit_ours(X, encoder, batch, args, augment=_Views())
    events = prof.events()
    marks = sorted(
        e.time_range.start
        for e in events
        if e.name == MARK and e.device_type == DeviceType.CPU
    )
    window = _Views.epoch_2(marks, len(X) // batch)
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


def _status_mib(field: str) -> float:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def one(config: dict) -> dict:
    """Run one configuration in this (fresh) process; report its memory in MiB.

    ``before``: the resident set after the imports and the data, before the
    model. The peak (``VmHWM``) is reset there (``/proc/self/clear_refs``),
    so ``peak`` is the largest resident set while the model is built and
    trained.
    """
    args = argparse.Namespace(**config["args"])
    shape = tuple(config["shape"])
    X = windows(shape, shape[0] * args.steps)
    X_btc = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS
    before = _status_mib("VmRSS")
    try:
        with address_space_cap(config["limit_gib"]):
            if config["model"] == "ts2vec":
                reference_samples_per_s(X_btc, shape[0], args)
            else:
                fit_ours(X, config["model"], shape[0], args, n_epochs=1)
    except (RuntimeError, MemoryError) as err:  # the address-space cap
        return {"before_mib": before, "error": str(err).splitlines()[0][:200]}
    return {"before_mib": before, "peak_mib": _status_mib("VmHWM")}


@contextlib.contextmanager
def address_space_cap(gib: float) -> Iterator[None]:
    """Cap this process's address space (not on CUDA); an allocation beyond it
    fails with an error instead of waking the kernel's OOM killer."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if gib > 0:
        resource.setrlimit(resource.RLIMIT_AS, (int(gib * 2**30), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def denormals_flushed(flush: bool) -> Iterator[None]:
    """``torch.set_flush_denormal(flush)`` for the duration, then the default."""
    torch.set_flush_denormal(flush)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def peak_memory(model: str, shape: tuple, args: argparse.Namespace) -> dict:
    """Peak resident memory of one configuration, run in a fresh process."""
    config = {
        "model": model,
        "shape": list(shape),
        "limit_gib": args.memory_limit_gib,
        "args": {k: v for k, v in vars(args).items() if k in ONE_ARGS},
    }
    command = [sys.executable, __file__, "--one", json.dumps(config)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


ONE_ARGS = (
    "device",
    "seed",
    "steps",
    "estimator_params",
    "temporal_unit",
    "flush_denormal",
)


# --------------------------------------------------------------------- runs


@contextlib.contextmanager
def _gpu_peak(device: str, into: list[float]) -> Iterator[None]:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    yield
    if device.startswith("cuda"):
        into.append(torch.cuda.max_memory_allocated(device) / 2**20)


def run_shape(shape: tuple, args: argparse.Namespace) -> list[dict]:
    """Interleaved repeats of tscl's encoders and the reference at one shape."""
    batch = shape[0]
    load_before = os.getloadavg()[0]
    X = windows(shape, batch * args.steps)
    X_btc = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))
    speeds: dict[str, list[float]] = {m: [] for m in (*args.encoders, "ts2vec")}
    gpu_mib: dict[str, list[float]] = {m: [] for m in speeds}
    crops, errors = [], {}
    for repeat in range(args.repeats):
        for name in speeds:
            if name in errors:
                continue
            try:
                with _gpu_peak(args.device, gpu_mib[name]):
                    if name == "ts2vec":
                        speed, crop = reference_samples_per_s(X_btc, batch, args)
                        crops.append(crop)
                    else:
                        speed = ours_samples_per_s(X, name, batch, args)
            except (RuntimeError, MemoryError) as err:
                errors[name] = str(err).splitlines()[0][:200]
                print(f"{shape} {name}: failed: {errors[name]}", flush=True)
                continue
            speeds[name].append(speed)
            print(f"{shape} repeat {repeat + 1} {name:11s} {speed:9.1f} samples/s",
                  flush=True)  # fmt: skip
    load = (load_before, os.getloadavg()[0])
    reference = statistics.median(speeds["ts2vec"]) if speeds["ts2vec"] else None
    memory = {}
    if not args.device.startswith("cuda") and not args.no_memory:
        memory = {m: peak_memory(m, shape, args) for m in speeds}
    rows = []
    for encoder in args.encoders:
        row = _row(
            shape, encoder, speeds, reference, crops, memory, gpu_mib, errors, args
        )
        row["load_average_before_after"] = load  # 1 min; other work on the CPU
        rows.append(row)
        print(_line(rows[-1]), flush=True)
    return rows


def _row(
    shape: tuple,
    encoder: str,
    speeds: dict,
    reference: float | None,
    crops: list[float],
    memory: dict,
    gpu_mib: dict,
    errors: dict,
    args: argparse.Namespace,
) -> dict:
    ours = statistics.median(speeds[encoder]) if speeds[encoder] else None
    flops = encoder_flops(encoder, shape)
    flops_per_s = None if ours is None else flops / shape[0] * ours
    peak = bf16_peak_tflops(args.device)
    row: dict[str, Any] = {
        "shape": list(shape),
        "encoder": encoder,
        "steps": args.steps,
        "repeats": args.repeats,
        "seed": args.seed,
        **args.estimator_params,
        "reference_temporal_unit": args.temporal_unit,
        "flush_denormal": args.flush_denormal,
        "samples_per_s": ours,
        "samples_per_s_runs": speeds[encoder],
        "reference_samples_per_s": reference,
        "reference_samples_per_s_runs": speeds["ts2vec"],
        "reference_mean_crop": float(np.mean(crops)) if crops else None,
        "ratio": None if ours is None or reference is None else ours / reference,
        "encoder_flops_per_step": flops,
        "encoder_flops_per_s": flops_per_s,
        "errors": {k: v for k, v in errors.items() if k in (encoder, "ts2vec")},
    }
    if row["ratio"] is not None:
        row["ratio_gap_to_target"] = row["ratio"] - TARGET_RATIO
    if memory:
        row["memory_mib"] = memory[encoder]
        row["reference_memory_mib"] = memory["ts2vec"]
    if gpu_mib[encoder]:
        row["gpu_peak_mib"] = max(gpu_mib[encoder])
    if gpu_mib["ts2vec"]:
        row["reference_gpu_peak_mib"] = max(gpu_mib["ts2vec"])
    if args.device.startswith("cuda") and peak is None:
        row["bf16_peak_tflops"] = "unknown"  # a card not in bf16_peak_tflops
    if peak and flops_per_s is not None:
        row["bf16_peak_tflops"] = peak
        row["share_of_bf16_peak"] = flops_per_s / 1e12 / peak
        row["peak_gap_to_target"] = row["share_of_bf16_peak"] - TARGET_PEAK
    if args.profile:
        X = windows(shape, shape[0] * args.steps)
        row["busy_share"] = busy_share(X, encoder, shape[0], args)
        if row["busy_share"] is not None and args.device.startswith("cuda"):
            row["busy_gap_to_target"] = row["busy_share"] - TARGET_BUSY
    return row


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def _mib(memory: dict | None) -> str:
    if not memory:
        return "–"
    if "error" in memory:
        return "failed: " + memory["error"][:60]
    return f"{memory['peak_mib']:,.0f} ({memory['before_mib']:,.0f} before)"


def _line(row: dict) -> str:
    gflops = _fmt(
        row["encoder_flops_per_s"] and row["encoder_flops_per_s"] / 1e9, ".1f"
    )
    return (
        f"{str(tuple(row['shape'])):15s} {row['encoder']:11s} tscl "
        f"{_fmt(row['samples_per_s'], '8.1f')}/s  TS2Vec reference "
        f"{_fmt(row['reference_samples_per_s'], '8.1f')}/s  ratio "
        f"{_fmt(row['ratio'], '.2f', 'x')}  encoder {gflops} GFLOP/s"
    )


def markdown(rows: list[dict], header: str, cuda: bool) -> str:
    columns = ["shape", "encoder", "tscl samples/s", "TS2Vec ref. samples/s", "ratio"]
    body = []
    for r in rows:
        line = [
            f"{tuple(r['shape'])}",
            r["encoder"],
            _fmt(r["samples_per_s"], ",.1f"),
            _fmt(r["reference_samples_per_s"], ",.1f"),
            _fmt(r["ratio"], ".2f", "x"),
        ]
        if cuda:
            line += [
                _fmt(
                    r["encoder_flops_per_s"] and r["encoder_flops_per_s"] / 1e12, ".1f"
                ),
                _fmt(r.get("share_of_bf16_peak"), ".1%")
                if r.get("bf16_peak_tflops") != "unknown"
                else "unknown card",
                _fmt(r.get("peak_gap_to_target"), "+.1%"),
                _fmt(r.get("busy_share"), ".1%"),
                _fmt(r.get("busy_gap_to_target"), "+.1%"),
                _fmt(r.get("gpu_peak_mib"), ",.0f"),
                _fmt(r.get("reference_gpu_peak_mib"), ",.0f"),
            ]
        else:
            line += [
                _fmt(r.get("ratio_gap_to_target"), "+.2f", "x"),
                _fmt(
                    r["encoder_flops_per_s"] and r["encoder_flops_per_s"] / 1e9, ".1f"
                ),
                _mib(r.get("memory_mib")),
                _mib(r.get("reference_memory_mib")),
            ]
            if any("busy_share" in row for row in rows):
                line.append(_fmt(r.get("busy_share"), ".1%"))
        line.append(_fmt(r["reference_mean_crop"], ".2f"))
        line.append(" / ".join(f"{v:.1f}" for v in r["load_average_before_after"]))
        body.append(line)
    if cuda:
        columns += [
            "encoder TFLOP/s",
            "of bf16 peak",
            f"gap to {TARGET_PEAK:.0%}",
            "GPU busy",
            f"gap to {TARGET_BUSY:.0%}",
            "tscl peak MiB",
            "ref. peak MiB",
        ]
    else:
        columns += [
            f"gap to {TARGET_RATIO:g}x",
            "encoder GFLOP/s",
            "tscl peak RSS MiB",
            "ref. peak RSS MiB",
        ]
        if any("busy_share" in row for row in rows):
            columns.append("in torch ops")
    columns += ["ref. mean crop", "load before / after"]
    return f"{header}\n\n{table(columns, body)}\n"


# ------------------------------------------------------------------ accuracy


def accuracy_rows(name: str, args: argparse.Namespace, seed: int) -> list[dict]:
    """Fit, encode and score the reference and tscl on one UCR dataset."""
    X_train, y_train, X_test, y_test = load_ucr(name, args.root)
    rows = []
    as_btc = (
        (lambda X: X[:, :, None])
        if X_train.ndim == 2
        else (lambda X: X.transpose(0, 2, 1))
    )
    n_iters = 200 if X_train.size <= 100_000 else 600
    if args.quick:
        n_iters = 4
    start = time.perf_counter()
    reference = TS2VecReference(
        as_btc(X_train).shape[2], args.device, seed, temporal_unit=args.temporal_unit
    )
    reference.fit(as_btc(X_train), batch_size=8, n_iters=n_iters)
    fit_s = time.perf_counter() - start
    Z = [reference.encode(as_btc(X).astype(np.float32)) for X in (X_train, X_test)]
    samples = n_iters * min(8, len(X_train))
    rows.append(_score("TS2Vec reference", Z, y_train, y_test, fit_s, samples, seed))
    models = {"tscl simclr (default)": {}}
    if args.with_ts2vec_method:
        models["tscl ts2vec"] = {"method": "ts2vec"}
    for label, params in models.items():
        if args.quick:
            params = {
                **params,
                "n_epochs": 1,
                "encoder_params": {"hidden_dim": 8, "depth": 2},
            }
        model = tscl.ContrastiveEncoder(
            **params, device=args.device, random_state=seed, **args.estimator_params
        )
        start = time.perf_counter()
        model.fit(X_train)
        fit_s = time.perf_counter() - start
        Z = [model.transform(X) for X in (X_train, X_test)]
        samples = len(X_train) * model.n_epochs
        rows.append(_score(label, Z, y_train, y_test, fit_s, samples, seed))
    for row in rows:
        row.update(dataset=name, n_train=len(X_train), length=X_train.shape[-1])
    return rows


def _score(
    label: str,
    Z: list,
    y_train: Any,
    y_test: Any,
    fit_s: float,
    samples: int,
    seed: int,
) -> dict:
    result = svm_probe(
        Z[0], y_train, Z[1], y_test, protocol="ts2vec", random_state=seed
    )
    return {
        "model": label,
        "seed": seed,
        "accuracy": result["accuracy"],
        "fit_time_s": fit_s,
        "samples": samples,
        "samples_per_s": samples / fit_s,
    }


def accuracy_markdown(rows: list[dict], header: str) -> str:
    names = list(dict.fromkeys(r["dataset"] for r in rows))
    labels = list(dict.fromkeys(r["model"] for r in rows))

    def mean(key: str, model: str, dataset: str | None = None) -> float:
        return float(
            np.mean(
                [
                    r[key]
                    for r in rows
                    if r["model"] == model and dataset in (None, r["dataset"])
                ]
            )
        )

    body = []
    for name in names:
        for label in labels:
            mine = [r for r in rows if r["dataset"] == name and r["model"] == label]
            body.append(
                [
                    name,
                    label,
                    cell([r["accuracy"] for r in mine]),
                    cell([r["fit_time_s"] for r in mine], 1),
                    cell([r["samples_per_s"] for r in mine], 1),
                ]
            )
    columns = ["dataset", "model", "accuracy", "fit s", "training samples/s"]
    lines = [header, "", table(columns, body), ""]
    ref = "TS2Vec reference"
    for label in labels[1:]:
        ours, theirs = mean("accuracy", label), mean("accuracy", ref)
        speed = [
            mean("samples_per_s", label, n) / mean("samples_per_s", ref, n)
            for n in names
        ]
        wins = sum(
            mean("accuracy", label, n) >= mean("accuracy", ref, n) for n in names
        )
        lines.append(
            f"- {label} against the TS2Vec reference: mean accuracy {ours:.3f} vs "
            f"{theirs:.3f} ({ours - theirs:+.3f}), at or above on {wins} of "
            f"{len(names)}; training samples/s {min(speed):.2f}x to "
            f"{max(speed):.2f}x the reference's."
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- main


def _shape(text: str) -> tuple[int, int, int]:
    try:
        batch, channels, length = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a shape is BATCHxCHANNELSxLENGTH, e.g. 256x1x1000; got {text!r}"
        ) from None
    if channels not in (1, 12) or min(batch, length) < 2:
        raise argparse.ArgumentTypeError(
            f"shapes have 1 channel (MIT-BIH) or 12 (PTB), a batch and a length "
            f"of at least 2; got {text!r}"
        )
    return batch, channels, length


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_arguments(
        parser, "throughput", "tiny shapes, 2 steps, 1 repeat (a smoke test)"
    )
    parser.add_argument("--steps", type=int, default=2, help="batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=3, help="median over N runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--encoders", nargs="+", choices=ENCODERS, default=list(ENCODERS)
    )
    parser.add_argument(
        "--shapes", nargs="+", type=_shape, default=None,
        help="batch shapes BxCxL (default 256x1x1000 64x12x5000; C is 1 or 12)",
    )  # fmt: skip
    parser.add_argument(
        "--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
        help="ContrastiveEncoder(precision=...) (default fp32)",
    )  # fmt: skip
    parser.add_argument(
        "--compile", action="store_true", help="ContrastiveEncoder(compile=True)"
    )
    parser.add_argument(
        "--profile", action="store_true",
        help="busy share from torch.profiler (always on with --device cuda)",
    )  # fmt: skip
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory processes"
    )
    parser.add_argument(
        "--memory-limit-gib", type=float, default=16.0,
        help="address-space cap of the CPU runs, so that too large a "
        "configuration fails instead of exhausting the machine (default 16; 0: "
        "none)",
    )  # fmt: skip
    parser.add_argument(
        "--temporal-unit", type=int, default=0,
        help="the reference's temporal_unit (TS2Vec's default 0; its own option "
        "to save time and memory on long series)",
    )  # fmt: skip
    parser.add_argument(
        "--flush-denormal", action="store_true",
        help="torch.set_flush_denormal(True) for the whole run (both models)",
    )  # fmt: skip
    parser.add_argument(
        "--accuracy", action="store_true",
        help="UCR accuracy and training speed of the reference and tscl",
    )  # fmt: skip
    parser.add_argument(
        "--datasets", nargs="+", default=UCR_DATASETS, help="with --accuracy"
    )
    parser.add_argument(
        "--root", type=Path, default=None,
        help=f"UCR folder for --accuracy (default {SHARED_DATA / 'ucr'}; the "
        "shipped datasets/ucr with --quick)",
    )  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3, help="with --accuracy")
    parser.add_argument(
        "--with-ts2vec-method", action="store_true",
        help="with --accuracy: also ContrastiveEncoder(method='ts2vec')",
    )  # fmt: skip
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return args
    check_run_arguments(parser, args, ("steps", "repeats", "seeds"))
    if args.temporal_unit < 0:
        parser.error(f"--temporal-unit must be at least 0; got {args.temporal_unit}")
    args.estimator_params = {"precision": args.precision, "compile": args.compile}
    if args.quick:
        args.steps, args.repeats, args.seeds = 2, 1, 1
        args.root = args.root or ROOT / "datasets" / "ucr"
        args.datasets = ["ECG200"] if args.datasets == UCR_DATASETS else args.datasets
    args.root = args.root or SHARED_DATA / "ucr"
    args.profile = args.profile or args.device.startswith("cuda")
    if args.out == RESULTS / "throughput.jsonl" and args.accuracy:
        args.out = RESULTS / "throughput_accuracy.jsonl"
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if args.one:
        config = json.loads(args.one)
        with threads(args.threads):
            with denormals_flushed(config["args"]["flush_denormal"]):
                print(json.dumps(one(config)))
        return []
    cap = 0.0 if args.device.startswith("cuda") else args.memory_limit_gib
    with threads(args.threads), address_space_cap(cap):
        with denormals_flushed(args.flush_denormal):
            return _run(args)


def _run(args: argparse.Namespace) -> list[dict]:
    run_context = context(args.device)
    if args.accuracy:
        return _accuracy(args, run_context)
    shapes = args.shapes or (QUICK_SHAPES if args.quick else SHAPES)
    settings = [f"{k}={v}" for k, v in args.estimator_params.items()]
    settings.append(f"reference temporal_unit={args.temporal_unit}")
    if args.flush_denormal:
        settings.append("denormals flushed to zero")
    header = (
        f"Pretraining throughput: SimCLR with tscl's encoders against a TS2Vec "
        f"reference (plain PyTorch) at the same batch shape; {args.steps} steps "
        f"per timed epoch, median of {args.repeats} interleaved run(s); "
        f"{', '.join(settings)}{' (quick)' if args.quick else ''}; "
        f"{describe(run_context)}"
    )
    print(header, flush=True)
    rows = []
    for shape in shapes:
        for row in run_shape(shape, args):
            row.update(run_context)
            append_row(row, args.out)
            rows.append(row)
    markdown_text = markdown(rows, header, args.device.startswith("cuda"))
    write_results(rows, args.out, markdown_text, appended=True)
    return rows


def _accuracy(args: argparse.Namespace, run_context: dict) -> list[dict]:
    header = (
        f"UCR accuracy (TS2Vec's SVM protocol) and training speed: the TS2Vec "
        f"reference (batch 8, 320 dims, 200 iterations) against tscl's default "
        f"ContrastiveEncoder, {args.seeds} seed(s); {describe(run_context)}"
    )
    print(header, flush=True)
    rows = []
    for name in args.datasets:
        for seed in range(args.seeds):
            for row in accuracy_rows(name, args, seed):
                row.update(run_context)
                append_row(row, args.out)
                rows.append(row)
                print(
                    f"{name:18s} seed {seed} {row['model']:22s} accuracy "
                    f"{row['accuracy']:.3f}  fit {row['fit_time_s']:6.1f} s "
                    f"({row['samples_per_s']:.1f} samples/s)",
                    flush=True,
                )
    write_results(rows, args.out, accuracy_markdown(rows, header), appended=True)
    return rows


if __name__ == "__main__":
    main()
