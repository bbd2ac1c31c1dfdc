"""The command line's inputs (CSV, UEA, WFDB folders), evaluate, info and --augment."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tscl import augment
from tscl._inputs import read_series
from tscl.cli import main

ROOT = Path(__file__).resolve().parents[1]
ECG200 = ROOT / "datasets" / "ucr" / "ECG200"
MOTIONS = ROOT / "datasets" / "uea" / "BasicMotions"
TINY = ["--epochs", "1", "--batch-size", "16", "--seed", "0",
        "--encoder-params", '{"hidden_dim": 8, "depth": 2}']  # fmt: skip


def test_csv_with_and_without_header(tmp_path):
    rows = np.arange(12, dtype=float).reshape(3, 4)
    plain = tmp_path / "plain.csv"
    np.savetxt(plain, rows, delimiter=",")
    headed = tmp_path / "headed.csv"
    headed.write_text("t0,t1,t2,t3\n" + plain.read_text())
    for path in (plain, headed):
        X, y = read_series(path)
        np.testing.assert_array_equal(X, rows)
        assert y is None
        assert X.dtype == np.float32


def test_a_ragged_csv_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("1,2,3\n4,5\n")
    with pytest.raises(ValueError, match=r"ragged\.csv is not a CSV of numbers.*same"):
        read_series(path)


@pytest.mark.parametrize("missing", ["N/A", "NA", "", "nan", "null"])
def test_a_missing_cell_in_the_first_row_keeps_that_row(tmp_path, missing):
    path = tmp_path / "gappy.csv"
    path.write_text(f"1.0,{missing},3.0\n4.0,5.0,6.0\n")
    X, _ = read_series(path)
    assert X.shape == (2, 3)  # the first row is data, not a header
    np.testing.assert_array_equal(X[:, 0], [1.0, 4.0])
    assert np.isnan(X[0, 1])
    headed = tmp_path / "headed.csv"
    headed.write_text("a,b,c\n" + path.read_text())
    assert read_series(headed)[0].shape == (2, 3)


def test_csv_encodings_and_empty_files_are_named(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeff1,2,3\n4,5,6\n".encode())  # Excel's UTF-8 with a BOM
    np.testing.assert_array_equal(read_series(bom)[0], [[1, 2, 3], [4, 5, 6]])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("temp\xe9rature,b\n1,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.csv is not UTF-8 text.*UTF-8"):
        read_series(latin)
    only_header = tmp_path / "header.csv"
    only_header.write_text("a,b,c\n")
    with pytest.raises(ValueError, match=r"header\.csv holds no data rows \(only a"):
        read_series(only_header)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(ValueError, match=r"empty\.csv holds no data rows \(it is"):
        read_series(empty)


def test_uea_file_keeps_channels_and_labels():
    X, y = read_series(MOTIONS / "BasicMotions_TRAIN.ts")
    assert X.shape == (40, 6, 100)
    assert set(y) == {"Standing", "Running", "Walking", "Badminton"}


def test_wfdb_folder_is_cut_into_windows_at_the_asked_rate(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    for suffix in (".hea", ".dat"):
        shutil.copy(ROOT / "datasets" / "mitdb" / f"100{suffix}", folder)
    X, y = read_series(folder, window_s=10, fs=100)
    assert X.shape == (60, 2, 1000)  # 600 s of two leads
    assert y is None
    with pytest.raises(ValueError, match="pass --window-s"):
        read_series(folder)


def test_a_folder_without_records_and_an_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="without WFDB records"):
        read_series(tmp_path)
    other = tmp_path / "x.parquet"
    other.write_bytes(b"")
    with pytest.raises(ValueError, match=r"Unsupported data file .*x\.parquet"):
        read_series(other)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    assert main(["pretrain", str(ECG200 / "ECG200_TRAIN.tsv"), "--out", str(out),
                 "--method", "simclr", *TINY]) == 0  # fmt: skip
    return out


def test_evaluate_prints_the_table_and_writes_json(model, tmp_path, capsys):
    out = tmp_path / "scores.json"
    train, test = str(ECG200 / "ECG200_TRAIN.tsv"), str(ECG200 / "ECG200_TEST.tsv")
    argv = ["evaluate", str(model), train, test, "--probe", "knn", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "knn probe on" in printed
    assert "accuracy" in printed
    scores = json.loads(out.read_text())
    assert scores["n_train"] == scores["n_test"] == 100
    assert f"{scores['accuracy']:.3f}" in printed


def test_evaluate_takes_labels_for_unlabelled_files(model, tmp_path, capsys):
    X, y = read_series(ECG200 / "ECG200_TEST.tsv")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    base = ["evaluate", str(model), str(tmp_path / "X.npy"), str(tmp_path / "X.npy")]
    assert main(base) == 1
    assert "holds no labels; pass --train-labels" in capsys.readouterr().err
    np.save(tmp_path / "short.npy", y[:10])
    labels = ["--train-labels", str(tmp_path / "y.npy")]
    assert main([*base, *labels, "--test-labels", str(tmp_path / "short.npy")]) == 1
    assert "100 series in" in capsys.readouterr().err
    assert main([*base, *labels, "--test-labels", str(tmp_path / "y.npy")]) == 0


def test_info_describes_the_model_and_refuses_other_folders(model, tmp_path, capsys):
    assert main(["info", str(model), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["method"] == "simclr"
    assert info["encoder"] == "cnn"
    assert info["network"]["class"] == "CNN"
    assert info["history"]["epochs"] == 1
    assert info["data"] == {"channels": 1, "n_features_in": 96, "input rank": 2}
    (tmp_path / "config.json").write_text("{}")
    assert main(["info", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tscl: error:")
    assert err.count("\n") == 1


def test_augment_by_composition_and_json_reaches_the_model(tmp_path, capsys):
    spec = json.dumps(augment.to_spec(augment.parse("scaling(sigma=0.2)")))
    for i, text in enumerate(["none", "jitter(sigma=0.05) + flip", spec]):
        out = tmp_path / f"m{i}"
        data = str(MOTIONS / "BasicMotions_TRAIN.ts")
        argv = ["pretrain", data, "--out", str(out), "--method", "simclr", *TINY]
        assert main([*argv, "--augment", text]) == 0
    saved = json.loads((tmp_path / "m2" / "config.json").read_text())
    assert saved["params"]["augment"] == json.loads(spec)
    bad = ["pretrain", str(MOTIONS / "BasicMotions_TRAIN.ts"), "--out",
           str(tmp_path / "bad"), "--augment", "jitter(sigma=x)"]  # fmt: skip
    assert main(bad) == 1
    err = capsys.readouterr().err
    assert "Cannot read the augmentation" in err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "abc"])
def test_window_and_rate_flags_need_a_positive_number(value, capsys):
    mitdb = str(ROOT / "datasets" / "mitdb")
    for flag in ("--window-s", "--fs"):
        with pytest.raises(SystemExit) as done:
            main(
                ["pretrain", mitdb, "--out", "m", "--window-s", "10", f"{flag}={value}"]
            )
        assert done.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {flag}: expected a" in err
        assert "number > 0" in err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window_s": float("nan")}, ValueError, "'window_s' .* finite number > 0"),
        ({"window_s": 0}, ValueError, "'window_s' .* > 0. Got 0"),
        ({"fs": -5}, ValueError, "'fs' .* > 0. Got -5"),
        ({"fs": True}, TypeError, "'fs' .* of type Real. Got True"),
        ({"sampfrom_s": -1}, ValueError, "'sampfrom_s' .* >= 0"),
    ],
)
def test_load_wfdb_windows_checks_its_numbers_first(kwargs, error, match):
    from tscl.datasets import load_wfdb_windows

    with pytest.raises(error, match=match):
        load_wfdb_windows(ROOT / "datasets" / "mitdb" / "100", **kwargs)


def test_a_npy_header_that_promises_more_than_the_file_holds(tmp_path):
    import struct

    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000000,), }"
    header += " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    huge = tmp_path / "huge.npy"  # 8 TB claimed, 1 kB held
    huge.write_bytes(
        b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
        + b"\0" * 1000
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"huge\.npy .*8,000,000,000,000 bytes.*1,000"):
        read_series(huge)
    cut = tmp_path / "cut.npy"
    np.save(cut, np.zeros((10, 100), np.float32))
    cut.write_bytes(cut.read_bytes()[:-8])
    with pytest.raises(ValueError, match="truncated or damaged"):
        read_series(cut)
