"""Perceptual calibration of the editor: from the change a user asks for to the rig change that reads as it.

Edit controls speak MediaPipe's blendshape-score space (the space of a face's "current weights",
:attr:`facecraft.synth.editor.AnalyzedFace.weights`); the warp moves the default rig, whose shapes were
authored from anatomy and are shared with speech animation. The two disagree: one unit of the rig's
``jawOpen`` reads mostly as ``mouthLowerDown``, its ``eyeWide`` and ``cheekSquint`` barely read at all. The
calibration measures that disagreement once and corrects it at edit time, without touching the rig.

Model
-----
``R`` ``(52, 52)``: column ``k`` is the rise of MediaPipe's 52 scores per unit of rig weight ``k``, measured by
editing calibration photos (:func:`measure_response`: every solvable rig channel alone at a few positive
weights, re-analysed) and fitted through the origin up to the level where the shape reads best
(:func:`fit_calibration`). For a requested change ``delta = after - before`` (MediaPipe space) the rig
change ``d`` solves the small box-bounded least squares

    min_d  1/2 |W (R d - delta)|^2 + lambda/2 |d - G delta|^2,      lo <= d <= hi,

where ``W`` weighs the rows the request raises 1 and the others ``other_weight`` (what the user asks to rise
comes first; channels it lowers and cross-talk into channels it does not name second), gaze rows less
again (MediaPipe reads a closing lid partly as looking down); the ridge pulls toward the per-channel
calibrated change ``G delta`` (``G = 1 / R_kk`` clipped to [1, ``max_gain``]), so a channel the data says
little about moves by its own gain and nothing else; the box allows a channel to rise at most
``max_gain`` times its request plus a small ``cross`` correction of either sign (how one shape's cross-talk
is cancelled by another), never past the level where it reads best (``limit``); a channel the request
raises rises at least ``raise_floor`` of its calibrated change (the emotion's own shapes come before the
removal of the old expression), and a channel falls at most by what its own response says undoes the
requested fall (between ``removal_limit`` and ``removal_max`` units; mouth channels only). Gaze
(``eyeLook*``) and ``tongueOut`` are not solved: they move by exactly the request, and a blink the request raises
moves by the lid closure it asks for (:data:`CLOSING_UNITS`; MediaPipe's blink score is far from linear in the lid's
closure, :data:`facecraft.synth.controls.BLINK_SCORES`). No request, no change:
``delta = 0`` gives ``d = 0``. One edit costs one 43-variable box QP (about a millisecond).

What it cannot fix (measured, see the report of ``facecraft calibrate-editor``): MediaPipe never scores
``cheekSquint*``, ``noseSneer*`` or ``cheekPuff`` above ~0 on any face (google-ai-edge/mediapipe#4450, #4436; on
all 711 unedited faces of the shared data, FRLL neutral, smiling and Canada, the portraits and 495 of 500 UTKFace
crops, smiles up to mouthSmile 0.97 among them, the largest ``noseSneer*`` score is 5e-5, ``cheekSquint*`` 1.2e-5,
``cheekPuff`` 2.6e-3), and no combination of the rig's shapes reads as ``mouthFrown*``; those channels keep the
anatomical edit at the per-channel gain. ``mouthFunnel`` reads as ``jawOpen`` (the rig's funnel parts the lips) or,
with the lips held together (rolls out, ``mouthClose``), as ``mouthPucker``: on every third calibration photo the
best funnel rise was 0.22 and funnel the largest rise on 1 of 24.

Data
----
Calibration photos are never evaluation photos: the shipped file was measured on the Face Research Lab
London Set (``faces-frll``, CC BY 4.0; DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5), the 36
people at even positions of the sorted identity list, neutral and smiling photo each
(:func:`calibration_photos`; the file lists them). The other 36 FRLL people, ``faces-frll/canada``,
``portraits`` and the astronaut are left for evaluation. Reproduce it with ``facecraft calibrate-editor``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facecraft.rigs import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT
from facecraft.rigs.emotion_space import region_mask
from facecraft.rigs.errors import FileFormatError, MissingFileError, ParameterError
from facecraft.rigs.retarget import COPY_BY_NAME

from .controls import MOUTH_OPENING, blink_closure, own_scores

logger = logging.getLogger(__name__)

#: The calibration shipped with the package (see the module docstring for its data and recipe).
CALIBRATION_FILE = Path(__file__).with_name("editor_calibration.json")
#: Channels the calibration does not solve for: they move by exactly the request (the eyes are turned by
#: :mod:`~facecraft.synth.gaze`, whose rotation per unit weight is the project's one definition, and the rig's gaze
#: shapes only move the lids with the eyeball; MediaPipe has no tongue score).
UNSOLVED = np.array([n in COPY_BY_NAME for n in ARKIT_NAMES])
#: MediaPipe gives no ``tongueOut`` score: its row of the response is not measured.
UNMEASURED = np.array([n == "tongueOut" for n in ARKIT_NAMES])
#: Rig weights each solvable channel is measured at by :func:`measure_response`.
LEVELS: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0)
_GAZE = region_mask("gaze")
_BLINKS = np.array([ARKIT_INDEX["eyeBlinkLeft"], ARKIT_INDEX["eyeBlinkRight"]])
_SQUINTS = np.array([ARKIT_INDEX["eyeSquintLeft"], ARKIT_INDEX["eyeSquintRight"]])
#: Rig units of ``eyeBlink`` that bring the upper lid down onto the lower one: a lid's closure (the share of the
#: photo's eye opening it closes) is linear in the rig's blink up to shut, while MediaPipe's blink score is not (low
#: until nearly shut; :data:`facecraft.synth.controls.BLINK_SCORES`), so a blink request is not solved through the
#: fitted response (0.17-0.21 score per unit, a chord through that curve: an asked 0.48, "tired", solved to 1.3 units,
#: the lid more than three quarters down, and 0.75 to 2-2.9 units, shut) but set from the closure it asks for
#: (:func:`blink_closure` of the scores before and after) times these units. Measured on the tuning photos (36 FRLL
#: calibration neutrals, 40 UTKFace tuning crops; both eyes): the median rig units at which the edit's target lid (the
#: lid painter draws it) has closed 0.25 / 0.5 / 0.75 / 1 of the eye's opening are 0.37 / 0.74 / 1.13 / 1.42 (per
#: photo, shut at 1.02-1.62 for the middle 80%).
CLOSING_UNITS = 1.45
#: Rig units a shut lid goes on past :data:`CLOSING_UNITS` (smoothly from three quarters closed): per photo a lid
#: shuts at 1.02-1.62 units, and one set to just the median left a slit of iris on some (eyeBlink 0.8 read as the
#: largest rise on 73% of the tuning photos' eyes, 84% before; the lid painter draws a lid pressed past shut as shut).
SHUT_PAST = 1.0


def _closing_units(closure: np.ndarray, units: float) -> np.ndarray:
    """Rig ``eyeBlink`` units that close a lid by ``closure`` (share of its opening), ``units`` of them shutting it
    on a median face, :data:`SHUT_PAST` more to shut it on every face."""
    c = np.asarray(closure, np.float64)
    past = np.clip((c - 0.75) / 0.25, 0.0, 1.0)
    return units * c + SHUT_PAST * past * past * (3.0 - 2.0 * past)


_JAW = ARKIT_INDEX["jawOpen"]
#: Least rise limit of a channel whatever level its mean score peaked at: the rig's smile scores best at 0.5
#: on the calibration photos but only at 1.0-1.2 looks like a smile (corners up, lips parted over the teeth;
#: FRLL 001, 012, 014 at 0.5-2: past 1.5 the corners fold into dark crescents).
#: The frown reads only with its companions (:data:`COMPANIONS`), best at 3 units (alone it never peaks).
SHOWN_LIMIT: dict[str, float] = {
    "mouthSmileLeft": 1.2,
    "mouthSmileRight": 1.2,
    "mouthFrownLeft": 3.0,
    "mouthFrownRight": 3.0,
}
#: Channels that open the mouth: a request that does not raise them never raises them as a cross-talk
#: correction (the open mouth's interior reads as a smile to MediaPipe, so the solve would open the mouth of
#: a happy face: a dark hole to people and to FER judges).
OPENING = MOUTH_OPENING
#: ... and a request that neither opens the jaw nor lowers them (nor raises ``mouthClose``) never pushes the
#: lips into each other as a correction either: on a closed mouth that crosses the inner lips into a jagged
#: line (FRLL 001, 006, 010, 034: happiness).
_PRESSING = np.array([n == "mouthClose" for n in ARKIT_NAMES])
#: Channels that place the jaw and mouth (forward, sideways) are never a cross-talk correction, either way: they move
#: the mouth as a whole and read as no expression. The solve for anger's brows and lids filled them (FRLL 006:
#: jawForward 0.145, jawRight 0.044, mouthRight 0.096) and the mouth of a still edit and of a talking portrait sat
#: forward and off-centre where the emotion asks nothing of them.
PLACEMENT = np.array([n in ("jawForward", "jawLeft", "jawRight", "mouthLeft", "mouthRight") for n in ARKIT_NAMES])
#: Channels whose reading an edit may undo by more than ``removal_limit``: the mouth's (a smile is an
#: expression); brows, lids, cheeks and nose read partly the face's build (low brows as browDown), so
#: removing their reading in full would move features past where that face ever has them.
_UNDOABLE = ~region_mask("upper")
#: The solve options of :class:`EditorCalibration` (saved with the response; :meth:`~EditorCalibration.with_options`).
#: How far the solve may move a channel as a cross-talk correction (either sign, rig units; the ``cross`` option).
CROSS_TALK = 0.15
_OPTIONS = ("ridge", "max_gain", "cross", "gaze_weight", "other_weight", "removal_limit", "removal_max", "raise_floor")
#: How far below its neutral (weight 0) a removal may push a rig shape, given the fitted weights (``rig_now``):
#: the fit saturates at 1 on broad expressions, so some room is left past it (0.6: surprise on the smiling
#: calibration photos reads as surprise 0.80 vs 0.75 by mini-Xception's mean probability at 0.2; at 1.0 the
#: photo's side teeth stand in the corners of the opened mouth as fangs).
PAST_NEUTRAL = 0.6
#: ... and how far an edit that only takes expression away (no channel raised: ``neutral``, or any emotion at a lower
#: intensity than the face shows) goes past it: the person's own rest face is its target, not a face that must read
#: as something else. The 36 smiling FRLL calibration people taken to ``neutral:1`` against their own neutral photos
#: (``bench_edit_tuning``'s smile removal; 0.6 / 0.3 / 0.15 / 0): mouth landmark error .0221 / .0152 / .0133 / .0122
#: face widths (unedited .0281), mouth narrowed by .094 / .077 / .068 / .059 (their real neutral: .052), dlib distance
#: to the real neutral .342 / .318 / .305 / .291. The judges read less of it as neutral the less is removed (mini-
#: Xception / NetworkV2 / facecraft, 28 broad UTKFace tuning smilers: .51 / .40 / .57 at 0.6, .43 / .36 / .38 at 0.3,
#: .25 / .19 / .13 at 0; the calibration smilers .97 / .81 / .86, .97 / .86 / .75, .92 / .81 / .47): 0.3 cuts
#: the mouth error by a third and keeps most of the reading.
PAST_REMOVAL = 0.3


def removal_past(raises: bool) -> float:
    """How far (rig units) a removal may push a shape past the rig's neutral: :data:`PAST_NEUTRAL` when the edit
    also raises some channel (a new expression replaces the old), :data:`PAST_REMOVAL` when it only takes away."""
    return PAST_NEUTRAL if raises else PAST_REMOVAL


#: Shapes that bring the lips together (press, roll, shrug, close): unless the request opens the mouth, a removal
#: stops at their neutral. Past it the rig swells the lips apart (a pressed closed-lip smile taken to neutral lost
#: 0.94 units of press against a fit of 0.33: lips parted over drawn teeth, or, held shut, swollen).
_LIP_CLOSING = np.array([n.startswith(("mouthPress", "mouthRoll", "mouthShrug", "mouthClose")) for n in ARKIT_NAMES])
#: A requested change smaller than this counts as no change (the row weighs ``other_weight``).
_ACTIVE = 0.01
#: A photo showing a channel at this score or more does not count toward that channel's peak level.
SATURATED = 0.5
#: A channel whose own mean rise never exceeds this does not read as itself at any level (limit 1).
MIN_OWN_RISE = 0.03
#: Largest rig weight change that still looked like a face on contact sheets of calibration photos (FRLL
#: 001, 002, 006, 012, 014, neutral and smiling, levels 0.5-3, and emotions at intensity 1, where these
#: shapes add up): past 1.2 the rig's jaw opens into a box-shaped cavity; past 1.0 eyeWide bares the iris
#: all round (with raised brows, a cartoon stare; 1.25 kept: at 1.0 MediaPipe's detected upper lid stayed pinned at
#: the iris top, so eyeWide at 0.8 read largest on 72 FRLL calibration photos L / R 0.24 / 0.25 -> 0.31 / 0.33, fear
#: 0.68 / 0.53 -> 0.78 / 0.57 and surprise 1.0 / 1.0 -> 0.97 / 1.0 by mini-Xception / NetworkV2, 80 UTKFace tuning
#: crops 0.05 / 0.15 -> 0.06 / 0.20; at 2.0 the lid read as looking down); past 2.0 the inner brow and the outer
#: brow climb into the forehead (surprise looked drawn, not photographed; raised together the brows keep to
#: :data:`JOINT_LIMITS`). One outer brow raised alone at 1.5 barely showed; at 2.0 it arches like a raised brow
#: (outer brow at 0.8 read largest left / right on 72 FRLL calibration photos 0.903 / 0.736 -> 0.972 / 0.861, 80
#: UTKFace tuning crops 0.875 / 0.800 -> 0.887 / 0.825; at 2.5 right 0.958, a high skeptical arch), while fear's
#: raised brows (with lowering, exempt from the joint limit) keep to 1.5 (:data:`LOWERED_BROW_RAISE_LIMIT`); past 1.5
#: mouthStretch pulls both
#: corners into a flat grimace slot, but at 1.5 one corner's stretch barely shows: at 2.0 the corner is drawn out and a
#: little down, the lips thinned (72 calibration photos, mouthStretch at 0.8 read largest left / right 0.74 / 0.93
#: -> 0.90 / 0.94; 32 UTKFace crops 0.72 / 0.78 -> 0.84 / 0.88; fear's mouth, both corners, is wider and flatter
#: but reads as fear more, 0.58 / 0.49 -> 0.67 / 0.53 by mini-Xception / NetworkV2; past 2.0 not tried); the
#: corner shapes fold the lip past 2.5, and past 1.8 the smile is broader than
#: the real ones (FRLL calibration people, happiness edit vs their own smiling photo: correlation of the score
#: rises 0.89 at 1.8, 0.86 at 2.0, 0.81 at 2.5; mouth landmark error 0.031, 0.034, 0.041 face widths). The jaw
#: shifted sideways (jawLeft / jawRight) past 1.5 shears the lower lip off the upper one and doubles the jaw's edge
#: over the neck (FRLL calibration 001, 006, 010 at 1, 1.5, 2, 3); its own rise peaked at 3.0, the top level measured,
#: where the photo tore along the lip and the jaw (the studio's slider at 1.0). No emotion moves it: the cap changes
#: only the sliders (the shipped table's two values lowered to it, as a refit of the same measurements gives). The mouth
#: shifted sideways (mouthLeft / mouthRight) past 1.0 stretches the crease beside the nose into a diagonal streak to
#: the lip (FRLL calibration 001, 006, 010, 012 at 0.75, 1, 1.25, 1.5, 2, 3, the nose held: the editor's
#: ``_SIDEWAYS``); the slider at 1.0 had reached 3.0. No emotion moves it either.
PLAUSIBLE_LIMIT: dict[str, float] = {
    "jawLeft": 1.5,
    "jawRight": 1.5,
    "mouthLeft": 1.0,
    "mouthRight": 1.0,
    "jawOpen": 1.2,
    "eyeWideLeft": 1.25,
    "eyeWideRight": 1.25,
    "browInnerUp": 2.0,
    "browOuterUpLeft": 2.0,
    "browOuterUpRight": 2.0,
    "mouthStretchLeft": 2.0,
    "mouthStretchRight": 2.0,
    "mouthSmileLeft": 1.8,
    "mouthSmileRight": 1.8,
}
#: Shapes whose limits hold alone but not together: the rig's inner and outer brow raisers overlap over the
#: middle of the brow, so at their single limits (2.0 and 1.5) together they lift it twice as far as either
#: and the brow climbs into the forehead as a smeared band (AU1+2, surprise: portraits 01_2, 10_2, 16_2,
#: 17_1). When a request raises two or more of a group, each stays within the group's limit (FRLL calibration
#: people, surprise at 1.0 vs the single limits: mean judge probability 0.85 / 0.95 vs 0.84 / 0.91 by
#: mini-Xception / NetworkV2; a single brow control keeps its own limit). A request that also lowers the
#: brows (AU4, fear's corrugator) is exempt: it holds the brow down and together, and fear's inner brow must
#: still rise against it (portraits: fear read as fear 0.47 vs 0.69 by NetworkV2 with the joint limit).
JOINT_LIMITS: dict[tuple[str, ...], float] = {("browInnerUp", "browOuterUpLeft", "browOuterUpRight"): 1.0}
_JOINT = [(np.array([ARKIT_INDEX[n] for n in names]), value) for names, value in JOINT_LIMITS.items()]
_BROW_LOWERERS = np.array([n.startswith("browDown") for n in ARKIT_NAMES])
#: The outer brow raisers' limit in a request that also lowers the brows (fear's AU1+2+4), which the joint limit
#: leaves alone: at the single limit's 2.0 fear read as fear less (72 FRLL calibration photos .778 / .569 -> .750 /
#: .556 by mini-Xception / NetworkV2, 80 UTKFace tuning crops .385 -> .372 by mini-Xception).
LOWERED_BROW_RAISE_LIMIT = 1.5
_OUTER_BROW_RAISERS = np.array([ARKIT_INDEX["browOuterUpLeft"], ARKIT_INDEX["browOuterUpRight"]])
#: Rig shapes that read only together (measured on the calibration photos, FRLL even positions, 12 photos,
#: ``mouthFrown*`` alone at 1-3 units): the rig's corner-down shape alone reads as ``mouthPress`` and
#: ``mouthDimple`` on the other side and almost never as a frown (mean rise 0.01-0.08); with a third of it on the
#: other corner and a third of ``mouthStretch`` on both, the asked side's frown reads largest (0.37 vs 0.32 on
#: the other side at 3 units). Half of it as ``mouthStretch`` on the asked side draws that corner out as well as
#: down, the geometry MediaPipe's blendshape model reads as a frown (its landmarks of the frown edits moved 3-6% of
#: the mouth's width further down and 4% out: read largest 0.67 -> 0.92 on 24 calibration photos): frown at 0.8 read
#: largest left / right 0.694 / 0.875 -> 0.806 / 0.889 on the 72 calibration photos, 0.613 / 0.713 -> 0.650 / 0.725
#: on 80 UTKFace tuning crops (two thirds on the asked side: 0.819 / 0.861); emotions are unchanged (these keys
#: fire for a frown asked alone). The jaw drops into an oval, not a box, with some ``mouthFunnel`` (the lips
#: round as the jaw falls in surprise, with the inner brows up: a jaw alone keeps its reading, MediaPipe
#: reads the funnel shape as a dropped lower lip; calibration people, surprise 0.92 / 0.89 vs 0.88 / 0.86 by
#: mini-Xception / NetworkV2 without it; at 0.8 of the jaw's rise, 0.96 / 0.97 vs 0.93 / 0.94 at 0.4: the lips
#: round and the broad mouth of a smiling photo narrows; at the jaw's full rise, 1.0, a round "O" with relaxed lips:
#: 316 UTKFace crops of adults 0.905 / 0.924 -> 0.915 / 0.921, mean probability 0.821 / 0.912 -> 0.833 / 0.914, the
#: calibration photos 0.972 / 0.986 either way), but 0.4 when the request stretches the lips (fear's
#: AU20: rounder, fear read as surprise, 0.38 vs 0.47 by NetworkV2). A smile on both sides parts the lips
#: over the teeth (``mouthClose`` -0.15 at the smile's 1.2; happiness 0.93 / 0.90 vs 0.58 / 0.58 without:
#: the judges read a closed-lip smile as neutral; a one-sided smile stays closed, or it reads as ``mouthUpperUp``).
#: The rig's pucker reads partly as ``mouthDimple`` (the corners pulled back) and its stretch as ``mouthPress`` on
#: the other side: a pucker lowers both dimples by 0.6 of its rise, a stretch the other side's press by 0.6 (calibration
#: people, every third photo, 24 photos, control at 0.8 read largest: pucker 0.50 -> 0.67, stretch left / right
#: 0.50 / 0.88 -> 0.71 / 0.92; at -0.3 0.62 and 0.67 / 0.92; at -1.0 0.71 and 0.54 / 0.96), except when the jaw
#: opens too (fear's AU20 + AU26: fear read as fear 0.47 -> 0.42 by NetworkV2 on the 72 calibration photos with it).
#: A pucker also takes 0.3 of its rise off both smiles: the lips' corners come in and the mouth rounds into a pucker
#: instead of parting over the teeth (same 24 photos: pucker read largest 0.67 -> 0.96, its mean rise 0.58 -> 0.88;
#: at -0.15 with the dimples at -1.0, 0.92).
#: A widened eye alone (AU5, no brow raise and no squint asked) lowers its lower lid a little, half a unit of the rig's
#: ``eyeSquint`` below the face's own per unit of ``eyeWide``, and holds the brows: the solve raised them as cross-talk
#: (0.08 outer, 0.07-0.15 inner rig units at eyeWide 0.8), and the brows read before the lid (the most common wrong
#: largest rise: 15 of 72 photos left, 21 right). MediaPipe's landmarks follow only a third to a half of an upper
#: lid's rise (its eyeWide is read from the lid's outer half over the iris) and the lowered lower lid adds to it (on
#: the target landmarks: eyeWide at one unit 0.16, with -1 squint 0.40). 72 FRLL calibration photos, eyeWide at 0.8
#: read largest: left / right .125 / .222 -> .194 / .292, mean rise .026 / .034 -> .031 / .039; with -1 squint the
#: lower lid drops past the iris (a stare).
#: A funnel alone (AU22, no jaw asked) turns the lips out: the rig's lips roll out (``mouthRoll`` -0.4 of the funnel's
#: rise; the solve had rolled them in by 0.1 units), the chin's push comes off the lips (``mouthShrug`` -0.4), and a
#: little ``mouthClose`` (0.1) and smile (0.25) keep the opening small and the corners from drawing into a kiss.
#: MediaPipe read the editor's "O" (:func:`facecraft.synth.mouth_shapes.funnel_motion`) as ``mouthPucker``: 72 FRLL
#: calibration photos, funnel at 0.8 read largest 0.17 -> 0.49 (every other photo: 0.11 -> 0.33 and 0.22 -> 0.64),
#: mean rise 0.29 -> 0.50, pucker's rise on it 0.57 -> 0.49, with :data:`~facecraft.synth.mouth_shapes.FUNNEL_NARROW`
#: 0.15. Rolled out alone (corners at 0.0): 0.36 (pucker still largest on 28); ``mouthClose`` 0.05 / 0.15:
#: 0.39 / 0.32 (the opening reads as jaw / closes into a pucker); a larger opening (0.4 of the width, corners at
#: 0.1): 0.44; a negative pucker share lowered the funnel's rise as much as the pucker's. 24 UTKFace crops: read
#: largest on none either way (mean rise 0.06 -> 0.11). Pucker, jawOpen and surprise (no funnel in their request)
#: are unchanged. The smile's share 0.1 -> 0.25 holds the corners out a little more, a flared "O" rather than a
#: rounded one: funnel at 0.8 read largest on the 72 calibration photos and 40 UTKFace tuning crops (positions
#: 500..540) 0.30 -> 0.36 (neutral .25 -> .47, smiling .58 -> .53, UTKFace .10 -> .10; shares 0.175 / 0.3 / 0.4:
#: 0.35 / 0.35 / 0.34).
#: A raised cheek alone (AU6 without the smile's AU12, whose forms already squint the eye) pushes its lower lid up:
#: half a unit of the rig's ``eyeSquint`` per unit of ``cheekSquint``. The rig's cheek raise moves the cheek at most
#: 0.024 face widths per unit; at 0.8 it barely showed on any photo (the edit bench's control sheet; MediaPipe never
#: scores ``cheekSquint``, so only the eye shows it), and with the lower lid raised the eye narrows from below as a
#: raised cheek makes it (astronaut, FRLL calibration 001 and 006, a UTKFace tuning crop, shares 0.5 and 1.0 looked
#: at: 1.0 reads as a squint). Emotions keep their rig changes except where the request raises the cheek but not the
#: smile: happiness:0.5 or "a shy smile" on an already smiling face (FRLL calibration smiles: ``eyeSquint`` +0.08 to
#: +0.19 rig units, against 1.74 for ``eyeSquint`` at 0.8); happiness:1.0 raises the smile and is unchanged.
#: ``{raised channel(s) joined by "+", then "!channel" for each one the request must not raise:
#: {companion: share of their smallest rig change}}``; a companion takes
#: the largest share any key gives it (the most negative for negative shares), never beyond its limit, and
#: only when the request does not name it.
COMPANIONS: dict[str, dict[str, float]] = {
    "mouthFrownLeft": {"mouthFrownRight": 1 / 3, "mouthStretchLeft": 0.5, "mouthStretchRight": 1 / 3},
    "mouthFrownRight": {"mouthFrownLeft": 1 / 3, "mouthStretchLeft": 1 / 3, "mouthStretchRight": 0.5},
    "jawOpen+browInnerUp": {"mouthFunnel": 0.4},
    "jawOpen+browInnerUp!mouthStretchLeft!mouthStretchRight": {"mouthFunnel": 1.0},
    "mouthSmileLeft+mouthSmileRight": {"mouthClose": -0.125},
    "mouthPucker": {"mouthDimpleLeft": -0.6, "mouthDimpleRight": -0.6, "mouthSmileLeft": -0.3, "mouthSmileRight": -0.3},
    "mouthFunnel!jawOpen": {
        "mouthRollLower": -0.4,
        "mouthRollUpper": -0.4,
        "mouthShrugLower": -0.4,
        "mouthShrugUpper": -0.4,
        "mouthClose": 0.1,
        "mouthSmileLeft": 0.25,
        "mouthSmileRight": 0.25,
    },
    "mouthStretchLeft!jawOpen": {"mouthPressRight": -0.6},
    "mouthStretchRight!jawOpen": {"mouthPressLeft": -0.6},
    "eyeWideLeft!eyeSquintLeft!browInnerUp!browOuterUpLeft!browOuterUpRight": {
        "eyeSquintLeft": -0.5,
        "browOuterUpLeft": -0.01,
        "browInnerUp": -0.01,
    },
    "eyeWideRight!eyeSquintRight!browInnerUp!browOuterUpLeft!browOuterUpRight": {
        "eyeSquintRight": -0.5,
        "browOuterUpRight": -0.01,
        "browInnerUp": -0.01,
    },
    "cheekSquintLeft!eyeSquintLeft!mouthSmileLeft": {"eyeSquintLeft": 0.5},
    "cheekSquintRight!eyeSquintRight!mouthSmileRight": {"eyeSquintRight": 0.5},
}

#: Shapes that give way where another moves (antagonist muscles): ``{shape, then "!shape" for each one whose rise
#: suspends the entry: {antagonist: share}}``. When the rig's change raises a key shape (by more than ``cross``, and
#: none of its exceptions) and the request does not raise the antagonist, the antagonist falls by ``share`` of that
#: rise, at most to its neutral (the face's own fitted weight; nothing without the fitted weights, nothing past
#: neutral). The depressor anguli oris pulls the corner down against the smile's zygomaticus: the rig's frown added to a
#: smiling photo's corners left them up and wide, and MediaPipe read the wide corners as ``mouthStretch`` (every third
#: calibration photo, 24, mouthFrown at 0.8 read largest: 3 of 12 smiling photos, 8 of 12 neutral ones; with the smile
#: giving way 0.46 / 0.50 -> 0.75 / 0.79 left / right, the neutral photos as before; allowing 0.3 past neutral: 0.54 /
#: 0.75, read as ``mouthPucker``). Paths tried for the corner instead, and dropped: straight down (frown read largest
#: 0.17 / 0.13) or down and inward (0.2 of the drop: 0 / 0.08, read as ``mouthPucker``): MediaPipe reads the frown from
#: corners that go down and out. The lips close as the corners come down (the upper lip's raiser, the lower lip's
#: depressor and the jaw give way the same way): on a toothy smile the frown had drawn the corners down around the bared
#: teeth, a grimace MediaPipe read as ``mouthStretch`` (72 calibration photos, mouthFrown at 0.8 read largest left /
#: right 0.67 / 0.76 -> 0.69 / 0.88, 32 UTKFace crops 0.44 / 0.53 -> 0.59 / 0.69; the smiling photos' lips now meet over
#: the teeth with the corners down, the neutral photos as before). The jaw does not close where the chin pushes the
#: lower lip up (``"!mouthShrugLower"``: sadness's form): closed on it, the smiling photos' lips were painted as a
#: ragged red blob (FRLL 010, 103, 130 smiling). A stretch lowers both smiles by a tenth of its rise: a smiling photo's
#: stretched corner read as the other side's ``mouthSmile`` (72 calibration photos, mouthStretch at 0.8 read largest
#: left / right 0.83 / 0.97 without, 0.90 / 0.94 with; 32 UTKFace crops 0.84 / 0.88 and 0.84 / 0.84; before, the solve's
#: cross-talk frown of 0.15 units lowered the smile to the same effect). Only a shape the change raises by more than
#: ``cross`` has antagonists: a cross-talk correction is no muscle's pull (the frown's closing lips and jaw on a
#: stretch's 0.15 units of frown: stretch read largest 0.90 / 0.94 -> 0.86 / 0.92).
#: A pucker (AU18) brings the lips together and forward: a toothy smile asked for one kept its smile and its parted
#: lips, narrowed into a gaping "O" over the teeth that MediaPipe read as ``jawOpen`` or ``mouthDimple`` (UTKFace crops
#: of broad smiles: pucker's rise 0.00-0.07). The smile, the lips' raiser and depressor and the jaw give way to it:
#: pucker at 0.8 read largest on the 72 calibration photos and 40 UTKFace tuning crops (positions 500..540) 0.83 ->
#: 0.88 (neutral .94 -> .94, smiling .86 -> .92, UTKFace .70 -> .80), the lips now meet, rounded, over the teeth;
#: nothing else changes (the rig changes of the 8 emotions and the other 21 response controls on 32 of those photos
#: are identical; "a kiss" and "whistling" change).
ANTAGONISTS: dict[str, dict[str, float]] = {
    "mouthFrownLeft": {"mouthSmileLeft": 1.0, "mouthUpperUpLeft": 1.0, "mouthLowerDownLeft": 1.0},
    "mouthFrownRight": {"mouthSmileRight": 1.0, "mouthUpperUpRight": 1.0, "mouthLowerDownRight": 1.0},
    "mouthFrownLeft!mouthShrugLower": {"jawOpen": 1.0},
    "mouthFrownRight!mouthShrugLower": {"jawOpen": 1.0},
    "mouthStretchLeft": {"mouthSmileLeft": 0.1, "mouthSmileRight": 0.1},
    "mouthStretchRight": {"mouthSmileLeft": 0.1, "mouthSmileRight": 0.1},
    "mouthPucker": {
        "mouthSmileLeft": 1.0,
        "mouthSmileRight": 1.0,
        "mouthUpperUpLeft": 1.0,
        "mouthUpperUpRight": 1.0,
        "mouthLowerDownLeft": 1.0,
        "mouthLowerDownRight": 1.0,
        "jawOpen": 1.0,
    },
}

#: How the editor shows an emotion's signature (editor-side: the prototypes in :mod:`facecraft.rigs.emotions` are
#: shared with speech animation and stay as they are). A request that raises every channel of a key (joined by
#: "+") is rendered with rig ``floor`` values (least rig changes, reached at the key's ``at`` scores, scaled down
#: with the smallest ``after / at``; over a channel the request fades too: the face's old squint gives way to the
#: new one), ``level`` values (the same, but where the rig should end: what the face's fitted rig already shows
#: counts, so a smiling photo asked for a smile is not given the form again; a face within :data:`LEVEL_MIN_STEP`
#: of it keeps its own) and ``cap`` values (largest rig change, whatever the solve says). Chosen on the 72 FRLL
#: calibration photos (emotion:1.0 read as the emotion by mini-Xception / NetworkV2 / facecraft's classifier; dlib
#: identity distance below 0.6), with the creases of :func:`facecraft.synth.creases.paint_creases`:
#:
#: * anger (AU4+23): corners drawn down (``mouthFrown`` 1.5) and a slight nose wrinkle (0.6, AU9's creases): closed-lip
#:   anger read as neutral (0.19 / 0.11 / 0.00, identity 0.90; with the creases and these 0.36 / 0.21 / 0.11, 0.82;
#:   corners at 1.0: 0.35 / 0.17 / 0.11, 0.83); the lips roll in at most 0.25 (``mouthRoll*``): the solve rolled them
#:   in ~0.7 units for AU23, which thinned a pressed mouth into a zigzag band with the lip line drawn twice, above and
#:   below it (UTKFace crops, lips thin or blurry); capped, the lips stay full and meet at a seam. Anger at 1.0, dlib
#:   distance < 0.6 / mini-Xception / NetworkV2 / facecraft: 199 UTKFace tuning crops (positions 500..700 of the
#:   bench's seed-0 permutation) .899 / .709 / .276 / .407 -> .894 / .729 / .261 / .437 (median distance .499 ->
#:   .483), 72 calibration photos .792 / .486 / .111 / .069 -> .833 / .500 / .139 / .069 (median .500 -> .479);
#: * disgust (AU9): the brows come down (1.5) and the lids narrow (``eyeSquint`` 1.0) as a nose wrinkle pulls them,
#:   the lower lip parts only a little (``mouthLowerDown`` at most 0.5) and the frown's stretch stays small (0.2):
#:   the solve had opened a dark grimace and faded the face's squint and brows into a stare, read as surprise and
#:   fear (0.01 / 0.00 / 0.00, identity 0.97; 0.42 / 0.00 / 0.07, 0.89 with these and the creases; brows at 2.0:
#:   0.47 / 0.00 / 0.07, 0.81; NetworkV2 reads disgust on none of 40 real fer-dev disgust faces either);
#: * sadness (AU1+4+15): no lip stretch and no lid raise (they read as fear), the upper lids droop (``eyeBlink``
#:   0.3) and the chin pushes the lower lip up (``mouthShrugLower`` 1.0): 0.58 / 0.06 / 0.04 -> 0.79 / 0.08 / 0.04.
#:   (Fear keeps its stretched, open mouth: with the stretch capped at 1.0 fear read as surprise, 0.51 / 0.44 ->
#:   0.46 / 0.36.)
#: * happiness (AU6+12, both corners): the upper lip rises off the upper teeth (``mouthUpperUp`` to 0.6 at a full
#:   smile, less with a smaller one; a level: the astronaut, fitted at 0.45, keeps her own teeth), as in a broad
#:   smile; the lips only parted over the teeth (``mouthClose`` companion) and the judges read many such smiles
#:   as neutral.
#:   happiness:1.0 read as happiness by mini-Xception / NetworkV2: 72 calibration photos .889 / .847 -> .944 / .903,
#:   80 UTKFace tuning crops .938 / .925 -> .938 / .963 (0.3: .917 / .861 and .938 / .938; 0.9: .958 / .903 and
#:   .938 / .963); dlib distance median .292 -> .315 (cal), .281 -> .305 (UTKFace), all below 0.6 (as a floor of
#:   the change rather than a level: .320 / .317). The cost: the 36 calibration people's happiness edits sit further
#:   from their own posed smiles (mouth landmark error at happiness:1.0 .0314 -> .0354, at 0.5 .0211 -> .0226;
#:   unedited .0274). As levels, the other forms' floors lost anger, disgust and sadness 1-2 of 72 / 80 photos (the
#:   fitted weights hold a face's build too: low brows fit as browDown): they stay changes.
#: * fear (AU20+26, with AU1): the jaw drops at least 0.45 rig units (a floor, not a level). The solve holds the jaw at
#:   its raise floor (the rig's jaw also reads as ``mouthLowerDown`` and as a smile, which fear does not raise), 0.8 of
#:   the calibrated change of the jaw the request adds to the photo's reading: 0.56 on a neutral face, but a broad
#:   smile's lips parted over a closed bite already read as ``jawOpen`` 0.1-0.2, so the jaw opened only 0.29-0.35 and
#:   the stretch (2.0) and the smile's removal (-1.6) drew the lips flat over the clenched teeth, a grimace with a dark
#:   line between the rows (UTKFace tuning crop 67_0_0...651, FRLL calibration smiling 096, 103, 139). At 0.45 the
#:   mouth opens past the lower teeth's edge. Fear:1.0 read as fear by mini-Xception / NetworkV2 / facecraft, same run:
#:   28 UTKFace tuning smilers .143 / .571 / .357 -> .179 / .571 / .357, 36 smiling calibration photos .722 / .611 /
#:   .750 -> .750 / .611 / .778 (dlib distance medians unchanged); the 36 neutral calibration photos already open
#:   0.58 or more (unchanged); a floor of 0.56 (the neutral faces' own) opened more but lost NetworkV2 3 of the 36
#:   smiling photos (.528), 0.65 lost mini-Xception and NetworkV2 on the neutral UTKFace crops. Surprise asks no
#:   stretch and is unchanged.
FORMS: dict[str, dict[str, dict[str, float]]] = {
    "browDownLeft+browDownRight+mouthPressLeft+mouthPressRight": {
        "at": {"browDownLeft": 1.0, "browDownRight": 1.0, "mouthPressLeft": 0.32, "mouthPressRight": 0.32},
        "floor": {"mouthFrownLeft": 1.5, "mouthFrownRight": 1.5, "noseSneerLeft": 0.6, "noseSneerRight": 0.6},
        "cap": {"mouthRollLower": 0.25, "mouthRollUpper": 0.25},
    },
    "noseSneerLeft+noseSneerRight": {
        "at": {"noseSneerLeft": 1.0, "noseSneerRight": 1.0},
        "floor": {"browDownLeft": 1.5, "browDownRight": 1.5, "eyeSquintLeft": 1.0, "eyeSquintRight": 1.0},
        "cap": {
            "mouthLowerDownLeft": 0.5,
            "mouthLowerDownRight": 0.5,
            "mouthStretchLeft": 0.2,
            "mouthStretchRight": 0.2,
        },
    },
    "mouthSmileLeft+mouthSmileRight": {
        "at": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0},
        "level": {"mouthUpperUpLeft": 0.6, "mouthUpperUpRight": 0.6},
    },
    "mouthFrownLeft+mouthFrownRight+browInnerUp": {
        "at": {"mouthFrownLeft": 0.8, "mouthFrownRight": 0.8, "browInnerUp": 0.9},
        "floor": {"mouthShrugLower": 1.0, "eyeBlinkLeft": 0.3, "eyeBlinkRight": 0.3},
        "cap": {"mouthStretchLeft": 0.0, "mouthStretchRight": 0.0, "eyeWideLeft": 0.0, "eyeWideRight": 0.0},
    },
    "jawOpen+mouthStretchLeft+mouthStretchRight+browInnerUp": {
        "at": {"jawOpen": 0.36, "mouthStretchLeft": 0.8, "mouthStretchRight": 0.8, "browInnerUp": 0.8},
        "floor": {"jawOpen": 0.45},
    },
}
_FORM_PARTS = ("at", "floor", "level", "cap")
#: One-sided expressions (contempt's AU12+AU14 on one side, "a smirk"): ``{raised channel, then "!channel" for each one
#: the request must not raise: {channel: most rig units it moves beyond its mirror image}}``. A smiling photo asked for
#: contempt kept the contempt side's whole smile (its target is the larger of the photo's and contempt's) while the
#: other side lost its own (-1.2 to -1.6 rig units): that corner fell down and in, 0.06-0.10 face widths, and the mouth
#: twisted across the face; on a neutral photo the solve raised the contempt side's smile to its plausible limit (1.8)
#: under 2.5 units of dimple, the corner 0.18 face widths up. The listed channels on the raised side now move at most
#: this much beyond the other side's change: a smile removed on one side is removed on both, and the contempt side
#: keeps what one side adds. Contempt:1.0 on 70 tuning photos (UTKFace positions 500..540, 30 FRLL calibration photos),
#: smile 0.3 / 0.6 / 1.0 / none: mouth midline (lips' middles) shift .0028 / .0045 / .0067 / .0110 face widths (worst
#: .0053 / .0072 / .0096 / .0158), the contempt corner's rise .025 / .045 / .071 / .121; facecraft's classifier reads
#: contempt on none either way (mean probability .038-.039): 0.6 still shows a raised corner.
UNILATERAL: dict[str, dict[str, float]] = {
    "mouthDimpleRight!mouthDimpleLeft": {
        "mouthSmileRight": 0.6,
        "mouthUpperUpRight": 0.0,
        "mouthStretchRight": 0.0,
        "mouthLowerDownRight": 0.0,
    },
    "mouthDimpleLeft!mouthDimpleRight": {
        "mouthSmileLeft": 0.6,
        "mouthUpperUpLeft": 0.0,
        "mouthStretchLeft": 0.0,
        "mouthLowerDownLeft": 0.0,
    },
}
#: Least rig change a form's ``level`` makes: the astronaut's broad smile (upper lip fitted at 0.45) asked for
#: happiness:1.0 rose 0.15 more and the mouth painter redrew her own teeth with a dark seam between them.
LEVEL_MIN_STEP = 0.2


def _parse_forms(forms: dict | None) -> list[tuple[np.ndarray, ...]]:
    """``[(key channels, at (52,), floor (52,), level (52,), cap (52,))]`` of a :data:`FORMS` table (NaN = none)."""
    parsed = []
    for key, form in (forms or {}).items():
        names = str(key).split("+")
        bad = [n for n in names if n not in ARKIT_INDEX]
        if bad or not isinstance(form, dict) or set(form) - set(_FORM_PARTS):
            raise ParameterError(
                f"forms: expected ARKit names joined by '+' -> {{at, floor, level, cap}}, got {key!r}: {form!r}"
            )
        rows = {}
        for part in _FORM_PARTS:
            row = np.full(NUM_ARKIT, np.nan)
            for name, value in dict(form.get(part, {})).items():
                if name not in ARKIT_INDEX or not (np.isfinite(float(value)) and float(value) >= 0):
                    raise ParameterError(
                        f"forms: {key!r} {part}: expected ARKit names with values >= 0, got {name!r}: {value}"
                    )
                row[ARKIT_INDEX[name]] = float(value)
            rows[part] = row
        at = np.array([rows["at"][ARKIT_INDEX[n]] for n in names])
        if np.any(~np.isfinite(at) | (at <= 0)):
            raise ParameterError(f"forms: {key!r}: 'at' must give every key channel a score > 0")
        parsed.append((np.array([ARKIT_INDEX[n] for n in names]), at, rows["floor"], rows["level"], rows["cap"]))
    return parsed


def _parse_antagonists(antagonists: dict | None) -> list[tuple[int, int, float, list[int]]]:
    """``[(shape, antagonist, share, unless)]`` of an :data:`ANTAGONISTS` table (solvable channels, shares in [0, 1]; a
    key's ``"!channel"`` parts name the shapes whose rise by more than ``cross`` suspends the entry)."""
    parsed = []
    for key, partners in (antagonists or {}).items():
        name, *unless = str(key).split("!")
        known = name in ARKIT_INDEX and not UNSOLVED[ARKIT_INDEX[name]] and set(unless) <= set(ARKIT_INDEX)
        if not known or not isinstance(partners, dict):
            raise ParameterError(
                f"antagonists: expected a solvable ARKit name (then '!name' for each exception) -> {{name: share}}, "
                f"got {key!r}: {partners!r}"
            )
        for partner, value in partners.items():
            if partner not in ARKIT_INDEX or UNSOLVED[ARKIT_INDEX[partner]] or not (0 <= float(value) <= 1):
                raise ParameterError(
                    f"antagonists: expected solvable ARKit names with shares in [0, 1], "
                    f"got {key!r} -> {partner!r}: {value}"
                )
            parsed.append((ARKIT_INDEX[name], ARKIT_INDEX[partner], float(value), [ARKIT_INDEX[n] for n in unless]))
    return parsed


def _parse_unilateral(unilateral: dict | None) -> list[tuple[int, list[int], np.ndarray]]:
    """``[(raised, unless, most (52,))]`` of a :data:`UNILATERAL` table (NaN = no bound)."""
    parsed = []
    for key, bounds in (unilateral or {}).items():
        name, *unless = str(key).split("!")
        if name not in ARKIT_INDEX or not set(unless) <= set(ARKIT_INDEX) or not isinstance(bounds, dict):
            raise ParameterError(
                f"unilateral: expected an ARKit name (then '!name' for each exception) -> {{name: rig units}}, "
                f"got {key!r}: {bounds!r}"
            )
        most = np.full(NUM_ARKIT, np.nan)
        for channel, value in bounds.items():
            if channel not in ARKIT_INDEX or UNSOLVED[ARKIT_INDEX[channel]] or not np.isfinite(float(value)):
                raise ParameterError(
                    f"unilateral: expected solvable ARKit names with finite rig units, got {key!r} -> {channel!r}: "
                    f"{value}"
                )
            most[ARKIT_INDEX[channel]] = float(value)
        parsed.append((ARKIT_INDEX[name], [ARKIT_INDEX[n] for n in unless], most))
    return parsed


#: Each ARKit channel's channel in the face's mirror image (``browDownLeft`` <-> ``browDownRight``, ``mouthLeft`` <->
#: ``mouthRight``), itself where it has no side.
MIRROR = np.array(
    [
        ARKIT_INDEX[n[:-4] + "Right" if n.endswith("Left") else n[:-5] + "Left"] if n.endswith(("Left", "Right")) else i
        for i, n in enumerate(ARKIT_NAMES)
    ]
)


def mirrored_response(response: np.ndarray) -> np.ndarray:
    """``(R + M R M) / 2``: a ``(52, 52)`` response averaged with its mirror image (:data:`MIRROR`): a shape's
    readings taken together with its partner's on the other side."""
    r = np.asarray(response, np.float64)
    return 0.5 * (r + r[np.ix_(MIRROR, MIRROR)])


@dataclass(frozen=True)
class EditorCalibration:
    """Requested MediaPipe-score change -> rig weight change (see the module docstring).

    Attributes
    ----------
    response : np.ndarray
        ``(52, 52)`` float64 ``R``: score rise (row) per unit rig weight (column); the identity means "the rig
        reads exactly as asked" (no calibration).
    ridge : float
        ``lambda``, pull toward the uncalibrated change.
    max_gain : float
        A channel moves at most this many times its requested change ...
    cross : float
        ... plus this much of either sign (cross-talk corrections; also a channel not asked for at all).
    gaze_weight : float
        Weight of the ``eyeLook*`` rows in the fit.
    other_weight : float
        Weight of the rows the request does not raise (channels it lowers, and cross-talk into channels it
        does not name): what the user asks to rise comes first.
    removal_limit : float
        Rig weight a channel may always move down (one unit is the shape's full anatomical range): a face's
        reading includes its build (brows that sit low read as browDown), so removing it by the gain of a
        weak shape would shove features far past where they were ...
    removal_max : float
        ... but a strong reading takes more than one unit of a weak shape to undo (a broad smile scores 0.9
        and one unit of the rig's smile reads as 0.2): a mouth channel may move down by its requested fall
        over its own response (``-delta_k / R_kk``), between ``removal_limit`` and ``removal_max``.
    raise_floor : float
        A channel the request raises moves up by at least this share of its calibrated change
        ``min(G_kk delta_k, limit_k)``: what an emotion shows comes first, so removal and cross-talk terms
        cannot hold it back (the rig's jaw also reads as a smile; without a floor, surprise on a smiling face
        keeps its mouth shut to remove the smile).
    limit : np.ndarray, optional
        ``(52,)`` largest rig weight a channel may move up: beyond it the shape stops reading as itself or
        stops looking plausible (:func:`fit_calibration`); default no limit beyond the box.
    companions : dict, optional
        Shapes that read or look right only together (:data:`COMPANIONS`, which :func:`fit_calibration`
        uses): when the solve raises a channel the request raises, each companion the request does not name
        moves by at least its share of that rise (a negative share: falls by at least). Default none.
    forms : dict, optional
        How an emotion's signature is shown (:data:`FORMS`, which :func:`fit_calibration` uses): rig floors and
        caps applied after the solve and the companions. Default none.
    antagonists : dict, optional
        Shapes that give way where another rises (:data:`ANTAGONISTS`, which :func:`fit_calibration` uses) by
        more than ``cross``, applied only with the face's fitted weights (``rig_now``). Default none.
    unilateral : dict, optional
        How far a one-sided request's side moves beyond the other (:data:`UNILATERAL`, which :func:`fit_calibration`
        uses), applied last. Default none.
    mirror : bool
        Solve with the response averaged with its left-right mirror image (:func:`mirrored_response`): MediaPipe
        reads a face's two sides a little differently, and the solve used that difference, so a request the same on
        both sides drew them unlike (anger smiled 0.14 more on one side, surprise frowned 0.18 more on one side). The
        measured ``response`` is kept as it is. False for a calibration built by hand.
    meta : dict
        Where the numbers come from (photos, levels, command, date); saved with them.
    closing : float or None
        Rig units of ``eyeBlink`` that shut an eye (:data:`CLOSING_UNITS`, not saved): a blink the request raises moves
        by the closure it asks for (:func:`facecraft.synth.controls.blink_closure`) times these units, not through the
        response. None: solved as every other channel (the identity calibration).
    """

    response: np.ndarray
    ridge: float = 0.05
    max_gain: float = 3.0
    cross: float = CROSS_TALK
    gaze_weight: float = 0.3
    other_weight: float = 0.5
    removal_limit: float = 1.0
    removal_max: float = 2.0
    raise_floor: float = 0.8
    limit: np.ndarray | None = None
    companions: dict | None = None
    forms: dict | None = None
    antagonists: dict | None = None
    unilateral: dict | None = None
    mirror: bool = False
    meta: dict = field(default_factory=dict, compare=False)
    closing: float | None = CLOSING_UNITS
    _solved_response: np.ndarray = field(init=False, repr=False, compare=False)
    _base_weights: np.ndarray = field(init=False, repr=False, compare=False)
    _gain: np.ndarray = field(init=False, repr=False, compare=False)
    _share: tuple = field(init=False, repr=False, compare=False)
    _forms: list = field(init=False, repr=False, compare=False)
    _undo: list = field(init=False, repr=False, compare=False)
    _one_sided: list = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        r = np.asarray(self.response, np.float64)
        if r.shape != (NUM_ARKIT, NUM_ARKIT) or not np.all(np.isfinite(r)):
            raise ParameterError(f"response: expected a finite ({NUM_ARKIT}, {NUM_ARKIT}) matrix, got shape {r.shape}")
        for label, value in (
            ("ridge", self.ridge),
            ("max_gain", self.max_gain),
            ("cross", self.cross),
            ("gaze_weight", self.gaze_weight),
            ("other_weight", self.other_weight),
            ("removal_limit", self.removal_limit),
            ("removal_max", self.removal_max),
            ("raise_floor", self.raise_floor),
        ):
            if not (np.isfinite(value) and value >= 0):
                raise ParameterError(f"{label}: expected a finite value >= 0, got {value}")
        if self.closing is not None and not (np.isfinite(self.closing) and self.closing > 0):
            raise ParameterError(f"closing: expected rig units > 0 (or None), got {self.closing}")
        if self.raise_floor > 1.0:
            raise ParameterError(f"raise_floor: expected a share in [0, 1], got {self.raise_floor}")
        if self.max_gain < 1.0:
            raise ParameterError(f"max_gain: expected at least 1 (the request itself), got {self.max_gain}")
        object.__setattr__(self, "response", r)
        r = mirrored_response(r) if self.mirror else r
        object.__setattr__(self, "_solved_response", r)
        lim = np.full(NUM_ARKIT, np.inf) if self.limit is None else np.asarray(self.limit, np.float64).reshape(-1)
        if lim.shape != (NUM_ARKIT,) or np.any(np.isnan(lim)) or np.any(lim < 0):
            raise ParameterError(f"limit: expected ({NUM_ARKIT},) values >= 0, got shape {lim.shape}")
        object.__setattr__(self, "limit", lim)
        object.__setattr__(self, "_base_weights", np.where(_GAZE, self.gaze_weight, 1.0) * ~UNMEASURED)
        own = np.diag(r)
        gain = np.where(own > 0, 1.0 / np.maximum(own, 1e-9), 1.0)
        object.__setattr__(self, "_gain", np.clip(gain, 1.0, self.max_gain))
        groups, share = [], []  # per key: the channels that must all rise, (52,) shares of their smallest rise
        for key, partners in (self.companions or {}).items():
            wanted, *unless = str(key).split("!")
            names = wanted.split("+")
            row = np.zeros(NUM_ARKIT)
            for partner, value in partners.items():
                known = set(names) | set(unless) <= set(ARKIT_INDEX)
                if not known or partner not in ARKIT_INDEX or not (-1 <= float(value) <= 1):
                    raise ParameterError(
                        f"companions: expected ARKit names with shares in [-1, 1], got {key!r} -> {partner!r}: {value}"
                    )
                row[ARKIT_INDEX[partner]] = float(value)
            groups.append(([ARKIT_INDEX[n] for n in names], [ARKIT_INDEX[n] for n in unless]))
            share.append(row)
        object.__setattr__(self, "_share", (groups, np.array(share).reshape(-1, NUM_ARKIT)))
        object.__setattr__(self, "_forms", _parse_forms(self.forms))
        object.__setattr__(self, "_undo", _parse_antagonists(self.antagonists))
        object.__setattr__(self, "_one_sided", _parse_unilateral(self.unilateral))

    # ------------------------------------------------------------------ construction
    @classmethod
    def identity(cls) -> EditorCalibration:
        """No calibration: the rig moves by exactly the requested change."""
        return cls(
            np.eye(NUM_ARKIT),
            ridge=0.0,
            max_gain=1.0,
            cross=0.0,
            raise_floor=0.0,
            meta={"source": "identity"},
            closing=None,
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> EditorCalibration:
        """Read a calibration JSON (default :data:`CALIBRATION_FILE`, the shipped one)."""
        p = CALIBRATION_FILE if path is None else Path(path)
        if not p.is_file():
            raise MissingFileError(f"editor calibration not found: {p} (make one with `facecraft calibrate-editor`)")
        try:
            data = json.loads(p.read_text())
            names = data["channels"]
            if names != list(ARKIT_NAMES):
                raise FileFormatError(f"{p}: channels are not the 52 ARKit names in Apple's order")
            return cls(
                np.asarray(data["response"], np.float64),
                ridge=float(data["ridge"]),
                max_gain=float(data["max_gain"]),
                cross=float(data["cross"]),
                gaze_weight=float(data["gaze_weight"]),
                other_weight=float(data["other_weight"]),
                removal_limit=float(data["removal_limit"]),
                removal_max=float(data.get("removal_max", data["removal_limit"])),
                raise_floor=float(data.get("raise_floor", 0.0)),
                limit=np.array([np.inf if v is None else float(v) for v in data["limit"]]),
                companions=data.get("companions"),
                forms=data.get("forms"),
                antagonists=data.get("antagonists"),
                unilateral=data.get("unilateral"),
                mirror=bool(data.get("mirror", False)),
                meta=dict(data.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            if isinstance(e, FileFormatError):
                raise
            raise FileFormatError(f"{p}: not an editor calibration ({type(e).__name__}: {e})") from e

    def save(self, path: str | Path) -> Path:
        """Write the calibration as JSON (the response rounded to 4 decimals) and return the path."""
        p = Path(path)
        data = {
            "channels": list(ARKIT_NAMES),
            "ridge": self.ridge,
            "max_gain": self.max_gain,
            "cross": self.cross,
            "gaze_weight": self.gaze_weight,
            "other_weight": self.other_weight,
            "removal_limit": self.removal_limit,
            "removal_max": self.removal_max,
            "raise_floor": self.raise_floor,
            "limit": [None if not np.isfinite(v) else round(float(v), 4) for v in self.limit],
            "companions": self.companions or {},
            "forms": self.forms or {},
            "mirror": self.mirror,
            "antagonists": self.antagonists or {},
            "unilateral": self.unilateral or {},
            "meta": self.meta,
            "response": np.round(self.response, 4).tolist(),
        }
        p.write_text(json.dumps(data, indent=1) + "\n")
        return p

    def with_options(self, **options) -> EditorCalibration:
        """The same response and limits with other solve options (``ridge``, ``max_gain``, ...)."""
        keys = _OPTIONS
        unknown = set(options) - set(keys)
        if unknown:
            raise ParameterError(f"unknown calibration option(s) {sorted(unknown)}; expected some of {keys}")
        return dataclasses.replace(self, **options)

    # ------------------------------------------------------------------ solve
    def rig_change(self, before, after, *, rig_now=None) -> np.ndarray:
        """Rig weight change ``(52,)`` float64 that should read as the score change ``after - before`` (``before``'s
        eye channels as :func:`facecraft.synth.controls.own_scores` reads them: an eye asked alike moves alike).

        Parameters
        ----------
        before, after : array_like
            ``(52,)`` MediaPipe-space weights in [0, 1]: what the face shows, what it should show.
        rig_now : array_like, optional
            ``(52,)`` the fitted rig's weights on this face (:attr:`facecraft.synth.fit.RigFit.weights`): a
            removal then stops :func:`removal_past` beyond the rig's neutral (weight 0). Removing a broad
            smile that reads weakly would otherwise take two units of the rig's smile off a face fitted at
            one: the corners are pulled far inside the neutral mouth, the lip triangles fold and the warp
            has to damp them back (the painted mouth then no longer matches the warped lips).
        """
        b = np.asarray(before, np.float64).reshape(-1)
        a = np.asarray(after, np.float64).reshape(-1)
        if b.shape != (NUM_ARKIT,) or a.shape != (NUM_ARKIT,):
            raise ParameterError(f"before/after: expected ({NUM_ARKIT},) weights, got {b.shape} and {a.shape}")
        now = None if rig_now is None else np.asarray(rig_now, np.float64).reshape(-1)
        if now is not None and now.shape != (NUM_ARKIT,):
            raise ParameterError(f"rig_now: expected ({NUM_ARKIT},) rig weights, got {now.shape}")
        own_before = own_scores(b, a)
        delta = a - own_before
        change = np.where(UNSOLVED, delta, 0.0)
        if not np.any(np.abs(delta[~UNSOLVED]) > 1e-6):
            return change
        solved = ~UNSOLVED
        # a blink the request raises (or lids it opens that the photo shows lowered) moves by the closure it asks for
        asked, shown = blink_closure(a[_BLINKS]), blink_closure(own_before[_BLINKS])  # (2,) closures
        shut = asked - shown  # the closure asked beyond the photo's
        lids = np.zeros(NUM_ARKIT, bool)
        if self.closing is not None:
            lids[_BLINKS[(delta[_BLINKS] > _ACTIVE) | (shut < -1e-6)]] = True
        w = self._base_weights * np.where(delta > _ACTIVE, 1.0, self.other_weight)  # (52,) row weights
        w[lids] = 0.0  # their reading is the closure's, not the fitted response's
        # ... and a lid set by closure reads partly as a squint: undoing that squint dropped the lower lid (FRLL 001
        # asked AU43 1.0 kept a white slit); a squint the request asks for is still solved
        w[_SQUINTS[lids[_BLINKS] & (delta[_SQUINTS] <= _ACTIVE)]] = 0.0
        rows = w[:, None] * self._solved_response  # W R
        target = w * delta - rows[:, UNSOLVED] @ delta[UNSOLVED]  # W delta - W R_u delta_u
        r_s = rows[:, solved]
        gram = r_s.T @ r_s + self.ridge * np.eye(r_s.shape[1])
        ds = delta[solved]
        limit = self.limit.copy()
        lowers_brows = bool(np.any(delta[_BROW_LOWERERS] > _ACTIVE))
        for group, value in _JOINT:
            if np.count_nonzero(delta[group] > _ACTIVE) >= 2 and not lowers_brows:
                limit[group] = np.minimum(limit[group], value)
        if lowers_brows:
            limit[_OUTER_BROW_RAISERS] = np.minimum(limit[_OUTER_BROW_RAISERS], LOWERED_BROW_RAISE_LIMIT)
        full_limit, limit = limit, limit[solved]
        own = np.diag(self._solved_response)[solved]
        fall = np.where(_UNDOABLE[solved] & (own > MIN_OWN_RISE), np.maximum(-ds, 0.0) / np.maximum(own, 1e-9), 0.0)
        removal = np.clip(fall, self.removal_limit, max(self.removal_max, self.removal_limit))
        lo = np.maximum(np.minimum(ds, 0.0) * self.max_gain - np.where(PLACEMENT[solved], 0.0, self.cross), -removal)
        if now is not None:
            opens = bool(np.any(delta[OPENING] > _ACTIVE))  # lips parted anyway: their shapes may go past neutral
            past = np.where(_LIP_CLOSING[solved] & ~opens, 0.0, removal_past(bool(np.any(delta > _ACTIVE))))
            lo = np.maximum(lo, np.minimum(-now[solved] - past, 0.0))
        cross = np.where(OPENING[solved] | _PRESSING[solved] | PLACEMENT[solved], 0.0, self.cross)
        hi = np.minimum(np.maximum(ds, 0.0) * self.max_gain + cross, limit)
        if delta[_JAW] <= _ACTIVE:  # a closed mouth stays closed, not pressed: its lips would cross
            lo = np.where(OPENING[solved] & (ds >= -_ACTIVE), np.maximum(lo, 0.0), lo)
        raised = ds > _ACTIVE
        floor = self.raise_floor * np.minimum(ds * self._gain[solved], limit)
        lo = np.where(raised, np.maximum(lo, floor), lo)
        lo = np.minimum(lo, hi)
        closed = np.zeros(NUM_ARKIT)
        if self.closing is not None:
            moved = _closing_units(asked, self.closing) - _closing_units(shown, self.closing)
            closed[_BLINKS] = np.clip(moved, -self.removal_limit, self.closing + SHUT_PAST)
        lo = np.where(lids[solved], closed[solved], lo)
        hi = np.where(lids[solved], closed[solved], hi)
        c = r_s.T @ target + self.ridge * ds * self._gain[solved]
        free = hi - lo > 1e-9
        d = lo.copy()  # fixed variables sit at their (single) bound
        if free.any():
            # box QP over [lo, hi] through the unit box: d = lo + s x
            s = (hi - lo)[free]
            g = gram[np.ix_(free, free)]
            lin = s * (c[free] - gram[free] @ lo)
            d[free] = lo[free] + s * _solve_box(g * s[:, None] * s[None, :], lin)
        change[solved] = d
        if self.companions:
            rise = np.where((delta > _ACTIVE) & solved, np.maximum(change, 0.0), 0.0)
            groups, shares = self._share
            given = np.array([0.0 if np.any(delta[no] > _ACTIVE) else rise[g].min() for g, no in groups])
            given = given[:, None] * shares  # (keys, companion)
            up, down = given.max(0, initial=0.0), given.min(0, initial=0.0)  # (52,) largest shares either way
            free = solved & (np.abs(delta) <= _ACTIVE)  # a companion the request names keeps the solve's value
            change = np.where(free, np.minimum(np.maximum(change, up), full_limit), change)
            change = np.where(free & (down < 0), np.minimum(change, down), change)
        shown = np.zeros(NUM_ARKIT) if now is None else np.maximum(now, 0.0)
        for key, at, floor, level, cap in self._forms:
            if not np.all(delta[key] > _ACTIVE):
                continue
            scale = float(np.clip(np.min(a[key] / at), 0.0, 1.0))
            lifted = np.minimum(scale * floor, full_limit)
            change = np.where(np.isfinite(floor) & ~UNSOLVED, np.maximum(change, lifted), change)
            # a level counts what the face already shows; a face nearly there keeps its own
            reach = np.minimum(scale * level - shown, full_limit)
            reach = np.where(reach >= LEVEL_MIN_STEP, reach, 0.0)
            change = np.where(np.isfinite(level) & ~UNSOLVED, np.maximum(change, reach), change)
            change = np.where(np.isfinite(cap) & ~UNSOLVED, np.minimum(change, cap), change)
        if now is not None:
            for k, j, share, unless in self._undo:
                if change[k] > self.cross + 1e-9 and delta[j] <= _ACTIVE and not np.any(change[unless] > self.cross):
                    change[j] = min(change[j], -min(share * change[k], max(float(now[j]), 0.0)))
        for key, unless, most in self._one_sided:
            if delta[key] > _ACTIVE and not np.any(delta[unless] > _ACTIVE):
                bound = change[MIRROR] + most
                change = np.where(np.isfinite(most), np.minimum(change, bound), change)
        return change


def _solve_box(gram: np.ndarray, lin: np.ndarray) -> np.ndarray:
    """``argmin 1/2 x'Mx - c'x`` over the unit box (``M`` positive definite: the ridge sees to it).

    The shared solver's active-set iteration cycles on some of these problems (bounds that nearly meet, as
    the raise floor makes them) and falls back to a slow ADMM; bounded-variable least squares on the
    Cholesky factor (``M = L L'``: ``|L'x - L^-1 c|^2``) is exact and stays around a millisecond."""
    from scipy.linalg import solve_triangular
    from scipy.optimize import lsq_linear

    lower = np.linalg.cholesky(gram)
    rhs = solve_triangular(lower, lin, lower=True)
    return np.clip(lsq_linear(lower.T, rhs, bounds=(0.0, 1.0), method="bvls").x, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------- data
def calibration_photos(root: str | Path | None = None) -> list[Path]:
    """The calibration photos: FRLL people at even positions of the sorted identity list, neutral + smiling.

    ``root`` is the ``faces-frll`` folder (default: the shared data folder's). Raises
    :class:`MissingFileError` when it is absent.
    """
    from facecraft.rigs.assets import shared_data_dir

    base = Path(root) if root is not None else shared_data_dir() / "data" / "faces-frll"
    neutral = sorted((base / "neutral").glob("*.jpg"))
    if not neutral:
        raise MissingFileError(f"calibration photos: no neutral/*.jpg under {base} (faces-frll)")
    people = [p.stem for p in neutral][::2]
    photos = []
    for person in people:
        for expression in ("neutral", "smiling"):
            path = base / expression / f"{person}.jpg"
            if path.is_file():
                photos.append(path)
    return photos


def _analyse(editor, image: np.ndarray, name: str):
    faces = editor.analyze(image, name=name)
    return faces[0]


def _scores(editor, image: np.ndarray, name: str) -> np.ndarray | None:
    found = editor.analyzer.analyze(image, name=name)
    return found[0].blendshapes.astype(np.float64) if found else None


def measure_response(
    editor,
    images: Sequence[tuple[str, np.ndarray]],
    *,
    levels: Sequence[float] = LEVELS,
    channels: Sequence[int] | None = None,
) -> dict[str, np.ndarray]:
    """Score rises of rig edits: every solvable rig channel, alone, at each level, on each photo.

    Parameters
    ----------
    editor : FaceEditor
        Its analyzer and rig fit are used; its calibration is not (the rig is moved directly).
    images : sequence of (name, image)
        Calibration photos (RGB uint8); photos without a face are skipped (logged).
    levels : sequence of float
        Rig weights each channel is set to above the fitted ones.
    channels : sequence of int, optional
        ARKit indices to measure (default: every channel not in :data:`UNSOLVED`).

    Returns
    -------
    dict
        ``rise`` ``(P, C, L, 52)`` float32 score rises (NaN where the edited face was lost), ``channels``
        ``(C,)``, ``levels`` ``(L,)``, ``before`` ``(P, 52)`` scores of the unedited photos, ``names`` ``(P,)``.
    """
    from .editor import render_rig_change

    chans = np.flatnonzero(~UNSOLVED) if channels is None else np.asarray(channels, np.int64)
    lv = np.asarray(levels, np.float64)
    rises, befores, names = [], [], []
    t0 = time.perf_counter()
    for p, (name, image) in enumerate(images):
        try:
            face = _analyse(editor, image, name)
        except Exception as e:  # noqa: BLE001 - a photo without a usable face is skipped, not fatal
            logger.warning("calibration: skipped %s (%s)", name, e)
            continue
        base = face.info.blendshapes.astype(np.float64)
        rise = np.full((len(chans), len(lv), NUM_ARKIT), np.nan, np.float32)
        for i, k in enumerate(chans):
            for j, level in enumerate(lv):
                change = np.zeros(NUM_ARKIT)
                change[k] = level
                edited, _ = render_rig_change(image, face, change)
                after = _scores(editor, edited, name)
                if after is not None:
                    rise[i, j] = after - base
        rises.append(rise)
        befores.append(base)
        names.append(name)
        logger.info("calibration: %s done (%d/%d, %.0f s)", name, p + 1, len(images), time.perf_counter() - t0)
    return {
        "rise": np.stack(rises) if rises else np.zeros((0, len(chans), len(lv), NUM_ARKIT), np.float32),
        "channels": chans,
        "levels": lv,
        "before": np.stack(befores) if befores else np.zeros((0, NUM_ARKIT)),
        "names": np.array(names),
    }


def fit_calibration(measured: dict[str, np.ndarray], **options) -> EditorCalibration:
    """The calibration from :func:`measure_response`'s output.

    Per measured channel ``k``: its own mean rise over the photos that do not already show it
    (score below :data:`SATURATED`) is taken at every level; the level where it peaks is the channel's
    ``limit`` (past it the shape reads less as itself: the rig's jaw at twice its range reads as a dropped
    lower lip), capped by :data:`PLAUSIBLE_LIMIT` (what still looked like a face). Column ``k`` of ``R`` is
    the least-squares slope through the origin of the rises at the levels up to the limit, over all
    photos (lost faces ignored). Unmeasured columns stay identity. ``options`` are
    :class:`EditorCalibration`'s ``ridge``, ``max_gain``, ``cross``, ``gaze_weight``.
    """
    rise = np.asarray(measured["rise"], np.float64)  # (P, C, L, 52)
    levels = np.asarray(measured["levels"], np.float64)
    before = np.asarray(measured["before"], np.float64)  # (P, 52)
    response = np.eye(NUM_ARKIT)
    limit = np.full(NUM_ARKIT, np.inf)
    for i, k in enumerate(np.asarray(measured["channels"])):
        r = rise[:, i]  # (P, L, 52)
        fresh = before[:, k] < SATURATED
        own = np.nanmean(r[fresh if fresh.sum() >= 5 else slice(None), :, k], axis=0)  # (L,)
        peak = int(np.nanargmax(own)) if np.any(np.isfinite(own)) else len(levels) - 1
        top = float(levels[peak]) if own[peak] > MIN_OWN_RISE else 1.0
        top = max(top, SHOWN_LIMIT.get(ARKIT_NAMES[k], 0.0))
        limit[k] = min(top, PLAUSIBLE_LIMIT.get(ARKIT_NAMES[k], max(levels)))
        use = levels <= top + 1e-9
        ok = np.all(np.isfinite(r), axis=-1) & use[None, :]  # (P, L)
        if not ok.any():
            continue
        lv = np.broadcast_to(levels, ok.shape)
        response[:, k] = (lv[ok][:, None] * r[ok]).sum(0) / (lv[ok] ** 2).sum()
    response[UNMEASURED] = np.eye(NUM_ARKIT)[UNMEASURED]
    options.setdefault("companions", COMPANIONS)
    options.setdefault("forms", FORMS)
    options.setdefault("antagonists", ANTAGONISTS)
    options.setdefault("unilateral", UNILATERAL)
    return EditorCalibration(response, limit=limit, mirror=True, **options)


# ---------------------------------------------------------------------------------------------- recipe
def calibrate(
    *,
    out: str | Path = CALIBRATION_FILE,
    frll: str | Path | None = None,
    measurements: str | Path | None = None,
    limit: int | None = None,
    **options,
) -> EditorCalibration:
    """Measure (or reuse) the rig's response on the calibration photos, fit the calibration, write it.

    Parameters
    ----------
    out : path
        Calibration JSON to write (default: the shipped file).
    frll : path, optional
        The ``faces-frll`` folder (default: the shared data folder's).
    measurements : path, optional
        ``.npz`` of :func:`measure_response`'s raw output: reused when it exists, written otherwise.
    limit : int, optional
        Use only the first ``limit`` calibration photos (quick runs).
    options
        :class:`EditorCalibration` options (``ridge``, ``max_gain``, ``cross``, ``gaze_weight``).
    """
    from facecraft.eval.images import load_image

    from .editor import FaceEditor

    raw = Path(measurements) if measurements is not None else None
    if limit is not None and not (isinstance(limit, (int, np.integer)) and limit >= 1):
        raise ParameterError(f"limit: expected at least 1 calibration photo, got {limit!r}")
    photos = calibration_photos(frll)[:limit]
    if raw is not None and raw.is_file():
        try:
            with np.load(raw, allow_pickle=False) as f:
                measured = {k: f[k] for k in f.files}
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise FileFormatError(f"{raw}: not a calibration measurements .npz ({type(e).__name__}: {e})") from e
        if "names" not in measured or "levels" not in measured:
            raise FileFormatError(f"{raw}: not a calibration measurements .npz (no 'names' and 'levels')")
        logger.info("calibration: reusing %s (%d photos)", raw, len(measured["names"]))
    else:
        images = [(f"{p.parent.name}/{p.name}", load_image(p)) for p in photos]
        with FaceEditor(calibration=EditorCalibration.identity()) as editor:
            measured = measure_response(editor, images)
        if raw is not None:
            raw.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(raw, **measured)
    if not len(measured["names"]):
        raise ParameterError("calibration: no photo was measured (no face found); nothing written")
    calibration = fit_calibration(measured, **options)
    meta = {
        "source": "facecraft calibrate-editor",
        "data": "Face Research Lab London Set (faces-frll), CC BY 4.0, DeBruine & Jones 2017, "
        "doi:10.6084/m9.figshare.5047666.v5: people at even positions of the sorted identity list",
        "photos": [str(n) for n in measured["names"]],
        "levels": [float(v) for v in measured["levels"]],
        "date": time.strftime("%Y-%m-%d"),
    }
    calibration = dataclasses.replace(calibration, meta=meta)
    calibration.save(out)
    logger.info("calibration written to %s", out)
    return calibration
