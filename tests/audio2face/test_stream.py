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
