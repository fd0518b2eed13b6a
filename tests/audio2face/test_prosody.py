"""Pitch (CREPE weights in our own module, pyin) and voice activity (Silero, energy)."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face.audio import load_audio
from facecraft.audio2face.prosody import Crepe, pitch, voice_activity
from facecraft.rigs.errors import ParameterError

SR = 16000


def _tone_then_silence(freq: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    tone = 0.4 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 2 * freq * t)
    return np.concatenate([tone, np.zeros(int(SR * seconds))]).astype(np.float32)


@pytest.mark.parametrize("freq", [110.0, 220.0, 330.0])
def test_crepe_finds_the_pitch_of_a_tone(freq):
    track = pitch(_tone_then_silence(freq), fps=50)
    assert track.f0.shape == (100,) and track.fps == 50
    voiced = track.f0[5:45]
    assert np.all(voiced > 0)
    assert abs(12 * np.log2(np.median(voiced) / freq)) < 0.3  # within a third of a semitone
    assert np.all(track.f0[60:] == 0)  # silence is unvoiced


def test_crepe_weights_load_into_our_module():
    model = Crepe.from_asset("tiny")
    assert sum(p.numel() for p in model.parameters()) > 400_000
    assert not model.training
    with pytest.raises(ParameterError, match="capacity"):
        Crepe("huge")


def test_pyin_agrees_with_crepe():
    y = _tone_then_silence(180.0, 0.5)
    a, b = pitch(y, fps=30), pitch(y, fps=30, method="pyin")
    both = (a.f0 > 0) & (b.f0 > 0)
    assert both.sum() >= 8
    assert np.median(np.abs(12 * np.log2(a.f0[both] / b.f0[both]))) < 0.5


def test_vad_on_speech_and_silence(espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    silence = np.zeros(SR, np.float32)
    y = np.concatenate([silence, y, silence])
    v = voice_activity(y, sr, fps=30)
    assert v.shape == (int(np.ceil(len(y) / SR * 30)),)
    assert v[:25].max() < 0.3 and v[-25:].max() < 0.3
    assert v[40:-40].mean() > 0.5
    e = voice_activity(y, sr, fps=30, method="energy")
    assert e[:25].max() == 0 and e[40:-40].mean() > 0.5
    assert not voice_activity(np.zeros(SR, np.float32), fps=30).max() > 0.3


def test_errors():
    with pytest.raises(ParameterError, match="16000"):
        pitch(np.zeros(1000, np.float32), sr=8000)
    with pytest.raises(ParameterError, match="method"):
        voice_activity(np.zeros(1000, np.float32), method="webrtc")
    with pytest.raises(ParameterError, match="empty"):
        voice_activity(np.zeros(0, np.float32))
