"""MP4 writing: frame count, size, fps and pixels read back; audio muxed when given; clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from facecraft.rigs import FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.video import animation_to_mp4, probe_video, read_frames, render_mp4, write_mp4


def _frames(n: int, h: int = 48, w: int = 64):
    """Grey ramps: frame i has value 6 i everywhere, so decoding can be checked frame by frame."""
    for i in range(n):
        yield np.full((h, w, 3), 6 * i, np.uint8)


def test_frames_size_fps_and_pixels_round_trip(tmp_path):
    path = write_mp4(_frames(24), tmp_path / "sub" / "clip.mp4", fps=12, crf=10)
    info = probe_video(path)
    assert (info.frames, info.width, info.height) == (24, 64, 48)
    assert info.fps == pytest.approx(12) and info.seconds == pytest.approx(2.0, abs=0.1)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and not info.has_audio
    decoded = list(read_frames(path))
    assert len(decoded) == 24 and decoded[0].shape == (48, 64, 3)
    means = np.array([f.mean() for f in decoded])
    assert means == pytest.approx(6 * np.arange(24), abs=2.5)


def test_saturated_colours_come_back_and_the_stream_names_its_colour_space(tmp_path):
    """The stream says how its YUV was made (BT.601 matrix, sRGB's primaries and transfer): untagged, browsers
    decode with the 709 matrix and shifted skin by about 7 levels. A decoder that reads the tags gets the colours
    back."""
    import subprocess

    from facecraft.rigs.video import ffmpeg_exe

    colours = np.array([[230, 60, 40], [40, 160, 70], [50, 70, 200], [240, 220, 60]], np.uint8)
    frame = np.repeat(np.repeat(colours[None], 64, axis=0), 64, axis=1)  # four 64 px patches in a row
    path = write_mp4([frame] * 4, tmp_path / "patches.mp4", fps=10)
    stream = subprocess.run([ffmpeg_exe(), "-i", str(path)], capture_output=True, text=True).stderr
    assert "yuv420p(tv, smpte170m/bt709/bt709" in stream
    back = next(iter(read_frames(path))).astype(int)
    centres = back[32, 32::64]
    assert np.abs(centres - colours).max() <= 3


def test_odd_sizes_are_padded_not_rescaled(tmp_path):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (31, 45, 3), dtype=np.uint8)
    frame[:, :, :] = frame.mean(axis=2, keepdims=True).astype(np.uint8)  # grey: no chroma loss
    path = write_mp4([frame] * 3, tmp_path / "odd.mp4", fps=30, crf=0)
    info = probe_video(path)
    assert (info.width, info.height, info.frames) == (46, 32, 3)
    back = next(read_frames(path))
    # the picture is where it was (no scaling): inner pixels match closely
    err = np.abs(back[:31, :45].astype(int) - frame.astype(int))
    assert np.median(err) <= 2


def test_audio_from_samples_is_muxed_and_cut_to_the_frames(tmp_path):
    sr = 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(3 * sr) / sr)
    path = write_mp4(_frames(30), tmp_path / "voice.mp4", fps=30, audio=(tone, sr))
    info = probe_video(path)
    assert info.has_audio and info.audio_codec == "aac"
    assert info.frames == 30 and info.seconds == pytest.approx(1.0, abs=0.1)
    assert not list(tmp_path.glob(".*")), "temporary files were left behind"


def test_short_audio_is_padded_and_the_frames_decide_the_length(tmp_path):
    sr = 16000
    blip = 0.3 * np.sin(2 * np.pi * 440 * np.arange(sr // 10) / sr)  # 0.1 s of sound under 2 s of frames
    info = probe_video(write_mp4(_frames(40), tmp_path / "long.mp4", fps=20, audio=(blip, sr)))
    assert info.has_audio and info.frames == 40 and info.seconds == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize(("sr", "n", "fps"), [(16000, 30, 30.0), (44100, 37, 25.0)])
def test_a_sound_lasting_to_the_last_frame_is_heard_whole(tmp_path, sr, n, fps):
    # -shortest cut the AAC track at its last whole 1024-sample frame before the video's end: the decoded sound
    # ended 40 ms (16 kHz, 30 frames at 30 fps) / 8 ms early, and a last syllable lasting to the end was cut
    from facecraft.audio2face.audio import load_audio

    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(round(n / fps * sr)) / sr)).astype(np.float32)
    path = write_mp4(_frames(n), tmp_path / "tone.mp4", fps=fps, audio=(tone, sr))
    y, rate = load_audio(path)
    expected = len(tone) * rate / sr
    assert abs(len(y) - expected) < 1024 * rate / sr  # within one AAC frame of the sound given
    last = y[int(expected - 0.02 * rate) : int(expected)]  # the sound's last 20 ms
    assert len(last) == int(expected) - int(expected - 0.02 * rate)
    assert np.sqrt(np.mean(last**2)) > 0.5 * np.sqrt(np.mean(tone**2))
    info = probe_video(path)
    assert info.frames == n and info.seconds == pytest.approx(n / fps, abs=0.011)  # the frames decide the length


def test_a_video_path_is_checked_before_any_frame_is_made(tmp_path):
    def frames():
        raise AssertionError("rendered before the path was checked")
        yield

    with pytest.raises(ParameterError, match=r"x\.gif: a video is written as \.mp4"):
        write_mp4(frames(), tmp_path / "x.gif")
    junk = tmp_path / "junk.wav"
    junk.write_text("this is not audio")
    with pytest.raises(FileFormatError, match="junk.wav"):
        write_mp4(frames(), tmp_path / "x.mp4", audio=junk)


def test_a_video_never_replaces_its_input_and_a_failed_run_keeps_the_old_file(tmp_path):
    def frames():
        raise AssertionError("rendered before the path was checked")
        yield

    memo = write_mp4(_frames(4), tmp_path / "memo.mp4", fps=4, audio=(np.zeros(4000, np.float32), 4000))
    kept = memo.read_bytes()
    with pytest.raises(ParameterError, match=r"memo\.mp4: is also an input"):
        write_mp4(frames(), memo, audio=memo)  # the recording's own sound as the output: it was deleted
    (tmp_path / "x.mp4").mkdir()
    with pytest.raises(ParameterError, match="is a folder"):
        write_mp4(frames(), tmp_path / "x.mp4")
    with pytest.raises(ParameterError, match=r"is a folder; give the video file to write \(e\.g\. .*out\.mp4"):
        write_mp4(frames(), tmp_path)  # a folder without an ending: "a video is written as .mp4 ..., got ''"
    (tmp_path / "file").write_text("")
    with pytest.raises(ParameterError, match="is a file"):
        write_mp4(frames(), tmp_path / "file" / "x.mp4")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + b"\0" * 60)  # passes the file check, fails in ffmpeg's mux
    with pytest.raises(FileFormatError):
        write_mp4(_frames(3), memo, audio=junk)
    assert memo.read_bytes() == kept  # written only when complete, over the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "junk.wav", "memo.mp4", "x.mp4"]


def test_ffmpeg_stopping_midway_is_an_error_naming_the_file(tmp_path, monkeypatch):
    # A full disk or a folder ffmpeg cannot write (/proc as root passes the access check): imageio-ffmpeg raises
    # its broken pipe as a plain OSError, which went out of `animate --video` and `talk` as a traceback.
    import imageio_ffmpeg

    def stopped_writer(*args, **kwargs):
        yield
        raise OSError("[Errno 32] Broken pipe\n\nFFMPEG COMMAND:\nffmpeg -y ...")

    monkeypatch.setattr(imageio_ffmpeg, "write_frames", stopped_writer)
    with pytest.raises(
        FileFormatError, match=r"x\.mp4: ffmpeg stopped while writing the video \(\[Errno 32\] Broken pipe\)$"
    ):
        write_mp4(_frames(3), tmp_path / "x.mp4", fps=3)
    assert list(tmp_path.iterdir()) == []


def test_audio_without_a_sound_stream_is_refused_before_rendering(tmp_path):
    # `preview take.csv -o p.mp4 --audio reference.mp4` (a video without sound) rendered every frame, then failed in
    # the mux with "Stream map '' matches no streams".
    def frames():
        raise AssertionError("rendered before the audio was checked")
        yield

    silent = write_mp4(_frames(3), tmp_path / "reference.mp4", fps=3)
    with pytest.raises(FileFormatError, match=r"reference\.mp4: the file holds no audio stream$"):
        write_mp4(frames(), tmp_path / "p.mp4", audio=silent)


def test_audio_from_file(tmp_path):
    sr = 22050
    wav = tmp_path / "speech.wav"
    sf.write(wav, 0.2 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr), sr)
    path = write_mp4(_frames(10), tmp_path / "a.mp4", fps=10, audio=wav)
    assert probe_video(path).audio_codec == "aac"
    assert wav.exists()


def test_bad_input_names_the_file(tmp_path):
    out = tmp_path / "bad.mp4"
    with pytest.raises(ParameterError, match=r"bad\.mp4: no frames"):
        write_mp4([], out)
    with pytest.raises(ParameterError, match=r"bad\.mp4: frame 0 must be uint8"):
        write_mp4([np.zeros((8, 8, 3), np.float32)], out)
    with pytest.raises(ParameterError, match=r"frame 2 has size \(10, 8\)"):
        write_mp4([np.zeros((8, 8, 3), np.uint8)] * 2 + [np.zeros((10, 8, 3), np.uint8)], out)
    with pytest.raises(ParameterError, match="fps"):
        write_mp4(_frames(2), out, fps=0)
    with pytest.raises(ParameterError, match="crf"):
        write_mp4(_frames(2), out, crf=60)
    with pytest.raises(MissingFileError, match="nope.wav"):
        write_mp4(_frames(2), out, audio=tmp_path / "nope.wav")
    with pytest.raises(ParameterError, match="sample rate"):
        write_mp4(_frames(2), out, audio=(np.zeros(100), 0))
    assert not out.exists(), "a failed write must not leave a partial file"


def test_unreadable_audio_fails_cleanly(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_text("this is not audio")
    out = tmp_path / "x.mp4"
    with pytest.raises(FileFormatError, match=r"x\.mp4.*junk\.wav"):
        write_mp4(_frames(5), out, audio=junk)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.wav"]


def test_probe_and_read_errors(tmp_path):
    with pytest.raises(MissingFileError, match="missing.mp4"):
        probe_video(tmp_path / "missing.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    with pytest.raises(FileFormatError, match="notes.mp4"):
        probe_video(text)
    with pytest.raises(FileFormatError, match="notes.mp4"):
        read_frames(text)
    with pytest.raises(MissingFileError, match="missing.mp4"):
        read_frames(tmp_path / "missing.mp4")


def test_rendered_frames_to_video(tmp_path):
    from facecraft.rigs import BlendshapeRig

    verts = np.array([[-0.05, -0.05, 0], [0.05, -0.05, 0], [0, 0.06, 0.02]], np.float32)
    deltas = np.zeros((1, 3, 3), np.float32)
    deltas[0, 2, 1] = -0.04
    rig = BlendshapeRig(verts, deltas, ["jawOpen"], [[0, 1, 2]], name="tri")
    curves = np.zeros((8, 52), np.float32)
    curves[:, 17] = np.linspace(0, 1, 8)
    sr = 16000
    path = render_mp4(rig, curves, tmp_path / "tri.mp4", fps=8, size=64, audio=(np.zeros(2 * sr), sr))
    info = probe_video(path)
    assert info.has_audio and info.seconds == pytest.approx(1.0, abs=0.15)
    assert (info.frames, info.width, info.height) == (8, 64, 64)
    decoded = list(read_frames(path))
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).max() > 50


def test_animation_to_mp4_uses_its_fps_and_head_rotation(tmp_path):
    from facecraft.rigs import BlendshapeRig
    from facecraft.rigs.animation import FaceAnimation
    from facecraft.rigs.render import RigRenderer

    verts = np.array([[-0.05, -0.05, 0], [0.05, -0.05, 0], [0, 0.06, 0.02]], np.float32)
    rig = BlendshapeRig(verts, np.zeros((1, 3, 3), np.float32), ["jawOpen"], [[0, 1, 2]], name="tri")
    yaw = np.c_[np.linspace(0, 60, 6), np.zeros((6, 2))]
    anim = FaceAnimation(np.zeros((6, 52), np.float32), fps=15, head_rotation=yaw)
    path = animation_to_mp4(rig, anim, tmp_path / "anim.mp4", size=64)
    info = probe_video(path)
    assert (info.frames, info.fps) == (6, pytest.approx(15))
    decoded = list(read_frames(path))
    with RigRenderer(rig, size=64) as r:
        expected = list(r.render_animation(anim))
    # the head turns over the clip, and the video shows what the renderer drew
    assert (np.abs(expected[0].astype(int) - expected[-1].astype(int)).max(axis=2) > 20).mean() > 0.05
    for got, want in zip(decoded, expected, strict=True):
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 3


def test_a_rendered_videos_side_must_be_even(tmp_path):
    from facecraft.rigs import load_rig
    from facecraft.rigs.video import render_mp4

    with pytest.raises(ParameterError, match="even"):  # --size 101 was padded to 102 without a word
        render_mp4(load_rig("default"), np.zeros((2, 52), np.float32), tmp_path / "x.mp4", size=101)
    assert not (tmp_path / "x.mp4").exists()


def test_a_sound_stream_starting_late_is_muxed_on_its_files_timeline(tmp_path):
    # A video whose sound track starts 1 s after its picture: load_audio reads it on the file's timeline (1 s of
    # silence, then the sound) and `talk`'s mouth follows those samples, so the mux keeps the 1 s too: the sound
    # and the mouth stay together, and both stay with the source video's picture.
    import subprocess

    from facecraft.audio2face.audio import load_audio
    from facecraft.rigs.video import ffmpeg_exe

    sr = 16000
    wav = tmp_path / "beep.wav"
    t = np.arange(2 * sr) / sr
    sf.write(wav, np.where(t < 0.2, 0.5 * np.sin(2 * np.pi * 440 * t), 0.0), sr)  # a beep at 0 s, then silence
    late = tmp_path / "late.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=s=32x32:d=3", "-itsoffset", "1",
                    "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "aac", str(late)],
                   check=True)  # fmt: skip

    def beep_at(path) -> float:
        y, rate = load_audio(path)
        return float(np.flatnonzero(np.abs(y) > 0.1)[0] / rate)

    assert beep_at(late) == pytest.approx(1.0, abs=0.05)  # the samples the frames are made from
    out = write_mp4(_frames(30), tmp_path / "talk.mp4", fps=10, audio=late)
    assert beep_at(out) == pytest.approx(1.0, abs=0.05)  # was 0.0: the mux dropped the delay the frames keep
    assert probe_video(out).seconds == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("stem", ["t" * 246, "é" * 123])  # 250 bytes with ".mp4" (é is 2 bytes in UTF-8)
def test_an_output_name_near_the_limit_is_written(tmp_path, stem):
    # the hidden part file ".{stem}.part-{pid}.mp4" passed 255 bytes: "File name too long"
    out = tmp_path / f"{stem}.mp4"
    assert len(out.name.encode()) == 250
    sr = 16000
    blip = (0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)
    assert write_mp4(_frames(6), out, fps=12) == out and probe_video(out).frames == 6
    assert write_mp4(_frames(6), out, fps=12, audio=(blip, sr)) == out and probe_video(out).has_audio
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no part file left behind
