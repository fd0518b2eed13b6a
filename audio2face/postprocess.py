"""Per-frame post-processing shared by every way of making speech curves (teacher, offline and streaming model).

Speech does not predict blinks, and a model knows no phones, so three rules are applied after the fact:

* **closure priority**: while the lips seal (:func:`facecraft.audio2face.lip_state.sealed_weight`), emotion
  channels that lift the upper lip (noseSneer) yield, so a disgusted face still closes on /p b m/, and in a
  model's curves the lip-parting channels (:data:`~facecraft.audio2face.visemes.LIP_OPENING_CHANNELS`) yield
  as the teacher clears them there (a model smooths them across the closure: mouthLowerDown/UpperUp leaking from
  the neighbouring vowels would part the lips);
* **blinks**: a seeded, natural-rate blink track on ``eyeBlink``; ``eyeWide`` yields while the lids close;
* **silence**: audio whose peak is below :data:`SILENCE_PEAK` gives a neutral face.

The procedural teacher (:mod:`.teacher`), offline inference (:mod:`.animate`) and streaming (:mod:`.stream`)
all import these from here, so the rules exist once.
"""

from __future__ import annotations

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX

from .lip_state import sealed_weight
from .visemes import LIP_OPENING_CHANNELS

# noseSneer lifts the upper lip (3-4 mm at full weight on the default rig and on ICT FaceKit): during a
# closure it yields by this share, so a disgusted face still closes its lips on /p b m/.
LIP_LIFT_YIELD = 0.85
_LIFT_INDEX = np.array([ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]])
_OPENING_INDEX = np.array([ARKIT_INDEX[n] for n in LIP_OPENING_CHANNELS])
BLINKS_PER_MINUTE = 17.0
BLINK_SECONDS = (0.12, 0.35)
SILENCE_PEAK = 1e-4  # audio whose absolute peak stays below this is silence (a neutral face)


def yield_lip_lift(curves: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """Let lip-lifting emotion channels (noseSneer) yield by :data:`LIP_LIFT_YIELD` where ``closure`` (T,) is high.

    Returns a float32 copy of ``curves`` (T, 52).
    """
    out = np.array(curves, np.float32, copy=True)
    out[:, _LIFT_INDEX] *= 1 - LIP_LIFT_YIELD * np.asarray(closure, np.float32)[:, None]
    return out


def closure_priority(curves: np.ndarray) -> np.ndarray:
    """A model's curves (T, 52) with lip-lifting emotion channels and the lip-parting channels yielding while the
    lips seal (read from the curves themselves, as a model knows no phones). Frame by frame, so streaming and
    offline inference agree."""
    sealed = sealed_weight(curves)
    out = yield_lip_lift(curves, sealed)
    out[:, _OPENING_INDEX] *= 1 - sealed[:, None]
    return out


def blink_curve(t: int, fps: float, *, seed: int = 0, rate_per_minute: float = BLINKS_PER_MINUTE) -> np.ndarray:
    """Seeded blink track ``(T,)`` in [0, 1]: gamma-distributed gaps (mean 60/rate s), 120-350 ms blinks."""
    rng = np.random.default_rng(seed)
    out = np.zeros(t, np.float32)
    duration = t / fps
    mean_gap = 60.0 / rate_per_minute
    time = rng.uniform(0.3, mean_gap)
    frames = np.arange(t) / fps
    while time < duration:
        length = rng.uniform(*BLINK_SECONDS)
        close = 0.35 * length  # fast closing, slower opening
        lo, hi = np.searchsorted(frames, time), np.searchsorted(frames, time + length)
        x = frames[lo:hi] - time
        opening = np.cos(0.5 * np.pi * (x - close) / (length - close))
        shape = np.where(x < close, np.sin(0.5 * np.pi * x / close), opening)
        out[lo:hi] = np.maximum(out[lo:hi], np.clip(shape, 0, 1))
        time += length + max(0.6, rng.gamma(2.0, mean_gap / 2.0))
    return out


def add_blinks(curves: np.ndarray, *, fps: float, seed: int = 0) -> np.ndarray:
    """Curves (T, 52) with :func:`blink_curve` on eyeBlink L/R (the larger value wins); eyeWide yields while
    the lids are closed. Returns a float32 copy."""
    out = np.array(curves, np.float32, copy=True)
    bl = blink_curve(len(out), fps, seed=seed)
    for side in ("Left", "Right"):
        i = ARKIT_INDEX["eyeBlink" + side]
        out[:, i] = np.maximum(out[:, i], bl)
        out[:, ARKIT_INDEX["eyeWide" + side]] *= 1 - bl
    return out


def audio_peak(y: np.ndarray) -> float:
    """Largest absolute sample of ``y`` (0 for no samples)."""
    return float(np.abs(np.asarray(y)).max(initial=0.0))


def is_silent(peak: float) -> bool:
    """Whether audio with this absolute peak counts as silence (below :data:`SILENCE_PEAK`)."""
    return peak < SILENCE_PEAK


def neutral_if_silent(values: np.ndarray, peak: float) -> np.ndarray:
    """``values`` (curves or FLAME parameters, (T, D)), or zeros of the same shape when ``peak`` is silence."""
    return np.zeros_like(values) if is_silent(peak) else values
