"""Editor-side lip shapes the rig's own cannot make: the funnel's rounded "O" (AU22, ``mouthFunnel``).

The default rig is shared with speech animation and stays as it is. Its funnel moves whole lips: the upper lip up,
the lower lip down, the corners a little in. Far enough to read at all (the calibration solves a request of 0.8 to
about two units), that is a wide, box-shaped opening with the teeth bare, and MediaPipe reads it as ``jawOpen`` or
``mouthUpperUp`` (FRLL calibration photos, every third, 24: funnel read largest on none, its mean rise 0.06).

A lip funneler pushes the lips forward and flares them: the corners come in, the inner lips part into a small
round opening in the middle while they stay together toward the corners, and the lips turn out (more red shows).
:func:`funnel_motion` lays the lips out that way. The mesh's lip vertices are placed in rings from the inner
contour (depth 0) to the outer one (depth 1) (:func:`lip_layers`): the inner ring gathers into an opening
:data:`FUNNEL_ROUND` of the mouth's width, the outer ring narrows by :data:`FUNNEL_NARROW`; across the mouth
(``s`` from -1 at one corner to 1 at the other) the inner ring parts by ``sqrt(1 - s^2)`` of the opening
(:data:`FUNNEL_OPENING`; a photo's own opening, as tall or taller, is laid out the same way), gathered along the
mouth's middle line, the outer ring follows it and each lip turns out by :data:`FUNNEL_FLARE` of its own thickness;
the skin around follows within :data:`FUNNEL_SKIN`.

Measured on the same 24 calibration photos, ``mouthFunnel=0.8``: the mouth looks like an "oo" (rounded lips, an
oval opening with the teeth's edges); funnel read largest on 6 of 24 (mean rise 0.27), ``mouthPucker`` rose more on
the rest (mean 0.57): MediaPipe reads rounded, narrowed lips as a pucker first. A random search over the opening,
rounding, narrowing, flare, jaw share and asymmetry (150 settings, 12 calibration photos) never read funnel largest
on more than 3 of 12: no layout of the lips found makes it the largest rise on most faces. The bigger openings
that raise the funnel's rise (0.44) read as ``jawOpen`` and ``mouthUpperUp`` and looked like a gaping mouth.
What reads as funnel rather than pucker is the lips turned out, not a wider opening: the funnel's companions in the
calibration (:data:`facecraft.synth.calibration.COMPANIONS`: the rig's lips rolled out, the chin's push off the
lower lip, a little ``mouthClose`` and smile) with the corners coming in less far (:data:`FUNNEL_NARROW`) read
funnel largest on 0.49 of the 72 calibration photos (0.17 before; mean rise 0.29 -> 0.50, ``mouthPucker``'s rise
0.57 -> 0.49): full, everted lips around a small opening (the teeth show through it).
"""

from __future__ import annotations

import functools

import numpy as np

from facecraft.rigs import ARKIT_INDEX
from facecraft.rigs.default_rig import (
    LIPS_LOWER_INNER,
    LIPS_LOWER_OUTER,
    LIPS_UPPER_INNER,
    LIPS_UPPER_OUTER,
    lip_faces,
)
from facecraft.rigs.mediapipe_mesh import canonical_mesh

from .calibration import COMPANIONS
from .corner_frame import CornerFrame
from .mouth import _smoothstep

_FUNNEL = ARKIT_INDEX["mouthFunnel"]
_JAW = ARKIT_INDEX["jawOpen"]
_CORNERS = (61, 291)  # the outer mouth corners (face's right, left)
_ROWS = (LIPS_UPPER_INNER, LIPS_LOWER_INNER, LIPS_UPPER_OUTER, LIPS_LOWER_OUTER)
#: Rig ``mouthFunnel`` weight of a full funnel (amount 1): the calibration solves a request of 1.0 to about 2.5.
FUNNEL_FULL = 2.5
#: Opening height in the middle of a full funnel, as a share of the mouth's width (an "oo": 0.3 of a 50 mm mouth).
FUNNEL_OPENING = 0.3
#: The inner lips' ring spans this share of the mouth's width at a full funnel (they meet beyond it).
FUNNEL_ROUND = 0.45
#: The mouth corners come in by this share of the half-width at a full funnel: moderately, less than a pucker's.
#: At 0.2 MediaPipe read the narrowed "O" as ``mouthPucker`` (module docstring); with the funnel's companions
#: (:data:`facecraft.synth.calibration.COMPANIONS`), of the 72 calibration photos read funnel largest: 0.39 at 0.2,
#: 0.49 at 0.15, 0.54 at 0.1, 0.56 at 0.0. 0.15 keeps the corners coming in by more than a tenth with the
#: companions' smile (the editor's own check of a funnel request).
FUNNEL_NARROW = 0.15
#: Each lip turns out (more red shows) by this share of its own thickness in the middle of a full funnel.
FUNNEL_FLARE = 0.3
#: Skin follows the lips' motion within ``FUNNEL_SKIN[0]`` face widths of them, blended over ``FUNNEL_SKIN[1]``.
FUNNEL_SKIN = (0.12, 0.04)
#: Rig ``jawOpen`` rise over which the correction fades out: a funnel the jaw opens with (surprise's companion,
#: :data:`facecraft.synth.calibration.COMPANIONS`) keeps the rig's shape, which rounds the dropped jaw's opening.
JAW_FADE = 0.3
#: Share of the companions' roll-out (:data:`_TURN_OUT`) :func:`funnel_part` takes from the rig (the rest stays):
#: on the tuning photos (100 UTKFace crops, 36 + 36 FRLL calibration photos) funnel read largest 9 / 17 / 19 with all
#: of it kept, 8 / 13 / 12 with none (the inner ring not yet gathered along the middle line), 14 / 15 / 18 at 0.5
#: (gathered); the astronaut's upper / lower lip 2.7 / 1.8 -> 2.0 / 1.7 times
#: its own thickness.
FUNNEL_TURN_OUT = 0.5
#: The funnel's companions that roll the lips out (:data:`facecraft.synth.calibration.COMPANIONS`), by channel: their
#: share of the funnel's rise. The rig's roll-out adds about a tenth of the mouth's width to each lip whatever its
#: own thickness (a smiler's thin lips grew 3-fold); :func:`funnel_motion` turns the lips out in their place.
_TURN_OUT = {
    ARKIT_INDEX[name]: share
    for name, share in COMPANIONS["mouthFunnel!jawOpen"].items()
    if name.startswith("mouthRoll") and share < 0
}


@functools.cache
def lip_layers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lips, upper, depth)``: the lip vertices (indices), and per mesh vertex ``(468,)`` whether it belongs to the
    upper lip and how deep into the lip it lies (0 on the inner contour, 1 on the outer), from the canonical mesh
    (whose lips are apart, so the two lips separate cleanly; a photo's closed lips would not)."""
    pts = canonical_mesh().vertices[:, :2] * np.array([1.0, -1.0])  # image-like: y down
    frame = CornerFrame.between(pts[_CORNERS[0]], pts[_CORNERS[1]], v_down=True)
    u, v = frame.local(pts)
    up_in, lo_in, up_out, lo_out = (_contour(frame, pts, ids, u) for ids in _ROWS)
    upper = v < 0.5 * (up_in + lo_in)
    depth_up = (up_in - v) / np.maximum(up_in - up_out, 1e-9)
    depth_lo = (v - lo_in) / np.maximum(lo_out - lo_in, 1e-9)
    lips = np.unique(canonical_mesh().faces[lip_faces()])
    return lips, upper, np.clip(np.where(upper, depth_up, depth_lo), 0.0, 1.0)


def _contour(frame: CornerFrame, points: np.ndarray, ids, u: np.ndarray) -> np.ndarray:
    """``v`` of the contour through ``points[ids]`` at ``u`` (frame coordinates)."""
    cu, cv = frame.local(points[list(ids)])
    return np.interp(u, np.maximum.accumulate(cu), cv)


def funnel_part(rig_change: np.ndarray) -> np.ndarray:
    """``(52,)`` the part of a rig change that :func:`funnel_motion` replaces: the funnel's rise, faded out as the jaw
    opens (:data:`JAW_FADE`), and the lips' roll-out its companions bring with it (:data:`_TURN_OUT`, up to their
    share of the rise): the funnel turns the lips out itself (:data:`FUNNEL_FLARE`); zeros when there is none."""
    part = np.zeros(len(rig_change))
    rise = max(float(rig_change[_FUNNEL]), 0.0)
    fade = 1.0 - float(_smoothstep(np.asarray(max(float(rig_change[_JAW]), 0.0) / JAW_FADE)))
    part[_FUNNEL] = rise * fade
    for k, share in _TURN_OUT.items():
        part[k] = float(np.clip(rig_change[k], share * rise, 0.0)) * fade * FUNNEL_TURN_OUT
    return part


def funnel_amount(rig_change: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`funnel_part` of a rig change and how far it funnels the lips (its largest weight over
    :data:`FUNNEL_FULL`: 0 none, 1 a full funnel): what :func:`funnel_motion` and the mouth painter take, alike for a
    still edit and a talking portrait's frame."""
    part = funnel_part(np.asarray(rig_change, np.float64))
    return part, float(part.max(initial=0.0)) / FUNNEL_FULL


#: A talking portrait's speech funnel (its curves driving the rig's own weights, ``mapping="rig"``): rig
#: ``mouthFunnel`` over which it goes from none to a full "O" (:func:`speech_funnel_amount`). audio2face's rounded
#: vowels ("oo", "w", "oh") funnel 0.25-0.44 over a jaw of 0.12-0.35, its open and spread ones 0.1-0.2 (espeak-ng
#: voices en-us+f2 / m2): on the editor's scale (:data:`FUNNEL_FULL`, faded by :data:`JAW_FADE`) a speech "oo" was
#: 0.05 of a full funnel, a box showing both rows of teeth.
SPEECH_FUNNEL = (0.12, 0.32)
#: Rig ``jawOpen`` over which a speech funnel fades out: a rounded "oh" (jaw 0.3-0.35) keeps most of it, an open
#: vowel's dropped jaw takes it away.
SPEECH_JAW_FADE = (0.3, 0.55)
#: The most a speech funnel gets of the editor's full one (amount 1): its curves' ``mouthPucker`` (0.45-0.6 on an
#: "oo") already brings the corners in.
SPEECH_FUNNEL_MOST = 0.5


def speech_funnel_amount(rig_change: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`funnel_amount` on speech's scale (:data:`SPEECH_FUNNEL`, :data:`SPEECH_JAW_FADE`): the part of a
    talking portrait's rig change that :func:`funnel_motion` replaces (the rig's funnel, in the amount's share: a
    growing funnel turns from the rig's shape into the "O" without a jump) and how far it funnels the lips."""
    change = np.asarray(rig_change, np.float64)
    rise = max(float(change[_FUNNEL]), 0.0)
    lo, hi = SPEECH_FUNNEL
    jaw_lo, jaw_hi = SPEECH_JAW_FADE
    fade = 1.0 - float(_smoothstep(np.asarray((max(float(change[_JAW]), 0.0) - jaw_lo) / (jaw_hi - jaw_lo))))
    share = float(_smoothstep(np.asarray((rise - lo) / (hi - lo)))) * fade
    part = np.zeros(len(change))
    part[_FUNNEL] = rise * share
    return part, SPEECH_FUNNEL_MOST * share


def funnel_motion(points: np.ndarray, amount: float, *, face_width: float) -> np.ndarray:
    """Image motion ``(468, 2)`` in pixels that funnels the lips of a face (module docstring).

    Parameters
    ----------
    points : np.ndarray
        ``(468, 2)`` pixel positions of the mesh points (the photo's landmarks).
    amount : float
        0 (none) .. 1 (a full funnel, :data:`FUNNEL_FULL` rig units); larger values go further, the inner ring
        no narrower than at 1.
    face_width : float
        Pixels (:func:`facecraft.synth.warp.face_width`): the reach of the skin's motion.
    """
    pts = np.asarray(points, np.float64)
    if amount <= 0:
        return np.zeros_like(pts)
    lips, upper, depth = lip_layers()
    frame = CornerFrame.between(pts[_CORNERS[0]], pts[_CORNERS[1]], v_down=True)
    width = frame.width
    u, v = frame.local(pts)
    up_in, lo_in, up_out, lo_out = (_contour(frame, pts, ids, u) for ids in _ROWS)
    middle = 0.5 * (up_in + lo_in)
    along = u - 0.5 * width
    s = np.clip(along / (0.5 * width), -1.0, 1.0)
    ring = 1.0 - (1.0 - FUNNEL_ROUND) * min(amount, 1.0)  # the inner ring's share of the width
    gather = ring + (1.0 - ring) * depth  # per vertex: 1 on the outer contour
    du = (1.0 - FUNNEL_NARROW * amount) * gather * along - along
    arc = np.sqrt(np.clip(1.0 - s * s, 0.0, None))
    gap = 0.5 * np.maximum(lo_in - up_in, 0.0)  # the photo's own half opening
    mid = np.array([0.5 * width])
    mid_gap = 0.5 * float(_contour(frame, pts, _ROWS[1], mid)[0] - _contour(frame, pts, _ROWS[0], mid)[0])
    t = min(amount, 1.0)  # an open photo's opening becomes the funnel's rounded one, as tall as either
    half = (1.0 - t) * gap + t * max(mid_gap, 0.5 * FUNNEL_OPENING * max(amount, 1.0) * width) * arc
    own = np.maximum(np.where(upper, up_in - up_out, lo_out - lo_in), 0.0)  # each lip's own thickness
    dv = np.where(upper, -1.0, 1.0) * (half - gap + depth * own * FUNNEL_FLARE * amount * arc)
    # The inner ring gathers along the mouth's middle line: a smile's curve left its ends high (a V-shaped hole).
    gathered = 0.5 * (_contour(frame, pts, _ROWS[0], u + du) + _contour(frame, pts, _ROWS[1], u + du))
    dv += (1.0 - depth) * (gathered - middle)
    local = np.zeros_like(pts)
    local[lips, 0], local[lips, 1] = du[lips], dv[lips]
    # The skin around: the lips' motion, blended from the nearest lip vertices, fading out with the distance.
    skin = np.setdiff1d(np.arange(len(pts)), lips)
    dist = np.linalg.norm(pts[skin][:, None, :] - pts[lips][None, :, :], axis=2)
    blend = np.exp(-0.5 * (dist / (FUNNEL_SKIN[1] * face_width)) ** 2)
    reach = _smoothstep(1.0 - dist.min(1) / (FUNNEL_SKIN[0] * face_width))
    local[skin] = reach[:, None] * (blend @ local[lips]) / np.maximum(blend.sum(1), 1e-12)[:, None]
    return local[:, :1] * frame.u_axis[None, :] + local[:, 1:] * frame.v_axis[None, :]
