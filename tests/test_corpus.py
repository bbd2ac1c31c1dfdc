"""Corpora larger than memory: write_corpus, load_corpus and training on memory maps."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from tscl import ContrastiveEncoder, _series
from tscl import _validation as validation
from tscl.datasets import load_corpus, write_corpus

TINY = {"hidden_dim": 8, "depth": 2}


def _chunks(rng: np.random.Generator, sizes: list[int], shape=(2, 32)):
    return [rng.normal(size=(n, *shape)).astype(np.float32) for n in sizes]


def test_write_corpus_concatenates_chunks_and_opens_a_read_only_memmap(tmp_path):
    parts = _chunks(np.random.default_rng(0), [5, 0, 7, 1])
    corpus = write_corpus(tmp_path / "c.npy", iter(parts))
    assert isinstance(corpus, np.memmap)
    assert corpus.shape == (13, 2, 32)
    assert corpus.dtype == np.float32
    np.testing.assert_array_equal(corpus, np.concatenate(parts))
    assert not corpus.flags.writeable
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npy"]  # no temp files
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), corpus)


def test_write_corpus_float64_and_2d_chunks(tmp_path):
    parts = [np.arange(6.0).reshape(2, 3), np.ones((1, 3))]
    corpus = write_corpus(tmp_path / "c.npy", parts, dtype=np.float64)
    assert corpus.dtype == np.float64
    assert corpus.shape == (3, 3)


@pytest.mark.parametrize(
    ("parts", "match"),
    [
        ([], "held no windows"),
        ([np.zeros((0, 1, 8))], "held no windows"),
        ([np.zeros((2, 1, 8)), np.zeros((2, 1, 9))], r"Chunk 1 .* \(1, 9\)"),
        ([np.zeros(8)], r"Chunk 0 has shape \(8,\)"),
        ([np.zeros((2, 1, 8)), np.full((1, 1, 8), np.nan)], "Chunk 1 holds NaN"),
    ],
)
def test_write_corpus_refuses_bad_chunks_and_leaves_nothing(tmp_path, parts, match):
    with pytest.raises(ValueError, match=match):
        write_corpus(tmp_path / "c.npy", parts)
    assert list(tmp_path.iterdir()) == []


def test_write_corpus_refuses_integer_dtype(tmp_path):
    with pytest.raises(ValueError, match="float32 or np.float64"):
        write_corpus(tmp_path / "c.npy", [np.zeros((1, 4))], dtype=np.int16)


def test_interrupted_write_keeps_the_previous_corpus(tmp_path):
    path = tmp_path / "c.npy"
    write_corpus(path, [np.ones((3, 1, 4))])

    def failing():
        yield np.zeros((2, 1, 4))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_corpus(path, failing())
    np.testing.assert_array_equal(load_corpus(path), np.ones((3, 1, 4)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npy"]


def test_load_corpus_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus(tmp_path / "missing.npy")
    with pytest.raises(FileNotFoundError, match="it is a folder"):
        load_corpus(tmp_path)
    np.save(tmp_path / "ints.npy", np.zeros((2, 3), dtype=np.int32))
    with pytest.raises(ValueError, match="int32 array"):
        load_corpus(tmp_path / "ints.npy")
    np.save(tmp_path / "flat.npy", np.zeros(5, dtype=np.float32))
    with pytest.raises(ValueError, match="1-D"):
        load_corpus(tmp_path / "flat.npy")


def test_chunked_checks_and_statistics_match_the_whole_array(monkeypatch):
    X = np.random.default_rng(1).normal(3.0, 2.0, size=(50, 3, 40))
    mean, scale = _series.channel_stats(X)
    monkeypatch.setattr(validation, "CHUNK_ELEMENTS", 7 * 3 * 40)
    monkeypatch.setattr(_series, "CHUNK_ELEMENTS", 7 * 3 * 40)
    assert len(list(validation.chunks(X))) == 8  # 7 series per block
    chunked_mean, chunked_scale = _series.channel_stats(X)
    np.testing.assert_allclose(chunked_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(chunked_scale, scale, rtol=1e-12)
    X[33, 2, 5] = np.nan
    X[45, 0, 1] = np.nan
    with pytest.raises(ValueError, match=r"2 NaN value\(s\) \(first at index "):
        validation.check_array_values(X)
    with pytest.raises(ValueError, match=r"\(33, 2, 5\)"):
        validation.check_array_values(X)


def _fit(X, **kw):
    return ContrastiveEncoder(
        n_components=4,
        n_epochs=2,
        batch_size=16,
        random_state=0,
        encoder_params=TINY,
        **kw,
    ).fit(X)


def test_fit_and_transform_on_a_memmap_equal_the_in_memory_result(tmp_path):
    X = np.random.default_rng(2).normal(1.0, 3.0, size=(40, 2, 32)).astype("f4")
    corpus = write_corpus(tmp_path / "c.npy", [X[:25], X[25:]])
    on_disk, in_memory = _fit(corpus), _fit(X)
    for a, b in zip(
        on_disk.encoder_.state_dict().values(),
        in_memory.encoder_.state_dict().values(),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    np.testing.assert_array_equal(on_disk.mean_, in_memory.mean_)
    np.testing.assert_array_equal(on_disk.transform(corpus), in_memory.transform(X))
    assert on_disk.history_["loss"] == in_memory.history_["loss"]


def test_fit_on_a_memmap_never_copies_the_corpus(tmp_path, monkeypatch):
    X = np.random.default_rng(3).normal(size=(4096, 1, 128)).astype(np.float32)
    corpus = write_corpus(tmp_path / "c.npy", [X])  # 2 MiB on disk
    for module in (validation, _series):  # checks and statistics in 64 KiB blocks
        monkeypatch.setattr(module, "CHUNK_ELEMENTS", 1 << 14)
    _fit(X[:32, :, :64])  # imports and caches outside the measurement
    peaks = {}
    for name, data in (("memmap", corpus), ("array", X)):
        tracemalloc.start()
        _fit(data)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # The in-memory path makes a standardised copy (2 MiB); the memmap path
    # holds a block, a batch of 16 series or the collapse probe of 256 series
    # (0.25 MiB, 0.5 MiB while standardised in float64) at a time.
    assert peaks["array"] > X.nbytes
    assert peaks["memmap"] < X.nbytes * 0.4, peaks
