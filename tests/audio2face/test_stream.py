"""Streaming: chunked output equals offline inference; latency stated <= 100 ms; state errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from a2f_helpers import fake_speech, tiny_model  # noqa: E402

from facecraft.audio2face.animate import predict_curves  # noqa: E402
from facecraft.audio2face.stream import StreamingAnimator, measure_latency, stream_array  # noqa: E402
from facecraft.rigs.emotion_space import EmotionCode, EmotionTrack  # noqa: E402
from facecraft.rigs.errors import ParameterError  # noqa: E402


@pytest.mark.parametrize("chunk_s", [0.01, 0.137, 1.0])
@pytest.mark.parametrize("lookahead", [0, 2])
def test_stream_equals_offline(chunk_s, lookahead):
    m = tiny_model(lookahead=lookahead)
    y, _ = fake_speech(0)
    y = y[: int(1.3 * 16000) + 77]  # an odd length
    off = predict_curves(m, y)
    on = stream_array(m, y, chunk_s=chunk_s, level=False)
    assert on.shape == off.shape
    assert np.abs(on - off).max() < 1e-4


def test_stream_with_emotion_track_equals_offline():
    m = tiny_model()
    y, _ = fake_speech(1)
    track = EmotionTrack([{"t": 0.0, "emotion": "neutral"}, {"t": 1.0, "emotion": "anger", "intensity": 0.8}])
    off = predict_curves(m, y, emotion=track)
    on = stream_array(m, y, chunk_s=0.05, emotion=track, level=False)
    assert np.abs(on - off).max() < 1e-4
    const = stream_array(m, y, chunk_s=0.05, emotion=EmotionCode.from_emotion("happiness"), level=False)
    assert np.abs(const - on).max() > 1e-3


def test_latency_stated_and_measured():
    m = tiny_model()
    s = StreamingAnimator(m)
    assert s.latency_s() <= 0.1  # 1 frame look-ahead at 30 fps + 10 ms hop + 12.5 ms half window
    y, _ = fake_speech(2)
    lat = measure_latency(m, y, chunk_s=0.02, clock=iter(np.arange(0, 1e3, 1e-4)).__next__)  # 0.1 ms per push
    # with negligible compute the measured latency is bounded by the stated one plus one chunk
    assert lat["latency_max_ms"] <= lat["stated_algorithmic_ms"] + 20 + 1
    assert lat["latency_mean_ms"] > 0


def test_frames_come_out_progressively_and_state_errors():
    m = tiny_model()
    s = StreamingAnimator(m)
    y, _ = fake_speech(3)
    counts = [len(s.push(y[i : i + 1600])) for i in range(0, len(y), 1600)]
    assert sum(counts[:-1]) > 0 and max(counts) <= 4
    s.flush()
    assert len(s.flush()) == 0
    with pytest.raises(ParameterError, match="flushed"):
        s.push(y[:100])
    s.reset()
    assert len(s.push(np.zeros(0, np.float32))) == 0
    assert len(s.flush()) == 0  # nothing pushed: nothing out
    with pytest.raises(ParameterError, match="log-mel"):
        StreamingAnimator(tiny_model(feature_kind="whisper", num_features=384))


def test_a_long_push_takes_as_many_python_steps_as_a_short_one():
    # the block path of a long file (animate_stream_file pushes 30 s blocks) made each feature frame and read each
    # model input in a Python step of its own: an 11-minute file cost twice the whole file's time. The frames of a
    # push are now made in a few array operations, whatever its length; the frames themselves are unchanged
    # (test_stream_equals_offline)
    m = tiny_model()
    y = np.random.default_rng(0).normal(0, 0.05, 40 * 16000).astype(np.float32)

    def steps(seconds: float) -> int:
        """Calls of facecraft's own Python functions while a block of ``seconds`` is pushed."""
        s = StreamingAnimator(m, level=False)
        s.push(y[:1600])
        calls = []

        def count(frame, event, arg):
            if event == "call" and str(frame.f_globals.get("__name__")).startswith("facecraft."):
                calls.append(frame.f_code.co_name)

        sys.setprofile(count)
        try:
            out = s.push(y[1600 : 1600 + int(seconds * 16000)])
        finally:
            sys.setprofile(None)
        assert len(out) > seconds * 29
        return len(calls)

    assert steps(36.0) <= steps(6.0) + 10  # not some per frame: 900 more frames


def test_the_model_runs_a_push_on_one_thread_and_gives_the_threads_back(monkeypatch):
    # a push's window (30 s of a long file's blocks: 939 frames) ran on every torch thread: on a busy 2-core machine
    # each of the model's ops waited for the second thread, and the model took 4.4 s of an 11-minute file's block path
    # where the whole file took 0.8 s
    import torch

    m = tiny_model()
    seen = []
    real = m.forward_causal

    def watched(*a, **k):
        seen.append(torch.get_num_threads())
        return real(*a, **k)

    monkeypatch.setattr(m, "forward_causal", watched)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        y, _ = fake_speech(0)
        frames = stream_array(m, y, chunk_s=0.5, level=False)
        assert torch.get_num_threads() == 2  # given back
    finally:
        torch.set_num_threads(before)
    assert len(frames) and len(seen) > 2 and set(seen) == {1}


def _noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, rms, int(round(seconds * 16000))).astype(np.float32)


def _tone_over_noise(seed: int = 0) -> np.ndarray:
    """1 s of noise, a 1 s tone over it (from 1.0 s on), 1.5 s of noise again."""
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.concatenate([_noise(1.0, 0.01, seed), tone + _noise(1.0, 0.01, seed + 1), _noise(1.5, 0.01, seed + 2)])


def test_the_stream_rests_in_noisy_pauses_as_they_come_and_releases_before_the_sound():
    # the live stream kept the model's curves in the pauses over a noise floor, where offline inference rests them
    # (postprocess.pause_rest_weight): a pause is declared once PAUSE_MIN_S of near-floor readings came, the speech
    # channels ease to rest over PAUSE_RAMP_S, and the sound's first reading releases them at once, before its frame
    from facecraft.audio2face.postprocess import PAUSE_MIN_S, PAUSE_RAMP_S, SPEECH_CHANNELS
    from facecraft.rigs import ARKIT_NAMES

    m = tiny_model()
    y = _tone_over_noise()
    raw = stream_array(m, y, chunk_s=0.02, level=False, pauses=False)
    live = stream_array(m, y, chunk_s=0.02, level=False, pauses=True)
    assert live.shape == raw.shape
    speech = np.array([n in SPEECH_CHANNELS for n in ARKIT_NAMES])
    t = np.arange(len(live)) / m.config.fps
    assert np.abs(raw[:, speech]).max() > 0.01  # the model moves the mouth in the noise
    rested = (t > PAUSE_MIN_S + PAUSE_RAMP_S) & (t < 0.95) | (t > 2.0 + PAUSE_MIN_S + PAUSE_RAMP_S)
    assert np.all(live[rested][:, speech] == 0.0)
    assert np.array_equal(live[:, ~speech], raw[:, ~speech])  # brows, eyes, cheeks kept
    assert np.array_equal(live[t < PAUSE_MIN_S - 0.05], raw[t < PAUSE_MIN_S - 0.05])  # no pause yet
    # the tone's frames, and those up to 20 ms before it (one reading), are the model's own: the mouth never lags
    assert np.array_equal(live[(t >= 0.98) & (t < 2.0 + PAUSE_MIN_S - 0.05)], raw[(t >= 0.98) & (t < 2.25)])
    # eased in, not cut: the frames between the pause's start and full rest are in between
    share = live[:, speech].sum(axis=1) / np.maximum(raw[:, speech].sum(axis=1), 1e-9)
    easing = (t > 2.0 + PAUSE_MIN_S - 0.05) & (t < 2.0 + PAUSE_MIN_S + PAUSE_RAMP_S - 0.05)
    assert np.all((share[easing] > 0.0) & (share[easing] < 1.0)) and np.all(np.diff(share[easing]) < 0)


@pytest.mark.parametrize("chunk_s", [0.01, 0.137, 1.0])
def test_the_pauses_rest_alike_however_the_audio_is_chunked(chunk_s):
    # a frame's rest reads the audio the stream surely holds when it emits the frame, so a 10 ms push and a 1 s push
    # rest the same frames by the same amount
    m = tiny_model()
    y = _tone_over_noise(3)
    ref = stream_array(m, y, chunk_s=0.02, level=False, pauses=True)
    on = stream_array(m, y, chunk_s=chunk_s, level=False, pauses=True)
    assert np.abs(on - ref).max() < 1e-4  # the model's windows agree to float precision; a frame's rest off by one
    assert np.array_equal(on == 0, ref == 0)  # ramp step would differ by 0.01 or more


def test_a_live_stream_rests_by_default_and_a_levelled_file_stream_by_its_caller():
    # pauses follow level: a live stream (level=True) rests its pauses; a caller that levelled the samples itself (the
    # long-file path, which rests the file's pauses by its whole floor) gets the model's curves (see
    # test_stream_equals_offline)
    m = tiny_model()
    y = _tone_over_noise(5)
    assert StreamingAnimator(m).pauses and not StreamingAnimator(m, level=False).pauses
    assert np.array_equal(stream_array(m, y, level=False), stream_array(m, y, level=False, pauses=False))
    assert not np.array_equal(stream_array(m, y), stream_array(m, y, pauses=False))


def test_the_live_mouth_rests_in_the_noisy_pauses_of_a_line(espeak_speech):
    # a line with white noise at 10 dB SNR and a second of noise either side: the live stream's jaw hung at 0.06-0.2
    # in the noise (offline inference rests there); it rests once a pause has lasted PAUSE_MIN_S, and the line still
    # opens the mouth as much as offline
    from facecraft.audio2face import animate as an
    from facecraft.audio2face.audio import load_audio
    from facecraft.audio2face.postprocess import PAUSE_MIN_S, PAUSE_RAMP_S
    from facecraft.rigs import ARKIT_INDEX

    jaw = ARKIT_INDEX["jawOpen"]
    y, _ = load_audio(espeak_speech.path)
    y = y / np.abs(y).max() * 0.5
    rms = float(np.sqrt(np.mean(y[np.abs(y) > 0.01] ** 2)) / np.sqrt(10.0))
    line = np.concatenate([np.zeros(16000, np.float32), y, np.zeros(16000, np.float32)])
    noisy = line + _noise(len(line) / 16000, rms)
    model = an.resolve_model(None)
    live = stream_array(model, noisy, chunk_s=0.02)
    off = an.animate_audio(noisy, blink=False, head=False, gaze=False).curves
    t = np.arange(len(live)) / model.config.fps
    lead = (t > PAUSE_MIN_S + PAUSE_RAMP_S) & (t < 0.9)
    tail = t > len(line) / 16000 - 1.0 + PAUSE_MIN_S + PAUSE_RAMP_S
    assert live[lead | tail, jaw].max() < 0.01
    inside = (t > 1.0) & (t < len(line) / 16000 - 1.0)
    p95 = np.percentile(off[inside, jaw], 95)
    assert abs(np.percentile(live[inside, jaw], 95) / p95 - 1) < 0.2
