"""The `tscl` command line: pretrain, embed, demo, help and user errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tscl
from tscl.cli import load_data, main

ROOT = Path(__file__).resolve().parents[1]
ECG200_TRAIN = ROOT / "datasets" / "ucr" / "ECG200" / "ECG200_TRAIN.tsv"
FAST = [
    "--epochs",
    "1",
    "--batch-size",
    "16",
    "--n-components",
    "8",
    "--seed",
    "0",
    "--encoder-params",
    '{"hidden_dim": 8, "depth": 2}',
]


@pytest.fixture
def npy(tmp_path):
    X = np.random.default_rng(0).normal(size=(24, 2, 48)).astype(np.float32)
    path = tmp_path / "X.npy"
    np.save(path, X)
    return path


def test_pretrain_then_embed_round_trip(npy, tmp_path, capsys):
    model_dir = tmp_path / "model"
    assert main(["pretrain", str(npy), "--out", str(model_dir), *FAST]) == 0
    assert "Saved model" in capsys.readouterr().out
    history = json.loads((model_dir / "history.json").read_text())
    assert len(history["loss"]) == 1
    out = tmp_path / "Z.npy"
    assert main(["embed", str(model_dir), str(npy), "--out", str(out)]) == 0
    Z = np.load(out)
    assert Z.shape == (24, 8)
    np.testing.assert_allclose(Z, tscl.load(model_dir).transform(np.load(npy)))


def test_pretrain_on_ucr_tsv_drops_the_label_column(tmp_path):
    model_dir = tmp_path / "m"
    assert main(["pretrain", str(ECG200_TRAIN), "--out", str(model_dir), *FAST]) == 0
    model = tscl.load(model_dir)
    assert model.n_features_in_ == 96  # 97 columns minus the label


def test_load_data_reads_npy_and_tsv(npy):
    assert load_data(npy).shape == (24, 2, 48)
    assert load_data(ECG200_TRAIN).shape == (100, 96)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.npy", "not found"),
        (lambda d: _write(d / "bad.npy", b"not an array"), "not a readable .npy"),
        (lambda d: _write(d / "data.xlsx", b"1,2,3"), "Unsupported data file"),
        (lambda d: _save(d / "nan.npy", np.full((8, 32), np.nan)), "NaN"),
        (lambda d: _save(d / "cl.npy", np.zeros((8, 500, 12))), "transpose"),
        (lambda d: _save(d / "obj.npy", np.array(["a", "b"])), "real numbers"),
    ],
)
def test_pretrain_user_errors_exit_1_with_one_line(tmp_path, capsys, make, message):
    data = make(tmp_path)
    code = main(["pretrain", str(data), "--out", str(tmp_path / "m"), *FAST])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("tscl: error:")
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "m" / "config.json").exists()


def test_unknown_method_lists_valid_names(npy, tmp_path, capsys):
    code = main(["pretrain", str(npy), "--out", str(tmp_path / "m"), "--method", "x"])
    assert code == 1
    assert "'simclr', 'simsiam'" in capsys.readouterr().err


def test_pretrain_refuses_foreign_directory_before_training(npy, tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert main(["pretrain", str(npy), "--out", str(target), *FAST]) == 1
    assert "not a tscl model" in capsys.readouterr().err
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_encoder_params_reach_the_model(npy, tmp_path):
    assert main(["pretrain", str(npy), "--out", str(tmp_path / "m"), *FAST]) == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["params"]["encoder_params"] == {"hidden_dim": 8, "depth": 2}


@pytest.mark.parametrize("text", ["{hidden_dim: 8}", "[8]"])
def test_malformed_encoder_params(npy, tmp_path, capsys, text):
    args = ["pretrain", str(npy), "--out", str(tmp_path / "m"), "--encoder-params"]
    assert main([*args, text]) == 1
    assert "--encoder-params must be a JSON object" in capsys.readouterr().err


def test_embed_errors(npy, tmp_path, capsys):
    assert main(["embed", str(tmp_path), str(npy), "--out", "z.npy"]) == 1
    assert "not a tscl model directory" in capsys.readouterr().err
    assert main(["embed", str(tmp_path / "nope"), str(npy), "--out", "z.npy"]) == 1
    assert "No model directory" in capsys.readouterr().err


def test_demo_on_cuda_without_gpu_is_a_clear_error(capsys):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["demo", "--device", "cuda", "--epochs", "1"]) == 1
    assert "CUDA is not available" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [[], ["pretrain"], ["embed"], ["evaluate"], ["info"], ["demo"]]
)
def test_help_for_each_command(command):
    result = subprocess.run(
        [sys.executable, "-m", "tscl", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "usage: tscl" in result.stdout


def _write(path, content):
    path.write_bytes(content)
    return path


def _save(path, array):
    np.save(path, array)
    return path


def test_embed_checks_out_before_loading_anything(tmp_path, capsys):
    # The model directory does not exist either: the --out error must come first.
    code = main(["embed", str(tmp_path / "nope"), "x.npy", "--out", "z.csv"])
    assert code == 1
    assert "--out must end in .npy" in capsys.readouterr().err
    missing = str(tmp_path / "no_dir" / "z.npy")
    assert main(["embed", str(tmp_path / "nope"), "x.npy", "--out", missing]) == 1
    assert "folder of --out does not exist" in capsys.readouterr().err


def test_supcon_with_labels_from_the_tsv_and_timestamp_embeddings(tmp_path, capsys):
    model_dir = tmp_path / "supcon"
    args = ["pretrain", str(ECG200_TRAIN), "--out", str(model_dir), *FAST]
    assert main([*args, "--method", "supcon"]) == 1
    assert "learns from labels" in capsys.readouterr().err
    assert main([*args, "--method", "supcon", "--labels", str(ECG200_TRAIN)]) == 0
    out = tmp_path / "Zt.npy"
    assert (
        main(
            ["embed", str(model_dir), str(ECG200_TRAIN), "--out", str(out)]
            + ["--level", "timestamp"]
        )
        == 0
    )
    assert np.load(out).shape == (100, 96, 8)


def test_labels_from_npy_must_be_one_per_series(npy, tmp_path, capsys):
    labels = tmp_path / "y.npy"
    np.save(labels, np.zeros((24, 2)))
    argv = ["pretrain", str(npy), "--out", str(tmp_path / "m"), *FAST]
    assert main([*argv, "--method", "triplet", "--labels", str(labels)]) == 1
    assert "one label per series" in capsys.readouterr().err
    np.save(labels, np.arange(24) % 3)
    assert main([*argv, "--method", "triplet", "--labels", str(labels)]) == 0


def test_embeddings_follow_the_umask(npy, tmp_path):
    import os

    model_dir = tmp_path / "model"
    assert main(["pretrain", str(npy), "--out", str(model_dir), *FAST]) == 0
    old = os.umask(0o022)
    try:
        out = tmp_path / "Z.npy"
        assert main(["embed", str(model_dir), str(npy), "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644  # was mkstemp's 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_pretrain_help_lists_the_registries_and_estimator_defaults(capsys):
    import inspect

    from tscl import ContrastiveEncoder
    from tscl.encoders import ENCODERS
    from tscl.methods import METHODS

    with pytest.raises(SystemExit):
        main(["pretrain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in (*METHODS, *ENCODERS):
        assert name in text
    from tscl._cli_args import build_parser

    pretrain = next(a for a in build_parser()._actions if a.dest == "command")
    parsed = pretrain.choices["pretrain"].parse_args(["x.npy", "--out", "m"])
    signature = inspect.signature(ContrastiveEncoder).parameters
    assert parsed.epochs == signature["n_epochs"].default
    assert parsed.batch_size == signature["batch_size"].default
    assert parsed.learning_rate == signature["learning_rate"].default
    assert parsed.n_components == signature["n_components"].default
    assert parsed.encoder == signature["encoder"].default
    again = pretrain.choices["pretrain"].parse_args(
        ["x.npy", "--out", "m", "--epochs", "3", "--batch-size", "AUTO"]
    )
    assert (again.epochs, again.batch_size) == (3, "auto")
