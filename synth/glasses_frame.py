"""Glasses frames kept straight through an edit: found in the photo, taken out before the warp, put back on top.

A frame sits on the nose and the ears, not on the brows or the cheeks: when an edit raises the brows (surprise) or
pulls them together (anger), the skin moves behind a frame that stays where it is. The warp moves every pixel
near the eyes, frame included, and bent the rims with the brows (surprise bowed the top rims up, anger bent the
bridge down). So:

1. :func:`find_frame` finds the frame: per eye a lens rim (a rounded rectangle fitted to the dark thin lines
   around the eye, then each point of it moved onto the line it lies along), the bridge between the lenses, the
   hinges, and the pixels of the dark lines connected to them or as dark as the rims. It returns None unless both
   rims are clear and alike: a frame it is unsure of is left to the warp as before (a wrong mask would hold skin,
   lashes or brows in place);
2. :func:`take_out_frame` fills the frame's pixels from the skin and brows around it, and the warp moves that
   frameless photo with the face's whole motion: the brows rise and fall behind the frame as far as without
   glasses. What is seen through a lens stays in it (:func:`lenses`: a lid raised past a rim goes behind it);
3. :func:`put_back_frame` lays the photo's own frame over the edit, straight.

An edit asks for it (``EditControls(keep_glasses=True)``, ``facecraft edit --keep-glasses``). It is not the default:
the FER judges read fewer surprised, fearful, angry and sad faces among the glasses wearers of the editor's UTKFace
tuning crops than from the edit that bends the frame with the brows (a bowed or bent frame reads as the
expression too). The talking portrait (:mod:`facecraft.synth.talk_render`) does the same once per photo: the frameless
photo and the frame's layer (:func:`frame_layer`) are made once, each frame is laid over with :func:`lay_on` (moved
with the head).

Rims are dark lines thinner than a brow: a morphological black-hat (closing minus the image) with a disc a
quarter of an eye wide shows them as bright loops; lashes and the eyes themselves are kept out by a clearance
around each eye.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import minimize

from .lids import EYES, eye_frame, eye_polygon
from .photo_look import PhotoLook
from .warp import WarpResult

#: Samples around each lens rim.
RIM_SAMPLES = 128
#: Black-hat disc diameter, eye widths: wider than a rim, narrower than most brows.
_LINE_DISC = 0.25
#: The rim fit works on a copy where an eye is about this many pixels wide (its cost does not grow with the photo).
_FIT_EYE_PX = 40.0
#: A rim point counts as on a line where the black-hat reaches this share of its strong level (98th percentile
#: around the eyes); gaps of up to ``_GAP`` samples between such points are bridged.
_ON_LINE = 0.35
_GAP = 9
#: A frame is held only when, on both rims, this share of the points lies on a line, the fitted rounded rectangle
#: reaches ``_FIT_LEAST`` mean response, and the two lenses' sizes (in their eyes' widths) differ by less than
#: ``_SAME_SIZE`` of their mean.
_RIM_SHARE = 0.8
_FIT_LEAST = 0.3
_SAME_SIZE = 0.25
#: ... and the rim stands out as a thin line: its response at least this much above the larger of the responses
#: ``_SIDE`` eye widths to either side (:func:`_line_contrast`). Without it, two blurred UTKFace crops' "rims" were
#: a brow's edge and a lid's shadow (UTKFace tuning crops with glasses: frames 0.25-0.67, those two 0.10-0.16).
_CONTRAST_LEAST = 0.22
_SIDE = 0.06
_SIDE_PX = 2.0  # ... and at least this many pixels (a 2 px rim around a small eye)
#: Lens rims lie at least this far outside the eye's contour, eye widths (closer, the fit stuck to the lashes).
_LENS_MARGIN = 0.12
#: How far each rim point may move onto its line, eye widths; the pull toward a smooth rim.
_RIM_REACH = 0.08
_RIM_SMOOTH = 0.06
#: The label of the frame's pixels in :attr:`GlassesFrame.labels` (the lenses are 1, 2, ...).
FRAME = 255
#: The frame's pixels: response above ``FRAME_LINE`` connected to the rim lines, within ``_GROW`` eye widths of them
#: (thick rims, hinges), or between the lenses (the bridge).
FRAME_LINE = 0.3
_GROW = 0.1
#: ... and how far beyond each lens's outer side the hinge and the temple's start are looked for, eye widths.
_HINGE = 0.3
#: ... or darker than the rims' median grey plus this share of the way to the grey around them.
_DARK_SHARE = 0.5
#: :func:`take_out_frame` fills the frame on a copy where an eye is about this many pixels wide (or the photo).
_FILL_EYE_PX = 24.0
#: ... and fills the frame's soft edge where it is laid back at least this opaque (2 px past the frame's pixels).
_FILL_EDGE = 0.1
#: The blur of the frame's soft edge, pixels, and how far past the frame (and the lenses) :func:`frame_layer`'s box
#: reaches: the blur's reach and one more (its copy of the edge in the box is then the whole photo's, bit for bit).
_EDGE_BLUR = 0.7
_LAYER_PAD = int(np.ceil(4 * _EDGE_BLUR)) + 1
#: Clearance around each eye's opening kept out of the frame, eye widths (lashes, liner, the lid's crease), or up to
#: halfway to the rim line where a rim runs closer along the lid.
_EYE_CLEAR = 0.1


def _sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return cv2.remap(img, np.asarray(x, np.float32), np.asarray(y, np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip


def _rounded_rect(params, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points of a superellipse ``(cu, cv, a, b, n)`` at angles ``t`` (eye-frame coordinates)."""
    cu, cv_, a, b, n = params
    c, s = np.cos(t), np.sin(t)
    r = (np.abs(c) ** n + np.abs(s) ** n) ** (-1.0 / n)
    return cu + a * r * c, cv_ + b * r * s


def _holds_eye(params, fs):
    """Whether the lens ``params`` holds the eye's whole contour, ``_LENS_MARGIN`` inside (``params`` a 5-tuple, or
    five arrays: one answer per lens)."""
    cu, cv_, a, b, n = (np.asarray(p, np.float64)[..., None] for p in params)
    margin = _LENS_MARGIN * fs.width
    grid = np.linspace(0.0, fs.width, 9)
    up, lo = fs.profile(grid)
    u, v = np.concatenate([grid, grid]), np.concatenate([up, lo])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (np.abs((u - cu) / (a - margin)) ** n + np.abs((v - cv_) / (b - margin)) ** n) ** (1 / n)
    inside = (r.max(-1) < 1) & (a[..., 0] > margin) & (b[..., 0] > margin)
    return inside if inside.ndim else bool(inside)


def _grid_response(resp: np.ndarray, fs, scale: float, params: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Mean response (capped at 1) along each rounded rectangle of ``params`` ``(N, 5)``."""
    c, s = np.cos(t), np.sin(t)
    n = params[:, 4:5]
    r = (np.abs(c) ** n + np.abs(s) ** n) ** (-1.0 / n)
    x, y = fs.to_image(params[:, :1] + params[:, 2:3] * r * c, params[:, 1:2] + params[:, 3:4] * r * s)
    return np.minimum(_sample(resp, x * scale, y * scale), 1.0).mean(1)


def _fit_lens(resp: np.ndarray, fs, scale: float) -> tuple[float, tuple]:
    """The rounded rectangle around one eye that lies best along the lines of ``resp`` (a copy of the response
    ``scale`` times the photo's size): (mean response along it, its parameters in the photo's eye frame)."""
    w = fs.width
    t = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
    cu0, cv0 = 0.5 * w, float(np.mean(fs.profile(np.array([0.5 * w]))))

    def score(p) -> float:
        if not (0.6 * w <= p[2] <= 1.6 * w and 0.3 * w <= p[3] <= 1.1 * w and 1.8 <= p[4] <= 6.0):
            return 0.0
        if not _holds_eye(p, fs):
            return 0.0
        x, y = fs.to_image(*_rounded_rect(p, t))
        return float(np.minimum(_sample(resp, x[None] * scale, y[None] * scale), 1.0).mean())

    axes = (np.linspace(-0.2, 0.2, 5), np.linspace(-0.1, 0.3, 5), np.linspace(0.7, 1.3, 7), np.linspace(0.4, 0.9, 6))
    grid = np.array(list(itertools.product(*axes, (2.5, 4.0))))
    params = grid * (w, w, w, w, 1.0) + (cu0, cv0, 0.0, 0.0, 0.0)  # all within score's bounds
    scores = np.where(_holds_eye(params.T, fs), _grid_response(resp, fs, scale, params, t), 0.0)
    order = np.argsort(-scores, kind="stable")  # as the one-by-one scores sorted
    cands = [(float(scores[i]), tuple(params[i])) for i in order[:2]]
    best = cands[0]
    for _, p0 in cands[:2]:
        r = minimize(lambda q: -score(q), np.array(p0), method="Nelder-Mead",
                     options={"xatol": 0.1 / scale, "fatol": 1e-4, "maxiter": 200})  # fmt: skip
        if -r.fun > best[0]:
            best = (float(-r.fun), tuple(float(v) for v in r.x))
    return best


def _normals(pts: np.ndarray) -> np.ndarray:
    """Unit normals ``(N, 2)`` of the closed curve through ``pts`` ``(N, 2)``."""
    tan = np.roll(pts, -1, 0) - np.roll(pts, 1, 0)
    nrm = np.stack([tan[:, 1], -tan[:, 0]], 1)
    return nrm / (np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-9)


def _onto_line(resp: np.ndarray, pts: np.ndarray, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Move each point of the closed curve ``pts`` (N, 2) along its normal onto the line it lies along (dynamic
    programming: the most response, a smooth curve): the moved points and the response at each."""
    n = len(pts)
    nrm = _normals(pts)
    step = 0.5
    d = np.arange(-reach, reach + step, step)
    prof = _sample(resp, pts[:, :1] + nrm[:, :1] * d[None], pts[:, 1:] + nrm[:, 1:] * d[None])  # (n, len(d))
    jump = _RIM_SMOOTH * float(np.median(prof.max(1))) * np.abs(d[:, None] - d[None, :])
    acc, back = -prof[0], np.zeros(prof.shape, int)
    for k in range(1, n):
        total = acc[None, :] + jump  # (to, from)
        back[k] = np.argmin(total, 1)
        acc = -prof[k] + total[np.arange(len(d)), back[k]]
    path = np.zeros(n, int)
    path[-1] = int(np.argmin(acc))
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return pts + nrm * d[path][:, None], prof[np.arange(n), path]


def _line_contrast(resp: np.ndarray, pts: np.ndarray, offset: float) -> float:
    """Median over a closed curve of its response less the larger response ``offset`` pixels to either side: high
    for a thin line, low for the broad dark of a blur, a brow or hair."""
    nrm = _normals(pts)
    on = _sample(resp, pts[None, :, 0], pts[None, :, 1])[0]
    sides = [_sample(resp, (pts[:, 0] + s * nrm[:, 0])[None], (pts[:, 1] + s * nrm[:, 1])[None])[0]
             for s in (offset, -offset)]  # fmt: skip
    return float(np.median(on - np.maximum(*sides)))


def _on_line(strength: np.ndarray) -> np.ndarray:
    """Which rim points lie on a line, short gaps bridged (the rim is closed)."""
    on = (strength > _ON_LINE).astype(np.uint8)
    n = len(on)
    closed = cv2.morphologyEx(np.tile(on, 3)[None], cv2.MORPH_CLOSE, np.ones((1, _GAP), np.uint8))[0]
    return closed[n : 2 * n] > 0


@dataclass(frozen=True)
class GlassesFrame:
    """A glasses frame found in a photo."""

    alpha: np.ndarray  # (H, W) float32, 1 on the frame
    labels: np.ndarray  # (H, W) uint8: FRAME on the frame and its soft edge, k inside the k-th lens, 0 around
    eye_width: float = 0.0  # the eyes' mean width, pixels (take_out_frame's fill works at a size set by it)


def line_response(grey: np.ndarray, eye_w: float) -> np.ndarray:
    """How strongly each pixel of ``grey`` (float32) lies on a dark line thinner than a brow: the black-hat over a
    disc of ``_LINE_DISC`` eye widths (``eye_w`` pixels), over its 98th percentile (1: a strong line); above
    ``FRAME_LINE`` on a glasses frame's rims and bridge."""
    disc = max(3, int(_LINE_DISC * eye_w) | 1)
    resp = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc)))
    return resp / max(float(np.percentile(resp, 98)), 1e-6)


def find_frame(image: np.ndarray, points: np.ndarray) -> GlassesFrame | None:
    """The glasses frame in front of the eyes, or None when no frame is found for sure (no glasses, rimless or faint
    rims, a fit the two eyes disagree on).

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3)`` uint8 RGB.
    points : np.ndarray
        ``(N >= 468, 2+)`` MediaPipe mesh points in pixels.
    """
    src = np.asarray(points, np.float64)[:468, :2]
    h, w = image.shape[:2]
    eye_w = float(np.mean([eye_frame(src, up, lo).width for up, lo in EYES]))
    if eye_w < 4.0:
        return None
    eyes_px = np.concatenate([eye_polygon(src, up, lo) for up, lo in EYES])
    x0, y0 = np.maximum(np.floor(eyes_px.min(0) - 1.3 * eye_w).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(eyes_px.max(0) + 1.3 * eye_w).astype(int), (w, h))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    resp = line_response(grey, eye_w)
    local = [eye_frame(src - (x0, y0), up, lo) for up, lo in EYES]  # in the crop's pixels
    scale = min(1.0, _FIT_EYE_PX / eye_w)
    small = cv2.resize(resp, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else resp
    small = cv2.GaussianBlur(small, (0, 0), max(0.7, 0.02 * eye_w * scale))
    t = np.linspace(0.0, 2 * np.pi, RIM_SAMPLES, endpoint=False)
    rims = []
    for fs in local:
        fit, params = _fit_lens(small, fs, scale)
        pts, strength = _onto_line(resp, np.stack(fs.to_image(*_rounded_rect(params, t)), 1), _RIM_REACH * fs.width)
        on = _on_line(strength)
        if fit < _FIT_LEAST or on.mean() < _RIM_SHARE:
            return None
        if _line_contrast(resp, pts, max(_SIDE * fs.width, _SIDE_PX)) < _CONTRAST_LEAST:
            return None
        rims.append((params[2] / fs.width, params[3] / fs.width, pts, on))
    (a1, b1, *_), (a2, b2, *_) = rims
    if abs(a1 - a2) > _SAME_SIZE * 0.5 * (a1 + a2) or abs(b1 - b2) > _SAME_SIZE * 0.5 * (b1 + b2):
        return None
    core, k3 = np.zeros(resp.shape, np.uint8), np.ones((3, 3), np.uint8)
    for *_, pts, _on in rims:  # the whole rim, its short gaps too (a glint on it, a brow behind it)
        cv2.polylines(core, [np.round(pts * 4).astype(np.int32)], True, 1, max(1, round(0.02 * eye_w)), shift=2)
    # The whole frame: strong enough response connected to the rim lines, near them or between the lenses.
    grow = max(1, round(_GROW * eye_w))
    near = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    left, right = sorted((r[2] for r in rims), key=lambda p: p[:, 0].mean())
    by0 = int(min(left[:, 1].min(), right[:, 1].min()) - 0.1 * eye_w)
    by1 = int(np.ceil(0.5 * (left[:, 1].mean() + right[:, 1].mean())))
    bridge = (left[:, 0].max() - 0.15 * eye_w, right[:, 0].min() + 0.15 * eye_w)
    hinges = [(left[:, 0].min() - _HINGE * eye_w, left[:, 0].min() + 0.15 * eye_w),
              (right[:, 0].max() - 0.15 * eye_w, right[:, 0].max() + _HINGE * eye_w)]  # fmt: skip
    for bx0, bx1 in [bridge, *hinges]:  # between the lenses and at their outer top corners
        bx0, bx1 = max(int(bx0), 0), max(int(np.ceil(bx1)), 0)
        if bx1 > bx0 and by1 > by0:
            near[max(by0, 0) : max(by1, 0), bx0:bx1] = 1
    # ... or as dark as the rims (a thick rim's middle, a solid bridge, the hinges: too broad for the black-hat)
    ring = cv2.dilate(near, k3, iterations=2) - near
    if core.any() and ring.any():
        rim_grey, around = float(np.median(grey[core > 0])), float(np.median(grey[ring > 0]))
        dark = grey < rim_grey + _DARK_SHARE * (around - rim_grey)
    else:
        dark = np.zeros(resp.shape, bool)
    allowed = (((resp > FRAME_LINE) | dark) & (near > 0)).astype(np.uint8) | core
    frame = core
    for _ in range(grow + 2 + int(eye_w)):
        grown = cv2.dilate(frame, k3) & allowed
        if np.array_equal(grown, frame):
            break
        frame = grown
    eyes = np.zeros(resp.shape, np.uint8)
    for up, lo in EYES:
        cv2.fillPoly(eyes, [np.round(eye_polygon(src, up, lo) - (x0, y0)).astype(np.int32)], 1)
    # the clearance ends halfway to the rim line: a rim that runs along the lid is the frame up to its middle
    to_eye = cv2.distanceTransform(1 - eyes, cv2.DIST_L2, 3)
    to_rim = cv2.distanceTransform(1 - core, cv2.DIST_L2, 3)
    soft = np.clip(cv2.GaussianBlur(cv2.dilate(frame, k3).astype(np.float32), (0, 0), 0.7) * 1.3, 0.0, 1.0)
    soft[(to_eye <= max(1.0, _EYE_CLEAR * eye_w)) & (to_eye <= to_rim)] = 0.0
    alpha = np.zeros((h, w), np.float32)
    alpha[y0:y1, x0:x1] = soft
    labels = np.zeros((h, w), np.uint8)
    for window, (*_, pts, _on) in enumerate(rims, start=1):  # the lenses, up to the middle of their rims
        cv2.fillPoly(labels, [np.round((pts + (x0, y0)) * 4).astype(np.int32)], window, shift=2)
    labels[_hole(alpha) > 0] = FRAME
    return GlassesFrame(alpha, labels, eye_w)


def glasses_in_front(look: PhotoLook) -> GlassesFrame | None:
    """:func:`find_frame` of the look's face when it wears glasses, measured once per face."""
    return look.measure("glasses frame", lambda: find_frame(look.image, look.src) if look.wears_glasses else None)


def _hole(frame: np.ndarray) -> np.ndarray:
    """The frame's pixels and one more around them (its soft edge): what the warp holds and the photo gives back."""
    return cv2.dilate((frame > 0.1).astype(np.uint8), np.ones((3, 3), np.uint8))


def take_out_frame(image: np.ndarray, frame: GlassesFrame) -> np.ndarray:
    """The photo with the frame's pixels filled from the skin and brows around it (``cv2.inpaint``, Telea): what the
    warp moves, so that the face moves fully behind a frame :func:`put_back_frame` then lays on top.

    The fill is only ever seen outside the lenses (:func:`lenses` keeps what is in a lens in it), so it is made from
    what lies around the frame, not from the eyes behind it (a dark lash line drawn up past the rim). Only the box
    around the frame is filled (its cost does not grow with the photo)."""
    (lx0, ly0, lx1, ly1), on = _laid_on(frame)
    if lx1 <= lx0 or ly1 <= ly0:
        return image
    h, w = image.shape[:2]
    pad = 4  # known pixels around what is filled
    x0, y0, x1, y1 = max(lx0 - pad, 0), max(ly0 - pad, 0), min(lx1 + pad, w), min(ly1 + pad, h)
    box = (slice(y0, y1), slice(x0, x1))
    # what the frame's layer covers outside the lenses, its soft edge too: the photo's own dark fringe beside the rims,
    # left in the frameless photo, rose with the brows as a thin grey line above the frame (in a lens the fill moved
    # with the lids as a pale line along the rim)
    labels = frame.labels[box]
    zone = np.zeros((y1 - y0, x1 - x0), bool)
    zone[ly0 - y0 : ly1 - y0, lx0 - x0 : lx1 - x0] = on > _FILL_EDGE
    zone &= (labels == 0) | (labels == FRAME)
    unknown = (zone | (labels > 0)).astype(np.uint8)  # the frame, its edge and the lenses
    crop = np.ascontiguousarray(image[box])
    scale = min(1.0, _FILL_EYE_PX / max(frame.eye_width, 1.0))  # a smooth fill: made on a smaller copy
    if scale < 1.0:
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        touched = (cv2.resize(unknown.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        small = cv2.inpaint(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), touched, 2.0, cv2.INPAINT_TELEA)
        filled = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    else:
        filled = cv2.inpaint(crop, unknown, 2.0, cv2.INPAINT_TELEA)
    out = image.copy()
    out[box] = np.where(zone[..., None], filled, image[box])
    return out


def lenses(frame: GlassesFrame) -> np.ndarray:
    """The frame's lenses as the warp's windows (``warp_face(windows=...)`` on :func:`take_out_frame`'s photo): what
    is seen through a lens stays in it and what is around stays around (a lid raised past a rim goes behind it)."""
    return np.where(frame.labels == FRAME, 0, frame.labels).astype(np.uint8)


@dataclass(frozen=True)
class FrameLayer:
    """The photo's frame as a layer laid over an edit (:func:`frame_layer`): in the box ``(x0, y0, x1, y1)`` of the
    photo, the photo's pixels ``image`` ``(h, w, 3)`` uint8 and their opacity ``on`` ``(h, w)`` float32 (the frame, its
    soft edge and all :func:`take_out_frame` fills); 0 outside the box."""

    box: tuple[int, int, int, int]
    image: np.ndarray
    on: np.ndarray


def _laid_on(frame: GlassesFrame) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The box ``(x0, y0, x1, y1)`` around the frame, its soft edge and the lenses, and the opacity (float32, in the
    box) with which the photo's frame is laid back over an edit: the frame and its soft edge."""
    hole = _hole(frame.alpha)
    ys, xs = np.nonzero(hole | (frame.alpha > 0) | (frame.labels > 0))
    if not len(ys):
        return (0, 0, 0, 0), np.zeros((0, 0), np.float32)
    h, w = hole.shape
    y0, y1 = max(int(ys.min()) - _LAYER_PAD, 0), min(int(ys.max()) + _LAYER_PAD + 1, h)
    x0, x1 = max(int(xs.min()) - _LAYER_PAD, 0), min(int(xs.max()) + _LAYER_PAD + 1, w)
    edge = cv2.GaussianBlur(hole[y0:y1, x0:x1].astype(np.float32), (0, 0), _EDGE_BLUR)
    return (x0, y0, x1, y1), np.maximum(frame.alpha[y0:y1, x0:x1], np.minimum(edge * 2.0, 1.0))


def frame_layer(photo: np.ndarray, frame: GlassesFrame) -> FrameLayer:
    """The ``photo``'s frame as a layer (:class:`FrameLayer`), its box around the frame, its soft edge and the lenses:
    made once per photo, laid on each edit with :func:`lay_on`."""
    (x0, y0, x1, y1), on = _laid_on(frame)
    return FrameLayer((x0, y0, x1, y1), np.ascontiguousarray(photo[y0:y1, x0:x1]), on)


def lay_on(edited: np.ndarray, mask: np.ndarray, layer: FrameLayer):
    """``edited`` with the frame ``layer`` on top, and the ``mask`` of changed pixels without what it covers:
    ``(image, mask)``; only the layer's box is touched."""
    out, kept = edited.copy(), mask.astype(np.float32, copy=True)
    x0, y0, x1, y1 = layer.box
    if x1 > x0 and y1 > y0:
        on = layer.on[..., None]
        block = edited[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = np.clip(layer.image * on + block * (1.0 - on) + 0.5, 0, 255).astype(np.uint8)
        kept[y0:y1, x0:x1] = mask[y0:y1, x0:x1] * (1.0 - on[..., 0])
    return out, kept


def put_back_frame(photo: np.ndarray, edited: np.ndarray, mask: np.ndarray, frame: GlassesFrame):
    """The edit with the photo's frame on top, its soft edge included (all :func:`take_out_frame` fills):
    ``(image, mask)`` (:func:`lay_on` of :func:`frame_layer`)."""
    return lay_on(edited, mask, frame_layer(photo, frame))


def seen_through_lenses(
    painted: WarpResult, before: WarpResult, inside: np.ndarray, box: tuple[int, int, int, int] | None = None
) -> WarpResult:
    """``painted`` (e.g. lids painted over ``before``) where a lens shows it, ``before`` elsewhere: a lid raised past a
    rim goes behind it. ``inside``: bool, where the lenses are (the whole image, or its ``box`` (x0, y0, x1, y1))."""
    h, w = before.mask.shape
    x0, y0, x1, y1 = (0, 0, w, h) if box is None else box
    image, mask = before.image.copy(), before.mask.copy()
    image[y0:y1, x0:x1][inside] = painted.image[y0:y1, x0:x1][inside]
    mask[y0:y1, x0:x1][inside] = painted.mask[y0:y1, x0:x1][inside]
    return WarpResult(image, mask)
