"""Temporal stability of a talking portrait's still regions, read three ways.

A landmark detector read frame by frame is a noisy judge of an image's stability: MediaPipe re-estimates the
whole face from each frame, so when the mouth moves, its forehead and nose-bridge landmarks move too, even
where the frames' pixels are identical. Three readings of the same still points stand side by side:

* **MediaPipe, image mode** (:class:`facecraft.eval.faces.FaceAnalyzer`): each frame on its own;
* **MediaPipe, video mode** (:class:`VideoLandmarks`): what an application tracking the video sees; its
  tracker smooths landmarks over time, so it under-reads real shake too (a 1 px alternating shake reads
  about 0.3 px): never the only judge;
* **pixels** (:func:`track_points`): pyramidal Lucas-Kanade tracking of the patch around each point from
  the photo to every frame; it reads an injected shake at its true size and a still video as 0.

The figure for each is :func:`jitter`, the RMS distance of a point from the midpoint of its temporal
neighbours (the second difference halved): smooth motion gives about 0, shake does not.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.rigs import ParameterError, resolve_asset

TRACK_WINDOW = 21  # Lucas-Kanade window, pixels (patches of about 0.1-0.15 face widths at 512 px)
TRACK_LEVELS = 2


def jitter(tracks: np.ndarray) -> np.ndarray:
    """Per point RMS distance from the midpoint of its temporal neighbours.

    Parameters
    ----------
    tracks : array (T, P, 2)
        Point positions per frame, pixels.

    Returns
    -------
    array (P,)
        Pixels; zeros for fewer than 3 frames. A point shaking by ``+-a`` on alternate frames reads ``2 a``;
        a constant velocity reads 0.
    """
    tracks = np.asarray(tracks, np.float64)
    if tracks.ndim != 3 or tracks.shape[2] != 2:
        raise ParameterError(f"tracks: expected shape (T, P, 2), got {tracks.shape}")
    if len(tracks) < 3:
        return np.zeros(tracks.shape[1])
    mid = 0.5 * (tracks[:-2] + tracks[2:])
    return np.sqrt((np.linalg.norm(tracks[1:-1] - mid, axis=2) ** 2).mean(0))


def track_points(reference: np.ndarray, frames, points: np.ndarray, expected: np.ndarray | None = None) -> np.ndarray:
    """Where the patch around each of ``points`` in ``reference`` is in every frame (Lucas-Kanade, sub-pixel).

    Each frame is matched against the reference itself (not the previous frame), so errors do not
    accumulate; ``expected`` (where each point should be in each frame, e.g. moved by the applied head
    motion) starts the search, so the tracker measures the departure from it.

    Parameters
    ----------
    reference : array (H, W, 3) uint8
        The still photo the frames were made from.
    frames : iterable of arrays (H, W, 3) uint8
    points : array (P, 2)
        Pixel positions in ``reference``.
    expected : array (T, P, 2), optional
        Starting guesses per frame (default: ``points``).

    Returns
    -------
    array (T, P, 2)
        Tracked positions, pixels; a point the tracker loses keeps its starting guess.
    """
    pts = np.asarray(points, np.float32).reshape(-1, 1, 2)
    ref = cv2.cvtColor(np.ascontiguousarray(reference), cv2.COLOR_RGB2GRAY)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-3)
    out = []
    for k, frame in enumerate(frames):
        guess = pts if expected is None else np.asarray(expected[k], np.float32).reshape(-1, 1, 2)
        grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        found, ok, _ = cv2.calcOpticalFlowPyrLK(
            ref, grey, pts, guess.copy(), winSize=(TRACK_WINDOW, TRACK_WINDOW), maxLevel=TRACK_LEVELS,
            criteria=criteria, flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
        )  # fmt: skip
        out.append(np.where(ok.reshape(-1, 1) > 0, found.reshape(-1, 2), guess.reshape(-1, 2)))
    return np.array(out, np.float64).reshape(-1, len(pts), 2)


class VideoLandmarks:
    """MediaPipe Face Landmarker in video mode: landmarks of consecutive frames of one video (pixels).

    Video mode tracks the face from frame to frame and smooths its landmarks, as an application reading a
    video does. One instance reads one video, frames in order (:meth:`read`); close it or use ``with``.
    """

    def __init__(self, fps: float, *, model_path=None) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        if not fps > 0:
            raise ParameterError(f"fps: expected a frame rate > 0, got {fps!r}")
        path = resolve_asset("face_landmarker", model_path)
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=Path(path).read_bytes()),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
        )
        self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._ms = 1000.0 / float(fps)
        self._frame = 0

    def read(self, frame: np.ndarray) -> np.ndarray | None:
        """``(478, 2)`` pixel landmarks of the next frame (RGB uint8), or ``None`` when no face is found."""
        import mediapipe as mp

        img = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        result = self._landmarker.detect_for_video(img, int(round(self._frame * self._ms)))
        self._frame += 1
        if not result.face_landmarks:
            return None
        h, w = frame.shape[:2]
        return np.array([(p.x * w, p.y * h) for p in result.face_landmarks[0]], np.float64)

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> VideoLandmarks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
