"""Talking portraits: frames follow the curves, the video has the sound, streaming equals offline, bad inputs."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT, FaceAnimation, FileFormatError, MissingFileError, NoFaceError
from facecraft.rigs.errors import ParameterError

from .warp_helpers import funnels_painted

SPEECH_TEXT = "Bob bought a map. Papa ate a big plum at noon."
JAW = ARKIT_INDEX["jawOpen"]


@pytest.fixture(scope="module")
def plain_editor():
    """An editor without the perceptual calibration (the talking portrait's default mapping does not use it)."""
    from facecraft.synth.calibration import EditorCalibration
    from facecraft.synth.editor import FaceEditor

    with FaceEditor(calibration=EditorCalibration.identity()) as e:
        yield e


@pytest.fixture(scope="module")
def portrait(astronaut, plain_editor):
    from facecraft.synth.talk_portrait import TalkingPortrait

    return TalkingPortrait(astronaut, editor=plain_editor, size=384)


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    """English speech by espeak-ng, resampled to 16 kHz mono (skips when espeak-ng is missing)."""
    from facecraft.audio2face.audio import load_audio

    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("talk")
    raw = folder / "raw.wav"
    subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(raw), SPEECH_TEXT], check=True, capture_output=True)
    y, sr = load_audio(raw)
    path = folder / "speech.wav"
    sf.write(path, y, sr)
    return path


def _lip_gap(analyzer, frame) -> float:
    """Inner-lip gap (landmarks 13 -> 14) in pixels, read back by MediaPipe."""
    lm = analyzer.largest_face(frame).landmarks
    return float(np.hypot(*(lm[14, :2] - lm[13, :2])))


def test_mouth_follows_jaw_curve(portrait, plain_editor):
    curves = np.zeros((6, NUM_ARKIT), np.float32)
    curves[1::2, JAW] = 0.45  # open, closed, open, ...
    frames = list(portrait.frames(curves, 25))
    assert len(frames) == 6 and all(f.shape == portrait.image.shape and f.dtype == np.uint8 for f in frames)
    gaps = [_lip_gap(plain_editor.analyzer, f) for f in frames]
    still = _lip_gap(plain_editor.analyzer, portrait.image)
    opened, closed = gaps[1::2], gaps[0::2]
    assert min(opened) > max(closed) + 0.04 * portrait.face_width
    assert max(closed) < still + 2.0  # rest frames keep the photo's mouth


def test_background_far_from_face_unchanged(portrait):
    """Outside the head region (and the face warp's reach) every pixel is the photo's, bit for bit."""
    curves = np.zeros((4, NUM_ARKIT), np.float32)
    curves[:, JAW] = [0.1, 0.5, 0.3, 0.6]
    curves[:, ARKIT_INDEX["browInnerUp"]] = 0.5
    loud = np.random.default_rng(0).normal(0, 0.3, 16000).astype(np.float32)  # drives the head motion
    r = portrait.renderer
    x0, y0, x1, y1 = r.head_box
    far = np.ones(portrait.image.shape[:2], bool)
    far[y0:y1, x0:x1] = r.head_weight <= 0
    assert far.mean() > 0.1
    moved = 0
    for frame in portrait.frames(curves, 25, audio=loud):
        assert np.array_equal(frame[far], portrait.image[far])
        moved += int((frame != portrait.image).any(2).sum())
    assert moved > 1000


def test_a_tight_crop_keeps_its_edges_still_while_the_head_moves(astronaut, plain_editor):
    """A photo that is mostly face (a 200 px face chip) lay wholly inside the head region: the whole picture swayed
    with the head, its edge too, mirrored pixels drawn in there. The edge stays the photo's; the face still moves."""
    from facecraft.synth.talk_portrait import TalkingPortrait

    x0, y0, x1, y1 = plain_editor.analyze(astronaut)[0].info.box
    side = int(1.2 * max(x1 - x0, y1 - y0)) // 2 * 2
    left, top = int((x0 + x1 - side) / 2), int((y0 + y1 - side) / 2)
    crop = np.ascontiguousarray(astronaut[max(top, 0) : top + side, max(left, 0) : left + side])
    tight = TalkingPortrait(crop, editor=plain_editor, size=None)
    assert tight.renderer.head_box == (0, 0, crop.shape[1], crop.shape[0])  # the head region holds the whole photo
    edge = np.ones(crop.shape[:2], bool)
    edge[1:-1, 1:-1] = False
    loud = np.random.default_rng(0).normal(0, 0.3, 16000).astype(np.float32)  # drives the head motion
    heads = [head for _, head in tight.motions(np.zeros((8, NUM_ARKIT), np.float32), 25, audio=loud)]
    assert max(abs(h.angle_deg) for h in heads if h is not None) > 0.2  # the head turns
    moved = 0
    for head in heads[1:]:
        frame = tight.render(np.zeros(NUM_ARKIT, np.float32), head)
        assert np.array_equal(frame[edge], crop[edge])
        moved += int((np.abs(frame.astype(int) - crop).max(2) > 8).sum())
    assert moved > 0.05 * crop.shape[0] * crop.shape[1] * (len(heads) - 1)


def test_silence_keeps_the_face_still(portrait):
    from facecraft.synth.talk_portrait import TalkingPortrait

    still = TalkingPortrait.__new__(TalkingPortrait)
    still.__dict__.update(portrait.__dict__)
    still.motion = 0.0
    frames = list(still.frames(np.zeros((3, NUM_ARKIT), np.float32), 25, audio=np.zeros(4000, np.float32)))
    assert all(np.array_equal(f, portrait.image) for f in frames)


def test_rate_converter_matches_resample():
    from facecraft.synth.talk_portrait import _RateConverter

    rng = np.random.default_rng(1)
    curves = rng.uniform(0, 1, (47, NUM_ARKIT)).astype(np.float32)
    want = FaceAnimation(curves, fps=30.0).resample(25.0).curves
    conv = _RateConverter(30.0, 25.0)
    parts = [conv.push(curves[i : i + 5]) for i in range(0, 45, 5)] + [conv.flush(curves[45:])]
    got = np.concatenate(parts)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_seal_bilabials_closes_lips_in_p_b_m():
    from facecraft.audio2face.lip_state import is_sealed
    from facecraft.audio2face.phonetics import Phone
    from facecraft.synth.talk_portrait import seal_bilabials

    curves = np.zeros((25, NUM_ARKIT), np.float32)
    curves[:, JAW] = 0.4
    phones = [Phone(0.0, 0.2, "AA"), Phone(0.2, 0.36, "B"), Phone(0.36, 1.0, "AA")]
    out = seal_bilabials(curves, phones, 25)
    times = np.arange(25) / 25
    inside = (times >= 0.21) & (times <= 0.35)
    assert is_sealed(out[inside]).all()
    assert not is_sealed(out[~inside]).any()
    np.testing.assert_array_equal(out[~inside], curves[~inside])


def test_prosody_motion_is_causal_and_still_in_silence():
    from facecraft.synth.talk_motion import ProsodyMotion

    row = np.zeros(NUM_ARKIT, np.float32)
    quiet, loud = ProsodyMotion(25, 200.0), ProsodyMotion(25, 200.0)
    q = [quiet.step(0.0, row)[0] for _ in range(50)]
    steps = [loud.step(float(k % 10 < 5), row) for k in range(50)]
    assert max(abs(h.angle_deg) for h in q) < 0.3
    assert max(abs(h.angle_deg) for h, _ in steps) > max(abs(h.angle_deg) for h in q)
    assert max(b.max() for _, b in steps) > 0.05  # brows rise with emphasis
    again = ProsodyMotion(25, 200.0)
    assert [again.step(float(k % 10 < 5), row)[0] for k in range(20)] == [h for h, _ in steps[:20]]


def test_rising_pitch_lifts_head_and_brows():
    from facecraft.synth.talk_motion import ProsodyMotion

    row = np.zeros(NUM_ARKIT, np.float32)
    flat, rising = ProsodyMotion(25, 200.0), ProsodyMotion(25, 200.0)
    for k in range(30):
        head_flat, brows_flat = flat.step(0.5, row, 150.0)
        head_up, brows_up = rising.step(0.5, row, 150.0 * 2 ** (k / 36))  # + 10 semitones over 1.2 s
    assert head_up.shift[1] < head_flat.shift[1] - 0.3  # the head rises (image y up)
    assert brows_up.max() > brows_flat.max() + 0.05
    unvoiced, without = ProsodyMotion(25, 200.0), ProsodyMotion(25, 200.0)  # no pitch: loudness alone
    assert [unvoiced.step(0.5, row, 0.0)[0] for _ in range(5)] == [without.step(0.5, row)[0] for _ in range(5)]


def test_frame_pitch_reads_the_voice_causally():
    from facecraft.synth.talk_motion import frame_pitch, pitch_track

    sr = 16000
    t = np.arange(sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 180 * t) + 0.1 * np.sin(2 * np.pi * 360 * t)).astype(np.float32)
    f0 = frame_pitch(y, sr, 25, 10)
    assert abs(f0 - 180) < 9
    later = y.copy()
    later[int(0.4 * sr) :] = 0  # audio after the frame's time (0.4 s) does not matter
    assert frame_pitch(later, sr, 25, 10) == f0
    assert frame_pitch(np.zeros(sr, np.float32), sr, 25, 10) == 0.0
    # the offline batch reads the same windows
    track = pitch_track(y, sr, 25, 30)
    per_frame = [frame_pitch(y, sr, 25, k) for k in range(1, 30, 7)]
    np.testing.assert_allclose(track[1::7], per_frame, rtol=1e-3)
    assert track[29] == 0.0  # past the audio's end: silence


@pytest.mark.parametrize("fps", [25.0, 30.0])
def test_chunked_pitch_reads_the_frames_own_windows(fps):
    """A stream's per-chunk pitch (any first frame, any count) equals each frame's own window, on a glide where
    a window one frame off reads a different pitch."""
    from facecraft.synth.talk_motion import frame_pitch, pitch_frames

    sr = 16000
    t = np.arange(int(1.2 * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * (120 * t + 110 * t**2))).astype(np.float32)  # 120 -> 384 Hz
    per_frame = np.array([frame_pitch(y, sr, fps, k) for k in range(40)])
    chunks = [pitch_frames(y, sr, fps, 0, 1)] + [pitch_frames(y, sr, fps, a, min(3, 40 - a)) for a in range(1, 40, 3)]
    chunked = np.concatenate(chunks)
    np.testing.assert_allclose(chunked, per_frame, rtol=1e-3)
    assert per_frame[5] > 0 and abs(per_frame[30] - per_frame[29]) > 3  # voiced, and gliding frame to frame
    assert pitch_frames(y, sr, fps, 80, 2).tolist() == [0.0, 0.0]  # past the audio's end


def test_stream_equals_offline(portrait, speech_wav, monkeypatch):
    from facecraft.audio2face import stream
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.postprocess import level_speech
    from facecraft.synth.talk_portrait import held_seals, talk_curves

    y, sr = load_audio(speech_wav)
    y = y[: int(1.6 * sr)]
    # a live stream levels the speech by a running estimate of the whole clip's gain (tested in test_quiet_audio);
    # given that gain, its frames are the offline ones
    gain = level_speech(y)[1]
    monkeypatch.setattr(stream, "RunningLevel", lambda: type("Known", (), {"add": lambda self, chunk: gain})())
    offline = list(portrait.frames(talk_curves(y, sr=sr, fps=25), 25, audio=y))
    chunks = [y[i : i + 1234] for i in range(0, len(y), 1234)]
    streamed = list(portrait.stream(chunks, fps=25))
    assert len(streamed) == len(offline) == round(np.ceil(len(y) / sr * 30) / 30 * 25)
    # The stream's model frames agree with offline ones to float precision; the mouth painter's thresholds
    # may flip a few pixels on such differences, so count pixels that differ by more than 3 grey levels.
    off = [(np.abs(a.astype(int) - b) > 3).mean() for a, b in zip(offline, streamed, strict=True)]
    assert max(off) < 1e-3 and np.mean(off) < 1e-4
    # an emotion track streamed shows on the face as offline frames show its codes
    from facecraft.rigs.emotion_space import EmotionTrack

    track = EmotionTrack([{"t": 0, "emotion": "neutral"}, {"t": 1.2, "emotion": "sadness", "intensity": 1}])
    codes = track.codes_at(np.arange(len(offline)) / 25)
    curves = talk_curves(y, sr=sr, fps=25, emotion=track)
    offline = list(portrait.frames(curves, 25, audio=y, emotions=codes))
    streamed = list(portrait.stream(chunks, fps=25, emotion=track))
    off = [(np.abs(a.astype(int) - b) > 3).mean() for a, b in zip(offline, streamed, strict=True)]
    assert max(off) < 1e-3 and np.mean(off) < 1e-4
    moved = list(portrait.motions(curves, 25, audio=y))
    row, head = moved[-1]
    seal = held_seals(np.stack([r for r, _ in moved]))[-1]  # sealed lips stay sealed: the seal reads the frames before
    tinted = portrait.render(row, head, seal=seal)  # the last frame without the track's face (sad: the smile fades)
    assert np.array_equal(offline[-1], portrait.render(row, head, emotion=codes[-1], seal=seal))
    assert (np.abs(offline[-1].astype(int) - tinted) > 3).mean() > 0.005


def test_a_transcript_that_does_not_fit_is_passed_over_as_animate_does(speech_wav, caplog):
    # talk raised "the transcript ... does not fit the speech" where facecraft animate (and the studio's Animate tab)
    # fell back with a warning: talk now passes the words over with the same warning, the curves as without them
    import logging

    from facecraft.audio2face.audio import load_audio
    from facecraft.synth.talk_portrait import _curves_and_fit, talk_curves

    y, sr = load_audio(speech_wav)
    y = y[: int(1.0 * sr)]
    wrong = "Peter Piper picked a peck of pickled peppers. " * 3  # far too many words for a second of speech
    with caplog.at_level(logging.WARNING, logger="facecraft.audio2face.phonetics"):
        curves, fit, phones = _curves_and_fit(y, sr, 25, None, transcript=wrong)
    assert phones == "recognize" and fit is None and "does not fit the speech" in caplog.text
    np.testing.assert_array_equal(curves, talk_curves(y, sr=sr, fps=25))


def test_stream_keeps_a_tongue_behind_the_teeth_out_of_the_frames(portrait, monkeypatch):
    """A model's small tongueOut leak is cleared as offline clears it (it would push the lower lip open)."""
    from facecraft.audio2face import stream
    from facecraft.rigs import ARKIT_INDEX
    from facecraft.rigs.face_parts import TONGUE_SHOWS_AT

    tongue = ARKIT_INDEX["tongueOut"]

    class LeakyAnimator:
        fps = 30.0

        def __init__(self, *a, **k):
            pass

        def push(self, y):
            rows = np.zeros((len(y) // 533, 52), np.float32)
            rows[::2, tongue] = 0.5 * TONGUE_SHOWS_AT  # a leak: the tongue stays behind the teeth
            rows[1::2, tongue] = 1.5 * TONGUE_SHOWS_AT  # shown past the teeth: kept
            return rows

        def flush(self):
            return np.zeros((0, 52), np.float32)

    monkeypatch.setattr(stream, "StreamingAnimator", LeakyAnimator)
    rendered = []
    monkeypatch.setattr(portrait, "render", lambda row, head, **kw: rendered.append(row[tongue]))
    list(portrait.stream([np.full(16000, 0.1, np.float32)], fps=30.0, blink=False))
    assert len(rendered) == 30 and set(np.round(rendered, 6)) == {0.0, round(1.5 * TONGUE_SHOWS_AT, 6)}


def test_cli_writes_video_with_sound(tmp_path, astronaut, speech_wav):
    import imageio.v3 as iio

    from facecraft.rigs.video import probe_video
    from facecraft.synth import talk_cli

    photo = tmp_path / "astronaut.png"
    iio.imwrite(photo, astronaut)
    parser = argparse.ArgumentParser()
    talk_cli.register(parser.add_subparsers())
    out = tmp_path / "talk.mp4"
    args = parser.parse_args(["talk", str(photo), str(speech_wav), "-o", str(out), "--fps", "25", "--size", "256",
                              "--emotion", "happiness:0.5"])  # fmt: skip
    assert args.func(args) == 0
    info = probe_video(out)
    duration = sf.info(speech_wav).duration
    assert info.has_audio and (info.width, info.height) == (256, 256)
    assert abs(info.frames - duration * 25) <= 2


def test_cli_names_the_motion_option_it_refuses(tmp_path, monkeypatch):
    # `--motion 5` failed as "motion: expected a scale in [0, 3]", after the photo was read, not naming the option
    from facecraft.synth import talk_cli, talk_portrait

    photo, speech = tmp_path / "face.png", tmp_path / "line.wav"
    photo.write_bytes(b"png"), speech.write_bytes(b"wav")
    monkeypatch.setattr(talk_portrait, "talk", lambda *a, **k: pytest.fail("talk ran with a refused --motion"))
    parser = argparse.ArgumentParser()
    talk_cli.register(parser.add_subparsers())
    for bad in ("5", "-1", "nan"):
        args = parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "o.mp4"), "--motion", bad])
        with pytest.raises(ParameterError, match=r"^--motion: expected a scale in \[0, 3\]"):
            args.func(args)
    # `--size 7` said "size: expected a frame side of 64..2048 pixels (or None)": the option says 0, not None
    args = parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "o.mp4"), "--size", "7"])
    with pytest.raises(ParameterError, match=r"^--size: expected 64..2048 pixels, or 0 for the photo's own size"):
        args.func(args)


def test_cli_writes_an_output_without_an_ending_as_mp4(tmp_path, monkeypatch, capsys):
    # `facecraft talk PHOTO SPEECH -o out` was refused ("a video is written as .mp4, .m4v, .mov (H.264), got ''")
    from facecraft.synth import talk_cli, talk_portrait

    photo, speech = tmp_path / "face.png", tmp_path / "line.wav"
    photo.write_bytes(b"png"), speech.write_bytes(b"wav")  # only their presence is checked before talk
    written = []

    def talk(photo, audio, out_mp4, **kw):
        written.append(out_mp4)
        return talk_portrait.TalkResult(Path(out_mp4), 25, 25.0, np.zeros((25, 52)))

    monkeypatch.setattr(talk_portrait, "talk", talk)
    parser = argparse.ArgumentParser()
    talk_cli.register(parser.add_subparsers())
    args = parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "out")])
    assert args.func(args) == 0 and written == [tmp_path / "out.mp4"]
    assert f"has no ending: writing the video as {tmp_path / 'out.mp4'}" in capsys.readouterr().out
    with pytest.raises(ParameterError, match="a video is written as"):  # another ending is still refused
        args.func(parser.parse_args(["talk", str(photo), str(speech), "-o", str(tmp_path / "out.gif")]))
    monkeypatch.chdir(tmp_path)  # a name with its ending, spelled with ./, is taken as it is, without a word
    assert args.func(parser.parse_args(["talk", str(photo), str(speech), "-o", "./given.mp4"])) == 0
    assert written[-1] == Path("given.mp4") and "has no ending" not in capsys.readouterr().out


def test_bad_audio_and_arguments(tmp_path, astronaut, portrait):
    from facecraft.synth.talk_portrait import talk

    with pytest.raises(MissingFileError, match="nope.wav"):
        talk(astronaut, tmp_path / "nope.wav", tmp_path / "o.mp4", portrait=portrait)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio at all")
    with pytest.raises(FileFormatError, match="bad.wav"):
        talk(astronaut, bad, tmp_path / "o.mp4", portrait=portrait)
    with pytest.raises(ParameterError, match="fps"):
        talk(astronaut, (np.zeros(1600, np.float32), 16000), tmp_path / "o.mp4", portrait=portrait, fps=24)
    with pytest.raises(ParameterError, match="samples without their sample rate"):  # was a TypeError from pathlib
        talk(astronaut, np.zeros(1600, np.float32), tmp_path / "o.mp4", portrait=portrait)


def test_an_emotion_track_with_keys_after_the_speech_says_so(tmp_path, portrait, caplog):
    # a track timed in milliseconds ("t": 1500) showed its first key's emotion over the whole line without a word
    from facecraft.synth.talk_portrait import talk

    audio = (np.zeros(8000, np.float32), 16000)  # 0.5 s
    track = [{"t": 0, "emotion": "neutral"}, {"t": 0.4, "emotion": "sadness"}, {"t": 1500, "emotion": "happiness"}]
    with caplog.at_level("WARNING", logger="facecraft.synth.talk_portrait"):
        talk(None, audio, tmp_path / "late.mp4", portrait=portrait, emotion_track=track)
        assert "1 of its 3 keys come after the speech ends (0.50 s; the first at 1500 s)" in caplog.text
        caplog.clear()
        talk(None, audio, tmp_path / "in_time.mp4", portrait=portrait, emotion_track=track[:2])
    assert "after the speech ends" not in caplog.text


def test_music_or_noise_is_animated_with_a_warning(tmp_path, portrait, shared_dir, caplog):
    # talk on a song or a hiss moved the mouth with it as if it were speech, without a word: users feed wrong files.
    # It is said, not refused (singing is animated); speech, pauses and all, is animated without a word
    from facecraft.audio2face.audio import load_audio, warn_little_speech
    from facecraft.synth.talk_portrait import talk

    noise = (0.3 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    with caplog.at_level("WARNING", logger="facecraft.audio2face.audio"):
        result = talk(None, (noise, 16000), tmp_path / "noise.mp4", portrait=portrait)
        assert result.path.is_file() and result.num_frames == 25
        assert "audio: little speech in it (0% of its sound reads as speech)" in caplog.text
        caplog.clear()
        for clip in ("arctic_us_aew_a0001.wav", "arctic_us_axb_a0004.wav", "arctic_unknownspk_a0010.wav"):
            warn_little_speech(load_audio(shared_dir / "data" / "speech" / clip)[0], clip)
        warn_little_speech(np.zeros(16000, np.float32), "silence")  # a still face, which the result says
    assert "little speech" not in caplog.text


def test_arguments_are_checked_before_any_work_and_the_inputs_are_never_overwritten(tmp_path, portrait):
    from facecraft.synth.talk_portrait import talk

    def never(*args, **kwargs):
        raise AssertionError("analysed before the arguments were checked")

    audio = (np.zeros(1600, np.float32), 16000)
    clip = tmp_path / "memo.mp4"
    clip.write_bytes(b"a recording")
    with pytest.raises(ParameterError, match="is also an input"):
        talk(clip, clip, clip, portrait=portrait)
    assert clip.read_bytes() == b"a recording"
    (tmp_path / "out.mp4").mkdir()
    for kwargs, message in (
        ({"out_mp4": tmp_path / "out.mp4"}, "is a folder"),
        ({"out_mp4": tmp_path / "o.gif"}, "a video is written as"),
        ({"crf": 60}, "crf"),
        ({"transcript": 123}, "transcript"),
        ({"audio": (np.zeros(1600, np.float32), 0)}, "sample rate"),
    ):
        args = {"out_mp4": tmp_path / "o.mp4", "audio": audio, **kwargs}
        with pytest.raises(ParameterError, match=message):
            talk(never, args.pop("audio"), args.pop("out_mp4"), **args)
    with pytest.raises(ParameterError, match="even"):  # an odd side was padded by a pixel without a word
        talk(never, audio, tmp_path / "o.mp4", size=101)
    with pytest.raises(ParameterError, match="motion"):  # a portrait's motion is its own
        talk(None, audio, tmp_path / "o.mp4", portrait=portrait, motion=0.0)
    stereo = np.stack([np.zeros(16000, np.float32)] * 2, 1)  # (N, 2), as soundfile reads a stereo file
    assert talk(None, (stereo, 16000), tmp_path / "st.mp4", portrait=portrait).num_frames == 25


def test_an_emotion_is_shown_on_the_face_not_only_tinting_the_speech(tmp_path, astronaut, editor, portrait):
    # The astronaut smiles: the speech curves' sadness alone left her grin; edited in, the smile goes.
    from facecraft.synth.talk_portrait import TalkingPortrait, speech_style

    smile = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    sad = TalkingPortrait(astronaut, editor=editor, size=384, emotion="sadness")
    assert portrait.rest_scores[smile].mean() > 0.5 and sad.rest_scores[smile].mean() < 0.25
    # (MediaPipe reads the same raised inner brows 0.26 over a squeezed white line of teeth, 0.21 over shut lips)
    assert sad.rest_scores[ARKIT_INDEX["browInnerUp"]] > portrait.rest_scores[ARKIT_INDEX["browInnerUp"]] + 0.15
    with pytest.raises(ParameterError, match="track"):
        TalkingPortrait(astronaut, editor=editor, emotion=[{"t": 0, "emotion": "anger"}])
    from facecraft.rigs.emotion_space import NUM_CODE_EMOTIONS, parse_emotion

    code = parse_emotion("AU12=0.6,AU26=0.5")
    style = speech_style(code)  # the categories only: the rest is shown on the face
    assert np.allclose(style.vector[:NUM_CODE_EMOTIONS], code.vector[:NUM_CODE_EMOTIONS])
    assert np.abs(code.vector[NUM_CODE_EMOTIONS:]).max() > 0 and np.abs(style.vector[NUM_CODE_EMOTIONS:]).max() == 0


def test_an_emotion_track_is_drawn_as_the_editor_draws_emotions(astronaut, editor):
    # The speech curves carry a track's emotion one to one on the rig: on the photo a faint tint (the smiling
    # astronaut kept her grin under "sadness"). Drawn as the editor draws emotions, the grin goes and the face
    # reads as the still edit reads.
    from facecraft.rigs.emotion_space import EmotionTrack, parse_emotion, region_mask
    from facecraft.synth.talk_portrait import TalkingPortrait, _track_codes

    portrait = TalkingPortrait(astronaut, editor=editor, size=384)
    sad = parse_emotion("sadness:1")
    curves = sad.to_arkit()  # what the speech model gives for a sad voice, without the speech
    still = TalkingPortrait(astronaut, editor=editor, size=384, emotion=sad).image  # the still editor's sadness
    frames = {"tint": portrait.render(curves), "drawn": portrait.render(curves, emotion=sad.vector), "still": still}
    scores = {name: editor.analyze(frame, name=name)[0].info.blendshapes for name, frame in frames.items()}
    smile = [ARKIT_INDEX["mouthSmileLeft"], ARKIT_INDEX["mouthSmileRight"]]
    assert scores["tint"][smile].mean() > 0.5 and scores["drawn"][smile].mean() < 0.3
    expression = region_mask("emotion")
    off = {name: float(np.abs(scores[name] - scores["still"])[expression].mean()) for name in ("tint", "drawn")}
    assert off["drawn"] < 0.5 * off["tint"], off  # reads as the still edit reads (0.016 against 0.126 measured)

    track = EmotionTrack([{"t": 0, "emotion": "neutral"}, {"t": 1, "emotion": "sadness", "intensity": 1}])
    codes = _track_codes(track, 26, 25.0)
    assert codes.shape == (26, 57) and np.allclose(codes[-1], sad.vector, atol=1e-6) and not codes[0].any()
    assert _track_codes(sad, 26, 25.0) is None  # a still emotion is edited into the photo instead
    with pytest.raises(ParameterError, match="one row per curve frame"):
        next(portrait.frames(np.zeros((4, 52)), 25.0, emotions=np.zeros((3, 57))))


def test_silent_audio_gives_still_mouth(tmp_path, portrait):
    from facecraft.rigs.emotion_space import region_mask
    from facecraft.rigs.video import probe_video
    from facecraft.synth.talk_portrait import talk

    result = talk(None, (np.zeros(16000, np.float32), 16000), tmp_path / "s.mp4", portrait=portrait)
    assert result.num_frames == 25 and probe_video(result.path).has_audio
    assert np.abs(result.curves[:, region_mask("full")]).max() == 0  # blinks only
    assert result.silent  # said by the CLI and the studio


def test_photo_errors(astronaut, plain_editor, astronaut_faces_plain):
    from facecraft.synth.talk_portrait import TalkingPortrait

    with pytest.raises(NoFaceError):
        TalkingPortrait(np.full((256, 256, 3), 128, np.uint8), editor=plain_editor)
    two = np.concatenate([astronaut[:300, 100:400], astronaut[:300, 100:400]], axis=1)
    with pytest.raises(NoFaceError, match="--face"):
        TalkingPortrait(two, editor=plain_editor, size=256)
    assert TalkingPortrait(two, editor=plain_editor, size=256, face=1).face_index == 1

    class Turned:  # an analysis that reports a face turned 50 degrees
        calibration = plain_editor.calibration

        def analyze(self, image, *, name="image"):
            f = astronaut_faces_plain[0]
            return [replace(f, info=replace(f.info, pose=np.array([50.0, 0.0, 0.0], np.float32)))]

    with pytest.raises(NoFaceError, match="deg"):
        TalkingPortrait(astronaut, editor=Turned())
    with pytest.raises(ParameterError, match="size"):
        TalkingPortrait(astronaut, editor=plain_editor, size=10)


def test_a_photo_too_large_to_keep_its_size_is_refused_before_its_analysis(tmp_path):
    # --size 0 on a 4000 px photo wrote a 4000 x 4000 H.264 video (level 6: browsers and phones do not play it) at
    # seconds a frame and 1.9 GB, after a 20 s analysis
    from facecraft.synth.talk_portrait import MAX_SIDE, TalkingPortrait

    class Never:
        def analyze(self, image, *, name="image"):
            pytest.fail("the photo was analysed")

    photo = tmp_path / "phone.png"
    cv2.imwrite(str(photo), np.full((MAX_SIDE + 2, 600, 3), 128, np.uint8))
    with pytest.raises(ParameterError, match=rf"phone.png: 600 x {MAX_SIDE + 2} px .*--size 1024"):
        TalkingPortrait(photo, editor=Never(), size=None)


def test_a_photo_of_several_faces_says_where_each_one_is(astronaut, plain_editor):
    # "2 faces found (93, 91 px wide); choose one with --face N": of two faces of about one size the widths did not
    # say which number is which, and a user rendered a video to find out
    import re

    from facecraft.synth.talk_portrait import TalkingPortrait

    crop = astronaut[:300, 100:400]
    two = np.concatenate([crop[:, ::-1], crop], axis=1)  # the same face twice, side by side
    with pytest.raises(NoFaceError) as refused:
        TalkingPortrait(two, editor=plain_editor, size=256, name="pair.png")
    message = str(refused.value)
    said = {int(i): (int(x), int(y)) for i, x, y in re.findall(r"face (\d): \d+ px wide, its box's top left at "
                                                               r"\((\d+), (\d+)\)", message)}  # fmt: skip
    assert sorted(said) == [0, 1] and message.startswith("pair.png: 2 faces found (") and "--face N" in message
    for k, (x, y) in said.items():
        portrait = TalkingPortrait(two, editor=plain_editor, size=256, face=k)
        assert (x < 300) == (portrait.crop[0] < 150)  # the face chosen by that number is the one said to be there
        assert abs(portrait.crop[0] + 150 - x) < 150 and 0 <= y < 300


@pytest.fixture(scope="module")
def astronaut_faces_plain(plain_editor, astronaut):
    return plain_editor.analyze(astronaut, name="astronaut")


def test_seal_lips_meets_without_crossing(portrait):
    from facecraft.synth.mouth_seal import seal_lips

    r = portrait.renderer
    opened = r.targets(np.eye(NUM_ARKIT)[JAW] * 0.5)
    assert opened[14, 1] - opened[13, 1] > 5
    shut = seal_lips(opened, 1.0, r.face_width, r.lip_sides)
    assert abs(shut[14, 1] - shut[13, 1]) < 0.1
    half = seal_lips(opened, 0.5, r.face_width, r.lip_sides)
    assert np.isclose(half[14, 1] - half[13, 1], 0.5 * (opened[14, 1] - opened[13, 1]), atol=0.1)
    from facecraft.rigs.default_rig import LIPS_UPPER_INNER

    crossed = shut.copy()
    crossed[list(LIPS_UPPER_INNER[1:-1]), 1] += 3.0  # the upper inner lip pushed 3 px through the lower one
    met = seal_lips(crossed, 0.0, r.face_width, r.lip_sides)
    assert abs(met[14, 1] - met[13, 1]) < 0.3
    far = np.linalg.norm(r.src - r.src[14], axis=1) > 0.5 * r.face_width
    np.testing.assert_array_equal(shut[far], opened[far])


def _sealed_row() -> np.ndarray:
    """One frame of curves with the lips pressed shut, as the teacher writes /p b m/."""
    from facecraft.audio2face.lip_state import CLOSE, CLOSURE_JAW, CLOSURE_PRESS, CLOSURE_SEAL, PRESS_LEFT, PRESS_RIGHT

    row = np.zeros(NUM_ARKIT, np.float32)
    row[JAW], row[CLOSE] = CLOSURE_JAW, CLOSURE_JAW + CLOSURE_SEAL
    row[[PRESS_LEFT, PRESS_RIGHT]] = CLOSURE_PRESS
    return row


def test_an_emotion_tracks_smile_yields_to_p_b_m(shared_dir, editor):
    # A calibrated smile raises the upper lip off the teeth: drawn on a neutral face, it held the lips 3-4 px
    # apart on every /p b m/ of a happy track until the expression's lip opening yielded to the seal.
    from facecraft.rigs.emotion_space import parse_emotion
    from facecraft.synth.talk_portrait import TalkingPortrait

    portrait = TalkingPortrait(shared_dir / "data" / "faces-frll" / "neutral" / "006.jpg", editor=editor, size=384)
    happy = parse_emotion("happiness:1")
    speaking = portrait.render(happy.to_arkit(), emotion=happy.vector)
    sealed = portrait.render(np.maximum(_sealed_row(), happy.to_arkit()), emotion=happy.vector)
    assert _lip_gap(editor.analyzer, speaking) > 2.0 and _lip_gap(editor.analyzer, sealed) <= 1.0


@pytest.mark.parametrize("photo", ["person_02_1.jpg", "person_10_1.jpg"])
def test_lips_close_over_a_smiles_teeth(photo, shared_dir, plain_editor):
    """A broad smile showing teeth: on a seal MediaPipe reads the lips closed (the inner-lip gap within 1 px),
    and the rows of the mouth between the lips hold no tooth-white pixel."""
    from facecraft.synth.mouth_seal import lip_bands
    from facecraft.synth.talk_portrait import TalkingPortrait

    portrait = TalkingPortrait(shared_dir / "data" / "portraits" / photo, editor=plain_editor, size=512)
    assert _lip_gap(plain_editor.analyzer, portrait.image) > 8
    frame = portrait.render(_sealed_row())
    assert _lip_gap(plain_editor.analyzer, frame) <= 1.0
    b = lip_bands(portrait.renderer.src)
    u = np.linspace(0.3, 0.7, 9) * b.width
    _, up, lo, _ = b.at(u)
    xs, ys = b.to_image(u, 0.5 * (up + lo))  # the middle of the photo's opening: teeth there before
    before = portrait.image[np.round(ys).astype(int), np.round(xs).astype(int)].astype(float)
    after = frame[np.round(ys).astype(int), np.round(xs).astype(int)].astype(float)
    redness = lambda rgb: (rgb[:, 0] - rgb[:, 2]).mean()  # noqa: E731 - teeth are near grey, lips red
    assert redness(after) > redness(before) + 30


def test_bench_talk_quick(tmp_path, shared_dir):
    from facecraft.synth.bench_talk import bench_talk

    report = bench_talk(tmp_path, quick=True)
    s = report["summary"]
    assert s["frames"] > 20 and s["render_fps_median"] > 0 and s["still_editor_ms_median"] > 0
    assert -1 <= s["jaw_pearson_r_median"] <= 1 and 0 <= s["identity_same_share"] <= 1
    assert (tmp_path / "talk_sheet.png").exists() and (tmp_path / "talk_demo.mp4").exists()
    assert (tmp_path / "talk.json").exists()
    # goforward's one /m/ per pair: per-photo figures and a mouth tile for each bilabial
    assert s["bilabials"] == 2 and sum(p["bilabials"] for p in report["photos"].values()) == 2
    assert set(report["photos"]) == {c["photo"] for c in report["clips"]}
    assert (tmp_path / "talk_bilabials.png").exists()
    assert s["jitter_bound_px"] > 0 and s["jitter_still_px_p95"] >= s["jitter_still_px_median"] >= 0
    assert s["jitter_head_only_px_p95"] >= s["jitter_head_only_px_median"] > 0  # the head moves, sub-pixel
    # the image's still points move only as the applied head motion puts them (pixel tracking)
    assert s["jitter_still_pixel_px_p95"] < 0.5 and s["jitter_still_pixel_residual_px_median"] < 0.1
    assert abs(s["jitter_still_pixel_px_median"] - s["jitter_still_applied_px_median"]) < 0.1
    # video mode was read (not left at zero) and smooths: below the frame-by-frame reading
    assert 0 < s["jitter_still_video_px_median"] < s["jitter_still_px_median"]
    # without head motion most still patches are the photo's pixels, yet MediaPipe reads them moving
    assert s["no_head_still_patches_identical"] >= 0.5 and s["jitter_no_head_identical_px_median"] > 0
    assert s["jitter_pixel_within_bound"] is (s["jitter_still_pixel_px_p95"] <= s["jitter_bound_px"]) is True


def test_still_regions_leave_out_the_jaw(astronaut_faces_plain):
    from facecraft.rigs.default_rig import FACE_OVAL
    from facecraft.synth.bench_talk import STILL_POINTS, still_regions

    lm = astronaut_faces_plain[0].info.landmarks
    regions = still_regions(lm)
    assert set(STILL_POINTS) <= set(regions["still"].tolist())
    assert 152 in regions["jaw_outline"] and 152 not in regions["still"]  # the chin
    assert set(regions["still"].tolist()) | set(regions["jaw_outline"].tolist()) >= set(FACE_OVAL)
    assert (lm[regions["jaw_outline"], 1] >= lm[1, 1]).all()


def test_a_talking_portrait_can_keep_its_glasses_on_the_face(plain_editor):
    """The brows that rise with the voice bent a glasses frame; held, it moves with the head only."""
    from facecraft.synth.talk_portrait import TalkingPortrait
    from facecraft.synth.talk_render import HeadMotion

    from .test_glasses_frame import glasses_on_astronaut

    photo, _, drawn = glasses_on_astronaut()
    change = np.zeros(52)
    change[[ARKIT_INDEX["browInnerUp"], ARKIT_INDEX["browOuterUpLeft"], ARKIT_INDEX["browOuterUpRight"]]] = 1.0
    change[JAW] = 0.4
    moved = {}
    for keep in (True, False):
        portrait = TalkingPortrait(photo, editor=plain_editor, size=None, keep_glasses=keep)
        assert portrait.keep_glasses is keep and (portrait.renderer.windows is not None) is keep
        frame = portrait.renderer.render(change).image
        moved[keep] = np.abs(frame.astype(int) - photo.astype(int)).max(axis=2)[drawn]
    assert moved[True].max() <= 3 and moved[False].mean() > 15  # held, the frame stays; else it bends with the brows
    # with the head turned the frame goes with the head: where the frame was, the held render and a render of the
    # head motion alone agree
    held = TalkingPortrait(photo, editor=plain_editor, size=None, keep_glasses=True).renderer
    turn = HeadMotion(angle_deg=3.0)
    both, head_only = held.render(change, turn).image, held.render(np.zeros(52), turn).image
    near = cv2.dilate(drawn.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    frame_now = near & (np.abs(head_only.astype(int) - (25, 20, 20)).max(axis=2) < 12)  # the frame, turned
    assert frame_now.sum() > 0.5 * drawn.sum()
    assert np.abs(both.astype(int) - head_only.astype(int)).max(axis=2)[frame_now].mean() < 3


def test_lips_stay_sealed_through_a_frame_whose_press_wavers(shared_dir, plain_editor):
    """The speech model's lip press wavers while its lips stay shut (pauses, /p b m/): on a photo with parted lips,
    a shut but unpressed frame between two sealed ones showed the photo's open mouth, teeth and all, for one frame
    (aew_a0001's third frame, silent, on person_10_1). It stays sealed; lips that part between two seals still open,
    and a stream seals them as the offline frames do."""
    from facecraft.audio2face.lip_state import PRESS_LEFT, PRESS_RIGHT
    from facecraft.synth.talk_portrait import TalkingPortrait, held_seals

    portrait = TalkingPortrait(
        shared_dir / "data" / "portraits" / "person_10_1.jpg", editor=plain_editor, size=384, motion=0.0
    )
    sealed = _sealed_row()
    unpressed = sealed.copy()
    unpressed[[PRESS_LEFT, PRESS_RIGHT]] = 0.0
    opened = np.zeros(NUM_ARKIT, np.float32)
    opened[JAW] = 0.4
    assert portrait.sealed(unpressed) == 0.0  # a frame on its own reads as unsealed
    np.testing.assert_array_equal(held_seals(np.stack([sealed, unpressed, sealed])), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(held_seals(np.stack([sealed, opened, sealed])), [1.0, 0.0, 1.0])
    wavering = list(portrait.frames(np.stack([sealed, unpressed, sealed]), 25))
    assert _lip_gap(plain_editor.analyzer, wavering[1]) <= 1.0
    parting = list(portrait.frames(np.stack([sealed, opened, sealed]), 25))
    assert _lip_gap(plain_editor.analyzer, parting[1]) > 8
    # one frame late, a stream's frames are those of portrait.frames (here without the model: rows given)
    from facecraft.synth.talk_portrait import _with_seals

    rows = np.stack([sealed, unpressed, opened, sealed, unpressed, sealed])
    got = [s for *_, s in _with_seals((r,) for r in rows)]
    np.testing.assert_array_equal(got, held_seals(rows))


def test_a_grey_photo_talks_in_grey(astronaut, plain_editor):
    """The mouth interior and the lids are painted in colour: a grey photo's talking mouth showed cream teeth in a red
    mouth (FRLL 006 in grey, every open vowel). A grey photo's frames are grey; a colour photo's keep their colour."""
    from facecraft.synth.talk_portrait import TalkingPortrait

    grey = np.repeat(cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    row = np.zeros(NUM_ARKIT, np.float32)
    row[JAW] = 0.4
    row[ARKIT_INDEX["eyeBlinkLeft"]] = 0.6
    spread = {}
    for name, photo in (("grey", grey), ("colour", astronaut)):
        portrait = TalkingPortrait(photo, editor=plain_editor, size=256, motion=0.0)
        frame = portrait.render(row).astype(int)
        moved = np.abs(frame - portrait.image).max(axis=2) > 20
        assert moved.sum() > 100  # the mouth opened
        spread[name] = np.ptp(frame, axis=2)[moved]
    assert spread["grey"].max() == 0
    assert spread["colour"].mean() > 20


def test_a_widened_eye_uncovers_its_iris(astronaut, plain_editor):
    """A raised upper lid uncovers the top of the iris. The renderer gave the lids no iris points, so that band was
    painted white: a grey film over the iris of every widened eye (an anger, fear or surprise track; FRLL 001 with
    eyeWide 1: 111 grey levels there against the photo's iris at 70). It continues the iris, as the still editor."""
    from facecraft.synth.lids import IRIS_POINTS
    from facecraft.synth.talk_portrait import TalkingPortrait

    portrait = TalkingPortrait(astronaut, editor=plain_editor, size=384, motion=0.0)
    row = np.zeros(NUM_ARKIT, np.float32)
    row[[ARKIT_INDEX["eyeWideLeft"], ARKIT_INDEX["eyeWideRight"]]] = 1.0
    luma = portrait.render(row).astype(float).mean(axis=2)
    photo = portrait.image.astype(float).mean(axis=2)
    yy, xx = np.mgrid[: luma.shape[0], : luma.shape[1]]
    for ids in IRIS_POINTS:
        centre = portrait.landmarks[ids[0], :2]
        radius = np.linalg.norm(portrait.landmarks[list(ids[1:]), :2] - centre, axis=1).mean()
        disc = np.hypot(xx - centre[0], yy - centre[1]) < 0.9 * radius
        uncovered = disc & (np.abs(luma - photo) > 20)
        assert uncovered.sum() >= 5  # the lid rose off the iris
        assert luma[uncovered].mean() < photo[disc & ~uncovered].mean() + 20


def test_a_blink_shuts_the_eyes(portrait):
    """The rig's blink moves a lid by the rig's own eye opening: on a photo whose eyes open wider than the fitted
    rig's, a blink curve at 1 left them a third to half open, the iris showing (the astronaut: a third; a 200 px UTKFace
    crop: 20 of 32 px), a squint for a blink. At 1 the upper lid now meets the lower one; at 0.5 the eye is about
    half shut."""
    from facecraft.synth.lids import EYES, eye_frame

    def blink(amount: float) -> np.ndarray:
        row = np.zeros(NUM_ARKIT, np.float32)
        row[[ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = amount
        return row

    grid = np.linspace(0.2, 0.8, 13)
    for amount, least, most in ((1.0, 0.0, 0.1), (0.5, 0.35, 0.65)):
        target = portrait.renderer.targets(portrait.change_for(blink(amount)))
        for up, lo in EYES:
            opening = eye_frame(portrait.renderer.src, up, lo).gap(grid).mean()
            share = eye_frame(target, up, lo).gap(grid).mean() / opening
            assert least <= share <= most, (amount, share)


def test_lips_stay_sealed_through_a_pause_whose_press_wavers_for_several_frames():
    """In a pause the model's lips stay shut while its press wavers over several frames: a photo smiling with its
    teeth showed them on and off through the pause (librivox_0880's first 0.5 s: sealed, 3 frames of teeth, sealed),
    and a video starting in such a pause flashed them on its first frame. Sealed lips stay sealed until they part;
    the first frame is as sealed as the second; a stream seals them as the offline frames do."""
    from facecraft.audio2face.lip_state import PRESS_LEFT, PRESS_RIGHT
    from facecraft.synth.talk_portrait import _with_seals, held_seals

    sealed = _sealed_row()
    unpressed = sealed.copy()
    unpressed[[PRESS_LEFT, PRESS_RIGHT]] = 0.0
    opened = np.zeros(NUM_ARKIT, np.float32)
    opened[JAW] = 0.4
    rows = np.stack([unpressed, sealed, unpressed, unpressed, unpressed, sealed, opened, unpressed, unpressed])
    np.testing.assert_array_equal(held_seals(rows), [1, 1, 1, 1, 1, 1, 0, 0, 0])
    got = [s for *_, s in _with_seals((r,) for r in rows)]
    np.testing.assert_array_equal(got, held_seals(rows))
    np.testing.assert_array_equal(held_seals(np.stack([unpressed, unpressed, sealed])), [0, 0, 1])


@pytest.mark.parametrize("photo", ["person_03_2.jpg", "person_10_1.jpg"])
def test_a_sad_track_opens_the_mouth_on_a_vowel_as_a_neutral_one_does(photo, shared_dir, editor):
    # Sadness is drawn with the chin pushing the lower lip up and the lips meeting under the frown: added to the
    # speech, it held every vowel of a sad track near shut (here 7.7 / 8.6 px against the neutral track's 13.0 / 14.2).
    # That closing yields to the speech's opening; on shut lips the sad mouth keeps it, and on both its frown.
    from facecraft.rigs.emotion_space import parse_emotion
    from facecraft.synth.talk_portrait import TalkingPortrait

    portrait = TalkingPortrait(shared_dir / "data" / "portraits" / photo, editor=editor, size=384)
    vowel = np.zeros(NUM_ARKIT, np.float32)
    vowel[JAW] = 0.35
    vowel[[ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthLowerDownRight"]]] = 0.3
    shut = np.zeros(NUM_ARKIT, np.float32)

    def mouth(row, emotion):
        """Inner-lip gap, and how far the corners sit below the lip centres (px), read back by MediaPipe."""
        lm = editor.analyzer.largest_face(portrait.render(row, emotion=parse_emotion(emotion).vector)).landmarks
        return float(np.hypot(*(lm[14, :2] - lm[13, :2]))), float(lm[[61, 291], 1].mean() - lm[[13, 14], 1].mean())

    sad = {name: mouth(row, "sadness:0.8") for name, row in (("shut", shut), ("vowel", vowel))}
    neutral = mouth(vowel, "neutral:0.8")
    assert sad["vowel"][0] > 0.8 * neutral[0], (sad, neutral)
    assert sad["shut"][0] <= 2.0, sad  # the sad mouth closed, as the still editor draws it
    assert min(sad["shut"][1], sad["vowel"][1]) > neutral[1] + 3.0, (sad, neutral)  # the corners down


@pytest.mark.parametrize(("photo", "emotion"), [("portraits/person_10_1.jpg", "surprise:0.8"),
                                                ("faces-frll/neutral/006.jpg", "anger:0.8")])  # fmt: skip
def test_a_still_emotion_leaves_the_jaw_and_lips_to_the_speech(photo, emotion, shared_dir, editor):
    # A still emotion is edited into the photo before it speaks. Baked in with it, surprise's open jaw held the mouth
    # 25 px open through silence and 6.8 px open on a seal (person_10_1), and anger's pressed, rolled-in lips opened a
    # vowel to 0.71 of the neutral face's (FRLL 006). The edit leaves the jaw and lips to the speech.
    from facecraft.synth.talk_portrait import TalkingPortrait

    path = shared_dir / "data" / photo
    vowel = np.zeros(NUM_ARKIT, np.float32)
    vowel[JAW] = 0.35
    vowel[[ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthLowerDownRight"]]] = 0.3
    neutral = TalkingPortrait(path, editor=editor, size=384)
    moved = TalkingPortrait(path, editor=editor, size=384, emotion=emotion)
    rows = {"silence": np.zeros(NUM_ARKIT, np.float32), "sealed": _sealed_row(), "vowel": vowel}
    gaps = {name: _lip_gap(editor.analyzer, moved.render(row)) for name, row in rows.items()}
    assert gaps["sealed"] <= 1.0 and gaps["silence"] <= 2.0, gaps
    assert gaps["vowel"] > 0.8 * _lip_gap(editor.analyzer, neutral.render(vowel)), gaps


def test_a_jaw_dropped_for_speech_does_not_bare_the_teeth(portrait, monkeypatch):
    # the renderer let the interior painter take every opening for fear's bared teeth: the upper teeth's edges resting
    # on a toothy smile's lower lip went down with it on open vowels, a pale rim under the teeth
    from facecraft.synth import talk_render

    asked = []
    paint = talk_render.paint_mouth_interior

    def spy(*args, **kwargs):
        asked.append(kwargs.get("bared"))
        return paint(*args, **kwargs)

    monkeypatch.setattr(talk_render, "paint_mouth_interior", spy)
    change = np.zeros(NUM_ARKIT)
    change[ARKIT_INDEX["jawOpen"]] = 0.5
    portrait.renderer.render(change)
    assert asked == [False]


def test_both_upper_lids_rise_as_the_rig_asks_under_lowered_brows(portrait, monkeypatch):
    """A widened eye under lowered brows (an anger track) folds the skin between brow and lid: the unfolding pulled an
    upper lid back down, and on FRLL 001 only one eye widened (lid rise 2.4 px and -1.0 px). The lids now keep their
    targets (their middle), in the warp and where the lids are painted; the skin around them takes up the fold."""
    from facecraft.synth import talk_render
    from facecraft.synth.lids import EYES

    painted = {}
    close_lids = talk_render.close_lids

    def spy(warped, image, src, dst, **kwargs):
        painted["dst"] = dst
        return close_lids(warped, image, src, dst, **kwargs)

    monkeypatch.setattr(talk_render, "close_lids", spy)
    change = np.zeros(NUM_ARKIT)
    for side in ("Left", "Right"):
        change[ARKIT_INDEX["browDown" + side]] = 3.0
        change[ARKIT_INDEX["eyeWide" + side]] = 1.0
    renderer = portrait.renderer
    renderer.render(change)
    target = renderer.targets(change)
    for upper, _ in EYES:
        middle = list(upper[2:-2])
        assert (renderer.src[middle, 1] - target[middle, 1]).max() > 1.0  # the rig raises this lid
        assert np.abs(painted["dst"][middle] - target[middle]).max() < 0.05


def test_speech_curves_asking_both_eyes_alike_move_them_alike(portrait):
    # the photo's eyes scored unlike (squint 0.47 / 0.24 on eyes that open alike) took the curve's squint per side:
    # one eye narrowed about twice as much in a track's anger
    from facecraft.synth.talk_portrait import TalkingPortrait

    left, right = ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]
    unlike = TalkingPortrait.__new__(TalkingPortrait)
    unlike.__dict__.update(portrait.__dict__)
    unlike.rest_scores = portrait.rest_scores.copy()
    unlike.rest_scores[[left, right]] = (0.47, 0.24)
    curves = np.zeros(NUM_ARKIT, np.float32)
    curves[[left, right]] = (0.56, 0.55)
    change = unlike.change_for(curves, seal=0.0)
    assert change[left] == pytest.approx(change[right], abs=0.011) and change[left] > 0.15


def test_a_seal_that_starts_on_a_wide_open_photo_draws_no_teeth_into_its_opening(shared_dir, plain_editor):
    """A seal narrows the photo's opening (its jaw yields, the lips close that share of the gap): on a wide-open photo
    a seal of 0.05-0.2 narrowed it past the interior painter's threshold, and a row of drawn teeth and a band of lower
    ones appeared in a mouth showing its tongue, between frames that showed the photo's own opening (UTKFace tuning
    crop 76, arctic_us_aew_a0001 frame 85, a0003 frames 39-40). Its interior is painted as the unsealed frame's."""
    from facecraft.synth.mouth import inner_lip_polygon
    from facecraft.synth.talk_portrait import TalkingPortrait

    photo = shared_dir / "data" / "faces-utk" / "images" / "1_1_0_20170109193717283.jpg.chip.jpg"
    portrait = TalkingPortrait(photo, editor=plain_editor, size=384, motion=0.0)
    inside = np.zeros(portrait.image.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(inner_lip_polygon(portrait.renderer.src)).astype(np.int32)], 1)

    def teeth(img: np.ndarray) -> int:  # pale and near grey (the lips are pale pink)
        rgb = img.astype(float)
        return int(((rgb.mean(axis=2) > 150) & (np.ptp(rgb, axis=2) < 40) & (inside > 0)).sum())

    silence = np.zeros(NUM_ARKIT, np.float32)
    for seal in (0.06, 0.12, 0.2):
        assert teeth(portrait.render(silence, seal=seal)) <= teeth(portrait.image) + 5, seal


@pytest.mark.parametrize("person", ["006", "010"])
def test_a_still_anger_moves_the_lips_as_the_unedited_photos_rig_does(shared_dir, editor, person):
    # The rig fitted to the angry edit explains its lowered brows partly with the mouth's shapes (FRLL calibration
    # 006: a spurious jawOpen and mouthShrugLower at rest, 5% less lip motion per unit of jawOpen): its vowels opened
    # 0.83-0.87 of the neutral portrait's. It moves as the unedited photo's rig, from that rig's rest. MediaPipe reads
    # 006's angry vowel 0.91-0.93 as open (0.926 before 197f156's shorter root fold, 0.911 after, 0.914 with no
    # creases painted at all: its read of this angry face, not the drawn lips), 010's 0.98-1.0; this asked > 0.92
    # of 006 alone.
    from facecraft.synth.talk_portrait import TalkingPortrait

    path = shared_dir / "data" / "faces-frll" / "neutral" / f"{person}.jpg"
    vowel = np.zeros(NUM_ARKIT, np.float32)
    vowel[JAW] = 0.35
    vowel[[ARKIT_INDEX["mouthLowerDownLeft"], ARKIT_INDEX["mouthLowerDownRight"]]] = 0.3
    neutral = _lip_gap(editor.analyzer, TalkingPortrait(path, editor=editor, size=384).render(vowel))
    angry = _lip_gap(editor.analyzer, TalkingPortrait(path, editor=editor, size=384, emotion="anger:0.8").render(vowel))
    assert angry > 0.9 * neutral, (angry, neutral)


def test_an_anger_track_keeps_the_mouth_centred(shared_dir, editor):
    # The calibration's solve for anger's brows and lids also moved the jaw and lips, which anger does not ask for:
    # a track's anger pushed FRLL 006's mouth forward and sideways (jawForward .145, jawRight .044, mouthRight .096).
    from facecraft.rigs.emotion_space import parse_emotion
    from facecraft.synth.talk_portrait import TalkingPortrait

    portrait = TalkingPortrait(shared_dir / "data" / "faces-frll" / "neutral" / "006.jpg", editor=editor, size=384)
    anger = parse_emotion("anger:1")
    change = portrait.expression_change(anger.vector)
    asked = anger.to_arkit()
    for name in ("jawForward", "jawLeft", "jawRight", "mouthLeft", "mouthRight"):
        assert asked[ARKIT_INDEX[name]] == 0 and abs(change[ARKIT_INDEX[name]]) < 0.01, name
    assert change[ARKIT_INDEX["browDownLeft"]] > 1.0 and change[ARKIT_INDEX["browDownRight"]] > 1.0  # still angry


def _gaze_row(yaw: float, pitch: float = 0.0) -> np.ndarray:
    """Curves ``(52,)`` whose eyeLook* channels turn both eyes by ``yaw`` / ``pitch`` degrees (nothing else)."""
    from facecraft.rigs.animation import with_gaze_curves

    rot = np.array([[yaw, pitch, 0.0, yaw, pitch, 0.0]], np.float32)
    return with_gaze_curves(np.zeros((1, NUM_ARKIT), np.float32), rot)[0]


def _eye_boxes(landmarks: np.ndarray, pad: float) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x0, y0, x1, y1)`` around each eye's outline, ``pad`` eye widths wider on every side."""
    from facecraft.synth.lids import EYES

    boxes = []
    for upper, lower in EYES:
        pts = landmarks[list(upper) + list(lower), :2]
        lo, hi = pts.min(0), pts.max(0)
        d = pad * (hi[0] - lo[0])
        boxes.append((int(lo[0] - d), int(lo[1] - d), int(np.ceil(hi[0] + d)) + 1, int(np.ceil(hi[1] + d)) + 1))
    return boxes


def _iris_x(frame: np.ndarray, landmarks: np.ndarray, ids) -> float:
    """The darkness-weighted mean x (the iris and pupil) of a band level with the photo's iris ``ids`` (centre first,
    then the rim; MediaPipe's refined points), 2.5 of its radii to each side."""
    c = landmarks[ids[0], :2]
    r = np.linalg.norm(landmarks[list(ids[1:]), :2] - c, axis=1).mean()
    x0, x1 = int(c[0] - 2.5 * r), int(np.ceil(c[0] + 2.5 * r)) + 1
    y0, y1 = int(c[1] - 0.6 * r), int(np.ceil(c[1] + 0.6 * r)) + 1
    luma = frame[y0:y1, x0:x1].astype(float).mean(axis=2)
    dark = np.clip(np.median(luma) - luma, 0, None)
    return float((dark * np.arange(x0, x1)[None]).sum() / dark.sum())


def test_the_eyes_turn_by_the_curves_gaze_and_nothing_else_changes(portrait):
    """The speech side's saccades (eyeLook* curves) turn a talking portrait's eyes, from where the photo's eyes look:
    the renderer only moved the lids a little by the rig's eyeLook shapes and the iris stayed put, a fixed stare.
    A turn toward the subject's left moves both irises right in the picture; pixels away from the eyes are those of
    the same frame without the turn; every frame of a fixation shows the same pixels (no flicker of the iris)."""
    still = portrait.render(np.zeros(NUM_ARKIT, np.float32))
    left, right = portrait.render(_gaze_row(10.0)), portrait.render(_gaze_row(-10.0))
    from facecraft.synth.lids import IRIS_POINTS

    for ids in IRIS_POINTS:  # the iris moves 2 iris radii x 2 sin(10 deg): 3.1 px at 384 px (the astronaut: 2.0-2.5)
        assert _iris_x(left, portrait.landmarks, ids) - _iris_x(right, portrait.landmarks, ids) > 1.0
    boxes = _eye_boxes(portrait.landmarks, 0.5)
    away = np.ones(still.shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        away[y0:y1, x0:x1] = False
    assert np.array_equal(left[away], still[away]) and np.array_equal(right[away], still[away])
    # a fixation: the same gaze after a blink and another gaze draws the same pixels
    blink = _gaze_row(10.0)
    blink[[ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]]] = 0.6
    for between in (blink, _gaze_row(-3.0, 2.0), _gaze_row(5.0, -4.0)):
        portrait.render(between)
        assert np.array_equal(portrait.render(_gaze_row(10.0)), left)
    assert np.array_equal(portrait.render(np.zeros(NUM_ARKIT, np.float32)), still)


def test_a_turned_eye_keeps_its_own_iris_under_the_portraits_lids(portrait, monkeypatch):
    """The lids' painter gets the turned eyes' mask (``kept``), as the still editor gives it: where a lid the rig raises
    uncovers the turned iris, its own paint stays (the painter drew a lighter iris with a pupil over it)."""
    from facecraft.synth import talk_render

    seen = []

    def close_lids(*args, kept=None, **kw):
        seen.append(kept)
        return real(*args, kept=kept, **kw)

    real = talk_render.close_lids
    monkeypatch.setattr(talk_render, "close_lids", close_lids)
    portrait.render(_gaze_row(0.0, -15.0))
    assert seen and seen[-1] is not None and seen[-1].max() > 0
    eyes = portrait.renderer.eyes(portrait.change_for(_gaze_row(0.0, -15.0)))
    assert eyes is not None and np.array_equal(seen[-1], eyes.mask)
    seen.clear()
    portrait.render(np.zeros(NUM_ARKIT, np.float32))  # no turn, nothing kept (a still face may skip the lids)
    assert all(kept is None for kept in seen)


def test_without_gaze_the_eyes_stay_as_the_photo_has_them(tmp_path, astronaut, plain_editor, monkeypatch):
    """``gaze=False`` (``--no-gaze``): no saccades in the curves, and curves that carry eyeLook* (another tool's) do not
    turn the eyes; talk() asks the speech side for its saccades only with gaze."""
    from facecraft.synth import talk_portrait
    from facecraft.synth.gaze import GAZE
    from facecraft.synth.talk_portrait import TalkingPortrait

    fixed = TalkingPortrait(astronaut, editor=plain_editor, size=256, motion=0.0, gaze=False)
    assert fixed.renderer.eyes(fixed.change_for(_gaze_row(10.0))) is None
    assert not np.any(fixed.change_for(_gaze_row(10.0))[GAZE])  # nor move the lids, as if the eyes had turned
    asked = []

    def curves(y, sr, fps, emo, *rest, gaze=True, **kw):
        asked.append(gaze)
        return np.zeros((len(y) * 25 // sr, NUM_ARKIT), np.float32), None, None

    monkeypatch.setattr(talk_portrait, "_curves_and_fit", curves)
    monkeypatch.setattr("facecraft.rigs.video.write_mp4", lambda frames, path, **kw: [*frames] and path)
    y = (0.1 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    talk_portrait.talk(None, (y, 16000), tmp_path / "unused.mp4", portrait=fixed)
    with pytest.raises(ParameterError, match="gaze: the portrait was made with gaze=False"):
        talk_portrait.talk(None, (y, 16000), tmp_path / "unused.mp4", portrait=fixed, gaze=True)
    assert asked == [False]


def test_the_speech_sides_saccades_drive_the_eyes(portrait, speech_wav, monkeypatch):
    """talk_curves carries the speech side's fixations and saccades (head_motion.gaze, written into eyeLook*) and a
    stream renders the same ones: the curves were made without gaze, and a streamed face stared."""
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.head_motion import gaze
    from facecraft.rigs.animation import eye_rotation_from_curves
    from facecraft.synth.talk_portrait import TalkingPortrait, talk_curves

    y, sr = load_audio(speech_wav)
    y = y[: int(2.0 * sr)]
    curves = talk_curves(y, sr=sr, fps=25)
    expected = gaze(len(curves), fps=25)
    assert np.abs(expected).max() > 0.5  # a saccade within the clip (seed 0: the first after 1 s)
    np.testing.assert_allclose(eye_rotation_from_curves(curves), expected, atol=1e-3)
    rows = []
    monkeypatch.setattr(TalkingPortrait, "render", lambda self, row, *a, **k: rows.append(row))
    list(portrait.stream([y[i : i + 1600] for i in range(0, len(y), 1600)], fps=25))
    assert len(rows) == len(curves)
    np.testing.assert_allclose(eye_rotation_from_curves(np.array(rows)), expected, atol=1e-3)


def test_a_funnelled_oo_is_laid_out_and_painted_as_the_still_editor_does(portrait, monkeypatch):
    # the renderer drew the rig's own funnel: a wide box with both rows of teeth bare, the corners hardly coming in;
    # the still editor lays the lips out as a rounded "O" (funnel_motion) and paints its opening dark
    from facecraft.synth import talk_render
    from facecraft.synth.mouth_shapes import FUNNEL_FULL, FUNNEL_NARROW, SPEECH_FUNNEL_MOST

    asked = funnels_painted(monkeypatch, talk_render)
    r = portrait.renderer
    change = np.zeros(NUM_ARKIT)
    change[ARKIT_INDEX["mouthFunnel"]] = FUNNEL_FULL
    r.render(change)
    assert asked == [pytest.approx(SPEECH_FUNNEL_MOST)]  # speech's scale (mouth_shapes.speech_funnel_amount)
    width = lambda points: float(np.linalg.norm(points[291] - points[61]))  # noqa: E731
    assert width(r.targets(change)) < (1.0 - 0.8 * SPEECH_FUNNEL_MOST * FUNNEL_NARROW) * width(r.src)
    # a jaw opened as wide as an open vowel's keeps the rig's shape (speech_funnel_amount fades it): nothing darker
    change[JAW] = 0.6
    asked.clear()
    r.render(change)
    assert asked == [0.0]
