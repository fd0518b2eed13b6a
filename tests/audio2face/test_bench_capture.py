import json

import numpy as np
import pytest

from facecraft.audio2face.bench_capture import CAPTURE_MOUTH_CHANNELS, bench_capture, compare_channels, take_paths
from facecraft.rigs.arkit import ARKIT_INDEX, NUM_ARKIT
from facecraft.rigs.errors import MissingFileError


def test_compare_channels_scores_a_perfect_and_an_overdriven_prediction():
    rng = np.random.default_rng(1)
    take = np.clip(rng.random((300, NUM_ARKIT)), 0, 1).astype(np.float32)
    same = compare_channels(take, take, fps=60.0)
    assert same["summary"]["mean_r"] == pytest.approx(1.0)
    assert same["summary"]["p95_within_count"] == len(CAPTURE_MOUTH_CHANNELS)
    double = take.copy()
    double[:, ARKIT_INDEX["jawOpen"]] *= 2.0
    jaw = compare_channels(take, double, fps=60.0)["channels"]["jawOpen"]
    assert jaw["r"] == pytest.approx(1.0) and jaw["p95_ratio"] == pytest.approx(2.0, abs=0.01)
    assert jaw["p95_within"] is False
    loud = compare_channels(take, take[:, ARKIT_INDEX["jawOpen"]], fps=60.0, predicted=False)
    assert loud["summary"]["jawOpen_r"] == pytest.approx(1.0) and "p95_ratio" not in loud["channels"]["jawOpen"]


def test_missing_take_is_named(tmp_path):
    with pytest.raises(MissingFileError, match="audio_16k.wav"):
        take_paths(tmp_path)


def test_bench_capture_on_the_iphone_take(shared_dir, tmp_path):
    report = bench_capture(tmp_path)
    saved = json.loads((tmp_path / "capture.json").read_text())
    assert (tmp_path / "capture.png").stat().st_size > 10_000
    assert saved["take"]["frames"] == 1218 and abs(saved["take"]["fps"] - 59.94) < 0.1
    assert set(saved["learned"]["channels"]) == set(CAPTURE_MOUTH_CHANNELS)
    # the take's README measured the loudness/jawOpen alignment independently: r 0.43 at +1 frame
    assert report["loudness"]["summary"]["jawOpen_r"] == pytest.approx(0.43, abs=0.03)
    assert -1 <= report["learned"]["summary"]["mean_r"] <= 1
    assert set(saved["head_range"]["take"]) == {"yaw", "pitch", "roll"}
