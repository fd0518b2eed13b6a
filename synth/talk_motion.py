"""Head and brow motion of a talking portrait, driven by the speech's loudness and the animation curves.

Speech curves move the jaw, lips and lids but not the head; a face that talks with a frozen head looks
pasted on. People nod on stressed syllables, drift slowly while they talk and raise their brows with
emphasis. :class:`ProsodyMotion` gives each frame a small head similarity
(:class:`~facecraft.synth.talk_render.HeadMotion`) and a brow lift from:

* **loudness**: the RMS level of the audio in the frame's trailing window (:func:`frame_loudness`), mapped to
  [0, 1] between :data:`QUIET_DB` and :data:`LOUD_DB`; its smoothed level is *activity* (how much the person
  is speaking), its rise above a slower average is *emphasis* (stressed syllables, phrase onsets);
* **the curves**: the jaw's opening speed adds to emphasis (an open vowel after a closure);
* **pitch**: the voice's F0 in the frame's trailing window (:func:`frame_pitch`, CREPE tiny), in semitones
  above or below the speaker's running level: a rising pitch lifts the head and the brows a little, a
  falling one lowers the head (speakers' head and brow motion follows F0: Yehia, Kuratate and
  Vatikiotis-Bateson 2002; Cave et al. 1996); unvoiced frames let it settle;
* **a slow drift**: a sum of a few seeded low-frequency sines (0.07-0.35 Hz), scaled by activity, so a
  silent face is almost still and a speaking one sways.

Everything is causal (a frame depends on the audio and curves up to it) and deterministic for a seed, so a
stream of frames equals the offline render of the same audio.
"""

from __future__ import annotations

import math

import numpy as np

from facecraft.audio2face.head_motion import LOUD_DB, QUIET_DB  # the one loudness scale (dBFS -> 0..1)
from facecraft.rigs import ARKIT_INDEX, NUM_ARKIT

from .talk_render import HeadMotion

ACTIVITY_S = 0.35  # time constant of the activity level
EMPHASIS_FAST_S = 0.06
EMPHASIS_SLOW_S = 0.5
NOD_S = 0.12  # smoothing of the nod and brow response (two stages of half this time constant each)
# Motion amplitudes at full activity / emphasis.
NOD_DEG = 1.6  # head pitch read as a downward nod of the face (shown as a shift, face widths per degree below)
SWAY_DEG = 1.8  # roll drift
DRIFT = 0.012  # sideways / vertical drift, face widths
SCALE_DRIFT = 0.008  # toward / away from the camera
BROW_LIFT = 0.35  # browInnerUp / browOuterUp at full emphasis
PITCH_REF_S = 1.5  # time constant of the speaker's running pitch level (voiced frames)
PITCH_FULL_ST = 4.0  # semitones from that level giving the full pitch response
PITCH_S = 0.15  # smoothing of the pitch response (two stages, as the nod)
PITCH_LIFT_DEG = 1.2  # head lift (as a nod upward) at the full pitch response
PITCH_BROW = 0.2  # brow lift at the full rise
PITCH_WINDOW = 1024  # samples (64 ms at 16 kHz) of audio before a frame's time that its pitch reads
_NOD_SHIFT = 0.006  # face widths of downward shift per degree of nod
_BROWS = [ARKIT_INDEX[n] for n in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight")]
_BROW_SHARE = np.array([1.0, 0.7, 0.7])
_JAW = ARKIT_INDEX["jawOpen"]


def frame_loudness(audio: np.ndarray, sr: int, fps: float, frame: int) -> float:
    """Loudness in [0, 1] of the trailing window ``((frame - 1) / fps, frame / fps]`` of ``audio`` (mono).

    Samples outside the array count as silence, so the value depends only on audio up to the frame's time.
    """
    end = int(round(frame / fps * sr))
    start = int(round((frame - 1) / fps * sr))
    seg = audio[max(start, 0) : max(min(end, len(audio)), 0)]
    n = max(end - start, 1)
    rms = math.sqrt(float(np.dot(seg, seg)) / n) if len(seg) else 0.0
    db = 20.0 * math.log10(rms + 1e-9)
    return float(min(max((db - QUIET_DB) / (LOUD_DB - QUIET_DB), 0.0), 1.0))


def frame_pitch(audio: np.ndarray, sr: int, fps: float, frame: int) -> float:
    """F0 in Hz (0 unvoiced) of the :data:`PITCH_WINDOW` samples of ``audio`` (mono, 16 kHz) ending at the
    frame's time ``frame / fps``; samples outside the array count as silence, so the value depends only on
    audio up to the frame's time (:func:`facecraft.audio2face.prosody.pitch`, CREPE tiny)."""
    from facecraft.audio2face.prosody import pitch

    end = int(round(frame / fps * sr))
    start = end - PITCH_WINDOW
    seg = np.zeros(PITCH_WINDOW, np.float32)
    lo, hi = max(start, 0), min(end, len(audio))
    if hi <= lo:
        return 0.0
    seg[lo - start : hi - start] = audio[lo:hi]
    if not np.any(seg):
        return 0.0
    # pitch() centres frame i at i / fps: with fps = sr / (window / 2) frame 1 reads exactly this window
    return float(pitch(seg, sr, fps=sr / (PITCH_WINDOW / 2)).f0[1])


def pitch_frames(audio: np.ndarray, sr: int, fps: float, first: int, count: int) -> np.ndarray:
    """:func:`frame_pitch` of frames ``first .. first + count - 1`` in one batched CREPE pass, ``(count,)`` Hz.

    Reads exactly :func:`frame_pitch`'s windows (so a stream that reads each arriving chunk's frames at once
    equals the offline track, up to float rounding): CREPE centres its frame ``i`` at ``i / fps``, so the
    audio is cut half a window before the time of an earlier frame that falls on a whole sample (at 30 fps
    every third frame), and CREPE's windows land on the frames' trailing windows. Samples outside ``audio``
    count as silence; a window with no sound reads 0.
    """
    from fractions import Fraction

    from facecraft.audio2face.prosody import pitch

    audio = np.asarray(audio, np.float32)
    out = np.zeros(max(int(count), 0), np.float64)
    if not len(audio) or count <= 0:
        return out
    period = Fraction(sr) / Fraction(float(fps)).limit_denominator(1000)  # samples per frame
    # A frame on a whole sample, before ``first`` (CREPE's frame 0 would read the zeros it pads): the cut
    # keeps every window in its place.
    start = first - first % period.denominator - period.denominator
    origin = int(start * period) - PITCH_WINDOW // 2
    ends = [int(round(k / fps * sr)) for k in range(first, first + count)]
    seg = np.zeros(ends[-1] - origin, np.float32)
    lo, hi = max(origin, 0), min(ends[-1], len(audio))
    if hi <= lo:
        return out
    seg[lo - origin : hi - origin] = audio[lo:hi]
    f0 = pitch(seg, sr, fps=fps).f0[first - start :]
    for j, end in enumerate(ends):
        window = audio[max(end - PITCH_WINDOW, 0) : max(min(end, len(audio)), 0)]
        out[j] = float(f0[j]) if j < len(f0) and np.any(window) else 0.0
    return out


def pitch_track(audio: np.ndarray, sr: int, fps: float, num_frames: int) -> np.ndarray:
    """:func:`frame_pitch` of frames ``0 .. num_frames - 1`` in one batched pass, ``(num_frames,)`` Hz
    (:func:`pitch_frames` from frame 0)."""
    return pitch_frames(audio, sr, fps, 0, num_frames)


class ProsodyMotion:
    """Causal per-frame head motion and brow lift (see the module docstring).

    Parameters
    ----------
    fps : float
        Frame rate of the frames :meth:`step` is called for.
    face_width : float
        Face width in pixels (shifts scale with it).
    seed : int
        Seed of the slow drift.
    amount : float
        Scale of all motion (0 = a still head and no brow lift).
    """

    def __init__(self, fps: float, face_width: float, *, seed: int = 0, amount: float = 1.0) -> None:
        self.fps = float(fps)
        self.face_width = float(face_width)
        self.amount = float(amount)
        rng = np.random.default_rng(seed)
        self._freq = rng.uniform(0.07, 0.35, size=(4, 3))  # (roll, x, y, scale) x 3 sines, Hz
        self._phase = rng.uniform(0.0, 2 * np.pi, size=(4, 3))
        self._amp = np.array([1.0, 0.6, 0.35]) / 1.95
        self.reset()

    def reset(self) -> None:
        self._frame = 0
        self._activity = 0.0
        self._fast = 0.0
        self._slow = 0.0
        self._nod = self._nod_in = 0.0
        self._jaw = 0.0
        self._ref = None  # running log2 pitch of the voiced frames
        self._rise = self._rise_in = 0.0

    def _alpha(self, tau: float) -> float:
        return 1.0 - math.exp(-1.0 / (self.fps * tau))

    def step(self, loudness: float, curves: np.ndarray, f0: float = 0.0) -> tuple[HeadMotion, np.ndarray]:
        """Motion of the next frame from its loudness, curves ``(52,)`` and pitch ``f0`` (Hz, 0 unvoiced):
        ``(HeadMotion, brow lift (52,) float32 to add to the curves)``."""
        rise = 0.0
        if f0 > 0:
            level = math.log2(float(f0))
            self._ref = level if self._ref is None else self._ref + self._alpha(PITCH_REF_S) * (level - self._ref)
            rise = min(max(12.0 * (level - self._ref) / PITCH_FULL_ST, -1.0), 1.0)
        self._rise_in += self._alpha(PITCH_S / 2) * (rise - self._rise_in)
        self._rise += self._alpha(PITCH_S / 2) * (self._rise_in - self._rise)
        e = float(loudness)
        self._activity += self._alpha(ACTIVITY_S) * (e - self._activity)
        self._fast += self._alpha(EMPHASIS_FAST_S) * (e - self._fast)
        self._slow += self._alpha(EMPHASIS_SLOW_S) * (e - self._slow)
        jaw = float(curves[_JAW])
        opening = max(jaw - self._jaw, 0.0) * self.fps / 10.0  # jaw opening speed, per 100 ms
        self._jaw = jaw
        emphasis = min(max(self._fast - self._slow, 0.0) * 3.0 + 0.5 * opening, 1.0)
        self._nod_in += self._alpha(NOD_S / 2) * (emphasis - self._nod_in)
        self._nod += self._alpha(NOD_S / 2) * (self._nod_in - self._nod)
        t = self._frame / self.fps
        self._frame += 1
        drift = (self._amp * np.sin(2 * np.pi * self._freq * t + self._phase)).sum(1)  # (4,) in [-1, 1]
        level = self.amount * (0.1 + 0.9 * self._activity)  # a silent face is nearly still
        fw = self.face_width
        nod_deg = self.amount * (NOD_DEG * self._nod - PITCH_LIFT_DEG * self._rise)
        head = HeadMotion(
            angle_deg=float(level * SWAY_DEG * drift[0]),
            scale=float(1.0 + level * SCALE_DRIFT * drift[3]),
            shift=(
                float(level * DRIFT * fw * drift[1]),
                float(level * DRIFT * fw * drift[2] + _NOD_SHIFT * fw * nod_deg),
            ),
        )
        brows = np.zeros(NUM_ARKIT, np.float32)
        brows[_BROWS] = self.amount * (BROW_LIFT * self._nod + PITCH_BROW * max(self._rise, 0.0)) * _BROW_SHARE
        return head, brows
