"""facecraft batch: manifests checked, failures reported not fatal, resumable, local and Ray write the same files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_outputs_named_after_inputs_with_dots_in_their_stems_take_the_kinds_ending(tmp_path):
    csv_path = tmp_path / "jobs.csv"
    csv_path.write_text("input\n10_0_0_20170110221714752.jpg.chip.jpg\n")  # every UTKFace file is named so
    for kind, ending in (("edit", ".png"), ("augment", ".json")):
        job = batch.read_manifest(csv_path, kind=kind, out_dir=tmp_path / "out")[0]
        assert Path(job.output).name == "10_0_0_20170110221714752.jpg.chip" + ending
    csv_path.write_text("input\ntake.v2.wav\n")
    job = batch.read_manifest(csv_path, kind="animate", out_dir=tmp_path / "out", fmt="glb")[0]
    assert Path(job.output).name == "take.v2.glb" and job.error is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input,output\na.wav,x\nb.wav,x\n", "rows 2 and 3 would both write"),
        ("input\n", "lists no job"),
    ],
)
def test_bad_manifests_name_the_row(tmp_path, text, match):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(ParameterError, match=match):
        batch.read_manifest(path, kind="animate", out_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("input,colour\na.wav,red\nb.wav,\n", r"row 2: unknown column\(s\) \['colour'\]"),
        ("emotion,input\nhappiness,\nsadness,b.wav\n", "row 2: no 'input'"),
        ("input,output\na.wav,batch-report\nb.wav,\n", "row 2: output 'batch-report.json' is the batch's own file"),
        ("input,emotion\na.wav,anger,0.7\nb.wav,\n", r"row 2: unknown column\(s\) \['<values past the header>'\]"),
        ("input,output\na.wav,h.xyz\nb.wav,\n", r"row 2: output 'h.xyz': an animation is written as \.npz, \.csv"),
    ],
)
def test_a_bad_row_is_a_failed_job_and_the_others_stay(tmp_path, text, match):
    path = tmp_path / "m.csv"
    path.write_text(text)
    bad, good = batch.read_manifest(path, kind="animate", out_dir=tmp_path, fmt="json")
    assert re.search(match, bad.error) and good.error is None and good.input.endswith("b.wav")


def test_a_spreadsheets_header_with_a_bom_and_capitals_is_read(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffInput,Emotion\na.wav,anger\n".encode())
    (job,) = batch.read_manifest(path, kind="animate", out_dir=tmp_path)
    assert job.error is None and job.input.endswith("a.wav") and job.options == {"emotion": "anger"}


def test_a_jsonl_manifest_saved_with_a_bom_and_crlf_is_read(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_bytes('\ufeff{"input": "Aufnahme ä.wav", "emotion": "anger"}\r\n{"input": "b.wav"}\r\n'.encode())
    jobs = batch.read_manifest(path, kind="animate", out_dir=tmp_path)
    assert [j.error for j in jobs] == [None, None] and jobs[0].input.endswith("Aufnahme ä.wav")
    assert jobs[0].options == {"emotion": "anger"}


def test_a_failure_is_reported_and_a_rerun_does_only_the_rest(tmp_path, speech_manifest):
    out = tmp_path / "out"
    first = batch.run_batch("animate", speech_manifest, out, workers=1, fmt="csv", progress=False)
    assert first["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    assert first["failed"][0]["row"] == 3 and "missing.wav" in first["failed"][0]["error"]
    # no partial file; the journal lists the finished jobs
    assert sorted(p.name for p in out.iterdir()) == [batch.JOURNAL_NAME, "a.csv", "batch-report.json", "bee.csv"]
    assert sorted(batch.read_journal(out)) == [str(out.resolve() / "a.csv"), str(out.resolve() / "bee.csv")]
    assert json.loads((out / "batch-report.json").read_text())["counts"] == first["counts"]
    (out / "bee.csv").unlink()  # as if the run had been killed before this one
    again = batch.run_batch("animate", speech_manifest, out, workers=1, fmt="csv", progress=False)
    assert again["counts"] == {"done": 1, "skipped": 1, "failed": 1}
    assert again["done"][0]["output"].endswith("bee.csv") and again["skipped"][0]["output"].endswith("a.csv")
    assert again["skipped"][0]["earlier"]["status"] == "done"  # the first run's record is carried over


def test_an_emotion_track_file_is_read_from_the_manifests_folder_as_the_input_is(tmp_path):
    (tmp_path / "m").mkdir()
    manifest = tmp_path / "m" / "jobs.jsonl"
    rows = [
        {"input": "a.wav", "emotion_track": "../tracks/t1.json"},  # was looked for from the current folder
        {"input": "b.wav", "emotion_track": '[{"t": 0, "emotion": "anger"}]'},  # inline JSON stays
        {"input": "c.wav", "emotion_track": [{"t": 0, "emotion": "anger"}]},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    jobs = batch.read_manifest(manifest, kind="animate", out_dir=tmp_path / "out")
    assert jobs[0].options["emotion_track"] == str(tmp_path / "m" / ".." / "tracks" / "t1.json")
    assert jobs[1].options["emotion_track"] == rows[1]["emotion_track"]
    assert jobs[2].options["emotion_track"] == rows[2]["emotion_track"]


def test_a_row_edited_since_its_output_was_made_is_made_again(tmp_path, speech_manifest, caplog):
    manifest = tmp_path / "jobs.jsonl"
    rows = [json.loads(line) for line in speech_manifest.read_text().splitlines()][:2]
    rows[0]["input"] = str(speech_manifest.parent / rows[0]["input"])
    rows[1]["input"] = str(speech_manifest.parent / rows[1]["input"])
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    batch.run_batch("animate", manifest, out, workers=1, fmt="npz", progress=False)
    before = np.load(out / "a.npz")["curves"]
    rows[0]["emotion"] = "sadness:0.9"  # was happiness:0.6: the rerun kept the happy output without a word
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    again = batch.run_batch("animate", manifest, out, workers=1, fmt="npz", progress=False)
    assert again["counts"] == {"done": 1, "skipped": 1, "failed": 0} and again["redone"] == [1]
    assert not np.allclose(np.load(out / "a.npz")["curves"], before) and "made again" in caplog.text
    third = batch.run_batch("animate", manifest, out, workers=1, fmt="npz", progress=False)
    assert third["counts"]["skipped"] == 2 and third["redone"] == []


@pytest.mark.parametrize("stem", ["t" * 246, "é" * 123])  # 250 bytes with ".csv" (é is 2 bytes in UTF-8)
def test_outputs_named_near_the_file_name_limit_are_written(tmp_path, speech_manifest, stem):
    # the hidden ".{stem}.partial.csv" passed 255 bytes: the row failed with "File name too long"
    manifest = tmp_path / "long.jsonl"
    clip = speech_manifest.parent / "clips" / "b.wav"
    manifest.write_text(json.dumps({"input": str(clip), "output": f"{stem}.csv"}, ensure_ascii=False) + "\n")
    out = tmp_path / "out"
    report = batch.run_batch("animate", manifest, out, workers=1, fmt="csv", progress=False)
    assert report["counts"] == {"done": 1, "skipped": 0, "failed": 0}, report["failed"]
    assert len(Path(report["done"][0]["output"]).name.encode()) == 250 and (out / f"{stem}.csv").stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == sorted([batch.JOURNAL_NAME, f"{stem}.csv", batch.REPORT_NAME])
    assert len(batch.partial_path(out / f"{stem}.csv").name.encode()) <= 255


@pytest.fixture
def five_clips(tmp_path):
    """A manifest of five short clips (rows 1-5: c0.wav ... c4.wav) and the files a clean run writes."""
    (tmp_path / "clips").mkdir()
    for i in range(5):
        _wav(tmp_path / "clips" / f"c{i}.wav", 0.5 + 0.1 * i, 110 + 20 * i)
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("input\n" + "".join(f"clips/c{i}.wav\n" for i in range(5)))
    clean = batch.run_batch("animate", manifest, tmp_path / "clean", workers=1, fmt="csv", progress=False)
    assert clean["counts"]["done"] == 5, clean["failed"]
    return manifest, {p.name: p.read_bytes() for p in (tmp_path / "clean").glob("*.csv")}


def _outputs(folder):
    return {p.name: p.read_bytes() for p in folder.glob("*.csv")}


def test_an_interrupted_run_resumes_with_nothing_lost_or_done_twice(tmp_path, five_clips, monkeypatch):
    manifest, clean = five_clips
    out = tmp_path / "out"
    real = batch.RUNNERS["animate"]

    def stop_at_third_clip(job, partial):
        if job.row == 4:  # CSV row 4 = the third clip: half a file written, then Ctrl-C
            partial.write_text("half a file")
            raise KeyboardInterrupt
        return real(job, partial)

    monkeypatch.setitem(batch.RUNNERS, "animate", stop_at_third_clip)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch("animate", manifest, out, workers=1, fmt="csv", progress=False)
    stopped = json.loads((out / batch.REPORT_NAME).read_text())
    assert stopped["interrupted"] is True
    assert stopped["counts"] == {"done": 2, "skipped": 0, "failed": 0, "not_run": 3}
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".csv") == ["c0.csv", "c1.csv"]  # no partial file

    monkeypatch.setitem(batch.RUNNERS, "animate", real)
    again = batch.run_batch("animate", manifest, out, workers=1, fmt="csv", progress=False)
    assert again["counts"] == {"done": 3, "skipped": 2, "failed": 0}
    done = [r["output"] for r in again["done"]]
    skipped = [r["output"] for r in again["skipped"]]
    assert not set(done) & set(skipped) and len(set(done) | set(skipped)) == 5  # every row once
    assert all(r["earlier"]["status"] == "done" for r in again["skipped"])
    assert _outputs(out) == clean  # the same files as an uninterrupted run
    assert not list(out.glob(".*.partial*"))


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe to hold the run at a known row")
def test_a_killed_process_resumes_with_nothing_lost_or_done_twice(tmp_path, five_clips):
    """SIGKILL of a real `facecraft batch` process while it waits on row 4 (a named pipe that nobody writes:
    reading it blocks), then a rerun: only the rest is done."""
    manifest, clean = five_clips
    out = tmp_path / "out"
    held = tmp_path / "clips" / "c2.wav"
    real_bytes = held.read_bytes()
    held.unlink()
    os.mkfifo(held)
    cmd = [sys.executable, "-m", "facecraft.apps.cli", "batch", "animate", str(manifest), "--out", str(out),
           "--workers", "1", "--format", "csv", "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a guard against a hung test, not a timing check
        while len(batch.read_journal(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before reaching the held row"
        assert len(batch.read_journal(out)) == 2
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / batch.REPORT_NAME).exists()  # killed: no report, only the journal
    assert sorted(p.name for p in out.glob("*.csv")) == ["c0.csv", "c1.csv"]
    held.unlink()
    held.write_bytes(real_bytes)
    again = batch.run_batch("animate", manifest, out, workers=1, fmt="csv", progress=False)
    assert again["counts"] == {"done": 3, "skipped": 2, "failed": 0}
    assert [r["row"] for r in again["done"]] == [4, 5, 6] and [r["row"] for r in again["skipped"]] == [2, 3]
    assert _outputs(out) == clean


_CRASHING_WORKER = """
import os, signal
import facecraft.apps.batch as batch

real = batch.RUNNERS["animate"]


def killed_on_crash_wav(job, partial):
    if job.input.endswith("crash.wav"):  # as the out-of-memory killer ends a worker
        partial.write_text("half a file")
        os.kill(os.getpid(), signal.SIGKILL)
    return real(job, partial)


batch.RUNNERS["animate"] = killed_on_crash_wav
"""


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_one_failed_row_and_the_rest_are_done(tmp_path, five_clips, monkeypatch):
    """A worker process that dies broke the whole pool: the run ended in a BrokenProcessPool traceback, without its
    report, and the rows still queued were not run."""
    manifest, clean = five_clips
    _wav(tmp_path / "clips" / "crash.wav", 0.5, 150)
    rows = manifest.read_text().splitlines()
    manifest.write_text("\n".join([*rows[:3], "clips/crash.wav", *rows[3:]]) + "\n")  # CSV row 4
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_CRASHING_WORKER)  # read by the spawned workers only
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])))
    out = tmp_path / "out"
    report = batch.run_batch("animate", manifest, out, workers=2, fmt="csv", progress=False)
    assert report["counts"] == {"done": 5, "skipped": 0, "failed": 1}
    (failed,) = report["failed"]
    assert failed["row"] == 4 and "worker process died" in failed["error"]
    assert json.loads((out / batch.REPORT_NAME).read_text())["counts"] == report["counts"]
    assert _outputs(out) == clean and not list(out.glob(".*.partial*"))


def test_edit_batch_writes_edited_pngs(tmp_path):
    manifest = tmp_path / "edits.csv"
    manifest.write_text(f"input,output,emotion,au\n{resolve_asset('astronaut')},sad,sadness:1,\n")
    report = batch.run_batch("edit", manifest, tmp_path / "out", workers=1, progress=False)
    assert report["counts"]["done"] == 1, report["failed"]
    edited = np.asarray(Image.open(tmp_path / "out" / "sad.png"))
    original = np.asarray(Image.open(resolve_asset("astronaut")).convert("RGB"))
    assert edited.shape == original.shape and np.abs(edited.astype(int) - original.astype(int)).max() > 30


def test_edit_batch_keeps_a_cut_outs_alpha_moving_with_the_face(tmp_path):
    # the batch wrote every pixel the edit changed opaque: a cut-out's dropped chin showed the white it is edited on
    from tests.synth.cutout_helpers import hull_alpha, white_patches
    from tests.synth.warp_helpers import astronaut_points

    photo, points, _ = astronaut_points()
    alpha = hull_alpha(points, photo.shape[:2])
    Image.fromarray(np.dstack([photo, alpha])).save(tmp_path / "cut.png")
    manifest = tmp_path / "edits.csv"
    manifest.write_text("input,output,emotion\ncut.png,surprised,surprise:1\n")
    report = batch.run_batch("edit", manifest, tmp_path / "out", workers=1, progress=False)
    assert report["counts"]["done"] == 1, report["failed"]
    written = np.asarray(Image.open(tmp_path / "out" / "surprised.png"))
    assert written.shape == (*photo.shape[:2], 4) and white_patches(alpha, written).sum() == 0


def test_edit_batch_rows_can_keep_glasses_still(tmp_path):
    from tests.synth.test_glasses_frame import glasses_on_astronaut

    photo, _, drawn = glasses_on_astronaut()
    Image.fromarray(photo).save(tmp_path / "g.png")
    manifest = tmp_path / "edits.csv"
    manifest.write_text("input,output,emotion,keep_glasses\ng.png,kept,surprise,yes\ng.png,bent,surprise,no\n")
    report = batch.run_batch("edit", manifest, tmp_path / "out", workers=1, progress=False)
    assert report["counts"]["done"] == 2, report["failed"]
    moved = {n: np.abs(np.asarray(Image.open(tmp_path / "out" / f"{n}.png")).astype(int) - photo).max(2)[drawn]
             for n in ("kept", "bent")}  # fmt: skip
    assert moved["kept"].max() <= 2 and moved["bent"].mean() > 20


def test_batch_argument_errors(tmp_path, speech_manifest):
    with pytest.raises(ParameterError, match="--backend"):
        batch.run_batch("animate", speech_manifest, tmp_path, backend="spark")
    with pytest.raises(ParameterError, match="--address"):
        batch.run_batch("animate", speech_manifest, tmp_path, address="auto")
    report = batch.run_batch("augment", speech_manifest, tmp_path / "a", progress=False)  # animate options
    assert report["counts"]["failed"] == report["jobs"] and not report["done"]
    assert "row 1: unknown column(s) ['emotion'] for augment" in report["failed"][0]["error"]


def test_augment_batch_writes_judged_crops_and_a_record_per_face(tmp_path):
    """Each row is one face given to eval.augment's per-face function; the row's record file lists every
    variant with its verdict, and each accepted variant is a crop in the row's format under its emotion."""
    manifest = tmp_path / "faces.jsonl"
    rows = [
        {"input": str(resolve_asset("astronaut")), "output": "astro", "targets": "surprise;sadness", "per_image": 2},
        {"input": "no-such-face.png"},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    report = batch.run_batch("augment", manifest, out, workers=1, progress=False)
    assert report["counts"] == {"done": 1, "skipped": 0, "failed": 1}
    assert "no-such-face.png" in report["failed"][0]["error"]
    record = json.loads((out / "astro.json").read_text())
    assert [(v["target"], v["variant"]) for v in record["variants"]] == [
        ("sadness", 0), ("sadness", 1), ("surprise", 0), ("surprise", 1)
    ]  # fmt: skip
    accepted = [v for v in record["variants"] if v["accepted"]]
    assert accepted  # the shipped judges accept the astronaut's first surprise variant (seeded)
    assert report["done"][0]["accepted"] == len(accepted) and report["done"][0]["variants"] == 4
    assert all(v["reason"] for v in record["variants"] if not v["accepted"])  # a rejection says why
    for v in accepted:
        crop = Image.open(v["file"])
        assert crop.size == (48, 48) and crop.mode == "L" and f"/{v['target']}/astro_" in v["file"]
    assert sorted(p.name for p in out.rglob("*.png")) == sorted(Path(v["file"]).name for v in accepted)
    again = batch.run_batch("augment", manifest, out, workers=1, progress=False)
    assert again["counts"] == {"done": 0, "skipped": 1, "failed": 1}


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


@pytest.mark.slow
def test_a_ray_worker_killed_mid_job_is_one_failed_row(tmp_path, speech_manifest, monkeypatch):
    """ray.get raised the dead worker's WorkerCrashedError out of the run: no report, the other rows' results lost."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    _wav(speech_manifest.parent / "clips" / "crash.wav", 0.5, 150)
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text(
        "".join(json.dumps({"input": str(speech_manifest.parent / "clips" / n)}) + "\n" for n in ("a.wav", "crash.wav"))
    )
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_CRASHING_WORKER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])))
    out = tmp_path / "out"
    report = batch.run_batch("animate", manifest, out, backend="ray", workers=2, fmt="csv", progress=False)
    assert report["counts"] == {"done": 1, "skipped": 0, "failed": 1}
    assert report["failed"][0]["row"] == 2 and "worker process died" in report["failed"][0]["error"]
    assert (out / "a.csv").is_file() and (out / batch.REPORT_NAME).is_file() and not list(out.glob(".*.partial*"))


@pytest.mark.slow
def test_ray_backend_writes_the_same_augment_crops_as_the_local_pool(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    manifest = tmp_path / "faces.csv"
    manifest.write_text(f"input,output,targets,per_image\n{resolve_asset('astronaut')},astro,surprise;anger,2\n")
    local = batch.run_batch("augment", manifest, tmp_path / "local", workers=1, progress=False)
    ray = batch.run_batch("augment", manifest, tmp_path / "ray", backend="ray", workers=1, progress=False)
    assert local["counts"] == ray["counts"] == {"done": 1, "skipped": 0, "failed": 0}
    crops = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*.png"))
    assert crops and crops == sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*.png"))
    for rel in crops:
        assert (tmp_path / "local" / rel).read_bytes() == (tmp_path / "ray" / rel).read_bytes(), rel


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
