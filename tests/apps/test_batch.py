"""facecraft batch: manifests checked, failures reported not fatal, resumable, local and Ray write the same files."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from facecraft.apps import batch
from facecraft.rigs import ParameterError, resolve_asset


def _wav(path, seconds: float, f0: float):
    sr = 16000
    t = np.arange(int(seconds * sr)) / sr
    voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    sf.write(path, (0.3 * voice).astype(np.float32), sr)
    return path


@pytest.fixture(scope="module")
def speech_manifest(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    (root / "clips").mkdir()
    _wav(root / "clips" / "a.wav", 1.2, 120)
    _wav(root / "clips" / "b.wav", 0.8, 180)
    rows = [
        {"input": "clips/a.wav", "emotion": "happiness:0.6"},
        {"input": "clips/b.wav", "output": "bee"},
        {"input": "clips/missing.wav"},
    ]
    path = root / "jobs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_manifest_rows_become_jobs_with_outputs_and_options(tmp_path, speech_manifest):
    jobs = batch.read_manifest(speech_manifest, kind="animate", out_dir=tmp_path, fmt="csv")
    assert [j.row for j in jobs] == [1, 2, 3]
    assert jobs[0].input == str(speech_manifest.parent / "clips" / "a.wav")
    assert jobs[0].options == {"emotion": "happiness:0.6"}
    assert [j.output.rsplit("/", 1)[1] for j in jobs] == ["a.csv", "bee.csv", "missing.csv"]
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_text('input,emotion,au\nx.png,,"AU12=0.6;AU6=0.2"\ny.png,sadness,\n')
    edits = batch.read_manifest(csv_path, kind="edit", out_dir=tmp_path / "out")
    assert [j.row for j in edits] == [2, 3] and edits[0].options == {"au": "AU12=0.6;AU6=0.2"}
    assert edits[1].output.endswith("out/y.png") and edits[1].options == {"emotion": "sadness"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input,colour\na.wav,red\n", r"row 2: unknown column\(s\) \['colour'\]"),
        ("input,output\na.wav,x\nb.wav,x\n", "rows 2 and 3 would both write"),
        ("emotion\nhappiness\n", "row 2: no 'input'"),
        ("input\n", "lists no job"),
    ],
)
def test_bad_manifests_name_the_row(tmp_path, text, match):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(ParameterError, match=match):
        batch.read_manifest(path, kind="animate", out_dir=tmp_path)


def test_a_failure_is_reported_and_a_rerun_does_only_the_rest(tmp_path, speech_manifest):
    out = tmp_path / "out"
    first = batch.run_batch("animate", speech_manifest, out, workers=1, fmt="csv", progress=False)
    assert first["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    assert first["failed"][0]["row"] == 3 and "missing.wav" in first["failed"][0]["error"]
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "batch-report.json", "bee.csv"]  # no partial file
    assert json.loads((out / "batch-report.json").read_text())["counts"] == first["counts"]
    (out / "bee.csv").unlink()  # as if the run had been killed before this one
    again = batch.run_batch("animate", speech_manifest, out, workers=1, fmt="csv", progress=False)
    assert again["counts"] == {"done": 1, "skipped": 1, "failed": 1}
    assert again["done"][0]["output"].endswith("bee.csv") and again["skipped"][0]["output"].endswith("a.csv")


def test_edit_batch_writes_edited_pngs(tmp_path):
    manifest = tmp_path / "edits.csv"
    manifest.write_text(f"input,output,emotion,au\n{resolve_asset('astronaut')},sad,sadness:1,\n")
    report = batch.run_batch("edit", manifest, tmp_path / "out", workers=1, progress=False)
    assert report["counts"]["done"] == 1, report["failed"]
    edited = np.asarray(Image.open(tmp_path / "out" / "sad.png"))
    original = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    assert edited.shape == original.shape and np.abs(edited.astype(int) - original.astype(int)).max() > 30


def test_batch_argument_errors(tmp_path, speech_manifest):
    with pytest.raises(ParameterError, match="--backend"):
        batch.run_batch("animate", speech_manifest, tmp_path, backend="spark")
    with pytest.raises(ParameterError, match="--address"):
        batch.run_batch("animate", speech_manifest, tmp_path, address="auto")
    if importlib.util.find_spec("facecraft.eval.augment") is None:
        with pytest.raises(ImportError, match="facecraft augment"):
            batch.run_batch("augment", speech_manifest, tmp_path)


@pytest.mark.slow
def test_ray_backend_writes_the_same_files_as_the_local_pool(tmp_path, speech_manifest):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    local = batch.run_batch("animate", speech_manifest, tmp_path / "local", workers=2, fmt="csv", progress=False)
    ray = batch.run_batch(
        "animate", speech_manifest, tmp_path / "ray", backend="ray", workers=2, fmt="csv", progress=False
    )
    assert local["counts"] == ray["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    assert ray["ray_cpus"] == 2
    for name in ("a.csv", "bee.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes(), name


def test_command_line_prints_a_summary_and_fails_on_failed_rows(tmp_path, speech_manifest, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    batch.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["batch", "animate", str(speech_manifest), "--out", str(tmp_path), "--workers", "1", "--no-progress"]
    )
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "2 done, 0 skipped (already there), 1 failed" in out and "row 3" in out and "missing.wav" in out
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["a.npz", "bee.npz"]
