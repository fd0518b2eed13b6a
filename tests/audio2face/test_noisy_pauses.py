"""Pauses over a noise floor: the mouth rests in the pauses of a noisy recording and on noise alone, as it does in
the pauses of a clean one, and still speaks between them."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from facecraft.audio2face import animate as an
from facecraft.audio2face.audio import load_audio
from facecraft.audio2face.postprocess import PAUSE_MARGIN_S, pause_rest_weight, rest_in_pauses
from facecraft.rigs import ARKIT_INDEX

JAW = ARKIT_INDEX["jawOpen"]
SR = 16000
FPS = 30.0


def _noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0.0, rms, int(seconds * SR))).astype(np.float32)


def test_pause_weight_is_full_inside_noise_pauses_and_zero_in_sound_and_near_it():
    t = np.arange(SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    y = np.concatenate([_noise(1.0, 0.01), tone + _noise(1.0, 0.01, 1), _noise(1.0, 0.01, 2)])
    w = pause_rest_weight(y, sr=SR, fps=FPS, num_frames=90)
    frames = np.arange(90) / FPS
    assert np.all(w[frames < 1.0 - PAUSE_MARGIN_S - 0.06] == 1.0)  # the clip's own start rests from its first frame
    assert np.all(w[(frames > 1.0 - PAUSE_MARGIN_S + 0.06) & (frames < 2.0 + PAUSE_MARGIN_S - 0.06)] == 0.0)
    assert np.all(w[frames > 2.0 + PAUSE_MARGIN_S + 0.06] == 1.0)
    assert w.min() >= 0.0 and w.max() <= 1.0


def test_no_pause_no_rest_silence_and_short_lines_are_left_alone():
    t = np.arange(int(0.3 * SR)) / SR
    short = (0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(len(t))).astype(np.float32)  # a 0.3 s line, no pause
    assert not pause_rest_weight(short, sr=SR, fps=FPS, num_frames=9).any()
    assert not pause_rest_weight(np.zeros(SR, np.float32), sr=SR, fps=FPS, num_frames=30).any()
    curves = np.full((4, 52), 0.5, np.float32)
    out = rest_in_pauses(curves, np.array([0.0, 0.5, 1.0, 1.0], np.float32))
    assert np.allclose(out[:, JAW], [0.5, 0.25, 0.0, 0.0])
    assert np.allclose(out[:, ARKIT_INDEX["browInnerUp"]], 0.5)  # emotion channels are kept


def test_the_mouth_rests_in_the_noisy_pauses_of_a_line_and_on_noise_alone(espeak_speech):
    # speech with white noise at 10 dB SNR and a second of noise either side: the jaw hung at 0.06-0.2 in the noise
    # (it opened most at the first frames), and noise alone moved it as much as speech does (mean 0.1)
    y, sr = load_audio(espeak_speech.path)
    y = y / np.abs(y).max() * 0.5
    rms = float(np.sqrt(np.mean(y[np.abs(y) > 0.01] ** 2)) / np.sqrt(10.0))
    line = np.concatenate([np.zeros(SR, np.float32), y, np.zeros(SR, np.float32)])
    noisy = line + _noise(len(line) / SR, rms)
    a = an.animate_audio(noisy, sr=SR, blink=False)
    frames = np.arange(a.num_frames) / a.fps
    lead = frames < 1.0 - PAUSE_MARGIN_S - 0.1
    tail = frames > (len(line) / SR) - 1.0 + PAUSE_MARGIN_S + 0.1
    assert a.curves[lead | tail, JAW].max() < 0.01
    assert np.percentile(a.curves[~(lead | tail), JAW], 95) > 0.15  # the line itself still opens the mouth
    alone = an.animate_audio(_noise(3.0, 0.05), sr=SR, blink=False)
    assert alone.curves[:, JAW].max() < 0.01


def test_an_animated_file_with_a_noisy_lead_in_starts_at_rest(tmp_path, espeak_speech):
    y, sr = load_audio(espeak_speech.path)
    y = np.concatenate([_noise(0.8, 0.02), y / np.abs(y).max() * 0.5 + _noise(len(y) / SR, 0.02, 1)])
    sf.write(tmp_path / "line.wav", y, SR, subtype="PCM_16")
    a = an.animate_file(tmp_path / "line.wav", tmp_path / "line.csv", blink=False)  # 60 fps Live Link CSV
    assert a.fps == 60.0
    assert a.curves[: int(0.5 * a.fps), JAW].max() < 0.01


def test_a_long_file_read_in_blocks_rests_in_its_pauses_as_the_clip_does(tmp_path, espeak_speech, monkeypatch):
    y, sr = load_audio(espeak_speech.path)
    y = np.concatenate([_noise(0.8, 0.02), y / np.abs(y).max() * 0.5 + _noise(len(y) / SR, 0.02, 1)])
    sf.write(tmp_path / "line.wav", y, SR, subtype="PCM_16")
    clip = an.animate_file(tmp_path / "line.wav", tmp_path / "clip.npz", blink=False, head=False, gaze=False)
    monkeypatch.setattr(an, "STREAM_ABOVE_S", 0.5)  # the block path, on a short file
    monkeypatch.setattr(an, "BLOCK_S", 1.0)
    long = an.animate_file(tmp_path / "line.wav", tmp_path / "long.npz", blink=False, head=False, gaze=False)
    assert long.curves[: int(0.5 * long.fps), JAW].max() < 0.01
    assert np.abs(long.curves - clip.curves).max() < 1e-3
