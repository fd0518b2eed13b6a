"""The inside of a mouth that an edit opens wider than it was: dark cavity, teeth, feathered into the warp.

The canonical mesh fills the mouth opening with triangles, so the dense warp alone stretches whatever was
between the lips (closed lips become a smear, visible teeth grow tall). This module repaints the region
between the target inner lips:

* **Where the photo already showed the inside** (the source mouth was open), the upper part follows the
  upper lip and the lower part the lower lip, taken from the photo at the same offset from the lip (teeth stay
  their size); only the gap the edit adds is drawn, and there the teeth's length the photo does not show is drawn
  under its own, in their colour (a sliver of photo teeth hung in a dark oval or crescent).
* **Where the edit closes a mouth that showed teeth**, the opening left is repainted the same way: the lips
  slide over the teeth, which keep their size (the warp alone would squeeze them into a white line).
* **What is drawn**: a cavity in the photo's own lip colour, deepened to a red-brown (so it carries the
  photo's light and white balance), lit from the front: the inner lips' rims catch light, the back (under
  the palate) and the corners (the cheeks' shadow) are darkest, and the tongue's lit top rises from the
  lower lip once the mouth is more than a slit; the opening's corners are rounded (the inner lip's own
  surface shows where the lip contours meet at a steep angle, and in the tips of a relaxed lens-shaped opening:
  the cavity's ends are round, :data:`_CAVITY_END`); upper teeth just under the
  upper lip, off-white in the photo's light, and the lower incisors' edges over the lower lip: the front of an
  average dental arch (tooth widths 8.5, 6.5, 7.5, 7 mm on a 25 mm radius) in the face's own scale (its eye span),
  turned with the head when per-vertex depth is given, so a stretched opening shows dark space beside the teeth at
  its corners; the teeth shorten, turn away into shadow toward the back of the arch and the corners, take on the
  cavity's light there, with faint separations and a soft free edge (:func:`_arch_teeth`); a relaxed jaw dropped
  wide (surprise) shows only the lower teeth's shaded edges behind the lower lip. Lips that part with the jaw still
  (a smile) show a row of teeth across the opening instead (:func:`_drawn_teeth`), and the crescent's ends stay
  pointed.
* Edges are anti-aliased, feathered and as soft as the photo; drawn pixels get the photo's grain in brightness, not
  hue (drawn teeth and tongue, smooth and wet, a share of it), what is taken from the photo none added.
* Nothing is painted unless the target opening exceeds the source's.

Positions are measured in a mouth frame: ``u`` along the inner-corner line (78 -> 308), ``v`` across it,
pointing down the face.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from scipy.ndimage import median_filter

from facecraft.eval.images import valid_image
from facecraft.rigs.default_rig import (
    LIPS_LOWER_INNER,
    LIPS_LOWER_OUTER,
    LIPS_UPPER_INNER,
    LIPS_UPPER_OUTER,
    SEMANTIC_VERTICES,
)
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.mediapipe_mesh import canonical_mesh

from .corner_frame import ContourFrame
from .photo_blur import PAINT_SHARP, softening
from .photo_look import PhotoLook, exposure
from .warp import WarpResult, valid_depth, valid_points

logger = logging.getLogger(__name__)

_ARCH_RADIUS_MM = 25.0
_SCALE_PAIR = (33, 263)  # the eyes' outer corners: the face's scale in mm (:func:`_px_per_mm`)
_MOUTH_WIDTH_MM = 48.0  # inner-lip corner distance of an open mouth, to scale the arch to pixels
_UPPER_TEETH_MM = (8.5, 6.5, 7.5, 7.0, 7.0)  # central incisor .. second premolar
_LOWER_TEETH_MM = (5.5, 6.0, 7.0, 7.0, 7.0)
_UPPER_TEETH_HEIGHT = 0.2  # visible upper incisor height, in mouth widths
_LOWER_TEETH_HEIGHT = 0.1
_WIDE_OPEN = 0.3  # opening / mouth width above which lower teeth show
#: Teeth drawn in a mouth the photo shows closed (:func:`_arch_teeth`) are the front of a dental arch in the face's own
#: scale (pixels per mm from its width, :func:`_px_per_mm`). Sized with the opening (``_UPPER_TEETH_HEIGHT`` of its
#: width, the arch spread over :data:`_MOUTH_WIDTH_MM`), fear's stretched opening (AU20) filled with a long, even
#: row of bright teeth to its corners, like a denture strip (bench sheets of session 56). Drawn this way, on 40 UTKFace
#: tuning crops and the 36 neutral FRLL calibration photos fear read as fear 0.461 -> 0.566 / 0.500 -> 0.579 / 0.553 ->
#: 0.579 by mini-Xception / NetworkV2 / facecraft, surprise within a photo, jawOpen and mouthStretch read as before.
#: Upper incisors show this many mm under the lip at most (under a relaxed upper lip, and under lips stretched back over
#: the teeth, ``bared``: fear), and at most ``_ARCH_UPPER_GAP[0] + [1] * across`` of the opening (``across``: 1 in its
#: middle, 0 at its corners).
_ARCH_UPPER_MM = (8.0, 10.5)
_ARCH_UPPER_GAP = (0.3, 0.45)
#: The lower arch: its radius as a share of the upper's, the incisors' edges shown (mm), their share of the opening
#: (as ``_ARCH_UPPER_GAP``), and their light relative to the upper teeth (in the upper teeth's and lip's shadow).
_ARCH_LOWER = (0.85, 6.5, (0.12, 0.22), 0.85)
#: Share of the lower teeth's coverage shown in a mouth opened a little (all of it once opened wide, ``_WIDE_OPEN``).
_ARCH_LOWER_HINT = 0.8
#: The lower teeth show up to the canines: their coverage fades from ``_ARCH_LOWER_FRONT[0]`` of the way along the
#: arch to the last tooth drawn over ``[1]`` more (the lower lip covers the rest: the whole row read as a second strip).
_ARCH_LOWER_FRONT = (0.4, 0.3)
#: A jaw dropped wide with relaxed lips (surprise, jawOpen; not ``bared``) carries the lower teeth down behind the lower
#: lip: in a wide-open mouth (``lower`` 1, see ``_WIDE_OPEN``) at most their edges show, ``_ARCH_DROPPED[0]`` mm, at
#: ``[1]`` of their light, the tongue behind them. Drawn as in a mouth opened a little, they stood as a bright
#: crescent along the bottom of the opening (surprise on UTKFace tuning crop 73_0_0, read as fear by mini-Xception).
#: Tuning photos (40 UTKFace crops from 500, 36 FRLL calibration neutrals): surprise read as surprise 0.895 -> 0.934
#: by mini-Xception (NetworkV2 0.921, facecraft 0.974 unchanged); jawOpen read largest on 0.605 as before; with 1.5 mm
#: at 0.6 of the light, 0.921 but jawOpen 0.566 (MediaPipe reads the lower teeth's edge as the dropped jaw's).
#: Of those, only the incisors' (their coverage fades from ``_ARCH_DROPPED[2][0]`` of the way along the arch over
#: ``[1]`` more, as ``_ARCH_LOWER_FRONT``) with a soft free edge (``[3]`` of their length, as ``_ARCH_EDGE``): drawn up
#: to the canines with the crisp edge of fear's bared teeth, 2-3 px at a photo's 1.2 px per mm, they stood as a thin
#: pale line along the whole bottom of the opening, a seam between tongue and lip (surprise and jawOpen on FRLL
#: calibration 001, 032, 082, 119 and UTKFace tuning crops). The lower teeth drawn under a photo's own teeth
#: (:func:`_drawn_teeth`) go the same way: they stood as a grey denture strip along the lower lip of a toothy smile's
#: jawOpen (FRLL calibration smilers 041, 107).
_ARCH_DROPPED = (3.0, 0.75, (0.1, 0.3), 0.35)
#: A funnelled mouth ("oo", "w": ``funnel`` in :func:`paint_mouth_interior`) is the lips' round aperture pushed forward
#: off the teeth: dark inside, the upper incisors' edges at most ``_FUNNEL_TEETH[0]`` mm under the upper lip, at
#: ``_FUNNEL_TEETH[1]`` of their light (in the lips' shadow); what lies deeper than ``[2]`` mm under the upper lip,
#: the photo's own teeth included, fades over ``[3]`` mm more into the cavity (``_FUNNEL_TINT`` of the lip colour, no
#: tongue, no lower teeth). Drawn as an open mouth's, mouthFunnel 0.8 showed a white lens of teeth filling the small
#: opening (FRLL calibration 014, 037; UTKFace tuning crop 33_1_3). MediaPipe reads the teeth's edges as an open "oo":
#: on 24 tuning photos (12 UTKFace crops from 500, every sixth FRLL calibration photo) funnel read largest 10 with the
#: lens, 6 / 9 / 9 with 2 / 3 / 4 mm of edges (mean rise .267 -> .267 / .274 / .280, pucker's .221 -> .278 / .263 /
#: .246), 10 with 6 mm (half the opening: the lens again); a larger opening read less as funnel.
_FUNNEL_TEETH = (4.0, 0.9, 4.5, 2.0)
_FUNNEL_TINT = np.array([0.49, 0.29, 0.275])  # midway between _SHADOWED_TINT and _CAVITY_TINT
#: Teeth shorten toward the back of the arch by this share at the last tooth drawn (second premolar), and toward the
#: opening's corners as the lips curve over them (``sqrt(across) * (0.55 + 0.45 * across)``, as photo teeth reach).
_ARCH_SHORTEN = 0.25
#: Light on a tooth turned away from the camera (``facing`` 0) relative to one facing it; ``facing**2`` between.
_ARCH_LIGHT = 0.3
#: The cheeks' shadow toward the opening's corners: ``_ARCH_CORNER[0] + (1 - [0]) * across ** [1]``.
_ARCH_CORNER = (0.2, 1.0)
#: The separations' darkening at the lip and the added darkening at the free edge (``_teeth``: 0.08, 0.14), and how
#: much shorter a tooth is at its sides (``_teeth``: 0.12; a scalloped edge read as a row of pegs).
_ARCH_LINES = (0.04, 0.06)
_ARCH_NOTCH = 0.05
#: The free edge's softness, a share of the longest tooth (``_teeth``: 0.06).
_ARCH_EDGE = 0.1
#: Teeth in shadow take on the mouth's inner light: the cavity behind them, at this share, fills what the shade takes.
_ARCH_AMBIENT = 0.6
_MIN_GAIN_PX = 0.75  # the target opening must exceed the source's by this much somewhere
_CLOSING = 0.15  # ... or, over visible teeth, shrink by this share of the photo's opening
_CAVITY_TINT = np.array([0.62, 0.34, 0.32])  # the cavity: the lips' colour, deeper red-brown
_TONGUE_TINT = np.array([0.9, 0.55, 0.55])
#: The cavity of a mouth opened with its lips stretched back over the teeth (fear's AU20 + AU26, ``bared``): the lips
#: hug the teeth and let little light in, a dark shadowed brown rather than the open mouth's red-brown
#: (``_CAVITY_TINT``). With the red-brown a fear edit of a closed mouth (FRLL calibration neutrals, UTKFace tuning
#: crops) showed a red mouth under the teeth.
_SHADOWED_TINT = np.array([0.42, 0.3, 0.29])
_TONGUE_HEIGHT = 0.4  # share of the opening the tongue's top reaches in the middle
#: The drawn tongue is smooth and wet, lit from the front: its light falls by ``_TONGUE_LIGHT[0]`` toward its back
#: (deeper in the mouth) and by ``[1]`` at its tip, in the lower lip's shadow; a soft specular on its top takes
#: ``_TONGUE_SHINE[0]`` of the light's colour at its peak, ``[1]`` of the way forward, over ``[2]`` of it, narrow across
#: the opening. It carries ``_TONGUE_GRAIN`` of the photo's grain (:func:`grain`): flat, with the skin's full grain, it
#: read as a speckled red felt at 2-4x (FRLL calibration 119, 082).
_TONGUE_LIGHT = (0.3, 0.12)
_TONGUE_SHINE = (0.18, 0.4, 0.25)
_TONGUE_GRAIN = 0.35
_OWN_SOFTNESS = 0.5  # px: the painted interior's and its edge's own blur (the photo's blur adds to it)
#: The cavity's ends are round: the opening's darkness is the inner-lip polygon opened (eroded and grown back) by a disc
#: of this radius in mm of face scale (at most ``_CAVITY_END[1]`` of the opening's largest half-gap, so a slit keeps its
#: length), supersampled ``_CAVITY_END[2]`` times; the lips' inner surface (``mucosa`` in the painter) shows in the
#: tips it cuts off (only within 2 radii of the corners, fading out over half a radius more: the opening's middle keeps
#: its own shape, the photo's teeth at its top included). A lens-shaped wide opening (jawOpen 0.8, surprise) ran its
#: dark cavity into hard pointed tips at the corners, where the lips meet (FRLL calibration 001, 119; UTKFace tuning
#: crops). Lips stretched over the teeth (fear, ``bared``) keep their opening's ends: rounded (8 mm), fear read as fear
#: on 18 of 36 tuning photos by the facecraft judge, was 21 (12 UTKFace crops from 500, 12 FRLL calibration neutrals and
#: 12 smilers); at 8 mm jawOpen's rise fell .5843 -> .5826 on them, at 6.5 mm .5841, surprise's reads as before.
_CAVITY_END = (6.5, 0.5, 4)
#: Photo teeth reused in a mouth the edit opens rounder (its opening / width ratio grows past ``_ROUNDER`` times
#: the photo's, over ``_ROUNDER_RAMP`` more; a smile edit of a smiling photo stays below 1.75, surprise above
#: 2.6 on the calibration people): kept whole up to ``_TEETH_KEEP`` from the midline (share of the half-width
#: on that side), faded to the cavity over ``_TEETH_FADE`` more. A broad smile's side teeth, carried to the
#: corners of the rounder opening, would stand there as fangs and read as fear instead of surprise.
#: With ``front_teeth`` (an edit that opens the mouth without stretching the lips: surprise) only the two front
#: incisors stay (``_FRONT_TEETH_KEEP``, ``_FRONT_TEETH_FADE``): a broad smile's teeth beside them still read as a
#: smile in the narrowed opening (UTKFace crops of broad, squinting smilers, mouthSmile > 0.8 and eyeSquint > 0.55,
#: 48 for the choice and 48 others to confirm it, with the corner-skin drag of :mod:`facecraft.synth.editor`:
#: surprise read as surprise 0.77 / 0.83 -> 0.83 / 0.90 and 0.77 / 0.75 -> 0.79 / 0.77 by mini-Xception /
#: NetworkV2). A stretched opening (fear's AU20) keeps the side teeth: on the 36 smiling FRLL calibration photos
#: fear read as fear 0.44 -> 0.39 by NetworkV2 without them.
_ROUNDER = 1.8
_ROUNDER_RAMP = 1.0
_TEETH_KEEP = 0.2
_TEETH_FADE = 0.3
_FRONT_TEETH_KEEP = 0.0
_FRONT_TEETH_FADE = 0.2
#: Photo teeth shown over fewer than ``_TEETH_SHOWN_MIN`` pixels below the lip are not stretched (nothing to
#: stretch); the others at most ``_TEETH_STRETCH`` times their length in the photo. Stretched teeth stay whole up
#: to ``_STRETCHED_TEETH_KEEP``'s first share of the half-width and fade over its second (four incisors and the
#: canines: a row, not two long incisors alone in the opening).
#: The same share of the half-width bounds the drawn row under the photo's teeth in an opening without stretched
#: lips (``front_teeth``; otherwise the row is as wide as the drawn teeth's own shading). The row is drawn in the
#: photo's teeth colour wherever the opening leaves room under them (where they fade as the mouth opens rounder,
#: see ``_ROUNDER``, and under a sliver the lips part from): a jaw
#: opened to several times the photo's opening showed a dark oval with one white speck of photo teeth above and one
#: below (jawOpen 0.6 on toothy FRLL calibration smilers); real open mouths show the upper incisors' whole height.
#: On 72 FRLL calibration photos the judges read the emotions as before within a photo (see the commit), on 44 UTKFace
#: toothy broad smilers surprise 0.932 -> 0.886 by mini-Xception (unchanged 0.932 by NetworkV2) with this width, 0.864
#: with the row across the whole opening: a toothy row reads a little as a smile.
_TEETH_SHOWN_MIN = 2.5
_TEETH_STRETCH = 3.0
_STRETCHED_TEETH_KEEP = (0.45, 0.35)
#: Photo teeth whose bright run from the upper lip ends within this many pixels, or this share of the opening, of the
#: lower lip rest on it (a closed-bite smile): nothing of the photo goes down with the lower lip (see
#: :func:`_teeth_rest_on_lip`).
_REST_GAP = (1.5, 0.2)
#: Drawn teeth: off-white (``_TEETH_WHITE``) in the photo's white balance, as bright as its light: the skin's brightness
#: (``skin luma / 180``) or, if brighter, ``_TEETH_SCLERA`` of the eyes' white (the photo's sclera as the lids paint it)
#: over the off-white's; within ``_TEETH_LIGHT``. Teeth are as white as the sclera under the same light whatever the
#: skin's tone: scaled by the skin alone, the teeth of a dark-skinned face were mid-grey in the cavity (FRLL calibration
#: people 043, 096, 114, surprise: a dim row that barely showed).
_TEETH_WHITE = np.array([226.0, 220.0, 204.0])
#: Drawn teeth carry this share of the photo's grain (:func:`grain`, the cheek skin's fine texture): enamel is smooth,
#: and the painted row is as soft as the photo, so the skin's full grain stood on it as a speckle (FRLL calibration
#: 114's fear, grain 3.5 grey levels). What the painter takes from the photo carries no added grain: it has its own.
_TEETH_GRAIN = 0.5
_TEETH_SCLERA = 0.97
#: Teeth are whiter than lips: a photo's opening shows teeth only where its light part is less red for its light
#: (:func:`_redness`, the mean of the upper middle's and the teeth colour's, :func:`_photo_teeth_colour`) than this
#: share of the lips. By brightness alone, lips that an edit pressed together over the photo's teeth (sadness on a
#: smile: a talking portrait's rest photo) and that MediaPipe still reads parted were teeth: the painter drew teeth in
#: the lips' pink under a pink band taken from the photo, on every open vowel. Measured on 36 smiling FRLL calibration
#: photos and 60 UTKFace tuning crops: the unedited openings bright enough to be teeth at most 0.71 (save two, a
#: magenta-cast and a dim crop: 0.80, 1.06), their sadness edits read parted at least 0.755 (21 photos).
_TEETH_REDNESS = 0.73
_TEETH_LIGHT = (0.4, 1.1)


def mouth_frame(points: np.ndarray) -> ContourFrame:
    """The mouth frame (u from the inner right corner, landmark 78, to the inner left one; v down the face)
    and inner-lip profiles of ``(468, 2)`` pixel positions."""
    return ContourFrame.of_rows(points, LIPS_UPPER_INNER, LIPS_LOWER_INNER)


def inner_lip_polygon(points: np.ndarray) -> np.ndarray:
    """``(20, 2)`` pixel polygon of the opening between the inner lips (upper row, then lower row back)."""
    return np.concatenate([points[list(LIPS_UPPER_INNER)], points[list(LIPS_LOWER_INNER[-2:0:-1])]])


def inner_lip_gap(landmarks: np.ndarray) -> float:
    """Distance in pixels between the inner lips' centres (MediaPipe points 13 and 14): how far the mouth is open."""
    return float(np.hypot(*(np.asarray(landmarks)[14, :2] - np.asarray(landmarks)[13, :2])))


def _median_colour(image: np.ndarray, xy: np.ndarray, radius: int) -> np.ndarray:
    """Median RGB (float, 0..255) of the pixels within ``radius`` of the given points."""
    h, w = image.shape[:2]
    samples = []
    for x, y in np.round(xy).astype(int):
        x0, x1, y0, y1 = max(x - radius, 0), min(x + radius + 1, w), max(y - radius, 0), min(y + radius + 1, h)
        if x1 > x0 and y1 > y0:
            samples.append(image[y0:y1, x0:x1].reshape(-1, 3))
    if not samples:
        return np.array([128.0, 100.0, 90.0])
    return np.median(np.concatenate(samples), axis=0).astype(np.float64)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def face_colours(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median skin (both cheeks) and lip colours of the photo, RGB floats 0..255."""
    fw = float(np.hypot(*(points[454] - points[234])))
    r = max(1, int(round(0.03 * fw)))
    cheeks = points[[SEMANTIC_VERTICES["cheek_l"], SEMANTIC_VERTICES["cheek_r"]]]
    skin = _median_colour(image, cheeks, r)
    mid_up = 0.5 * (points[list(LIPS_UPPER_OUTER[2:-2])] + points[list(LIPS_UPPER_INNER[2:-2])])
    mid_lo = 0.5 * (points[list(LIPS_LOWER_OUTER[2:-2])] + points[list(LIPS_LOWER_INNER[2:-2])])
    lips = _median_colour(image, np.concatenate([mid_up, mid_lo]), max(1, r // 2))
    return skin, lips


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _px_per_mm(points: np.ndarray, depth: np.ndarray | None) -> float:
    """Pixels per mm of a face: the distance between its eyes' outer corners (:data:`_SCALE_PAIR`; turned back to
    full length with per-vertex ``depth`` when given) over the canonical mesh's (in metres). The eye corners, not the
    face's outline (points 234, 454), which hair and the cheeks' silhouette move: the astronaut's outline is 1.48 times
    her eye span, the canonical mesh's 1.72."""
    i, j = _SCALE_PAIR
    span = float(np.hypot(*(points[j] - points[i])))
    if depth is not None:
        span = float(np.hypot(span, depth[j] - depth[i]))
    v = canonical_mesh().vertices
    return max(span, 1.0) / (1000.0 * float(np.linalg.norm(v[j] - v[i])))


def _arch_boundaries(
    widths_mm, sin_yaw: float, *, mouth_mm: float = _MOUTH_WIDTH_MM, radius_mm: float = _ARCH_RADIUS_MM
) -> list[tuple[float, float]]:
    """Projected tooth boundaries as (fraction of mouth width, visibility) for both sides of the arch; ``mouth_mm``:
    the opening's width in mm."""
    yaw = float(np.arcsin(np.clip(sin_yaw, -0.9, 0.9)))
    edges = np.cumsum((0.0,) + tuple(widths_mm)) / radius_mm  # arc angles of the boundaries
    out = []
    for theta in np.concatenate([-edges[::-1][:-1], edges]):
        facing = np.cos(theta + yaw)
        if facing > 0.15:
            x_mm = radius_mm * np.sin(theta + yaw)
            out.append((0.5 + x_mm / mouth_mm, float(facing)))
    return out


def _teeth(
    a: np.ndarray,
    depth_into: np.ndarray,
    height: np.ndarray,
    width_px: float,
    bounds,
    colour: np.ndarray,
    *,
    lines: tuple[float, float] = (0.08, 0.14),
    edge_share: float = 0.06,
    notch: float = 0.12,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour and coverage of a row of teeth.

    ``a``: fraction across the mouth; ``depth_into``: pixels from the lip the teeth hang from; ``height``:
    visible tooth length in pixels per pixel; ``lines``: how much the separations darken at the lip and, more,
    at the free edge; ``edge_share``: the free edge's softness, a share of the longest tooth; ``notch``: how much
    shorter a tooth is at its sides (its rounded corners). Returns (H, W, 3) float RGB and (H, W) alpha.
    """
    # Each tooth's free edge is rounded at its corners: shorten the tooth near its boundaries.
    near = np.full(a.shape, 1.0)
    line = np.zeros(a.shape)
    sep_w = max(0.7, 0.012 * width_px)
    for b, vis in bounds:
        d_px = np.abs(a - b) * width_px
        near = np.minimum(near, np.clip(d_px / (3.0 * sep_w), 0.0, 1.0))
        line = np.maximum(line, vis * np.exp(-((d_px / sep_w) ** 2)))
    length = height * (1.0 - notch + notch * np.sqrt(near))
    t = depth_into / np.maximum(length, 1e-6)
    edge = max(0.6, edge_share * float(np.max(height, initial=1.0)))
    alpha = 1.0 - _smoothstep((depth_into - length + edge) / (2 * edge))
    alpha *= (length > 0.5).astype(np.float64)
    shade = 0.62 + 0.38 * _smoothstep(t / 0.45)  # the lip's shadow on the teeth
    shade *= 0.86 + 0.14 * near  # each tooth is convex: lighter in its middle than at its sides
    shade *= 1.0 - line * (lines[0] + lines[1] * np.clip(t, 0, 1))  # separations, a little clearer toward the free edge
    rgb = colour[None, None, :] * shade[..., None]
    # A slightly translucent, greyer free edge.
    rgb = rgb * (1.0 - 0.12 * _smoothstep((t - 0.75) / 0.25))[..., None]
    return rgb, alpha


#: A mouth whose inner lips part by less than this many pixels, or this share of its width, counts as closed.
CLOSED_GAP = (2.5, 0.06)


def mouth_is_open(frame: ContourFrame) -> bool:
    """Whether the inner lips of a mouth (its :func:`mouth_frame`) part by :data:`CLOSED_GAP` or more."""
    return float(frame.gap(np.linspace(0.0, 1.0, 41)).max()) >= max(CLOSED_GAP[0], CLOSED_GAP[1] * frame.width)


def paint_mouth_interior(
    warped,
    image,
    src_px,
    dst_px,
    *,
    depth=None,
    front_teeth: bool = False,
    all_teeth: bool = False,
    bared: bool | None = None,
    funnel: float = 0.0,
    look: PhotoLook | None = None,
) -> WarpResult:
    """Repaint the mouth opening of a warped photo where the edit opens the mouth more than it was.

    Parameters
    ----------
    warped : WarpResult or array (H, W, 3)
        The warp of ``image`` (:func:`facecraft.synth.warp.warp_face`); a plain image gets an empty mask.
    image : array (H, W, 3)
        The unedited photo (teeth, lip and skin colours come from it).
    src_px, dst_px : array (468, 2)
        Source and target pixel positions of the canonical mesh vertices.
    depth : array (468,), optional
        Per-vertex distance from the camera in pixel units (larger is farther), e.g.
        ``FaceInfo.landmarks[:, 2]``: turns the dental arch with the head.
    front_teeth : bool
        Where the mouth opens rounder, keep only the photo's two front teeth (``_FRONT_TEETH_KEEP``), not the
        middle ones (``_TEETH_KEEP``), and draw the row under them only as wide as ``_STRETCHED_TEETH_KEEP``: for an
        opening without stretched lips.
    all_teeth : bool
        Lips that part with the jaw still (a smile, disgust's AU10/AU16 over a smile's open lips): keep all the
        photo's teeth in place however much rounder the opening gets (no jaw carries the side teeth to the corners
        of the opening; fading them left a dark empty oval); on a photo that shows none, draw a row of teeth across
        the opening (:func:`_drawn_teeth`), and keep the opening's pointed ends. Drawn as a dropped jaw's (the
        front of an arch in the face's scale, round cavity ends) a smile was a dark oval around a short row of teeth,
        which the judges read as neutral.
    bared : bool, optional
        Lips stretched over the teeth (fear): the cavity lies in their shadow (:data:`_SHADOWED_TINT`), and where the
        photo's upper teeth rest on its lower lip, the band above that lip still goes down with it, as bared lower
        teeth (:func:`_reuse_source`). Default: unless
        ``front_teeth`` or ``all_teeth`` (the still editor's openings). A jaw that drops for speech is not bared:
        the band went down as a pale rim under the upper teeth on every open vowel of a toothy smile.
    funnel : float
        0..1: the lips pushed forward into a funnel (an "oo", :func:`facecraft.synth.mouth_shapes.funnel_motion`'s
        amount): the opening is dark, at most the upper teeth's edges showing at its top (:data:`_FUNNEL_TEETH`).
    look : PhotoLook, optional
        The photo's measurements around this face, when the caller keeps them across edits (measured here
        otherwise). What is drawn (cavity, teeth, the opening's edge) is made as soft as the photo's own blur; what
        is taken from the photo keeps its own softness.

    Returns
    -------
    WarpResult
        The photo with the new mouth interior and the warp's mask joined with the painted region.
    """
    base, mask, img, src, dst = repaint_inputs(warped, image, src_px, dst_px)
    z = valid_depth(depth)
    fs, fd = mouth_frame(src), mouth_frame(dst)
    grid_a = np.linspace(0.0, 1.0, 41)
    scale = fd.width / fs.width
    gap_src = fs.gap(grid_a).max()
    src_open = mouth_is_open(fs)
    gain = fd.gap(grid_a) - fs.gap(grid_a) * scale
    # A mouth the edit closes over teeth the photo shows: the collapsed opening would squash them into a
    # white line; the lips slide over them instead (repainted from the photo at the same offsets).
    closes = src_open and -gain.min() >= max(2 * _MIN_GAIN_PX, _CLOSING * gap_src * scale)
    if gain.max() < _MIN_GAIN_PX and not closes:
        return WarpResult(base, mask)
    h, w = img.shape[:2]
    look = PhotoLook.of(look, img, src)
    soften = softening(look.blur, PAINT_SHARP)
    pad = int(np.ceil(3.0 * soften))  # room for the softened edge
    poly = inner_lip_polygon(dst)
    x0, y0 = np.floor(poly.min(0)).astype(int) - 2 - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 3 + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return WarpResult(base, mask)
    # Coverage of the target opening, anti-aliased, feathered half a pixel.
    cover = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(cover, [np.round((poly - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    alpha = cv2.GaussianBlur(cover.astype(np.float32) / 255.0, (0, 0), float(np.hypot(_OWN_SOFTNESS, soften)))
    if alpha.max() <= 0:
        return WarpResult(base, mask)

    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    rel_x, rel_y = gx - fd.origin[0], gy - fd.origin[1]
    u = rel_x * fd.u_axis[0] + rel_y * fd.u_axis[1]
    v = rel_x * fd.v_axis[0] + rel_y * fd.v_axis[1]
    a = np.clip(u / fd.width, 0.0, 1.0)
    v_up, v_lo = fd.profile(u)
    gap = np.maximum(v_lo - v_up, 1e-6)
    t = np.clip((v - v_up) / gap, 0.0, 1.0)

    skin, lips = look_colours(look)
    sin_yaw = 0.0
    if z is not None:
        dz = z[LIPS_UPPER_INNER[-1]] - z[LIPS_UPPER_INNER[0]]  # left corner farther -> midline shifts left
        sin_yaw = float(np.clip(dz / np.hypot(fd.width, dz), -0.8, 0.8))
    centre = 0.5 + 0.45 * sin_yaw
    across = np.clip(1.0 - ((a - centre) / np.where(a < centre, centre, 1 - centre)) ** 2, 0.0, 1.0)
    opening = float(fd.gap(grid_a).max() / fd.width)
    bared = not (front_teeth or all_teeth) if bared is None else bool(bared)
    px_mm = _px_per_mm(src, z)
    cavity = _cavity(t, v - v_up, v_lo - v, gap, across, opening, lips, tint=_SHADOWED_TINT if bared else _CAVITY_TINT)
    funnel = float(np.clip(funnel, 0.0, 1.0))
    if funnel > 0:  # the lips' aperture off the teeth: the mouth's shadow, no tongue (_FUNNEL_TEETH)
        shadow = _cavity(t, v - v_up, v_lo - v, gap, across, 0.0, lips, tint=_FUNNEL_TINT)
        cavity = cavity * (1.0 - funnel) + shadow * funnel

    # Visible length of the upper teeth in the new opening (pixels): what an average incisor shows under the
    # lip, shorter toward the corners, never filling the opening.
    height = _UPPER_TEETH_HEIGHT * fd.width * np.sqrt(across) * (0.55 + 0.45 * across)
    height = np.minimum(height, gap * (0.3 + 0.5 * across))
    skin_luma = float(_luma(skin))
    teeth_in_photo = src_open and look.measure("teeth shown", lambda: _photo_shows_teeth(img, fs, skin, lips))
    rows = dict(a=a, below_up=v - v_up, above_lo=v_lo - v, gap=gap, across=across, height=height, width_px=fd.width,
                sin_yaw=sin_yaw, lower=float(_smoothstep((opening - _WIDE_OPEN) / 0.15)) * (1.0 - funnel))  # fmt: skip
    interior = cavity
    photo_share = np.zeros(a.shape)  # how much of each pixel is the photo's own (reused), not drawn
    teeth = np.zeros(a.shape)  # how much of each pixel is drawn teeth
    if src_open:
        rounder = opening / max(gap_src / fs.width, 1e-6)
        opens = float(_smoothstep((rounder - _ROUNDER) / _ROUNDER_RAMP))  # 0 where it closes: continuous
        keep = (_FRONT_TEETH_KEEP, _FRONT_TEETH_FADE) if front_teeth else (_TEETH_KEEP, _TEETH_FADE)
        if all_teeth:
            opens = 0.0
        if teeth_in_photo:
            # The teeth's length the photo does not show is drawn under its own, in their colour: where its teeth
            # fade as the jaw opens the mouth rounder (see _ROUNDER), and where lips that part wider uncover more of
            # teeth the photo shows as a sliver (a broader smile on UTKFace tuning crops: the sliver, moved with the
            # lip, hung over a dark crescent; the judges read happiness, surprise and fear as before, 100 crops and
            # the 36 smiling FRLL calibration photos, within one photo).
            fill = _kept_across(a, centre, _STRETCHED_TEETH_KEEP) if front_teeth else 1.0
            own_colour = look.measure("teeth colour", lambda: _photo_teeth_colour(img, fs, skin))
            interior, teeth = _drawn_teeth(interior, **rows, colour=own_colour, amount=fill, px_mm=px_mm, bared=bared)
        # Front teeth alone are not stretched: two long incisors alone in the opening (and on 48 UTKFace broad
        # smilers surprise read as surprise 0.938 -> 0.833 by mini-Xception with them stretched).
        interior, photo_share = _reuse_source(
            img, fs, fd, a, v, v_up, v_lo, interior, across, teeth=teeth_in_photo, centre=centre, opens=opens,
            teeth_keep=keep, teeth_length=None if front_teeth else height, threshold=_teeth_threshold(skin),
            bared=bared,
        )  # fmt: skip
    if not teeth_in_photo:
        light = look.measure("teeth light", lambda: _teeth_light(img, src, skin_luma))
        white = _TEETH_WHITE * (skin / max(skin_luma, 1.0)) ** 0.2 * light
        if all_teeth and funnel <= 0:  # a smile's row spans its opening (a dropped jaw's is an arch: _arch_teeth)
            interior, teeth = _drawn_teeth(interior, **rows, colour=white, amount=1.0, px_mm=px_mm, bared=bared)
        else:
            rows.pop("height")
            interior, teeth = _arch_teeth(interior, **rows, colour=white, px_mm=px_mm, bared=bared, funnel=funnel)
        photo_share = photo_share * (1.0 - teeth)
    teeth = teeth * (1.0 - photo_share)
    if funnel > 0:  # deeper in a funnelled opening, the photo's teeth and the drawn ones go into its shadow
        depth_mm, fade_mm = _FUNNEL_TEETH[2:]
        hidden = funnel * _smoothstep(((v - v_up) / px_mm - depth_mm) / fade_mm)
        interior = interior * (1.0 - hidden[..., None]) + cavity * hidden[..., None]
        photo_share, teeth = photo_share * (1.0 - hidden), teeth * (1.0 - hidden)

    # The opening's corners are rounded: where the lip contours meet at a steep angle (a box-shaped opening),
    # the inner lip's own surface, in its shadow, shows instead of the cavity.
    half = 0.5 * gap
    mid = v_up + half
    rounded = float(half.max(initial=0.0)) * np.clip(1.0 - (2.0 * a - 1.0) ** 2, 0.0, 1.0) ** 0.75
    inside = _smoothstep((np.minimum(half, rounded) - np.abs(v - mid)) / 1.5 + 0.5)
    # Stretched lips (fear) and a smile's crescent keep their pointed ends: only a dropped jaw's opening is rounded.
    radius = 0.0 if bared or all_teeth else min(_CAVITY_END[0] * px_mm, _CAVITY_END[1] * float(half.max(initial=0.0)))
    ends = _smoothstep((2.5 * radius - np.minimum(u, fd.width - u)) / max(0.5 * radius, 1e-6))  # corners, not middle
    inside = np.minimum(inside, 1.0 - ends * (1.0 - _round_ends(poly - (x0, y0), cover.shape, radius)))
    mucosa = lips[None, None, :] * (0.75 + 0.15 * across)[..., None] * np.array([1.0, 0.9, 0.9])
    interior = interior * inside[..., None] + mucosa * (1.0 - inside[..., None])
    photo_share, teeth = photo_share * inside, teeth * inside
    tongue = _tongue_cover(t, gap, across, opening)[0] * inside * (1.0 - photo_share) * (1.0 - funnel)

    # Painted pixels get the photo's softness and grain, so they do not look pasted on: on a soft photo (UTKFace
    # crops upscaled from 200 px, blur ~3 px) a crisp cavity with drawn teeth read as a sticker; what the photo
    # gave keeps its own softness.
    own = cv2.GaussianBlur(interior, (0, 0), _OWN_SOFTNESS)
    if soften > 0:
        drawn = cv2.GaussianBlur(interior, (0, 0), float(np.hypot(_OWN_SOFTNESS, soften)))
        interior = own * photo_share[..., None] + drawn * (1.0 - photo_share[..., None])
    else:
        interior = own
    grain_scale = np.sqrt(np.clip(_luma(interior) / max(skin_luma, 1.0), 0.0, 1.0))
    tongue = tongue * (1.0 - teeth)  # the lower teeth stand in front of it
    smooth = 1.0 - (1.0 - _TEETH_GRAIN) * teeth - (1.0 - _TONGUE_GRAIN) * tongue
    grain_scale = grain_scale * (1.0 - photo_share) * smooth  # what the photo gave has its own
    # Grain changes a pixel's brightness, not its hue: the same grey step on every channel of the dark red cavity and
    # tongue turned their darker pixels a saturated red and the lighter ones grey (a red speckle).
    noise = grain(look, interior.shape[:2]) * grain_scale / np.maximum(_luma(interior), 1.0)
    interior = interior * (1.0 + noise[..., None])
    out = base.copy()
    region = out[y0:y1, x0:x1].astype(np.float64)
    al = alpha[..., None].astype(np.float64)
    out[y0:y1, x0:x1] = np.clip(region * (1 - al) + interior * al + 0.5, 0, 255).astype(np.uint8)
    new_mask = mask.copy()
    new_mask[y0:y1, x0:x1] = np.maximum(new_mask[y0:y1, x0:x1], alpha)
    return WarpResult(out, new_mask)


def _round_ends(poly: np.ndarray, shape: tuple[int, int], radius: float) -> np.ndarray:
    """How much of each pixel of a polygon's box is in the polygon opened by a disc of ``radius`` px (eroded, then grown
    back: its narrow tips cut round), as a share of its part in the polygon; pixels outside the polygon take their
    neighbours' share. (H, W) float in 0..1 (:data:`_CAVITY_END`)."""
    k = _CAVITY_END[2]
    h, w = shape
    if radius * k < 1.0:
        return np.ones(shape)
    fine = np.zeros((h * k, w * k), np.uint8)
    cv2.fillPoly(fine, [np.round((poly * k + 0.5 * (k - 1)) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    core = cv2.distanceTransform(fine, cv2.DIST_L2, 5) > radius * k
    if not core.any():
        return np.ones(shape)
    opened = (cv2.distanceTransform((~core).astype(np.uint8), cv2.DIST_L2, 5) <= radius * k) & (fine > 0)
    area = cv2.resize(fine.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    kept = cv2.resize(opened.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    share = np.where(area > 1e-3, kept / np.maximum(area, 1e-3), 1.0)
    outside = area < 0.5
    share[outside] = cv2.erode(share, np.ones((5, 5), np.uint8))[outside]  # the edge's soft halo: as its neighbours
    return np.clip(share, 0.0, 1.0)


def _drawn_teeth(
    interior, *, a, below_up, above_lo, gap, across, height, width_px, sin_yaw, lower, colour, amount, px_mm, bared
) -> tuple[np.ndarray, np.ndarray]:
    """``interior`` with drawn upper teeth (``height`` pixels under the upper lip) and, where the mouth opens wide
    (``lower``: 0..1), lower teeth over the lower lip, in ``colour``, at ``amount`` (0..1) of their coverage; and
    that coverage (H, W). A relaxed jaw dropped wide (not ``bared``) shows only the lower incisors' shaded edges, as
    :func:`_arch_teeth` draws them (:data:`_ARCH_DROPPED`; ``px_mm``: the face's pixels per mm)."""
    into = below_up + 0.8  # teeth start a little under the lip edge
    shade = (0.15 + 0.85 * across**1.5)[..., None]  # the side teeth sink into the mouth's shadow
    rgb, ta = _teeth(a, into, height, width_px, _arch_boundaries(_UPPER_TEETH_MM, sin_yaw), colour)
    amount = np.asarray(amount, np.float64)
    amount = amount[..., None] if amount.ndim else amount
    ta = ta[..., None] * amount
    interior = interior * (1 - ta) + rgb * shade * ta
    bare = 1.0 - ta[..., 0]
    if lower * float(amount.max()) > 0:
        dropped = 0.0 if bared else lower  # a relaxed jaw dropped wide takes them behind the lip (_ARCH_DROPPED)
        low = np.minimum(_LOWER_TEETH_HEIGHT * width_px * np.sqrt(across) * across, 0.25 * gap)
        edges = np.minimum(_ARCH_DROPPED[0] * px_mm * np.sqrt(across) * (0.55 + 0.45 * across), low)
        low = low + (edges - low) * dropped
        shade = (0.2 + 0.55 * across**1.5)[..., None]  # about the arch's dropped teeth's light in the middle
        bounds = _arch_boundaries(_LOWER_TEETH_MM, sin_yaw)
        edge_share = 0.06 + (_ARCH_DROPPED[3] - 0.06) * dropped  # _teeth's own free edge, softened
        rgb, ta = _teeth(a, above_lo + 0.8, low, width_px * 0.85, bounds, colour, edge_share=edge_share)
        radius = _ARCH_RADIUS_MM * _ARCH_LOWER[0]
        ta = ta * _dropped_front(_arch_angle(a, width_px / px_mm, sin_yaw, _LOWER_TEETH_MM, radius)[1], dropped)
        ta = ta[..., None] * (lower * amount)
        interior = interior * (1 - ta) + rgb * shade * ta
        bare = bare * (1.0 - ta[..., 0])
    return interior, 1.0 - bare


def _arch_teeth(
    interior, *, a, below_up, above_lo, gap, across, width_px, sin_yaw, lower, colour, px_mm, bared, funnel=0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``interior`` with upper and lower teeth drawn as the front of a dental arch in the face's own scale
    (``px_mm``: pixels per mm), not stretched with the opening; and their coverage (H, W).

    Across the opening (its width ``width_px``, ``a`` the fraction across) each tooth sits where the arch of
    :data:`_ARCH_RADIUS_MM` projects, turned with the head (``sin_yaw``): a stretched opening (fear's AU20) is wider
    than the arch, and its corners show the dark space beside the teeth rather than more teeth. The teeth shorten
    toward the back of the arch (:data:`_ARCH_SHORTEN`), darken as they turn away (:data:`_ARCH_LIGHT`) and in the
    cheeks' shadow toward the corners (:data:`_ARCH_CORNER`), with faint separations (:data:`_ARCH_LINES`) and a soft
    free edge (:data:`_ARCH_EDGE`). Upper teeth show :data:`_ARCH_UPPER_MM` at most (more under lips stretched over
    them, ``bared``), and at most :data:`_ARCH_UPPER_GAP` of the opening; the lower incisors' edges (a narrower arch,
    :data:`_ARCH_LOWER`) show over the lower lip, up to the canines (:data:`_ARCH_LOWER_FRONT`), at
    :data:`_ARCH_LOWER_HINT` of their coverage in a mouth opened a little and wholly in one opened wide (``lower``:
    0..1); a relaxed jaw dropped wide (not ``bared``) takes them down behind the lower lip (:data:`_ARCH_DROPPED`).
    Lips pushed forward into a funnel (``funnel``: 0..1) show the upper teeth's edges alone, in their shadow, and no
    lower teeth (:data:`_FUNNEL_TEETH`)."""
    mouth_mm = width_px / px_mm
    corner = _ARCH_CORNER[0] + (1.0 - _ARCH_CORNER[0]) * across ** _ARCH_CORNER[1]
    reach = np.sqrt(across) * (0.55 + 0.45 * across)
    bare = np.ones(a.shape)
    dropped = 0.0 if bared else lower  # a relaxed jaw dropped wide takes the lower teeth behind the lip (_ARCH_DROPPED)
    rows = (
        (_UPPER_TEETH_MM, 1.0, below_up, _ARCH_UPPER_MM[int(bared)] + (_FUNNEL_TEETH[0] - _ARCH_UPPER_MM[int(bared)])
         * funnel, _ARCH_UPPER_GAP, 1.0),
        (_LOWER_TEETH_MM, _ARCH_LOWER[0], above_lo, _ARCH_LOWER[1] + (_ARCH_DROPPED[0] - _ARCH_LOWER[1]) * dropped,
         _ARCH_LOWER[2], (_ARCH_LOWER_HINT + (1.0 - _ARCH_LOWER_HINT) * lower) * (1.0 - funnel)),
    )  # fmt: skip
    for widths, radius_share, into, length_mm, gap_share, amount in rows:
        radius = _ARCH_RADIUS_MM * radius_share
        facing, back = _arch_angle(a, mouth_mm, sin_yaw, widths, radius)
        length = length_mm * px_mm * (1.0 - _ARCH_SHORTEN * np.clip(back, 0.0, 1.0) ** 2) * reach
        length = np.minimum(length, gap * gap_share[0] + gap * gap_share[1] * across)
        bounds = _arch_boundaries(widths, sin_yaw, mouth_mm=mouth_mm, radius_mm=radius)
        lower_row = radius_share < 1.0
        edge_share = _ARCH_EDGE + (_ARCH_DROPPED[3] - _ARCH_EDGE) * dropped if lower_row else _ARCH_EDGE
        rgb, ta = _teeth(a, into + 0.8, length, _MOUTH_WIDTH_MM * px_mm, bounds, colour, lines=_ARCH_LINES,
                         edge_share=edge_share, notch=_ARCH_NOTCH)  # fmt: skip
        ta = ta * _smoothstep((facing - 0.1) / 0.2) * amount
        shade = (_ARCH_LIGHT + (1.0 - _ARCH_LIGHT) * facing**2) * corner * (1.0 - (1.0 - _FUNNEL_TEETH[1]) * funnel)
        if lower_row:
            shade = shade * _ARCH_LOWER[3] * (1.0 + (_ARCH_DROPPED[1] - 1.0) * dropped)
            ta = ta * (1.0 - (1.0 - dropped) * _smoothstep((back - _ARCH_LOWER_FRONT[0]) / _ARCH_LOWER_FRONT[1]))
            ta = ta * _dropped_front(back, dropped)
        lit = rgb * shade[..., None] + interior * (_ARCH_AMBIENT * (1.0 - shade))[..., None]
        interior = interior * (1 - ta[..., None]) + lit * ta[..., None]
        bare = bare * (1.0 - ta)
    return interior, 1.0 - bare


def _arch_angle(a, mouth_mm: float, sin_yaw: float, widths, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Where fractions ``a`` across an opening ``mouth_mm`` wide fall on a dental arch of ``radius`` mm (its teeth
    ``widths`` mm from the middle), turned with the head (``sin_yaw``): how much the arch faces the camera there (1 in
    its middle) and how far back along it they lie (1 at the last tooth's far edge)."""
    yaw = float(np.arcsin(np.clip(sin_yaw, -0.9, 0.9)))
    s = np.clip((a - 0.5) * mouth_mm / radius, -1.0, 1.0)  # the sine of the arch's angle as the camera sees it
    return np.sqrt(1.0 - s * s), np.abs(np.arcsin(s) - yaw) / (sum(widths) / radius)


def _dropped_front(back: np.ndarray, dropped: float) -> np.ndarray:
    """Share of the lower teeth shown at ``back`` along the arch (:func:`_arch_angle`) by a relaxed jaw dropped wide
    (``dropped``: 0..1): only the incisors' (:data:`_ARCH_DROPPED`)."""
    return 1.0 - dropped * _smoothstep((back - _ARCH_DROPPED[2][0]) / _ARCH_DROPPED[2][1])


def _kept_across(a: np.ndarray, centre: float, keep: tuple[float, float]) -> np.ndarray:
    """1 up to ``keep[0]`` of the half-width from the midline (``centre``: its fraction across), 0 past ``keep[1]``
    more: how much of a row of teeth stays at fractions ``a`` across the opening."""
    side = np.abs(a - centre) / np.where(a < centre, centre, 1.0 - centre)
    return 1.0 - _smoothstep((side - keep[0]) / keep[1])


def _teeth_threshold(skin: np.ndarray) -> float:
    """Luma above which the photo's opening shows teeth: brighter than the lips' shadow would be."""
    return 0.75 * float(_luma(skin))


def _redness(rgb: np.ndarray) -> float:
    """How red a colour is for its light: (R - G) / luma."""
    return float((rgb[0] - rgb[1]) / max(float(_luma(rgb)), 1.0))


def _photo_shows_teeth(img: np.ndarray, fs: ContourFrame, skin: np.ndarray, lips: np.ndarray) -> bool:
    """Whether the photo's opening shows teeth: the upper half of its middle is brighter than the lips' shadow, and it
    and the teeth colour are whiter than the lips (:data:`_TEETH_REDNESS`)."""
    grid = np.linspace(0.3, 0.7, 9)
    gu, gl = fs.profile(grid * fs.width)
    mx, my = fs.to_image(grid * fs.width, gu + 0.3 * np.maximum(gl - gu, 0))
    xs = np.clip(np.round(mx).astype(int), 0, img.shape[1] - 1)
    ys = np.clip(np.round(my).astype(int), 0, img.shape[0] - 1)
    sample = np.median(img[ys, xs].astype(np.float64), axis=0)
    if float(_luma(sample)) <= _teeth_threshold(skin):
        return False
    teeth = _photo_teeth_colour(img, fs, skin)
    return 0.5 * (_redness(sample) + _redness(teeth)) < _TEETH_REDNESS * _redness(lips)


def _photo_teeth_colour(img: np.ndarray, fs: ContourFrame, skin: np.ndarray) -> np.ndarray:
    """The photo's upper teeth colour (RGB float): median of the bright run under the upper lip across the middle
    two fifths (the front teeth, out of the corners' shadow)."""
    a, _, rgb, bright = _upper_teeth_samples(img, fs, _teeth_threshold(skin))
    middle = bright & (np.abs(a - 0.5) <= 0.2)[:, None]
    return np.median(rgb[middle], axis=0) if middle.any() else _TEETH_WHITE.copy()


def _teeth_light(img: np.ndarray, src: np.ndarray, skin_luma: float) -> float:
    """Brightness of drawn teeth relative to :data:`_TEETH_WHITE`: the photo's light as its skin or, if brighter, its
    eyes' white show it (see :data:`_TEETH_SCLERA`)."""
    from .lids import EYES, _eye_colours, eye_frame  # lids imports this module

    sclera = np.mean([float(_luma(_eye_colours(img, eye_frame(src, up, lo), None)[0])) for up, lo in EYES])
    light = max(skin_luma / 180.0, _TEETH_SCLERA * sclera / float(_luma(_TEETH_WHITE)))
    # The floor keeps a lit face's teeth off grey when its whites measure dim (narrowed eyes); it dims with the photo.
    return float(np.clip(light, _TEETH_LIGHT[0] * exposure(skin_luma), _TEETH_LIGHT[1]))


def _cavity(t, below_up, above_lo, gap, across, opening, lips, *, tint: np.ndarray = _CAVITY_TINT) -> np.ndarray:
    """The inside of an open mouth lit from the front, in the photo's own lip colour (RGB float 0..255).

    Dark red-brown, darkest at the back (the middle of the opening, behind the upper teeth) and in the
    corners (the cheeks' shadow); the inner lips' rims catch the light; the tongue rises from the lower lip once
    the mouth opens beyond a slit (:func:`_tongue_cover`), smooth, darker toward its back, with a soft specular.
    ``t``: 0 at the upper inner lip, 1 at the lower; ``below_up`` / ``above_lo``: pixels from the upper / lower lip;
    ``gap``: the opening's height (pixels); ``tint``: the cavity's share of the lip colour (:data:`_CAVITY_TINT`, or
    :data:`_SHADOWED_TINT` for lips stretched over the teeth)."""
    rim_px = np.maximum(0.12 * gap, 0.8)
    # Outside the opening (negative distances, under its soft edge) the rim stays at its lit colour: unclamped it grew
    # without bound (1e37 on UTKFace tuning crops 244 and 42; the seal's copy of it drew orange lines on the lips).
    rim = np.exp(-np.maximum(np.minimum(below_up, above_lo), 0.0) / rim_px)
    corner = 0.45 + 0.55 * np.sqrt(across)
    back = 1.0 - 0.35 * np.exp(-(((t - 0.4) / 0.3) ** 2))  # the throat, just under the palate
    shade = (0.5 + 0.35 * rim) * back * corner
    cavity = lips[None, None, :] * tint * shade[..., None]
    on, forward = _tongue_cover(t, gap, across, opening)
    if on.any():
        # Lit from the front: darker toward its back (deeper in the mouth), in the lower lip's shadow at its tip,
        # with a soft specular on its wet top (_TONGUE_LIGHT, _TONGUE_SHINE).
        depth, lip_shadow = _TONGUE_LIGHT
        lit = (0.6 + 0.2 * np.sqrt(across)) * (1.0 - depth * (1.0 - _smoothstep(forward / 0.7)))
        lit = lit * (1.0 - lip_shadow * _smoothstep((forward - 0.8) / 0.2))
        tongue = lips[None, None, :] * _TONGUE_TINT * (lit * corner)[..., None]
        peak, at, spread = _TONGUE_SHINE
        shine = peak * np.exp(-(((forward - at) / spread) ** 2)) * across**4
        sheen = 0.5 * (lips + _luma(lips))  # the light's own colour off a wet surface: the lips' colour, greyed
        tongue = tongue * (1.0 - shine[..., None]) + sheen[None, None, :] * shine[..., None]
        cavity = cavity * (1.0 - on[..., None]) + tongue * on[..., None]
    return cavity


def _tongue_cover(t, gap, across, opening) -> tuple[np.ndarray, np.ndarray]:
    """The tongue in an opening (see :func:`_cavity` for the arguments): its coverage (0..1) and how far forward each
    pixel lies on it (0 at its top's arch, deepest in the mouth, 1 at the lower lip). Its top is an arch across the
    opening, up to :data:`_TONGUE_HEIGHT` of the gap in the middle, once the mouth opens beyond a slit."""
    amount = float(_smoothstep((opening - 0.06) / 0.14))
    top = 1.0 - _TONGUE_HEIGHT * np.sqrt(across) * amount
    forward = np.clip((t - top) / np.maximum(1.0 - top, 1e-6), 0.0, 1.0)
    if amount <= 0:
        return np.zeros(np.shape(t)), forward
    edge = np.maximum(0.06, 1.2 / gap)
    return _smoothstep((t - top) / edge), forward


def look_colours(look: PhotoLook) -> tuple[np.ndarray, np.ndarray]:
    """:func:`face_colours` of the look's photo and face, measured once."""
    return look.measure("colours", lambda: face_colours(look.image, look.src))


def grain(look: PhotoLook, shape: tuple[int, int]) -> np.ndarray:
    """Noise with the photo's own grain (high-pass spread of the cheek skin), fixed seed."""
    sigma = look.measure("grain", lambda: _grain_sigma(look.image, look.src))
    return np.zeros(shape) if sigma is None else np.random.default_rng(0).normal(0.0, sigma, shape)


def _grain_sigma(img: np.ndarray, points: np.ndarray) -> float | None:
    """The photo's grain: the spread of the right cheek's luma above a 1 px blur (at most 6); None off the photo."""
    fw = float(np.hypot(*(points[454] - points[234])))
    r = max(2, int(round(0.04 * fw)))
    x, y = np.round(points[SEMANTIC_VERTICES["cheek_r"]]).astype(int)
    patch = img[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1].astype(np.float32)
    if patch.shape[0] < 3 or patch.shape[1] < 3:
        return None
    luma = _luma(patch)
    return min(float(np.std(luma - cv2.GaussianBlur(luma, (0, 0), 1.0))), 6.0)


def _reuse_source(
    img, fs: ContourFrame, fd: ContourFrame, a, v, v_up, v_lo, cavity, across, *, teeth: bool, threshold: float,
    centre=0.5, opens=0.0, teeth_keep=(_TEETH_KEEP, _TEETH_FADE), teeth_length=None, bared=False,
):  # fmt: skip
    """Interior from the photo: the upper part follows the upper lip, the lower part the lower lip.

    Where the edit opens a mouth whose photo showed teeth rounder (``opens``: 0..1, how much), the photo's
    teeth are kept near the middle (``centre``: the midline's fraction across the opening) and fade to the
    cavity toward the new opening's corners (``teeth_keep``: kept whole up to its first share of the half-width,
    faded over its second; default ``_TEETH_KEEP``, ``_TEETH_FADE``): a broad smile's side teeth would stand
    there as fangs.

    Where the photo's lips part over only a sliver of upper teeth (a closed-bite smile) and the edit opens the
    mouth rounder (a dropped jaw shows more of their length), the photo's upper teeth are stretched down the
    face toward ``teeth_length`` (target pixels per pixel; at most :data:`_TEETH_STRETCH` times what the photo
    shows, in proportion to ``opens``), keeping their own colour, light and separations. Reused at their photo
    size they hung as a white sliver from the upper lip of a dark oval, and the opened mouth looked toothless.

    Where the photo's upper teeth rest on its lower lip (:func:`_teeth_rest_on_lip`) nothing goes down with the lower
    lip, unless ``bared`` (lips stretched over an open jaw, fear): there the band above the lower lip still goes with
    it, and the judges read it as fear's bared lower teeth (fear without it, 28 broad UTKFace tuning smilers:
    mini-Xception / NetworkV2 / facecraft 4 / 16 / 9 -> 2 / 13 / 6 photos).

    ``teeth``: whether the photo shows teeth (:func:`_photo_shows_teeth`); ``threshold``: their least luma.
    Returns the interior (``cavity`` where the photo has nothing to give) and the photo's share of each pixel.
    """
    scale = fs.width / fd.width
    us = a * fs.width
    vs_up, vs_lo = fs.profile(us)
    gap_s = np.maximum(vs_lo - vs_up, 0.0)
    off_up = (v - v_up) * scale
    off_lo = (v_lo - v) * scale
    # Each lip brings along at most what teeth can hang from it there (shorter toward the corners): a smile's
    # side teeth taken at full gap height would stand in a newly opened mouth as fangs.
    reach = np.sqrt(across) * (0.55 + 0.45 * across) * fs.width + 1.0
    rest = 0.0
    if teeth and not bared:
        # Upper teeth resting on the lower lip (a closed-bite smile): the band above that lip is their edges, not
        # lower teeth. Carried down with the lower lip, under a dark gap, the edges stood as a second row of teeth
        # (disgust) or a white rim along the opening's bottom (a funnel, surprise); the drawn row under the upper
        # lip's share finishes the teeth instead. (Hung whole from the upper lip, the taller row read less as a
        # funnel: MediaPipe's largest on the 36 smiling calibration photos 18 -> 15, 16 this way.)
        rest = _teeth_rest_on_lip(img, fs, threshold)
    share_up = np.minimum(0.5 * gap_s, _UPPER_TEETH_HEIGHT * 1.25 * reach)
    share_lo = np.minimum(0.5 * gap_s, _LOWER_TEETH_HEIGHT * 1.5 * reach) * (1.0 - rest)
    stretch = 1.0
    if teeth and teeth_length is not None and opens > 0:
        # One stretch for the whole row, from the front teeth (the side teeth are in shadow and shorter), so the
        # row's free edge follows the wanted arch, not the noise of what each column shows. A bright run through
        # the whole opening is upper and lower teeth meeting: the upper ones get its half. The row must show
        # across the four incisors (the middle two fifths): two incisor tips between barely parted lips,
        # stretched, stand alone in the opening as a rabbit's teeth.
        wanted = np.asarray(teeth_length, np.float64) * scale
        middle = np.abs(a - centre) <= 0.1
        a_s, shown = _upper_teeth_shown(img, fs, threshold)
        shown = np.minimum(shown, 0.5 * fs.gap(a_s))[np.abs(a_s - centre) <= 0.2]
        shown_mid = float(np.quantile(shown, 0.25)) if shown.size else 0.0
        if shown_mid >= _TEETH_SHOWN_MIN and middle.any():
            stretch = float(np.clip(np.median(wanted[middle]) / shown_mid, 1.0, _TEETH_STRETCH))
            stretch = 1.0 + (stretch - 1.0) * opens  # only as far as the jaw opens the mouth rounder
            share_up = np.maximum(share_up, np.minimum(wanted, shown_mid * stretch))
    w_up = 1.0 - _smoothstep((off_up - share_up + 1.0) / 2.0)
    w_lo = (1.0 - _smoothstep((off_lo - share_lo + 1.0) / 2.0)) * (1.0 - w_up)
    if teeth and opens > 0:
        if stretch > 1.0:
            teeth_keep = _STRETCHED_TEETH_KEEP
        keep = 1.0 - opens * (1.0 - _kept_across(a, centre, teeth_keep))
        w_up, w_lo = w_up * keep, w_lo * keep
    out, drawn = cavity, np.ones(a.shape)
    for weight, vs in ((w_up, vs_up + off_up / stretch), (w_lo, vs_lo - off_lo)):
        mx, my = fs.to_image(us, vs)
        sample = cv2.remap(img, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101).astype(np.float64)  # fmt: skip
        out = out * (1 - weight[..., None]) + sample * weight[..., None]
        drawn = drawn * (1 - weight)
    return out, 1.0 - drawn


def _upper_teeth_shown(img: np.ndarray, fs: ContourFrame, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """How far down from the upper inner lip the photo shows bright teeth, in photo pixels, at fractions ``a``
    across the opening: ``(a, length)``, median-smoothed across. The run may start a pixel or two under the lip
    (its shadow) and ends at the first pixel darker than ``threshold`` (the lower lip, the cavity, a dark gap
    between upper and lower teeth)."""
    a, steps, _, bright = _upper_teeth_samples(img, fs, threshold)
    length = np.zeros(len(a))
    for i, row in enumerate(bright):
        start = int(np.argmax(row))
        if not row[start] or steps[start] > _TEETH_SHOWN_MIN:
            continue
        dark = np.flatnonzero(~row[start:])
        end = start + (int(dark[0]) if dark.size else len(row) - start)
        length[i] = steps[end - 1] + 0.5
    return a, median_filter(length, size=5, mode="nearest")


def _teeth_rest_on_lip(img: np.ndarray, fs: ContourFrame, threshold: float) -> float:
    """How much the photo's upper teeth rest on its lower lip (0..1): the median over the middle three fifths of the
    opening of 1 where the bright run under the upper lip (:func:`_upper_teeth_shown`) reaches the lower lip (within
    :data:`_REST_GAP`), 0 where a dark gap parts them. One value for the row: decided column by column, a column
    misread drew a dark notch with the teeth's edges under it in the row."""
    a, shown = _upper_teeth_shown(img, fs, threshold)
    gap = fs.gap(a)
    tol = np.maximum(_REST_GAP[0], _REST_GAP[1] * gap)
    rests = (1.0 - _smoothstep((gap - shown - tol) / tol)) * (shown > 0)
    return float(np.median(rests[np.abs(a - 0.5) <= 0.3]))


def _upper_teeth_samples(
    img: np.ndarray, fs: ContourFrame, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The photo's opening sampled straight down from the upper inner lip every half pixel, at 41 fractions across:
    ``(a, steps, rgb (41, S, 3) float, bright (41, S): luma above threshold and inside the opening)``."""
    a = np.linspace(0.0, 1.0, 41)
    up, lo = fs.profile(a * fs.width)
    steps = np.arange(0.0, max(float((lo - up).max()), 0.0) + 0.5, 0.5)
    x, y = fs.to_image((a * fs.width)[:, None], up[:, None] + steps[None, :])
    rgb = cv2.remap(img, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT_101).astype(np.float64)  # fmt: skip
    bright = (_luma(rgb) > threshold) & (steps[None, :] <= (lo - up)[:, None])
    return a, steps, rgb, bright


def repaint_inputs(warped, image, src_px, dst_px) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked inputs of a repaint step (mouth, lids): ``(warped image, its mask, photo, src, dst)``."""
    base, mask = _unpack(warped)
    img = valid_image(image, name="image")
    if base.shape != img.shape:
        raise ParameterError(f"warped: expected the image's shape {img.shape}, got {base.shape}")
    return base, mask, img, valid_points(src_px, name="src_px"), valid_points(dst_px, name="dst_px")


def _unpack(warped) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(warped, WarpResult):
        img, mask = warped.image, warped.mask
    else:
        img = valid_image(warped, name="warped")
        mask = np.zeros(img.shape[:2], np.float32)
    img = valid_image(img, name="warped")
    mask = np.asarray(mask, dtype=np.float32)
    if mask.shape != img.shape[:2]:
        raise ParameterError(f"warped.mask: expected shape {img.shape[:2]}, got {mask.shape}")
    return img, mask
