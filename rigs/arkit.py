"""Apple's 52 ARKit blendshape names, in Apple's canonical order, and name normalisation.

Inputs may use aliases (``eyeBlink_L``, ``EyeBlinkLeft``, ``eye_blink_left``, any case); outputs always
use Apple's names. Live Link Face CSV capitalises the first letter (see :func:`livelink_name`).
"""

from __future__ import annotations

import re

import numpy as np

from .errors import ParameterError

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip
NUM_ARKIT = len(ARKIT_NAMES)
ARKIT_INDEX: dict[str, int] = {n: i for i, n in enumerate(ARKIT_NAMES)}

# The channels articulation moves, in Apple's order: the jaw (open, forward, sideways), the lips (close, funnel,
# pucker, sideways shift, stretch, roll, shrug, press, lower-down, upper-up) and the tongue. Speech drives them;
# an emotion may add to them too. The one list of speech channels: the procedural teacher relaxes them in
# silences and its visemes drive a subset of them (facecraft.audio2face.visemes); the emotion space's
# "speech" region (facecraft.rigs.emotion_space.region_mask) is this list minus the channels its emotion region
# owns (mouthStretch, also fear's AU20), so that speech and emotion regions never overlap.
SPEECH_CHANNELS: tuple[str, ...] = (
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "tongueOut",
)  # fmt: skip

# Where the eyes look (FACS AU61-64): the one list of gaze channels. A photo edit keeps a face's gaze unless a control
# names it, fits take MediaPipe's reading of it as it is (facecraft.rigs.retarget.COPY_BY_NAME) and the editor turns
# the eyeballs for it (facecraft.synth.gaze).
GAZE_CHANNELS: tuple[str, ...] = tuple(n for n in ARKIT_NAMES if n.startswith("eyeLook"))

# Directions, not sides: mirroring the face swaps these two pairs as well.
_DIRECTION_SWAPS = {"jawLeft": "jawRight", "jawRight": "jawLeft", "mouthLeft": "mouthRight", "mouthRight": "mouthLeft"}


def _key(name: str) -> str:
    """Case- and separator-free key; ``_L``/``_R``/``.L`` suffixes become ``left``/``right``."""
    s = name.strip()
    s = re.sub(r"[_.\- ][Ll]$", "left", s)
    s = re.sub(r"[_.\- ][Rr]$", "right", s)
    return re.sub(r"[^a-z0-9]", "", s.lower())


_ALIASES: dict[str, str] = {_key(n): n for n in ARKIT_NAMES}


def canonical_arkit_name(name: str, *, strict: bool = True) -> str | None:
    """Apple's spelling of ``name`` (``'EyeBlink_L'`` -> ``'eyeBlinkLeft'``).

    Raises :class:`ParameterError` listing the valid names when ``strict`` and the name is unknown;
    returns ``None`` instead when not ``strict``.
    """
    found = _ALIASES.get(_key(name))
    if found is None and strict:
        raise ParameterError(f"unknown ARKit blendshape name {name!r}; expected one of {', '.join(ARKIT_NAMES)}")
    return found


def livelink_name(name: str) -> str:
    """Live Link Face CSV column name: Apple's name with a capital first letter."""
    n = canonical_arkit_name(name)
    return n[0].upper() + n[1:]


def mirror_name(name: str) -> str:
    """The ARKit shape that moves the other side (``eyeBlinkLeft`` <-> ``eyeBlinkRight``)."""
    n = canonical_arkit_name(name)
    if n in _DIRECTION_SWAPS:
        return _DIRECTION_SWAPS[n]
    if n.endswith("Left"):
        return n[:-4] + "Right"
    if n.endswith("Right"):
        return n[:-5] + "Left"
    return n


MIRROR_INDEX = np.array([ARKIT_INDEX[mirror_name(n)] for n in ARKIT_NAMES], dtype=np.int64)


def mirror_curves(curves: np.ndarray) -> np.ndarray:
    """Swap left/right channels of ARKit curves ``(..., 52)`` (what a horizontally mirrored face does)."""
    return np.asarray(curves)[..., MIRROR_INDEX]


def weights_from_dict(values: dict[str, float]) -> np.ndarray:
    """ARKit weight vector ``(52,)`` float32 from ``{name or alias: weight}``; unknown names raise."""
    w = np.zeros(NUM_ARKIT, dtype=np.float32)
    for k, v in values.items():
        w[ARKIT_INDEX[canonical_arkit_name(k)]] = float(v)
    return w


def valid_curves(curves, *, name: str = "curves", allow_unit_range_violation: bool = False) -> np.ndarray:
    """Check ARKit curves: float array ``(T, 52)`` (or ``(52,)``), finite, in [0, 1]; return float32."""
    try:
        arr = np.asarray(curves, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ParameterError(f"{name}: not a numeric array ({e})") from e
    if arr.ndim not in (1, 2) or arr.shape[-1] != NUM_ARKIT:
        raise ParameterError(f"{name}: expected shape (T, {NUM_ARKIT}) or ({NUM_ARKIT},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name}: contains NaN or infinite values")
    if not allow_unit_range_violation and (arr.min(initial=0) < -1e-4 or arr.max(initial=0) > 1 + 1e-4):
        raise ParameterError(f"{name}: weights must lie in [0, 1], got range [{arr.min():.3f}, {arr.max():.3f}]")
    return arr
