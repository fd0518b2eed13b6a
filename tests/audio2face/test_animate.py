"""Inference end to end: every output type, emotions, silent / corrupt / non-audio inputs, long-file blocks."""

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

from facecraft.audio2face import animate as an  # noqa: E402
from facecraft.rigs import ARKIT_INDEX  # noqa: E402
from facecraft.rigs.errors import FacecraftError, MissingFileError, ParameterError  # noqa: E402


@pytest.mark.parametrize("ext", ["npz", "json", "csv", "glb"])
def test_each_output_type(tmp_path, fake_wav, tiny_model_dir, ext):
    from facecraft.rigs.exchange import load_animation

    out = tmp_path / f"take.{ext}"
    anim = an.animate_file(fake_wav, out, weights=tiny_model_dir, emotion="anger:0.7")
    assert out.exists() and out.stat().st_size > 0
    fps = 60 if ext == "csv" else 30  # Live Link Face CSV at the iPhone's rate by default
    assert anim.fps == fps and anim.num_frames == pytest.approx(sf.info(fake_wav).duration * fps, abs=1)
    back = load_animation(out)
    assert back.num_frames == anim.num_frames
    assert np.abs(back.curves - anim.curves).max() < 2e-3
    if ext == "json":
        data = json.loads(out.read_text())
        assert "mouth_cues" in json.dumps(data) or "mouthCues" in json.dumps(data)


def test_fps_emotion_track_and_blinks(tmp_path, fake_wav, tiny_model_dir, caplog):
    track = tmp_path / "track.json"
    track.write_text(json.dumps([{"t": 0, "emotion": "happiness", "intensity": 0.5}, {"t": 1, "emotion": "sadness"}]))
    a = an.animate_file(fake_wav, tmp_path / "a.npz", weights=tiny_model_dir, emotion_track=track, fps=60, blink=True)
    assert a.fps == 60 and a.num_frames == pytest.approx(sf.info(fake_wav).duration * 60, abs=2)
    b = an.animate_file(fake_wav, tmp_path / "b.npz", weights=tiny_model_dir, fps=60, blink=False)
    assert not np.allclose(a.curves, b.curves)
    # the file records the emotion as asked (it was the parsed object's Python repr)
    assert a.meta["emotion"] == str(track) and b.meta["emotion"] is None
    # a track timed in milliseconds is said, as talk says it (its first key's emotion held over the whole line)
    late = [{"t": 0, "emotion": "happiness"}, {"t": 1500, "emotion": "anger"}]
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        an.animate_file(fake_wav, tmp_path / "late.npz", weights=tiny_model_dir, emotion_track=late, blink=False)
    assert "1 of its 2 keys come after the speech ends" in caplog.text and "animation ends before them" in caplog.text
    words = an.animate_file(fake_wav, tmp_path / "w.json", weights=tiny_model_dir, emotion="a shy smile", blink=False)
    assert json.loads((tmp_path / "w.json").read_text())["meta"]["emotion"] == "a shy smile" == words.meta["emotion"]
    with pytest.raises(ParameterError):
        an.animate_file(fake_wav, tmp_path / "c.npz", weights=tiny_model_dir, emotion="anger", emotion_track=track)
    with pytest.raises(ParameterError, match="mode"):
        an.animate_file(fake_wav, tmp_path / "c.npz", weights=tiny_model_dir, mode="magic")


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_silent_file_gives_neutral_face_and_says_so(tmp_path, fake_wav, tiny_model_dir, caplog, mode):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(16000 * 2, np.float32), 16000)
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        a = an.animate_file(p, tmp_path / "s.npz", weights=tiny_model_dir, blink=False, mode=mode)
    assert a.num_frames == 60 and float(a.curves.max()) == 0.0
    assert "silent" in a.meta and any("silent.wav" in r.message and "silent" in r.message for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        speech = an.animate_file(fake_wav, tmp_path / "v.npz", weights=tiny_model_dir, mode=mode)
    assert "silent" not in speech.meta and not caplog.records


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_a_silent_file_long_enough_for_the_block_path_says_so_too(tmp_path, tiny_model_dir, caplog, monkeypatch, mode):
    # an 11-minute silent file (over STREAM_ABOVE_S) gave a neutral face without the warning or meta["silent"],
    # so a batch's report did not list it as silent
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)
    monkeypatch.setattr(an, "BLOCK_S", 1.0)
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(16000 * 2, np.float32), 16000)
    with caplog.at_level("WARNING", logger="facecraft.audio2face.animate"):
        a = an.animate_file(p, tmp_path / "s.npz", weights=tiny_model_dir, blink=False, fps=60, mode=mode)
    assert a.num_frames == 120 and float(a.curves.max()) == 0.0
    assert "silent" in a.meta and any("silent.wav" in r.message and "silent" in r.message for r in caplog.records)


def test_a_long_file_shows_progress_when_asked(tmp_path, fake_wav, tiny_model_dir, monkeypatch, capsys):
    # a one-hour line took a minute on the block path without a word; the command line now asks for a bar
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)
    an.animate_file(fake_wav, tmp_path / "quiet.npz", weights=tiny_model_dir)
    assert "animate" not in capsys.readouterr().err  # a batch has its own bar: none per file
    an.animate_file(fake_wav, tmp_path / "bar.npz", weights=tiny_model_dir, progress=True)
    assert re.search(r"animate: .*\d+/\d+ \[", capsys.readouterr().err)


def test_a_long_file_shows_progress_in_procedural_mode_too(tmp_path, fake_wav, monkeypatch, capsys):
    # procedural mode ran a file over STREAM_ABOVE_S in one pass without a word (about 6 s per minute of audio)
    # where learned mode showed a bar; it now runs the teacher block by block under the same bar
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)
    monkeypatch.setattr(an, "BLOCK_S", 1.0)  # the 2 s clip is two blocks
    quiet = an.animate_file(fake_wav, tmp_path / "quiet.npz", mode="procedural")
    assert "animate" not in capsys.readouterr().err  # a batch has its own bar: none per file
    shown = an.animate_file(fake_wav, tmp_path / "bar.npz", mode="procedural", progress=True)
    assert re.search(r"animate: .*\d+/\d+ \[", capsys.readouterr().err)
    assert shown.meta["block_seconds"] == 1.0 and np.array_equal(shown.curves, quiet.curves)
    duration = sf.info(fake_wav).duration
    assert shown.num_frames == pytest.approx(duration * 30, abs=1)
    assert shown.mouth_cues[-1]["end"] == pytest.approx(duration, abs=0.05)  # cues on the file's clock


@pytest.mark.parametrize(
    "content", [b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)), b"just some text, not audio\n" * 30, b""]
)
def test_corrupt_and_non_audio_inputs_raise_clear_errors(tmp_path, tiny_model_dir, content):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    with pytest.raises(FacecraftError, match="bad.wav"):
        an.animate_file(p, tmp_path / "o.npz", weights=tiny_model_dir)
    with pytest.raises(MissingFileError):
        an.animate_file(tmp_path / "missing.wav", tmp_path / "o.npz", weights=tiny_model_dir)


def test_block_streaming_path_matches_whole_file(tmp_path, fake_wav, tiny_model_dir, monkeypatch):
    whole = an.animate_file(fake_wav, tmp_path / "w.npz", weights=tiny_model_dir, blink=False)
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)  # force the bounded-memory block path
    monkeypatch.setattr(an, "BLOCK_S", 0.7)
    blocks = an.animate_file(fake_wav, tmp_path / "b.npz", weights=tiny_model_dir, blink=False)
    assert blocks.curves.shape == whole.curves.shape
    assert np.abs(blocks.curves - whole.curves).max() < 1e-3


@pytest.mark.parametrize("mode", ["learned", "procedural"])
def test_a_long_files_head_motion_comes_from_the_one_read_that_animates_it(
    tmp_path, fake_wav, tiny_model_dir, monkeypatch, mode
):
    # the block path decoded a long file a second time (file_loudness) only for the head motion's loudness, after
    # the animation had read every block of it; the loudness is now gathered from those blocks. A frame whose window
    # spans two blocks read the louder half alone (head 0.07 degrees off the whole file's at an 11-minute file's
    # block edges); the blocks' energies now add up, so the head moves as the whole file's does
    from facecraft.audio2face import audio
    from facecraft.audio2face.head_motion import frame_loudness
    from facecraft.audio2face.postprocess import level_speech

    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)  # the block path, on a short file
    monkeypatch.setattr(an, "BLOCK_S", 1.0)  # several blocks, whole seconds as the teacher's are
    still = an.animate_file(fake_wav, tmp_path / "still.npz", weights=tiny_model_dir, mode=mode, fps=60,
                            head=False, gaze=False)  # fmt: skip
    # the whole file's loudness, levelled as the animation reads it (animate_audio's)
    levelled = level_speech(audio.load_audio(fake_wav)[0])[0]
    assert len(levelled) > 2 * 16000
    loud = frame_loudness(levelled, 16000, fps=60, num_frames=still.num_frames)
    assert loud.max() > 0.5
    expected = an.add_head_and_gaze(still, loud, seed=3)
    reads = []
    real_blocks, real_load = audio.iter_audio_blocks, audio.load_audio

    def counted_blocks(path, **kw):
        reads.append(("blocks", Path(path).name))
        return real_blocks(path, **kw)

    def counted_load(path, **kw):
        reads.append(("load", Path(path).name))
        return real_load(path, **kw)

    for module in (audio, an):  # animate's own name too, should it read blocks itself again
        monkeypatch.setattr(module, "iter_audio_blocks", counted_blocks, raising=False)
        monkeypatch.setattr(module, "load_audio", counted_load)
    moving = an.animate_file(fake_wav, tmp_path / "moving.npz", weights=tiny_model_dir, mode=mode, fps=60, seed=3)
    # decoded once, for the file's speech level and the animation both (postprocess.LevelledBlocks keeps the samples
    # it decoded for the level; it decoded the file again for the animation)
    assert reads == [("blocks", fake_wav.name)]
    assert np.abs(moving.head_rotation - expected.head_rotation).max() < 1e-5  # degrees
    assert np.array_equal(moving.eye_rotation, expected.eye_rotation)
    assert np.array_equal(moving.curves, expected.curves)
    assert np.abs(moving.head_rotation).max() > 0.1


def test_procedural_mode(tmp_path, espeak_speech):
    a = an.animate_file(espeak_speech.path, tmp_path / "p.npz", mode="procedural", transcript=espeak_speech.text)
    assert a.curves[:, ARKIT_INDEX["jawOpen"]].max() > 0.1


def test_curves_to_mouth_cues():
    c = np.zeros((12, 52), np.float32)
    c[4:8, ARKIT_INDEX["jawOpen"]] = 0.5
    cues = an.curves_to_mouth_cues(c, fps=30.0)
    assert [q["value"] for q in cues] == ["X", "D", "X"]
    assert cues[0]["start"] == 0.0 and cues[-1]["end"] == pytest.approx(12 / 30, abs=1e-3)


def test_mouth_cues_read_consonants_as_slightly_open_and_open_vowels_as_open():
    """A consonant's pose (teeth near together, lips a little apart) reads as Rhubarb's B, not as rest (X) though its
    jaw is nearly shut, nor as open; the open vowel reads D, a quieter mid vowel C; lips together over an open jaw
    are not rest."""
    from facecraft.audio2face.visemes import VISEME_POSES

    def letter(pose):
        c = np.repeat(np.asarray(pose, np.float32)[None], 4, axis=0)
        return an.curves_to_mouth_cues(c, fps=30.0)[0]["value"]

    for v in ("DD", "SS", "nn", "TH", "FF"):
        assert letter(VISEME_POSES[v]) == "B", v
    assert letter(VISEME_POSES["aa"]) == "D"
    assert letter(0.8 * VISEME_POSES["E"]) == "C"
    together = np.zeros(52, np.float32)
    together[ARKIT_INDEX["jawOpen"]] = together[ARKIT_INDEX["mouthClose"]] = 0.06
    assert letter(together) == "B" and letter(np.zeros(52, np.float32)) == "X"


def test_shipped_model_closes_lips_on_bilabials(espeak_speech):
    """The shipped weights on espeak speech it never saw: lips close at /p b m/, open on vowels."""
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.metrics import score_lip_sync
    from facecraft.audio2face.model import DEFAULT_WEIGHTS
    from facecraft.audio2face.phonetics import align_transcript
    from facecraft.rigs.default_rig import default_rig

    assert DEFAULT_WEIGHTS.exists(), "the shipped weights are part of the repository"
    y, sr = load_audio(espeak_speech.path)
    a = an.animate_audio(y, sr=sr, blink=False)
    phones = align_transcript(y, sr, transcript=espeak_speech.text).phones
    s = score_lip_sync(default_rig(), a.curves, phones, fps=30.0)
    assert s.num_bilabials >= 5
    assert s.closure_rate >= 0.6 and s.open_vowel_rate >= 0.5, s


def _emotion_forms(tmp_path, n_frames: int) -> dict:
    """Every documented emotion form (facecraft.rigs.emotion_space.parse_emotion), by name."""
    from facecraft.rigs import EmotionCode, EmotionTrack

    keys = [{"t": 0.0, "emotion": "anger", "intensity": 0.2}, {"t": 1.0, "emotion": "happiness"}]
    track_file = tmp_path / "track.json"
    track_file.write_text(json.dumps(keys))
    return {
        "name:intensity": "anger:0.7",
        "name": "Happy",
        "au text": "AU12=0.6,AU6=0.3",
        "au dict": {"AU12": 0.6, "AU6R": 0.3},
        "arkit text": "mouthSmileLeft=0.5",
        "free text": "a shy smile",
        "code": EmotionCode.from_emotion("sadness", 0.5),
        "code vector": EmotionCode.from_emotion("fear", 0.4).vector,
        "track": EmotionTrack(keys),
        "track keys": keys,
        "track file": str(track_file),
        "per-frame codes": np.repeat(EmotionCode.from_emotion("surprise", 0.6).vector[None], n_frames, axis=0),
    }


def test_learned_mode_accepts_every_emotion_form(tmp_path, tiny_model_dir):
    """The bug: animate_audio(y, emotion="anger:0.7") raised numpy's ValueError in learned mode."""
    from facecraft.audio2face.model import A2FModel
    from facecraft.rigs import EmotionCode, parse_emotion

    y, _ = fake_speech(0)
    model = A2FModel.from_pretrained(tiny_model_dir)
    n = int(np.ceil(len(y) / 16000 * model.config.fps - 1e-9))
    neutral = an.animate_audio(y, weights=model, blink=False).curves
    for name, form in _emotion_forms(tmp_path, n).items():
        got = an.animate_audio(y, emotion=form, weights=model, blink=False).curves
        want = an.animate_audio(y, emotion=parse_emotion(form), weights=model, blink=False).curves
        assert np.array_equal(got, want), name
        assert not np.array_equal(got, neutral), name  # the emotion reached the model
    code = an.animate_audio(y, emotion=EmotionCode.from_emotion("anger", 0.7), weights=model, blink=False).curves
    assert np.array_equal(an.animate_audio(y, emotion="anger:0.7", weights=model, blink=False).curves, code)
    with pytest.raises(ParameterError, match="glee"):
        an.animate_audio(y, emotion="glee:0.5", weights=model)


def test_learned_mode_adds_a_users_own_weights_on_their_side(tiny_model_dir, caplog):
    """The model was trained on emotion categories: what a code asks beyond them (one side's smile, a wink) is
    added to the emotion channels, on the side asked for, at about the weight asked for; speech channels are left
    to the speech, with a notice."""
    from facecraft.audio2face.model import A2FModel

    y, _ = fake_speech(0)
    model = A2FModel.from_pretrained(tiny_model_dir)

    def mean_change(spec):
        base = an.animate_audio(y, weights=model, blink=False).curves
        return (an.animate_audio(y, emotion=spec, weights=model, blink=False).curves - base).mean(axis=0)

    smile = mean_change("mouthSmileLeft=0.8")
    left, right = smile[ARKIT_INDEX["mouthSmileLeft"]], smile[ARKIT_INDEX["mouthSmileRight"]]
    assert left > 0.3 and left - right > 0.3  # the shipped model: +0.74 left, +0.01 right (an untrained one here)
    assert mean_change("eyeBlinkLeft=1")[ARKIT_INDEX["eyeBlinkLeft"]] > 0.8
    with caplog.at_level("WARNING"):
        mean_change("jawOpen=0.3")
    assert "jawOpen left to the speech" in caplog.text


def test_procedural_mode_accepts_every_emotion_form(tmp_path, monkeypatch):
    """Both modes take the same forms (phones are stubbed: the emotion path is what is tested here)."""
    from facecraft.audio2face import phonetics
    from facecraft.audio2face.phonetics import PhoneticResult
    from facecraft.rigs import parse_emotion

    y, phones = fake_speech(0, repeats=1)
    monkeypatch.setattr(phonetics, "speech_phones", lambda *a, **k: PhoneticResult(phones, [], "stub"))
    n = int(np.ceil(len(y) / 16000 * 30 - 1e-9))

    def run(emotion):
        return an.animate_audio(y, emotion=emotion, mode="procedural", blink=False).curves

    neutral = run(None)
    for name, form in _emotion_forms(tmp_path, n).items():
        got = run(form)
        assert np.array_equal(got, run(parse_emotion(form))), name
        assert not np.array_equal(got, neutral), name


def test_animate_file_takes_any_rig_spec(tmp_path, fake_wav, tiny_model_dir, tiny_rig):
    """``--rig`` goes through rigs.load_rig: the .safetensors that ``facecraft rig -o`` writes is accepted, and an
    unknown spec is refused with what is accepted."""
    from facecraft.rigs.exchange import load_gltf_rig

    saved = tiny_rig.save(tmp_path / "tiny.safetensors")
    out = tmp_path / "take.glb"
    an.animate_file(fake_wav, out, weights=tiny_model_dir, rig=saved, blink=False)
    assert load_gltf_rig(out).num_vertices == tiny_rig.num_vertices
    (tmp_path / "notes.txt").write_text("not a rig")
    with pytest.raises(ParameterError, match="safetensors"):
        an.animate_file(fake_wav, tmp_path / "t.glb", weights=tiny_model_dir, rig=tmp_path / "notes.txt")


def test_the_whole_file_path_runs_the_model_on_one_thread(tiny_model_dir, monkeypatch):
    # the whole path ran on every core's thread (2 here): on a busy 2-core machine 3x slower than one (the block path
    # already ran on one, stream.py); the caller's count is given back
    import torch

    from facecraft.audio2face.model import A2FModel

    model = A2FModel.from_pretrained(tiny_model_dir)
    seen = []
    real = type(model).forward
    monkeypatch.setattr(type(model), "forward", lambda self, *a, **k: seen.append(torch.get_num_threads()) or real(
        self, *a, **k))  # fmt: skip
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        an.predict_frames(model, fake_speech(0, repeats=1)[0])
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
