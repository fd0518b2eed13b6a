"""``facecraft adapter`` commands through their own parser: train-base -> train -> refine, and bad input."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from facecraft.rigs import resolve_asset
from facecraft.rigs.errors import MissingFileError
from facecraft.synth import adapter_cli

from .test_adapter_train import synthetic_samples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facecraft")
    adapter_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(list(argv))
    return args.func(args)


def test_train_base_adapter_then_refine(tmp_path, capsys):
    data = synthetic_samples().save(tmp_path / "data.npz")
    small = ["--steps", "1", "--batch-size", "2", "--threads", "1"]
    assert _run("adapter", "train-base", "--data", str(data), "-o", str(tmp_path / "base"), "--channels", "8,16",
                *small) == 0  # fmt: skip
    assert _run("adapter", "train", "--base", str(tmp_path / "base"), "--data", str(data), "-o", str(tmp_path / "au"),
                "--tokens", "2", *small) == 0  # fmt: skip
    out = tmp_path / "refined.png"
    photo = str(resolve_asset("astronaut"))
    models = ["--base", str(tmp_path / "base"), "--adapter", str(tmp_path / "au")]
    assert _run("adapter", "refine", photo, "-o", str(out), "--emotion", "happiness:0.8", *models, "--steps", "4") == 0
    from facecraft.eval.images import load_image

    assert load_image(out).shape == load_image(photo).shape
    assert "diffusion" in capsys.readouterr().out


def test_missing_files_and_bad_values(tmp_path):
    with pytest.raises(MissingFileError, match="face data set"):
        _run("adapter", "train-base", "--data", str(tmp_path / "none.npz"), "-o", str(tmp_path / "b"))
    with pytest.raises(MissingFileError, match="photo not found"):
        _run("adapter", "refine", str(tmp_path / "x.jpg"), "-o", str(tmp_path / "y.png"), "--emotion", "anger",
             "--base", str(tmp_path), "--adapter", str(tmp_path))  # fmt: skip
    with pytest.raises(MissingFileError, match="Stable Diffusion 1.5 layout"):
        _run("adapter", "refine", str(resolve_asset("astronaut")), "-o", str(tmp_path / "y.png"), "--emotion",
             "anger", "--base", str(tmp_path / "nobase"), "--adapter", str(tmp_path))  # fmt: skip


def test_refine_without_models_names_what_is_missing_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(adapter_cli.REFINE_BASE_ENV, raising=False)
    monkeypatch.delenv(adapter_cli.REFINE_ADAPTER_ENV, raising=False)
    args = argparse.Namespace(base=None, adapter=None)
    with pytest.raises(MissingFileError, match="diffusion base .*--base.*AU adapter .*--adapter.*train-base") as e:
        adapter_cli.refine_from_args(args, np.zeros((8, 8, 3), np.uint8), None)
    assert adapter_cli.REFINE_BASE_ENV in str(e.value) and adapter_cli.REFINE_ADAPTER_ENV in str(e.value)
    monkeypatch.setenv(adapter_cli.REFINE_BASE_ENV, str(tmp_path / "b"))
    with pytest.raises(MissingFileError, match="AU adapter") as e:
        adapter_cli.refine_models(args)
    assert "diffusion base" not in str(e.value)  # the base is configured now
    monkeypatch.setenv(adapter_cli.REFINE_ADAPTER_ENV, str(tmp_path / "a"))
    assert adapter_cli.refine_models(args) == (str(tmp_path / "b"), str(tmp_path / "a"))
    flags = argparse.Namespace(base="B", adapter="A")
    assert adapter_cli.refine_models(flags) == ("B", "A")  # options win over the environment


def test_the_refine_command_reads_the_models_from_the_environment(tmp_path, monkeypatch, capsys):
    # --base and --adapter were required by the parser, so the documented variables were never read
    from facecraft.apps.cli import main

    monkeypatch.delenv(adapter_cli.REFINE_BASE_ENV, raising=False)
    monkeypatch.delenv(adapter_cli.REFINE_ADAPTER_ENV, raising=False)
    from PIL import Image

    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    assert main(["adapter", "refine", str(photo), "-o", str(tmp_path / "r.png"), "--emotion", "surprise"]) == 1
    err = capsys.readouterr().err
    assert adapter_cli.REFINE_BASE_ENV in err and "train-base" in err
