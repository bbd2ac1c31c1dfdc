"""Tests of the missing-value policy (fill_missing, load_ucr) and of load_uea."""

from __future__ import annotations

import re
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tscl import datasets
from tscl.datasets import ucr, uea
from tscl.datasets._missing import fill_missing

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
needs_shared_ucr = pytest.mark.skipif(
    not (SHARED / "ucr" / "PLAID").is_dir(), reason=f"{SHARED / 'ucr'} is absent"
)
needs_shared_uea = pytest.mark.skipif(
    not (SHARED / "uea" / "BasicMotions").is_dir(),
    reason=f"{SHARED / 'uea'} is absent",
)
nan = np.nan


def _masks(split, policy):
    """The masks of a split loaded with missing="keep", under ``policy``."""
    return tuple(
        fill_missing(X, policy, return_mask=True)[1]
        for X in (split.X_train, split.X_test)
    )


# ----------------------------------------------------------------- fill_missing
def test_fill_missing_pad_rules_mask_and_no_side_effect():
    X = np.array(
        [[nan, 1.0, nan, 3.0, nan, nan], [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]],
        dtype=np.float32,
    )
    before = X.copy()
    filled, mask = fill_missing(X, "pad", return_mask=True)
    # leading NaN: nearest value; interior gap: linear; trailing padding: 0
    np.testing.assert_array_equal(filled[0], [1, 1, 2, 3, 0, 0])
    np.testing.assert_array_equal(filled[1], X[1])
    assert filled.dtype == np.float32
    np.testing.assert_array_equal(mask, ~np.isnan(before))
    np.testing.assert_array_equal(X, before)  # input untouched
    assert not np.shares_memory(filled, X)


def test_fill_missing_resample_keep_and_dtypes():
    X = np.array([[0.0, nan, 4.0, nan, nan], [1.0, 2.0, 3.0, 4.0, 5.0]])
    filled, mask = fill_missing(X, "resample", return_mask=True)
    # row 0 ends at step 2: [0, 2, 4] stretched over 5 steps
    np.testing.assert_allclose(filled[0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(filled[1], X[1])
    assert mask.all()
    assert mask.dtype == bool
    kept, kept_mask = fill_missing(X, "keep", return_mask=True)
    np.testing.assert_array_equal(kept, X)
    assert not np.shares_memory(kept, X)
    assert kept_mask.sum() == 7
    assert fill_missing(np.ones((2, 3), dtype=np.int16), "pad").dtype == np.float64
    assert fill_missing(X, "pad").dtype == np.float64


def test_fill_missing_3d_case_end_is_the_longest_channel():
    X = np.array([[[1.0, 2.0, 3.0, nan], [5.0, nan, nan, nan]]])  # (1, 2, 4)
    padded = fill_missing(X, "pad")
    # the case ends at step 2: channel 1 repeats its last value up to there
    np.testing.assert_array_equal(padded[0], [[1, 2, 3, 0], [5, 5, 5, 0]])
    stretched = fill_missing(X, "resample")
    np.testing.assert_allclose(stretched[0, 0], [1, 1 + 2 / 3, 1 + 4 / 3, 3])
    np.testing.assert_array_equal(stretched[0, 1], [5, 5, 5, 5])


@settings(deadline=None, max_examples=25)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 12)),
        elements=st.one_of(st.just(nan), st.floats(-1e3, 1e3)),
    )
)
def test_fill_missing_properties(X):
    observed = ~np.isnan(X)
    if not observed.any(axis=2).all():  # a case, or a channel of one, is all NaN
        with pytest.raises(ValueError, match="has no observed value"):
            fill_missing(X, "pad")
        return
    for policy in ("pad", "resample"):
        filled, mask = fill_missing(X, policy, return_mask=True)
        assert filled.shape == X.shape
        assert np.isfinite(filled).all()
        assert mask.sum() == (observed.sum() if policy == "pad" else X.size)
    padded = fill_missing(X, "pad")
    np.testing.assert_array_equal(padded[observed], X[observed])
    low, high = np.nanmin(X), np.nanmax(X)  # linear filling never overshoots
    stretched = fill_missing(X, "resample")
    assert (stretched >= low - 1e-9).all()
    assert (stretched <= high + 1e-9).all()


def test_fill_missing_errors():
    X = np.array([[1.0, nan], [nan, nan]])
    with pytest.raises(ValueError, match=r"Row 1 of my_file\.tsv has no observed"):
        fill_missing(X, "pad", source="my_file.tsv")
    assert np.isnan(fill_missing(X, "keep")).sum() == 3  # keep never fails
    with pytest.raises(ValueError, match="Channel 1 of case 0 of X has no observed"):
        fill_missing(np.array([[[1.0, 2.0], [nan, nan]]]), "resample")
    with pytest.raises(ValueError, match="'policy' parameter of fill_missing"):
        fill_missing(X, "zero")
    with pytest.raises(TypeError, match="'policy' parameter"):
        fill_missing(X, None)
    with pytest.raises(TypeError, match="'return_mask' parameter"):
        fill_missing(X, "pad", return_mask="yes")
    with pytest.raises(ValueError, match=r"got \(2,\)"):
        fill_missing(np.ones(2), "pad")
    with pytest.raises(TypeError, match="real numbers"):
        fill_missing(np.array([["a"]]), "pad")
    with pytest.raises(ValueError, match="infinite value"):
        fill_missing(np.array([[1.0, np.inf, nan]]), "pad")


# ----------------------------------------------------------------- load_ucr
def _write_ucr(folder: Path, name: str, train: str, test: str) -> None:
    (folder / f"{name}_TRAIN.tsv").write_text(train)
    (folder / f"{name}_TEST.tsv").write_text(test)


def test_load_ucr_missing_policies_on_tiny_files(tmp_path):
    _write_ucr(
        tmp_path,
        "Var",
        "b\t1\t2\t3\t4\na\t1\tNaN\t3\tNaN\nb\t2\tNaN\tNaN\tNaN\n",
        "a\tNaN\t4\t6\n",  # narrower test file: padded to 4 columns
    )
    X, y, Xt, yt = ucr.load_ucr("Var", tmp_path)
    assert X.shape == (3, 4)
    assert Xt.shape == (1, 4)
    assert np.isnan(Xt[0, [0, 3]]).all()
    assert y.tolist() == ["b", "a", "b"]
    assert yt.tolist() == ["a"]
    X, y2, Xt, _ = ucr.load_ucr("Var", tmp_path, missing="pad")
    np.testing.assert_array_equal(X, [[1, 2, 3, 4], [1, 2, 3, 0], [2, 0, 0, 0]])
    np.testing.assert_array_equal(Xt, [[4, 4, 6, 0]])
    mask, mask_t = _masks(ucr.load_ucr("Var", tmp_path), "pad")
    assert mask.sum(axis=1).tolist() == [4, 2, 1]
    assert mask_t.sum() == 2
    assert y2.tolist() == y.tolist()  # labels and row order unchanged
    X, _, Xt, _ = ucr.load_ucr("Var", tmp_path, missing="resample")
    np.testing.assert_allclose(X, [[1, 2, 3, 4], [1, 5 / 3, 7 / 3, 3], [2, 2, 2, 2]])
    np.testing.assert_allclose(Xt, [[4, 4, 14 / 3, 6]])  # leading NaN: nearest
    assert X.dtype == Xt.dtype == np.float32


def test_load_ucr_file_missing_and_errors(tmp_path):
    path = tmp_path / "Gap_TRAIN.tsv"
    path.write_text("1\t1\tNaN\t3\n2\tNaN\tNaN\tNaN\n")
    X, y = ucr.load_ucr_file(path)
    assert np.isnan(X).sum() == 4
    assert y.tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"Row 1 of Gap_TRAIN\.tsv has no observed"):
        ucr.load_ucr_file(path, missing="pad")
    with pytest.raises(ValueError, match="'missing' parameter of load_ucr_file"):
        ucr.load_ucr_file(path, missing="drop")
    _write_ucr(tmp_path, "Gap", path.read_text(), "1\t1\t2\t3\n")
    with pytest.raises(ValueError, match="'missing' parameter of load_ucr "):
        ucr.load_ucr("Gap", tmp_path, missing="interpolate")
    with pytest.raises(ValueError, match="Row 1 of Gap_TRAIN.tsv"):
        ucr.load_ucr("Gap", tmp_path, missing="resample")


@needs_shared_ucr
def test_load_ucr_plaid_variable_lengths():
    kept = ucr.load_ucr("PLAID", SHARED / "ucr", missing="keep")
    X, y, Xt, yt = kept
    mask, mask_t = _masks(kept, "keep")
    lengths = mask.sum(axis=1)
    assert X.shape == Xt.shape == (537, 1344)
    assert lengths.min() == 100
    assert lengths.max() == 1344
    assert len(np.unique(lengths)) > 50
    # PLAID's NaN are all trailing padding: each row is observed up to its length
    assert all(
        mask[i, :n].all() and not mask[i, n:].any() for i, n in enumerate(lengths)
    )
    Xp, yp, Xpt, _ = ucr.load_ucr("PLAID", SHARED / "ucr", missing="pad")
    mask_p, mask_pt = _masks(kept, "pad")
    np.testing.assert_array_equal(mask_p, mask)
    assert mask_pt.sum() == np.isfinite(Xt).sum()
    np.testing.assert_array_equal(Xp[mask], X[mask])
    assert not Xp[~mask].any()
    assert not np.isnan(Xpt).any()
    Xr, yr, Xrt, yrt = ucr.load_ucr("PLAID", SHARED / "ucr", missing="resample")
    assert Xr.shape == X.shape
    assert not np.isnan(Xr).any()
    assert not np.isnan(Xrt).any()
    np.testing.assert_array_equal(yr, y)
    np.testing.assert_array_equal(yrt, yt)
    short = int(np.argmin(lengths))  # first and last observed values kept in place
    assert Xr[short, 0] == X[short, 0]
    assert Xr[short, -1] == X[short, lengths[short] - 1]


@needs_shared_ucr
def test_load_ucr_dodgerloopday_each_policy():
    kept = ucr.load_ucr("DodgerLoopDay", SHARED / "ucr")
    X, y, Xt, yt = kept
    mask, _ = _masks(kept, "keep")
    assert X.shape == (78, 288)
    assert Xt.shape == (80, 288)
    gaps = ~mask
    assert gaps.sum() == 236
    assert (gaps[:, 1:-1]).any()
    for policy in ("pad", "resample"):
        Xf, yf, Xft, yft = ucr.load_ucr("DodgerLoopDay", SHARED / "ucr", missing=policy)
        mask_f, _ = _masks(kept, policy)
        assert not np.isnan(Xf).any()
        assert not np.isnan(Xft).any()
        np.testing.assert_array_equal(yf, y)
        np.testing.assert_array_equal(yft, yt)
        if policy == "pad":  # no series ends early, so nothing is set to zero
            np.testing.assert_array_equal(Xf[mask], X[mask])
            np.testing.assert_array_equal(mask_f, mask)
            assert (Xf[gaps] >= np.nanmin(X)).all()
        else:
            assert mask_f.all()


# ----------------------------------------------------------------- .ts files
TS_HEADER = """# a comment
@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength {equal}
@classLabel true up down
@data
"""


def _write(folder: Path, name: str, train: str, test: str, ext: str = ".ts") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_TRAIN{ext}").write_text(train)
    (folder / f"{name}_TEST{ext}").write_text(test)


def test_load_uea_ts_multivariate_missing_and_variable_length(tmp_path):
    header = TS_HEADER.format(equal="false")
    _write(
        tmp_path / "Toy",
        "Toy",
        header + "1,2,3,4:5,6,7,8:up\n\n1,?,3:4,5,6:down\n",
        header + "0,1:2,3:down\n",
    )
    kept = uea.load_uea("Toy", tmp_path)
    X, y, Xt, yt = kept
    mask, mask_t = _masks(kept, "keep")
    assert X.shape == (2, 2, 4)
    assert Xt.shape == (1, 2, 4)
    assert X.dtype == np.float32
    assert y.tolist() == ["up", "down"]
    assert yt.tolist() == ["down"]
    assert np.isnan(X[1, 0, [1, 3]]).all()
    assert np.isnan(Xt[0, :, 2:]).all()
    assert mask.sum() == 13
    assert mask_t.sum() == 4
    Xp, _, Xpt, _ = uea.load_uea("Toy", tmp_path, missing="pad")
    np.testing.assert_array_equal(Xp[1], [[1, 2, 3, 0], [4, 5, 6, 0]])
    np.testing.assert_array_equal(Xpt[0], [[0, 1, 0, 0], [2, 3, 0, 0]])
    Xr, _, Xrt, _ = uea.load_uea("Toy", tmp_path, missing="resample")
    mask_r, _ = _masks(kept, "resample")
    np.testing.assert_allclose(Xr[1, 1], [4, 4 + 2 / 3, 4 + 4 / 3, 6])
    np.testing.assert_allclose(Xrt[0, 0], [0, 1 / 3, 2 / 3, 1])
    assert mask_r.all()
    assert not np.isnan(Xr).any()


def _write_toy_splits(tmp_path):
    """Tiny UCR and UEA splits with gaps and variable lengths: the two loaders."""
    _write_ucr(tmp_path, "Var", "a\t1\tNaN\t3\nb\t2\t4\tNaN\n", "a\tNaN\t5\n")
    header = TS_HEADER.format(equal="false")
    _write(tmp_path, "Toy", header + "1,?,3:4,5,6:up\n", header + "0,1:2,?:down\n")
    return [
        partial(ucr.load_ucr, "Var", tmp_path),
        partial(uea.load_uea, "Toy", tmp_path),
    ]


def test_load_ucr_and_uea_return_a_named_split(tmp_path):
    for load in _write_toy_splits(tmp_path):
        split = load()
        assert type(split) is datasets.Split
        assert split._fields == ("X_train", "y_train", "X_test", "y_test")
        X_train, y_train, X_test, y_test = split  # 4-way unpacking still works
        assert X_train is split.X_train
        assert y_train is split.y_train
        assert X_test is split.X_test
        assert y_test is split.y_test
        assert len(split) == 4
    data = ucr.load_ucr_file(tmp_path / "Var_TRAIN.tsv")
    assert type(data) is datasets.LabelledSeries
    assert data._fields == ("X", "y")
    X, y = data  # 2-way unpacking still works
    assert X is data.X
    assert y is data.y
    data = uea.load_uea_file(tmp_path / "Toy_TRAIN.ts")
    assert type(data) is datasets.LabelledSeries
    X, y = data
    assert X.shape == (1, 2, 3)
    assert y.tolist() == ["up"]


@pytest.mark.parametrize("policy", ["keep", "pad", "resample"])
def test_loaders_equal_fill_missing_on_kept_data(tmp_path, policy):
    """missing=policy is fill_missing(policy) on missing="keep": masks come from it."""
    for load in _write_toy_splits(tmp_path):
        kept, filled = load(), load(missing=policy)
        for X_kept, X in ((kept.X_train, filled.X_train), (kept.X_test, filled.X_test)):
            X_again, mask = fill_missing(X_kept, policy, return_mask=True)
            np.testing.assert_array_equal(X_again, X)
            assert X_again.dtype == X.dtype == np.float32
            expected = ~np.isnan(X_kept) if policy != "resample" else True
            np.testing.assert_array_equal(mask, np.broadcast_to(expected, X.shape))
        np.testing.assert_array_equal(filled.y_train, kept.y_train)
        np.testing.assert_array_equal(filled.y_test, kept.y_test)


def test_load_uea_ts_univariate_int_labels_flat_layout_and_env(tmp_path, monkeypatch):
    text = "@problemName Uni\n@univariate true\n@equalLength true\n@seriesLength 3\n"
    text += "@classLabel true 1 2\n@data\n"
    _write(tmp_path, "Uni", text + "1,2,3:1\n4,5,6:2\n", text + "7,8,9:2\n")
    monkeypatch.setenv("TSCL_DATA", str(tmp_path))
    X, y, Xt, yt = uea.load_uea("Uni")
    assert X.shape == (2, 1, 3)
    assert Xt.shape == (1, 1, 3)
    assert y.dtype == np.int64
    assert y.tolist() == [1, 2]
    assert yt.tolist() == [2]
    np.testing.assert_array_equal(X[:, 0], [[1, 2, 3], [4, 5, 6]])


def test_load_uea_prefers_ts_then_reads_arff(tmp_path):
    header = TS_HEADER.format(equal="true")
    _write(
        tmp_path / "Both", "Both", header + "1,2:3,4:up\n", header + "5,6:7,8:down\n"
    )
    arff = ARFF_HEADER.format(labels="{up,down}")
    _write(
        tmp_path / "Both",
        "Both",
        arff + "'9,9\\n9,9',up\n",
        arff + "'9,9\\n9,9',up\n",
        ext=".arff",
    )
    X, *_ = uea.load_uea("Both", tmp_path)
    np.testing.assert_array_equal(X[0], [[1, 2], [3, 4]])
    for split in ("TRAIN", "TEST"):
        (tmp_path / "Both" / f"Both_{split}.ts").unlink()
    X, *_ = uea.load_uea("Both", tmp_path)
    np.testing.assert_array_equal(X[0], [[9, 9], [9, 9]])


# ----------------------------------------------------------------- .arff files
ARFF_HEADER = """% comment with a stray byte \xb5
@relation 'Toy'
@attribute relationalAtt relational
@attribute t0 numeric
@attribute t1 numeric
@end relationalAtt
@attribute 'the class' {labels}
@data
"""


def test_read_arff_relational_quotes_newlines_and_missing(tmp_path):
    path = tmp_path / "Toy_TRAIN.arff"
    body = "'1,2\\n3,4',up\n\"5,?\n7,8\" , 'down'\n% comment\n'0,0\\n0,0',up\n"
    path.write_bytes(
        (ARFF_HEADER.format(labels="{up, 'down'}") + body).encode("latin-1")
    )
    X, y = uea.load_uea_file(path)
    _, mask = fill_missing(X, "keep", return_mask=True)
    assert X.shape == (3, 2, 2)
    assert y.tolist() == ["up", "down", "up"]
    np.testing.assert_array_equal(X[1, 1], [7, 8])  # real newline between dimensions
    assert np.isnan(X[1, 0, 1])
    assert mask.sum() == 11


def test_read_arff_univariate_matches_ts(tmp_path):
    arff = (
        "@relation Uni\n@attribute a numeric\n@attribute b real\n@attribute c numeric\n"
    )
    arff += "@attribute target {1,2}\n@data\n1,2,3,1\n4,?,6,2\n"
    ts = "@univariate true\n@classLabel true 1 2\n@data\n1,2,3:1\n4,?,6:2\n"
    _write(tmp_path / "A", "Uni", arff, arff, ext=".arff")
    _write(tmp_path / "T", "Uni", ts, ts)
    from_arff = uea.load_uea("Uni", tmp_path / "A")
    from_ts = uea.load_uea("Uni", tmp_path / "T")
    for a, b in zip(from_arff, from_ts, strict=True):
        np.testing.assert_array_equal(a, b)
    assert from_arff[0].shape == (2, 1, 3)
    assert from_arff[1].dtype == np.int64


@needs_shared_uea
@pytest.mark.parametrize("separator", ["\\n", "\n"])
def test_arff_parser_matches_ts_on_basicmotions(tmp_path, separator):
    """Write BasicMotions as relational ARFF from the .ts lines, then compare."""
    source = SHARED / "uea" / "BasicMotions"
    folder = tmp_path / "BasicMotions"
    folder.mkdir()
    for split in ("TRAIN", "TEST"):
        lines = (source / f"BasicMotions_{split}.ts").read_text().splitlines()
        rows = [ln for ln in lines[lines.index("@data") + 1 :] if ln.strip()]
        header = ["@relation BasicMotions", "@attribute relationalAtt relational"]
        header += [f"@attribute t{i} numeric" for i in range(100)]
        header += ["@end relationalAtt"]
        header += ["@attribute activity {Standing,Running,Walking,Badminton}", "@data"]
        body = []
        for row in rows:
            *dims, label = row.split(":")
            body.append(f"'{separator.join(dims)}',{label}")
        text = "\n".join(header + body) + "\n"
        (folder / f"BasicMotions_{split}.arff").write_text(text)
    from_arff = uea.load_uea("BasicMotions", tmp_path)
    from_ts = uea.load_uea("BasicMotions", SHARED / "uea")
    for a, b in zip(from_arff, from_ts, strict=True):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- real UEA data
@needs_shared_uea
def test_load_uea_basicmotions():
    kept = uea.load_uea("BasicMotions", SHARED / "uea")
    X, y, Xt, yt = kept
    mask, _ = _masks(kept, "keep")
    assert X.shape == Xt.shape == (40, 6, 100)
    assert X.dtype == np.float32
    assert mask.all()
    assert np.isfinite(X).all()
    assert set(y) == set(yt) == {"Standing", "Running", "Walking", "Badminton"}
    assert np.unique(y, return_counts=True)[1].tolist() == [10, 10, 10, 10]
    np.testing.assert_allclose(X[0, 0, :3], [0.079106, 0.079106, -0.903497])
    assert y[0] == "Standing"


@needs_shared_uea
def test_load_uea_japanesevowels_variable_length():
    kept = uea.load_uea("JapaneseVowels", SHARED / "uea")
    X, y, Xt, yt = kept
    mask, mask_t = _masks(kept, "keep")
    assert X.shape == (270, 12, 29)
    assert Xt.shape == (370, 12, 29)
    assert y.dtype == np.int64
    assert set(y) == set(yt) == set(range(1, 10))
    lengths = np.concatenate([mask[:, 0].sum(axis=1), mask_t[:, 0].sum(axis=1)])
    assert lengths.min() == 7
    assert lengths.max() == 29
    assert (mask == mask[:, :1]).all()  # all 12 channels share a case's length
    Xp, _, Xpt, _ = uea.load_uea("JapaneseVowels", SHARED / "uea", missing="pad")
    mask_p, _ = _masks(kept, "pad")
    np.testing.assert_array_equal(mask_p, mask)
    assert not np.isnan(Xp).any()
    assert not Xp[~mask].any()
    assert mask_p.sum() == np.isfinite(X).sum()
    Xr, yr, Xrt, _ = uea.load_uea("JapaneseVowels", SHARED / "uea", missing="resample")
    assert not np.isnan(Xr).any()
    assert not np.isnan(Xrt).any()
    np.testing.assert_array_equal(yr, y)
    # the equal-length version in the same folder, by the flat layout
    Xe, ye, Xet, _ = uea.load_uea(
        "JapaneseVowels_eq", SHARED / "uea" / "JapaneseVowels"
    )
    assert Xe.shape == (270, 12, 25)
    assert Xet.shape == (370, 12, 25)
    np.testing.assert_array_equal(ye, y)


# ----------------------------------------------------------------- malformed files
GOOD_TS = "@dimensions 2\n@classLabel true a b\n@data\n"
MALFORMED_TS = [
    ("@classLabel true a\n1,2:a\n", r"line 2: expected a header line"),
    ("@classLabel true a b\n", r"no '@data' line"),
    ("@univariate maybe\n@data\n", r"line 1: @univariate needs true or false"),
    ("@timeStamps true\n@data\n", r"line 1: @timeStamps true .* not supported"),
    ("@targetLabel true\n@data\n1,2:0.5\n", r"line 1: @targetLabel true .*regression"),
    ("@classLabel false\n@data\n1,2\n", r"line 1: load_uea needs labelled cases"),
    ("@dimensions two\n@data\n", r"line 1: @dimensions needs an integer"),
    ("@data extra\n", r"line 1: @data must stand alone"),
    (GOOD_TS + "1,2:3,4:c\n", r"line 4: class label 'c' is not one of .* a b"),
    (GOOD_TS + "1,2:3,4:5,6:a\n", r"line 4: expected 2 dimension\(s\).*found 3"),
    (GOOD_TS + "1,x:3,4:a\n", r"line 4: dimension 0: could not read 'x' as a number"),
    (GOOD_TS + "1,2,3,4\n", r"line 4: expected the values of each dimension"),
    (GOOD_TS + "1,2:3,4:\n", r"line 4: expected the values of each dimension"),
    (GOOD_TS + "(0,1),(1,2):(0,1),(1,2):a\n", r"Time stamps '\(t, v\)' are not"),
    ("@equalLength true\n" + GOOD_TS + "1,2:3,4,5:a\n", r"line 5: @equalLength true"),
    (
        "@equalLength true\n@seriesLength 3\n" + GOOD_TS + "1,2:3,4:a\n",
        r"line 6: @equalLength true \(@seriesLength 3\)",
    ),
    (
        "@equalLength true\n@classLabel true a\n@data\n1:a\n1,2:a\n",
        r"line 5: @equalLength true but this case has 2 steps",
    ),
    ("@classLabel true a\n@data\n1:a\n1:2:a\n", r"line 4: this case has 2 dimension"),
    (GOOD_TS, r"the @data section holds no case"),
]


@pytest.mark.parametrize(("text", "match"), MALFORMED_TS)
def test_malformed_ts_files(tmp_path, text, match):
    path = tmp_path / "Bad_TRAIN.ts"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + match):
        uea.load_uea_file(path)


ARFF_INNER = "@relation R\n@attribute rel relational\n@attribute t0 numeric\n"
ARFF_INNER += "@attribute t1 numeric\n@end rel\n"
MALFORMED_ARFF = [
    (ARFF_INNER + "@data\n'1,2',a\n", r"line 6: no class attribute"),
    (
        ARFF_INNER + "@attribute c {a}\n@attribute d {a}\n@data\n",
        r"line 7: expected "
        "exactly one attribute",
    ),
    (
        ARFF_INNER + "@attribute c {a}\n@data\n'1,2\\n3,4,a\n",
        r"line 8: expected a "
        "quoted relational value and its closing quote",
    ),
    (ARFF_INNER + "@attribute c {a}\n@data\n'1,2\\n3,4' a\n", r"line 8: expected ','"),
    (
        ARFF_INNER + "@attribute c {a}\n@data\n'1,2\\n3',a\n",
        r"line 8: dimension 1 has "
        "1 values, but the header declares 2",
    ),
    (
        ARFF_INNER + "@attribute c {a}\n@data\n'1,2\\n3,4',b\n",
        r"line 8: class label "
        "'b' is not one of those declared: a",
    ),
    (
        ARFF_INNER + "@attribute c {a}\n@data\n'1,2\\n3,4',a\n'1,2',a\n",
        r"line 9: this "
        "case has 1 dimension",
    ),
    (ARFF_INNER + "@attribute c {a}\n@data\n{0 1, 2 a}\n", r"line 8: sparse ARFF"),
    (
        "@relation R\n@attribute t0 numeric\n@attribute c {a}\n@data\n1,2,a\n",
        r"line 5: dimension 0 has 2 values",
    ),
    (
        "@relation R\n@attribute t0 string\n@attribute c {a}\n@data\n",
        r"line 2: time steps must be numeric",
    ),
    ("@relation R\n@attribute c {a}\n@data\n", r"line 3: no time-step attribute"),
    ("@relation R\n@attribute t0 numeric\n@attribute c {a}\n", r"no '@data' line"),
    ("@relation R\nt0 numeric\n", r"line 2: expected '@relation', '@attribute"),
    ("@relation R\n@end rel\n", r"line 2: @end without a relational attribute"),
]


@pytest.mark.parametrize(("text", "match"), MALFORMED_ARFF)
def test_malformed_arff_files(tmp_path, text, match):
    path = tmp_path / "Bad_TRAIN.arff"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + match):
        uea.load_uea_file(path)


def test_load_uea_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("TSCL_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"tried .*tscl_data.*Multivariate2018"):
        uea.load_uea("BasicMotions")
    header = "@classLabel true a\n@data\n"
    (tmp_path / "Half_TRAIN.ts").write_text(header + "1,2:a\n")
    with pytest.raises(FileNotFoundError, match="not the test split"):
        uea.load_uea("Half", tmp_path)
    _write(tmp_path, "Mixed", header + "1,2:3,4:a\n", header + "1,2:a\n")
    with pytest.raises(ValueError, match=r"has 2 channel\(s\) but .* has 1"):
        uea.load_uea("Mixed", tmp_path)
    with pytest.raises(ValueError, match="'missing' parameter of load_uea "):
        uea.load_uea("Mixed", tmp_path, missing="fill")
    _write(tmp_path, "Empty", header + "1,?:a\n", header + "?,?:a\n")
    assert np.isnan(uea.load_uea("Empty", tmp_path)[2]).all()
    with pytest.raises(ValueError, match=r"Case 0 of Empty_TEST\.ts has no observed"):
        uea.load_uea("Empty", tmp_path, missing="pad")
    with pytest.raises(ValueError, match=r"neither a \.ts nor an \.arff"):
        uea.load_uea_file(tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        uea.load_uea_file(tmp_path / "missing.ts")


@needs_shared_uea
def test_load_uea_copied_layout(tmp_path):
    """The archive layout <root>/<name>/<name>_TRAIN.ts, copied elsewhere."""
    shutil.copytree(SHARED / "uea" / "BasicMotions", tmp_path / "BasicMotions")
    X, y, _, _ = uea.load_uea("BasicMotions", tmp_path, missing="pad")
    assert X.shape == (40, 6, 100)
    assert len(y) == 40
