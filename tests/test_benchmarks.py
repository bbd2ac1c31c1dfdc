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


def test_ucr_quick_run_scores_the_shipped_ecg200_with_the_ts2vec_protocol(tmp_path):
    bench = _load("ucr")
    out = tmp_path / "ucr.jsonl"
    bench.main(["--quick", "--threads", "1", "--out", str(out)])
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["dataset"], row["n_train"], row["length"]) == ("ECG200", 100, 96)
    assert 0 <= row["accuracy"] <= 1
    assert row["samples_per_s"] > 0
    assert row["svm_C"] > 0  # 100 series, 2 classes: TS2Vec's grid search ran
    table = out.with_suffix(".md").read_text()
    assert "| ECG200 | 100 | 96 |" in table
    assert "Against T-Loss (published) on 1 dataset(s)" in table
    out.with_suffix(".md").unlink()
    assert bench.main(["--report", "--out", str(out)]) == [row]  # trains nothing
    assert "| ECG200 | 100 | 96 |" in out.with_suffix(".md").read_text()


def test_ucr_published_figures_and_argument_errors(tmp_path):
    bench = _load("ucr")
    assert bench.T_LOSS["GunPoint"] == 0.98  # results_ucr.csv, column Ours(10)
    assert set(bench.TS2VEC_THIS_CPU) <= set(bench.T_LOSS)
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--all"])  # no dataset there
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path)])  # neither --datasets nor --all


def test_throughput_accuracy_quick_run_scores_the_reference_and_tscl(tmp_path):
    pytest.importorskip("torch")
    bench = _load("throughput_accuracy")
    out = tmp_path / "accuracy.jsonl"
    bench.main(["--quick", "--threads", "1", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["dataset"], r["model"]) for r in rows] == [
        ("ECG200", "TS2Vec reference"),
        ("ECG200", "tscl simclr (default)"),
    ]
    assert rows[0]["samples"] == 4 * 8  # 4 iterations of batch 8 with --quick
    for row in rows:
        assert 0 <= row["accuracy"] <= 1
        assert row["samples_per_s"] > 0
        assert all(row[key] for key in ("git_sha", "torch", "tscl", "machine"))
    assert "against the TS2Vec reference" in out.with_suffix(".md").read_text()


def test_throughput_accuracy_arguments():
    pytest.importorskip("torch")
    bench = _load("throughput_accuracy")
    assert bench.parse_args([]).out.name == "throughput_accuracy.jsonl"
    args = bench.parse_args(["--precision", "bf16", "--compile"])
    assert args.estimator_params == {"precision": "bf16", "compile": True}
    assert bench.parse_args(["--quick"]).datasets == ["ECG200"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--temporal-unit", "-1"])


def test_ecg_quick_run_compares_ssl_and_scratch_at_each_label_fraction(tmp_path):
    pytest.importorskip("wfdb")
    bench = _load("ecg")
    out = tmp_path / "ecg.jsonl"
    bench.main(["--quick", "--threads", "1", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for task, methods in (
        ("challenge2017", {"SimCLR + linear probe", "supervised CNN (scratch)"}),
        ("mitdb100_beats", {"SimCLR + linear probe", "raw beat + linear probe",
                            "supervised CNN (scratch)"}),
    ):  # fmt: skip
        mine = [r for r in rows if r["task"] == task]
        assert {r["method"] for r in mine} == methods
        assert sorted({r["fraction"] for r in mine}) == [0.01, 0.05, 0.1, 1.0]
        # every method sees the same labelled subsets
        for fraction in (0.01, 0.05, 0.1, 1.0):
            sizes = {r["n_labelled"] for r in mine if r["fraction"] == fraction}
            assert len(sizes) == 1
    assert all(0 <= r["macro_f1"] <= 1 for r in rows)
    assert "Challenge 2017 AF" in out.with_suffix(".md").read_text()


def test_corpus_memory_quick_run_reports_both_modes(tmp_path):
    pytest.importorskip("wfdb")
    bench = _load("corpus_memory")
    out = tmp_path / "memory.jsonl"
    bench.main(["--quick", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["mode"] for r in rows] == ["memmap", "in memory"]
    for row in rows:
        assert row["peak_anon_mib"] > 0
        assert row["peak_rss_mib"] >= row["peak_anon_mib"]


def test_plot_results_draws_the_committed_results(tmp_path):
    pytest.importorskip("matplotlib")
    bench = _load("plot_results")
    paths = bench.main(["--out", str(tmp_path)])
    assert sorted(p.name for p in paths) == [
        "ecg_label_fractions.png",
        "ucr_accuracy.png",
    ]
    assert all(p.stat().st_size > 10_000 for p in paths)


@pytest.mark.parametrize(
    "name", ["ucr", "ecg", "finance", "methods_ucr", "throughput_accuracy"]
)
def test_benchmarks_share_the_run_arguments_and_their_checks(name, capsys):
    torch = pytest.importorskip("torch")
    bench = _load(name)
    with pytest.raises(SystemExit):
        bench.parse_args(["--threads", "0"])
    assert "--threads must be at least 1; got 0" in capsys.readouterr().err
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            bench.parse_args(["--device", "cuda", "--quick"])
        assert "needs a CUDA build" in capsys.readouterr().err
