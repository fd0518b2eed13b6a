"""What a game pipeline gets from ``facecraft animate``: batches, iPhone-like Live Link CSV, head, eyes, version."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_speech  # noqa: E402

from facecraft.apps.cli import main  # noqa: E402
from facecraft.audio2face import animate as an  # noqa: E402
from facecraft.rigs import ARKIT_INDEX  # noqa: E402

# ---------------------------------------------------------------------- a reader written for the iPhone's files
# Independent of facecraft's reader: the column list is typed out from an iPhone export (Live Link Face app).
IPHONE_COLUMNS = (
    "Timecode BlendShapeCount EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft "
    "EyeWideLeft EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight "
    "EyeWideRight JawForward JawRight JawLeft JawOpen MouthClose MouthFunnel MouthPucker MouthRight MouthLeft "
    "MouthSmileLeft MouthSmileRight MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight MouthStretchLeft "
    "MouthStretchRight MouthRollLower MouthRollUpper MouthShrugLower MouthShrugUpper MouthPressLeft MouthPressRight "
    "MouthLowerDownLeft MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight BrowDownLeft BrowDownRight BrowInnerUp "
    "BrowOuterUpLeft BrowOuterUpRight CheekPuff CheekSquintLeft CheekSquintRight NoseSneerLeft NoseSneerRight "
    "TongueOut HeadYaw HeadPitch HeadRoll LeftEyeYaw LeftEyePitch LeftEyeRoll RightEyeYaw RightEyePitch RightEyeRoll"
).split()
TIMECODE = re.compile(r"^(\d{2}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
NUMBER = re.compile(r"^-?\d+\.\d{10}$")
IPHONE_RATE = 60  # the app's timecode frame field counts at 60


def read_iphone_take(path: Path) -> dict:
    """Parse a Live Link Face take strictly as the app writes it; raise AssertionError on anything else."""
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n"), "LF line ends, final newline"
    lines = raw.decode("ascii").split("\n")[:-1]
    header = lines[0].split(",")
    assert header == IPHONE_COLUMNS, f"header differs: {set(header) ^ set(IPHONE_COLUMNS)}"
    times, values = [], []
    for line in lines[1:]:
        cells = line.split(",")
        assert len(cells) == 63
        m = TIMECODE.match(cells[0])
        assert m, cells[0]
        h, mi, s, ff, frac = (int(x) for x in m.groups())
        assert ff < IPHONE_RATE and mi < 60 and s < 60
        times.append(h * 3600 + mi * 60 + s + (ff + frac / 1000) / IPHONE_RATE)
        assert cells[1] == "61"
        for c in cells[2:]:
            assert NUMBER.match(c) and c != "-0.0000000000", c
        values.append([float(c) for c in cells[2:]])
    v = np.array(values)
    assert v[:, :52].min() >= 0.0 and v[:, :52].max() <= 1.0
    steps = np.diff(times)
    assert np.all(steps > 0)
    return {"columns": header, "rate": round(1.0 / float(np.median(steps))), "frames": len(values), "values": v}


@pytest.fixture(scope="module")
def llf_csv(tmp_path_factory, fake_wav, tiny_model_dir) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("llf") / "line.csv"
    return out, an.animate_file(fake_wav, out, weights=tiny_model_dir)


def test_csv_parses_like_an_iphone_take(llf_csv, shared_dir):
    path, anim = llf_csv
    ours = read_iphone_take(path)
    assert anim.fps == 60 and ours["rate"] == 60 and ours["frames"] == anim.num_frames
    take = shared_dir / "data/capture/neurosync_trainer_lite_testset/curves_llf.csv"
    if not take.exists():
        pytest.skip(f"{take} absent")
    real = read_iphone_take(take)
    assert real["columns"] == ours["columns"] and real["rate"] == ours["rate"]


def test_csv_head_eyes_and_tongue_columns(llf_csv):
    path, anim = llf_csv
    v = read_iphone_take(path)["values"]
    col = {n: i - 2 for i, n in enumerate(IPHONE_COLUMNS)}
    head_deg = np.degrees(v[:, [col["HeadYaw"], col["HeadPitch"], col["HeadRoll"]]])
    assert 0.2 < head_deg.std(0).max() < 6 and np.abs(head_deg).max() <= 12.01  # the head moves, a little
    assert np.abs(v[:, col["LeftEyeYaw"]]).max() > 0  # the eyes move
    tongue = v[:, col["TongueOut"]]
    from facecraft.rigs.face_parts import TONGUE_SHOWS_AT

    assert np.all((tongue == 0) | (tongue >= TONGUE_SHOWS_AT - 1e-9))


def test_tongue_only_where_it_shows():
    from facecraft.rigs.face_parts import TONGUE_SHOWS_AT

    c = np.zeros((4, 52), np.float32)
    c[:, ARKIT_INDEX["tongueOut"]] = [0.05, TONGUE_SHOWS_AT - 0.01, TONGUE_SHOWS_AT, 0.8]
    c[:, ARKIT_INDEX["jawOpen"]] = 0.3
    out = an.tongue_where_visible(c)
    assert out[:, ARKIT_INDEX["tongueOut"]].tolist() == pytest.approx([0, 0, TONGUE_SHOWS_AT, 0.8])
    assert np.array_equal(np.delete(out, ARKIT_INDEX["tongueOut"], 1), np.delete(c, ARKIT_INDEX["tongueOut"], 1))


def test_default_rate_is_60_for_csv_only_and_fps_overrides():
    assert an.default_fps("a.csv") == 60 and an.default_fps("a.CSV") == 60
    assert an.default_fps("a.glb") == an.default_fps("a.npz") == an.default_fps("a.json") == 30


def test_head_and_gaze_are_written_and_agree_with_the_curves(tmp_path, fake_wav, tiny_model_dir):
    from facecraft.rigs.animation import eye_rotation_from_curves
    from facecraft.rigs.exchange import load_animation

    a = an.animate_file(fake_wav, tmp_path / "a.npz", weights=tiny_model_dir)
    assert a.head_rotation.shape == (a.num_frames, 3) and a.eye_rotation.shape == (a.num_frames, 6)
    assert np.allclose(eye_rotation_from_curves(a.curves), a.eye_rotation, atol=1e-4)
    back = load_animation(tmp_path / "a.npz")
    assert np.allclose(back.head_rotation, a.head_rotation) and np.allclose(back.eye_rotation, a.eye_rotation)
    still = an.animate_file(fake_wav, tmp_path / "b.json", weights=tiny_model_dir, head=False, gaze=False)
    assert still.head_rotation is None and still.eye_rotation is None
    assert np.allclose(np.delete(still.curves, _gaze_cols(), 1), np.delete(a.curves, _gaze_cols(), 1))


def _gaze_cols() -> list[int]:
    return [i for n, i in ARKIT_INDEX.items() if n.startswith("eyeLook")]


def test_silence_keeps_head_and_eyes_still(tmp_path, tiny_model_dir):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(16000, np.float32), 16000)
    a = an.animate_file(p, tmp_path / "s.npz", weights=tiny_model_dir, blink=False)
    assert float(np.abs(a.head_rotation).max()) == 0 and float(np.abs(a.eye_rotation).max()) == 0
    assert float(a.curves.max()) == 0.0


def test_head_nods_on_stress_and_sways_more_while_talking():
    from facecraft.audio2face import head_motion as hm

    fps = 60
    quiet = np.zeros(6 * fps)
    loud = np.full(6 * fps, 0.4)  # talking from the start ...
    onsets = [int(fps * k) for k in (1.5, 2.5, 3.5, 4.5)]
    for o in onsets:  # ... with stressed syllables: 0.2 s louder bursts
        loud[o : o + 12] = 0.9
    head = hm.head_motion(loud, fps=fps, seed=3)
    idle = hm.head_motion(quiet, fps=fps, seed=3)
    assert np.array_equal(head, hm.head_motion(loud, fps=fps, seed=3))  # deterministic
    assert np.abs(head).max() <= hm.MAX_HEAD_DEG and head.std(0).max() > 2 * idle.std(0).max()
    for o in onsets:  # the face nods down (pitch > 0) shortly after each burst, not before it
        after = head[o + 4 : o + 30, 1].max() - head[o, 1]
        assert after > 0.5 * hm.NOD_DEG
    assert np.array_equal(hm.head_motion(loud, fps=fps, amount=0.0), np.zeros_like(head))


def test_gaze_fixates_and_jumps():
    from facecraft.audio2face import head_motion as hm

    fps = 60
    eyes = hm.gaze(30 * fps, fps=fps, seed=1)
    assert np.array_equal(eyes[:, :3], eyes[:, 3:])  # both eyes together
    speed = np.abs(np.diff(eyes[:, :2], axis=0)).max(1) * fps  # degrees per second
    assert np.mean(speed < 1e-6) > 0.8  # mostly fixating
    assert speed.max() > 100  # saccades are fast
    assert np.abs(eyes[:, 0]).max() <= hm.MAX_GAZE_DEG[0] and np.abs(eyes[:, 1]).max() <= hm.MAX_GAZE_DEG[1]
    assert len(np.unique(np.round(eyes[::fps, 0], 3))) > 5  # many fixations in 30 s


# ---------------------------------------------------------------------- many files in one process
@pytest.fixture
def lines(tmp_path) -> Path:
    folder = tmp_path / "lines"
    folder.mkdir()
    for i in range(2):
        sf.write(folder / f"line{i}.wav", fake_speech(i, repeats=1)[0], 16000)
    (folder / "broken.wav").write_text("not audio\n" * 10)
    (folder / "notes.txt").write_text("not an input")
    return folder


def test_batch_does_the_rest_when_one_fails_and_resumes(tmp_path, lines, tiny_model_dir, capsys, monkeypatch):
    from facecraft.audio2face.model import A2FModel

    loads = []
    real = A2FModel.from_pretrained.__func__
    monkeypatch.setattr(A2FModel, "from_pretrained", classmethod(lambda cls, p: loads.append(p) or real(cls, p)))
    out = tmp_path / "out"
    args = ["animate", str(lines), "-o", f"{out}/", "--weights", str(tiny_model_dir), "--format", "csv"]
    assert main(args) == 1  # a failure is reported in the exit status ...
    assert len(loads) == 1  # ... the model loaded once for all files
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "line0.csv",
        "line1.csv",
        "report.json",
    ]  # ... the rest done
    captured = capsys.readouterr()
    assert "broken.wav" in captured.out and "animate" in captured.err  # failure named; tqdm bar on stderr
    report = json.loads((out / "report.json").read_text())
    assert [Path(f["input"]).name for f in report["failed"]] == ["broken.wav"]
    assert "not a readable audio file" in report["failed"][0]["error"]
    assert len(report["done"]) == 2 and all(d["fps"] == 60 for d in report["done"])
    read_iphone_take(out / "line0.csv")
    stamp = (out / "line0.csv").stat().st_mtime_ns
    assert main(args) == 1  # rerun: finished outputs are skipped, the broken file fails again
    report = json.loads((out / "report.json").read_text())
    assert len(report["skipped"]) == 2 and not report["done"] and (out / "line0.csv").stat().st_mtime_ns == stamp
    assert main([*args, "--overwrite"]) == 1
    assert len(json.loads((out / "report.json").read_text())["done"]) == 2
    sf.write(lines / "pause.wav", np.zeros(8000, np.float32), 16000)  # a silent line: done, with a warning
    assert main(args) == 1
    report = json.loads((out / "report.json").read_text())
    assert [Path(d["input"]).name for d in report["done"]] == ["pause.wav"] and "silent" in report["done"][0]["warning"]
    assert "warning: " in capsys.readouterr().out
    warned = report["done"][0]["warnings"]  # every warning logged for the line, without its name again
    assert len(warned) == 1 and "silent" in warned[0] and not warned[0].startswith(str(lines))
    assert not list(out.glob(".*partial*"))
    # a rerun keeps what was said of the lines it skips, twice over (the silent line's warning was dropped)
    for _ in range(2):
        assert main(args) == 1
        skipped = {Path(e["input"]).name: e for e in json.loads((out / "report.json").read_text())["skipped"]}
        assert "silent" in skipped["pause.wav"]["warning"] and skipped["pause.wav"]["warnings"] == warned
        assert "warning" not in skipped["line0.wav"]


def test_batch_reruns_redo_empty_outputs_and_stop_on_other_settings(tmp_path, lines, tiny_model_dir, capsys):
    out = tmp_path / "out"
    files = [str(lines / "line0.wav"), str(lines / "line1.wav")]
    args = ["animate", *files, "-o", f"{out}/", "--weights", str(tiny_model_dir), "--format", "csv"]
    assert main(args) == 0
    (out / "line1.csv").write_bytes(b"")  # an empty file left by something else is not a finished line
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert [Path(d["input"]).name for d in report["done"]] == ["line1.wav"] and (out / "line1.csv").stat().st_size
    capsys.readouterr()
    assert main([*args, "--emotion", "anger"]) == 1  # other settings into the same folder would mix two takes
    assert "holds animations made with other settings (emotion default, now 'anger')" in capsys.readouterr().err
    assert main([*args, "--emotion", "anger", "--overwrite"]) == 0
    assert main(["animate", *files, "-o", str(out / "line0.csv"), "--weights", str(tiny_model_dir)]) == 1
    assert "is a file" in capsys.readouterr().err


def test_a_rig_no_output_draws_is_said_and_a_bad_one_stops_before_the_work(
    tmp_path, lines, tiny_model_dir, caplog, capsys, monkeypatch
):
    line = str(lines / "line0.wav")
    weights = ["--weights", str(tiny_model_dir)]
    # a missing rig beside an .npz output went by without a word
    assert main(["animate", line, "-o", str(tmp_path / "a.npz"), "--rig", str(tmp_path / "no.glb"), *weights]) == 0
    assert "only .glb output and --video use a rig" in caplog.text
    # ... and beside a .glb it failed only after the line was animated
    monkeypatch.setattr(an, "animate_audio", lambda *a, **k: pytest.fail("animated before the rig was read"))
    assert main(["animate", line, "-o", str(tmp_path / "a.glb"), "--rig", str(tmp_path / "no.glb"), *weights]) == 1
    assert "rig not found" in capsys.readouterr().err


def test_batch_takes_globs_and_file_lists_and_formats(tmp_path, lines, tiny_model_dir):
    out = tmp_path / "g"
    rc = main(["animate", str(lines / "line*.wav"), "-o", str(out), "--weights", str(tiny_model_dir), "--no-head"])
    assert rc == 0 and sorted(p.suffix for p in out.iterdir() if not p.name.startswith(".")) == [
        ".glb",
        ".glb",
        ".json",
    ]  # glb by default
    from facecraft.rigs.exchange import load_animation

    a = load_animation(out / "line0.glb")
    assert a.head_rotation is None or float(np.abs(a.head_rotation).max()) == 0.0  # --no-head: a still head
    out2 = tmp_path / "files"
    files = [str(lines / "line0.wav"), str(lines / "line1.wav")]
    assert main(["animate", *files, "-o", str(out2), "--format", "npz", "--weights", str(tiny_model_dir)]) == 0
    assert sorted(p.name for p in out2.iterdir() if not p.name.startswith(".")) == [
        "line0.npz",
        "line1.npz",
        "report.json",
    ]


def test_batch_and_single_file_errors(tmp_path, lines, tiny_model_dir, capsys):
    other = tmp_path / "other"
    other.mkdir()
    sf.write(other / "line0.wav", fake_speech(5, repeats=1)[0], 16000)
    base = ["--weights", str(tiny_model_dir)]
    assert main(["animate", str(lines / "line0.wav"), str(other / "line0.wav"), "-o", f"{tmp_path}/o/", *base]) == 1
    assert "would both be written" in capsys.readouterr().out  # the second is reported, the first done
    assert [Path(d["input"]) for d in json.loads((tmp_path / "o" / "report.json").read_text())["done"]] == [
        lines / "line0.wav"
    ]
    assert main(["animate", str(tmp_path / "none*.wav"), "-o", f"{tmp_path}/o/", *base]) == 1
    assert "matches no file" in capsys.readouterr().err
    assert main(["animate", str(lines / "line0.wav"), "-o", str(tmp_path / "x.csv"), "--format", "glb", *base]) == 1
    assert "does not match" in capsys.readouterr().err
    assert main(["animate", str(lines), "-o", f"{tmp_path}/v/", "--video", str(tmp_path / "v.mp4"), *base]) == 1


def test_a_line_in_two_formats_is_animated_once_and_the_other_reported(tmp_path, lines, tiny_model_dir, capsys):
    # line1.wav beside line1.mp3 stopped the whole folder before any work: "... would both be written to line1.glb"
    import subprocess

    from facecraft.rigs.video import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(lines / "line0.wav"), str(lines / "line1.mp3")], check=True)
    out = tmp_path / "out"
    assert main(["animate", str(lines), "-o", f"{out}/", "--format", "npz", "--weights", str(tiny_model_dir)]) == 1
    report = json.loads((out / "report.json").read_text())
    assert [Path(d["input"]).name for d in report["done"]] == ["line0.wav", "line1.wav"]  # the lossless one
    assert {Path(f["input"]).name for f in report["failed"]} == {"broken.wav", "line1.mp3"}
    clash = next(f for f in report["failed"] if f["input"].endswith("line1.mp3"))
    assert "line1.wav" in clash["error"] and "line1.npz" in clash["error"]
    assert "failed 2" in capsys.readouterr().out


def test_a_failed_line_names_its_file_once(tmp_path, lines, tiny_model_dir, capsys):
    # "failed: lines/broken.wav: FileFormatError: lines/broken.wav: not a readable audio file ..."
    out = tmp_path / "out"
    assert main(["animate", str(lines), "-o", f"{out}/", "--format", "npz", "--weights", str(tiny_model_dir)]) == 1
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].count("broken.wav") == 1 and "not a readable audio file" in failed[0]
    assert json.loads((out / "report.json").read_text())["failed"][0]["error"].startswith("FileFormatError: not a")


def test_a_batch_into_a_file_name_is_refused(tmp_path, lines, tiny_model_dir, capsys):
    # `animate lines/ -o takes.csv` made a folder takes.csv/ of .glb files
    out = tmp_path / "takes.csv"
    assert main(["animate", str(lines), "-o", str(out), "--weights", str(tiny_model_dir)]) == 1
    assert "names a .csv file" in capsys.readouterr().err and not out.exists()
    assert main(["animate", str(lines), "-o", f"{out}/", "--weights", str(tiny_model_dir)]) == 1  # a folder, asked
    assert (out / "line0.glb").is_file()


def test_batch_log_lines_are_not_written_into_the_progress_bar(tmp_path, lines, tiny_model_dir, capsys):
    # "animate:  20%|██  | 4/20 [00:00<00:01, 11.36file/s]ERROR facecraft.audio2face.batch: lines/empty.wav: ..."
    import logging

    handler = logging.StreamHandler(sys.stderr)  # as `facecraft`'s basicConfig sets it up
    logging.getLogger().addHandler(handler)
    try:
        main(["animate", str(lines), "-o", f"{tmp_path}/out/", "--format", "npz", "--weights", str(tiny_model_dir)])
    finally:
        logging.getLogger().removeHandler(handler)
    pieces = re.split(r"[\r\n]", capsys.readouterr().err)
    said = [p for p in pieces if "broken.wav" in p]
    assert said and all(p.startswith(str(lines / "broken.wav")) for p in said), said


def test_a_folder_says_which_sub_folders_it_left_out(tmp_path, lines, caplog):
    # lines/extra/line9.wav was left out of `animate lines/` without a word (a folder is read one level deep)
    from facecraft.audio2face.batch import expand_inputs

    (lines / "extra").mkdir()
    (lines / "extra" / "line9.wav").write_bytes((lines / "line0.wav").read_bytes())
    (lines / "empty").mkdir()
    with caplog.at_level("WARNING", logger="facecraft.audio2face.batch"):
        assert [p.name for p in expand_inputs([lines])] == ["broken.wav", "line0.wav", "line1.wav"]
    said = [r.getMessage() for r in caplog.records if "sub-folder" in r.getMessage()]
    assert len(said) == 1 and "(extra)" in said[0] and "**" in said[0]


def test_one_file_named_twice_is_animated_once(tmp_path, lines, tiny_model_dir, monkeypatch):
    # `lines/*.wav /abs/lines/line0.wav` stopped the whole batch: "... would both be written to out/line0.glb"
    monkeypatch.chdir(lines.parent)
    out = tmp_path / "twice"
    args = [f"{lines.name}/line*.wav", str(lines / "line0.wav"), f"./{lines.name}/line1.wav"]
    assert main(["animate", *args, "-o", str(out), "--format", "json", "--weights", str(tiny_model_dir)]) == 0
    done = json.loads((out / "report.json").read_text())["done"]
    assert [d["input"] for d in done] == [f"{lines.name}/line0.wav", f"{lines.name}/line1.wav"]


def test_a_folder_of_videos_is_animated_from_their_sound(tmp_path, lines, tiny_model_dir, caplog):
    # a single take.mp4 was animated (load_audio reads a video's sound through ffmpeg) but a folder left out .mp4,
    # .mov, .mkv, .m4v and .avi files without a word: "folder holds no audio files", or only its .wav lines done
    import subprocess

    from facecraft.rigs.video import ffmpeg_exe

    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a.mp4", "b.mov", "c.mkv", "d.m4v", "e.avi", "line0.mov"):
        sound, picture = "sine=frequency=220:duration=1", "color=c=gray:s=32x32:d=1"
        cmd = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", sound, "-f", "lavfi", "-i", picture, "-shortest"]
        subprocess.run([*cmd, "-ac", "1", str(clips / name)], check=True)
    (clips / "line0.wav").write_bytes((lines / "line0.wav").read_bytes())  # the sound taken from line0.mov
    out = tmp_path / "out"
    with caplog.at_level("WARNING", logger="facecraft.audio2face.batch"):
        rc = main(["animate", str(clips), "-o", f"{out}/", "--format", "npz", "--weights", str(tiny_model_dir)])
    assert rc == 0
    done = json.loads((out / "report.json").read_text())["done"]
    assert [Path(d["input"]).name for d in done] == ["a.mp4", "b.mov", "c.mkv", "d.m4v", "e.avi", "line0.wav"]
    assert all(d["frames"] >= 30 for d in done[:5])
    # line0.mov and line0.wav would both be written to line0.npz: the video is left out, and that is said
    assert any("line0.mov" in r.message and "left out" in r.message for r in caplog.records)


def test_a_file_named_with_glob_characters_is_one_file(tmp_path, lines, tiny_model_dir, capsys):
    # `take[1].wav -o take1.npz` was taken for a pattern: a batch wrote the folder take1.npz/ instead of the file.
    wav = tmp_path / "take[1].wav"
    wav.write_bytes((lines / "line0.wav").read_bytes())
    out = tmp_path / "take1.npz"
    assert main(["animate", str(wav), "-o", str(out), "--weights", str(tiny_model_dir)]) == 0
    assert out.is_file() and "frames at 30 fps" in capsys.readouterr().out


def test_single_file_csv_defaults_to_60_fps_and_fps_overrides(tmp_path, lines, tiny_model_dir, capsys):
    out = tmp_path / "one.csv"
    assert main(["animate", str(lines / "line0.wav"), "-o", str(out), "--weights", str(tiny_model_dir)]) == 0
    assert "at 60 fps" in capsys.readouterr().out and read_iphone_take(out)["rate"] == 60
    assert main(["animate", str(lines / "line0.wav"), "-o", str(out), "--fps", "30", "--weights",
                 str(tiny_model_dir)]) == 0  # fmt: skip
    assert "at 30 fps" in capsys.readouterr().out


def test_a_transcript_the_learned_model_ignores_is_warned_about(tmp_path, lines, tiny_model_dir, caplog):
    # --help said learned mode ignores --transcript; the run said nothing, and the user's transcript went unused
    out = tmp_path / "one.npz"
    args = ["animate", str(lines / "line0.wav"), "-o", str(out), "--weights", str(tiny_model_dir)]
    assert main([*args, "--transcript", "bring me the map"]) == 0
    assert "--transcript is read by --mode procedural only" in caplog.text
    caplog.clear()
    assert main([*args, "--overwrite"]) == 0
    assert "--transcript" not in caplog.text


def test_help_documents_the_rates(capsys):
    with pytest.raises(SystemExit):
        main(["animate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "60 for .csv" in text and "30 otherwise" in text and "--no-head" in text and "--format" in text


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"facecraft {version('facecraft')}"


@pytest.mark.parametrize("stem", ["t" * 246, "é" * 123])  # 250 bytes with ".wav" / ".csv" (é is 2 bytes in UTF-8)
def test_batch_writes_outputs_named_near_the_file_name_limit(tmp_path, tiny_model_dir, stem):
    # the hidden ".{stem}.partial.csv" passed 255 bytes: every such file failed with "File name too long"
    src = tmp_path / "in" / f"{stem}.wav"
    src.parent.mkdir()
    sf.write(src, fake_speech(0, repeats=1)[0], 16000)
    out = tmp_path / "out"
    assert main(["animate", str(src), "-o", f"{out}/", "--weights", str(tiny_model_dir), "--format", "csv"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert not report["failed"] and len(report["done"]) == 1, report
    made = out / f"{stem}.csv"
    assert len(made.name.encode()) == 250
    read_iphone_take(made)
    assert not list(out.glob(".*partial*"))
