"""The end-to-end demo on the shipped ECG records (short settings)."""

import json

import numpy as np
import pytest

from tscl import demo


def test_record_windows_pad_short_records_and_track_owners():
    rng = np.random.default_rng(0)
    size = int(demo.FS * demo.WINDOW_S)
    signals = [rng.normal(size=size // 2), rng.normal(size=2 * size + 7)]
    windows, owner = demo._record_windows(signals)
    assert windows.shape == (3, 1, size)
    assert owner.tolist() == [0, 1, 1]
    assert np.all(windows[0, 0, size // 2 :] == 0)


def test_per_record_means_windows():
    Z = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    out = demo._per_record(Z, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(out, [[2.0, 1.0], [5.0, 5.0]])


def test_pretraining_corpus_holds_every_shipped_recording_with_its_group():
    from tscl import datasets

    root = datasets.shipped_data_dir()
    signals = [np.ones(int(demo.FS * 12)), np.arange(int(demo.FS * 45.0))]
    X, groups = demo._pretraining_corpus(root, signals)
    size = int(demo.FS * demo.CONTEXT_S)
    assert X.shape[1:] == (1, size)
    assert X.dtype == np.float32
    n_mitdb = len(list((root / "mitdb").glob("*.hea")))
    assert len({g for g in groups if g.startswith("mitdb/")}) == n_mitdb
    # a 12 s record is padded to one window, a 45 s one gives two (15 s step)
    assert (groups == "challenge2017/0").sum() == 1
    assert (groups == "challenge2017/1").sum() == 2
    assert len(groups) == len(X)


@pytest.mark.slow
def test_demo_runs_end_to_end_on_shipped_records(tmp_path):
    summary = demo.run_demo(
        out_dir=tmp_path, n_epochs=1, supervised_epochs=1, verbose=False
    )
    assert set(summary["results"]) == {
        demo.LEARNED,
        "random-init CNN + linear probe",
        demo.RR,
        demo.BOTH,
        demo.SHIPPED,
        demo.SHIPPED_BOTH,
        "supervised CNN (scratch)",
    }
    for folds in summary["results"].values():
        assert len(folds) == 5
        assert all(0 <= f["macro_f1"] <= 1 and 0 <= f["accuracy"] <= 1 for f in folds)
    rr = np.mean(
        [f["macro_f1"] for f in summary["results"]["RR-interval features + probe"]]
    )
    assert rr > 0.5  # RR irregularity separates AF from normal rhythm on real data
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    saved = json.loads((tmp_path / "demo_results.json").read_text())
    assert saved["table"] == summary["table"]
    assert "macro-F1 (N,A,O)" in summary["table"]


def test_learned_features_are_compressed_on_the_training_fold_only():
    rng = np.random.default_rng(0)
    labels = np.array(["N", "A", "O"] * 30)
    learned = rng.normal(size=(90, 128))
    rr = rng.normal(size=(90, 15)) + (labels == "A")[:, None]
    train, test = np.arange(60), np.arange(60, 90)
    Z_train, Z_test = demo._compress_and_join(learned, rr, labels, train, test, 0)
    k = Z_train.shape[1] - 15
    assert k in demo.PCA_SIZES
    assert Z_test.shape == (30, k + 15)
    np.testing.assert_array_equal(Z_train[:, k:], rr[train])
    # the test rows never shape the projection
    changed = learned.copy()
    changed[test] = 0
    again, _ = demo._compress_and_join(changed, rr, labels, train, test, 0)
    np.testing.assert_allclose(again, Z_train)


def test_few_records_cap_the_number_of_components():
    rng = np.random.default_rng(1)
    labels = np.array(["N", "A", "O"] * 10)
    learned, rr = rng.normal(size=(30, 128)), rng.normal(size=(30, 15))
    train, test = np.arange(20), np.arange(20, 30)
    Z_train, Z_test = demo._compress_and_join(learned, rr, labels, train, test, 0)
    assert Z_train.shape[1] - 15 <= 15  # 20 training records: 16 per inner split
    assert Z_test.shape == (10, Z_train.shape[1])
