"""Tests of tscl.datasets.beats on the shipped MIT-BIH records and ../shared/data."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tscl.datasets import beats as B

wfdb = pytest.importorskip("wfdb")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "datasets" / "mitdb"
SHARED = ROOT.parent / "shared" / "data" / "ecg" / "mitdb"
needs_shared_ecg = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} (the full original records) is absent"
)


@pytest.fixture(scope="module")
def beats_100() -> B.Beats:
    return B.segment_beats(SHIPPED / "100")


@pytest.fixture(scope="module")
def beats_106() -> B.Beats:
    return B.segment_beats(SHIPPED / "106", channels="MLII")


# ------------------------------------------------------------------ AAMI classes
def test_aami_table_is_de_chazal_table():
    expected = {
        "N": {"N", "L", "R", "e", "j"},
        "S": {"A", "a", "J", "S"},
        "V": {"V", "E"},
        "F": {"F"},
        "Q": {"/", "f", "Q"},
    }
    got: dict[str, set[str]] = {}
    for symbol, label in B.AAMI_CLASSES.items():
        got.setdefault(label, set()).add(symbol)
    assert got == expected
    assert tuple(expected) == B.AAMI_LABELS


def test_aami_class_vectorised_and_non_beats():
    symbols = np.array([["N", "V", "+"], ["~", "|", '"'], ["x", "!", "?"]])
    classes = B.aami_class(symbols)
    assert classes.shape == (3, 3)
    assert classes.tolist() == [["N", "V", ""], ["", "", ""], ["", "", ""]]
    assert B.aami_class("f").tolist() == "Q"
    assert B.aami_class([]).shape == (0,)
    with pytest.raises(TypeError, match="symbols must be strings"):
        B.aami_class([1, 2])


# ------------------------------------------------------------------ DS1 / DS2
def test_ds1_ds2_lists():
    ds1, ds2 = set(B.MITDB_DS1), set(B.MITDB_DS2)
    assert len(B.MITDB_DS1) == len(ds1) == 22
    assert len(B.MITDB_DS2) == len(ds2) == 22
    assert not ds1 & ds2
    assert not (ds1 | ds2) & {"102", "104", "107", "217"}
    # the 48 MIT-BIH records are 100-124 and 200-234 (44 + 4 paced)
    assert all(r[0] in "12" and len(r) == 3 for r in ds1 | ds2)
    assert {"101", "230"} <= ds1
    assert {"100", "234"} <= ds2


def test_inter_patient_split_indices_and_errors():
    records = np.array(["100", "106", "106", "232", "223", "113"])
    train, test = B.inter_patient_split(records)
    assert train.tolist() == [1, 2, 4]
    assert test.tolist() == [0, 3, 5]
    assert B.inter_patient_split([101, 100])[0].tolist() == [0]  # ints accepted
    with pytest.raises(ValueError, match=r"'104' are in neither DS1 nor DS2.*paced"):
        B.inter_patient_split(["100", "104"])
    with pytest.raises(ValueError, match="'999'"):
        B.inter_patient_split(["999"])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        B.inter_patient_split([])


# ------------------------------------------------------------------ record_split
def test_record_split_keeps_records_apart():
    groups = np.repeat(np.array([f"r{i}" for i in range(10)]), [3, 1, 4, 2, 5] * 2)
    train, test = B.record_split(groups, test_size=0.3, random_state=0)
    assert len(train) + len(test) == len(groups)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(30))
    assert not set(groups[train]) & set(groups[test])
    assert len(set(groups[test])) == 3
    again = B.record_split(groups, test_size=0.3, random_state=0)
    assert np.array_equal(again[1], test)
    assert len(set(groups[B.record_split(groups, test_size=2)[1]])) == 2


def test_record_split_errors():
    with pytest.raises(ValueError, match="both sets need at least one record"):
        B.record_split(["a", "a", "a"])
    with pytest.raises(ValueError, match="puts 4 of the 4 distinct records"):
        B.record_split(["a", "b", "c", "d"], test_size=4)
    with pytest.raises(ValueError, match="'test_size' parameter of record_split"):
        B.record_split(["a", "b"], test_size=1.5)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        B.record_split(np.zeros((2, 2)))


# ------------------------------------------------------------------ segment_beats
def test_record_100_annotated_beats(beats_100):
    ann = wfdb.rdann(str(SHIPPED / "100"), "atr")
    assert Counter(ann.symbol) == {"N": 754, "A": 6, "+": 1}
    # 760 beats; the first (0.21 s from the start) and last (0.42 s from the end)
    # do not fit the 0.25 s + 0.45 s window
    assert len(beats_100) == 758
    assert Counter(beats_100.symbol.tolist()) == {"N": 752, "A": 6}
    assert Counter(beats_100.aami.tolist()) == {"N": 752, "S": 6}
    assert beats_100.X.shape == (758, 2, 90 + 162)
    assert beats_100.X.dtype == np.float32
    assert beats_100.fs == 360.0
    assert set(beats_100.record.tolist()) == {"100"}
    beat_samples = np.array(
        [s for s, y in zip(ann.sample, ann.symbol, strict=True) if y != "+"]
    )
    assert np.array_equal(beats_100.sample, beat_samples[1:-1])
    # the window is centred on the annotated R peak: raw samples match
    rec = wfdb.rdrecord(str(SHIPPED / "100"))
    s = int(beats_100.sample[10])
    assert np.allclose(beats_100.X[10].T, rec.p_signal[s - 90 : s + 162], atol=1e-6)
    # R peak of MLII is the maximum near the window's centre for normal beats
    normal = beats_100.X[beats_100.aami == "N", 0]
    assert np.median(np.abs(normal[:, 80:100].argmax(1) + 80 - 90)) <= 2


def test_rr_intervals(beats_100):
    ann = wfdb.rdann(str(SHIPPED / "100"), "atr")
    beat_samples = np.array(
        [s for s, y in zip(ann.sample, ann.symbol, strict=True) if y != "+"]
    )
    rr = np.diff(beat_samples) / 360.0
    assert np.allclose(beats_100.rr_pre, rr[:-1])
    assert np.allclose(beats_100.rr_post, rr[1:])
    assert 0.6 < np.median(beats_100.rr_pre) < 1.0  # ~75 bpm
    # atrial premature beats come early: shorter RR before than after
    s = beats_100[beats_100.symbol == "A"]
    assert np.all(s.rr_pre < s.rr_post)


def test_resample_channels_and_normalize():
    beats = B.segment_beats(SHIPPED / "100", fs=100.0, channels="V5", before=0.3)
    assert beats.X.shape[1:] == (1, 30 + 45)
    assert beats.fs == 100.0
    assert beats.sample[0] == 370  # still at the record's 360 Hz
    z = B.segment_beats(SHIPPED / "100", fs=100.0, normalize="beat")
    assert np.allclose(z.X.mean(axis=2), 0, atol=1e-5)
    assert np.allclose(z.X.std(axis=2), 1, atol=1e-4)
    r = B.segment_beats(SHIPPED / "100", fs=100.0, normalize="record")
    assert abs(float(r.X.mean())) < 0.2
    assert 0.5 < float(r.X.std()) < 2.0
    assert not np.allclose(r.X.std(axis=2), 1, atol=1e-2)


def test_unannotated_record_uses_detector(beats_106):
    # 10 minutes at 60-100 bpm: 600-1000 beats; record 106 is about 65 bpm
    assert 550 <= len(beats_106) <= 1000
    assert set(beats_106.symbol.tolist()) == {"?"}
    assert set(beats_106.aami.tolist()) == {""}
    assert beats_106.X.shape[1:] == (1, 252)
    assert np.all(np.diff(beats_106.sample) > 0.2 * 360)  # refractory period
    assert np.nanmedian(beats_106.rr_pre) == pytest.approx(
        np.median(np.diff(beats_106.sample)) / 360
    )


def test_detector_on_annotated_record_matches_annotations():
    detected = B.segment_beats(SHIPPED / "100", annotation=None, channels=0)
    reference = B.segment_beats(SHIPPED / "100", channels=0)
    assert set(detected.symbol.tolist()) == {"?"}
    distance = np.abs(detected.sample[:, None] - reference.sample[None]).min(1)
    assert len(detected) == len(reference)
    assert np.all(distance <= 3)  # within 8 ms of the reference R peak
    g = B.segment_beats(SHIPPED / "100", annotation=None, detector="gqrs", channels=0)
    assert abs(len(g) - len(reference)) <= 10


def test_segment_beats_errors(tmp_path):
    with pytest.raises(
        ValueError, match="'detector' parameter.*'xqrs', 'gqrs', 'pan-tompkins'"
    ):
        B.segment_beats(SHIPPED / "100", detector="pan")
    with pytest.raises(ValueError, match="'normalize' parameter"):
        B.segment_beats(SHIPPED / "100", normalize="z")
    with pytest.raises(ValueError, match="'after' parameter of segment_beats"):
        B.segment_beats(SHIPPED / "100", after=0)
    with pytest.raises(ValueError, match="'fs' parameter of segment_beats"):
        B.segment_beats(SHIPPED / "100", fs=-100.0)
    with pytest.raises(ValueError, match="windows of 0 samples"):
        B.segment_beats(SHIPPED / "100", before=0, after=1e-4, fs=100.0)
    with pytest.raises(ValueError, match="no channel named 'V1'"):
        B.segment_beats(SHIPPED / "100", channels="V1")
    with pytest.raises(FileNotFoundError, match="expected its header"):
        B.segment_beats(tmp_path / "100")


def test_beats_indexing(beats_100):
    sub = beats_100[np.arange(5)]
    assert len(sub) == 5
    assert sub.fs == beats_100.fs
    assert np.array_equal(sub.X, beats_100.X[:5])
    assert np.array_equal(beats_100[2:4].sample, beats_100.sample[2:4])
    with pytest.raises(IndexError, match=r"beats\[\[i\]\]"):
        beats_100[0]


# ------------------------------------------------------------------ several records
def test_load_mitdb_beats_two_records_and_inter_patient(beats_100, beats_106):
    beats = B.load_mitdb_beats(records=["100", "106"], channels=0)
    assert len(beats) == len(beats_100) + len(beats_106)
    assert Counter(beats.record.tolist()) == {
        "100": len(beats_100),
        "106": len(beats_106),
    }
    train, test = B.inter_patient_split(beats.record)
    assert set(beats[train].record.tolist()) == {"106"}  # DS1
    assert set(beats[test].record.tolist()) == {"100"}  # DS2
    tr, te = B.record_split(beats.record, test_size=1, random_state=0)
    assert not set(beats.record[tr]) & set(beats.record[te])


def test_load_mitdb_beats_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No WFDB record"):
        B.load_mitdb_beats(tmp_path)
    with pytest.raises(ValueError, match="records is empty"):
        B.load_mitdb_beats(records=[])
    header = (SHIPPED / "100.hea").read_text()
    for name, fs in (("100", "360"), ("200", "250")):
        for ext in ("dat", "atr"):
            shutil.copy(SHIPPED / f"100.{ext}", tmp_path / f"{name}.{ext}")
        text = header.replace("100", name).replace("2 360", f"2 {fs}", 1)
        (tmp_path / f"{name}.hea").write_text(text)
    with pytest.raises(ValueError, match="different sampling rates.*Pass fs="):
        B.load_mitdb_beats(tmp_path)
    assert B.load_mitdb_beats(tmp_path, fs=100.0).X.shape[2] == 70


@needs_shared_ecg
def test_full_record_100():
    beats = B.segment_beats(SHARED / "100", channels="MLII")
    # reference: N 2239, A 33, V 1 over 30 min; edge beats may be dropped
    counts = Counter(beats.symbol.tolist())
    assert 2237 <= counts["N"] <= 2239
    assert counts["A"] == 33
    assert counts["V"] == 1
    assert Counter(beats.aami.tolist())["S"] == 33
    assert beats.X.shape[1:] == (1, 252)


def test_pan_tompkins_finds_the_beats_of_an_unannotated_record():
    from tscl import datasets

    detected = datasets.segment_beats(
        "datasets/mitdb/100", channels=0, annotation=None, detector="pan-tompkins"
    )
    annotated = datasets.segment_beats("datasets/mitdb/100", channels=0)
    assert set(detected.symbol) == {"?"}
    assert abs(len(detected) - len(annotated)) <= 3
    distance = np.abs(annotated.sample[:, None] - detected.sample[None, :]).min(axis=1)
    assert np.median(distance) <= 2
