"""The benchmark scripts run (in their --quick mode) and write their results."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_augment_throughput_quick_run_writes_json_lines_and_a_table(
    tmp_path, monkeypatch, capsys
):
    pytest.importorskip("tsaug")
    bench = _load("augment_throughput")
    out = tmp_path / "throughput.jsonl"
    monkeypatch.setattr(
        sys, "argv", ["augment_throughput.py", "--quick", "--out", str(out)]
    )
    bench.main()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["pipeline"], tuple(r["shape"])) for r in rows] == [
        ("seed", (512, 1, 1000)),
        ("seed", (32, 12, 5000)),
        ("ecg", (512, 1, 1000)),
        ("ecg", (32, 12, 5000)),
    ]
    for row in rows:
        assert row["tscl_samples_per_s"] > 0
        assert row["reference_samples_per_s"] > 0
        assert row["ratio"] > 0
    table = out.with_suffix(".md").read_text()
    assert table.count("| seed |") == 2
    assert "ratio" in capsys.readouterr().out


def test_reference_permutation_matches_tscl_semantics():
    np = pytest.importorskip("numpy")
    pytest.importorskip("tsaug")
    bench = _load("augment_throughput")
    x = np.tile(np.arange(50, dtype=np.float32)[None, :, None], (64, 1, 2))
    y = bench._numpy_permutation(x, np.random.default_rng(0))
    assert (np.sort(y, axis=1) == x).all()  # same values, reordered
    assert (y[..., 0] == y[..., 1]).all()  # channels share the order
    assert (np.diff(y[..., 0], axis=1) != 1).sum(axis=1).max() <= 4  # <= 5 segments
