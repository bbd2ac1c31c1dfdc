"""Pretraining throughput and peak memory: tscl against a TS2Vec reference.

What is timed is tscl's real pretraining: ``ContrastiveEncoder(method="simclr",
encoder="cnn" | "transformer")``, ``ContrastiveEncoder(method="ts2vec")`` and
the default ``ContrastiveEncoder()`` (SoftCLT; both on TS2Vec's network, as the
reference) with their defaults, fitted for two epochs of
``--steps`` batches; epoch 1 is the warm-up and samples/s is the windows of
epoch 2 over its ``history_["epoch_time"]`` (the training loop alone, without
the standardisation before it or the collapse measures after each epoch; on a
GPU the loop waits for the GPU to finish the epoch's steps before it reads the
clock), on every device.

The reference is TS2Vec's training configuration in plain PyTorch
(``ts2vec_reference.py``, after github.com/yuezhihan/ts2vec): its encoder
(637,248 parameters for one channel), its per-iteration random crops, its
hierarchical contrastive loss, AdamW at 1e-3, the running average of the
weights and ``loss.item()`` per step, at the same batch shape as tscl. Its
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
  found by torch's profiler annotation of ``optimizer.zero_grad`` in each
  step; see ``_measures.py``); ``torch.cuda.max_memory_allocated``. The same
  FLOP count is reported on the CPU as GFLOP/s; ``--profile`` gives the
  profiler's share on the CPU too (the share of the step time inside torch
  operators).

The other half of the CPU target, accuracy at an equal or better level on UCR
datasets, is measured by ``throughput_accuracy.py``.

Usage::

    python benchmarks/throughput.py                     # this CPU, 3 repeats
    python benchmarks/throughput.py --temporal-unit 1 --flush-denormal \
        --memory-limit-gib 20                           # as in docs/performance.md
    python benchmarks/throughput.py --device cuda --precision bf16 --compile
    python benchmarks/throughput.py --quick             # tiny shapes, seconds

``--precision`` and ``--compile`` are passed to ``ContrastiveEncoder``. Results
are appended as JSON lines to ``--out`` (default
``benchmarks/results/throughput.jsonl``); the markdown table goes beside it and
is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

import tscl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    add_run_arguments,
    add_training_arguments,
    address_space_cap,
    append_row,
    check_run_arguments,
    context,
    denormals_flushed,
    describe,
    json_from_child,
    run_limits,
    status_mib,
    synchronize,
    table,
    threads,
    write_results,
)
from _measures import bf16_peak_tflops, encoder_flops  # noqa: E402
from _measures import busy_share as _busy_share  # noqa: E402
from _throughput_data import windows  # noqa: E402
from ts2vec_reference import TS2VecReference, seed_everything  # noqa: E402

SHAPES = [(256, 1, 1000), (64, 12, 5000)]
QUICK_SHAPES = [(16, 1, 128), (8, 12, 256)]
#: tscl's models timed: SimCLR with each encoder, and the TS2Vec family
#: (``method="ts2vec"`` and the default ``"softclt"``, TS2Vec's network) that
#: the reference implements.
ENCODERS = ("cnn", "transformer", "ts2vec", "softclt")
TS2VEC_FAMILY = ("ts2vec", "softclt")
REFERENCE = "reference"
TARGET_RATIO = 3.0  # this CPU: tscl's samples/s over the reference's
TARGET_BUSY = 0.90  # GPU: busy share of each step
TARGET_PEAK = 0.25  # GPU: share of the dense bf16 peak, transformer, large shape


# -------------------------------------------------------------- tscl, timed


def fit_ours(
    X: np.ndarray, encoder: str, batch: int, args: argparse.Namespace, **extra: Any
) -> tscl.ContrastiveEncoder:
    family = encoder in TS2VEC_FAMILY
    model = tscl.ContrastiveEncoder(
        method=encoder if family else "simclr",
        encoder="auto" if family else encoder,
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
    """Windows of epoch 2 over its ``history_["epoch_time"]`` (epoch 1: warm-up)."""
    model = fit_ours(X, encoder, batch, args)
    return len(X) / model.history_["epoch_time"][-1]


def reference_samples_per_s(
    X_btc: Tensor, batch: int, args: argparse.Namespace
) -> tuple[float, float]:
    """Samples/s of one pass over ``X_btc`` after one warm-up step; mean crop."""
    seed_everything(args.seed)
    reference = TS2VecReference(
        X_btc.shape[2], args.device, temporal_unit=args.temporal_unit
    )
    order = np.random.permutation(len(X_btc)).reshape(-1, batch)  # noqa: NPY002
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        reference.step(X_btc[order[0]])  # warm-up
        reference.crop_fractions.clear()
        synchronize(args.device)
        start = time.perf_counter()
        for index in order:
            reference.step(X_btc[index])
        synchronize(args.device)
    seconds = time.perf_counter() - start
    return len(X_btc) / seconds, float(np.mean(reference.crop_fractions))


def busy_share(
    X: np.ndarray, encoder: str, batch: int, args: argparse.Namespace
) -> float | None:
    """Share of epoch 2 of a profiled fit the GPU is busy (in torch ops on a CPU)."""
    return _busy_share(
        lambda: fit_ours(X, encoder, batch, args), args.device.startswith("cuda")
    )


# -------------------------------------------------------------------- memory


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
    before = status_mib("VmRSS")
    try:
        with address_space_cap(config["limit_gib"]):
            if config["model"] == REFERENCE:
                reference_samples_per_s(X_btc, shape[0], args)
            else:
                fit_ours(X, config["model"], shape[0], args, n_epochs=1)
    except (RuntimeError, MemoryError) as err:  # the address-space cap
        return {"before_mib": before, "error": str(err).splitlines()[0][:200]}
    return {"before_mib": before, "peak_mib": status_mib("VmHWM")}


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
    return json_from_child(command)


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
    speeds: dict[str, list[float]] = {m: [] for m in (*args.encoders, REFERENCE)}
    gpu_mib: dict[str, list[float]] = {m: [] for m in speeds}
    crops, errors = [], {}
    for repeat in range(args.repeats):
        for name in speeds:
            if name in errors:
                continue
            try:
                with _gpu_peak(args.device, gpu_mib[name]):
                    if name == REFERENCE:
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
    reference = statistics.median(speeds[REFERENCE]) if speeds[REFERENCE] else None
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
    # SimCLR's encoder FLOPs; the TS2Vec family encodes random crops, not counted
    flops = None if encoder in TS2VEC_FAMILY else encoder_flops(encoder, shape)
    flops_per_s = None if ours is None or flops is None else flops / shape[0] * ours
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
        "reference_samples_per_s_runs": speeds[REFERENCE],
        "reference_mean_crop": float(np.mean(crops)) if crops else None,
        "ratio": None if ours is None or reference is None else ours / reference,
        "encoder_flops_per_step": flops,
        "encoder_flops_per_s": flops_per_s,
        "errors": {k: v for k, v in errors.items() if k in (encoder, REFERENCE)},
    }
    if row["ratio"] is not None:
        row["ratio_gap_to_target"] = row["ratio"] - TARGET_RATIO
    if memory:
        row["memory_mib"] = memory[encoder]
        row["reference_memory_mib"] = memory[REFERENCE]
    if gpu_mib[encoder]:
        row["gpu_peak_mib"] = max(gpu_mib[encoder])
    if gpu_mib[REFERENCE]:
        row["reference_gpu_peak_mib"] = max(gpu_mib[REFERENCE])
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
    add_training_arguments(parser)
    parser.add_argument(
        "--profile", action="store_true",
        help="busy share from torch.profiler (always on with --device cuda)",
    )  # fmt: skip
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory processes"
    )
    parser.add_argument(
        "--temporal-unit", type=int, default=0,
        help="the reference's temporal_unit (TS2Vec's default 0; its own option "
        "to save time and memory on long series)",
    )  # fmt: skip
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return args
    check_run_arguments(parser, args, ("steps", "repeats"))
    if args.temporal_unit < 0:
        parser.error(f"--temporal-unit must be at least 0; got {args.temporal_unit}")
    args.estimator_params = {"precision": args.precision, "compile": args.compile}
    if args.quick:
        args.steps, args.repeats = 2, 1
    args.profile = args.profile or args.device.startswith("cuda")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if args.one:
        config = json.loads(args.one)
        with threads(args.threads):
            with denormals_flushed(config["args"]["flush_denormal"]):
                print(json.dumps(one(config)))
        return []
    with run_limits(args):
        return _run(args)


def _run(args: argparse.Namespace) -> list[dict]:
    run_context = context(args.device)
    shapes = args.shapes or (QUICK_SHAPES if args.quick else SHAPES)
    settings = [f"{k}={v}" for k, v in args.estimator_params.items()]
    settings.append(f"reference temporal_unit={args.temporal_unit}")
    if args.flush_denormal:
        settings.append("denormals flushed to zero")
    header = (
        f"Pretraining throughput: tscl's models (SimCLR with its encoders; its "
        f"TS2Vec and default SoftCLT) against a TS2Vec reference (plain PyTorch) "
        f"at the same batch shape; {args.steps} steps "
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


if __name__ == "__main__":
    main()
