"""Head motion and gaze for speech animation: nods and sway from the speech's loudness, saccades between fixations.

Speech curves move the face but not the head or the eyes; a character that talks with a fixed head and a
fixed stare looks dead. Two procedural tracks, in degrees, deterministic for a seed:

* :func:`head_motion` (``(T, 3)`` yaw, pitch, roll; :class:`~facecraft.rigs.animation.FaceAnimation`'s
  convention: yaw positive toward the subject's left, pitch positive downward):

  - **loudness** per frame (RMS over the frame, :func:`frame_loudness`) mapped to [0, 1] between
    :data:`QUIET_DB` and :data:`LOUD_DB`; its slow average is *activity* (how much the person is talking);
  - **stress**: the loudness rising above its slower average (syllable nuclei, phrase onsets) drives *nods*:
    each rise gives a downward pitch pulse that peaks :data:`NOD_PEAK_S` later and settles back
    (a critically damped response), :data:`NOD_DEG` at full emphasis, with a smaller roll and yaw beat;
  - **sway**: a sum of seeded low-frequency sines per axis (0.08-0.4 Hz), scaled from :data:`IDLE_SHARE`
    at rest to 1 while talking.

  Amplitudes are chosen from what the conversational-motion literature reports for speakers (head
  rotations of a few degrees, nods of 2-5 degrees, most energy below 1 Hz); nothing is fitted to a capture.
* :func:`gaze` (``(T, 6)``: both eyes' yaw, pitch, roll): fixations of gamma-distributed length
  (:data:`FIXATION_S` mean) on targets near the listener (most) or briefly away, joined by saccades whose
  duration follows the main sequence (:data:`SACCADE_BASE_S` + :data:`SACCADE_S_PER_DEG` per degree), with
  both eyes turning together. :func:`facecraft.rigs.animation.with_gaze_curves` writes them into the
  ``eyeLook*`` channels, so the curves and the rotations agree.

Blinks come from :func:`facecraft.audio2face.postprocess.add_blinks`. Silence (see
:func:`~facecraft.audio2face.postprocess.is_silent`) keeps head and eyes still, as it keeps the face neutral.
"""

from __future__ import annotations

import numpy as np

from facecraft.rigs.errors import ParameterError

QUIET_DB = -50.0  # dBFS read as loudness 0
LOUD_DB = -15.0  # dBFS read as loudness 1
ACTIVITY_S = 0.4  # time constant of the talking level
EMPHASIS_FAST_S = 0.05
EMPHASIS_SLOW_S = 0.45
EMPHASIS_GAIN = 3.0  # loudness rise (fast minus slow average) giving full emphasis
NOD_PEAK_S = 0.14  # a nod peaks this long after the stress
STRESS_S = 0.2  # length of a stressed syllable (full emphasis this long gives a response of 1 before tanh)
NOD_DEG = 3.0  # downward pitch of a saturated nod
NOD_ROLL_DEG = 0.8  # the roll and yaw beat that goes with a nod (sign drawn per nod)
NOD_YAW_DEG = 0.8
NOD_SETTLED = 0.02  # a nod's response below this has settled: the next nod may beat to the other side
SWAY_DEG = (2.0, 1.2, 1.2)  # yaw, pitch, roll amplitude of the slow sway while talking
SWAY_HZ = (0.08, 0.4)
IDLE_SHARE = 0.3  # sway at rest, as a share of the talking sway
MAX_HEAD_DEG = 12.0  # every head angle stays within this
FIXATION_S = 1.1  # mean fixation length
AWAY_SHARE = 0.3  # share of fixations away from the listener
NEAR_DEG = (1.5, 1.0)  # yaw, pitch spread of fixations on the listener
AWAY_DEG = (8.0, 5.0)  # yaw, pitch spread of fixations away
MAX_GAZE_DEG = (20.0, 15.0)
SACCADE_BASE_S = 0.02
SACCADE_S_PER_DEG = 0.0025


def frame_loudness(
    y: np.ndarray, sr: int, *, fps: float, num_frames: int, start_s: float = 0.0, first_frame: int = 0
) -> np.ndarray:
    """Loudness ``(num_frames,)`` in [0, 1] of frames ``i / fps`` seconds (``i`` from ``first_frame``), ``y``
    starting at ``start_s`` seconds.

    Each frame reads the RMS level of the two frame periods centred on its time, :data:`QUIET_DB` -> 0,
    :data:`LOUD_DB` -> 1; samples outside ``y`` count as silence (``start_s`` is a block's start when a long file
    is read block by block; ``first_frame`` computes only the frames near it, with the values the whole range gives
    them). :func:`frame_energy` and :func:`loudness_of_energy` are its two steps.
    """
    return loudness_of_energy(
        frame_energy(y, sr, fps=fps, num_frames=num_frames, start_s=start_s, first_frame=first_frame), sr, fps=fps
    )


def frame_energy(
    y: np.ndarray, sr: int, *, fps: float, num_frames: int, start_s: float = 0.0, first_frame: int = 0
) -> np.ndarray:
    """The sum of squares ``(num_frames,)`` float64 of the samples of ``y`` in each frame's window (the two frame
    periods centred on its time; :func:`frame_loudness`'s arguments). The sums of a file's blocks add up to the
    whole file's, so a frame whose window spans two blocks reads them both."""
    y = np.asarray(y, np.float32).reshape(-1)
    if not (fps > 0 and sr > 0):
        raise ParameterError(f"frame_loudness: fps and sr must be positive, got fps={fps!r}, sr={sr!r}")
    power = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    centre = (np.arange(first_frame, first_frame + num_frames) / fps - start_s) * sr
    half = sr / fps
    lo = np.clip(np.round(centre - half).astype(np.int64), 0, len(y))
    hi = np.clip(np.round(centre + half).astype(np.int64), 0, len(y))
    return power[hi] - power[lo]


def loudness_of_energy(energy: np.ndarray, sr: int, *, fps: float) -> np.ndarray:
    """:func:`frame_loudness` from the frames' :func:`frame_energy` (float32, in [0, 1])."""
    rms = np.sqrt(np.asarray(energy, np.float64) / (2 * (sr / fps)))
    db = 20.0 * np.log10(rms + 1e-9)
    return np.clip((db - QUIET_DB) / (LOUD_DB - QUIET_DB), 0.0, 1.0).astype(np.float32)


def _ema(x: np.ndarray, fps: float, tau: float) -> np.ndarray:
    a = 1.0 - np.exp(-1.0 / (fps * tau))
    out = np.empty_like(x, dtype=np.float64)
    level = 0.0
    for i, v in enumerate(x):
        level += a * (v - level)
        out[i] = level
    return out


def _sway(num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 3)`` sums of three seeded sines per axis, each axis in [-1, 1]."""
    t = np.arange(num_frames)[:, None, None] / fps
    freq = rng.uniform(*SWAY_HZ, size=(3, 3))
    phase = rng.uniform(0.0, 2 * np.pi, size=(3, 3))
    amp = np.array([1.0, 0.6, 0.35]) / 1.95
    return (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1)


def _per_nod(drawn: np.ndarray, nod: np.ndarray) -> np.ndarray:
    """The nods' side beats ``(T, 2)``: a nod keeps the sign ``drawn`` gives where it starts until it has settled
    (below :data:`NOD_SETTLED`); a new sign is taken only between nods. Drawn per second and used as drawn, the sign
    flipped mid-nod: the head's roll jumped 1-1.5 degrees in one frame at whole seconds."""
    side = drawn.copy()
    for i in range(1, len(side)):
        if nod[i] >= NOD_SETTLED:
            side[i] = side[i - 1]
    return side


def head_motion(loudness: np.ndarray, *, fps: float, seed: int = 0, amount: float = 1.0) -> np.ndarray:
    """Head yaw, pitch, roll ``(T, 3)`` float32 degrees from per-frame loudness ``(T,)`` in [0, 1].

    Parameters
    ----------
    loudness : (T,) float
        :func:`frame_loudness` of the speech at ``fps``.
    fps : float
        Frame rate of ``loudness`` and of the result.
    seed : int
        Seed of the sway and of the nods' side beats.
    amount : float
        Scale of all motion (0: a still head).

    Returns
    -------
    float32 (T, 3), every angle within :data:`MAX_HEAD_DEG`. See the module docstring for the model.
    """
    e = np.asarray(loudness, np.float64).reshape(-1)
    n = len(e)
    rng = np.random.default_rng(seed)
    if n == 0:
        return np.zeros((0, 3), np.float32)
    activity = _ema(e, fps, ACTIVITY_S)
    emphasis = np.clip(EMPHASIS_GAIN * (_ema(e, fps, EMPHASIS_FAST_S) - _ema(e, fps, EMPHASIS_SLOW_S)), 0.0, 1.0)
    # critically damped pulse peaking NOD_PEAK_S after the stress, scaled so that a full-emphasis syllable of
    # STRESS_S gives a response of 1 (tanh: about 0.76 of a full nod; longer or repeated stress saturates)
    k_t = np.arange(int(np.ceil(6 * NOD_PEAK_S * fps)) + 1) / fps
    kernel = (k_t / NOD_PEAK_S) * np.exp(1.0 - k_t / NOD_PEAK_S)
    kernel /= np.convolve(np.ones(max(1, int(round(STRESS_S * fps)))), kernel).max()
    nod = np.tanh(np.convolve(emphasis, kernel)[:n])
    drawn = np.repeat(rng.choice([-1.0, 1.0], size=(n // max(1, int(fps)) + 1, 2)), max(1, int(fps)), axis=0)[:n]
    side = _per_nod(drawn, nod)
    level = IDLE_SHARE + (1.0 - IDLE_SHARE) * activity
    sway = _sway(n, fps, rng) * np.asarray(SWAY_DEG) * level[:, None]
    head = sway + np.stack([NOD_YAW_DEG * nod * side[:, 0], NOD_DEG * nod, NOD_ROLL_DEG * nod * side[:, 1]], 1)
    return np.clip(amount * head, -MAX_HEAD_DEG, MAX_HEAD_DEG).astype(np.float32)


def gaze(num_frames: int, *, fps: float, seed: int = 0) -> np.ndarray:
    """Eye rotations ``(T, 6)`` float32 degrees (left yaw, pitch, roll, right yaw, pitch, roll): fixations and
    saccades (see the module docstring); both eyes turn together, roll 0, the first fixation straight ahead."""
    if not fps > 0:
        raise ParameterError(f"gaze: fps must be positive, got {fps!r}")
    rng = np.random.default_rng(seed)
    times = np.arange(num_frames) / fps
    out = np.zeros((num_frames, 2))
    current = np.zeros(2)
    t = rng.gamma(2.0, FIXATION_S / 2.0)
    end = times[-1] if num_frames else 0.0
    while t < end:
        spread = AWAY_DEG if rng.random() < AWAY_SHARE else NEAR_DEG
        target = np.clip(rng.normal(0.0, spread), -np.asarray(MAX_GAZE_DEG), MAX_GAZE_DEG)
        length = SACCADE_BASE_S + SACCADE_S_PER_DEG * float(np.hypot(*(target - current)))
        x = np.clip((times - t) / length, 0.0, 1.0)
        ease = x * x * (3.0 - 2.0 * x)
        after = times >= t
        out[after] = current + ease[after, None] * (target - current)
        current = target
        t += length + rng.gamma(2.0, FIXATION_S / 2.0)
    eyes = np.zeros((num_frames, 6), np.float32)
    eyes[:, [0, 3]] = out[:, :1]
    eyes[:, [1, 4]] = out[:, 1:]
    return eyes
