"""Property-based fuzzing of the public entry points (hypothesis).

Every call must either work or raise one of the documented exception types
(``ValueError``, ``TypeError``, ``OSError``) with a message that names what was
wrong, within a time and a memory bound: each example runs under ``RLIMIT_AS``
(the address space in use plus :data:`MEMORY_BOUND`) and an alarm
(:data:`TIME_BOUND`), so an allocation of gigabytes or a hang fails the test
instead of the machine.

The examples are derandomized, so ``make test`` is reproducible (about half a
minute on two cores). ``make fuzz`` (``TSCL_FUZZ=long``) runs the long profile:
10 times as many examples, drawn at random on each run (about 3 minutes).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import re
import resource
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tscl
from tscl import ContrastiveEncoder, augment
from tscl._inputs import read_series
from tscl._validation import short_repr
from tscl.datasets import bandpass
from tscl.features import RRFeatures, rr_features
from tscl.training import TrainingError

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's"
    ),
    pytest.mark.filterwarnings("ignore"),  # tiny fits collapse; absurd inputs warn
]

#: What a refused input may raise (docs/guarantees.md).
DOCUMENTED = (ValueError, TypeError, OSError, TrainingError)
#: Seconds one example may take.
TIME_BOUND = 30
#: Bytes of address space the examples may use beyond what the process held
#: before the first one (a fixed limit: a relative one would ratchet up if
#: memory were kept between examples).
MEMORY_BOUND = 6 << 30
_BASELINE: list[int] = []

LONG = os.environ.get("TSCL_FUZZ") == "long"


def fuzz(examples: int) -> Any:
    """Hypothesis settings: ``4 * examples`` here, 10 times as many in the long run."""
    return settings(
        max_examples=examples * (40 if LONG else 4),
        derandomize=not LONG,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


class OverTime(Exception):
    """An example ran past :data:`TIME_BOUND`."""


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Run the body under an address-space limit and an alarm."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if not _BASELINE:
        _BASELINE.append(_address_space())
    limit = _BASELINE[0] + MEMORY_BOUND
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)

    def over_time(signum: int, frame: Any) -> None:
        raise OverTime(f"over {TIME_BOUND} s")

    previous = signal.signal(signal.SIGALRM, over_time)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, TIME_BOUND)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def refused_or_works(call: Any, *names: str) -> Any:
    """Return ``call()``; a refusal must be documented and name one of ``names``."""
    with bounded():
        try:
            return call()
        except DOCUMENTED as err:
            refusal = err
    message = str(refusal)
    assert len(message) < 2000, f"a {len(message)}-character message: {message}"
    if names:
        assert any(name.lower() in message.lower() for name in names), (
            f"{type(refusal).__name__}: {message!r} names none of {names}"
        )
    return refusal


# --- values a user (or a tampered file) can give ---------------------------------

BIG_INTS = st.sampled_from([0, 1, -1, 2, 3, 2**31, 2**31 - 1, 2**63, 10**9, 10**30])
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    BIG_INTS,
    st.integers(-(2**70), 2**70),
    FLOATS,
    st.sampled_from([0.0, -0.0, 1e-300, 0.5, 1.0, 1e300, math.nan, math.inf]),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)


def _series(n: int = 8, channels: int = 1, length: int = 32) -> np.ndarray:
    """A seeded random walk of shape ``(n, channels, length)``: a unit-test signal."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, channels, length)).cumsum(-1).astype(np.float32)


#: A model small enough to fit in a fraction of a second.
TINY = {
    "encoder": "cnn",
    "encoder_params": {"hidden_dim": 8, "depth": 2},
    "method": "simclr",
    "n_components": 8,
    "n_epochs": 1,
    "batch_size": 4,
    "device": "cpu",
    "random_state": 0,
}


# --- ContrastiveEncoder parameters ------------------------------------------------

PARAMS = sorted(ContrastiveEncoder().get_params())
#: Parameters whose values name a file: fuzzed with paths under tmp_path only.
PATH_PARAMS = {"checkpoint"}


@fuzz(60)
@given(name=st.sampled_from(sorted(set(PARAMS) - PATH_PARAMS)), value=VALUES)
def test_estimator_parameter(name: str, value: Any, one_thread: None) -> None:
    """Any value of any one parameter trains or is refused by its name."""
    if name == "n_epochs" and isinstance(value, int) and not isinstance(value, bool):
        assume(value <= 2)  # a valid long fit is not a fault
    if name == "compile":
        assume(value in (False, None, 0))  # compiling takes a minute on a CPU
    params = {**TINY, name: value}
    model = ContrastiveEncoder(**params)
    result = refused_or_works(lambda: model.fit(_series()), name, "params")
    if not isinstance(result, Exception):
        Z = refused_or_works(lambda: model.transform(_series()))
        assert not isinstance(Z, Exception), Z
        assert Z.shape[0] == 8
        assert np.isfinite(Z).all()


def _keywords(registry: dict[str, Any], skip: str) -> list[str]:
    """Every keyword any member of ``registry`` takes, and one that none takes."""
    names = {
        name
        for cls in registry.values()
        for name in inspect.signature(cls).parameters
        if name != skip
    }
    return sorted(names | {"bogus"})


ENCODER_KEYS = st.sampled_from(_keywords(tscl.encoders.ENCODERS, "in_channels"))
METHOD_KEYS = st.sampled_from(_keywords(tscl.methods.METHODS, "encoder"))


@fuzz(40)
@given(
    which=st.sampled_from(["encoder_params", "method_params"]),
    encoder=st.sampled_from(sorted(tscl.encoders.ENCODERS)),
    method=st.sampled_from(sorted(tscl.methods.METHODS)),
    key=st.one_of(ENCODER_KEYS, METHOD_KEYS),
    value=SCALARS,
)
def test_component_parameters(
    which: str, encoder: str, method: str, key: str, value: Any, one_thread: None
) -> None:
    """Any keyword of any encoder or method trains or is refused by its name."""
    params = {**TINY, "encoder": encoder, "method": method, "encoder_params": None}
    params[which] = {key: value}
    X = _series()
    y = np.arange(8) % 2
    model = ContrastiveEncoder(**params)
    refused_or_works(lambda: model.fit(X, y), key, which, method, encoder, "too short")


# --- fit inputs and groups ---------------------------------------------------------

SHAPES = st.lists(st.integers(0, 40), min_size=0, max_size=4).map(tuple)
DTYPES = st.sampled_from(
    ["float32", "float64", "float16", "int64", "bool", "complex64", "object", "U3"]
)


@st.composite
def arrays_of_anything(draw: Any) -> Any:
    shape = draw(SHAPES)
    assume(math.prod(shape) <= 4096)
    dtype = draw(DTYPES)
    fill = draw(st.one_of(FLOATS, st.integers(-5, 5)))
    if dtype == "U3":
        return np.full(shape, "ab", dtype=dtype)
    X = np.random.default_rng(0).standard_normal(shape)
    if X.size and draw(st.booleans()):
        X.flat[draw(st.integers(0, X.size - 1))] = fill
    with np.errstate(all="ignore"):
        return X.astype(dtype)


@fuzz(60)
@given(X=arrays_of_anything())
def test_fit_inputs(X: Any, one_thread: None) -> None:
    """Any array trains, or is refused with a message about X."""
    model = ContrastiveEncoder(**TINY)
    refused_or_works(lambda: model.fit(X), "X", "series", "sample", "length")


GROUP_VALUES = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([math.nan, None, "a", "b", math.inf, np.datetime64("NaT")]),
    st.text(max_size=3),
)


@fuzz(40)
@given(
    groups=st.one_of(
        st.lists(GROUP_VALUES, min_size=0, max_size=10),
        st.sampled_from([None, "abc", 3, math.nan]),
    )
)
def test_fit_groups(groups: Any, one_thread: None) -> None:
    """Any group ids train, or are refused with a message about groups."""
    model = ContrastiveEncoder(**{**TINY, "method": "simclr"})
    refused_or_works(lambda: model.fit(_series(), groups=groups), "groups")


# --- augmentations -------------------------------------------------------------------

AUG_NAMES = st.sampled_from(sorted(augment.AUGMENTATIONS))
AUG_KEYS = st.sampled_from(
    [
        "sigma",
        "p",
        "scale",
        "n_knots",
        "max_segments",
        "n_spans",
        "max_fraction",
        "fs",
        "bogus",
        "__class__",
    ]
)


def _literal(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else "1"


@st.composite
def composition_text(draw: Any) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(AUG_NAMES)
        kwargs = draw(st.dictionaries(AUG_KEYS, SCALARS, max_size=2))
        args = ", ".join(f"{key}={_literal(v)}" for key, v in kwargs.items())
        parts.append(f"{name}({args})" if kwargs or draw(st.booleans()) else name)
    text = " + ".join(parts)
    if draw(st.booleans()):  # break it somewhere
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["(", ")", "+", "=", ",", "'", "["]))
    return text


def _apply(views: Any) -> Any:
    x = torch.from_numpy(_series(4, 2, 64))
    return views(x, torch.Generator().manual_seed(0))


@fuzz(80)
@given(text=st.one_of(composition_text(), st.text(max_size=40)))
def test_augment_parse(text: str) -> None:
    """Any text is read, or refused naming the text, then the views run."""
    words = re.findall(r"[A-Za-z_]\w*", text)
    views = refused_or_works(lambda: augment.parse(text), "augment", *words)
    if not isinstance(views, Exception):
        out = refused_or_works(lambda: _apply(views))
        if isinstance(out, Exception):  # only the length depends on the data
            assert "timesteps" in str(out), out
        else:
            assert out.shape[:2] == (4, 2)


@fuzz(60)
@given(
    spec=st.one_of(
        st.fixed_dictionaries(
            {
                "class": st.one_of(AUG_NAMES, st.sampled_from(["compose", None, 3])),
                "params": st.one_of(
                    st.dictionaries(AUG_KEYS, VALUES, max_size=2), VALUES
                ),
            }
        ),
        VALUES,
    )
)
def test_augment_from_spec(spec: Any) -> None:
    """Any JSON-like spec builds views, or is refused by what is wrong."""
    views = refused_or_works(
        lambda: augment.from_spec(spec), "spec", "augmentation", "class", "param"
    )
    if not isinstance(views, Exception):
        out = refused_or_works(lambda: _apply(views))
        assert not isinstance(out, Exception), out


@pytest.mark.parametrize("depth", [50, 1_000, 100_000])
def test_deep_nesting_is_refused_by_name(depth: int) -> None:
    """Nested specs, texts and configs are bounded, never a RecursionError."""
    spec: Any = {"class": "jitter", "params": {}}
    for _ in range(depth):
        spec = {"class": "compose", "params": {"augmentations": [spec]}}
    assert isinstance(refused_or_works(lambda: augment.from_spec(spec)), Exception)
    nested_json = '{"class": "compose", "params": {"augmentations": [' * depth
    refused_or_works(lambda: augment.parse(nested_json), "augment")
    text = "(" * depth + "jitter" + ")" * depth
    refused_or_works(lambda: augment.parse(text), "augment")
    params: Any = 1
    for _ in range(depth):
        params = {"a": params}
    refused_or_works(
        lambda: ContrastiveEncoder(**{**TINY, "method_params": params}).fit(_series()),
        "method_params",
        "nest",
    )


# --- files the command line reads ---------------------------------------------------

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-9, 9).map(str),
    st.sampled_from(["", "NA", "N/A", "nan", "null", "x", '"1"', "1e999", " 2 "]),
)


@st.composite
def csv_text(draw: Any) -> str:
    rows = draw(
        st.lists(st.lists(CELLS, min_size=0, max_size=6), min_size=0, max_size=6)
    )
    sep = draw(st.sampled_from([",", ";", "\t"]))
    return "\n".join(sep.join(row) for row in rows)


@st.composite
def ucr_text(draw: Any) -> str:
    rows = draw(st.lists(st.lists(CELLS, min_size=1, max_size=6), max_size=6))
    return "\n".join("\t".join(row) for row in rows)


@st.composite
def uea_text(draw: Any) -> str:
    header = draw(
        st.lists(
            st.sampled_from(
                [
                    "@problemName x",
                    "@timeStamps false",
                    "@missing true",
                    "@univariate true",
                    "@univariate false",
                    "@equalLength true",
                    "@equalLength false",
                    "@seriesLength 4",
                    "@seriesLength -5",
                    "@classLabel true a b",
                    "@classLabel false",
                    "@dimensions 2",
                ]
            ),
            max_size=6,
        )
    )
    rows = draw(
        st.lists(
            st.lists(st.lists(CELLS, max_size=4).map(",".join), max_size=3).map(
                lambda dims: ":".join(dims)
            ),
            max_size=4,
        )
    )
    return "\n".join([*header, "@data", *rows])


def _npy_bytes(X: np.ndarray, corrupt: int | None) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, X, allow_pickle=X.dtype == object)
    data = bytearray(buffer.getvalue())
    if corrupt is not None and data:
        data[corrupt % len(data)] ^= 0x5A
    return bytes(data)


@fuzz(80)
@given(
    kind=st.sampled_from(["csv", "tsv", "ts", "npy", "bytes"]),
    csv=csv_text(),
    ucr=ucr_text(),
    uea=uea_text(),
    X=arrays_of_anything(),
    corrupt=st.one_of(st.none(), st.integers(0, 200)),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
    raw=st.binary(max_size=64),
)
def test_cli_readers(
    kind: str,
    csv: str,
    ucr: str,
    uea: str,
    X: Any,
    corrupt: int | None,
    encoding: str,
    raw: bytes,
    tmp_path: Path,
) -> None:
    """Any file content is read, or refused naming the file."""
    texts = {"csv": csv + "é" * (encoding == "latin-1"), "tsv": ucr, "ts": uea}
    if kind in texts:
        data = texts[kind].encode(encoding)
    elif kind == "npy":
        data = _npy_bytes(X, corrupt)
    else:
        data = raw
    suffix = {"bytes": ".csv"}.get(kind, f".{kind}")
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    series = refused_or_works(lambda: read_series(path), path.name)
    if not isinstance(series, Exception) and kind != "npy":
        assert series.X.dtype != object


@fuzz(40)
@given(
    rate=st.sampled_from(["360", "-360", "0", "abc", "1e9", "nan", "inf", "3.6e2"]),
    n_signals=st.sampled_from(["1", "0", "-2", "x", "99999"]),
    n_samples=st.sampled_from(["600", "-5", "0", "1e12", ""]),
    fmt=st.sampled_from(["16", "212", "80", "999", "x"]),
    window_s=st.one_of(st.sampled_from([None, 0.0, -1.0, math.nan, 1e9]), FLOATS),
    fs=st.one_of(st.none(), FLOATS, st.sampled_from([True, 0.0, 1e12])),
)
def test_wfdb_folder(
    rate: str,
    n_signals: str,
    n_samples: str,
    fmt: str,
    window_s: Any,
    fs: Any,
    tmp_path: Path,
) -> None:
    """Any WFDB header and window is read, or refused naming what is wrong."""
    folder = tmp_path / "records"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "r.hea").write_text(
        f"r {n_signals} {rate} {n_samples}\nr.dat {fmt} 200 11 1024 0 0 0 MLII\n"
    )
    (folder / "r.dat").write_bytes(np.arange(1200, dtype="<i2").tobytes())
    refused_or_works(
        lambda: read_series(folder, window_s=window_s, fs=fs),
        "r.hea",
        "records",
        "window",
        "fs",
        "rate",
    )


# --- model folders ---------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fitted model's folder, to be copied and tampered with."""
    path = tmp_path_factory.mktemp("model") / "model"
    ContrastiveEncoder(**TINY).fit(_series()).save(path)
    return path


def _set(config: Any, keys: list[str], value: Any) -> None:
    node = config
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


def _paths(config: Any, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    paths = []
    for key, value in config.items():
        paths.append([*prefix, key])
        if isinstance(value, dict):
            paths.extend(_paths(value, (*prefix, key)))
    return paths


@fuzz(80)
@given(
    field=st.integers(0, 10_000),
    value=st.one_of(VALUES, st.just("__delete__")),
    flip=st.one_of(st.none(), st.integers(0, 2**20)),
    truncate=st.one_of(st.none(), st.sampled_from(["config.json", "history.json"])),
)
def test_load_tampered_folder(
    saved_model: Path,
    field: int,
    value: Any,
    flip: Any,
    truncate: str | None,
    tmp_path: Path,
) -> None:
    """A tampered folder loads as the same model, or is refused naming the folder."""
    folder = tmp_path / "copy"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(saved_model, folder)
    config = json.loads((folder / "config.json").read_text())
    keys = _paths(config)[field % len(_paths(config))]
    if value == "__delete__":
        node = config
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    else:
        _set(config, keys, value)
    (folder / "config.json").write_text(json.dumps(config))
    if flip is not None:
        data = bytearray((folder / "encoder.pt").read_bytes())
        data[flip % len(data)] ^= 0x01
        (folder / "encoder.pt").write_bytes(bytes(data))
    if truncate is not None:
        data = (folder / truncate).read_bytes()
        (folder / truncate).write_bytes(data[: len(data) // 2])
    model = refused_or_works(lambda: tscl.load(folder), "copy", *keys)
    if not isinstance(model, Exception):
        out = refused_or_works(lambda: model.transform(_series()))
        assert not isinstance(out, Exception), out


# --- ECG features and filters ------------------------------------------------------


@fuzz(60)
@given(
    fs=st.one_of(FLOATS, BIG_INTS, st.sampled_from([True, "300", None, 24.9, 1e4])),
    lead=st.one_of(BIG_INTS, st.sampled_from([-1, 0.5, "0", None])),
    detector=st.sampled_from(["pan-tompkins", "xqrs", "PAN", "", None, 3]),
    length=st.sampled_from([0, 1, 10, 300, 3000]),
    channels=st.sampled_from([None, 1, 2]),
)
def test_rr_features(
    fs: Any, lead: Any, detector: Any, length: int, channels: Any
) -> None:
    """RRFeatures with any parameters and record shapes works or is refused."""
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(length).cumsum()
    X = signal[None] if channels is None else np.tile(signal, (2, channels, 1))
    rr = RRFeatures(fs=fs, lead=lead, detector=detector)
    out = refused_or_works(
        lambda: rr.fit_transform(X), "fs", "lead", "detector", "X", "record", "sample"
    )
    if not isinstance(out, Exception):
        assert np.isfinite(out).all()
    refused_or_works(lambda: rr_features([signal], fs=fs), "fs", "record", "sample")


@fuzz(80)
@given(
    fs=st.one_of(FLOATS, st.sampled_from([True, "250", None, 250.0, 1e12])),
    low=st.one_of(FLOATS, st.sampled_from([None, "abc", 0.5, True])),
    high=st.one_of(FLOATS, st.sampled_from([None, "abc", 40.0, 124.9])),
    order=st.one_of(BIG_INTS, st.sampled_from([0.5, "2", None, True, 10**6])),
    scale=st.sampled_from([1.0, 1e30, 3e38, 1e300]),
    dtype=st.sampled_from(["float32", "float64", "int16", "object"]),
    length=st.sampled_from([0, 5, 100, 2000]),
)
def test_bandpass(
    fs: Any, low: Any, high: Any, order: Any, scale: float, dtype: str, length: int
) -> None:
    """bandpass with any parameters works (finite output) or is refused."""
    with np.errstate(all="ignore"):
        x = (np.random.default_rng(0).standard_normal(length) * scale).astype(dtype)
    out = refused_or_works(
        lambda: bandpass(x, fs=fs, low=low, high=high, order=order),
        "fs",
        "low",
        "high",
        "order",
        "cut-off",
        "sample",
        "signal",
        "float",
        "x ",
    )
    if not isinstance(out, Exception):
        assert np.isfinite(out).all()
        assert out.shape == x.shape


# --- the data functions, one parameter at a time ---------------------------------

SHIPPED = Path(__file__).resolve().parents[1] / "datasets"


def _data_calls() -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each public data function with arguments that work (real shipped data)."""
    from tscl import datasets
    from tscl.features import detect_r_peaks

    rng = np.random.default_rng(0)
    ecg = datasets.load_wfdb_windows(
        SHIPPED / "mitdb" / "100", window_s=10.0, sampto_s=20.0, channels=[0]
    )[0, 0]
    dates, close = datasets.load_prices(SHIPPED / "finance" / "sp500.csv")
    returns = datasets.log_returns(close[:400])
    gappy = rng.standard_normal((4, 1, 50))
    gappy[0, 0, 10:20] = np.nan
    return {
        "resample": (datasets.resample, {"x": ecg, "fs_in": 360.0, "fs_out": 100.0}),
        "sliding_windows": (
            datasets.sliding_windows,
            {"x": ecg[None], "size": 50, "stride": 25},
        ),
        "preprocess_ecg": (
            datasets.preprocess_ecg,
            {"x": ecg, "fs": 360.0, "fs_out": 100.0, "band": (0.5, 40.0)},
        ),
        "fill_missing": (datasets.fill_missing, {"X": gappy, "policy": "resample"}),
        "log_returns": (datasets.log_returns, {"prices": close[:50]}),
        "return_windows": (
            datasets.return_windows,
            {"returns": returns, "dates": dates[1:400], "window": 20, "horizon": 5},
        ),
        "chronological_split": (
            datasets.chronological_split,
            {"dates": dates[:100], "gap": 5, "test_size": 0.2},
        ),
        "record_split": (
            datasets.record_split,
            {
                "groups": np.repeat(np.arange(4), 5),
                "test_size": 0.25,
                "random_state": 0,
            },
        ),
        "load_wfdb_windows": (
            datasets.load_wfdb_windows,
            {
                "record": SHIPPED / "mitdb" / "100",
                "fs": 100.0,
                "window_s": 5.0,
                "stride_s": 5.0,
                "channels": [0],
                "sampfrom_s": 0.0,
                "sampto_s": 30.0,
            },
        ),
        "detect_r_peaks": (detect_r_peaks, {"signal": ecg, "fs": 360.0}),
    }


DATA_CALLS = _data_calls()


@pytest.mark.parametrize("call", sorted(DATA_CALLS))
def test_data_calls_work_as_given(call: str) -> None:
    """The fuzzed calls start from arguments that work."""
    function, arguments = DATA_CALLS[call]
    assert function(**arguments) is not None


@fuzz(120)
@given(
    call=st.sampled_from(sorted(DATA_CALLS)),
    index=st.integers(0, 10),
    value=st.one_of(VALUES, arrays_of_anything()),
)
def test_data_function_parameter(call: str, index: int, value: Any) -> None:
    """Any value of any one parameter of a data function works or is refused."""
    function, arguments = DATA_CALLS[call]
    name = sorted(arguments)[index % len(arguments)]
    kwargs = {**arguments, name: value}
    text = short_repr(value, 20)[:12]
    refused_or_works(lambda: function(**kwargs), name, text, call)


def test_bounds_catch_an_allocation_and_a_hang() -> None:
    """The bounds themselves work: a huge allocation and a sleep are stopped."""
    with pytest.raises(MemoryError), bounded():
        np.ones(MEMORY_BOUND * 2, dtype=np.uint8)
    global TIME_BOUND
    previous, TIME_BOUND = TIME_BOUND, 1

    def spin() -> None:
        while True:
            pass

    try:
        with pytest.raises(OverTime), bounded():
            spin()
    finally:
        TIME_BOUND = previous
