"""benchmarks/finance.py runs (--quick, on the shipped S&P 500) and writes results."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tscl.datasets.finance import load_prices

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "datasets" / "finance"  # sp500.csv: no ../shared needed


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "finance_benchmark", ROOT / "benchmarks" / "finance.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_json_lines_and_a_table(bench, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    out = tmp_path / "finance.jsonl"
    threads = torch.get_num_threads()
    argv = ["--quick", "--threads", "1", "--series", "sp500", "--data", str(SHIPPED)]
    bench.main([*argv, "--out", str(out)])
    assert torch.get_num_threads() == threads  # --threads is undone afterwards
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    dates, _ = load_prices(SHIPPED / "sp500.csv")
    expected = [(t, "persistence") for t in bench.TASKS] + [
        (t, m)
        for t in bench.TASKS
        for m in ("simclr [finance]", "raw logistic", "supervised CNN")
    ]
    assert [(r["task"], r["method"]) for r in rows] == expected
    for row in rows:
        for key in ("accuracy", "macro_f1", "auroc"):
            assert 0 <= row[key] <= 1
        assert row["n_train"] > 3000
        assert row["n_test"] > 900
        # Training windows end at least `horizon` days before the test windows.
        last_train = np.datetime64(row["train_span"].split("..")[1])
        first_test = np.datetime64(row["test_span"].split("..")[0])
        assert first_test == np.datetime64("2015-01-02")
        trading_days = np.searchsorted(dates, first_test) - np.searchsorted(
            dates, last_train
        )
        assert trading_days > row["horizon"]
        assert all(row[key] for key in ("git_sha", "torch", "tscl", "machine"))
    vol = [r for r in rows if r["task"] == "vol20"]
    assert len({r["vol_threshold"] for r in vol}) == 1  # fitted once, on training
    for r in vol:  # the threshold is the training windows' median
        assert r["positive_rate_train"] == pytest.approx(0.5, abs=1e-3)
    table = out.with_suffix(".md").read_text()
    assert table.count("| method | accuracy | macro-F1 | AUROC |") == len(bench.TASKS)
    assert "**vol20** (vol_regime, horizon 20)" in table
    assert "pretraining windows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--tasks", "vol5"], "unknown task"),
        (["--method", "nope"], "unknown method"),
        (["--window", "10"], "longest task horizon"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--test-start", "soon"], "--test-start must be a date"),
        (["--augment", "crop,wobble"], "--augment: "),
    ],
)
def test_bad_arguments_stop_with_a_message(bench, capsys, argv, match):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)
    assert match in capsys.readouterr().err


def test_missing_price_file_names_the_folder(bench, tmp_path):
    with pytest.raises(SystemExit, match=r"does not exist.*--data FOLDER"):
        bench.main(["--quick", "--data", str(tmp_path), "--out", str(tmp_path / "o")])


def test_views_take_presets_and_names(bench):
    from tscl import augment

    assert repr(bench.views("finance")) == repr(augment.finance_augmentation())
    assert repr(bench.views("crop,jitter")) == repr(augment.Crop() + augment.Jitter())
    assert bench.views("method") is None
