"""dlib's face models in one place: HOG detector, 5- and 68-point shape predictors, ResNet descriptor.

The files ship in ``face-recognition-models`` (found by :func:`facecraft.rigs.resolve_asset`); each model is
loaded once per process on first use. dlib's detector and networks are not re-entrant, so every call goes
through :data:`DLIB_LOCK`. Used by :mod:`facecraft.eval.identity` (identity distance) and by
:class:`~facecraft.eval.faces.FaceAnalyzer` (small-face proposals, ``with_dlib=True``).
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from facecraft.rigs import resolve_asset
from facecraft.rigs.errors import ParameterError

#: Serialises every call into dlib (shared models, not re-entrant).
DLIB_LOCK = threading.RLock()

#: MediaPipe mesh indices of dlib's 5 points: image-right eye outer/inner corner, image-left eye outer/inner
#: corner, base of the nose (they agree with dlib's predictor within about 2 px on a frontal photo).
MEDIAPIPE_AS_DLIB5 = (263, 362, 33, 133, 2)

# Where dlib's HOG box sits relative to MediaPipe landmarks (median over the astronaut and 12 portraits):
# square, centred between the face-oval extremes 234/454, 1.1 oval widths wide; top and bottom at these
# multiples of the eye-line-to-chin (152) distance from the eye line.
_HOG_BOX_WIDTH = 1.1
_HOG_BOX_TOP, _HOG_BOX_BOTTOM = -0.37, 0.93


def dlib():
    """The ``dlib`` module (imported on first use: it is only needed by the dlib-based features)."""
    import dlib as _dlib

    return _dlib


@functools.lru_cache(maxsize=1)
def hog_detector():
    """dlib's HOG frontal face detector."""
    return dlib().get_frontal_face_detector()


@functools.lru_cache(maxsize=1)
def shape_predictor_5():
    """dlib's 5-point shape predictor (eye corners, nose base): the descriptor's alignment."""
    return dlib().shape_predictor(str(resolve_asset("dlib_shape_predictor_5")))


@functools.lru_cache(maxsize=1)
def shape_predictor_68():
    """dlib's 68-point shape predictor (iBUG 300-W layout)."""
    return dlib().shape_predictor(str(resolve_asset("dlib_shape_predictor_68")))


@functools.lru_cache(maxsize=1)
def face_encoder():
    """dlib's ResNet face descriptor network (128-d; same person within 0.6)."""
    return dlib().face_recognition_model_v1(str(resolve_asset("dlib_face_descriptor")))


def shape_points(shape) -> np.ndarray:
    """A dlib ``full_object_detection`` -> its points ``(K, 2)`` float32 pixels."""
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def shape_from_mediapipe(landmarks, box):
    """dlib 5-point shape read off a MediaPipe mesh ``(478|468, 2|3)`` px, inside ``box`` (x0, y0, x1, y1)."""
    pts = np.asarray(landmarks, dtype=np.float64)[list(MEDIAPIPE_AS_DLIB5), :2]
    d = dlib()
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    parts = [d.point(round(float(x)), round(float(y))) for x, y in pts]
    return d.full_object_detection(d.rectangle(x0, y0, x1, y1), parts)


def hog_box_from_mediapipe(landmarks) -> tuple[int, int, int, int]:
    """The box dlib's HOG detector would give (x0, y0, x1, y1 pixels), placed from MediaPipe landmarks.

    The shape predictors start from their mean shape inside the detector's box, so they need a box framed
    like the detector's; this one works also where HOG misses the face (small, turned or rolled faces).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or len(lm) < 468:
        raise ParameterError(f"landmarks: expected a MediaPipe mesh (468 or 478, 2|3), got shape {lm.shape}")
    left, right = lm[234, :2], lm[454, :2]
    eye_y = lm[[33, 133, 362, 263], 1].mean()
    chin_y = lm[152, 1]
    cx = 0.5 * (left[0] + right[0])
    half = 0.5 * _HOG_BOX_WIDTH * float(np.hypot(*(right - left)))
    top = eye_y + _HOG_BOX_TOP * (chin_y - eye_y)
    bottom = eye_y + _HOG_BOX_BOTTOM * (chin_y - eye_y)
    return round(cx - half), round(top), round(cx + half), round(bottom)


def landmarks_68(image: np.ndarray, box) -> np.ndarray:
    """dlib's 68 points ``(68, 2)`` float32 pixels of the face in ``box`` (x0, y0, x1, y1) of an RGB uint8 image."""
    d = dlib()
    with DLIB_LOCK:
        shape = shape_predictor_68()(image, d.rectangle(*(round(float(v)) for v in box)))
    return shape_points(shape)


def descriptor(image: np.ndarray, shape, *, num_jitters: int = 0) -> np.ndarray:
    """128-d identity descriptor ``(128,)`` float32 of the face a dlib 5-point ``shape`` marks in ``image``."""
    with DLIB_LOCK:
        desc = face_encoder().compute_face_descriptor(image, shape, int(num_jitters))
    return np.asarray(desc, dtype=np.float32)
