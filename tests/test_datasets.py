"""Tests of tscl.datasets on the shipped records and ../shared/data."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from tscl import datasets
from tscl.datasets import _common

wfdb = pytest.importorskip("wfdb")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "datasets"
SHARED = ROOT.parent / "shared" / "data"
MITDB = ["100", "104", "106", "108", "113", "121", "202", "223", "231", "232"]
needs_shared_ecg = pytest.mark.skipif(
    not (SHARED / "ecg" / "mitdb").is_dir(),
    reason=f"{SHARED / 'ecg' / 'mitdb'} (the full original records) is absent",
)
needs_shared_ucr = pytest.mark.skipif(
    not (SHARED / "ucr").is_dir(), reason=f"{SHARED / 'ucr'} is absent"
)


# ----------------------------------------------------------------- resample, windows
def test_resample_length_dtype_and_frequency():
    t = np.arange(3600) / 360.0
    x = np.sin(2 * np.pi * 5.0 * t).astype(np.float32)  # 5 Hz, 10 s
    y = datasets.resample(x, 360, 100)
    assert y.shape == (1000,)
    assert y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == 50  # 5 Hz at 0.1 Hz resolution
    assert datasets.resample(x.astype(np.int16), 300, 300).dtype == np.float64
    same = datasets.resample(x, 100, 100)
    assert np.array_equal(same, x)
    assert not np.shares_memory(same, x)


def test_resample_axis_and_bad_rate():
    x = np.random.default_rng(0).normal(size=(2, 3000))
    assert datasets.resample(x, 300, 100, axis=1).shape == (2, 1000)
    assert datasets.resample(x.T, 300, 100, axis=0).shape == (1000, 2)
    with pytest.raises(ValueError, match="'fs_out' parameter of resample"):
        datasets.resample(x, 300, 0)


def test_sliding_windows_shapes_values_and_copy():
    x = np.arange(20.0).reshape(2, 10)
    w = datasets.sliding_windows(x, 4)
    assert w.shape == (2, 2, 4)
    assert np.array_equal(w[1, 1], [14, 15, 16, 17])
    w2 = datasets.sliding_windows(x, 4, stride=2)
    assert w2.shape == (4, 2, 4)
    assert np.array_equal(w2[3, 0], [6, 7, 8, 9])
    assert w.flags.c_contiguous
    assert w.flags.writeable
    assert not np.shares_memory(w, x)
    one = datasets.sliding_windows(np.zeros((1, 5)), 1)
    one[0] = 1.0  # a writeable copy even when the view would be contiguous
    assert one.shape == (5, 1, 1)


def test_sliding_windows_errors():
    with pytest.raises(
        ValueError, match="has 10 time steps, fewer than one window of size=12"
    ):
        datasets.sliding_windows(np.zeros((1, 10)), 12)
    with pytest.raises(ValueError, match=r"x\[np.newaxis\]"):
        datasets.sliding_windows(np.zeros(10), 5)
    with pytest.raises(ValueError, match="'stride' parameter"):
        datasets.sliding_windows(np.zeros((1, 10)), 5, stride=0)
    with pytest.raises(TypeError, match="'size' parameter"):
        datasets.sliding_windows(np.zeros((1, 10)), 2.5)


# ----------------------------------------------------------------- challenge 2017
@pytest.fixture(scope="module")
def challenge():
    return datasets.load_challenge2017()


def test_challenge2017_shipped_set(challenge):
    signals, labels, names = challenge
    assert len(signals) == len(labels) == len(names) == 300
    assert Counter(labels.tolist()) == {"N": 150, "A": 50, "O": 70, "~": 30}
    lengths_s = np.array([len(s) for s in signals]) / 300.0
    assert 9.0 <= lengths_s.min()
    assert lengths_s.max() <= 61.0
    assert all(s.dtype == np.float32 and s.ndim == 1 for s in signals)
    raw = scipy.io.loadmat(SHIPPED / "challenge2017" / "A00001.mat")["val"]
    np.testing.assert_allclose(signals[0], raw[0] / 1000.0, rtol=1e-6)
    amplitude = np.median([np.ptp(s) for s in signals])
    assert 0.5 < amplitude < 10  # millivolts, not ADC units


def test_challenge2017_resampled(challenge):
    signals, labels, names = datasets.load_challenge2017(
        SHIPPED / "challenge2017", fs=100.0
    )
    assert names == challenge[2]
    assert np.array_equal(labels, challenge[1])
    assert [len(s) for s in signals] == [-(-len(s) // 3) for s in challenge[0]]
    assert signals[0].dtype == np.float32


def test_challenge2017_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="REFERENCE.csv not found"):
        datasets.load_challenge2017(tmp_path)
    (tmp_path / "REFERENCE.csv").write_text("A00001,N\n")
    with pytest.raises(FileNotFoundError, match="A00001.mat"):
        datasets.load_challenge2017(tmp_path)
    (tmp_path / "REFERENCE.csv").write_text("A00001;N\n")
    with pytest.raises(ValueError, match="line 1: expected '<record>,<label>'"):
        datasets.load_challenge2017(tmp_path)
    (tmp_path / "REFERENCE.csv").write_text("A00001,N\n")
    (tmp_path / "A00001.mat").write_bytes(b"truncated download")
    with pytest.raises(ValueError, match="not a MATLAB file with a 'val' signal"):
        datasets.load_challenge2017(tmp_path)
    scipy.io.savemat(tmp_path / "A00001.mat", {"other": np.zeros(3)})
    with pytest.raises(ValueError, match="KeyError"):
        datasets.load_challenge2017(tmp_path)


def test_shipped_data_dir(monkeypatch, tmp_path):
    assert datasets.shipped_data_dir() == SHIPPED
    monkeypatch.setattr(_common, "SHIPPED_DATA", tmp_path / "datasets")
    with pytest.raises(FileNotFoundError, match="Pass root="):
        datasets.shipped_data_dir()
    with pytest.raises(FileNotFoundError, match="clone the tscl repository"):
        datasets.load_challenge2017()


# ----------------------------------------------------------------- MIT-BIH subset
def test_mitdb_subset_files_and_headers():
    for name in MITDB:
        header = wfdb.rdheader(str(SHIPPED / "mitdb" / name))
        assert header.fs == 360
        assert header.sig_len == 216000
        assert header.fmt == ["212", "212"]
        assert header.adc_gain == [200.0, 200.0]
    assert wfdb.rdheader(str(SHIPPED / "mitdb" / "104")).sig_name == ["V5", "V2"]
    assert wfdb.rdheader(str(SHIPPED / "mitdb" / "100")).sig_name == ["MLII", "V5"]


def test_load_wfdb_windows_shapes_and_values():
    path = SHIPPED / "mitdb" / "100"
    X = datasets.load_wfdb_windows(path)
    assert X.shape == (60, 2, 3600)
    assert X.dtype == np.float32
    p_signal = wfdb.rdrecord(str(path)).p_signal
    np.testing.assert_array_equal(X[1, 0], p_signal[3600:7200, 0].astype(np.float32))
    X100 = datasets.load_wfdb_windows(str(path), fs=100.0, window_s=10.0)
    assert X100.shape == (60, 2, 1000)
    v5 = datasets.load_wfdb_windows(path, channels="V5", sampfrom_s=60, sampto_s=120)
    np.testing.assert_array_equal(v5[0, 0], p_signal[21600:25200, 1].astype(np.float32))
    overlap = datasets.load_wfdb_windows(path, window_s=10, stride_s=5, channels=[0])
    assert overlap.shape == (119, 1, 3600)


def test_load_mitdb_windows():
    X = datasets.load_mitdb_windows()
    assert X.shape == (600, 1, 1000)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    v5 = datasets.load_wfdb_windows(SHIPPED / "mitdb" / "104", fs=100.0, channels="V5")
    np.testing.assert_array_equal(X[60:120], v5)  # record 104's index 0 is V5
    with pytest.raises(ValueError, match="no channel named 'MLII'.*'V5', 'V2'"):
        datasets.load_mitdb_windows(records=["104"], lead="MLII")
    with pytest.raises(FileNotFoundError, match=r"No WFDB record \(\*.hea\)"):
        datasets.load_mitdb_windows(Path("does-not-exist"))


@needs_shared_ecg
@pytest.mark.parametrize("name", MITDB)
def test_mitdb_subset_digital_samples_equal_originals(name):
    original = wfdb.rdrecord(
        str(SHARED / "ecg" / "mitdb" / name), sampto=216000, physical=False
    )
    shipped = wfdb.rdrecord(str(SHIPPED / "mitdb" / name), physical=False)
    assert np.array_equal(shipped.d_signal, original.d_signal)
    assert shipped.baseline == original.baseline
    assert shipped.adc_zero == original.adc_zero
    assert shipped.units == original.units
    assert shipped.comments == original.comments


@needs_shared_ecg
def test_mitdb_subset_annotations_equal_originals():
    original = wfdb.rdann(str(SHARED / "ecg" / "mitdb" / "100"), "atr", sampto=216000)
    shipped = wfdb.rdann(str(SHIPPED / "mitdb" / "100"), "atr")
    assert np.array_equal(shipped.sample, original.sample)
    assert shipped.symbol == original.symbol
    assert Counter(shipped.symbol) == {"N": 754, "A": 6, "+": 1}


def test_wfdb_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected its header .*nope\.hea"):
        datasets.load_wfdb_windows(tmp_path / "nope")
    shutil.copy(SHIPPED / "mitdb" / "100.hea", tmp_path / "100.hea")
    with pytest.raises(FileNotFoundError, match=r"signal file .*100\.dat"):
        datasets.load_wfdb_windows(tmp_path / "100")
    path = SHIPPED / "mitdb" / "100"
    with pytest.raises(ValueError, match="no channel named 'II'; its channels are"):
        datasets.load_wfdb_windows(path, channels="II")
    with pytest.raises(ValueError, match="Channel 5 is out of range"):
        datasets.load_wfdb_windows(path, channels=5)
    with pytest.raises(ValueError, match="sampto_s <= 600 s"):
        datasets.load_wfdb_windows(path, sampto_s=700)
    with pytest.raises(ValueError, match="fewer than one window"):
        datasets.load_wfdb_windows(path, sampto_s=5)


def test_wfdb_nan_samples_are_interpolated(tmp_path):
    signal = np.linspace(0.0, 1.0, 1000)[:, None].repeat(2, axis=1)
    signal[100:110, 0] = np.nan
    signal[:, 1] = np.nan
    wfdb.wrsamp("rec", fs=100, units=["mV", "mV"], sig_name=["a", "b"],
                p_signal=signal, fmt=["16", "16"], adc_gain=[1000.0, 1000.0],
                baseline=[0, 0], write_dir=str(tmp_path))  # fmt: skip
    X = datasets.load_wfdb_windows(tmp_path / "rec", window_s=5.0)
    assert X.shape == (2, 2, 500)
    assert np.isfinite(X).all()
    expected = np.linspace(0.0, 1.0, 1000)[:500].astype(np.float32)
    np.testing.assert_allclose(X[0, 0], expected, atol=1e-3)
    assert not X[:, 1].any()  # an all-invalid channel becomes zeros


# ----------------------------------------------------------------- UCR
@needs_shared_ucr
def test_load_ucr_gunpoint():
    X_train, y_train, X_test, y_test = datasets.load_ucr("GunPoint", SHARED / "ucr")
    assert X_train.shape == (50, 150)
    assert X_test.shape == (150, 150)
    assert X_train.dtype == np.float32
    assert y_train.dtype == np.int64
    assert set(y_train) == set(y_test) == {1, 2}
    assert np.isfinite(X_train).all()


@needs_shared_ucr
def test_load_ucr_flat_layout_and_env(tmp_path, monkeypatch):
    for split in ("TRAIN", "TEST"):
        name = f"ECG200_{split}.tsv"
        shutil.copy(SHARED / "ucr" / "ECG200" / name, tmp_path / name)
    monkeypatch.setenv("TSCL_DATA", str(tmp_path))
    X_train, y_train, X_test, y_test = datasets.load_ucr("ECG200")
    assert X_train.shape == (100, 96)
    assert X_test.shape == (100, 96)
    assert set(y_train) == {-1, 1}


@needs_shared_ucr
@pytest.mark.parametrize("name", ["PLAID", "DodgerLoopDay"])
def test_load_ucr_keeps_nan(name):
    X_train, y_train, X_test, _ = datasets.load_ucr(name, SHARED / "ucr")
    assert np.isnan(X_train).any()
    assert len(X_train) == len(y_train)
    if name == "PLAID":  # variable length: NaN padding at the end only
        row = X_train[np.isnan(X_train).any(axis=1)][0]
        n_valid = int(np.isfinite(row).sum())
        assert np.isfinite(row[:n_valid]).all()
        assert np.isnan(row[n_valid:]).all()


def test_load_ucr_file_labels(tmp_path):
    path = tmp_path / "x_TRAIN.tsv"
    path.write_text("1.0\t0.5\t1.5\n2.0\t2.5\t3.5\n")
    X, y = datasets.load_ucr_file(path)
    assert y.dtype == np.int64
    assert y.tolist() == [1, 2]
    assert X.tolist() == [[0.5, 1.5], [2.5, 3.5]]
    path.write_text("cat\t0.5\t1.5\ndog\t2.5\t3.5\n")
    assert datasets.load_ucr_file(path)[1].tolist() == ["cat", "dog"]
    path.write_text("0.5\t0.5\t1.5\n")
    assert datasets.load_ucr_file(path)[1].tolist() == ["0.5"]


def test_load_ucr_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("TSCL_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"tried .*tscl_data.*time_series_data"):
        datasets.load_ucr("GunPoint")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load_ucr_file(tmp_path / "missing.tsv")
    (tmp_path / "Bad_TRAIN.tsv").write_text("1\t0.5\tabc\n")
    with pytest.raises(FileNotFoundError, match="not the test split"):
        datasets.load_ucr("Bad", tmp_path)
    (tmp_path / "Bad_TEST.tsv").write_text("1\t0.5\t0.1\n")
    with pytest.raises(ValueError, match=r"Could not read .*Bad_TRAIN\.tsv"):
        datasets.load_ucr("Bad", tmp_path)
    (tmp_path / "Ragged_TRAIN.tsv").write_text("1\t0.5\t0.1\n2\t0.5\n")
    with pytest.raises(ValueError, match=r"Ragged_TRAIN\.tsv"):
        datasets.load_ucr_file(tmp_path / "Ragged_TRAIN.tsv")
    (tmp_path / "Empty_TRAIN.tsv").write_text("")
    with pytest.raises(ValueError, match="holds no series"):
        datasets.load_ucr_file(tmp_path / "Empty_TRAIN.tsv")
