"""Eyes that turn: the eyeballs of a photo turned by a change of the ARKit gaze weights (``eyeLook*``).

The iris is not a mesh point: the warp moves the lids a little by the rig's ``eyeLook*`` shapes and leaves the iris
where it was. So, per eye, the eyeball turns in its socket and the photo is repainted inside the photo's own eye
opening (the lids stay where they are; the warp moves them after):

* **How far**: the weights before and after (each clipped to 0..1, as ARKit's) are eye rotations by the project's one
  definition (:func:`facecraft.rigs.animation.eye_rotation_from_curves`: ``EYE_YAW_DEG`` / ``EYE_PITCH_DEG`` per
  unit weight, yaw toward the subject's left, pitch down). The iris centre moves by ``R_eye * (sin(new) - sin(old))``
  along the face's axes (from the subject's right eye to the left one, and down at right angles), ``R_eye`` =
  :data:`~facecraft.synth.lids.EYEBALL_RADII` iris radii, and the iris is foreshortened by ``cos(new) / cos(old)``
  along each axis.
* **The iris moves behind the lids**: the photo's own iris (and pupil), moved, clipped by the opening; what of it the
  photo hid under a lid is its own radial profile with its texture carried over
  (:func:`facecraft.synth.lids._own_iris`), in the lid's shadow.
* **The white where the iris leaves**: the photo's sclera colour, shaded as the lids' painter shades an uncovered
  white (the upper lid's shadow, greyer toward the corners and the lower margin, as the photo's own white is across
  the eye), as soft as the photo, with the texture of its own white and its grain, and brought to the photo's own white
  around it (a smooth local ratio: the photo's white is shaded and tinted locally). The photo's iris is cleared out to
  where its white begins (its limbal ring reaches past MediaPipe's radius on some eyes), and what the photo hid beyond
  the turned iris's rim is white, not iris.
* **The catchlight stays on the cornea**: it is a reflection of the light, not a mark on the iris: it moves by
  :data:`_GLINT_FOLLOW` of the iris's shift, and only as far as the turned iris lies under it.

Nothing changes for an eye whose rotation does not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.rigs.animation import eye_rotation_from_curves
from facecraft.rigs.arkit import ARKIT_NAMES, GAZE_CHANNELS
from facecraft.rigs.default_rig import EYE_L_UPPER, EYE_R_UPPER

from .lids import (
    _CORNER_SHADE,
    _EDGE_SHADE,
    _GAIN_IRIS,
    _IRIS_EDGE,
    _IRIS_EDGE_PX,
    _LID_SHADOW,
    _LID_SHADOW_REACH,
    _MARGIN_PX,
    _MARGIN_SHARE,
    _PAINT_SHARP,
    _WHITE_GRAIN,
    EYEBALL_RADII,
    EYES,
    IRIS_POINTS,
    _catchlight_at,
    _glint,
    _iris_discs,
    _iris_ring,
    _look_eye_colours,
    _own_iris,
    _photo_eye_frame,
    _sample,
    _sclera_gain,
    _white_texture,
    eye_polygon,
)
from .mouth import _luma, _smoothstep, grain
from .photo_blur import softening
from .photo_look import PhotoLook

#: The ARKit gaze channels (:data:`facecraft.rigs.arkit.GAZE_CHANNELS`), as a mask over the 52 weights.
GAZE = np.isin(ARKIT_NAMES, GAZE_CHANNELS)
#: How far the catchlight follows the iris: it is the cornea's reflection, which turns about its centre of curvature
#: (7.8 mm radius) ~5.7 mm from the eyeball's centre, while the iris plane is ~10 mm from it: 5.7 / 10.
_GLINT_FOLLOW = 0.55
#: The photo's iris is cleared out to this many of MediaPipe's iris radii (its soft rim and limbal ring go with it).
_CLEAR_RADII = 1.15
#: The white beside the iris, out to this many iris radii from its centre, sets the painted white's level.
_BESIDE_RADII = 2.5
#: ... where it shows at least this many pixels, and by at most this range of its sclera colour per channel.
_BESIDE_MIN_PX = 3
_BESIDE_LEVEL = (0.3, 1.5)
#: Shifts of the iris centre below this many pixels leave an eye as it is.
_MIN_SHIFT_PX = 0.05
#: The photo's iris reaches past MediaPipe's radius on some eyes: it is cleared out to where the photo shows white again
#: (the first band of these radii whose median luma is at least ``_WHITE_FROM`` of the painted white's), at most the
#: last one (FRLL 017 looking up: its dark limbal rim, left at 1.15 radii, outlined the painted white).
_CLEAR_SEARCH = (_CLEAR_RADII, 1.2, 1.25, 1.3, 1.35, 1.4)
_WHITE_FROM = 0.8
#: The painted white is matched to the photo's white around what it paints, within this many iris radii past the
#: cleared disc (a smooth ratio, the normalised blur of ``_MATCH_BLUR`` radii of the photo's white over the painted):
#: one level for the whole eye left a brighter crescent under a raised iris (FRLL 017, 006) and a seam of pinkish grey
#: beside a turned one (FRLL 034), where the photo's white is shaded or tinted locally.
_MATCH_REACH = 0.6
_MATCH_BLUR = 0.5
#: ... from pixels that read as white: this range of the painted white's luma (lashes, iris and catchlight are not).
_MATCH_WHITE = (0.6, 1.6)


@dataclass(frozen=True)
class TurnedEyes:
    """The photo with its eyeballs turned: ``image`` (H, W, 3) uint8, the landmarks ``iris`` (478, 2|3) with the iris
    points moved where the irises now are, and ``mask`` (H, W) float32 of the repainted pixels."""

    image: np.ndarray
    iris: np.ndarray
    mask: np.ndarray

    @property
    def turned(self) -> bool:
        return bool(self.mask.max(initial=0.0) > 0)


def gaze_after(before: np.ndarray, rig_change: np.ndarray) -> np.ndarray:
    """``(52,)`` weights ``before`` (clipped to 0..1) with their gaze channels moved by ``rig_change``'s and clipped to
    0..1 (large asks saturate, as ARKit's weights do); the other channels as before."""
    before = np.clip(np.asarray(before, np.float64), 0.0, 1.0)
    after = before.copy()
    after[GAZE] = np.clip(before[GAZE] + np.asarray(rig_change, np.float64)[GAZE], 0.0, 1.0)
    return after


def turn_eyes(image, src, iris, before, after, *, look: PhotoLook | None = None) -> TurnedEyes:
    """Turn the eyeballs of ``image`` from the gaze of weights ``before`` to that of ``after``.

    Parameters
    ----------
    image : array (H, W, 3) uint8
        The photo.
    src : array (468, 2)
        Pixel positions of the face's mesh vertices in it.
    iris : array (478, 2|3)
        The face's landmarks with MediaPipe's refined iris points (:data:`facecraft.synth.lids.IRIS_POINTS`).
    before, after : array (52,)
        ARKit weights the face shows and is to show (only ``eyeLook*`` count; clipped to 0..1).
    look : PhotoLook, optional
        The photo's measurements around this face (blur, colours), kept across edits.

    Returns
    -------
    TurnedEyes
        ``image`` itself, ``iris`` and a zero mask when no eye turns.
    """
    img = np.asarray(image)
    pts = np.array(iris, np.float64, copy=True)
    rot0 = np.radians(eye_rotation_from_curves(np.clip(np.asarray(before, np.float32), 0, 1)).astype(np.float64))
    rot1 = np.radians(eye_rotation_from_curves(np.clip(np.asarray(after, np.float32), 0, 1)).astype(np.float64))
    mask = np.zeros(img.shape[:2], np.float32)
    if np.allclose(rot0, rot1):
        return TurnedEyes(image, np.asarray(iris), mask)
    look = PhotoLook.of(look, img, src)
    discs = _iris_discs(pts)
    across = look.src[EYE_L_UPPER[-1]] - look.src[EYE_R_UPPER[-1]]  # the subject's right outer corner to the left's
    x_axis = across / max(float(np.hypot(*across)), 1e-6)
    axes = np.stack([x_axis, np.array([-x_axis[1], x_axis[0]])])  # rows: toward the subject's left; down the face
    out, done = img.copy(), set()
    blur = softening(look.blur, _PAINT_SHARP)
    for k, ((upper_ids, lower_ids), disc) in enumerate(zip(EYES, discs, strict=True)):
        if disc is None:
            continue
        ids = next(i for i in IRIS_POINTS if np.allclose(pts[i[0], :2], disc[0]))
        if ids[0] in done:  # both eyes took one disc: it turns once
            continue
        yaw0, pitch0, yaw1, pitch1 = rot0[3 * k], rot0[3 * k + 1], rot1[3 * k], rot1[3 * k + 1]
        radius = EYEBALL_RADII * disc[1]
        shift = radius * ((np.sin(yaw1) - np.sin(yaw0)) * axes[0] + (np.sin(pitch1) - np.sin(pitch0)) * axes[1])
        scale = np.array([np.cos(yaw1) / np.cos(yaw0), np.cos(pitch1) / np.cos(pitch0)])
        if float(np.hypot(*shift)) < _MIN_SHIFT_PX and np.allclose(scale, 1.0):
            continue
        if not _turn_one(out, mask, look, upper_ids, lower_ids, disc, shift, axes, scale, blur):
            continue
        done.add(ids[0])
        centre = pts[ids[0], :2].copy()
        rel = (pts[list(ids), :2] - centre) @ axes.T * scale  # the rim foreshortened along each axis
        pts[list(ids), :2] = centre + shift + rel @ axes
    if not done:
        return TurnedEyes(image, np.asarray(iris), np.zeros(img.shape[:2], np.float32))
    return TurnedEyes(out, pts.astype(np.asarray(iris).dtype, copy=False), mask)


def _turn_one(out, mask, look: PhotoLook, upper_ids, lower_ids, disc, shift, axes, scale, blur: float) -> bool:
    """Repaint one eye of ``out`` (in place; ``mask`` too) with its iris ``disc`` moved by ``shift`` pixels and
    scaled by ``scale`` along ``axes``; False (nothing painted) where the photo does not show that iris."""
    img, src = look.image, look.src
    fs = _photo_eye_frame(look, upper_ids, lower_ids)
    height = float(fs.gap(np.linspace(0.0, 1.0, 33)).max())
    sclera, iris_rgb = _look_eye_colours(look, fs, upper_ids[0], disc)
    if iris_rgb is None or height < 1.0:  # no iris in the opening (dark lenses, a shut eye): nothing to turn
        return False
    centre, r = np.asarray(disc[0], np.float64), float(disc[1])
    h, w = img.shape[:2]
    poly = eye_polygon(src, upper_ids, lower_ids)
    pad = int(np.ceil(3.0 * blur)) + 2
    x0, y0 = np.floor(poly.min(0)).astype(int) - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return False
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    u, v = fs.coords(gx, gy)
    a = u / fs.width
    up, lo = fs.profile(np.clip(u, 0.0, fs.width))
    within = _smoothstep(a / 0.04) * _smoothstep((1.0 - a) / 0.04)
    opening = _smoothstep(v - up + 0.5) * _smoothstep(lo - v + 0.5) * within
    if opening.max() <= 0:
        return False
    top, inset = max(_MARGIN_PX, _MARGIN_SHARE * height), min(_MARGIN_PX, 0.15 * height)

    def clean(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
        """How wholly the photo shows its eyeball at frame point ``(uu, vv)``: away from both margins' shadows."""
        pu, pl = fs.profile(np.clip(uu, 0.0, fs.width))
        inside = _smoothstep(uu / (0.04 * fs.width)) * _smoothstep((fs.width - uu) / (0.04 * fs.width))
        return _smoothstep((vv - pu - inset) / top) * _smoothstep((pl - vv - inset) / inset + 0.5) * inside

    eyeball = img[y0:y1, x0:x1].astype(np.float64)

    def glint_of(px: np.ndarray) -> np.ndarray:
        return _glint(px, sclera, iris_rgb)

    # The white where the iris was: the photo's sclera, shaded as the lids' painter shades what a raised lid uncovers.
    under = np.maximum(v - up, 0.0) / max(_LID_SHADOW_REACH * fs.width, 0.7)
    shadow = 1.0 - _LID_SHADOW * np.exp(-(under**2))
    shadow = shadow * (1.0 - _EDGE_SHADE * np.exp(-np.maximum(lo - v, 0.0) / max(0.05 * fs.width, 0.6)))
    curve = 0.85 + 0.15 * np.sin(np.pi * np.clip(a, 0.0, 1.0))
    dist0 = np.hypot(gx - centre[0], gy - centre[1])
    ratio = _luma(eyeball) / np.maximum(float(_luma(sclera)) * shadow * curve, 1e-6)
    kept = (clean(u, v) > 0.99) & (dist0 > _GAIN_IRIS * r) & (opening > 0.5)
    gain = _sclera_gain(a, ratio, kept)
    # In the colour and brightness of the white the photo shows beside its iris, per channel (the lids' painter holds
    # an uncovered white at the photo's brightest, its tint kept near grey: here the painted white lies between the
    # photo's own, and so it read as a white or blue-grey patch on shaded UTKFace eyes).
    cu, cv_ = fs.coords(centre[:1], centre[1:])
    level_rows = np.abs(v - cv_[0]) < 0.5 * r  # level with the iris: what lies behind it is most like this white
    beside = (clean(u, v) > 0.5) & level_rows & (dist0 > _GAIN_IRIS * r) & (dist0 < _BESIDE_RADII * r) & (opening > 0.5)
    model = sclera * (gain * shadow * curve)[..., None]
    level = np.ones(3)
    if beside.sum() >= _BESIDE_MIN_PX:
        level = np.clip(np.median(eyeball[beside] / np.maximum(model[beside], 1.0), axis=0), *_BESIDE_LEVEL)
    curve = curve * (1.0 - _CORNER_SHADE * (1.0 - np.sin(np.pi * np.clip(a, 0.0, 1.0))) ** 3)
    white = sclera * level * (gain * shadow * curve)[..., None]
    if blur > 0:
        white = cv2.GaussianBlur(white, (0, 0), blur)
    seen = (clean(u, v) > 0.5) & (opening > 0.5)
    clear = _clear_radii(eyeball, white, dist0 / r, seen, r)
    white = white * _local_match(eyeball, white, dist0 / r, clear, (opening > 0.9) & (glint_of(eyeball) < 0.1), r)
    texture, textured = _white_texture(img, fs, clean, gx, gy, u, v, disc)
    noise = grain(look, white.shape[:2]) * _WHITE_GRAIN * (1.0 - textured)
    white = white + texture * (textured * shadow * curve)[..., None] + noise[..., None]
    # wholly cleared out to ``clear`` radii for a turn that moves the iris by a margin band or more, its rim fading past
    # them (centred there, it left a fifth of the photo's limbal ring: a grey line beside a turned iris, FRLL 034); a
    # small turn moves the photo's own rim with the iris, and as few of its pixels as before
    far = _smoothstep(float(np.hypot(*shift)) / top)
    reach = clear * r + 0.5 * max(_IRIS_EDGE_PX, _IRIS_EDGE * clear * r) * far
    gone = _iris_ring(dist0, reach)
    if blur > 0:  # edges as soft as the photo (a blurred eye's turned iris stood out with a crisp outline)
        gone = cv2.GaussianBlur(gone, (0, 0), blur)
    base = eyeball * (1.0 - gone[..., None]) + white * gone[..., None]

    # The turned iris: each pixel's point on the photo's iris (moved back, un-foreshortened along the face's axes).
    rel = np.stack([gx - centre[0] - shift[0], gy - centre[1] - shift[1]], -1) @ axes.T / scale
    qx, qy = centre[0] + rel @ axes[:, 0], centre[1] + rel @ axes[:, 1]
    dist = np.hypot(*np.moveaxis(rel, -1, 0))
    own = _sample(img, qx, qy)
    qu, qv = fs.coords(qx, qy)
    # The photo's catchlight with its soft halo (dimmer than a catchlight, carried with the iris it drew a second one).
    spots_at = _catchlight_at(glint_of(eyeball) * (dist0 < 0.8 * r), r, x0, y0)
    # The catchlight the moved iris carries is taken off it and the photo's own put back below, whole pixels away: a
    # sub-pixel resample smeared and dimmed it on every turn (a talking portrait's catchlight dulled at each saccade).
    glint = spots_at(qx, qy)
    # What the photo shows of its iris at the moved-back points: away from the margins' shadows for a turn that moves
    # the iris by a margin band or more (the shadow stays at the lid), all of its opening for a small one (the margin
    # band of a 0.05 turn, painted, changed the iris's top by 100 levels).
    pu, pl = fs.profile(np.clip(qu, 0.0, fs.width))
    inside = _smoothstep(qv - pu + 0.5) * _smoothstep(pl - qv + 0.5)
    shown = np.minimum(inside * (1.0 - far) + clean(qu, qv) * far, inside)
    if blur > 0:  # (the moved margin's outline, crisp, drew a pale line across a blurred eye)
        shown = cv2.GaussianBlur(shown, (0, 0), blur)
    shown = shown * (1.0 - glint)
    detail, whole, mean = _own_iris(img, fs, clean, qu, qv, (cu[0], cv_[0]), dist, r, own, shown, glint_of)
    if whole.max() <= 0:  # too little of its iris to carry: its median colour, darker toward the middle (the pupil)
        mean = np.broadcast_to(iris_rgb, own.shape) * (0.6 + 0.4 * _smoothstep(dist / r))[..., None]
    hidden = (mean + detail) * shadow[..., None]
    if blur > 0:
        hidden = cv2.GaussianBlur(hidden, (0, 0), blur)
    own = own + (mean - own) * glint[..., None]  # its catchlight stays behind (added back below)
    # Past the iris's rim what the photo hid is white, not iris: painted as iris, the ring carried round a lowered iris
    # drew a grey halo above it (the photo's lid hid the white there; FRLL 017, 034 looking down).
    past = _iris_ring(dist, r)[..., None]
    iris = own * shown[..., None] + (hidden * past + base * (1.0 - past)) * (1.0 - shown[..., None])
    ring = _iris_ring(dist, reach)  # as far as the photo's is cleared: a small turn moves its pixels
    if blur > 0:
        ring = cv2.GaussianBlur(ring, (0, 0), blur)
    content = base * (1.0 - ring[..., None]) + iris * ring[..., None]

    # The catchlight: the photo's own, moved by part of the shift, where the turned iris still lies under it.
    lx, ly = gx - np.round(_GLINT_FOLLOW * shift[0]), gy - np.round(_GLINT_FOLLOW * shift[1])
    lit = _sample(img, lx, ly)
    spot = spots_at(lx, ly) * ring
    content = content * (1.0 - spot[..., None]) + lit * spot[..., None]

    if blur > 0:  # the lids' edge over the turned eyeball as soft as the photo
        opening = cv2.GaussianBlur(opening, (0, 0), blur)
    wa = opening * np.maximum(np.maximum(gone, ring), spot)
    region = out[y0:y1, x0:x1].astype(np.float64)
    region = region * (1.0 - wa[..., None]) + content * wa[..., None]
    out[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], wa.astype(np.float32))
    return True


def _clear_radii(eyeball: np.ndarray, white: np.ndarray, t: np.ndarray, seen: np.ndarray, r: float) -> float:
    """How many iris radii out the photo's iris is cleared: :data:`_CLEAR_RADII`, or past the photo's iris where its
    rim reaches further (:data:`_CLEAR_SEARCH`); ``t`` is each pixel's distance from the iris centre in radii (of
    ``r`` pixels), ``seen`` where the photo shows its eyeball (away from the lids' margins)."""
    ratio = _luma(eyeball) / np.maximum(_luma(white), 1.0)
    half = max(0.5 * (_CLEAR_SEARCH[1] - _CLEAR_SEARCH[0]), 0.5 / r)  # at least a pixel wide
    measured = False
    for radius in _CLEAR_SEARCH:
        band = seen & (np.abs(t - radius) <= half)
        if band.sum() < _BESIDE_MIN_PX:
            continue
        measured = True
        if float(np.median(ratio[band])) >= _WHITE_FROM:
            return radius
    return _CLEAR_SEARCH[-1] if measured else _CLEAR_RADII


def _local_match(eyeball: np.ndarray, white: np.ndarray, t: np.ndarray, clear: float, usable, r: float) -> np.ndarray:
    """``(h, w, 3)`` factor that brings the painted ``white`` to the photo's own white around the cleared disc of
    ``clear`` radii (``t``: distance from the iris centre in radii; ``usable``: pixels well inside the opening, off the
    catchlight): the photo's white over the painted, per channel, from the pixels within :data:`_MATCH_REACH` radii
    past the disc that read as white, spread smoothly (a normalised blur), its median where the photo shows none
    near; 1 where it shows no white around the disc at all."""
    ratio = eyeball / np.maximum(white, 1.0)
    luma = _luma(eyeball) / np.maximum(_luma(white), 1.0)
    rim = usable & (t > clear + 0.1) & (t < clear + _MATCH_REACH) & (luma > _MATCH_WHITE[0]) & (luma < _MATCH_WHITE[1])
    if rim.sum() < _BESIDE_MIN_PX:
        return np.ones_like(white)
    level = np.median(ratio[rim], axis=0)
    sigma = max(_MATCH_BLUR * r, 1.0)
    m = rim.astype(np.float32)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    num = cv2.GaussianBlur(((ratio - level) * m[..., None]).astype(np.float32), (0, 0), sigma)
    near = _smoothstep(den / max(0.25 * float(den.max()), 1e-6))
    local = level + num / np.maximum(den, 1e-6)[..., None] * near[..., None]
    return np.clip(local, *_BESIDE_LEVEL)
