"""The benchmark scripts run (in their --quick mode) and write their results."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
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


def test_ucr_quick_run_compares_tscl_with_the_reference_and_resumes(tmp_path):
    pytest.importorskip("torch")
    bench = _load("ucr")
    out = tmp_path / "ucr.jsonl"
    argv = ["--quick", "--threads", "1", "--out", str(out), "--with-reference"]
    bench.main([*argv, "--models", "default", "ts2vec"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["dataset"], r["model"]) for r in rows] == [
        ("ECG200", "default"),
        ("ECG200", "ts2vec"),
        ("ECG200", "reference"),
    ]
    assert rows[2]["n_steps"] == 2  # the reference's 2 iterations with --quick
    for row in rows:
        assert 0 <= row["accuracy"] <= 1
        assert 0 <= row["cv_accuracy"] <= 1  # on the training split only
        assert row["fit_time_s"] > 0
        assert all(row[key] for key in ("git_sha", "torch", "tscl", "machine"))
    report = out.with_suffix(".md").read_text()
    assert "mean rank" in report
    assert "against the reference" in report
    assert "T-Loss (published)" in report
    bench.main([*argv, "--models", "default", "ts2vec"])  # all done: resumes
    assert len(out.read_text().splitlines()) == 3
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--all"])  # no dataset there
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path)])  # neither --datasets nor --all
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--models", "nonsense", "--out", str(out)])


def test_published_t_loss_figures_are_the_columns_ts2vec_quotes():
    archive = _load("_archive")
    ucr, uea = archive.published("t_loss_ucr"), archive.published("t_loss_uea")
    assert len(ucr) == 125  # 128 datasets, 3 without a figure
    assert (ucr["GunPoint"], ucr["ArrowHead"], ucr["PLAID"]) == (0.98, 0.766, 0.555)
    assert (uea["BasicMotions"], uea["JapaneseVowels"]) == (1.0, 0.989)


def test_uea_quick_run_scores_multivariate_series(tmp_path):
    bench = _load("uea")  # BasicMotions, shipped in datasets/uea
    out = tmp_path / "uea.jsonl"
    bench.main(["--quick", "--threads", "1", "--out", str(out), "--with-reference"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["dataset"], r["model"]) for r in rows] == [
        ("BasicMotions", "default"),
        ("BasicMotions", "reference"),
    ]
    assert rows[0]["n_channels"] == 6


def test_ecg_quick_run_compares_ssl_and_scratch_at_each_label_fraction(tmp_path):
    pytest.importorskip("wfdb")
    bench = _load("ecg")
    out = tmp_path / "ecg.jsonl"
    bench.main(["--quick", "--threads", "1", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    mine = [r for r in rows if r["task"] == "challenge2017"]
    assert {r["method"] for r in mine} == {
        "SimCLR + linear probe",
        "supervised CNN (scratch)",
    }
    assert sorted({r["fraction"] for r in mine}) == [0.01, 0.05, 0.1, 1.0]
    # every method sees the same labelled subsets
    for fraction in (0.01, 0.05, 0.1, 1.0):
        sizes = {r["n_labelled"] for r in mine if r["fraction"] == fraction}
        assert len(sizes) == 1
    assert all(0 <= r["macro_f1"] <= 1 for r in mine)
    table = out.with_suffix(".md").read_text()
    assert "Challenge 2017 AF" in table
    beats = [r for r in rows if r["task"] == "mitdb_inter_patient"]
    if not (bench.SHARED_DATA / "ecg" / "mitdb-full" / "100.atr").is_file():
        assert beats == []  # skipped without the 48 records
        return
    assert [r["method"] for r in beats] == [
        "RR features",
        "raw beat",
        "raw beat + RR",
        "SimCLR beat encoder",
        "SimCLR beat encoder + RR",
    ]
    for row in beats:
        for c in ("N", "S", "V", "F"):
            assert 0 <= row[f"se_{c}"] <= 100
            assert 0 <= row[f"ppv_{c}"] <= 100
    assert "de Chazal et al. 2004 (published" in table


def test_ecg_beat_task_never_trains_on_ds2():
    bench = _load("ecg")
    from tscl import datasets

    records = np.array(bench.QUICK_BEAT_RECORDS)
    train, test = datasets.inter_patient_split(records)
    assert set(records[train]) <= set(datasets.MITDB_DS1)
    assert set(records[test]) <= set(datasets.MITDB_DS2)
    assert len(train)
    assert len(test)


def test_cinc2017_quick_run_scores_every_row_at_every_fraction(capsys):
    pytest.importorskip("wfdb")
    bench = _load("cinc2017")
    rows = bench.main(["--quick", "--threads", "1"])
    assert {r["row"] for r in rows} == {
        "probe (linear)",
        "fine-tuned",
        "scratch",
        "rr (linear)",
        "rr (boosted)",
        "learned + rr (linear)",
        "learned + rr (boosted)",
    }
    assert sorted({r["fraction"] for r in rows}) == [0.01, 0.1, 1.0]
    for row in rows:
        assert row["f1"] == pytest.approx(np.mean([row[f"f1_{c}"] for c in "NAO"]))
        assert 0 <= row["accuracy"] <= 1
    # one labelled subset per fraction, shared by every row
    for fraction in (0.01, 0.1, 1.0):
        assert len({r["n_labelled"] for r in rows if r["fraction"] == fraction}) == 1
    assert "Challenge F1 (mean of the N, A and O F1 scores)" in capsys.readouterr().out


def test_cinc2017_folds_are_written_once_and_checked(tmp_path):
    bench = _load("cinc2017")
    names = [f"A{i:05d}" for i in range(50)]
    labels = np.array(["N", "A", "O", "~", "N"] * 10)
    path = tmp_path / "folds.csv"
    first = bench.folds(names, labels, path)
    assert sorted(np.bincount(first)) == [10] * 5
    for k in range(5):  # stratified: each fold holds each class
        assert set(labels[first == k]) == {"N", "A", "O", "~"}
    np.testing.assert_array_equal(bench.folds(names, labels, path), first)
    with pytest.raises(SystemExit, match="lists other records or labels"):
        bench.folds(names[:-1] + ["B00000"], labels, path)


def test_the_committed_cinc2017_folds_match_the_shared_records():
    bench = _load("cinc2017")
    root = bench.SHARED_DATA / "ecg" / "challenge2017-training"
    if not (root / "REFERENCE.csv").is_file():
        pytest.skip(f"{root} is absent (the 7,527 Challenge records)")
    import csv

    with bench.FOLDS_FILE.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7527
    with (root / "REFERENCE.csv").open() as f:
        reference = [line.strip().split(",") for line in f if line.strip()]
    assert [r["record"] for r in rows] == [name for name, _ in reference]
    assert [r["label"] for r in rows] == [label for _, label in reference]


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
    expected = {"ecg_label_fractions.png", "ucr_accuracy.png"}
    if (bench.RESULTS / "uea.jsonl").is_file():
        expected.add("uea_accuracy.png")
    if (bench.RESULTS / "cinc2017.jsonl").is_file():
        expected.add("cinc2017_label_fractions.png")
    assert {p.name for p in paths} == expected
    assert all(p.stat().st_size > 10_000 for p in paths)


@pytest.mark.parametrize(
    "name", ["ucr", "uea", "ecg", "finance", "methods_ucr", "cinc2017", "long_series"]
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


def test_cinc2017_selection_scores_candidates_on_the_training_folds_only(capsys):
    pytest.importorskip("wfdb")
    bench = _load("cinc2017")
    rows = bench.main(
        ["--quick", "--threads", "1", "--select", "simclr-resnet-100hz-30ep"]
    )
    assert [r["candidate"] for r in rows] == ["simclr-resnet-100hz-30ep"]
    for key in ("probe_100", "probe_10", "learned_rr_linear_100", "rr_boosted_100"):
        assert 0 <= rows[0][key] <= 1
    assert set(bench.CANDIDATES) >= {"simclr-resnet-100hz", "softclt-ts2vec-100hz"}


def test_build_pretrained_writes_a_loadable_encoder_and_checks_it(tmp_path):
    bench = _load("build_pretrained")
    out = tmp_path / "ecg-quick"
    bench.main(["--quick", "--threads", "1", "--out", str(out)])
    card = json.loads((out / "card.json").read_text())
    assert card["training_data"]["records"] == 40
    assert "ODC-By 1.0" in card["licence"]
    assert set(card["record_encoder"]) == {
        "model_fs",
        "context_s",
        "window_s",
        "stride_s",
        "pooling",
    }
    with pytest.raises(SystemExit) as done:  # the same weights again: exit 0
        bench.main(["--quick", "--threads", "1", "--out", str(out), "--check"])
    assert done.value.code == 0
    with pytest.raises(SystemExit):
        bench.main(["--quick"])  # never over the shipped encoder
    from tscl import records

    assert records.default_ecg_estimator().encoder == card["estimator"]["encoder"]


def test_long_series_quick_run_reports_memory_and_time_of_both(tmp_path):
    pytest.importorskip("wfdb")
    bench = _load("long_series")
    out = tmp_path / "long.jsonl"
    rows = bench.main(["--quick", "--threads", "1", "--out", str(out)])
    assert [r["model"] for r in rows] == ["default", "reference"]
    for row in rows:
        assert "error" not in row, row
        assert row["shape"] == [4, 320]
        assert row["finite"]
        assert row["n_steps"] == 2
        assert row["peak_mib"] >= row["before_mib"] > 0
    assert "peak RSS MiB" in out.with_suffix(".md").read_text()


def test_fit_time_quick_run_times_the_three_models_in_rotating_order(tmp_path):
    bench = _load("fit_time")
    out = tmp_path / "fit_time.jsonl"
    rows = bench.main(["--quick", "--threads", "1", "--out", str(out)])
    assert [(r["dataset"], r["model"]) for r in rows] == [
        (name, model)
        for name in ("ECG200", "BasicMotions")
        for model in ("reference", "default", "ts2vec")
    ]
    assert all(r["fit_s"] > 0 for r in rows)
    report = out.with_suffix(".md").read_text()
    assert "| ECG200 | [100, 96] | 1 |" in report
    assert "the reference's fit time" in report


def test_a_variant_recipe_changes_the_budget_meanwhile_only():
    _load("ucr")  # puts benchmarks/ on sys.path
    import _archive

    from tscl.methods import SoftCLT, TS2Vec

    with _archive.recipe("softclt", {"_n_steps": 100, "_schedule": "cosine"}):
        assert SoftCLT.default_budget(10, 1_000) == {"n_steps": 100}
        assert SoftCLT.default_budget(10, 200_000) == {"n_steps": 300}
        assert SoftCLT.schedule == "cosine"
        assert TS2Vec.schedule == "constant"
    assert SoftCLT.default_budget(10, 1_000) == {"n_steps": 200}
    assert SoftCLT.schedule == "constant"


def test_benchmark_arguments_out_of_range_are_refused_with_the_fix(tmp_path, capsys):
    long_series = _load("long_series")
    with pytest.raises(SystemExit):
        long_series.parse_args(["--n-series", "1"])
    assert "--n-series must be at least 2" in capsys.readouterr().err
    fit_time = _load("fit_time")
    with pytest.raises(SystemExit):
        fit_time.parse_args(["--report", "--out", str(tmp_path / "none.jsonl")])
    assert "does not exist" in capsys.readouterr().err
    import _archive

    for bad in ('x={"_n_steps": 0}', 'x={"_schedule": "linear"}'):
        args = _load("ucr").parse_args(["--quick", "--variant", bad])
        with pytest.raises(SystemExit, match="_n_steps|_schedule"):
            _archive.model_table(args)
