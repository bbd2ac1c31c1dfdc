"""Augmentation throughput: tscl's batched torch pipelines against tsaug/numpy.

Two pipelines, each in tscl and in the closest tsaug/numpy equivalent:

* ``seed``: jitter + scaling + random resized crop + permutation, the views of
  the original brief. Reference: ``tsaug.AddNoise`` + numpy scaling +
  ``tsaug.Crop(size=(T/2, T), resize=T)`` + a vectorised numpy permutation (tsaug
  has no scaling or permutation).
* ``ecg``: baseline wander + powerline noise + EMG noise + scaling at 500 Hz.
  Reference: ``tsaug.Drift`` + numpy sinusoids + numpy FFT band-limited noise +
  numpy scaling (tsaug has no ECG noise models).

Shapes ``(4096, 1, 1000)`` and ``(256, 12, 5000)``, float32. Each figure is the
median of ``--repeats`` timed calls after one warm-up call. The reference gets its
data channels-last ``(N, T, C)`` as tsaug expects, so layout conversion is not
counted against it.

On a GPU (``--device cuda``) the script also measures the card's copy bandwidth
(``y.copy_(x)`` on 1 GiB) and reports each pipeline's time against two
memory-bandwidth floors: ``fused``, reading the input and writing the output
once (8 bytes per float32 value), and ``per-op``, every operation reading its
input and writing its output (8 bytes per value per operation).

Usage::

    python benchmarks/augment_throughput.py                # this machine's CPU
    python benchmarks/augment_throughput.py --device cuda  # plus tsaug on the CPU
    python benchmarks/augment_throughput.py --quick        # smaller, fewer repeats

Results are printed and appended as JSON lines to ``--out`` (default
``benchmarks/results/augment_throughput.jsonl``), with a markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import tsaug

from tscl import augment

FS = 500.0
SHAPES = [(4096, 1, 1000), (256, 12, 5000)]
QUICK_SHAPES = [(512, 1, 1000), (32, 12, 5000)]


# ------------------------------------------------------------------ pipelines


def tscl_pipeline(name: str) -> augment.Augmentation:
    """The tscl pipeline called ``name``."""
    if name == "seed":
        return (
            augment.Jitter(0.03)
            + augment.Scaling(0.1)
            + augment.Crop(scale=(0.5, 1.0))
            + augment.Permutation(max_segments=5)
        )
    return (
        augment.BaselineWander(fs=FS, amplitude=0.2)
        + augment.PowerlineNoise(fs=FS, frequency=50.0, amplitude=0.05)
        + augment.EMGNoise(fs=FS, amplitude=0.05)
        + augment.Scaling(0.1)
    )


def _numpy_scaling(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return x * rng.normal(1.0, 0.1, size=(x.shape[0], 1, 1)).astype(x.dtype)


def _numpy_permutation(
    x: np.ndarray, rng: np.random.Generator, max_segments: int = 5
) -> np.ndarray:
    """Vectorised numpy version of tscl's Permutation, channels-last."""
    n, length, _ = x.shape
    n_cuts = max_segments - 1
    active = rng.integers(1, n_cuts + 1, size=(n, 1))
    cuts = rng.integers(1, length, size=(n, n_cuts))
    cuts = np.where(np.arange(n_cuts) >= active, length, cuts)
    cuts.sort(axis=1)
    t = np.arange(length)
    segment = (t[None, :, None] >= cuts[:, None, :]).sum(axis=2)  # (n, length)
    order = rng.random((n, max_segments)).argsort(axis=1).argsort(axis=1)
    key = np.take_along_axis(order, segment, axis=1) * length + t
    index = key.argsort(axis=1)
    return np.take_along_axis(x, index[:, :, None], axis=1)


def _numpy_ecg_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Powerline (50 Hz + 2 harmonics) and 20-150 Hz EMG noise, channels-last."""
    n, length, channels = x.shape
    t = np.arange(length) / FS
    amp = rng.uniform(0, 0.05, size=(n, 1, channels, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, channels, 3))
    k = np.arange(1, 4)
    mains = (amp / k * np.sin(2 * np.pi * 50 * k * t[:, None, None] + phase)).sum(-1)
    white = rng.standard_normal((n, length, channels))
    spectrum = np.fft.rfft(white, axis=1)
    freq = np.fft.rfftfreq(length, 1 / FS)
    spectrum[:, (freq < 20) | (freq > 150)] = 0
    emg = np.fft.irfft(spectrum, n=length, axis=1)
    emg /= np.sqrt((emg**2).mean(axis=1, keepdims=True)) + 1e-12
    emg *= rng.uniform(0, 0.05, size=(n, 1, channels))
    return (x + mains + emg).astype(x.dtype)


def reference_pipeline(name: str, length: int) -> Callable[[np.ndarray], np.ndarray]:
    """The closest tsaug/numpy pipeline, on channels-last float32 arrays."""
    rng = np.random.default_rng(0)
    if name == "seed":
        noise = tsaug.AddNoise(scale=0.03, normalize=False)
        crop = tsaug.Crop(size=(length // 2, length), resize=length)

        def seed(x: np.ndarray) -> np.ndarray:
            x = noise.augment(x)
            x = _numpy_scaling(x, rng)
            x = crop.augment(x)
            return _numpy_permutation(x, rng)

        return seed
    drift = tsaug.Drift(max_drift=0.2, n_drift_points=3, normalize=False)

    def ecg(x: np.ndarray) -> np.ndarray:
        x = drift.augment(x)
        x = _numpy_ecg_noise(x, rng)
        return _numpy_scaling(x, rng)

    return ecg


#: Operations per pipeline, for the per-op memory floor.
N_OPS = {"seed": 4, "ecg": 4}


# ------------------------------------------------------------------- timing


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(call: Callable[[], object], repeats: int, device: torch.device):
    """Median wall time of ``call`` over ``repeats`` runs, after one warm-up."""
    call()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(device: torch.device, repeats: int) -> float:
    """Bytes per second of ``y.copy_(x)`` on 1 GiB of float32 (read + write)."""
    x = torch.empty(2**28, device=device)
    y = torch.empty_like(x)
    seconds = median_seconds(lambda: y.copy_(x), repeats, device)
    return 2 * x.numel() * x.element_size() / seconds


def run(args: argparse.Namespace) -> list[dict]:
    device = torch.device(args.device)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    repeats = 3 if args.quick else args.repeats
    bandwidth = copy_bandwidth(device, repeats) if device.type == "cuda" else None
    if bandwidth:
        print(f"copy bandwidth on {device}: {bandwidth / 1e9:.0f} GB/s")
    rows = []
    for name in ("seed", "ecg"):
        for shape in shapes:
            n, channels, length = shape
            x_host = torch.randn(shape, generator=torch.Generator().manual_seed(0))
            x = x_host.to(device)
            generator = torch.Generator(device=device).manual_seed(0)
            pipeline = tscl_pipeline(name)
            ours = median_seconds(
                lambda f=pipeline, x=x, g=generator: f(x, g), repeats, device
            )
            channels_last = np.ascontiguousarray(x_host.numpy().transpose(0, 2, 1))
            reference = reference_pipeline(name, length)
            theirs = median_seconds(
                lambda f=reference, x=channels_last: f(x), repeats, device
            )
            row = {
                "pipeline": name,
                "shape": list(shape),
                "device": str(device),
                "tscl_samples_per_s": n / ours,
                "reference_samples_per_s": n / theirs,
                "ratio": theirs / ours,
                "tscl_ms": 1e3 * ours,
                "reference_ms": 1e3 * theirs,
                "repeats": repeats,
                "threads": torch.get_num_threads(),
            }
            if bandwidth:
                value_bytes = 8 * n * channels * length  # read + write float32
                row["copy_bandwidth_gb_s"] = bandwidth / 1e9
                row["fused_floor_share"] = value_bytes / bandwidth / ours
                row["per_op_floor_share"] = N_OPS[name] * value_bytes / bandwidth / ours
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    text = (
        f"{row['pipeline']:5s} {str(tuple(row['shape'])):18s} "
        f"tscl {row['tscl_samples_per_s']:11,.0f}/s  "
        f"tsaug/numpy (CPU) {row['reference_samples_per_s']:9,.0f}/s  "
        f"ratio {row['ratio']:6.1f}x"
    )
    if "fused_floor_share" in row:
        text += (
            f"  floor share: fused {100 * row['fused_floor_share']:.0f}%, "
            f"per-op {100 * row['per_op_floor_share']:.0f}%"
        )
    return text


def _markdown(rows: list[dict], header: str) -> str:
    lines = [
        header,
        "",
        "| pipeline | shape | device | tscl samples/s | tsaug/numpy samples/s (CPU) "
        "| ratio | fused floor | per-op floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        fused = (
            f"{100 * r['fused_floor_share']:.0f}%" if "fused_floor_share" in r else ""
        )
        per_op = (
            f"{100 * r['per_op_floor_share']:.0f}%" if "per_op_floor_share" in r else ""
        )
        lines.append(
            f"| {r['pipeline']} | {tuple(r['shape'])} | {r['device']} | "
            f"{r['tscl_samples_per_s']:,.0f} | {r['reference_samples_per_s']:,.0f} | "
            f"{r['ratio']:.1f}x | {fused} | {per_op} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small shapes, 3 runs")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/augment_throughput.jsonl")
    )
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA build of torch and a GPU")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}")
    machine = (
        torch.cuda.get_device_name(args.device)
        if args.device.startswith("cuda")
        else f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads"
    )
    header = (
        f"Augmentation throughput on {machine}; torch {torch.__version__}, "
        f"tsaug {tsaug.__version__}, numpy {np.__version__}; median of "
        f"{3 if args.quick else args.repeats} runs"
    )
    print(header)
    rows = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with args.out.open("a") as f:
        for row in rows:
            f.write(json.dumps({"time": stamp, "machine": machine, **row}) + "\n")
    markdown = _markdown(rows, header)
    args.out.with_suffix(".md").write_text(markdown)
    print(f"Wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
