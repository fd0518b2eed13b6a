"""Inference end to end: every output type, emotions, silent / corrupt / non-audio inputs, long-file blocks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))

from facecraft.audio2face import animate as an  # noqa: E402
from facecraft.rigs import ARKIT_INDEX  # noqa: E402
from facecraft.rigs.errors import FacecraftError, MissingFileError, ParameterError  # noqa: E402


@pytest.mark.parametrize("ext", ["npz", "json", "csv", "glb"])
def test_each_output_type(tmp_path, fake_wav, tiny_model_dir, ext):
    from facecraft.rigs.exchange import load_animation

    out = tmp_path / f"take.{ext}"
    anim = an.animate_file(fake_wav, out, weights=tiny_model_dir, emotion="anger:0.7")
    assert out.exists() and out.stat().st_size > 0
    assert anim.num_frames == int(np.ceil(sf.info(fake_wav).duration * 30 - 1e-9))
    back = load_animation(out)
    assert back.num_frames == anim.num_frames
    assert np.abs(back.curves - anim.curves).max() < 2e-3
    if ext == "json":
        data = json.loads(out.read_text())
        assert "mouth_cues" in json.dumps(data) or "mouthCues" in json.dumps(data)


def test_fps_emotion_track_and_blinks(tmp_path, fake_wav, tiny_model_dir):
    track = tmp_path / "track.json"
    track.write_text(json.dumps([{"t": 0, "emotion": "happiness", "intensity": 0.5}, {"t": 1, "emotion": "sadness"}]))
    a = an.animate_file(fake_wav, tmp_path / "a.npz", weights=tiny_model_dir, emotion_track=track, fps=60, blink=True)
    assert a.fps == 60 and a.num_frames == pytest.approx(sf.info(fake_wav).duration * 60, abs=2)
    b = an.animate_file(fake_wav, tmp_path / "b.npz", weights=tiny_model_dir, fps=60, blink=False)
    assert not np.allclose(a.curves, b.curves)
    with pytest.raises(ParameterError):
        an.animate_file(fake_wav, tmp_path / "c.npz", weights=tiny_model_dir, emotion="anger", emotion_track=track)
    with pytest.raises(ParameterError, match="mode"):
        an.animate_file(fake_wav, tmp_path / "c.npz", weights=tiny_model_dir, mode="magic")


def test_silent_file_gives_neutral_face(tmp_path, tiny_model_dir):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros(16000 * 2, np.float32), 16000)
    a = an.animate_file(p, tmp_path / "s.npz", weights=tiny_model_dir, blink=False)
    assert a.num_frames == 60 and float(a.curves.max()) == 0.0


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


def test_procedural_mode(tmp_path, espeak_speech):
    a = an.animate_file(espeak_speech.path, tmp_path / "p.npz", mode="procedural", transcript=espeak_speech.text)
    assert a.curves[:, ARKIT_INDEX["jawOpen"]].max() > 0.1


def test_curves_to_mouth_cues():
    c = np.zeros((12, 52), np.float32)
    c[4:8, ARKIT_INDEX["jawOpen"]] = 0.5
    cues = an.curves_to_mouth_cues(c, fps=30.0)
    assert [q["value"] for q in cues] == ["X", "D", "X"]
    assert cues[0]["start"] == 0.0 and cues[-1]["end"] == pytest.approx(12 / 30, abs=1e-3)


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
