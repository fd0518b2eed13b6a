"""Cut-out portraits (a PNG whose background is transparent) made from a photo's face landmarks, for the tests of
edits that must keep a cut-out's transparency where the face moves."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.synth.warp import face_width


def hull_alpha(points: np.ndarray, shape: tuple[int, int], *, grow: float = 0.05) -> np.ndarray:
    """``(H, W)`` uint8: 255 inside the hull of ``points`` (``(N, 2)`` pixels) grown by ``grow`` face widths, else 0."""
    alpha = np.zeros(shape, np.uint8)
    cv2.fillPoly(alpha, [cv2.convexHull(np.round(points[:, :2]).astype(np.int32))[:, 0]], 255)
    r = max(int(round(grow * face_width(points[:468, :2]))), 1)
    return cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))


def on_white(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``image`` composited on white under ``alpha``, as :func:`facecraft.eval.images.load_image` reads a cut-out."""
    a = alpha[..., None].astype(np.float64) / 255.0
    return np.round(image * a + 255.0 * (1.0 - a)).astype(np.uint8)


def white_patches(before: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Where an edited cut-out ``rgba`` shows the white it was edited on: transparent in ``before`` (its alpha),
    written fully opaque and near white."""
    return (before == 0) & (rgba[..., 3] == 255) & (rgba[..., :3].min(axis=2) >= 235)
