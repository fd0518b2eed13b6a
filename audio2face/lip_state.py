"""Lip state read from ARKit-52 curves: the lip gap, and when lips are sealed or open.

The one place that says what "lips are sealed" means in curve space. The teacher writes it, the learned
model's post-processing and mouth cues read it, and training weights it; all of them use this module.

**Curve-space lip gap.** ARKit's ``mouthClose`` is authored on top of an open jaw and closes the lips against
it, so the jaw parts the lips by ``jawOpen - mouthClose``: 0 means the lips touch whatever the jaw does, a
negative value means they press together. The lips also part without the jaw: ``mouthLowerDown`` and
``mouthUpperUp`` pull the lower lip down and the upper lip up, and real speakers (and the teacher) open much
of a vowel that way. :func:`lip_gap` adds them in jaw units, each side pair's mean weighted by
:data:`LIP_PART_GAIN` (how far one unit parts the lip centres against one unit of ``jawOpen`` on the rigs).
The *geometric* gap (metres, on a rig) is :func:`facecraft.audio2face.metrics.inner_lip_gap`; lip sync is
judged on that one, and this proxy is what code without a rig reads.

**Where the thresholds come from.** The procedural teacher seals the lips during /p b m/ by capping
``jawOpen`` at :data:`CLOSURE_JAW`, setting ``mouthClose = jawOpen + CLOSURE_SEAL`` and ``mouthPress`` to at
least :data:`CLOSURE_PRESS` (a light press, as real faces press; its pauses on real speech average 0.002). The
learned model is trained to reproduce that pattern, so the detectors read it back relative to those quantities
(a model distilled from a teacher that pressed harder has its press rescaled first:
:func:`facecraft.audio2face.postprocess.rescale_press`):

* *shut*: the gap is at most :data:`SEALED_GAP` (= ``CLOSURE_JAW``: lips meeting over a jaw no more open
  than a closure allows); lips count as parted from :data:`PARTED_GAP` (= ``2 * CLOSURE_JAW``);
* *pressed*: ``mouthPress`` at least :data:`PRESSED` (60 % of ``CLOSURE_PRESS``); not pressed at
  :data:`UNPRESSED` (25 % of it) and below;
* :func:`sealed_weight`: a soft weight in [0, 1] ramping linearly between those bounds (the learned model's
  closure post-processing uses it); :func:`is_sealed`: where that weight is full (shut and pressed);
* :func:`is_open`: the gap exceeds :data:`OPEN_GAP`, the widest gap of any consonant viseme's pose (so only
  vowels open the lips further); :func:`open_weight` ramps from shut (:data:`SEALED_GAP`) to that opening.

:func:`lip_gap`, :func:`is_sealed` and :func:`is_open` accept numpy arrays and torch tensors ``(..., 52)``.
"""

from __future__ import annotations

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX

from .visemes import VISEME_POSES, VOWEL_VISEMES

JAW = ARKIT_INDEX["jawOpen"]
CLOSE = ARKIT_INDEX["mouthClose"]
PRESS_LEFT, PRESS_RIGHT = ARKIT_INDEX["mouthPressLeft"], ARKIT_INDEX["mouthPressRight"]
# The channels that part the lips without the jaw (each L/R pair enters lip_gap as its mean).
LIP_PART_INDEX = np.array(
    [ARKIT_INDEX[n] for n in ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")]
)
# Inner-lip opening per unit of a lip-parting pair (both sides at once) over that of jawOpen, measured at the lip
# centres (metrics.inner_lip_gap): default rig 4.6 / 4.2 mm (lowerDown / upperUp) vs 35.2 mm, ICT FaceKit 6.8 /
# 7.1 mm vs 32.8 mm; ratios 0.13, 0.12, 0.21, 0.22, mean 0.17 (tests/audio2face/test_lip_state.py re-measures it).
# mouthFunnel also parts the centres (~13 mm per unit) but rounds rather than opens; it is left out, as a
# rounded consonant (/ch/, /r/) would otherwise read wider than the close vowels.
LIP_PART_GAIN = 0.17

# What the teacher writes while a bilabial closure holds (see the module docstring).
CLOSURE_JAW = 0.05  # jawOpen cap while lips are sealed
# mouthPress while lips are sealed: about the 99th percentile of mean mouthPress in the NeuroSync_Player Live Link
# takes that press at all (MySlate_164-166: p95 0.03-0.06, pooled p99 0.063); real faces press /p b m/ lightly.
CLOSURE_PRESS = 0.06
# mouthClose beyond jawOpen while sealed: the lips compress a little in /p b m/. Rigs' neutral lips touch
# (the default rig's rest gap is sealed to 0.5 mm), so a small value suffices; a large one makes lips interpenetrate.
CLOSURE_SEAL = 0.01

SEALED_GAP = CLOSURE_JAW
PARTED_GAP = 2.0 * CLOSURE_JAW
UNPRESSED = 0.25 * CLOSURE_PRESS
_PRESS_RAMP = 0.35 * CLOSURE_PRESS
PRESSED = UNPRESSED + _PRESS_RAMP  # 0.6 * CLOSURE_PRESS


def lip_gap(curves):
    """Curve-space lip gap ``(...,)`` of curves ``(..., 52)`` (numpy or torch), in jawOpen units:
    ``jawOpen - mouthClose + LIP_PART_GAIN * (mean mouthLowerDown + mean mouthUpperUp)``."""
    part = curves[..., LIP_PART_INDEX]
    return curves[..., JAW] - curves[..., CLOSE] + LIP_PART_GAIN * 0.5 * part.sum(-1)


OPEN_GAP = float(max(lip_gap(pose) for v, pose in VISEME_POSES.items() if v != "sil" and v not in VOWEL_VISEMES))


def mouth_press(curves):
    """Mean of ``mouthPressLeft`` and ``mouthPressRight`` ``(...,)`` of curves ``(..., 52)``."""
    return 0.5 * (curves[..., PRESS_LEFT] + curves[..., PRESS_RIGHT])


def shut_weight(curves: np.ndarray) -> np.ndarray:
    """How shut the lips are, ``(T,)`` in [0, 1], from curves ``(T, 52)``, pressed or not: 1 at a lip gap of at most
    :data:`SEALED_GAP`, 0 from :data:`PARTED_GAP`, linear between."""
    c = np.asarray(curves, np.float32)
    return np.clip((PARTED_GAP - lip_gap(c)) / (PARTED_GAP - SEALED_GAP), 0.0, 1.0)


def open_weight(curves: np.ndarray) -> np.ndarray:
    """How far the lips are parted toward a vowel's opening, ``(T,)`` in [0, 1], from curves ``(T, 52)``: 0 while they
    are shut (gap at most :data:`SEALED_GAP`), 1 from :data:`OPEN_GAP` (wider than any consonant), linear between."""
    c = np.asarray(curves, np.float32)
    return np.clip((lip_gap(c) - SEALED_GAP) / (OPEN_GAP - SEALED_GAP), 0.0, 1.0)


def sealed_weight(curves: np.ndarray) -> np.ndarray:
    """How sealed the lips are, ``(T,)`` in [0, 1], from curves ``(T, 52)`` (pressed x :func:`shut_weight`, each a
    linear ramp).

    1 where :func:`is_sealed`; 0 where the lips are parted (gap >= :data:`PARTED_GAP`) or not pressed
    (press <= :data:`UNPRESSED`), so lips merely resting together (no press) do not count.
    """
    c = np.asarray(curves, np.float32)
    pressed = np.clip((mouth_press(c) - UNPRESSED) / _PRESS_RAMP, 0.0, 1.0)
    return pressed * shut_weight(c)


def is_sealed(curves):
    """Boolean ``(...,)``: lips shut (gap <= :data:`SEALED_GAP`) and pressed (press >= :data:`PRESSED`).

    The frames where :func:`sealed_weight` is full; numpy or torch curves ``(..., 52)``.
    """
    return (lip_gap(curves) <= SEALED_GAP) & (mouth_press(curves) >= PRESSED)


def is_open(curves):
    """Boolean ``(...,)``: the lip gap exceeds :data:`OPEN_GAP` (vowel-like opening); numpy or torch ``(..., 52)``."""
    return lip_gap(curves) > OPEN_GAP
