"""One check of every CUDA path of tscl, for the first machine with a GPU.

Runs, each in its own process with a time limit, and prints one summary table:

1. the ``gpu``-marked tests (``pytest -m gpu``);
2. ``benchmarks/throughput.py --device cuda`` for the CNN and the transformer
   (against the TS2Vec reference) in fp32, bf16, and bf16 with ``torch.compile``;
3. ``benchmarks/augment_throughput.py --device cuda``: tscl's augmentations on
   the GPU against tsaug/numpy on the CPU;
4. a 2-process ``torchrun`` fit on the one GPU (``TSCL_BACKEND=gloo``: NCCL
   refuses two ranks on one GPU), whose saved model must load.

Every output (JSON lines, markdown, logs, ``summary.md``, ``summary.json``) goes
under the folder given as the argument. On a machine without CUDA it prints
one line and exits 0; ``--smoke`` runs the same plumbing on the CPU with tiny
settings (what the CPU test suite does), so that the script itself is tested
where no GPU is.

Usage::

    make gpu-check                       # writes gpu_check_results/
    python benchmarks/gpu_check.py OUT   # the same
    python benchmarks/gpu_check.py OUT --smoke   # the plumbing, on the CPU
    python benchmarks/gpu_check.py OUT --steps tests torchrun   # some steps

Designed to finish in under 8 minutes on an H100/H200: each step has a limit
(``LIMITS``, 450 s in all) and a step past its limit is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
PTB_RECORD = ROOT.parent / "shared" / "data" / "ecg" / "ptbdb" / "s0010_re.hea"

#: Seconds each step may take on the GPU; the sum stays under 8 minutes.
LIMITS = {"tests": 90, "throughput": 80, "augment": 40, "torchrun": 80}


@dataclass
class Step:
    """One step of the check: a command, its limit and what it reported."""

    name: str
    command: list[str]
    limit_s: float
    env: dict[str, str] = field(default_factory=dict)
    status: str = "not run"
    seconds: float = 0.0
    figures: str = ""


def _run(step: Step, logs: Path) -> None:
    """Run ``step.command``, its output to ``logs/<name>.log``; set its status."""
    log = logs / f"{step.name.replace(' ', '_').replace('+', '')}.log"
    start = time.perf_counter()
    with log.open("w") as handle:
        try:
            done = subprocess.run(
                step.command,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **step.env},
                timeout=step.limit_s,
                check=False,
            )
            code = done.returncode
            step.status = "ok" if code == 0 else f"failed ({code})"
        except subprocess.TimeoutExpired:
            step.status = f"over {step.limit_s:.0f} s"
    step.seconds = time.perf_counter() - start
    if step.status != "ok":
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        step.figures = " / ".join(tail)[-300:]


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _throughput_figures(path: Path) -> str:
    """``encoder shape: tscl N/s (ratio x reference)`` for each row."""
    parts = []
    for r in _rows(path):
        shape = "x".join(str(v) for v in r["shape"])
        ours, ratio = r.get("samples_per_s"), r.get("ratio")
        text = f"{r['encoder']} {shape}: "
        text += "error" if ours is None else f"{ours:,.0f}/s"
        if ratio is not None:
            text += f" ({ratio:.2f}x TS2Vec ref.)"
        parts.append(text)
    return "; ".join(parts)


def _augment_figures(path: Path) -> str:
    return "; ".join(
        f"{r['pipeline']} {'x'.join(map(str, r['shape']))}: "
        f"{r['tscl_samples_per_s']:,.0f}/s ({r['ratio']:.0f}x tsaug CPU)"
        for r in _rows(path)
    )


def _test_figures(log: Path) -> str:
    """pytest's last line, e.g. ``14 passed, 2379 deselected in 61.2s``."""
    words = ("passed", "skipped", "failed", "error")
    lines = [
        ln for ln in log.read_text().splitlines()
        if " in " in ln and any(w in ln for w in words)
    ]  # fmt: skip
    return lines[-1].strip("= ") if lines else ""


def plan(out: Path, smoke: bool) -> list[Step]:
    """The steps, on CUDA, or on the CPU with tiny settings when ``smoke``."""
    python = sys.executable
    device = "cpu" if smoke else "cuda"
    scale = 3 if smoke else 1  # the CPU is slower, even at the tiny sizes
    size = ["--quick"] if smoke else ["--steps", "10", "--repeats", "3"]
    # The 12-lead shape reads PTB from ../shared, which a bare clone or the GPU
    # machine may lack; the 1-lead shape falls back to the shipped MIT-BIH records.
    shapes = ["16x1x128"] if smoke else ["256x1x1000"]
    if PTB_RECORD.is_file():
        shapes.append("8x12x256" if smoke else "64x12x5000")
    steps = [
        Step(
            "tests",
            [
                python,
                "-m",
                "pytest",
                "-q",
                "-m",
                "gpu",
                "-p",
                "no:cacheprovider",
                "tests",
                "--junitxml",
                str(out / "gpu_tests.xml"),
            ],  # fmt: skip
            LIMITS["tests"] * scale,
        )
    ]
    variants = [("fp32", []), ("bf16", ["--precision", "bf16"])]
    variants.append(("bf16+compile", ["--precision", "bf16", "--compile"]))
    if smoke:  # compiling for the CPU takes minutes and tests nothing CUDA-specific
        variants.pop()
    for label, options in variants:
        results = out / f"throughput_{label.replace('+', '_')}.jsonl"
        steps.append(
            Step(
                f"throughput {label}",
                [
                    python,
                    str(BENCH / "throughput.py"),
                    "--device",
                    device,
                    "--encoders",
                    "cnn",
                    "transformer",
                    *size,
                    "--shapes",
                    *shapes,
                    *options,
                    "--no-memory",
                    "--out",
                    str(results),
                ],  # fmt: skip
                LIMITS["throughput"] * scale,
            )
        )
    steps.append(
        Step(
            "augment",
            [
                python,
                str(BENCH / "augment_throughput.py"),
                "--device",
                device,
                *(["--quick"] if smoke else ["--repeats", "5"]),
                "--out",
                str(out / "augment_throughput.jsonl"),
            ],  # fmt: skip
            LIMITS["augment"] * scale,
        )
    )
    steps.append(
        Step(
            "torchrun 2 processes",
            [
                python,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node",
                "2",
                "-m",
                "tscl",
                "pretrain",
                str(ROOT / "datasets" / "ucr" / "ECG200" / "ECG200_TRAIN.tsv"),
                "--out",
                str(out / "ddp-model"),
                "--method",
                "simclr",
                "--epochs",
                "3",
                "--batch-size",
                "16",
                "--seed",
                "0",
                "--device",
                device,
            ],  # fmt: skip
            LIMITS["torchrun"] * scale,
            env={"TSCL_BACKEND": "gloo", "OMP_NUM_THREADS": "1"},
        )
    )
    return steps


def _describe(step: Step, out: Path) -> None:
    """Fill ``step.figures`` from what the step wrote."""
    if step.status != "ok":
        return
    if step.name == "tests":
        step.figures = _test_figures(out / "logs" / "tests.log")
    elif step.name.startswith("throughput"):
        label = step.name.split(" ", 1)[1].replace("+", "_")
        step.figures = _throughput_figures(out / f"throughput_{label}.jsonl")
    elif step.name == "augment":
        step.figures = _augment_figures(out / "augment_throughput.jsonl")
    else:
        import tscl

        model = tscl.load(out / "ddp-model")
        history = model.history_
        step.figures = (
            f"model saved and loaded; {len(history['loss'])} epochs, final loss "
            f"{history['loss'][-1]:.3f}"
        )


def summary(steps: list[Step], machine: str) -> str:
    """The markdown table of the steps."""
    lines = [
        f"gpu-check on {machine}",
        "",
        "| step | status | seconds | figures |",
        "|---|---|---|---|",
    ]
    for s in steps:
        figures = s.figures.replace("|", "/")
        lines.append(f"| {s.name} | {s.status} | {s.seconds:.0f} | {figures} |")
    total = sum(s.seconds for s in steps)
    lines += ["", f"total {total:.0f} s"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for every result and log")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="run the same steps on the CPU with tiny settings (tests the script)",
    )
    parser.add_argument(
        "--steps",
        nargs="+",
        default=None,
        metavar="NAME",
        help="run only the steps whose names start with these (default: all)",
    )
    args = parser.parse_args(argv)
    import torch

    if not args.smoke and not torch.cuda.is_available():
        print(
            f"gpu-check: skipped: no CUDA GPU here (torch {torch.__version__}, CUDA "
            f"build: {torch.version.cuda or 'no'}); run it on a machine with one."
        )
        return 0
    out = args.out.resolve()
    (out / "logs").mkdir(parents=True, exist_ok=True)
    machine = (
        "CPU (smoke run)" if args.smoke else torch.cuda.get_device_name(0)
    ) + f", torch {torch.__version__}"
    steps = plan(out, args.smoke)
    if args.steps:
        steps = [s for s in steps if any(s.name.startswith(p) for p in args.steps)]
        if not steps:
            parser.error(f"--steps {' '.join(args.steps)} names no step")
    for step in steps:
        print(f"gpu-check: {step.name} ...", flush=True)
        _run(step, out / "logs")
        try:
            _describe(step, out)
        except Exception as err:  # a step that ran but left no readable result
            step.status = f"no result ({type(err).__name__}: {err})"
        print(f"gpu-check: {step.name}: {step.status} in {step.seconds:.0f} s")
    table = summary(steps, machine)
    (out / "summary.md").write_text(table)
    (out / "summary.json").write_text(
        json.dumps([vars(s) for s in steps], indent=2, default=str)
    )
    print(table)
    print(f"Wrote {out / 'summary.md'}, {out / 'summary.json'} and the logs.")
    return 0 if all(s.status == "ok" for s in steps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
