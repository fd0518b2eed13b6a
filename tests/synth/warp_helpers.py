"""Landmarks of the astronaut (analysed once) and hand-made targets for the warp, mouth and lid tests."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from facecraft.eval.images import load_image
from facecraft.rigs import resolve_asset
from facecraft.rigs.default_rig import region_weights
from facecraft.synth.lids import EYES, eye_frame
from facecraft.synth.warp import face_width


@functools.lru_cache(maxsize=1)
def astronaut_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, (468, 2) pixel landmarks, (468,) depth) of skimage's astronaut."""
    from facecraft.eval.faces import FaceAnalyzer

    img = load_image(resolve_asset("astronaut"))
    with FaceAnalyzer() as fa:
        face = fa.largest_face(img, name="astronaut")
    return img, face.landmarks[:468, :2].astype(np.float64), face.landmarks[:468, 2].astype(np.float64)


def open_jaw(src: np.ndarray, amount: float) -> np.ndarray:
    """Lower lip, chin and jaw moved down by ``amount`` face widths (the rig's jaw region weights)."""
    dst = src.copy()
    dst[:, 1] += amount * face_width(src) * region_weights()["jaw"]
    return dst


def close_eye(src: np.ndarray, which: int, amount: float) -> np.ndarray:
    """The upper contour of eye ``which`` (0 subject's left, 1 right) moved ``amount`` of the way to the lower."""
    dst = src.copy()
    upper, lower = EYES[which]
    frame = eye_frame(src, upper, lower)
    for i in upper[1:-1]:
        u, v = frame.coords(*src[i])
        v_lo = frame.profile(np.array([u]))[1][0]
        dst[i] += amount * (v_lo - v) * frame.v_axis
    return dst


def edged_canvas(src: np.ndarray, sigma: float, *, seed: int = 0) -> np.ndarray:
    """A skin-grey canvas the size of the astronaut's face with sharp blocks (edges to measure) blurred by ``sigma``."""
    h, w = int(src[:, 1].max()) + 40, int(src[:, 0].max()) + 40
    rng = np.random.default_rng(seed)
    image = np.full((h, w), 170.0)
    for _ in range(40):
        x, y = rng.integers(0, w - 30), rng.integers(0, h - 30)
        image[y : y + rng.integers(12, 30), x : x + rng.integers(12, 30)] = rng.choice([80.0, 230.0])
    if sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    return np.repeat(np.clip(image, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def shadowed_canvas(src: np.ndarray, fall: float, shape: tuple[int, int]) -> np.ndarray:
    """A grey canvas, dark (60) down to the chin (vertex 152 of ``src``) and lightening to 200 over ``fall`` face
    widths below it: the soft shadow under a chin."""
    below = np.arange(shape[0], dtype=np.float64)[:, None] - src[152, 1]
    grey = (60 + 140 * np.clip(below / (fall * face_width(src)), 0, 1)) * np.ones((1, shape[1]))
    return np.repeat(np.clip(grey + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def funnels_painted(monkeypatch, module) -> list[float]:
    """The ``funnel`` amounts ``module``'s ``paint_mouth_interior`` is called with from now on (``[]``, filled as the
    painter runs): a spy through pytest's ``monkeypatch``."""
    asked: list[float] = []
    paint = module.paint_mouth_interior

    def spy(*args, **kwargs):
        asked.append(kwargs.get("funnel", 0.0))
        return paint(*args, **kwargs)

    monkeypatch.setattr(module, "paint_mouth_interior", spy)
    return asked
