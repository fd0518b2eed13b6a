"""The procedural teacher: timed phones (+ emotion, pitch, voicing) -> ARKit-52 curves.

It is both the rule-based mode users can pick and the target the learned model is trained against.

Coarticulation follows the Cohen-Massaro dominance model, with JALI's split of jaw and lip controls: every
viseme segment pulls each channel group (jaw, lips, tongue) toward its target with a dominance that is
flat during the phone and decays exponentially outside it (slowly *before* rounded visemes, so rounding
is anticipated). Each channel is the dominance-weighted mean of the targets. As in JALI, how far a vowel opens
follows how loud it is: given the audio's loudness, each vowel's jaw and lip-opening targets scale with its level
against the utterance's median vowel (:func:`vowel_open_scales`), so stressed syllables open wide and reduced
ones barely part the lips, as on a real speaking face. Then hard rules that
dominance alone cannot guarantee are applied in order:

1. an emotion overlay (from the emotion space) adds to the upper face, cheeks and mouth corners, and a
   little to the jaw;
2. bilabial closure: while /p b m/ holds, the jaw nearly closes, ``mouthClose`` follows ``jawOpen`` (the
   ARKit convention for sealed lips) and every lip-parting channel is cleared, so closure wins over
   emotion and over neighbouring vowels;
3. silence (unvoiced stretches) relaxes the speech channels to neutral;
4. brows rise with pitch excursions above the speaker's median; blinks at a natural, seeded rate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX, NUM_ARKIT, SPEECH_CHANNELS
from facecraft.rigs.assets import shared_data_dir
from facecraft.rigs.emotion_space import EMOTION_CODE_DIM, codes_to_arkit
from facecraft.rigs.errors import ParameterError

from .audio import SAMPLE_RATE, num_frames  # num_frames: re-exported, the one frame count
from .head_motion import LOUD_DB, QUIET_DB, frame_loudness
from .lip_state import CLOSURE_JAW, CLOSURE_PRESS, CLOSURE_SEAL
from .phonetics import Phone
from .postprocess import OVERLAY_INDEX, add_blinks, audio_peak, is_silent, yield_to_seal
from .visemes import (
    BILABIALS,
    JAW_CHANNELS,
    JAW_RISE,
    JAW_RISE_RAMP,
    LIP_CHANNELS,
    PHONE_JAW_SCALE,
    PHONE_TO_VISEME,
    TONGUE_CHANNELS,
    VISEME_DOMINANCE,
    VISEME_POSES,
    VOWEL_VISEMES,
    normalize_phone,
    phone_visemes,
)

logger = logging.getLogger(__name__)

_IDX = ARKIT_INDEX
_GROUPS: dict[str, np.ndarray] = {
    "jaw": np.array([_IDX[n] for n in JAW_CHANNELS]),
    "lips": np.array([_IDX[n] for n in LIP_CHANNELS]),
    "tongue": np.array([_IDX[n] for n in TONGUE_CHANNELS]),
}
SPEECH_INDEX = np.array([_IDX[n] for n in SPEECH_CHANNELS])
EMOTION_JAW_GAIN = 0.5  # emotion's jawOpen (surprise, fear) is added at half strength under speech
# The sealed-lip pattern written below (CLOSURE_JAW, CLOSURE_PRESS, CLOSURE_SEAL) is defined, and read back from
# curves, in .lip_state; blinks and the lip-lift yield during closures live in .postprocess.
_BROWS = [_IDX["browInnerUp"], _IDX["browOuterUpLeft"], _IDX["browOuterUpRight"]]
_BROW_GAINS = np.array([1.0, 0.6, 0.6], np.float32)
# JALI-style vowel opening from loudness: a vowel VOWEL_OPEN_DB louder than the utterance's median vowel opens
# twice as far (linear in dB), clipped to VOWEL_OPEN_RANGE of its class target. Chosen from phonetics (stressed
# vowels are some 3-6 dB louder and open markedly wider than reduced ones), not fitted to any capture.
VOWEL_OPEN_DB = 12.0
VOWEL_OPEN_RANGE = (0.6, 1.3)
# The channels a vowel's loudness scales: the jaw and the lip-parting channels that follow it on real faces.
_OPEN_SCALED = np.array(
    [_IDX[n] for n in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")]
)


def _as_phones(phones) -> list[Phone]:
    out: list[Phone] = []
    for i, p in enumerate(phones):
        if isinstance(p, Phone):
            ph = p
        elif isinstance(p, dict):
            try:
                ph = Phone(float(p["start"]), float(p["end"]), str(p["phone"]))
            except KeyError as e:
                raise ParameterError(f"phones[{i}]: dict needs 'start', 'end' and 'phone', got {sorted(p)}") from e
        else:
            try:
                s, e, name = p
            except (TypeError, ValueError) as err:
                raise ParameterError(f"phones[{i}]: expected Phone, dict or (start, end, phone), got {p!r}") from err
            ph = Phone(float(s), float(e), str(name))
        if not (math.isfinite(ph.start) and math.isfinite(ph.end)) or ph.end < ph.start or ph.start < 0:
            raise ParameterError(f"phones[{i}]: need 0 <= start <= end (seconds), got {ph.start}..{ph.end}")
        out.append(Phone(ph.start, ph.end, normalize_phone(ph.phone)))
    return out


def coarticulate(
    phones: Sequence[Phone], times: np.ndarray, *, open_scales: Sequence[float] | None = None
) -> np.ndarray:
    """Speech channels only: dominance-blended viseme targets at ``times`` (s), ``(T, 52)`` float32.

    ``open_scales``: one factor per phone on its jaw and lip-parting targets (see :func:`vowel_open_scales`).
    Costs O(phones x frames within ~0.5 s of each phone), so hours of speech stay cheap.
    """
    t = np.asarray(times, np.float64)
    num = np.zeros((len(t), NUM_ARKIT), np.float64)
    den = {g: np.full(len(t), 1e-3) for g in _GROUPS}  # a faint pull toward neutral where nothing speaks
    step = float(t[1] - t[0]) if len(t) > 1 else 1.0 / 30.0
    if open_scales is not None and len(open_scales) != len(phones):
        raise ParameterError(f"open_scales: expected one factor per phone ({len(phones)}), got {len(open_scales)}")
    segments = [(i, seg) for i, ph in enumerate(phones) for seg in phone_visemes([ph])]
    for i, seg in segments:
        vis, phone = seg["viseme"], seg["phone"]
        dom = VISEME_DOMINANCE[vis]
        target = VISEME_POSES[vis].astype(np.float64)
        if open_scales is not None:
            target[_OPEN_SCALED] *= open_scales[i]
        scale = PHONE_JAW_SCALE.get(phone, 1.0)
        start, end = seg["start"], seg["end"]
        if end - start < step:  # short phones still own at least the frame nearest their centre
            mid = 0.5 * (start + end)
            start, end = mid - 0.5 * step, mid + 0.5 * step
        for group, idx in _GROUPS.items():
            alpha = getattr(dom, group)
            before = dom.lips_before if (group == "lips" and dom.lips_before) else dom.before
            lo = np.searchsorted(t, start - 6 * before)
            hi = np.searchsorted(t, end + 6 * dom.after)
            if hi <= lo:
                continue
            tt = t[lo:hi]
            d = np.where(tt > end, np.exp(-(tt - end) / dom.after), 1.0)
            d = alpha * np.where(tt < start, np.exp(-(start - tt) / before), d)
            tgt = target[idx] * (scale if group == "jaw" else 1.0)
            num[lo:hi, idx] += d[:, None] * tgt[None]
            den[group][lo:hi] += d
    out = np.zeros_like(num)
    for group, idx in _GROUPS.items():
        out[:, idx] = num[:, idx] / den[group][:, None]
    return out.astype(np.float32)


def vowel_open_scales(phones: Sequence[Phone], loudness: np.ndarray, *, fps: float) -> list[float]:
    """One factor per phone on its opening (jaw, lower/upper lip): 1 for consonants and silences; for a vowel,
    ``1 + dB / VOWEL_OPEN_DB`` clipped to :data:`VOWEL_OPEN_RANGE`, where dB is the vowel's mean level against the
    median vowel of the utterance.

    ``loudness`` ``(T,)`` in [0, 1] at ``fps`` (:func:`facecraft.audio2face.head_motion.frame_loudness`, which maps
    :data:`~facecraft.audio2face.head_motion.QUIET_DB`..``LOUD_DB`` linearly).
    """
    db = np.asarray(loudness, np.float64) * (LOUD_DB - QUIET_DB)
    levels: dict[int, float] = {}
    for i, p in enumerate(phones):
        if PHONE_TO_VISEME.get(p.phone) not in VOWEL_VISEMES:
            continue
        lo = int(np.floor(p.start * fps))
        hi = max(lo + 1, int(np.ceil(p.end * fps)))
        if lo < len(db):
            levels[i] = float(db[lo : min(hi, len(db))].mean())
    if not levels:
        return [1.0] * len(phones)
    median = float(np.median(list(levels.values())))
    lo_s, hi_s = VOWEL_OPEN_RANGE
    return [float(np.clip(1.0 + (levels[i] - median) / VOWEL_OPEN_DB, lo_s, hi_s)) if i in levels else 1.0
            for i in range(len(phones))]  # fmt: skip


def apply_jaw_rise(curves: np.ndarray, phones: Sequence[Phone], times: np.ndarray) -> np.ndarray:
    """Raise the jaw toward each consonant's own target during it (:data:`~.visemes.JAW_RISE`): inside the phone
    ``jawOpen`` moves the class's share of the way down to the pose's jaw (never up), decaying with
    :data:`~.visemes.JAW_RISE_RAMP` outside, so the jaw drops between syllables as a speaking face's does.

    ``curves`` (T, 52) at ``times`` (s); returns a float32 copy (only ``jawOpen`` changes).
    """
    out = np.array(curves, np.float32, copy=True)
    t = np.asarray(times, np.float64)
    j = _IDX["jawOpen"]
    for seg in phone_visemes(phones):
        share = JAW_RISE.get(seg["viseme"], 0.0)
        if not share:
            continue
        lo, hi, d = _held_weight(t, seg["start"], seg["end"], JAW_RISE_RAMP)
        w = share * d
        cap = VISEME_POSES[seg["viseme"]][j] * PHONE_JAW_SCALE.get(seg["phone"], 1.0)
        jaw = out[lo:hi, j]
        out[lo:hi, j] = jaw - w * np.maximum(jaw - cap, 0.0)
    return out


def closure_weights(phones: Sequence[Phone], times: np.ndarray, *, ramp: float = 0.02) -> np.ndarray:
    """How much a bilabial closure holds at each time, ``(T,)`` in [0, 1].

    1 inside /p b m/ (a phone shorter than a frame still owns its nearest frame), decaying with time
    constant ``ramp`` (s) outside, so the lips meet smoothly.
    """
    t = np.asarray(times, np.float64)
    c = np.zeros(len(t))
    for p in phones:
        if p.phone not in BILABIALS:
            continue
        lo, hi, d = _held_weight(t, p.start, p.end, ramp)
        c[lo:hi] = np.maximum(c[lo:hi], d)
    return c.astype(np.float32)


def _held_weight(t: np.ndarray, start: float, end: float, ramp: float) -> tuple[int, int, np.ndarray]:
    """A phone's hold on frame times ``t`` (s): 1 from ``start`` to ``end``, decaying with time constant ``ramp``
    outside; a phone shorter than a frame still owns the frame nearest its centre. Returns ``(lo, hi, weights)``
    for the frames ``t[lo:hi]`` it reaches (six time constants either side)."""
    step = float(t[1] - t[0]) if len(t) > 1 else 1.0 / 30.0
    if end - start < step:
        mid = 0.5 * (start + end)
        start, end = mid - 0.5 * step, mid + 0.5 * step
    lo, hi = int(np.searchsorted(t, start - 6 * ramp)), int(np.searchsorted(t, end + 6 * ramp))
    tt = t[lo:hi]
    d = np.where(tt < start, np.exp(-(start - tt) / ramp), np.where(tt > end, np.exp(-(tt - end) / ramp), 1.0))
    return lo, hi, d


def apply_closure(curves: np.ndarray, closure: np.ndarray, *, seal: float = CLOSURE_SEAL) -> np.ndarray:
    """Seal the lips where ``closure`` (T,) is high: jaw nearly shut, no lip parting, and ``mouthClose`` =
    ``jawOpen + seal`` (ARKit closes the lips against the jaw; ``seal`` presses them together)."""
    out = curves.copy()
    jaw = out[:, _IDX["jawOpen"]]
    jaw = (1 - closure) * jaw + closure * np.minimum(jaw, CLOSURE_JAW)
    out[:, _IDX["jawOpen"]] = jaw
    close = out[:, _IDX["mouthClose"]]
    out[:, _IDX["mouthClose"]] = (1 - closure) * np.minimum(close, jaw) + closure * (jaw + seal)
    for name in ("mouthPressLeft", "mouthPressRight"):
        out[:, _IDX[name]] = np.maximum(out[:, _IDX[name]], closure * CLOSURE_PRESS)
    return yield_to_seal(out, closure)


def emotion_arkit(emotion, times: np.ndarray) -> np.ndarray | None:
    """Per-frame ARKit-52 weights ``(T, 52)`` of an emotion given as any of the forms the teacher accepts.

    Accepted: ``None``; an ``EmotionCode`` (constant); an ``EmotionTrack`` (keys interpolated at ``times``);
    an array of emotion codes ``(57,)`` or ``(T, 57)``; or ARKit weights ``(52,)`` / ``(T, 52)`` used as is.
    """
    if emotion is None:
        return None
    t = len(times)
    if hasattr(emotion, "codes_at"):
        return _decode_codes(np.asarray(emotion.codes_at(np.asarray(times)), np.float32))
    if hasattr(emotion, "to_arkit"):
        return np.repeat(np.asarray(emotion.to_arkit(), np.float32)[None], t, axis=0)
    arr = np.asarray(emotion, np.float32)
    if arr.ndim == 1:
        arr = np.repeat(arr[None], t, axis=0)
    if arr.ndim != 2 or arr.shape[0] != t:
        raise ParameterError(f"emotion: expected shape ({t}, 57) or ({t}, 52) for {t} frames, got {arr.shape}")
    if arr.shape[1] == NUM_ARKIT:
        return np.clip(arr, 0, 1)
    return _decode_codes(arr)


def _decode_codes(codes: np.ndarray) -> np.ndarray:
    if codes.ndim != 2 or codes.shape[1] != EMOTION_CODE_DIM:
        raise ParameterError(f"emotion codes: expected shape (T, {EMOTION_CODE_DIM}), got {codes.shape}")
    return np.clip(codes_to_arkit(codes).astype(np.float32), 0, 1)


def _per_frame(name: str, arr, t: int) -> np.ndarray:
    a = np.asarray(arr, np.float64).reshape(-1)
    if len(a) == t:
        return a
    if len(a) < 2:
        raise ParameterError(f"{name}: expected {t} frames, got {len(a)}")
    logger.debug("%s has %d frames; resampling to %d", name, len(a), t)
    return np.interp(np.linspace(0, len(a) - 1, t), np.arange(len(a)), a)


def relax_weights(voiced, t: int, fps: float, *, min_silence: float = 0.25) -> np.ndarray:
    """``(T,)`` in [0, 1]: 1 inside unvoiced runs of at least ``min_silence`` s, eased at their edges."""
    v = _per_frame("voiced", voiced, t) > 0.5
    r = np.zeros(t, np.float32)
    n_min = max(1, int(round(min_silence * fps)))
    i = 0
    while i < t:
        if v[i]:
            i += 1
            continue
        j = i
        while j < t and not v[j]:
            j += 1
        if j - i >= n_min:
            r[i:j] = 1.0
        i = j
    k = max(1, int(round(0.1 * fps)))  # 100 ms ease
    return np.convolve(r, np.ones(k) / k, mode="same").astype(np.float32) if t > k else r


def brow_curve(pitch, t: int, fps: float, *, gain: float = 0.35) -> np.ndarray:
    """Brow raise ``(T,)`` in [0, gain] from pitch (Hz; 0 or NaN where unvoiced).

    Semitones above the median voiced pitch, from 1 to 7 st mapped to 0..``gain``, smoothed over 150 ms
    and held (decaying) through unvoiced frames.
    """
    f = _per_frame("pitch", pitch, t)
    voiced = np.isfinite(f) & (f > 40)
    if voiced.sum() < 3:
        return np.zeros(t, np.float32)
    st = np.zeros(t)
    st[voiced] = 12 * np.log2(f[voiced] / np.median(f[voiced]))
    raise_ = np.clip((st - 1.0) / 6.0, 0, 1) * voiced
    k = max(1, int(round(0.15 * fps)))
    raise_ = _smooth(raise_, np.hanning(k + 2)[1:-1] / np.hanning(k + 2)[1:-1].sum())
    return (gain * np.clip(raise_, 0, 1)).astype(np.float32)


def _smooth(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``x`` convolved with ``kernel``, centred, with ``len(x)`` values: ``np.convolve(mode="same")`` as long as the
    kernel is not longer than ``x``; numpy's gives ``len(kernel)`` values then, which made a clip shorter than the
    150 ms brow smoothing (80 ms at 30 fps) give one brow frame more than curves."""
    at = (len(kernel) - 1) // 2
    return np.convolve(x, kernel, mode="full")[at : at + len(x)]


def teacher_curves(
    phones,
    *,
    fps: float = 30.0,
    duration: float | None = None,
    emotion=None,
    pitch=None,
    voiced=None,
    loudness=None,
    seed: int = 0,
    blink: bool = True,
    seal: float = CLOSURE_SEAL,
) -> np.ndarray:
    """ARKit-52 curves for timed phones.

    Parameters
    ----------
    phones : sequence of Phone, dicts ``{"start", "end", "phone"}`` or ``(start, end, phone)`` tuples
        Seconds and ARPAbet phones (stress digits allowed; ``SIL`` for silence).
    fps : float
        Output frame rate; frame ``i`` is at ``i / fps`` seconds.
    duration : float, optional
        Seconds to cover (default: the end of the last phone); ``T = ceil(duration * fps)``.
    emotion : EmotionCode, EmotionTrack, array (57,) / (T, 57) codes or (52,) / (T, 52) ARKit weights, optional
        Overlaid on the upper face, cheeks and mouth corners; never opens sealed lips.
    pitch : array (T,), optional
        F0 in Hz per output frame (0 or NaN unvoiced); brows rise on pitch peaks.
    voiced : array (T,), optional
        Voice activity per frame in [0, 1]; long unvoiced stretches relax the speech channels.
    loudness : array (T,), optional
        Loudness per output frame in [0, 1] (:func:`facecraft.audio2face.head_motion.frame_loudness`); louder
        vowels open wider (:func:`vowel_open_scales`). Without it every vowel opens to its class target.
    seed : int
        Seeds the blink times.
    blink : bool
        Add blinks (about 17 per minute).
    seal : float
        ``mouthClose`` in excess of ``jawOpen`` during /p b m/ (0 = ARKit's bare lip contact).

    Returns
    -------
    float32 array (T, 52)
        Weights in [0, 1], Apple's ARKit order.
    """
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise ParameterError(f"teacher_curves: fps must be a positive number, got {fps!r}")
    ph = _as_phones(phones)
    if duration is None:
        duration = ph[-1].end if ph else 0.0
    if not (math.isfinite(duration) and duration >= 0):
        raise ParameterError(f"teacher_curves: duration must be >= 0 seconds, got {duration!r}")
    t = num_frames(duration, fps)
    times = np.arange(t) / fps
    scales = None if loudness is None else vowel_open_scales(ph, _per_frame("loudness", loudness, t), fps=fps)
    curves = apply_jaw_rise(coarticulate(ph, times, open_scales=scales), ph, times)
    if voiced is not None:
        curves[:, SPEECH_INDEX] *= 1 - relax_weights(voiced, t, fps)[:, None]
    emo = emotion_arkit(emotion, times)
    if emo is not None:
        curves[:, OVERLAY_INDEX] = np.clip(curves[:, OVERLAY_INDEX] + emo[:, OVERLAY_INDEX], 0, 1)
        gain = np.ones(len(SPEECH_INDEX), np.float32)
        gain[list(SPEECH_INDEX).index(_IDX["jawOpen"])] = EMOTION_JAW_GAIN
        curves[:, SPEECH_INDEX] = curves[:, SPEECH_INDEX] + gain * emo[:, SPEECH_INDEX]
        curves = np.clip(curves, 0, 1)
        # ARKit seals lips with mouthClose = jawOpen; an emotion's jaw drop must not turn that into a gap
        curves[:, _IDX["mouthClose"]] = np.minimum(curves[:, _IDX["mouthClose"]], curves[:, _IDX["jawOpen"]])
    curves = apply_closure(curves, closure_weights(ph, times), seal=seal)
    if pitch is not None:
        brow = brow_curve(pitch, t, fps)
        b = curves[:, _BROWS]
        curves[:, _BROWS] = 1 - (1 - b) * (1 - brow[:, None] * _BROW_GAINS)
    if blink:
        curves = add_blinks(curves, fps=fps, seed=seed)
    return np.clip(curves, 0, 1).astype(np.float32)


def _emotion_arg(emotion):
    """Any emotion argument form, through the one parser (:func:`facecraft.rigs.emotion_space.parse_emotion`)."""
    from facecraft.rigs.emotion_space import parse_emotion

    return parse_emotion(emotion)


def whole_block_seconds(block_seconds: float) -> float:
    """A long file's block length as :meth:`ProceduralAnimator.animate_file` reads it: whole seconds (at least one),
    so blocks hold whole frames at integer frame rates. A caller that reads the blocks for it uses the same."""
    return max(1.0, float(round(block_seconds)))


class ProceduralAnimator:
    """Audio -> phones (pocketsphinx) -> teacher curves, with pitch-driven brows and VAD-relaxed silences.

    Parameters
    ----------
    fps : output frame rate
    pitch_method : ``"crepe"``, ``"pyin"`` or ``None`` (no brow motion from pitch)
    vad_method : ``"silero"``, ``"energy"`` or ``None`` (silences come from the phones only)
    seed : blink seed
    blink : add blinks
    decode_words : without a transcript, recognise words and align them (slower, more /p b m/ found)
    """

    def __init__(
        self,
        *,
        fps: float = 30.0,
        pitch_method: str | None = "crepe",
        vad_method: str | None = "silero",
        seed: int = 0,
        blink: bool = True,
        decode_words: bool = False,
    ) -> None:
        if not fps > 0:
            raise ParameterError(f"ProceduralAnimator: fps must be > 0, got {fps!r}")
        self.fps = float(fps)
        self.pitch_method = pitch_method
        self.vad_method = vad_method
        self.seed = int(seed)
        self.blink = bool(blink)
        self.decode_words = bool(decode_words)

    def animate(
        self, y, sr: int = SAMPLE_RATE, *, transcript: str | None = None, emotion=None, time_offset: float = 0.0
    ):
        """A :class:`~facecraft.rigs.animation.FaceAnimation` for mono audio ``y`` (any rate; resampled to 16 kHz).

        ``transcript`` enables forced alignment (recognition otherwise, or when alignment fails); ``emotion``
        is anything :func:`teacher_curves` accepts, or ``"name:intensity"``. ``time_offset`` (s) places this
        audio inside a longer file (emotion tracks and cue times use the absolute clock).
        """
        from facecraft.rigs.animation import FaceAnimation

        from .audio import resample, valid_audio
        from .phonetics import speech_phones
        from .prosody import pitch, voice_activity
        from .visemes import mouth_cues, phone_visemes

        y = valid_audio(y)
        if sr != SAMPLE_RATE:
            y = resample(y, orig_sr=int(sr), target_sr=SAMPLE_RATE)
        duration = len(y) / SAMPLE_RATE
        t = num_frames(duration, self.fps)
        silent = is_silent(float(np.abs(y).max()))
        if silent:
            from .phonetics import PhoneticResult

            result = PhoneticResult([Phone(0.0, round(duration, 3), "SIL")], [], "silence")
        else:
            result = speech_phones(y, SAMPLE_RATE, transcript=transcript, decode_words=self.decode_words)
        f0 = None
        if self.pitch_method and not silent:
            f0 = pitch(y, SAMPLE_RATE, fps=self.fps, method=self.pitch_method).f0
        voiced = None
        if self.vad_method:
            voiced = (
                np.zeros(t, np.float32)
                if silent
                else voice_activity(y, SAMPLE_RATE, fps=self.fps, method=self.vad_method)
            )
        emo = emotion_arkit(_emotion_arg(emotion), time_offset + np.arange(t) / self.fps)
        curves = teacher_curves(
            result.phones, fps=self.fps, duration=duration, emotion=emo, pitch=f0, voiced=voiced,
            loudness=frame_loudness(y, SAMPLE_RATE, fps=self.fps, num_frames=t),
            seed=self.seed + int(round(time_offset * 1000)), blink=self.blink,
        )  # fmt: skip

        def shift(items: list[dict]) -> list[dict]:
            return [
                {**d, "start": round(d["start"] + time_offset, 3), "end": round(d["end"] + time_offset, 3)}
                for d in items
            ]

        visemes = [{"start": v["start"], "end": v["end"], "viseme": v["viseme"]} for v in phone_visemes(result.phones)]
        return FaceAnimation(
            curves,
            fps=self.fps,
            mouth_cues=shift(mouth_cues(result.phones)),
            visemes=shift(visemes),
            meta={
                "animator": "procedural-teacher",
                "phones": result.method,
                "transcript": transcript,
                "transcript_fit": None if result.fit is None else round(float(result.fit), 1),
                "pitch": self.pitch_method,
                "vad": self.vad_method,
                "seed": self.seed,
            },
        )

    def animate_file(
        self,
        path,
        *,
        transcript: str | None = None,
        emotion=None,
        block_seconds: float = 60.0,
        progress: bool = False,
        on_block=None,
        blocks=None,
    ):
        """Animate an audio file of any length; files longer than 1.5 blocks stream block by block.

        Memory stays bounded by one block of audio plus the curves. A transcript can only be aligned to a
        file that fits in one pass; for longer files it is ignored (with a warning) and phones are recognised.
        ``block_seconds`` is rounded to whole seconds so blocks hold whole frames at integer frame rates.
        ``progress`` shows a bar (stderr) in seconds of audio done while the blocks run
        (:func:`~facecraft.audio2face.audio.iter_audio_blocks_shown`). ``meta["audio_peak"]`` is the file's largest
        absolute sample, read on the way (a caller that marks silence need not read the file again). ``on_block``,
        when given, is called with the file's samples block by block (``block_seconds`` each, in order, a file
        read whole as well) as they are read: the caller's own measures without a second read. ``blocks``, when
        given, are the file's samples as the caller reads them, ``block_seconds`` each (e.g. raised by the whole file's
        gain, :class:`~facecraft.audio2face.postprocess.LevelledBlocks`), read instead of the file.
        """
        from facecraft.rigs.animation import FaceAnimation

        from .audio import audio_duration, iter_audio_blocks_shown, load_audio

        block_seconds = whole_block_seconds(block_seconds)
        if audio_duration(path) <= 1.5 * block_seconds:
            if blocks is None:
                y, sr = load_audio(path)
            else:  # at most a block and a half: animated whole, as a file read here is
                y, sr = np.concatenate([np.zeros(0, np.float32), *blocks]), SAMPLE_RATE
            if on_block is not None:
                size = int(round(block_seconds * sr))
                for at in range(0, len(y), size):
                    on_block(y[at : at + size])
            anim = self.animate(y, sr, transcript=transcript, emotion=emotion)
            anim.meta.update(source=str(path), audio_peak=audio_peak(y))
            return anim
        if transcript:
            logger.warning(
                "%s is longer than %.0f s: the transcript is ignored, phones are recognised", path, 1.5 * block_seconds
            )
        curves, cues, visemes, offset, peak = [], [], [], 0.0, 0.0
        if blocks is None:
            blocks = iter_audio_blocks_shown(path, block_seconds=block_seconds, progress=progress)
        for block in blocks:
            peak = max(peak, audio_peak(block))
            if on_block is not None:
                on_block(block)
            anim = self.animate(block, SAMPLE_RATE, emotion=emotion, time_offset=offset)
            curves.append(anim.curves)
            cues.extend(anim.mouth_cues or [])
            visemes.extend(anim.visemes or [])
            offset += len(block) / SAMPLE_RATE
        meta = {**anim.meta, "source": str(path), "block_seconds": block_seconds, "transcript": None}
        meta["audio_peak"] = peak
        frames = np.concatenate(curves)[: num_frames(offset, self.fps)]
        return FaceAnimation(frames, fps=self.fps, mouth_cues=cues, visemes=visemes, meta=meta)


def bench_teacher(out_dir, *, closed_mm: float = 1.5) -> dict:
    """Lip sync of the teacher on ``../shared/data/speech`` (phones aligned to the transcripts) on the default
    rig and, when present, the ICT FaceKit reference rig; and the speed (RTF) of each teacher stage.

    Closure: a /p b m/ phone (aligned) is closed when the inner-lip gap drops below ``closed_mm`` during it;
    ``closure_rate_without_transcript`` drives the teacher with recognised phones instead. Opening:
    the largest gap during each open vowel (AA AE AH AO AW AY), averaged. Returns the figures as a dict.
    """
    import time

    from facecraft.rigs.default_rig import default_rig

    from .audio import load_audio
    from .metrics import rest_gap, score_lip_sync
    from .phonetics import recognize_phones, speech_phones
    from .prosody import pitch, voice_activity
    from .transcripts import read_transcripts

    shared = shared_data_dir()
    folder = shared / "data" / "speech"
    texts = read_transcripts(folder)
    if not texts:
        return {"skipped": f"{folder} has no transcribed clips"}
    rigs = {"default": default_rig()}
    ict = shared / "assets" / "ict-facekit" / "FaceXModel"
    if ict.is_dir():
        from facecraft.rigs.ict import load_ict_rig

        rigs["ict"] = load_ict_rig(ict, face_only=True)
    neutral = {k: 1000.0 * rest_gap(r) for k, r in rigs.items()}
    tally = {
        k: {"bilabials": 0, "closed": 0.0, "open_vowels": 0, "open_sum": 0.0, "closed_recognized": 0.0} for k in rigs
    }
    timing = {"align": 0.0, "recognize": 0.0, "crepe_tiny": 0.0, "silero_vad": 0.0, "teacher": 0.0}
    audio_s, methods = 0.0, []
    for file, text in texts.items():
        y, sr = load_audio(folder / file)
        audio_s += len(y) / sr
        t0 = time.perf_counter()
        res = speech_phones(y, sr, transcript=text)
        timing["align"] += time.perf_counter() - t0
        methods.append(res.method)
        t0 = time.perf_counter()
        recognized = recognize_phones(y, sr)
        timing["recognize"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        f0 = pitch(y, sr, fps=30).f0
        timing["crepe_tiny"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        voiced = voice_activity(y, sr, fps=30)
        timing["silero_vad"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        curves = teacher_curves(res.phones, fps=30, duration=len(y) / sr, pitch=f0, voiced=voiced)
        timing["teacher"] += time.perf_counter() - t0
        # the no-transcript mode: curves from recognised phones, scored on the aligned ones
        blind = teacher_curves(recognized, fps=30, duration=len(y) / sr, pitch=f0, voiced=voiced)
        for k, rig in rigs.items():
            s = score_lip_sync(rig, blind, res.phones, fps=30, closed_mm=closed_mm)
            tally[k]["closed_recognized"] += s.closure_rate * s.num_bilabials if s.num_bilabials else 0.0
            s = score_lip_sync(rig, curves, res.phones, fps=30, closed_mm=closed_mm)
            tally[k]["bilabials"] += s.num_bilabials
            tally[k]["closed"] += s.closure_rate * s.num_bilabials if s.num_bilabials else 0.0
            tally[k]["open_vowels"] += s.num_open_vowels
            tally[k]["open_sum"] += s.open_vowel_mean_mm * s.num_open_vowels if s.num_open_vowels else 0.0
    out: dict = {
        "clips": len(texts),
        "audio_seconds": audio_s,
        "phones_method": {m: methods.count(m) for m in sorted(set(methods))},
        "closed_mm": closed_mm,
        "rigs": {},
        "rtf": {k: v / audio_s for k, v in timing.items()},
    }
    for k, tl in tally.items():
        out["rigs"][k] = {
            "neutral_gap_mm": neutral[k],
            "bilabials": tl["bilabials"],
            "closure_rate": tl["closed"] / max(tl["bilabials"], 1),
            "closure_rate_without_transcript": tl["closed_recognized"] / max(tl["bilabials"], 1),
            "open_vowels": tl["open_vowels"],
            "open_vowel_gap_mm": tl["open_sum"] / max(tl["open_vowels"], 1),
        }
        r = out["rigs"][k]
        print(
            f"[{k}] closure {100 * r['closure_rate']:.1f}% of {r['bilabials']} /p b m/ "
            f"({100 * r['closure_rate_without_transcript']:.1f}% without transcript); open vowels "
            f"{r['open_vowel_gap_mm']:.1f} mm (neutral {r['neutral_gap_mm']:.1f} mm, n={r['open_vowels']})"
        )
    for k, v in out["rtf"].items():
        print(f"{k:12s} RTF {v:.4f}")
    return out
