"""Lips pressed shut in a rendered frame, also over a photo that smiles with its teeth showing.

A talking portrait must press the lips together on /p b m/. The rig closes them by weights, but on a broad
smile the mouth corners fold as the lips come together: the warp damps the folding vertices
(:func:`facecraft.synth.warp.unfold`), which leaves part of the photo's opening, the inner lip rows may
even cross, and the collapsed opening squeezes the photo's teeth into white lines on and between the lips.
:func:`seal_mouth` repaints the lips of such a frame from the photo's own lips, in the lip bands' frame
(:func:`lip_bands`, along the outer mouth corners 61 -> 291) where only the outer lip contours need to be
right:

* the **seam** where the lips meet splits the frame's lip region (outer upper to outer lower contour) in
  the photo's proportion of upper to lower lip thickness;
* the **upper lip** band, from its outer contour down to the seam, is the photo's upper lip (outer contour
  to inner contour, less :data:`EDGE_SKIP` of its thickness at the inner edge, where teeth bleed in, or the
  opening's shade there where more, :func:`_dark_edges`),
  stretched column by column; the **lower lip** likewise; no pixel of the photo's opening is sampled;
* a soft **seam line** in the lips' colour, darkened, where they meet;
* with ``amount`` below 1 the lips' inner edges stop that share of the way from where the frame has them
  to the seam, and the slit between them is the mouth's opening narrowing (the frame's own at the seal's start,
  then a painted cavity), so a seal that ramps in over frames closes smoothly; the frame's opening is not squeezed
  into it (its teeth became a white strip).

A photo whose lips already touch (the rig and warp close it cleanly) is left alone, and nothing outside the
frame's outer lip contours changes.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.rigs.default_rig import LIPS_LOWER_INNER, LIPS_LOWER_OUTER, LIPS_UPPER_INNER, LIPS_UPPER_OUTER
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.mediapipe_mesh import canonical_mesh

from .corner_frame import CornerFrame
from .mouth import (
    _WIDE_OPEN,
    _cavity,
    _luma,
    _photo_shows_teeth,
    _smoothstep,
    inner_lip_polygon,
    look_colours,
    mouth_frame,
    repaint_inputs,
)
from .photo_blur import PAINT_SHARP, gaussian, softening
from .photo_look import PhotoLook
from .warp import WarpResult, _signed_area, unfolded_target
from .warp import face_width as outline_width  # the parameter face_width shadows it

EDGE_SKIP = 0.15  # share of a lip's thickness at its inner edge not sampled (the photo's teeth bleed into it)
_EDGE_SKIP_PX = (1.2, 2.5)  # ... bounded, pixels (an edge pixel is partly teeth), and at most ...
_EDGE_SKIP_MAX = 0.6  # ... this share of the lip
#: A blurry photo's open mouth darkens its lips' inner edges past the landmarks' inner contour (:func:`_dark_edges`):
#: a lip's samples also skip the run of pixels at its inner edge darker than ``_EDGE_DARK`` of the lips' luma, at most
#: ``_DARK_SKIP_MAX`` of the lip. Sampled and stretched to the seam, that shade was a dark band 2.5-3.75 px thick where
#: the sealed lips met (UTKFace tuning crops 86_0_0, 7_0_0, 14_1_0; 22 UTKFace tuning
#: crops and 9 smiling FRLL calibration photos with parted lips, "a closed mouth smile" and jawOpen=0: the band below
#: 0.8 of the lips' luma 0.50 / 2.25 / 3.75 px median / p90 / worst -> 0.12 / 1.25 / 2.50; with 0.75 of the lips'
#: luma, the opening's shade near a wide mouth's corners (_OPENING_DARK), 0.50 / 1.53 / 3.00: a blurred edge's shade is
#: lighter than the opening's).
_EDGE_DARK = 0.85
_DARK_SKIP_MAX = 0.8
_DARK_RUN_SAMPLES = 17  # samples across a lip for that run ...
_DARK_RUN_SPAN = 5  # ... smoothed across the mouth over this many of the _SAMPLES columns
_MIN_LIP_PX = 1.0  # thinnest lip band, pixels
_OPEN_PX = (1.0, 3.0)  # photo's lip opening (px) from which the repaint starts, and where it is full
SEAL_RAMP = 0.3  # a seal below this amount fades the repaint in (its lips equal the warp's to first order)
_SEAM_DARK = 0.5  # darkening of the seam line's centre toward the lips' shadow colour
_SLIT_SPREAD = 0.6  # the slit's shadow: Gaussian half width, share of half the gap between the inner edges (zoomed
# speech frames of UTKFace tuning crops 76, 240, 244: a soft line, not a patch)
_SEAM_SHADE = 0.45  # the lips' shadow colour (the seam's, the slit of lips partly closed), share of their colour
_SEAM_WIDTH = 0.004  # Gaussian half width of the seam line, face widths (at least 0.6 px); a softer photo spreads it
_FEATHER_PX = 0.75  # anti-aliasing of the repainted region's edge, pixels
_CORNER_BLEND = 0.5  # fade past a corner where the outer contours do not meet, share of the lips' height there
_STEEP_END = 3.0  # an outer contour dropping to a corner steeper than this (|dv/du|, 72 deg) ends open there
_SAMPLES = 49
_SEAM_BLEND_PX = 1.0  # the lips' samples blend from the upper lip's to the lower's over this, pixels across the seam
_SEAM_SOFT_REACH = 2.0  # a soft photo's seam blurred within this many of the blur's sigmas (plus a pixel) of it
_SHIFT_SPAN = 0.15  # the lips' mean colours are measured inside this share of the mouth's width from each corner
_SHIFT_RAMP = 0.5  # ... the upper lip shifted toward the lower one's from none at its outer contour to all over this
_SHIFT_FULL = 10.0  # ... in full once its mean luma exceeds the lower lip's by this (from none at none)
_OPENING_DARK = 0.75  # near the corners, share of the lips' luma below which a lip pixel is the opening's shade ...
_WIDE_OPEN_RAMP = 0.15  # ... of a mouth open wide: its opening past mouth.py's _WIDE_OPEN share of its width, over this


@dataclass(frozen=True)
class LipBands(CornerFrame):
    """The four lip contours of one face as profiles ``v(u)`` in a frame along the outer mouth corners.

    ``u`` runs from the right outer corner (landmark 61) toward the left one (291), ``v`` down the face;
    ``u`` samples ``(N,)`` from 0 to ``width``; the inner rows end at the outer corners (the lips meet there).
    """

    u: np.ndarray
    outer_up: np.ndarray
    inner_up: np.ndarray
    inner_lo: np.ndarray
    outer_lo: np.ndarray

    def at(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The four contours' ``v`` at ``u`` (outer upper, inner upper, inner lower, outer lower)."""
        return tuple(np.interp(u, self.u, p) for p in (self.outer_up, self.inner_up, self.inner_lo, self.outer_lo))

    @property
    def opening(self) -> float:
        """Largest gap between the inner lips, pixels (0 where they touch or cross)."""
        return float(np.maximum(self.inner_lo - self.inner_up, 0.0).max(initial=0.0))


def lip_bands(points: np.ndarray, *, samples: int = _SAMPLES) -> LipBands:
    """:class:`LipBands` of ``(468, 2)`` pixel positions."""
    frame = CornerFrame.between(points[LIPS_UPPER_OUTER[0]], points[LIPS_UPPER_OUTER[-1]])
    grid = np.linspace(0.0, frame.width, samples)

    def row(ids):
        u, v = frame.local(points[list(ids)])
        return np.interp(grid, np.maximum.accumulate(u), v)

    ends = (LIPS_UPPER_OUTER[0],), (LIPS_UPPER_OUTER[-1],)
    inner_up = row(ends[0] + LIPS_UPPER_INNER + ends[1])
    inner_lo = row(ends[0] + LIPS_LOWER_INNER + ends[1])
    return LipBands(**vars(frame), u=grid, outer_up=row(LIPS_UPPER_OUTER), inner_up=inner_up, inner_lo=inner_lo,
                    outer_lo=row(LIPS_LOWER_OUTER))  # fmt: skip


def seal_mouth(
    warped, image, src_px, dst_px, amount: float, *, face_width: float | None = None, look: PhotoLook | None = None
) -> WarpResult:
    """Repaint the lips of a rendered frame pressed together (``amount`` 1) or that share of the way.

    Parameters
    ----------
    warped : WarpResult or array (H, W, 3)
        The rendered frame (warp, mouth interior, lids), uint8 RGB.
    image : array (H, W, 3)
        The unedited photo (its lips are what is painted).
    src_px, dst_px : array (468, 2)
        Mesh vertex positions in the photo, and where the frame shows them (pixels).
    amount : float
        How far the lips' inner edges go to the seam, in [0, 1] (0 returns the frame unchanged).
    face_width : float, optional
        Face width in pixels, for the seam line's width (default: from ``src_px``, cheek to cheek).
    look : PhotoLook, optional
        The photo's measurements around this face (its blur, lip colour), when the caller keeps them across edits.

    Returns
    -------
    WarpResult
        The frame with the lips repainted and the mask joined with the repainted region. Unchanged when the
        photo's lips already touch (opening below 1 px).
    """
    base, mask, img, src, dst = repaint_inputs(warped, image, src_px, dst_px)
    if not (np.isfinite(amount) and 0.0 <= float(amount) <= 1.0):
        raise ParameterError(f"amount: expected a share of the way to sealed lips in [0, 1], got {amount!r}")
    amount = float(amount)
    bs, bd = _open_steep_ends(lip_bands(src)), _open_steep_ends(lip_bands(dst))
    weight = _smoothstep((bs.opening - _OPEN_PX[0]) / (_OPEN_PX[1] - _OPEN_PX[0])) * _smoothstep(amount / SEAL_RAMP)
    if weight <= 0.0:
        return WarpResult(base, mask)
    fw = outline_width(src) if face_width is None else float(face_width)

    # Per column of the frame (dst) and of the photo (src, same fraction across the mouth).
    thick_up_s = np.maximum(bs.inner_up - bs.outer_up, _MIN_LIP_PX)
    thick_lo_s = np.maximum(bs.outer_lo - bs.inner_lo, _MIN_LIP_PX)
    share_up = thick_up_s / (thick_up_s + thick_lo_s)
    seam = bd.outer_up + np.maximum(bd.outer_lo - bd.outer_up, 0.0) * share_up
    inner_up = np.clip(bd.inner_up, np.minimum(bd.outer_up + _MIN_LIP_PX, seam), seam)
    inner_lo = np.clip(bd.inner_lo, seam, np.maximum(bd.outer_lo - _MIN_LIP_PX, seam))
    # No wider than the frame's own opening: where the seam lies outside it, the clip opened a gap the frame does not
    # have, from the seam to the inner lips; at a corner held open (_open_steep_ends) the seam sits below the corner
    # where the inner lips meet, and the slit there was a dark dot beside the corner (UTKFace tuning crop 76, seal 0.5:
    # 3 px, 100 levels darker than the skin around it).
    own_gap = np.maximum(bd.inner_lo - bd.inner_up, 0.0)
    shrink = np.minimum(own_gap / np.maximum(inner_lo - inner_up, 1e-9), 1.0)
    inner_up, inner_lo = seam - shrink * (seam - inner_up), seam + shrink * (inner_lo - seam)
    edge_up = inner_up + amount * (seam - inner_up)  # the lips' inner edges in the frame
    edge_lo = inner_lo + amount * (seam - inner_lo)
    look = PhotoLook.of(look, img, src)
    _, lip_colour = look_colours(look)
    photo_lips = _LipsPhoto(
        img, look.measure("lips without opening", lambda: _lips_without_opening(img, src, lip_colour))
    )
    dark_up, dark_lo = _dark_edges(photo_lips, bs, float(_luma(lip_colour)))
    skip_up, skip_lo = (
        np.maximum(
            np.minimum(np.clip(EDGE_SKIP * thick, *_EDGE_SKIP_PX), _EDGE_SKIP_MAX * thick),
            np.minimum(dark, _DARK_SKIP_MAX * thick),
        )
        for thick, dark in ((thick_up_s, dark_up), (thick_lo_s, dark_lo))
    )

    h, w = base.shape[:2]
    ring = np.concatenate([np.stack(bd.to_image(bd.u, bd.outer_up), 1), np.stack(bd.to_image(bd.u, bd.outer_lo), 1)])
    reach = int(np.ceil(max(_corner_blends(bd))))
    x0, y0 = np.floor(ring.min(0)).astype(int) - 2 - reach
    x1, y1 = np.ceil(ring.max(0)).astype(int) + 3 + reach
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return WarpResult(base, mask)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    u, v = bd.coords(gx, gy)
    uc = np.clip(u, 0.0, bd.width)
    ou, _, _, ol = bd.at(uc)
    e_up, e_lo, sm = (np.interp(uc, bd.u, p) for p in (edge_up, edge_lo, seam))
    us = uc / bd.width * bs.width
    ou_s, iu_s, il_s, ol_s = bs.at(us)
    k_up, k_lo = np.interp(us, bs.u, skip_up), np.interp(us, bs.u, skip_lo)

    # Upper band [ou, e_up] <- photo [ou_s, iu_s - skip]; lower band [e_lo, ol] <- photo [il_s + skip, ol_s].
    t_up = np.clip((v - ou) / np.maximum(e_up - ou, 1e-6), 0.0, 1.0)
    t_lo = np.clip((ol - v) / np.maximum(ol - e_lo, 1e-6), 0.0, 1.0)
    vs_up = ou_s + t_up * (iu_s - k_up - ou_s)
    vs_lo = ol_s - t_lo * (ol_s - il_s - k_lo)
    line = 0.5 * (e_up + e_lo)
    # Past a corner the photo is sampled past its own corner, on the corner's rows: the corner's column stretched over
    # the fade past a corner held open (_open_steep_ends) was a flat rectangle of its shade, as tall as the lips 2 px
    # in (UTKFace tuning crop 240, seals 0.1-0.5: 34 x 17 px, brown over the skin beside the corner).
    up_px, lo_px = (_remap(photo_lips, *bs.to_image(u / bd.width * bs.width, vs)) for vs in (vs_up, vs_lo))
    # Toward the corners, where the lips taper into the skin, the shift fades out (over the span it was measured in):
    # in full there it darkened the skin past a corner into a dark wedge (UTKFace tuning crop 42, seal 1.0).
    inward = np.clip(np.minimum(uc, bd.width - uc) / (_SHIFT_SPAN * bd.width), 0.0, 1.0)
    shift = (np.minimum(t_up / _SHIFT_RAMP, 1.0) * inward)[..., None] * _upper_lip_shift(
        photo_lips, bs, skip_up, skip_lo
    )
    up_px += shift
    # The lips meet in a blend over :data:`_SEAM_BLEND_PX` about the line: switched pixel by pixel, a seam slanting
    # across the rows was a staircase between the two lips' colours (UTKFace tuning crop 76, seal 1.0).
    lower = np.clip((v - line) / _SEAM_BLEND_PX + 0.5, 0.0, 1.0)[..., None]
    lips_px = up_px * (1.0 - lower) + lo_px * lower
    # On a soft photo the lips meet as softly as it shows them: each lip's inner edge keeps some of the blurred
    # opening's shade, and the two, stretched to the seam, met in a crisp V a photo that soft never has, a thin grey
    # line drawn along the seam (UTKFace tuning crop 7_0_0, blur 1.8 px). The lips' samples about the seam are blurred
    # by what the photo's blur adds to a painted stroke's, within :data:`_SEAM_SOFT_REACH`. Sealed tuning photos
    # blurrier than 1.7 px (8 UTKFace crops; 'a closed mouth smile'): the seam 3.25 -> 4.00 px at half its depth, its
    # steepest step 0.150 -> 0.092 of the lips' luma per px; their closed-mouth tuning photos' own lip line 5.25 px,
    # 0.099 (8 of UTKFace positions 500-699); photos sharper than 1 px are painted as before.
    soften = softening(look.blur, PAINT_SHARP)
    if soften > 0.0:
        near = np.exp(-(((v - line) / (_SEAM_SOFT_REACH * soften + 1.0)) ** 2))[..., None]
        lips_px += near * (gaussian(lips_px.astype(np.float32), soften) - lips_px)
    # The seam line, where the lips meet: their colour in shadow, as the lips come together; on a soft photo as soft
    # as it, the same shadow spread wider (a crisp line on a blurry crop read as drawn, past the mouth corners too).
    own = max(0.6, _SEAM_WIDTH * fw)
    sigma = float(np.hypot(own, soften))
    dark = _SEAM_DARK * amount * (own / sigma) * np.exp(-(((v - line) / sigma) ** 2))
    # Between the inner edges (amount < 1) the lips' inner surfaces, their edges sampled on, meet in that shadow
    # spread over the gap. The frame's own opening squeezed in there showed its teeth as a white strip rimmed in black
    # (a wide-open photo's drawn teeth: UTKFace tuning crop 76 through every pause and /p b m/ of its speech, seals
    # 0.4-0.65); a flat shadow over the gap read as a dark patch.
    half_gap = 0.5 * np.maximum(e_lo - e_up, 0.0)
    spread = np.hypot(sigma, _SLIT_SPREAD * half_gap)
    closing = _smoothstep(half_gap / sigma)
    slit = closing * np.exp(-(((v - line) / spread) ** 2))
    dark = np.maximum(dark, slit)
    # The lips' shadow ends at the mouth corners: past a corner the lips only fade out. Where a steep outer contour
    # leaves a corner open (_open_steep_ends) the seam sits above the corner, and the slit down to it ran on past the
    # corner as a grey dash over the skin (UTKFace tuning crop 76, seals 0.1-0.3, 4-6 px tall, 8-15 px long)
    in_corners = np.clip(1.0 + np.minimum(u, bd.width - u) / _FEATHER_PX, 0.0, 1.0)
    dark *= in_corners
    lips_px = lips_px * (1.0 - dark[..., None]) + (_SEAM_SHADE * lip_colour) * dark[..., None]
    # The gap itself is the mouth's opening, narrowing as the lips close: at the seal's start the frame's own (the
    # photo's opening there), toward a third of a seal the mouth painter's cavity (mouth._cavity; the frame's opening
    # then has the painter's teeth). The slit's shadow alone over the gap, faded in with the repaint,
    # veiled a wide-open photo's dark opening grey-brown long before the lips met (UTKFace tuning crop 76, seals
    # 0.1-0.3); its edges as soft as the photo's, the opening gone as the gap closes.
    region = base[y0:y1, x0:x1].astype(np.float64)
    # A photo showing its teeth keeps the frame's own opening, its teeth, until the gap narrows to a line: faded toward
    # the painted cavity by the seal, white teeth went grey as through smoke (FRLL calibration 010's smile, seal 0.2);
    # kept in a gap of a pixel or two they were a white line rimmed in black (UTKFace tuning crop 120, seal 0.5).
    skin, lips = look_colours(look)
    if look.measure("teeth shown", lambda: _photo_shows_teeth(img, mouth_frame(src), skin, lips)):
        ramp = 1.0 - _smoothstep((half_gap - sigma) / sigma)
    else:
        ramp = _smoothstep(amount / SEAL_RAMP)
    width = np.maximum(e_lo - e_up, 1e-6)
    across = np.clip(1.0 - (2.0 * uc / bd.width - 1.0) ** 2, 0.0, 1.0)
    t = np.clip((v - e_up) / width, 0.0, 1.0)
    # The gap's soft edge reaches past the inner edges: there the cavity is its rim's colour (:func:`_cavity`; its rim
    # light once grew without bound outside the gap and drew orange lines on a blurry photo's lips, crops 42, 244).
    cavity = _cavity(t, v - e_up, e_lo - v, width, across, float(2.0 * half_gap.max()) / bd.width, lip_colour)
    opening = region * (1.0 - np.atleast_3d(ramp)) + cavity * np.atleast_3d(ramp)
    gap = closing * in_corners * _smoothstep(0.5 * (half_gap - np.abs(v - line)) / sigma + 0.5)
    lips_px = lips_px * (1.0 - gap[..., None]) + opening * gap[..., None]

    # Coverage: between the outer contours and the mouth corners, anti-aliased. Where the frame's outer contours have
    # not met at a corner (they bulge past it when a wide-open photo's lips close), the band ended in a vertical cut;
    # there its edge fades out past the corner (:data:`_CORNER_BLEND`), narrowing to the seam as the lips taper to a
    # corner: held at the corner's height, the fade was a rectangle over the skin beside it (UTKFace tuning crop 240,
    # seals 0.1-0.5: 34 px tall, 17 px long, its top and bottom cut sharp).
    blend = np.where(u < 0.5 * bd.width, *_corner_blends(bd))
    taper = np.clip(1.0 + np.minimum(np.minimum(u, bd.width - u), 0.0) / blend, 0.0, 1.0)
    cover = np.clip(np.minimum(v - sm - taper * (ou - sm), sm + taper * (ol - sm) - v) / _FEATHER_PX + 0.5, 0.0, 1.0)
    cover *= np.clip((np.minimum(u, bd.width - u) - 0.5 * _FEATHER_PX) / blend + 1.0, 0.0, 1.0) * weight
    out = base.copy()
    out[y0:y1, x0:x1] = np.clip(region * (1.0 - cover[..., None]) + lips_px * cover[..., None] + 0.5, 0, 255).astype(
        np.uint8
    )
    new_mask = mask.copy()
    new_mask[y0:y1, x0:x1] = np.maximum(new_mask[y0:y1, x0:x1], cover.astype(np.float32))
    return WarpResult(out, new_mask)


def _open_steep_ends(bands: LipBands) -> LipBands:
    """``bands`` with an outer contour that drops to a mouth corner steeper than :data:`_STEEP_END` (``|dv/du|``) over
    the last sample held at the sample before it: that corner's lips end open, and fade out past it
    (:func:`_corner_blends`).

    A wide-open photo's outer contours come into its corners from above and below (UTKFace tuning crop 76, jawOpen
    0.63: the upper one's last point 24 px above the corner, 1.5 px beside it); partly sealed, the repainted lips
    there ended in a vertical cut at the corner, its last column the photo's skin beside the corner (a light line),
    and past it the frame's dark corner of the opening (a dark one). Held open, the lips fade over that dark corner."""
    step = float(bands.u[1] - bands.u[0])
    up, lo = bands.outer_up.copy(), bands.outer_lo.copy()
    for end, before in ((0, 1), (-1, -2)):
        if up[before] < up[end] - _STEEP_END * step:
            up[end] = up[before]
        if lo[before] > lo[end] + _STEEP_END * step:
            lo[end] = lo[before]
    return dataclasses.replace(bands, outer_up=up, outer_lo=lo)


def _corner_blends(bands: LipBands) -> tuple[float, float]:
    """Pixels over which the repainted lips fade out past each mouth corner (``u`` 0, then ``width``): at least the
    anti-aliasing, else :data:`_CORNER_BLEND` of the lips' height where the outer contours reach the corner."""
    ends = np.maximum(bands.outer_lo[[0, -1]] - bands.outer_up[[0, -1]], 0.0)
    return tuple(float(b) for b in np.maximum(_CORNER_BLEND * ends, _FEATHER_PX))


def _dark_edges(photo_lips: _LipsPhoto, bands: LipBands, lip_luma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``bands`` (the photo's), pixels at the upper and the lower lip's inner edge in the opening's shade:
    the run of samples from the inner contour outward darker than :data:`_EDGE_DARK` of ``lip_luma`` (the filled
    photo's, ``photo_lips``), smoothed across the mouth over :data:`_DARK_RUN_SPAN` columns (a column's run alone
    jumps with the photo's noise)."""
    t = np.linspace(0.0, 1.0, _DARK_RUN_SAMPLES)[:, None]  # from the inner contour (0) to the outer one (1)
    u = bands.u[None, :] + 0.0 * t
    runs = []
    for inner, outer in ((bands.inner_up, bands.outer_up), (bands.inner_lo, bands.outer_lo)):
        v = inner + t * (outer - inner)
        dark = _luma(_remap(photo_lips, *bands.to_image(u, v))) < _EDGE_DARK * lip_luma
        run = np.cumprod(dark, axis=0).sum(0)  # dark samples from the inner edge on
        px = np.clip(run - 0.5, 0.0, None) / (_DARK_RUN_SAMPLES - 1) * np.abs(outer - inner)
        kernel = np.ones(_DARK_RUN_SPAN) / _DARK_RUN_SPAN
        runs.append(np.convolve(np.pad(px, _DARK_RUN_SPAN // 2, mode="edge"), kernel, mode="valid"))
    return runs[0], runs[1]


def _upper_lip_shift(photo_lips: _LipsPhoto, bands: LipBands, skip_up: np.ndarray, skip_lo: np.ndarray) -> np.ndarray:
    """RGB added to the sealed upper lip's samples: the lower lip's mean colour less the upper's where the upper lip
    (the photo's band from its outer contour to its inner one, less the skipped edge) is brighter on average than the
    lower by :data:`_SHIFT_FULL` or more, a share of it where less, else nothing: it only ever darkens. An upper lip
    faces down and is normally the darker; a brighter band is mostly skin (a lip stretched thin over a wide-open
    mouth: UTKFace tuning crop 76, its sealed upper lip as pale as the skin above it)."""
    u = np.linspace(_SHIFT_SPAN, 1.0 - _SHIFT_SPAN, 15) * bands.width
    t = np.linspace(0.0, 1.0, 7)[:, None]
    ou, iu, il, ol = bands.at(u)
    k_up, k_lo = np.interp(u, bands.u, skip_up), np.interp(u, bands.u, skip_lo)
    up = _remap(photo_lips, *bands.to_image(u + 0 * t, ou + t * np.maximum(iu - k_up - ou, 0.0))).reshape(-1, 3)
    lo = _remap(photo_lips, *bands.to_image(u + 0 * t, ol - t * np.maximum(ol - il - k_lo, 0.0))).reshape(-1, 3)
    mean_up, mean_lo = up.mean(0), lo.mean(0)
    return (mean_lo - mean_up) * float(np.clip((_luma(mean_up) - _luma(mean_lo)) / _SHIFT_FULL, 0.0, 1.0))


def _lips_without_opening(
    image: np.ndarray, src: np.ndarray, lip_colour: np.ndarray
) -> tuple[tuple[int, int], np.ndarray] | None:
    """Where (``(x0, y0)``) and what (uint8 RGB) to paste over ``image``: its mouth opening, and what is as dark as
    it between the lips' outer contours, filled from the lips around it (inpainted), for :func:`seal_mouth` to sample
    the lips from (:class:`_LipsPhoto`); None where the lips lie outside the photo. A measurement of the unedited
    photo, kept in its :class:`~facecraft.synth.photo_look.PhotoLook`: the inpainting and a copy of the whole photo
    took 50 ms of each sealing edit of a phone photo.

    A wide-open mouth's dark cavity reaches past the landmarks' inner lip contour at its corners (UTKFace tuning crop
    76, jawOpen 0.63: most of the upper lip band's last fifth): sampled as lip, it stayed a dark hole at the sealed
    mouth's corner, its soft grey edge a grey patch. Dark: below :data:`_POCKET_DARK` of the lips' luma (the still
    editor's corner pockets), within :data:`_POCKET_SPAN` of the mouth's width of a corner :data:`_OPENING_DARK`
    where the mouth opens wide (its opening from :data:`~facecraft.synth.mouth._WIDE_OPEN` of its width, over
    :data:`_WIDE_OPEN_RAMP` more; a smile's shaded corners, filled, read less sad to the judges when sealed): in the
    middle the lips' own shade at their inner edges draws the seam. Only a mouth open wide has its dark shade filled:
    a smile's (the astronaut's removed smile) flipped in and out of the threshold with a JPEG's noise, and the sealed
    mouth's width MediaPipe read moved by 5.5% of the removal's narrowing between the photo and its JPEG copy."""
    outer = np.concatenate([src[list(LIPS_UPPER_OUTER)], src[list(LIPS_LOWER_OUTER)][::-1]])
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - 4, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 5, (w, h))
    if x1 <= x0 or y1 <= y0:
        return None
    region = np.ascontiguousarray(image[y0:y1, x0:x1])
    fill = np.zeros(region.shape[:2], np.uint8)
    cv2.fillPoly(fill, [np.round((inner_lip_polygon(src) - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    lips = np.zeros_like(fill)
    cv2.fillPoly(lips, [np.round((outer - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    fs = mouth_frame(src)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    a = ((gx - fs.origin[0]) * fs.u_axis[0] + (gy - fs.origin[1]) * fs.u_axis[1]) / fs.width
    wide = _smoothstep((fs.gap(np.linspace(0.0, 1.0, 41)).max() / fs.width - _WIDE_OPEN) / _WIDE_OPEN_RAMP)
    corner = _POCKET_DARK + wide * (_OPENING_DARK - _POCKET_DARK)
    dark = np.where((a < _POCKET_SPAN) | (a > 1.0 - _POCKET_SPAN), corner, _POCKET_DARK)
    shade = lips & (_luma(region.astype(np.float64)) < dark * float(_luma(lip_colour))).astype(np.uint8)
    if wide > 0:  # a smile's shade left as it was: filled, a JPEG's noise moved the sealed corners (see below)
        fill |= cv2.dilate(shade, np.ones((5, 5), np.uint8))  # the dark shade's soft edge too
    return (int(x0), int(y0)), cv2.inpaint(region, fill, 3, cv2.INPAINT_TELEA)


@dataclass(frozen=True)
class _LipsPhoto:
    """The photo with its mouth opening filled (:func:`_lips_without_opening`'s ``patch`` pasted over ``image``),
    made only where it is sampled."""

    image: np.ndarray
    patch: tuple[tuple[int, int], np.ndarray] | None

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """``[y0:y1, x0:x1]`` of the filled photo (a copy)."""
        out = self.image[y0:y1, x0:x1].copy()
        if self.patch is not None:
            (px, py), region = self.patch
            ax, ay = max(px, x0), max(py, y0)
            bx, by = min(px + region.shape[1], x1), min(py + region.shape[0], y1)
            if bx > ax and by > ay:
                out[ay - y0 : by - y0, ax - x0 : bx - x0] = region[ay - py : by - py, ax - px : bx - px]
        return out


def _remap(photo: _LipsPhoto, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """The filled photo sampled bilinearly at ``(mx, my)`` (its border reflected), float64 RGB: from the box of the
    samples (one pixel more around each), the same samples as from the whole photo; the whole photo where a sample
    lies past its edge (reflected from there)."""
    mx, my = mx.astype(np.float32), my.astype(np.float32)
    h, w = photo.image.shape[:2]
    x0, y0, x1, y1 = 0, 0, w, h
    if mx.size and min(mx.min(), my.min()) >= 0 and mx.max() <= w - 1 and my.max() <= h - 1:
        x0, y0 = int(mx.min()) - 1, int(my.min()) - 1  # whole numbers stay exact in float32: the same weights
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(int(np.ceil(mx.max())) + 2, w), min(int(np.ceil(my.max())) + 2, h)
        mx, my = mx - np.float32(x0), my - np.float32(y0)
    return cv2.remap(photo.crop(x0, y0, x1, y1), mx, my, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT_101).astype(np.float64)  # fmt: skip


_LIP_REACH = 0.12  # face widths from the inner lip line over which a seal moves the lips fully ...
_LIP_FADE = 0.12  # ... and then fades out (chin, nose and cheeks follow a little)


def lip_sides(points: np.ndarray) -> np.ndarray:
    """``(468,)`` +1 for vertices above the mouth opening's middle line (upper lip side), -1 below, 0 on it and at
    the mouth corners; the lip rows count by their lip. From the photo's own landmarks."""
    fr = mouth_frame(points)
    rel = points - fr.origin
    u, v = rel @ fr.u_axis, rel @ fr.v_axis
    up, lo = fr.profile(np.clip(u, 0.0, fr.width))
    mid = 0.5 * (up + lo)
    sides = np.where(np.abs(v - mid) < 1e-6, 0.0, np.where(v < mid, 1.0, -1.0))
    # The lip rows by which lip they are: the inner lips of a closed mouth may overlap by a fraction of a pixel,
    # and an inner row's point then lies past the middle line.
    sides[list(LIPS_UPPER_INNER[1:-1] + LIPS_UPPER_OUTER[1:-1])] = 1.0
    sides[list(LIPS_LOWER_INNER[1:-1] + LIPS_LOWER_OUTER[1:-1])] = -1.0
    sides[[LIPS_UPPER_INNER[0], LIPS_UPPER_INNER[-1], LIPS_UPPER_OUTER[0], LIPS_UPPER_OUTER[-1]]] = 0.0
    return sides


#: An edit's lips keep at least ``_LIP_KEEP`` of the photo's thickness at the same share of the mouth's width, their
#: outer contours outside the inner ones (:func:`untangle_lip_outline`). The least that took the hooks off the zoomed
#: mouths of 10 broad UTKFace tuning smilers taken to neutral, sadness and anger (0: a flick stayed at some corners);
#: on the tuning photos (100 UTKFace crops, 72 FRLL calibration photos) responses and hit rates at 0 / 0.25 / 0.5 lie
#: within a photo or two of each other and of no untangling (mouthFrownLeft on the smiling calibration photos .806
#: without, .778 / .750 / .750).
_LIP_KEEP = 0.25


#: The lips' rows between their outer and inner contours (MediaPipe's lip rings, each from the corner 61's side to
#: 291's, without the rings' ends beside the corners), from the outer contour inward: upper lip, then lower lip.
_LIP_ROWS = (
    ((184, 74, 73, 72, 11, 302, 303, 304, 408), (183, 42, 41, 38, 12, 268, 271, 272, 407)),
    ((77, 90, 180, 85, 16, 315, 404, 320, 307), (96, 89, 179, 86, 15, 316, 403, 319, 325)),
)
_ROW_STEPS = 3  # rounds of :func:`_lay_lip_rows` (a row point laid back may fold a neighbour's triangle)


def untangle_lip_outline(points: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``points`` (``(468, 2)`` pixels) with each lip's outer contour kept outside its inner one, the lip at least
    :data:`_LIP_KEEP` of its thickness in the photo (``src``, its landmarks) at the same share of the mouth's width;
    then the lips' inner rows laid between the contours where they fold (:func:`_lay_lip_rows`).

    The rig takes a broad smile away by weights: the upper lip beside each corner drops further than the corner, the
    lower lip there hardly moves, and the outer contours cross beside the corners (UTKFace smilers turned neutral or
    sad: the upper contour's point next to the corner 7 px below it, the lower one's 4 px above). The warp then folds
    the lip over its corner and draws the photo's dark corner as a hook. Only points past the limit move, along the
    frame's ``v`` (:class:`LipBands`'s frame: the outer mouth corners, ``v`` down the face)."""
    frame = CornerFrame.between(points[LIPS_UPPER_OUTER[0]], points[LIPS_UPPER_OUTER[-1]])
    rest = lip_bands(src)
    ends = (LIPS_UPPER_OUTER[0],), (LIPS_UPPER_OUTER[-1],)
    out = points.copy()
    for outer, inner, thick, side in (
        (LIPS_UPPER_OUTER[1:-1], ends[0] + LIPS_UPPER_INNER + ends[1], rest.inner_up - rest.outer_up, -1.0),
        (LIPS_LOWER_OUTER[1:-1], ends[0] + LIPS_LOWER_INNER + ends[1], rest.outer_lo - rest.inner_lo, 1.0),
    ):
        iu, iv = frame.local(points[list(inner)])
        u, v = frame.local(points[list(outer)])
        share = np.clip(u / frame.width, 0.0, 1.0)
        keep = _LIP_KEEP * np.maximum(np.interp(share * rest.width, rest.u, thick), 0.0)
        limit = np.interp(u, np.maximum.accumulate(iu), iv) + side * keep
        past = (v - limit) * side < 0  # the upper contour below its limit, the lower one above
        if past.any():
            x, y = frame.to_image(u[past], limit[past])
            out[np.asarray(outer)[past]] = np.stack([x, y], 1)
    return _lay_lip_rows(out, src)


@functools.cache
def _row_faces() -> np.ndarray:
    """``(F, 3)`` canonical mesh triangles with a corner on a lip row (:data:`_LIP_ROWS`)."""
    faces = canonical_mesh().faces
    rows = [i for lip in _LIP_ROWS for row in lip for i in row]
    return faces[np.isin(faces, rows).any(axis=1)]


def _lay_lip_rows(points: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``points`` with the lips' inner rows (:data:`_LIP_ROWS`) that the warp would move to unfold a triangle
    (:func:`facecraft.synth.warp.unfolded_target`) laid in their column instead: where the photo (``src``) has them
    on the line from the lip's outer contour point to its inner one, in the same shares along and across it.

    The rig moves the lip rows by weights, and a large one (contempt's ``mouthDimple``, 2.5 rig units) pushed a row
    through the inner contour beside the raised corner. The warp then pulled the row back, which turned the lip's
    edge-on triangles at the corner (not checked for folds: the photo shows them as slivers) face down and magnified
    the photo's dark corner in them into a line beside the new corner (the astronaut: a 0.4 px2 sliver drawn over
    7 px2), under the lips' own dark edge. A row point whose lip triangle the targets turn over is laid back too: the
    warp does not unfold the lips' slivers, and at contempt's lowered corner the triangle (409, 270, 408) turned over
    (UTKFace tuning crops, contempt at 1.0: in the targets of 4 of 100, none now)."""
    ids, ends = [], []
    for (outer, inner), rows in zip(
        ((LIPS_UPPER_OUTER[1:-1], LIPS_UPPER_INNER[1:-1]), (LIPS_LOWER_OUTER[1:-1], LIPS_LOWER_INNER[1:-1])),
        _LIP_ROWS,
        strict=True,
    ):
        for row in rows:
            ids += row
            ends += zip(outer, inner, strict=True)
    ids, ends = np.asarray(ids), np.asarray(ends)

    def axes(p):
        along = p[ends[:, 1]] - p[ends[:, 0]]
        return p[ends[:, 0]], along, np.stack([-along[:, 1], along[:, 0]], 1)

    o, along, across = axes(src)
    rel = src[ids] - o
    norm = np.maximum((along**2).sum(1), 1e-9)
    t, n = (rel * along).sum(1) / norm, (rel * across).sum(1) / norm
    out = points.copy()
    faces = _row_faces()
    for _ in range(_ROW_STEPS):
        moved = np.hypot(*(unfolded_target(src, out)[ids] - out[ids]).T) > 0.05
        moved |= np.isin(ids, faces[_signed_area(out, faces) * _signed_area(src, faces) < 0])
        if not moved.any():
            break
        o, along, across = axes(out)
        out[ids[moved]] = (o + t[:, None] * along + n[:, None] * across)[moved]
    return out


def seal_lips(points: np.ndarray, amount: float, face_width: float, sides: np.ndarray) -> np.ndarray:
    """Move the lips of ``(468, 2)`` pixel positions together so the inner lips meet (``amount`` 1) or close
    that share of their gap; inner lips that cross (the upper below the lower) are always brought to meet.
    ``sides``: :func:`lip_sides` of the rest face (which lip each vertex belongs to).

    The rig closes the lips by weights, but a photo's own lip opening is partly in the fitted identity, which
    weights do not undo, and a closure on top of it may push the lips through each other (the warp then
    shows the photo's mouth opening upside down). In the mouth frame (:func:`facecraft.synth.mouth.mouth_frame`)
    each vertex above the opening's middle line moves by half the local gap toward it and each one below
    likewise, fully within :data:`_LIP_REACH` face widths of the line, fading to nothing over
    :data:`_LIP_FADE` more.
    """
    fr = mouth_frame(points)
    rel = points - fr.origin
    u, v = rel @ fr.u_axis, rel @ fr.v_axis
    inside = (u > 0) & (u < fr.width)
    up, lo = fr.profile(np.clip(u, 0.0, fr.width))
    gap = np.where(inside, lo - up, 0.0)  # signed: negative where the lips cross
    close = np.where(gap < 0, gap, float(np.clip(amount, 0.0, 1.0)) * gap)
    if np.abs(close).max(initial=0.0) < 1e-3:
        return points
    mid = 0.5 * (up + lo)
    dist = np.abs(v - mid) - 0.5 * np.abs(gap)
    fade = np.clip(1.0 - (dist - _LIP_REACH * face_width) / (_LIP_FADE * face_width), 0.0, 1.0)
    shift = 0.5 * close * fade * sides  # the upper side moves down by half the closed gap, the lower side up
    return points + shift[:, None] * fr.v_axis[None, :]


#: The dark pockets at the corners of a photo's open mouth (the cavity's shadow past the teeth, the corners' shade) lie
#: partly outside the landmarks' inner lip contour, so the warp moves them with the lips: a smile turned to sadness or
#: neutral kept them as dark hooks hanging from its mouth corners (the astronaut; FRLL calibration 021's closed-lip
#: smile). :func:`clear_corner_shadows` fills them in the lips' own shade before the warp where an edit moves the
#: corners: pixels darker than ``_POCKET_DARK`` of the lips' luma, within ``_POCKET_REACH`` face widths of the inner
#: lip contour and inside the lips' outer contour, within ``_POCKET_SPAN`` of the mouth's width of either corner; in
#: full once that corner moves ``_POCKET_MOVE`` face widths, in the lips' colour times ``_POCKET_SHADE``. Zoomed
#: mouths of the astronaut, FRLL calibration 010 and 12 UTKFace tuning smilers (sadness, neutral, anger): the hooks
#: gone, the lips' seam fading toward the corners; the judges read the emotions as before within a photo (100 UTKFace
#: tuning crops, 36 smiling calibration photos). A closed-lip smile (021) keeps its corner hooks: its lips do not
#: close, so nothing is filled (its dark corners are the skin's folds as much as the lips').
_POCKET_DARK = 0.55
_POCKET_REACH = 0.012
_POCKET_SPAN = 0.25
_POCKET_MOVE = 0.02
_POCKET_SHADE = 0.8


def clear_corner_shadows(
    image: np.ndarray, src: np.ndarray, dst: np.ndarray, *, amount: float = 1.0, look: PhotoLook | None = None
) -> np.ndarray:
    """``image`` (uint8 RGB, unedited) with the dark pockets at its mouth corners filled in the lips' shade, each
    corner as far as the edit (``src`` -> ``dst``, ``(468, 2)`` pixels) moves it, times ``amount`` (0..1: how far
    the lips close, :func:`seal_mouth`'s); ``image`` itself when neither corner moves or ``amount`` is 0.

    Only for lips that close: an open mouth keeps its corners' shadow, and MediaPipe reads a smile widened or a
    frown drawn down by it (edit bench, every corner edit: mouthSmile .753 / .712 -> .699 / .699 and mouthFrown
    .808 / .822 -> .767 / .753 with the pockets filled whenever the mouth did not open)."""
    if amount <= 0.0:
        return image
    fw = outline_width(src)
    corners = (LIPS_UPPER_OUTER[0], LIPS_UPPER_OUTER[-1])
    amounts = [amount * float(np.clip(np.hypot(*(dst[c] - src[c])) / (_POCKET_MOVE * fw), 0.0, 1.0)) for c in corners]
    if max(amounts) <= 0.0:
        return image
    reach = max(2, int(round(_POCKET_REACH * fw)))
    outer = np.concatenate([src[list(LIPS_UPPER_OUTER)], src[list(LIPS_LOWER_OUTER)][::-1]])
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - reach - 2, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + reach + 3, (w, h))
    if x1 <= x0 or y1 <= y0:
        return image
    region = image[y0:y1, x0:x1].astype(np.float64)
    inside = np.zeros(region.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round((inner_lip_polygon(src) - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    lips_area = np.zeros_like(inside)
    cv2.fillPoly(lips_area, [np.round((outer - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    near = cv2.dilate(inside, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0
    lips = look_colours(PhotoLook.of(look, image, src))[1]
    dark = _luma(region) < _POCKET_DARK * float(_luma(lips))
    fs = mouth_frame(src)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    a = ((gx - fs.origin[0]) * fs.u_axis[0] + (gy - fs.origin[1]) * fs.u_axis[1]) / fs.width
    side = np.where(a < 0.5, amounts[0], amounts[1]) * ((a < _POCKET_SPAN) | (a > 1.0 - _POCKET_SPAN))
    pocket = (dark & near & (lips_area > 0)).astype(np.uint8)
    pocket = cv2.dilate(pocket, np.ones((3, 3), np.uint8)).astype(np.float64)
    weight = (cv2.GaussianBlur(pocket, (0, 0), 0.7) * side)[..., None]
    if weight.max() <= 0.0:
        return image
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(region * (1 - weight) + _POCKET_SHADE * lips * weight + 0.5, 0, 255).astype(np.uint8)
    return out
