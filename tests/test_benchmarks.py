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


def test_methods_ucr_quick_run_writes_json_lines_and_a_table(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from tscl.methods import METHODS

    bench = _load("methods_ucr")
    out = tmp_path / "methods.jsonl"
    data = ROOT / "datasets" / "ucr"  # the shipped ECG200: no ../shared needed
    threads = torch.get_num_threads()
    bench.main(["--quick", "--threads", "1", "--data", str(data), "--out", str(out)])
    assert torch.get_num_threads() == threads  # --threads is undone afterwards
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    names = ["raw", "random encoder", *METHODS]
    assert [(r["dataset"], r["method"]) for r in rows] == [("ECG200", m) for m in names]
    assert [r.get("error") for r in rows] == [None] * len(rows)  # every method ran
    for row in rows:
        assert 0 <= row["linear_accuracy"] <= 1
        assert 0 <= row["svm_accuracy"] <= 1
        assert (row["n_train"], row["n_test"], row["length"]) == (100, 100, 96)
        assert all(row[key] for key in ("git_sha", "torch", "tscl", "machine"))
        assert "1 torch threads" in row["machine"]
        assert (row["fit_time_s"] is None) == (row["method"] in bench.BASELINES)
        assert row["supervised"] == bench.is_supervised(row["method"])
    table = out.with_suffix(".md").read_text()
    assert "| ECG200 linear | ECG200 SVM |" in table
    assert all(f"| {m}" in table for m in names)
    assert "mean rank SVM" in capsys.readouterr().out
