"""What every benchmark script shares: run context, limits, processes, tables, output.

The scripts in ``benchmarks/`` import this module by name; each puts its own
folder on ``sys.path`` first, so they run as ``python benchmarks/<name>.py``
from anywhere and load in the tests with ``importlib``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import threadpoolctl
import torch

import tscl

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: The project's real-data supply beside the repository (see its README).
SHARED_DATA = ROOT.parent / "shared" / "data"


def git_sha() -> str:
    """The repository's commit, ``+dirty`` when tracked files differ from it."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only, no index refresh
    try:
        sha, status = (
            subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
            for command in (
                ["git", "rev-parse", "HEAD"],
                ["git", "status", "--porcelain", "--untracked-files=no"],
            )
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha.strip() + ("+dirty" if status.strip() else "")


def machine(device: str) -> str:
    """CPU (and GPU) description with the thread count torch uses."""
    cpu = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{torch.get_num_threads()} torch threads"
    )
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(device)}; {cpu}"
    return cpu


def context(device: str) -> dict[str, str]:
    """Versions, commit, machine and time, stored with every result row."""
    return {
        "device": device,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "tscl": tscl.__version__,
        "git_sha": git_sha(),
        "machine": machine(device),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def describe(run: dict[str, str]) -> str:
    """One line naming the machine and versions of a :func:`context`."""
    return (
        f"{run['machine']}, device {run['device']}; torch {run['torch']}, "
        f"scikit-learn {run['sklearn']}, tscl {run['tscl']} ({run['git_sha']})"
    )


@contextlib.contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Limit torch and the BLAS/OpenMP pools of the probes to ``n`` threads."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpoolctl.threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def address_space_cap(gib: float) -> Iterator[None]:
    """Cap this process's address space at ``gib`` GiB (none for 0) meanwhile.

    An allocation beyond the cap fails with an error (torch: "can't allocate
    memory") instead of waking the kernel's OOM killer. Not for CUDA, whose
    driver maps far more address space than it uses.
    """
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


def synchronize(device: str) -> None:
    """Wait for the GPU to finish its queued work (nothing to wait for on a CPU)."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def status_mib(field: str) -> float:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def json_from_child(command: list[str]) -> dict:
    """Run ``command`` in a fresh process; the JSON object it prints last.

    A failed or silent process gives ``{"error": <its last line of stderr>}``.
    """
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def add_run_arguments(
    parser: argparse.ArgumentParser, name: str, quick_help: str
) -> None:
    """Add ``--device``, ``--threads``, ``--quick`` and ``--out`` (results/NAME)."""
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads of torch and of the probes' BLAS (default: the "
        "libraries' choice); 1 on a shared CPU",
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS / f"{name}.jsonl",
        help="JSON lines file to append to; the markdown table goes beside it",
    )


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--precision``, ``--compile``, ``--flush-denormal``, ``--memory-limit-gib``.

    The first two are ``ContrastiveEncoder``'s; :func:`run_limits` applies the
    last two.
    """
    parser.add_argument(
        "--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
        help="ContrastiveEncoder(precision=...) (default fp32)",
    )  # fmt: skip
    parser.add_argument(
        "--compile", action="store_true", help="ContrastiveEncoder(compile=True)"
    )
    parser.add_argument(
        "--flush-denormal", action="store_true",
        help="torch.set_flush_denormal(True) for the whole run (every model)",
    )  # fmt: skip
    parser.add_argument(
        "--memory-limit-gib", type=float, default=16.0,
        help="address-space cap of the CPU runs, so that too large a "
        "configuration fails instead of exhausting the machine (default 16; 0: "
        "none)",
    )  # fmt: skip


@contextlib.contextmanager
def run_limits(args: argparse.Namespace) -> Iterator[None]:
    """``--threads``, ``--flush-denormal`` and (CPU only) ``--memory-limit-gib``."""
    cap = 0.0 if args.device.startswith("cuda") else args.memory_limit_gib
    with threads(args.threads), address_space_cap(cap):
        with denormals_flushed(args.flush_denormal):
            yield


def check_run_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, counts: tuple = ()
) -> None:
    """Refuse ``--threads`` and the named ``counts`` below 1, and CUDA without a GPU."""
    for name in (*counts, "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {value}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda needs a CUDA build of torch and a GPU")


def cell(values: list[float], digits: int = 3) -> str:
    """``mean ± std`` of ``values`` (the value alone for one; ``–`` for none)."""
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def append_row(row: dict, out: Path) -> None:
    """Append one result to the JSON lines file ``out`` as soon as it exists."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(row) + "\n")


def write_results(
    rows: list[dict], out: Path, markdown: str, *, appended: bool = False
) -> None:
    """Append ``rows`` to ``out`` (unless ``appended``); write ``markdown`` beside."""
    if not appended:
        for row in rows:
            append_row(row, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(markdown)
    print("\n" + markdown)
    print(f"Wrote {out} and {out.with_suffix('.md')}")
