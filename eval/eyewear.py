"""Does a face wear glasses? A cue from the nose bridge, where a frame's bridge crosses the nose.

An edit that repaints the eyes (an eyeball a raised lid uncovers) paints them behind a lens too, where the photo
has the lens's haze, tint and reflections; the edit benchmark reports faces with glasses apart. MediaPipe's mesh
says nothing about glasses, so this looks at the pixels where almost every frame shows: the bridge, a bar across the
nose between the eyes, at about the height of the eye corners. Bare skin there is smooth (a shading gradient, pores,
at most a fold); a frame's bridge is an edge that runs straight across the strip.

Score: in a frame along the line through the outer eye corners (``u`` across, ``v`` down the face), a strip
``2 * BRIDGE_HALF`` eye widths wide centred between the inner eye corners, from ``BRIDGE_ROWS[0]`` to
``BRIDGE_ROWS[1]`` eye widths off that line, is resampled at a fortieth of an eye width; per row, the mean vertical
gradient (grey levels per tenth of an eye width) times its coherence (its magnitude over the mean gradient magnitude
of the row: 1 for an edge straight across, near 0 for texture); the score is the largest row's. A strong but ragged
row (wrinkles at the nose root of an old face) or a small spot (a bindi) scores less than a frame's bar.

Measured (``facecraft bench eyewear``): :data:`GLASSES_SCORE` keeps false alarms to a few in a hundred bare faces
while finding most frames; thin rimless frames are the ones it misses.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.rigs.errors import ParameterError

#: Eye corners of the MediaPipe mesh: right eye outer, inner; left eye inner, outer (the subject's sides).
_EYE_CORNERS = (33, 133, 362, 263)
#: Half width of the bridge strip, eye widths: wide enough that a spot between the brows is not a bar across it.
BRIDGE_HALF = 0.2
#: Rows of the strip, eye widths above (-) and below the outer corners' line: the bridge, not the brows' middle.
BRIDGE_ROWS = (-0.3, 0.25)
#: Score from which a face counts as wearing glasses (:func:`wears_glasses`). Chosen on UTKFace crops the editor
#: tunes on (positions 500+ of the edit bench's permutation), labelled by eye; see ``facecraft bench eyewear``.
GLASSES_SCORE = 35.0
_SAMPLES_PER_EYE = 40


def eyewear_score(image: np.ndarray, points: np.ndarray) -> float:
    """How strongly a glasses bridge shows between the eyes (0 for smooth skin; frames score
    :data:`GLASSES_SCORE` and more).

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` grey).
    points : np.ndarray
        ``(N, 2+)`` MediaPipe mesh points in pixels, ``N >= 468``.
    """
    img = np.asarray(image)
    pts = np.asarray(points, np.float64)
    if img.ndim not in (2, 3) or img.shape[0] < 2 or img.shape[1] < 2:
        raise ParameterError(f"eyewear_score needs an (H, W) or (H, W, 3) image, got shape {img.shape}")
    if pts.ndim != 2 or pts.shape[0] < 468 or pts.shape[1] < 2:
        raise ParameterError(f"eyewear_score needs (N >= 468, 2) mesh points, got shape {pts.shape}")
    grey = (img if img.ndim == 2 else cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2GRAY)).astype(np.float32)
    r_out, r_in, l_in, l_out = (pts[i, :2] for i in _EYE_CORNERS)
    eye = 0.5 * (np.hypot(*(r_out - r_in)) + np.hypot(*(l_out - l_in)))
    axis = l_out - r_out
    span = float(np.hypot(*axis))
    if eye < 2.0 or span < 1e-6:
        return 0.0
    u_axis = axis / span
    v_axis = np.array([-u_axis[1], u_axis[0]])
    if v_axis[1] < 0:  # v runs down the image
        v_axis = -v_axis
    step = max(eye / _SAMPLES_PER_EYE, 0.5)
    mid = 0.5 * ((r_in - r_out) @ u_axis + (l_in - r_out) @ u_axis)
    u = np.arange(mid - BRIDGE_HALF * eye, mid + BRIDGE_HALF * eye, step)
    v = np.arange(BRIDGE_ROWS[0] * eye, BRIDGE_ROWS[1] * eye, step)
    uu, vv = np.meshgrid(u, v)
    x = r_out[0] + uu * u_axis[0] + vv * v_axis[0]
    y = r_out[1] + uu * u_axis[1] + vv * v_axis[1]
    strip = cv2.remap(grey, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REFLECT_101)  # fmt: skip
    strip = cv2.GaussianBlur(strip, (0, 0), 0.7)
    g_v = np.gradient(strip, axis=0) / step
    g_u = np.gradient(strip, axis=1) / step
    across = np.abs(g_v.mean(axis=1))
    coherence = across / (np.hypot(g_u, g_v).mean(axis=1) + 1e-3)
    return float((across * coherence).max() * eye / 10.0)


def wears_glasses(image: np.ndarray, points: np.ndarray) -> bool:
    """Whether :func:`eyewear_score` reaches :data:`GLASSES_SCORE`."""
    return eyewear_score(image, points) >= GLASSES_SCORE
