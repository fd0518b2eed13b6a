"""A tongue stuck out of the mouth (ARKit ``tongueOut``), painted over the edited photo.

The canonical mesh has no tongue: the rig's ``tongueOut`` only drops and pushes the lower lip a little
(:mod:`facecraft.rigs.default_rig`), so an edit asking for it changed almost nothing, and "sticking the tongue out" or
":P" showed an open mouth without one. :func:`paint_tongue_out` draws it the way the default rig's own tongue moves
(:mod:`facecraft.rigs.face_parts`): it shows past the lower teeth from ``tongueOut`` = :data:`TONGUE_SHOWS_AT` on,
and at 1 its tip lies the rest of its travel (:data:`TONGUE_TRAVEL` less what it spends reaching the teeth) below the
lower lip's edge, as wide as that rig's tongue narrowed where it leaves the mouth (:data:`TONGUE_OUT_WIDTH`), never
wider than the opening between the mouth's inner corners allows.

Seen from the front it comes out under the upper lip (which stays in front), lies over the middle of the lower lip and
hangs toward the chin with a round tip. It is painted pink at the lips' brightness (:func:`tongue_colour`), lighter
outside the mouth than in its shadow under the upper lip, rounded across (darker at its sides), with a shallow furrow
down its middle, papillae, a wet highlight where it bends over the lip, a soft shadow on the skin under its tip, and
the photo's own softness and grain.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.rigs.default_rig import LIPS_LOWER_OUTER, SEMANTIC_VERTICES
from facecraft.rigs.face_parts import TONGUE_RADII, TONGUE_SHOWS_AT, TONGUE_TIP_BEHIND_TEETH, TONGUE_TRAVEL

from .mouth import _TONGUE_GRAIN, _UPPER_TEETH_HEIGHT, _luma, _px_per_mm, _smoothstep, grain, look_colours, mouth_frame
from .photo_blur import PAINT_SHARP, softening
from .photo_look import PhotoLook
from .warp import WarpResult, valid_depth

#: Half the width of the tongue where it leaves the mouth, as a share of the rig tongue's half-width
#: (:data:`facecraft.rigs.face_parts.TONGUE_RADII`, which fills the lower arch between the back teeth): a tongue
#: pushed out narrows and thickens.
TONGUE_OUT_WIDTH = 0.8
#: ... and at most this share of the opening between the mouth's inner corners (a small mouth's corners hold it in).
TONGUE_OUT_MOUTH_SHARE = 0.38
#: How far below the lower lip's edge the tip hangs at ``tongueOut`` = 1, in mm: the rig tongue's travel past the
#: lower incisors.
TONGUE_OUT_DRAPE_MM = 1000.0 * (TONGUE_TRAVEL - TONGUE_TIP_BEHIND_TEETH)
#: The tongue narrows by this share of its width from the lips to its tip, whose round end is this share of the
#: half-width long.
_TAPER = 0.15
_TIP_ROUND = 0.9
#: How far above the lower inner lip the tongue's top shows in an open mouth, as a share of its half-width: its
#: thickness.
_THICKNESS = 0.7
#: The upper teeth hang over this share of the lips' opening at most (their own visible height, the mouth painter's,
#: at most): the tongue shows below them.
_TEETH_SHARE = 0.6
#: Light on the tongue: ``[0]`` inside the mouth (under the upper lip's shadow), ``[1]`` out in the light; across it
#: falls to ``[2]`` at its sides (it is rounded); its tip, bending down away from the light, loses ``[3]``.
_LIGHT = (0.7, 1.0, 0.6, 0.25)
#: A tongue's pink (a lit tongue photographed in white light, RGB shares), and how much of the hue it keeps against
#: the lips'.
_PINK = (1.0, 0.55, 0.6)
_PINK_SHARE = 0.85
#: The furrow down its middle: its depth (share of light lost), its half-width (share of the tongue's half-width),
#: and how far toward the tip it runs (share of the length from the lower lip to the tip).
_FURROW = (0.08, 0.14, 0.6)
#: The wet highlight where the tongue bends over the lower lip: its peak (share of the light's colour), its height
#: (share of the tongue's half-width) and its width across (share of the half-width).
_SHINE = (0.3, 0.3, 0.35)
#: Its papillae: a bumpy texture of this share of its light, in bumps this many mm across.
_PAPILLAE = (0.035, 0.4)
#: The shadow the tip casts on the skin under it: depth (share of light lost), length (share of the half-width).
_CAST = (0.3, 0.4)
_EDGE_PX = 0.8  # anti-aliased edge, pixels
_OWN_SOFTNESS = 0.5  # px, as the mouth interior's


def tongue_colour(lips: np.ndarray) -> np.ndarray:
    """The lit colour (RGB 0..255) of a tongue out of a mouth whose lips are ``lips``: as bright as they are, in a
    tongue's pink (:data:`_PINK`) tinged by their hue, which carries the photo's colour cast (a tongue is pink whatever
    the lips' red, brown or purple)."""
    grey = float(_luma(lips))
    pink = np.asarray(_PINK) / float(_luma(np.asarray(_PINK)))
    own = np.asarray(lips, np.float64) / max(grey, 1.0)
    return np.clip(grey * (_PINK_SHARE * pink + (1.0 - _PINK_SHARE) * own), 0.0, 255.0)


def tongue_out_amount(weight: float) -> float:
    """How far out of the mouth a tongue of ARKit ``tongueOut`` ``weight`` is: 0 until its tip passes the lower
    teeth (:data:`TONGUE_SHOWS_AT`), 1 at ``tongueOut`` = 1."""
    return float(np.clip((float(weight) - TONGUE_SHOWS_AT) / (1.0 - TONGUE_SHOWS_AT), 0.0, 1.0))


def paint_tongue_out(
    warped: WarpResult,
    image: np.ndarray,
    src_px: np.ndarray,
    dst_px: np.ndarray,
    weight: float,
    *,
    depth: np.ndarray | None = None,
    look: PhotoLook | None = None,
) -> WarpResult:
    """``warped`` (the edited photo and its mask of changed pixels) with a tongue of ARKit ``tongueOut`` ``weight``
    stuck out between the lips at ``dst_px`` (``(468, 2)`` target mesh pixels; ``src_px`` the photo's own, for its
    scale and colours, ``image`` the unedited photo, ``depth`` per-vertex depth as for
    :func:`~facecraft.synth.mouth.paint_mouth_interior`); ``warped`` itself below :data:`TONGUE_SHOWS_AT`."""
    out = tongue_out_amount(weight)
    if out <= 0.0:
        return warped
    src, dst = np.asarray(src_px, np.float64), np.asarray(dst_px, np.float64)
    look = PhotoLook.of(look, image, src)
    fd = mouth_frame(dst)
    mm = _px_per_mm(src, valid_depth(depth)) * fd.width / max(mouth_frame(src).width, 1e-6)
    centre, _ = fd.local(dst[[SEMANTIC_VERTICES["lower_lip_inner"]]])
    u_c = float(np.clip(centre[0], 0.3 * fd.width, 0.7 * fd.width))
    half = min(TONGUE_OUT_WIDTH * 1000.0 * TONGUE_RADII[0] * mm, TONGUE_OUT_MOUTH_SHARE * fd.width)
    lo_in = float(np.interp(u_c, *fd.lower))
    u_out, v_out = fd.local(dst[list(LIPS_LOWER_OUTER)])
    lo_out = float(np.interp(u_c, np.maximum.accumulate(u_out), v_out))
    lip = max(lo_out - lo_in, 0.0)
    tip = lo_in + out * (lip + TONGUE_OUT_DRAPE_MM * mm)  # its tip: over the lip, then toward the chin

    # The region it can cover, in pixels: from the upper inner lip across the tongue's width to below its shadow.
    top = float(np.interp(u_c, *fd.upper))
    corners = [fd.to_image(np.array([u_c + s * half]), np.array([v])) for s in (-1.2, 1.2) for v in (top - 2, tip)]
    corners.append(fd.to_image(np.array([u_c]), np.array([tip + _CAST[1] * half + 2])))
    xs, ys = np.concatenate([c[0] for c in corners]), np.concatenate([c[1] for c in corners])
    soften = softening(look.blur, PAINT_SHARP)
    pad = int(np.ceil(3.0 * np.hypot(_OWN_SOFTNESS, soften))) + 2
    h, w = image.shape[:2]
    x0, y0 = max(int(np.floor(xs.min())) - pad, 0), max(int(np.floor(ys.min())) - pad, 0)
    x1, y1 = min(int(np.ceil(xs.max())) + pad + 1, w), min(int(np.ceil(ys.max())) + pad + 1, h)
    if x1 <= x0 or y1 <= y0:
        return warped
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    u, v = fd.coords(gx, gy)
    x = (u - u_c) / half  # -1 .. 1 across the tongue
    v_up = np.interp(u, *fd.upper)

    # Its outline: widest where it leaves the mouth, narrowing toward a broad round tip (a half-ellipse as long as it
    # is wide, shorter when little shows).
    r = min(_TIP_ROUND * half, max(tip - lo_in, 1.0))
    along = np.clip((v - lo_in) / max(tip - lo_in, 1.0), 0.0, 1.0)  # 0 at the lower inner lip, 1 at the tip
    taper = 1.0 - _TAPER * along
    body = np.where(v < tip - r, 1.0, np.sqrt(np.clip(1.0 - ((v - (tip - r)) / r) ** 2, 0.0, 1.0)))
    x = x / taper
    # Inside an open mouth its back falls away: its top is an arch its thickness above the lower lip, under the dark
    # of the mouth; the upper teeth stand in front of it (lips parted over them, a smile's, showed the tongue pasted
    # over the teeth); where the lips meet, the upper lip rests on it.
    arch = lo_in - _THICKNESS * half * np.sqrt(np.clip(1.0 - (x / 1.15) ** 2, 0.0, 1.0))
    teeth = np.minimum(_UPPER_TEETH_HEIGHT * fd.width, _TEETH_SHARE * np.maximum(np.interp(u, *fd.lower) - v_up, 0.0))
    inside = np.minimum(np.minimum(half * taper * (body - np.abs(x)), tip - v), v - np.maximum(v_up + teeth, arch))
    cover = _smoothstep(inside / _EDGE_PX + 0.5)
    if cover.max() <= 0.0:
        return warped

    _, lips = look_colours(look)
    across = np.sqrt(np.clip(1.0 - x**2, 0.0, 1.0))
    out_of_mouth = _smoothstep((v - lo_in) / max(0.35 * half, 1.0) + 0.5)
    facing = 1.0 - _LIGHT[3] * _smoothstep((along - 0.55) / 0.45)  # the tip bends down, away from the light
    light = (_LIGHT[0] + (_LIGHT[1] - _LIGHT[0]) * out_of_mouth) * (_LIGHT[2] + (1.0 - _LIGHT[2]) * across) * facing
    depth_f, width_f, reach = _FURROW
    light = light * (1.0 - depth_f * np.exp(-((x / width_f) ** 2)) * (1.0 - _smoothstep(along / reach)))
    colour = tongue_colour(lips)
    tongue = colour[None, None, :] * light[..., None]
    peak, at, spread = _SHINE
    shine = peak * np.exp(-(((v - lo_out) / (at * half)) ** 2) - (x / spread) ** 2) * out_of_mouth
    sheen = 0.5 * (lips + _luma(lips))  # the light's own colour off a wet surface, as on the interior's tongue
    tongue = tongue * (1.0 - shine[..., None]) + sheen[None, None, :] * shine[..., None]
    # its papillae: a fine bumpy texture of its own, under the photo's grain
    bumps = np.random.default_rng(1).normal(0.0, 1.0, tongue.shape[:2]).astype(np.float32)
    bumps = cv2.GaussianBlur(bumps, (0, 0), max(_PAPILLAE[1] * mm, 0.5))
    bumps *= _PAPILLAE[0] / max(float(bumps.std()), 1e-6)
    tongue = tongue * (1.0 + bumps[..., None])
    noise = grain(look, tongue.shape[:2]) * _TONGUE_GRAIN / np.maximum(_luma(tongue), 1.0)
    tongue = tongue * (1.0 + noise[..., None])

    # The shadow under its tip, on the lip and the chin (the tongue stands off the skin).
    depth_c, length = _CAST
    below = np.clip((v - tip) / (length * half), 0.0, None)
    cast = depth_c * out * np.exp(-(below**2) - (x / 0.9) ** 2) * (v > tip - r) * (v - v_up > 0)
    blur = float(np.hypot(_OWN_SOFTNESS, soften))
    cast = cv2.GaussianBlur(cast.astype(np.float32), (0, 0), max(blur, 0.25 * length * half))
    tongue = cv2.GaussianBlur(tongue.astype(np.float32), (0, 0), blur)
    alpha = cv2.GaussianBlur(cover.astype(np.float32), (0, 0), blur)[..., None]

    result = warped.image.copy()
    region = result[y0:y1, x0:x1].astype(np.float64) * (1.0 - cast[..., None])
    result[y0:y1, x0:x1] = np.clip(region * (1.0 - alpha) + tongue * alpha + 0.5, 0, 255).astype(np.uint8)
    mask = warped.mask.copy()
    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], np.maximum(alpha[..., 0], np.minimum(cast * 4.0, 1.0)))
    return WarpResult(result, mask, alpha=warped.alpha)
