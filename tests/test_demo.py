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


@pytest.mark.slow
def test_demo_runs_end_to_end_on_shipped_records(tmp_path):
    summary = demo.run_demo(
        out_dir=tmp_path, n_epochs=1, supervised_epochs=1, verbose=False
    )
    assert set(summary["results"]) == {
        "SimCLR pretrained + linear probe",
        "random-init CNN + linear probe",
        "RR-interval features + probe",
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
