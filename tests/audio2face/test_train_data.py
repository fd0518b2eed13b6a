"""Training data: corpus clips, real-capture readers, the feature cache and the input statistics."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_corpus, fake_facegood_dir, fake_speech  # noqa: E402

from facecraft.audio2face import train_data as td  # noqa: E402
from facecraft.audio2face.features import get_features  # noqa: E402
from facecraft.rigs import ARKIT_INDEX, EMOTIONS  # noqa: E402
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError  # noqa: E402


def test_corpus_clips_align_features_and_teacher(tmp_path):
    clips = td.load_corpus_clips(fake_corpus(tmp_path / "c", n_items=2), split="train", kind="logmel", fps=30.0,
                                 progress=False)  # fmt: skip
    assert len(clips) == 2
    for c in clips:
        assert c.teacher.shape[0] == len(EMOTIONS) and c.teacher.shape[1] == len(c.features)
        assert c.features.shape[1] == 80 and c.features.dtype == np.float32
    with pytest.raises(ParameterError, match="fps"):
        td.load_corpus_clips(tmp_path / "c", split="train", kind="logmel", fps=25.0, progress=False)


def test_features_are_cached_when_asked(tmp_path, monkeypatch):
    y, _ = fake_speech(0)
    direct = np.asarray(get_features("logmel", fps=30.0)(y), np.float32)
    monkeypatch.setenv("FACECRAFT_CACHE_DIR", str(tmp_path))
    first = td.compute_features(y, kind="logmel", fps=30.0)
    files = list((tmp_path / "a2f-features").glob("*.npy"))
    assert len(files) == 1 and np.array_equal(first, direct)
    np.save(files[0], np.zeros((2, 3), np.float32))  # a second call reads the file, it does not recompute
    assert td.compute_features(y, kind="logmel", fps=30.0).shape == (2, 3)
    assert td.compute_features(y, kind="logmel", fps=25.0).shape != (2, 3)  # the key includes fps


def test_capture_readers(tmp_path):
    import soundfile as sf

    from facecraft.rigs.animation import FaceAnimation
    from facecraft.rigs.exchange import export_animation

    d = tmp_path / "cap"
    d.mkdir()
    y, _ = fake_speech(0)
    sf.write(d / "take.wav", y, 16000)
    t = int(len(y) / 16000 * 60)
    curves = np.zeros((t, 52), np.float32)
    curves[:, ARKIT_INDEX["jawOpen"]] = np.linspace(0, 1, t)
    export_animation(FaceAnimation(curves, fps=60.0), d / "take.csv")
    np.savez(d / "flame.npz", flame_expression=np.ones((50, 10), np.float32), flame_jaw=np.zeros((50, 3)), fps=25.0,
             emotion="anger")  # fmt: skip
    sf.write(d / "flame.wav", y[:32000], 16000)
    sf.write(d / "lonely.wav", y[:16000], 16000)  # no targets beside it: skipped
    clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    by_id = {c.id: c for c in clips}
    assert set(by_id) == {"take", "flame"}
    take = by_id["take"]
    assert take.arkit.shape[1] == 52 and abs(len(take.arkit) - t / 2) <= 2 and take.emotion == "neutral"
    jaw = take.arkit[:, ARKIT_INDEX["jawOpen"]]
    assert np.all(np.diff(jaw) >= -1e-4) and jaw[-1] > 0.9  # the ramp survives resampling to 30 fps
    flame = by_id["flame"]
    assert flame.flame_expression.shape == (60, 10) and flame.flame_jaw.shape == (60, 3)  # 2 s at 30 fps
    assert np.allclose(flame.flame_expression, 1.0) and flame.emotion == "anger"
    (d / "empty").mkdir()
    with pytest.raises(FileFormatError):
        td.load_capture_clips(d / "empty", kind="logmel", fps=30.0)
    with pytest.raises(MissingFileError):
        td.load_capture_clips(d / "missing", kind="logmel", fps=30.0)
    assert {c.id for c in td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("flame",))} == {"take"}
    np.savez(d / "flame.npz", flame_jaw=np.zeros((50, 3)))  # no expression, no fps: that take is reported, skipped
    assert [c.id for c in td.load_capture_clips(d, kind="logmel", fps=30.0)] == ["take"]
    with pytest.raises(FileFormatError, match="no take could be read: flame.npz: .*flame_expression"):
        td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("take",))


def test_facegood_takes_are_masked_and_held_out(tmp_path):
    from facecraft.audio2face import facegood

    def rising_jaw(names):
        w = np.zeros((60, len(names)))
        w[:, names.index("mouth_stretch_c")] = np.linspace(0, 1, 60)
        return w

    d = tmp_path / "fg"
    fake_facegood_dir(d, {"a": rising_jaw, "b": rising_jaw})
    clips = td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("b",))
    assert [c.id for c in clips] == ["a"]
    c = clips[0]
    assert c.arkit.shape == (len(c.features), 52) and np.array_equal(c.arkit_mask, facegood.MASK)
    jaw = c.arkit[:, ARKIT_INDEX["jawOpen"]]
    assert np.all(np.diff(jaw) >= 0) and jaw.max() == pytest.approx(facegood.SCALES["jawOpen"], rel=0.05)
    assert [c.id for c in td.load_capture_clips(d, kind="logmel", fps=60.0)] == ["a", "b"]
    with pytest.raises(FileFormatError, match="FACEGOOD"):
        td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("a", "b"))


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The names of the sound files :func:`facecraft.audio2face.audio.load_audio` decodes during the test."""
    from facecraft.audio2face import audio

    names: list[str] = []
    real_load = audio.load_audio
    monkeypatch.setattr(audio, "load_audio", lambda p, **kw: (names.append(Path(p).name), real_load(p, **kw))[1])
    return names


def test_an_unreadable_facegood_take_is_reported_and_the_rest_load(tmp_path, decoded, caplog):
    # one FACEGOOD take whose wav could not be read (or whose weights file was no .npy) stopped the whole load with
    # that file's error; the take is now reported (file and problem) and skipped, and only a folder where no take
    # loads is an error, listing every take's problem

    def rising_jaw(names):
        w = np.zeros((60, len(names)))
        w[:, names.index("mouth_stretch_c")] = np.linspace(0, 1, 60)
        return w

    d = tmp_path / "fg"
    fake_facegood_dir(d, {"a": rising_jaw, "b": rising_jaw, "c": rising_jaw, "d": rising_jaw})
    (d / "b.wav").write_bytes(b"RIFF but no audio" * 32)
    (d / "c.wav").write_bytes(b"")
    (d / "bs_value_d.npy").write_bytes(b"\x93NUMPY broken")
    with caplog.at_level("WARNING", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["a"] and clips[0].arkit.shape == (len(clips[0].features), 52)
    assert "d.wav" not in decoded  # a take whose curves cannot be read is not decoded
    messages = [r.getMessage() for r in caplog.records]
    for name, problem in (("b.wav", "not a readable audio file"), ("c.wav", "empty"),
                          ("bs_value_d.npy", "not a readable .npy")):  # fmt: skip
        said = [m for m in messages if name in m]
        assert len(said) == 1 and "skipped" in said[0] and problem in said[0], (name, messages)
    with pytest.raises(FileFormatError, match=r"no FACEGOOD take could be read: b\.wav: .*c\.wav: .*bs_value_d\.npy"):
        td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("a",))


def test_feature_stats_are_mean_and_floored_std():
    a = np.array([[0.0, 1.0], [2.0, 1.0]], np.float32)
    b = np.array([[4.0, 1.0]], np.float32)
    mean, std = td.feature_stats([td.Clip("a", a), td.Clip("b", b)])
    assert mean == pytest.approx([2.0, 1.0]) and std == pytest.approx([np.std([0, 2, 4]) + 1e-3, 1e-3])


def test_capture_folders_list_every_audio_ending(tmp_path):
    # capture folders were listed by a literal of their own (.wav .flac .ogg .mp3): a take.m4a or take.opus beside
    # its take.csv was passed over; they are listed by batch.SOUND_ONLY_SUFFIXES, the audio endings of the one list
    import subprocess

    import imageio_ffmpeg
    import soundfile as sf

    from facecraft.audio2face.batch import AUDIO_SUFFIXES, SOUND_ONLY_SUFFIXES, VIDEO_SUFFIXES
    from facecraft.rigs.animation import FaceAnimation
    from facecraft.rigs.exchange import export_animation

    assert set(AUDIO_SUFFIXES) == set(SOUND_ONLY_SUFFIXES) | set(VIDEO_SUFFIXES)
    assert not set(SOUND_ONLY_SUFFIXES) & set(VIDEO_SUFFIXES)
    d = tmp_path / "cap"
    d.mkdir()
    y, _ = fake_speech(0)
    sf.write(tmp_path / "src.wav", y, 16000)
    t = int(len(y) / 16000 * 60)
    for name in ("take.m4a", "line.opus"):
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "src.wav"),
                        str(d / name)], check=True)  # fmt: skip
        export_animation(FaceAnimation(np.zeros((t, 52), np.float32), fps=60.0), (d / name).with_suffix(".csv"))
    clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["line", "take"]
    assert all(abs(len(c.arkit) - t / 2) <= 2 for c in clips)


def _llf_take(folder: Path, name: str, *, seconds: float = 2.0, fps: float = 60.0) -> int:
    """A take ``name`` (e.g. take.mov, a video with sound, or take.wav) made by ffmpeg, with an LLF take.csv of zeros
    beside it; returns the curves' frame count."""
    import subprocess

    import imageio_ffmpeg

    from facecraft.audio2face.batch import VIDEO_SUFFIXES
    from facecraft.rigs.animation import FaceAnimation
    from facecraft.rigs.exchange import export_animation

    picture = ["-f", "lavfi", "-i", f"color=s=32x32:d={seconds}"] if Path(name).suffix in VIDEO_SUFFIXES else []
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *picture, "-f", "lavfi", "-i",
                    f"sine=f=220:d={seconds}", "-shortest", str(folder / name)], check=True)  # fmt: skip
    t = int(seconds * fps)
    export_animation(FaceAnimation(np.zeros((t, 52), np.float32), fps=fps), (folder / name).with_suffix(".csv"))
    return t


def test_live_link_face_take_mov_is_heard_through_its_video(tmp_path):
    # Live Link Face exports take.mov (video with sound) + take.csv; capture folders were listed by the audio endings
    # alone, so such a folder ended in "no capture pairs found (expected take.wav + ...)" without a word about the mov
    d = tmp_path / "llf"
    d.mkdir()
    t = _llf_take(d, "take.mov")
    clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["take"] and abs(len(clips[0].arkit) - t / 2) <= 2
    # the sound taken from the video is the take, the video is not a second one; a video without curves is no take
    _llf_take(d, "take.wav")
    _llf_take(d, "reference.mp4")
    (d / "reference.csv").unlink()
    assert [c.id for c in td.load_capture_clips(d, kind="logmel", fps=30.0)] == ["take"]
    (d / "take.csv").unlink()
    with pytest.raises(FileFormatError, match=r"no capture pairs found \(.*take\.mov"):
        td.load_capture_clips(d, kind="logmel", fps=30.0)


def test_one_take_in_two_files_is_one_clip(tmp_path, caplog):
    # take.wav and take.m4a beside one take.csv gave two clips of id "take" from one curves file (the take trained
    # on twice); the take is read from the first in batch.AUDIO_SUFFIXES order (lossless first), the other named
    from facecraft.audio2face.batch import AUDIO_SUFFIXES, SOUND_ONLY_SUFFIXES, VIDEO_SUFFIXES

    assert SOUND_ONLY_SUFFIXES[:4] == (".wav", ".flac", ".aiff", ".aif")
    assert AUDIO_SUFFIXES == (*SOUND_ONLY_SUFFIXES, *VIDEO_SUFFIXES)
    d = tmp_path / "cap"
    d.mkdir()
    for name in ("take.m4a", "take.wav", "line.mp3", "line.aiff", "llf.mov", "llf.mp4", "own.mov", "own.flac"):
        _llf_take(d, name)
    with caplog.at_level("INFO", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["line", "llf", "own", "take"]
    left_out: dict[str, list[str]] = {"WARNING": [], "INFO": []}
    for r in caplog.records:
        if ": left out" in r.getMessage():
            left_out.setdefault(r.levelname, []).append(Path(r.getMessage().split(": left out")[0].split()[-1]).name)
    # two sound files of one take, or two videos: a warning; a video beside its take's sound file: a note
    assert sorted(left_out["WARNING"]) == ["line.mp3", "llf.mp4", "take.m4a"] and left_out["INFO"] == ["own.mov"]


def test_capture_takes_are_paired_before_decoding_and_unreadable_ones_skipped(tmp_path, decoded, caplog):
    # each audio file was decoded (and its features computed) before its curves were looked for: a long recording
    # without curves was decoded for nothing, and a file that was not audio stopped the whole load

    d = tmp_path / "cap"
    d.mkdir()
    t = _llf_take(d, "take.wav")
    _llf_take(d, "notes.wav")
    (d / "notes.csv").unlink()  # no curves: skipped, never decoded
    _llf_take(d, "broken.wav")
    (d / "broken.wav").write_bytes(b"not audio at all" * 64)  # curves, but no sound to read
    with caplog.at_level("WARNING", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["take"] and abs(len(clips[0].arkit) - t / 2) <= 2
    assert sorted(decoded) == ["broken.wav", "take.wav"]
    skipped = [r.getMessage() for r in caplog.records if "broken.wav" in r.getMessage()]
    assert len(skipped) == 1 and "skipped" in skipped[0] and "not a readable audio file" in skipped[0]
    # no take can be read: the clear error, with the reasons
    (d / "take.wav").write_bytes(b"not audio either" * 64)
    with pytest.raises(FileFormatError, match=r"no capture pairs found .*broken\.wav: .*take\.wav: "):
        td.load_capture_clips(d, kind="logmel", fps=30.0)


def test_a_bad_curves_file_skips_its_take_and_the_rest_load(tmp_path, decoded, caplog):
    # one take.csv that could not be read (not CSV, another tool's columns, empty) or a FLAME npz with the wrong arrays
    # stopped the whole capture load with that file's error; the take is now reported (file and problem) and skipped,
    # without its sound decoded, and only a folder where no take loads is an error, listing every take's problem

    d = tmp_path / "cap"
    d.mkdir()
    t = _llf_take(d, "good.wav")
    bad = {
        "binary": ("binary.csv", b"\xff\xfe\x00 not text" * 20, "not a readable CSV"),
        "columns": ("columns.csv", b"a,b,c\n1,2,3\n", "unknown column"),
        "empty": ("empty.csv", b"", "empty file"),
        "rows": ("rows.csv", (d / "good.csv").read_text().splitlines()[0].encode() + b"\n", "no data rows"),
        "junk": ("junk.npz", b"PK\x03\x04 junk", "not a readable FLAME npz"),
    }
    for stem, (curves, data, _) in bad.items():
        (d / f"{stem}.wav").write_bytes((d / "good.wav").read_bytes())
        (d / curves).write_bytes(data)
    (d / "shape.wav").write_bytes((d / "good.wav").read_bytes())
    np.savez(d / "shape.npz", flame_expression=np.ones((5, 3)), flame_jaw=np.zeros((4, 3)), fps=30.0)
    bad["shape"] = ("shape.npz", None, r"flame_jaw \(T, 3\)")
    (d / "mood.wav").write_bytes((d / "good.wav").read_bytes())
    np.savez(d / "mood.npz", flame_expression=np.ones((5, 3)), fps=30.0, emotion="grumpy")
    bad["mood"] = ("mood.npz", None, "unknown emotion label 'grumpy'")
    with caplog.at_level("WARNING", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["good"] and abs(len(clips[0].arkit) - t / 2) <= 2
    assert decoded == ["good.wav"]  # a take whose curves cannot be read is not decoded
    messages = [r.getMessage() for r in caplog.records]
    for curves, _, problem in bad.values():
        said = [m for m in messages if curves in m]
        assert len(said) == 1 and "skipped" in said[0], (curves, messages)
        assert re.search(problem, said[0]), (curves, said[0])
    with pytest.raises(FileFormatError, match=r"no take could be read: .*binary\.csv: .*shape\.npz: "):
        td.load_capture_clips(d, kind="logmel", fps=30.0, exclude=("good",))


def test_capture_folders_skip_hidden_files_as_batch_folders_do(tmp_path, caplog):
    # a macOS ._take.wav (AppleDouble, not audio) beside take.wav stopped the load, and a hidden .old.wav with its
    # .old.csv was a take; capture folders are now listed as batch.expand_inputs lists a folder, hidden files left out
    from facecraft.audio2face.batch import expand_inputs

    d = tmp_path / "cap"
    d.mkdir()
    _llf_take(d, "take.wav")
    _llf_take(d, ".old.wav")
    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(4000)
    for name in ("._take.wav", "._take.csv"):
        (d / name).write_bytes(apple_double)
    with caplog.at_level("INFO", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["take"]
    assert [r.getMessage() for r in caplog.records if "/." in r.getMessage()] == []  # no word about hidden files
    assert [p.name for p in expand_inputs([d])] == ["take.wav"]


def test_live_link_face_mov_wins_over_a_video_converted_from_it(tmp_path, caplog):
    # a take in two videos was read from the first in VIDEO_SUFFIXES order, .webm and .mp4 before .mov, so a take.mp4
    # converted (here cut short) beside Live Link Face's own take.mov was the take and the original was left out;
    # .mov, the app's (and the iPhone camera's) own recording, is now first of the videos
    from facecraft.audio2face.batch import VIDEO_SUFFIXES

    d = tmp_path / "llf"
    d.mkdir()
    _llf_take(d, "take.mp4", seconds=1.0)
    _llf_take(d, "take.webm", seconds=1.0)
    t = _llf_take(d, "take.mov", seconds=2.0)
    with caplog.at_level("WARNING", logger="facecraft.audio2face.train_data"):
        clips = td.load_capture_clips(d, kind="logmel", fps=30.0)
    assert [c.id for c in clips] == ["take"] and abs(len(clips[0].arkit) - t / 2) <= 2  # 2 s: read from the .mov
    left_out = sorted(Path(r.getMessage().split(": left out")[0].split()[-1]).name for r in caplog.records)
    assert left_out == ["take.mp4", "take.webm"]
    assert VIDEO_SUFFIXES[0] == ".mov"
