"""The stability measures read a still video as still and an injected shake at its size (pixels), and the
detector readings beside them behave as documented."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.rigs.errors import ParameterError

# forehead, nose bridge, temples (MediaPipe ids)
STILL_IDS = np.array([10, 151, 9, 168, 6, 54, 284])


@pytest.fixture(scope="module")
def photo(astronaut):
    """A 256 px square of the astronaut around the face (a small frame keeps the test quick)."""
    return np.ascontiguousarray(astronaut[20:276, 110:366])


@pytest.fixture(scope="module")
def landmarks(photo):
    from facecraft.eval.faces import FaceAnalyzer

    with FaceAnalyzer() as a:
        return a.largest_face(photo).landmarks[:, :2].astype(np.float64)


def _shaken(photo: np.ndarray, shifts: np.ndarray) -> list[np.ndarray]:
    """The photo moved by sub-pixel ``(T, 2)`` shifts (bilinear, as a warp resamples)."""
    return [
        cv2.warpAffine(photo, np.float32([[1, 0, dx], [0, 1, dy]]), photo.shape[1::-1], flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT_101)
        for dx, dy in shifts
    ]  # fmt: skip


def _alternating(n: int, amplitude: float) -> np.ndarray:
    """``+-amplitude / 2`` in x on alternate frames: a shake of ``amplitude`` px peak to peak."""
    return np.stack([amplitude / 2 * (np.arange(n) % 2 * 2 - 1), np.zeros(n)], 1)


def test_jitter_reads_shake_not_smooth_motion():
    from facecraft.synth.talk_stability import jitter

    t = np.arange(20, dtype=np.float64)
    steady = np.stack([np.stack([3.0 * t, -0.5 * t], 1)] * 2, 1)  # (20, 2, 2), constant velocity
    np.testing.assert_allclose(jitter(steady), 0.0, atol=1e-12)
    shake = steady + _alternating(20, 1.0)[:, None, :]
    np.testing.assert_allclose(jitter(shake), 1.0, atol=1e-9)  # a 1 px shake reads 1 px
    assert jitter(steady[:2]).tolist() == [0.0, 0.0]
    with pytest.raises(ParameterError, match="tracks"):
        jitter(np.zeros((5, 3)))


def test_pixel_tracking_reads_still_as_still_and_shake_at_its_size(photo, landmarks):
    from facecraft.synth.talk_stability import jitter, track_points

    pts = landmarks[STILL_IDS]
    still = track_points(photo, [photo] * 12, pts)
    assert still.shape == (12, len(pts), 2)
    assert jitter(still).max() < 0.01 and np.abs(still - pts).max() < 0.01

    shifts = _alternating(12, 1.0)
    tracked = track_points(photo, _shaken(photo, shifts), pts)
    j = jitter(tracked)
    assert np.median(j) == pytest.approx(1.0, abs=0.1) and j.min() > 0.8
    # told where the shake put the points, nothing is left over
    expected = pts[None] + shifts[:, None]
    tracked = track_points(photo, _shaken(photo, shifts), pts, expected=expected)
    assert np.median(jitter(tracked - expected)) < 0.1

    # a smooth sub-pixel drift (a slow head motion) reads as still
    drift = np.stack([0.15 * np.arange(12), 0.05 * np.arange(12)], 1)
    assert np.median(jitter(track_points(photo, _shaken(photo, drift), pts))) < 0.05


def test_mediapipe_readings_of_a_shake(photo, landmarks):
    """Image mode reads an injected 1 px shake near its size; video mode smooths it to well under (why it is
    never the only judge); both read a still video as nearly still."""
    from facecraft.eval.faces import FaceAnalyzer
    from facecraft.synth.talk_stability import VideoLandmarks, jitter

    shaken = _shaken(photo, _alternating(16, 1.0))
    with FaceAnalyzer() as a:
        image_mode = jitter(np.array([a.largest_face(f).landmarks[STILL_IDS, :2] for f in shaken]))
    with VideoLandmarks(25) as v:
        first = v.read(photo)
        assert first.shape == (478, 2) and np.abs(first[STILL_IDS] - landmarks[STILL_IDS]).max() < 1.5
        video_mode = jitter(np.array([v.read(f)[STILL_IDS] for f in shaken]))
    with VideoLandmarks(25) as v:
        still = jitter(np.array([v.read(photo)[STILL_IDS] for _ in range(8)]))
    assert np.median(image_mode) > 0.7
    assert np.median(video_mode) < 0.6 * np.median(image_mode)
    assert np.median(still) < 0.1
    with pytest.raises(ParameterError, match="fps"):
        VideoLandmarks(0)
