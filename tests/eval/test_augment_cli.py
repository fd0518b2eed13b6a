"""``facecraft augment`` and the ``bench augment`` recipe settings."""

from __future__ import annotations

import json

import pytest

from facecraft.apps.cli import BENCHMARKS, build_parser, main
from facecraft.eval.bench_augment import recipe_configs
from facecraft.eval.train import RECIPES


def test_augment_command_runs_reports_and_resumes(tmp_path, capsys, tiny_fer_folder):
    out = tmp_path / "aug"
    (tiny_fer_folder / "happy" / "torn.png").write_bytes((tiny_fer_folder / "happy" / "0.png").read_bytes()[:60])
    rc = main(["augment", str(tiny_fer_folder), "--out", str(out), "--targets", "fear", "--max-sources", "2"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    # a corrupt file is skipped and counted where the user looks, not only in report.json
    assert summary["unreadable"] == 1
    # striped noise has no face: both sources reported and skipped, nothing accepted, nothing crashed
    assert summary["bad_sources"] == 2 and summary["accepted"] == 0 and summary["this_run"]["sources"] == 2
    report = json.loads((out / "report.json").read_text())
    assert report["targets"] == ["fear"] and report["config"]["filter"]["top_k"] == 3
    assert report["config"]["alternatives"] is True
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 2
    assert not (out / ".run-current.json").exists()  # a finished run's running record is gone (runs.jsonl has it)
    assert main(["augment", str(tiny_fer_folder), "--out", str(out), "--targets", "fear", "--max-sources", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["this_run"]["sources"] == 0  # resumed: nothing left to do


def test_augment_command_errors_name_the_problem(tmp_path, capsys, tiny_fer_folder):
    assert main(["augment", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 1
    assert "missing" in capsys.readouterr().err
    assert main(["augment", str(tiny_fer_folder), "--out", str(tmp_path / "o"), "--targets", "fear,bored"]) == 1
    assert "bored" in capsys.readouterr().err
    assert main(["augment", str(tiny_fer_folder), "--out", str(tmp_path / "o"), "--min-intensity", "0.9",
                 "--max-intensity", "0.5"]) == 1  # fmt: skip
    assert "--min-intensity" in capsys.readouterr().err


def test_prototype_only_reaches_the_config(tmp_path, capsys, tiny_fer_folder):
    out = tmp_path / "proto"
    argv = ["augment", str(tiny_fer_folder), "--out", str(out), "--targets", "disgust", "--max-sources", "1"]
    assert main([*argv, "--prototype-only", "--min-lift", "2.5"]) == 0
    config = json.loads((out / "report.json").read_text())["config"]
    assert config["alternatives"] is False and config["filter"]["min_lift"] == 2.5


def test_cli_registration_and_bench_recipe():
    assert "augment" in build_parser().format_help()
    assert BENCHMARKS["augment"] == "facecraft.eval.bench_augment:bench_augment"
    model, train = recipe_configs("shipped", epochs=3, seed=5)
    assert train.epochs == 3 and train.minutes is None and train.seed == 5  # same epochs for both arms, no time cap
    assert model.init == RECIPES["shipped"]["model"]["init"] and model.image_size == 48


def test_a_numbered_set_is_read_with_label_order_and_the_help_names_the_layouts(tmp_path, capsys, tiny_fer_folder):
    # AffectNet's 0-7 folders: augment had no --label-order ("unrecognized arguments"), and its help named three layouts
    import shutil

    data = tmp_path / "affectnet"
    for name, number in (("happy", "1"), ("sad", "2"), ("surprise", "3")):
        shutil.copytree(tiny_fer_folder / name, data / number)
    out = tmp_path / "aug"
    argv = ["augment", str(data), "--out", str(out), "--targets", "fear", "--max-sources", "1"]
    assert main(argv) == 1 and "--label-order" in capsys.readouterr().err
    assert main([*argv, "--label-order", "affectnet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["label_order"] == "affectnet" and report["class_counts_before"]["sadness"] == 7  # 2 is sadness
    with pytest.raises(SystemExit):
        build_parser().parse_args(["augment", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "RAF-DB" in help_text and "fer2013new.csv" in help_text and "FER2013Train" in help_text
    assert "--label-order {affectnet,fer2013,ferplus,raf-db}" in help_text
