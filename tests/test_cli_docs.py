"""docs/cli.md: every example runs, in order, and the error lines are what prints."""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from tscl.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"


def _blocks(language: str) -> list[str]:
    """The text of the page's fenced blocks whose fence names ``language``."""
    blocks, current, fence = [], [], None
    for line in PAGE.read_text().splitlines():
        if line.startswith("```"):
            if fence is None:
                fence, current = line[3:].strip(), []
            else:
                if fence == language:
                    blocks.append("\n".join(current) + "\n")
                fence = None
        elif fence is not None:
            current.append(line)
    return blocks


def _commands() -> list[list[str]]:
    """The ``tscl ...`` commands of the page's bash blocks, continuations joined."""
    commands = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                words = shlex.split(line)
                assert words[0] == "tscl", f"not a tscl command: {line}"
                commands.append(words[1:])
    return commands


@pytest.fixture
def in_scratch(tmp_path, monkeypatch):
    """Run in an empty folder where ``datasets/`` is the repository's."""
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_subcommand_has_an_example():
    assert {c[0] for c in _commands()} >= {"pretrain", "embed", "evaluate", "info"}
    assert {"--augment", "--window-s", "--labels"} <= {
        w for c in _commands() for w in c
    }


@pytest.mark.filterwarnings("ignore::tscl.monitoring.CollapseWarning")
def test_the_examples_run_in_order_and_do_what_they_say(in_scratch, capsys):
    printed = {}
    for argv in _commands():
        assert main(argv) == 0, f"tscl {shlex.join(argv)} failed"
        printed[shlex.join(argv)] = capsys.readouterr().out
    assert np.load(in_scratch / "ecg200-test.npy").shape == (100, 320)
    scores = json.loads((in_scratch / "ecg200-scores.json").read_text())
    assert scores["probe"] == "svm"
    assert scores["n_test"] == 100
    assert 0.5 <= scores["accuracy"] <= 1.0
    assert "method: softclt" in printed["info ecg200-model"]
    info = json.loads(printed["info motions-model --json"])
    assert info["method"] == "simclr"
    assert info["data"]["channels"] == 6
    # the WFDB folder: records cut into 5 s windows of both leads at 100 Hz
    mitdb = json.loads((in_scratch / "mitdb-model" / "config.json").read_text())
    assert mitdb["fitted"]["n_channels_in_"] == 2


def test_the_error_examples_print_what_the_page_shows(in_scratch, capsys):
    shown = [b for b in _blocks("") if "tscl: error:" in b]
    assert shown, "the page has no error examples"
    pairs = re.findall(r"^\$ tscl (.*)\n(tscl: error: .*)$", shown[0], flags=re.M)
    assert len(pairs) == 2
    for command, expected in pairs:
        assert main(shlex.split(command)) == 1
        printed = capsys.readouterr().err.strip()
        assert printed.startswith(expected.removesuffix("...").rstrip()), printed
