"""The audio2face bench scores what a user gets: the audio levelled as ``facecraft animate`` levels it, so a quieter
copy of a clip gives the clip's own figures, and the stream is compared with offline inference of the same samples."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.audio2face import bench


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """The comparisons hold to a frame's classification: run on one thread (torch, BLAS, OpenMP), as the whole
    suite's earlier tests leave them, so they do not depend on which tests ran before (on two threads the quiet
    copy's upper-face read of disgust differed by one frame, 0.034 against a 0.03 tolerance, when this file ran
    alone)."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):  # BLAS and OpenMP pools too
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def clip(espeak_speech):
    from facecraft.audio2face.model import load_default_model

    aligned = bench.aligned_clips([("espeak", espeak_speech.path, espeak_speech.text)])
    assert len(aligned) == 1
    return load_default_model(), bench._rigs()["default"], aligned


def _quieter_y(y: np.ndarray, db: float) -> np.ndarray:
    return (y * np.float32(10 ** (db / 20))).astype(np.float32)


def _quieter(aligned, db: float):
    return [(name, _quieter_y(y, db), sr, phones) for name, y, sr, phones in aligned]


def test_a_quieter_copy_scores_as_the_clip(clip, monkeypatch):
    """Real speech (model and teacher rows), robustness and the emotion read-out give the same figures for a clip
    and for the same clip 20 dB quieter (the raw audio gave the quiet copy a smaller mouth: a path no user takes)."""
    model, rig, aligned = clip
    quiet = _quieter(aligned, -20.0)
    loud = bench.bench_real_speech({"learned": model}, {"default": rig}, aligned)["summary"]
    soft = bench.bench_real_speech({"learned": model}, {"default": rig}, quiet)["summary"]
    assert set(loud) == {"learned@default", "teacher(transcript)@default"}
    for row in loud:
        assert soft[row] == pytest.approx(loud[row], abs=1e-3), row
    monkeypatch.setattr(bench, "CONDITIONS", {"clean": lambda y, rng: y, "-20 dB": lambda y, rng: _quieter_y(y, -20.0)})
    rob = bench.bench_robustness(model, rig, aligned)
    assert rob["-20 dB"] == pytest.approx(rob["clean"], abs=1e-3)
    dis, dis_quiet = (bench.bench_disentanglement({"learned": model}, rig, a)["learned"] for a in (aligned, quiet))
    # The levelled copies agree to float rounding (6e-8) and so do their curves; the emotion read-out is an argmax per
    # frame, and where two emotions' scores run nearly level for a few frames, rounding (or the thread count an earlier
    # test left) moves where they cross: 1-3 frames of the espeak clip's 117, on this machine's espeak-ng
    _, y, sr, _ = aligned[0]
    loud_curves, quiet_curves = (bench.user_curves(model, bench.levelled(a, sr), sr=sr) for a in (y, y * 0.1))
    assert np.abs(loud_curves - quiet_curves).max() < 1e-4
    assert dis_quiet["closure_rate_per_emotion"] == pytest.approx(dis["closure_rate_per_emotion"], abs=1e-3)
    for key in ("emotion_read_rate_region_emotion", "emotion_read_rate_region_upper"):
        assert dis_quiet[key] == pytest.approx(dis[key], abs=0.03), key
    assert dis_quiet["mouth_curve_mean_abs_diff"] == pytest.approx(dis["mouth_curve_mean_abs_diff"], abs=1e-4)


def test_the_bench_levels_as_facecraft_animate_does(clip):
    """The bench's curves are animate_audio's (the function facecraft animate runs) for a quiet and a loud copy:
    if the user path's levelling or pause resting changes and the bench's does not, this fails (tongueOut aside:
    animate_audio keeps it only where the tongue shows)."""
    from facecraft.audio2face.animate import animate_audio
    from facecraft.rigs import ARKIT_INDEX

    model, _, aligned = clip
    keep = np.arange(52) != ARKIT_INDEX["tongueOut"]
    for db in (-25.0, 6.0):
        _, y, sr, _ = _quieter(aligned, db)[0]
        y = np.clip(y, -1, 1)
        ours = bench.user_curves(model, bench.levelled(y, sr), sr=sr)
        users = animate_audio(y, sr=sr, weights=model, fps=model.config.fps, blink=False, head=False, gaze=False)
        assert users.meta.get("level_gain_db", 0.0) != 0.0
        assert ours.shape == users.curves.shape
        np.testing.assert_allclose(ours[:, keep], users.curves[:, keep], atol=1e-6)


def test_stream_is_compared_with_offline_inference_of_the_same_samples(clip):
    """The stream fed the levelled samples agrees with offline inference of them to float precision; a stream
    levelling as it hears is reported beside it (its running gain differs from the clip's at first)."""
    model, _, aligned = clip
    y = _quieter(aligned, -20.0)[0][1]
    res = bench.bench_streaming(model, y)
    assert res["max_abs_diff_stream_vs_offline"] < 1e-4
    assert res["level_gain_db"] > 10
    assert np.isfinite(res["max_abs_diff_live_level_vs_offline"]) and 0 <= res["live_level_share_over_0.01"] <= 1
