"""Tests of tscl.datasets.finance: price files, returns, leak-free windows, splits."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import TimeSeriesSplit

from tscl.datasets import finance
from tscl.datasets.finance import (
    align_prices,
    chronological_split,
    load_prices,
    log_returns,
    return_windows,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SP500 = ROOT / "datasets" / "finance" / "sp500.csv"
SHARED = ROOT.parent / "shared" / "data" / "finance"
needs_shared_finance = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} is absent"
)


def write(tmp_path: Path, text: str, name: str = "prices.csv", **kwargs) -> Path:
    path = tmp_path / name
    path.write_text(text, **kwargs)
    return path


def random_walk(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic daily log returns (with volatility clustering) and their dates."""
    rng = np.random.default_rng(seed)
    vol = 0.01 * np.exp(np.cumsum(rng.normal(0, 0.05, n)))
    dates = np.datetime64("2001-01-01") + np.arange(n)
    return rng.normal(0, 1, n) * vol, dates


# ----------------------------------------------------------------- real files
def test_shipped_sp500_loads_with_its_documented_shape_and_values():
    dates, close = load_prices(SHIPPED_SP500)
    assert dates.dtype == np.dtype("datetime64[D]")
    assert close.dtype == np.float64
    assert len(dates) == len(close) == 5031
    assert str(dates[0]) == "1999-01-04"
    assert str(dates[-1]) == "2018-12-31"
    assert (np.diff(dates) > np.timedelta64(0, "D")).all()
    assert close[0] == 1228.099976
    assert close[-1] == 2506.850098
    np.testing.assert_array_equal(load_prices(SHIPPED_SP500, "Close")[1], close)
    assert np.sum(dates.astype("datetime64[Y]") == np.datetime64("2008", "Y")) == 253
    r = log_returns(close)
    assert r.argmax() + 1 == np.flatnonzero(dates == np.datetime64("2008-10-13"))[0]
    assert r.max() == pytest.approx(0.110, abs=5e-4)


@needs_shared_finance
@pytest.mark.parametrize(
    ("name", "column", "n_days", "first", "last", "value"),
    [
        ("sp500.csv", None, 5031, "1999-01-04", "2018-12-31", 1228.099976),
        ("nasdaq.csv", None, 5031, "1999-01-04", "2018-12-31", 2208.050049),
        ("msft.csv", None, 7983, "1986-03-13", "2017-11-10", 0.07533),  # ISO
        ("crude.csv", "Brent", 393, "1987-05-15", "2020-01-15", 18.58),  # BOM
        ("crude.csv", "WTI", 393, "1987-05-15", "2020-01-15", 19.44),
        ("frenchdata.csv", "Mkt-RF", 1109, "1926-07-01", "2018-11-01", 2.96),
    ],
)
def test_shared_files_in_every_date_format_load(
    name, column, n_days, first, last, value
):
    dates, values = load_prices(SHARED / name, column)
    assert len(dates) == n_days
    assert (str(dates[0]), str(dates[-1]), values[0]) == (first, last, value)
    assert (np.diff(dates) > np.timedelta64(0, "D")).all()


@needs_shared_finance
@pytest.mark.parametrize(
    ("name", "column", "n_missing", "n_days"),
    [("wti.csv", "DCOILWTICO", 290, 8321), ("vix.csv", "vix", 46, 1259)],
)
def test_shared_files_with_dot_cells_drop_those_days_and_say_how_many(
    name, column, n_missing, n_days
):
    with pytest.warns(UserWarning, match=f"{n_missing} of {n_days + n_missing} rows"):
        dates, values = load_prices(SHARED / name)  # the only numeric column
    assert len(dates) == len(values) == n_days
    assert np.isfinite(values).all()
    assert (values > 0).all()
    with pytest.raises(ValueError, match=f"no '{column}' value.*missing='drop'"):
        load_prices(SHARED / name, missing="raise")


@needs_shared_finance
def test_shared_files_with_several_value_columns_need_column():
    with pytest.raises(ValueError, match=r"2 numeric columns.*'Brent', 'WTI'"):
        load_prices(SHARED / "crude.csv")
    with pytest.raises(ValueError, match=r"4 numeric columns.*'Mkt-RF'"):
        load_prices(SHARED / "frenchdata.csv")
    # Fama-French factors are returns in percent, not prices.
    _, factor = load_prices(SHARED / "frenchdata.csv", "Mkt-RF")
    with pytest.raises(ValueError, match="positive finite prices.*already returns"):
        log_returns(factor)


@needs_shared_finance
def test_shared_series_align_on_common_dates():
    series = [load_prices(SHARED / f) for f in ("sp500.csv", "nasdaq.csv", "msft.csv")]
    dates, values = align_prices(series)
    assert values.shape == (3, len(dates))
    assert str(dates[0]) == "1999-01-04"
    assert str(dates[-1]) == "2017-11-10"
    for (d, v), row in zip(series, values, strict=True):
        np.testing.assert_array_equal(v[np.isin(d, dates)], row)


# ----------------------------------------------------------------- small files
def test_bom_crlf_iso_dates_and_the_close_column(tmp_path):
    text = "Date,Open,Close,Volume\r\n2020-01-02,1,10.5,7\r\n2020-01-03,1,11,8\r\n"
    path = write(tmp_path, text, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    dates, close = load_prices(path)
    assert dates.astype(str).tolist() == ["2020-01-02", "2020-01-03"]
    assert close.tolist() == [10.5, 11.0]
    assert load_prices(path, "Volume")[1].tolist() == [7.0, 8.0]


def test_adj_close_wins_and_the_only_numeric_column_is_the_default(tmp_path):
    text = "Date,Close,Adj Close\n1/2/2020,10,5\n1/3/2020,11,6\n"
    assert load_prices(write(tmp_path, text))[1].tolist() == [5.0, 6.0]
    text = "date,name,value\n202001,a,1.5\n202002,b,2.5\n"
    dates, values = load_prices(write(tmp_path, text))
    assert dates.astype(str).tolist() == ["2020-01-01", "2020-02-01"]
    assert values.tolist() == [1.5, 2.5]


def test_the_date_column_is_found_by_name(tmp_path):
    text = "price,Date\n3.0,2020-01-02\n4.0,2020-01-03\n"
    dates, values = load_prices(write(tmp_path, text))
    assert str(dates[0]) == "2020-01-02"
    assert values.tolist() == [3.0, 4.0]


def test_missing_cells_are_dropped_and_counted(tmp_path):
    text = (
        "Date,Close\n1/2/2020,1\n1/3/2020,.\n1/6/2020,\n1/7/2020,null\n"
        "1/8/2020,NaN\n1/9/2020,2\n\n"
    )
    path = write(tmp_path, text)
    with pytest.warns(UserWarning, match=r"4 of 6 rows.*first on line 3.*dropped"):
        dates, close = load_prices(path)
    assert dates.astype(str).tolist() == ["2020-01-02", "2020-01-09"]
    assert close.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="4 of 6 rows"):
        load_prices(path, missing="raise")
    with pytest.raises(ValueError, match="'missing' parameter.*'keep'"):
        load_prices(path, missing="keep")


def test_a_file_without_missing_cells_does_not_warn(tmp_path):
    path = write(tmp_path, "Date,Close\n2020-01-02,1\n2020-01-03,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_prices(path)


def test_newest_first_files_are_reversed(tmp_path):
    text = "Date,Close\n2020-01-06,3\n2020-01-03,.\n2020-01-02,1\n"
    with pytest.warns(UserWarning, match="1 of 3 rows"):
        dates, close = load_prices(write(tmp_path, text))
    assert dates.astype(str).tolist() == ["2020-01-02", "2020-01-06"]
    assert close.tolist() == [1.0, 3.0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Date,Close\n1/2/2020,1\n1/2/2020,2\n", r"line 3: date 2020-01-02 repeats"),
        (
            "Date,Close\n1/2/2020,1\n1/6/2020,2\n1/3/2020,3\n",
            r"line 4: date 2020-01-03 is out of order after 2020-01-06 \(line 3\)",
        ),
        (
            "Date,Close\n1/2/2020,1\n2020-01-03,2\n",
            r"line 3: date '2020-01-03' is not in the file's format m/d/Y.*mixed",
        ),
        (
            "Date,Close\n02.01.2020,1\n",
            r"line 2: date '02.01.2020' is in none of the recognised formats: "
            r"m/d/Y \(e.g. 1/4/1999\), Y-m-d",
        ),
        (
            "Date,Close\n1/2/2020,1\n13/25/2020,2\n",
            r"line 3: '13/25/2020' is not a valid m/d/Y date.*month/day/year",
        ),
        ("Date,Close\n2020-01-02,1\n2020-01-03,abc\n", r"line 3: 'Close' cell 'abc'"),
        ("Date,Close\n2020-01-02,1\n2020-01-03,inf\n", r"line 3: .* is infinite"),
        ("Date,Close\n2020-01-02,1\n2020-01-03\n", r"line 3: 1 cells, but the header"),
        ("2020-01-02,1\n2020-01-03,2\n", "line 1 holds a date; .* header line"),
        ("", "is empty"),
        ("Date,Close\n", "no data lines"),
        ("Date,Close\n2020-01-02,.\n", "holds no values"),
        ("Date,Open,High\n2020-01-02,1,2\n", r"2 numeric columns. .*'Open', 'High'"),
    ],
)
def test_malformed_files_raise_naming_the_line(tmp_path, text, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=match):
            load_prices(write(tmp_path, text))


def test_unknown_column_and_absent_file(tmp_path):
    path = write(tmp_path, "Date,Close\n2020-01-02,1\n")
    with pytest.raises(ValueError, match=r"no column 'Adj'. Columns: \['Date', 'Cl"):
        load_prices(path, "Adj")
    with pytest.raises(FileNotFoundError, match="nothing.csv does not exist"):
        load_prices(tmp_path / "nothing.csv")


def test_every_documented_date_format_is_recognised():
    for name, (_, example) in finance.DATE_FORMATS.items():
        assert finance._date_format(example, 2, Path("x.csv")) == name


# ----------------------------------------------------------------- returns, align
def test_log_returns_of_one_and_several_series():
    np.testing.assert_allclose(log_returns([1.0, np.e, 1.0]), [1.0, -1.0])
    r = log_returns([[1.0, 2.0, 4.0], [4.0, 2.0, 1.0]])
    np.testing.assert_allclose(r, np.log(2) * np.array([[1, 1], [-1, -1]]))


@pytest.mark.parametrize(
    ("prices", "match"),
    [
        ([1.0, 0.0, 2.0], r"1 value\(s\) are not \(first 0.0 at index \(1,\)\)"),
        ([1.0, -2.0], "positive finite"),
        ([1.0, np.nan], "positive finite"),
        ([1.0], "n_days >= 2"),
        (np.ones((2, 2, 2)), r"got shape \(2, 2, 2\)"),
    ],
)
def test_log_returns_rejects_what_is_not_a_price_series(prices, match):
    with pytest.raises(ValueError, match=match):
        log_returns(prices)


def test_align_prices_errors():
    d = np.array(["2020-01-02", "2020-01-03"], "datetime64[D]")
    with pytest.raises(ValueError, match="at least one"):
        align_prices([])
    with pytest.raises(ValueError, match="share no date"):
        align_prices([(d, [1.0, 2.0]), (d + 10, [1.0, 2.0])])
    with pytest.raises(ValueError, match=r"series\[1\] has \(2,\) dates"):
        align_prices([(d, [1.0, 2.0]), (d, [1.0])])
    with pytest.raises(ValueError, match="strictly increasing"):
        align_prices([(d[::-1], [1.0, 2.0])])
    with pytest.raises(TypeError, match="datetime64"):
        align_prices([(["2020-01-02"], [1.0])])


# ----------------------------------------------------------------- windows
def test_windows_match_a_naive_loop():
    r, d = random_walk(200)
    window, horizon, lookback = 20, 5, 50
    w = return_windows(r, d, window=window, horizon=horizon, lookback=lookback)
    ends = np.arange(lookback - 1, len(r) - horizon)
    assert w.X.shape == (len(ends), 1, window)
    assert w.X.dtype == np.float32
    np.testing.assert_array_equal(w.dates, d[ends])
    for k, t in enumerate(ends):
        past = r[t - window + 1 : t + 1] / r[t - lookback + 1 : t + 1].std()
        future = r[t + 1 : t + horizon + 1]
        np.testing.assert_allclose(w.X[k, 0], past, rtol=1e-6)
        assert w.direction[k] == int(future.sum() > 0)
        assert w.future_vol[k] == pytest.approx(np.sqrt(np.mean(future**2)))
    assert w.vol_regime is None
    assert w.vol_threshold is None


def test_own_window_scaling_stride_and_no_scaling():
    r, d = random_walk(100)
    w = return_windows(r, d, window=10, horizon=3, stride=7)
    ends = np.arange(9, 97, 7)
    np.testing.assert_array_equal(w.dates, d[ends])
    np.testing.assert_allclose(w.X[:, 0].std(axis=1), 1.0, rtol=1e-5)
    raw = return_windows(r, d, window=10, horizon=3, normalize="none")
    np.testing.assert_allclose(raw.X[0, 0], r[:10], rtol=1e-6)


def test_a_flat_lookback_is_left_unscaled():
    r = np.zeros(30)
    r[-1] = 0.01
    w = return_windows(r, np.datetime64("2020-01-01") + np.arange(30), window=5)
    assert np.isfinite(w.X).all()
    assert not w.X.any()


def test_several_series_share_windows_and_series_zero_labels():
    r, d = random_walk(120)
    other, _ = random_walk(120, seed=1)
    w = return_windows(np.stack([r, other]), d, window=10, horizon=4)
    one = return_windows(r, d, window=10, horizon=4)
    assert w.X.shape == (one.X.shape[0], 2, 10)
    np.testing.assert_array_equal(w.X[:, 0], one.X[:, 0])
    np.testing.assert_array_equal(w.direction, one.direction)
    np.testing.assert_array_equal(w.future_vol, one.future_vol)
    swapped = return_windows(np.stack([other, r]), d, window=10, horizon=4)
    assert not np.array_equal(swapped.direction, w.direction)


@pytest.mark.parametrize("lookback", [None, 60])
def test_changing_the_future_leaves_every_earlier_window_unchanged(lookback):
    r, d = random_walk(300)
    base = return_windows(r, d, window=30, horizon=10, lookback=lookback)
    for t0 in (100, 200):
        changed = r.copy()
        changed[t0 + 1 :] = np.random.default_rng(t0).normal(0, 0.05, 300 - t0 - 1)
        w = return_windows(changed, d, window=30, horizon=10, lookback=lookback)
        upto = base.dates <= d[t0]  # windows whose inputs end by day t0
        np.testing.assert_array_equal(w.X[upto], base.X[upto])
        # Labels of windows ending by t0 - horizon are untouched ...
        settled = base.dates <= d[t0 - 10]
        np.testing.assert_array_equal(w.future_vol[settled], base.future_vol[settled])
        np.testing.assert_array_equal(w.direction[settled], base.direction[settled])
        # ... and those whose horizon reaches past t0 see the change.
        reaching = upto & ~settled
        assert (w.future_vol[reaching] != base.future_vol[reaching]).all()


@pytest.mark.parametrize("lookback", [None, 60])
def test_changing_the_past_leaves_the_labels_unchanged(lookback):
    r, d = random_walk(300)
    base = return_windows(r, d, window=30, horizon=10, lookback=lookback)
    t0 = 150
    changed = r.copy()
    changed[: t0 + 1] *= -3.0  # every day up to and including t0
    w = return_windows(changed, d, window=30, horizon=10, lookback=lookback)
    later = base.dates >= d[t0]  # labels of these use days > t0 only
    np.testing.assert_array_equal(w.direction[later], base.direction[later])
    np.testing.assert_array_equal(w.future_vol[later], base.future_vol[later])
    earlier = base.dates < d[t0]  # ... and these see the change
    assert (w.future_vol[earlier] != base.future_vol[earlier]).all()
    assert (w.direction[earlier] != base.direction[earlier]).any()
    span = max(30, lookback or 30)  # inputs of windows ending >= t0 + span
    assert not np.array_equal(w.X[base.dates == d[t0]], base.X[base.dates == d[t0]])
    far = base.dates >= d[t0 + span]
    np.testing.assert_array_equal(w.X[far], base.X[far])


def test_vol_threshold_is_fitted_on_training_labels_only():
    r, d = random_walk(400)
    train_end = d[250]
    w = return_windows(r, d, window=20, horizon=10, train_end=train_end)
    labelled_before = d[np.arange(19, 390) + 10] < train_end
    assert w.vol_threshold == np.median(w.future_vol[labelled_before])
    np.testing.assert_array_equal(w.vol_regime, w.future_vol > w.vol_threshold)
    changed = r.copy()
    changed[250:] *= 10  # the test period becomes far more volatile
    v = return_windows(changed, d, window=20, horizon=10, train_end=train_end)
    assert v.vol_threshold == w.vol_threshold  # no test statistic in it
    assert v.vol_regime[w.dates >= train_end].all()
    given = return_windows(r, d, window=20, horizon=10, vol_threshold=0.01)
    assert given.vol_threshold == 0.01
    np.testing.assert_array_equal(given.vol_regime, w.future_vol > 0.01)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window": 1}, ValueError, "'window' parameter of return_windows.*>= 2"),
        ({"horizon": 0}, ValueError, "'horizon'.*>= 1"),
        ({"stride": 1.5}, TypeError, "'stride'"),
        ({"lookback": 1}, ValueError, "'lookback'.*>= 2"),
        ({"normalize": "zscore"}, ValueError, r"\['past', 'none'\]; got 'zscore'"),
        ({"window": 95, "horizon": 10}, ValueError, "too few for one window"),
        ({"train_end": "2001-01-02", "vol_threshold": 0.1}, ValueError, "not both"),
        ({"train_end": "2001-01-02"}, ValueError, "choose a later train_end"),
        ({"vol_threshold": -1.0}, ValueError, "'vol_threshold'.*> 0"),
    ],
)
def test_return_windows_rejects_bad_parameters(kwargs, error, match):
    r, d = random_walk(100)
    with pytest.raises(error, match=match):
        return_windows(r, d, **kwargs)


def test_return_windows_rejects_bad_data():
    r, d = random_walk(100)
    with pytest.raises(ValueError, match=r"\(101,\) dates.*dates\[1:\]"):
        return_windows(r, np.append(d[0] - 1, d))
    with pytest.raises(ValueError, match="strictly increasing"):
        return_windows(r, d[::-1])
    with pytest.raises(TypeError, match="datetime64"):
        return_windows(r, np.arange(100))
    bad = r.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        return_windows(bad, d)
    with pytest.raises(ValueError, match=r"got shape \(1, 1, 100\)"):
        return_windows(r[None, None], d)


def test_shipped_sp500_windows_and_labels():
    dates, close = load_prices(SHIPPED_SP500)
    w = return_windows(
        log_returns(close), dates[1:], window=60, horizon=20, train_end="2015-01-01"
    )
    assert w.X.shape == (5031 - 1 - 59 - 20, 1, 60)
    assert str(w.dates[0]) == str(dates[60])
    assert 0.55 < w.direction.mean() < 0.75  # the index mostly rose
    assert 0.003 < w.vol_threshold < 0.015  # daily volatility, about 1 %
    test = w.dates >= np.datetime64("2015-01-01")
    assert 0.2 < w.vol_regime[test].mean() < 0.6  # a calmer test period


# ----------------------------------------------------------------- split
@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("horizon", [1, 5, 20])
def test_no_training_label_reaches_the_test_period(horizon, stride):
    r, d = random_walk(400)
    w = return_windows(r, d, window=30, horizon=horizon, stride=stride)
    gap = -(-horizon // stride)  # ceil(horizon / stride) windows
    train, test = chronological_split(w.dates, test_start=d[250], gap=gap)
    assert (w.dates[test] >= d[250]).all()
    assert (w.dates[train] < d[250]).all()
    assert train[-1] + gap < test[0]
    assert len(train) + gap + len(test) == len(w.dates)
    day = {date: i for i, date in enumerate(d)}  # trading-day index of a date
    train_label_days = {
        day[t] + k for t in w.dates[train] for k in range(1, horizon + 1)
    }
    first_test = day[w.dates[test[0]]]
    assert max(train_label_days) < first_test  # every test day is after them
    # With gap = horizon + window - 1 (stride 1) they also miss the test inputs.
    if stride == 1:
        train, test = chronological_split(w.dates, test_start=d[250], gap=horizon + 29)
        last_label = day[w.dates[train[-1]]] + horizon
        assert last_label < day[w.dates[test[0]]] - 29  # before the first input


def test_dates_before_test_start_minus_gap():
    d = np.datetime64("2020-01-01") + np.arange(50)  # one window a day
    train, test = chronological_split(d, test_start="2020-02-01", gap=5)
    assert d[test[0]] == np.datetime64("2020-02-01")
    assert (d[train] < d[test].min() - np.timedelta64(5, "D")).all()
    assert d[train[-1]] == d[test[0]] - np.timedelta64(6, "D")


@pytest.mark.parametrize(("n", "test_size", "gap"), [(20, 5, 3), (50, 0.2, 4)])
def test_split_agrees_with_sklearn_time_series_split(n, test_size, gap):
    train, test = chronological_split(n, test_size=test_size, gap=gap)
    n_test = test_size if isinstance(test_size, int) else int(np.ceil(test_size * n))
    *_, (ref_train, ref_test) = TimeSeriesSplit(
        n_splits=2, test_size=n_test, gap=gap
    ).split(np.zeros((n, 1)))
    np.testing.assert_array_equal(train, ref_train)
    np.testing.assert_array_equal(test, ref_test)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((10,), {"gap": 1}, ValueError, "exactly one of test_start"),
        ((10,), {"gap": 1, "test_size": 0.5, "test_start": "2020"}, ValueError, "one"),
        ((10,), {"gap": -1, "test_size": 2}, ValueError, "'gap'.*>= 0"),
        ((10,), {"gap": 1, "test_size": 1.5}, ValueError, "'test_size'.*< 1"),
        ((10,), {"gap": 1, "test_size": 0}, ValueError, "'test_size'.*>= 1"),
        ((10,), {"gap": 8, "test_size": 2}, ValueError, r"2 test and 0 training"),
        ((10,), {"gap": 1, "test_start": "2020-01-01"}, ValueError, "needs window"),
        (([1.0, 2.0],), {"gap": 1, "test_size": 1}, TypeError, "end dates"),
    ],
)
def test_split_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        chronological_split(*args, **kwargs)


def test_split_needs_test_windows_after_test_start():
    d = np.datetime64("2020-01-01") + np.arange(10)
    with pytest.raises(ValueError, match="leaves 0 test"):
        chronological_split(d, test_start="2021-01-01", gap=1)
    with pytest.raises(ValueError, match="strictly increasing"):
        chronological_split(d[::-1], test_start="2020-01-05", gap=1)
