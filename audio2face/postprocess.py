"""Per-frame post-processing shared by every way of making speech curves (teacher, offline and streaming model).

Speech does not predict blinks, and a model knows no phones, so these rules are applied after the fact:

* **press scale**: a model presses its closures as hard as the teacher it was distilled from did
  (:data:`MODEL_CLOSURE_PRESS`); its mouthPress is rescaled to the teacher's current
  :data:`~facecraft.audio2face.lip_state.CLOSURE_PRESS` (real faces press lightly), so the seal thresholds,
  which scale with that press, read the model's curves as they read the teacher's;
* **closure priority**: while the lips are shut (:func:`facecraft.audio2face.lip_state.shut_weight`; for the
  teacher, at its aligned /p b m/), emotion channels that lift the upper lip (noseSneer) yield down to what a seal
  tolerates, so a disgusted face still closes on /p b m/; while they seal (``sealed_weight``), in a model's curves
  the lip-parting channels (:data:`~facecraft.audio2face.visemes.LIP_OPENING_CHANNELS`) yield as the teacher clears
  them there (a model smooths them across the closure: mouthLowerDown/UpperUp leaking from the neighbouring vowels
  would part the lips);
* **opening**: a model trained to seal its /p b m/ hedges by parting its lips less than its teacher everywhere
  (on its own training clips its mouthLowerDown sat at a third of the teacher's median); where the lips are apart,
  the jaw and lip-parting channels are scaled back by the gains its config records (:func:`restore_opening`,
  fitted on training clips by :func:`facecraft.audio2face.calibrate.opening_gains`), so shut frames stay shut;
* **blinks**: a seeded, natural-rate blink track on ``eyeBlink``; ``eyeWide`` yields while the lids close;
* **silence**: audio whose peak is below :data:`SILENCE_PEAK` gives a neutral face;
* **pauses over a noise floor**: in the pauses of a recording (runs of readings near its noise floor,
  :func:`pause_rest_weight`) the speech channels rest (:func:`rest_in_pauses`): the model read a noise floor as faint
  speech (offline by the whole clip's floor; a live stream by the floor heard so far,
  :class:`~facecraft.audio2face.stream.RunningPauses`);
* **recording level**: speech is brought to the active level the model was trained at (:data:`TARGET_ACTIVE_DB`)
  before either mode reads it (:func:`level_speech`, raised or lowered): the mouth opened less the quieter the
  recording (a line at -55 dBFS barely moved it); silence and a steady noise floor or hum are never raised. One rule
  (:func:`speech_gain_db`) for a clip, a long file read in blocks (:class:`LevelledBlocks`, the same gain) and a live
  stream (:class:`RunningLevel`, a running estimate of it);
* **emotion overlay**: the learned model was trained on the emotion categories alone; what a code says beyond
  them (a user's own AUs, ARKit weights or words: the code's residual) is added to the channels an emotion
  overlay owns (:data:`OVERLAY_INDEX`, as the teacher adds a whole emotion), so ``mouthSmileLeft=0.8`` smiles on
  the left at about 0.8 instead of reaching the model as a code it never saw.

The procedural teacher (:mod:`.teacher`), offline inference (:mod:`.animate`) and streaming (:mod:`.stream`)
all import these from here, so the rules exist once.
"""

from __future__ import annotations

import json
import tempfile
from collections import deque
from pathlib import Path

import numpy as np

from facecraft.rigs.arkit import ARKIT_INDEX, ARKIT_NAMES, SPEECH_CHANNELS
from facecraft.rigs.emotion_space import NUM_CODE_EMOTIONS, codes_to_arkit
from facecraft.rigs.errors import FileFormatError, ParameterError

from .audio import SAMPLE_RATE
from .lip_state import CLOSURE_PRESS, JAW, LIP_PART_INDEX, PRESS_LEFT, PRESS_RIGHT, sealed_weight, shut_weight
from .visemes import LIP_OPENING_CHANNELS

# noseSneer lifts the upper lip (a L/R pair at full weight parts the lip centres by 7.3 mm on the default rig,
# 6.2 mm on ICT FaceKit). During a closure it is held down to LIP_LIFT_SEALED and no further: a sealed teacher pose
# (lip_state's CLOSURE_* values) then parts by 0.7 / 0.8 mm (default / ICT; -0.4 / -0.1 mm without the sneer), half
# of metrics.CLOSED_MM, leaving room for a model's looser seals. It is what the teacher wrote at a full-intensity
# disgust seal when the sneer yielded by a fixed 85 %; held as a floor rather than a share, a disgusted model face
# keeps reading as disgust during its seals (a share of a model's smaller sneer fell below what reads as disgust).
LIP_LIFT_SEALED = 0.15
_LIFT_INDEX = np.array([ARKIT_INDEX["noseSneerLeft"], ARKIT_INDEX["noseSneerRight"]])
_OPENING_INDEX = np.array([ARKIT_INDEX[n] for n in LIP_OPENING_CHANNELS])
# Closure press of weights whose meta records none: the teacher's before a59d52a (stage 5 and earlier).
LEGACY_CLOSURE_PRESS = 0.35


def meta_closure_press(meta: dict) -> float:
    """The teacher's closure press a model was distilled with, from its config's ``meta`` (``A2FModel.config.meta``):
    ``meta["teacher"]["closure_press"]``, written by training; :data:`LEGACY_CLOSURE_PRESS` when absent."""
    return float(meta.get("teacher", {}).get("closure_press", LEGACY_CLOSURE_PRESS))


def weights_closure_press(config_path: str | Path) -> float:
    """:func:`meta_closure_press` of the model config JSON at ``config_path`` (the ``.json`` beside the weights)."""
    path = Path(config_path)
    try:
        meta = json.loads(path.read_text()).get("meta", {})
    except (OSError, ValueError) as e:
        raise FileFormatError(f"{path}: not a readable model config ({e}); expected the JSON beside the weights") from e
    return meta_closure_press(meta)


# The teacher's closure press the shipped speech weights were distilled with, as their meta records it.
MODEL_CLOSURE_PRESS = weights_closure_press(Path(__file__).with_name("default_a2f.json"))
BLINKS_PER_MINUTE = 17.0
BLINK_SECONDS = (0.12, 0.35)
SILENCE_PEAK = 1e-4  # audio whose absolute peak stays below this is silence (a neutral face)
# Speech is brought to the active level (active_level_db) the model was trained at before either mode reads it: the
# model's mouth grew with the level (mean jawOpen in the speech of real clips: 0.14 at -1 dBFS peak, 0.12 at -12,
# 0.10 at -30) and the procedural mode lost phones at low levels. TARGET_ACTIVE_DB is the active level of the
# training voices' clean audio (corpus.TRAIN_VOICES: -20.9 dB; their augmented copies -27 to -31 dB; the real clips
# the bench reads -22 dB on average). Gains are held within -MAX_CUT_DB .. +MAX_RAISE_DB. Audio whose 20 ms levels
# span less than STEADY_RANGE_DB (95th minus 10th percentile) is a steady noise floor or hum, not speech, and is left
# as it is (real speech clips span 23-48 dB, white noise 1 dB).
TARGET_ACTIVE_DB = -21.0
ACTIVE_RANGE_DB = 20.0  # readings this far below the 95th percentile still count as speech (active_level_db)
MAX_RAISE_DB = 50.0
MAX_CUT_DB = 20.0
# Speech peaking below QUIET_PEAK_DB (dBFS) is reported when levelled (meta["levelled"]): a very quiet take is worth a
# look; a normal one is levelled without a word.
QUIET_PEAK_DB = -30.0
STEADY_RANGE_DB = 15.0
LEVEL_READING_S = 0.02  # seconds of audio per level reading
# A live stream (RunningLevel) tells speech from a steady floor by the span of the last STREAM_LEVEL_WINDOW_S of
# readings.
STREAM_LEVEL_WINDOW_S = 2.0
STREAM_LEVEL_BIN_DB = 0.25  # its histogram of the readings heard (RunningLevel)
# Until a stream's first vowel its gain is START_GAIN_DB (the recording read as it is): a breath, a lip click or a
# consonant before it was levelled as speech. A vowel is VOICED_READINGS readings in a row whose last two readings
# (40 ms), pre-emphasised by VOICED_PRE_EMPHASIS, repeat within a pitch period of VOICED_PITCH_HZ (normalised
# autocorrelation at least VOICED_PERIODICITY). Chosen on the 14 clips of ../shared/data/speech that are neither cathy
# nor LJSpeech, against synthetic noise: two readings at 0.6 come within 2 readings of the speech's onset (its first
# reading within 20 dB of its 95th percentile) in 9 clips, within 16 in all; white, 1 kHz and 300 Hz low-passed noise
# reach 0.24, 0.39 and 0.62 (one reading in 20 s). A rumble under 150 Hz reaches it: steady, it is no speech anyway.
START_GAIN_DB = 0.0
VOICED_PERIODICITY = 0.6
VOICED_READINGS = 2
VOICED_PRE_EMPHASIS = 0.7
VOICED_PITCH_HZ = (80.0, 500.0)
# A stream that holds speech this long without a vowel (whispering) is levelled without one.
UNVOICED_LEVEL_AFTER_S = 2 * STREAM_LEVEL_WINDOW_S


def yield_lip_lift(curves: np.ndarray, closure: np.ndarray) -> np.ndarray:
    """Let lip-lifting emotion channels (noseSneer) yield down to :data:`LIP_LIFT_SEALED` where ``closure`` (T,)
    is high (in proportion to it); weights already below that level stay.

    Returns a float32 copy of ``curves`` (T, 52).
    """
    out = np.array(curves, np.float32, copy=True)
    lift = out[:, _LIFT_INDEX]
    out[:, _LIFT_INDEX] = lift - np.asarray(closure, np.float32)[:, None] * np.maximum(lift - LIP_LIFT_SEALED, 0.0)
    return out


def yield_to_seal(curves: np.ndarray, closure: np.ndarray, *, shut: np.ndarray | None = None) -> np.ndarray:
    """What a bilabial closure ``closure`` (T,) in [0, 1] overrides, in proportion to it: the lip-parting channels
    (:data:`~facecraft.audio2face.visemes.LIP_OPENING_CHANNELS`) are cleared, and lip-lifting emotion channels yield
    (:func:`yield_lip_lift`) in proportion to ``shut`` (T,) (default: ``closure``). The teacher applies it at its
    aligned /p b m/; the model's post-processing (:func:`closure_priority`) where its curves read as sealed, the
    lift wherever they read as shut. Returns a float32 copy."""
    out = yield_lip_lift(curves, closure if shut is None else shut)
    out[:, _OPENING_INDEX] *= 1 - np.asarray(closure, np.float32)[:, None]
    return out


def rescale_press(curves: np.ndarray, *, model_press: float = MODEL_CLOSURE_PRESS) -> np.ndarray:
    """A model's curves (T, 52) with mouthPress L/R scaled by ``CLOSURE_PRESS / model_press`` (a float32 copy);
    ``model_press``: the closure press of the teacher the model learnt from."""
    if not model_press > 0:
        raise ParameterError(f"model_press: expected a closure press > 0, got {model_press}")
    out = np.array(curves, np.float32, copy=True)
    out[:, [PRESS_LEFT, PRESS_RIGHT]] *= CLOSURE_PRESS / model_press
    return out


#: Channels an emotion overlay adds to without limit: everything that is not a speech channel (brows, eyes,
#: cheeks, nose, mouth corners: smile, frown, dimple, left/right), gaze left to the gaze track.
OVERLAY_INDEX = np.array([i for i, n in enumerate(ARKIT_NAMES) if n not in SPEECH_CHANNELS and "eyeLook" not in n])
_SPEECH_ONLY = np.array([n in SPEECH_CHANNELS for n in ARKIT_NAMES])
#: A code's residual on a speech channel above this (jawOpen=0.3 asked of a learned model) is reported as left to
#: the speech.
RESIDUAL_SPEECH_NOTICE = 0.05


def split_emotion_codes(codes) -> tuple[np.ndarray, np.ndarray]:
    """Emotion codes ``(..., 57)`` -> ``(categories, extra)``: the codes with their residual cleared (the
    emotion categories the learned model was trained on) and the ARKit weights ``(..., 52)`` the residual adds
    (the whole code's weights minus the categories'; zero for a plain emotion such as ``anger:0.7``)."""
    codes = np.asarray(codes, np.float32)
    categories = codes.copy()
    categories[..., NUM_CODE_EMOTIONS:] = 0.0
    return categories, (codes_to_arkit(codes) - codes_to_arkit(categories)).astype(np.float32)


def add_emotion_overlay(curves: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``curves`` (T, 52) with ``extra`` (:func:`split_emotion_codes`) added on :data:`OVERLAY_INDEX`, in [0, 1]."""
    out = np.array(curves, np.float32)
    out[:, OVERLAY_INDEX] = np.clip(out[:, OVERLAY_INDEX] + extra[:, OVERLAY_INDEX], 0.0, 1.0)
    return out


def speech_residual_names(extra: np.ndarray) -> list[str]:
    """Speech channels a code's residual asks to move (by more than :data:`RESIDUAL_SPEECH_NOTICE`): a learned
    model leaves them to the speech, and says so."""
    moved = np.abs(np.asarray(extra)).reshape(-1, len(ARKIT_NAMES)).max(axis=0) > RESIDUAL_SPEECH_NOTICE
    return [n for n, m, s in zip(ARKIT_NAMES, moved, _SPEECH_ONLY, strict=True) if m and s]


def closure_priority(curves: np.ndarray, *, model_press: float = MODEL_CLOSURE_PRESS) -> np.ndarray:
    """A model's curves (T, 52), press rescaled (:func:`rescale_press`), with the lip-parting channels yielding
    while the lips seal (:func:`~facecraft.audio2face.lip_state.sealed_weight`) and lip-lifting emotion channels
    while they are shut, pressed or not (:func:`~facecraft.audio2face.lip_state.shut_weight`), all read from the
    curves themselves, as a model knows no phones. A model's press at its /p b m/ varies more than its lip gap does:
    tied to the press, the sneer of a disgusted face parted the lips the speech channels had closed wherever the
    press fell short. Frame by frame, so streaming and offline inference agree. Returns a float32 copy."""
    scaled = rescale_press(curves, model_press=model_press)
    return yield_to_seal(scaled, sealed_weight(scaled), shut=shut_weight(scaled))


#: The channels an opening gain scales: the jaw and the lip-parting pairs, the ones :func:`lip_state.lip_gap` adds.
OPENING_INDEX = np.concatenate([[JAW], LIP_PART_INDEX])
OPENING_CHANNELS = tuple(ARKIT_NAMES[i] for i in OPENING_INDEX)
#: The model config's meta key that holds the gains (channel -> gain).
OPENING_GAIN_KEY = "opening_gain"
#: Gains outside this range are refused: they would say the model was calibrated on other data than it learnt from.
OPENING_GAIN_RANGE = (0.5, 2.0)


def meta_opening_gains(meta: dict) -> np.ndarray | None:
    """The opening gains ``(len(OPENING_CHANNELS),)`` a model config's ``meta["opening_gain"]`` records (channel ->
    gain, written by ``facecraft a2f calibrate``); None when it records none (weights calibrated before)."""
    table = meta.get(OPENING_GAIN_KEY)
    if table is None:
        return None
    lo, hi = OPENING_GAIN_RANGE
    try:
        gains = np.array([float(table[name]) for name in OPENING_CHANNELS], np.float32)
    except (KeyError, TypeError, ValueError) as e:
        raise FileFormatError(f"model config meta.opening_gain: expected a gain for each of {OPENING_CHANNELS}") from e
    if not np.all((gains >= lo) & (gains <= hi)):
        raise FileFormatError(f"model config meta.opening_gain: gains must lie in [{lo}, {hi}], got {table}")
    return gains


def restore_opening(curves: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    """Curves (T, 52) with the jaw and lip-parting channels (:data:`OPENING_CHANNELS`) scaled by ``gains`` where the
    lips are apart, in proportion to ``1 - shut_weight`` (frames that read as shut are left as they are, so a seal
    stays sealed); frame by frame. Returns a float32 copy (``gains`` None: unchanged)."""
    out = np.array(curves, np.float32, copy=True)
    if gains is None:
        return out
    apart = 1.0 - shut_weight(out)
    out[:, OPENING_INDEX] = np.clip(out[:, OPENING_INDEX] * (1.0 + (gains[None] - 1.0) * apart[:, None]), 0.0, 1.0)
    return out


def finish_model_curves(raw: np.ndarray, meta: dict) -> np.ndarray:
    """What offline and streaming inference do to a model's raw curves (T, 52), given its config's ``meta``:
    :func:`closure_priority` with the press it learnt, then :func:`restore_opening` with its gains."""
    curves = closure_priority(raw, model_press=meta_closure_press(meta))
    return restore_opening(curves, meta_opening_gains(meta))


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


def line_seed(seed: int, audio: np.ndarray) -> int:
    """A seed for one voice line's random parts (its blinks): ``seed`` mixed with the line's length in samples, so
    that lines of a batch differ while a line keeps its animation, whatever its level (a quieter copy of a line is the
    same line) and however often it is animated. With one fixed seed every line of a batch blinked at the same
    moments: first at 2.4 s, then 7.2 s."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(np.shape(audio)[-1])]).generate_state(1)[0])


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


def _readings_db(y: np.ndarray, n: int) -> np.ndarray:
    """The 20 ms RMS levels (dB) of ``y``: ``len(y) // n`` readings of ``n`` samples from its first sample."""
    k = len(y) // n
    return 10.0 * np.log10(np.mean(np.square(np.asarray(y[: k * n], np.float64).reshape(k, n)), axis=1) + 1e-20)


def _reading_size(sr: int) -> int:
    return max(1, int(round(LEVEL_READING_S * sr)))


def _spread_db(db: np.ndarray) -> float:
    """95th minus 10th percentile of level readings (0 for fewer than two)."""
    return float(np.percentile(db, 95) - np.percentile(db, 10)) if len(db) >= 2 else 0.0


def active_level_db(db: np.ndarray) -> float:
    """The active speech level (dB) of 20 ms level readings ``db``: the power mean of the readings within
    :data:`ACTIVE_RANGE_DB` of their 95th percentile (the syllables, not the pauses; one click is one reading and
    moves neither the percentile nor the mean much). -inf for no readings."""
    if len(db) == 0:
        return float("-inf")
    active = db[db >= np.percentile(db, 95) - ACTIVE_RANGE_DB]
    return float(10.0 * np.log10(np.mean(10.0 ** (active / 10.0))))


def _gain_to_target(active_db: float) -> float:
    return float(np.clip(TARGET_ACTIVE_DB - active_db, -MAX_CUT_DB, MAX_RAISE_DB))


def speech_gain_db(peak: float, db: np.ndarray) -> float:
    """The levelling rule, once for every path: the gain (dB) that brings audio of absolute peak ``peak`` and 20 ms
    level readings ``db`` to the active speech level the model was trained at (:data:`TARGET_ACTIVE_DB`, within
    -:data:`MAX_CUT_DB` .. +:data:`MAX_RAISE_DB`); 0 for silence (:func:`is_silent`) and for a steady noise floor
    or hum (readings spanning under :data:`STEADY_RANGE_DB`), which are never raised."""
    if is_silent(peak) or _spread_db(db) < STEADY_RANGE_DB:
        return 0.0
    return _gain_to_target(active_level_db(db))


def raise_by(y: np.ndarray, gain_db: float) -> np.ndarray:
    """``y`` scaled by ``gain_db`` (float32, within [-1, 1] as a recording is); ``y`` itself for 0."""
    if gain_db == 0:
        return y
    return np.clip(np.asarray(y, np.float32) * np.float32(10.0 ** (gain_db / 20.0)), -1.0, 1.0).astype(np.float32)


def level_speech(y: np.ndarray, *, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """``(audio, gain_db)``: audio ``y`` (at ``sr`` Hz) brought to the speech level the model was trained at
    (:func:`speech_gain_db`: raised or lowered); silence and a steady noise floor or hum come back as ``y`` itself
    and 0. Both modes read the levelled audio, so the same line recorded at -1 or -40 dBFS moves the face alike. A
    long file read in blocks is levelled alike (:class:`LevelledBlocks`), a live stream by a running estimate
    (:class:`RunningLevel`)."""
    y = np.asarray(y)
    gain_db = speech_gain_db(audio_peak(y), _readings_db(y.reshape(-1), _reading_size(sr)))
    return raise_by(y, gain_db), gain_db


class LevelReadings:
    """20 ms level readings of audio given in pieces, framed as :func:`level_speech` frames the whole (the samples
    of a reading split between two pieces wait for the next one)."""

    def __init__(self, sr: int = SAMPLE_RATE):
        self.n = _reading_size(sr)
        self._rest = np.zeros(0, np.float32)

    def frames(self, y: np.ndarray) -> np.ndarray:
        """The samples of the readings ``y`` completes, ``(k, n)``."""
        y = np.concatenate([self._rest, np.asarray(y, np.float32).reshape(-1)])
        k = len(y) // self.n
        self._rest = y[k * self.n :]
        return y[: k * self.n].reshape(k, self.n)

    def add(self, y: np.ndarray) -> np.ndarray:
        return _readings_db(self.frames(y).reshape(-1), self.n)


def periodicity(y: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """How far ``y`` (a few pitch periods of audio) repeats itself within a pitch period: the largest normalised
    autocorrelation of ``y`` pre-emphasised (:data:`VOICED_PRE_EMPHASIS`) over the lags of :data:`VOICED_PITCH_HZ`;
    near 1 for a vowel, low for noise (a breath, a fricative); 0 when too short or silent."""
    x = np.asarray(y, np.float64).reshape(-1)
    x = x[1:] - VOICED_PRE_EMPHASIS * x[:-1]
    n = len(x)
    lags = np.arange(int(sr / VOICED_PITCH_HZ[1]), min(int(sr / VOICED_PITCH_HZ[0]), n - 1))
    if len(lags) == 0:
        return 0.0
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n)[lags]
    energy = np.cumsum(np.square(x))  # energy[i]: of x[: i + 1]
    tail = energy[-1] - np.concatenate([[0.0], energy])[lags]  # of x[lag:]
    head = energy[n - 1 - lags]  # of x[: n - lag]
    return float(np.max(ac / np.sqrt(head * tail + 1e-30), initial=0.0))


class LevelledBlocks:
    """A file's blocks (:func:`~facecraft.audio2face.audio.iter_audio_blocks`) levelled as :func:`level_speech`
    levels the whole file: the same peak, the same level readings, the same gain for every block. Iterate it once;
    :attr:`gain_db` and :attr:`peak` (the file's own peak, before any gain) hold from its first block on.

    The gain needs the whole file's level before the first block is animated, so the file is decoded to its end
    first, its 20 ms readings kept (3 MB for two hours) and its samples written as they come to an unnamed temporary
    file (16 kHz float32: 230 MB an hour, on disk, not in memory), which the blocks are then read back from, raised:
    the file is decoded once (it was decoded a second time for the animation). ``progress`` shows a bar while the
    blocks are read back, as the caller animates them."""

    def __init__(self, path, *, block_seconds: float, progress: bool = False):
        self.path, self.block_seconds, self.progress = path, block_seconds, progress
        self.gain_db, self.peak = 0.0, 0.0

    def __iter__(self):
        from .audio import iter_audio_blocks, shown_blocks

        readings, levels, samples = LevelReadings(), [], 0
        with tempfile.TemporaryFile(prefix="facecraft-levelled-") as kept:
            for block in iter_audio_blocks(self.path, block_seconds=self.block_seconds):
                self.peak = max(self.peak, audio_peak(block))
                levels.append(readings.add(block))
                try:
                    kept.write(np.asarray(block, "<f4").tobytes())
                except OSError as e:
                    raise OSError(
                        f"{self.path}: its decoded samples ({4 * SAMPLE_RATE // 1000} kB a second) could not be "
                        f"kept in a temporary file in {tempfile.gettempdir()} ({e}); point TMPDIR at a folder with "
                        "room for them"
                    ) from e
                samples += len(block)
            self.gain_db = speech_gain_db(self.peak, np.concatenate(levels or [np.zeros(0)]))
            kept.seek(0)
            size = 4 * int(round(self.block_seconds * SAMPLE_RATE))  # bytes: the blocks as they were decoded

            def read_back():
                while raw := kept.read(size):
                    yield np.frombuffer(raw, "<f4").astype(np.float32)  # a writable copy, as decoded blocks are

            for block in shown_blocks(read_back(), samples / SAMPLE_RATE, progress=self.progress):
                yield raise_by(block, self.gain_db)


class RunningLevel:
    """The levelling rule of a live stream, which cannot hear the clip's level before it has to show a frame: the
    gain (:meth:`add` returns it for the audio so far) is :func:`speech_gain_db`'s, read from the past alone:

    * **speech now**: the 20 ms readings of the last :data:`STREAM_LEVEL_WINDOW_S` span :data:`STEADY_RANGE_DB`;
      otherwise (silence, a noise floor, a hum, also a long hum after speech) the gain is 0, as for a steady clip;
    * **speech heard**: until the stream's first vowel (:data:`VOICED_READINGS` periodic readings in a row,
      :func:`periodicity`) the gain is :data:`START_GAIN_DB`: a breath, a lip click or a consonant before the first
      word is not levelled as speech. The level is read from that vowel on; a stream that holds speech for
      :data:`UNVOICED_LEVEL_AFTER_S` without one (whispering) is levelled by what it holds;
    * **the level**: :func:`active_level_db` of every reading heard while speech was on, kept as a histogram of
      :data:`STREAM_LEVEL_BIN_DB` bins (bounded memory), so it is the whole-clip rule on the speech so far: quiet
      readings counted before a louder syllable came drop out of it as they would from the clip's.

    So quiet speech is raised, and loud speech lowered, from its first vowel on, and a stream that falls to a steady
    hum for :data:`STREAM_LEVEL_WINDOW_S` is no longer raised."""

    def __init__(self, sr: int = SAMPLE_RATE):
        self.sr = sr
        self.peak = 0.0
        self._readings = LevelReadings(sr)
        self._recent: deque[float] = deque(maxlen=max(2, int(round(STREAM_LEVEL_WINDOW_S / LEVEL_READING_S))))
        self._bins = np.arange(-200.0, 20.0, STREAM_LEVEL_BIN_DB)  # bin centres (dB)
        self._counts = np.zeros(len(self._bins), np.int64)  # readings heard while speech was on, per bin
        self._speech = False
        self.voiced = False  # whether the stream's first vowel has been heard
        self._unvoiced_limit = int(round(UNVOICED_LEVEL_AFTER_S / LEVEL_READING_S))
        # the last periodic readings in a row, before the first vowel (as many as the window's span may take to show
        # speech: a tenth of it)
        self._run: deque[float] = deque(maxlen=max(VOICED_READINGS, self._recent.maxlen // 10))
        self._last = np.zeros(0, np.float32)  # the samples of the last reading

    def add(self, y: np.ndarray) -> float:
        """Take the next samples; the gain (dB) for the audio heard so far."""
        y = np.asarray(y, np.float32).reshape(-1)
        self.peak = max(self.peak, audio_peak(y))
        frames = self._readings.frames(y)
        for frame, reading in zip(frames, _readings_db(frames.reshape(-1), self._readings.n).tolist(), strict=True):
            self._recent.append(reading)
            spread = _spread_db(np.fromiter(self._recent, np.float64))
            self._speech = not is_silent(self.peak) and spread >= STEADY_RANGE_DB
            if not self.voiced:
                self._listen_for_a_vowel(frame, reading)
            if self._speech:
                self._count(reading)
            self._last = frame
        if not self._speech or not self._counts.any():
            return 0.0
        if not self.voiced and self._counts.sum() < self._unvoiced_limit:
            return START_GAIN_DB
        return _gain_to_target(self._active_db())

    def _listen_for_a_vowel(self, frame: np.ndarray, reading: float) -> None:
        """Before the first vowel: at it (periodic readings in a row while speech is on), forget the readings before
        it but its own (the breath and clicks before a first word are not the speech's level). A vowel's first
        readings come before the window's span shows speech (:data:`STEADY_RANGE_DB`): the run is kept meanwhile."""
        sound = not is_silent(audio_peak(frame))  # silence is no vowel (and needs no autocorrelation)
        if sound and periodicity(np.concatenate([self._last, frame]), self.sr) >= VOICED_PERIODICITY:
            self._run.append(reading)
        else:
            self._run.clear()
        if self._speech and len(self._run) >= VOICED_READINGS:
            self.voiced = True
            self._counts[:] = 0
            for earlier in list(self._run)[:-1]:  # the vowel's readings so far; this one is counted by the caller
                self._count(earlier)

    def _count(self, reading: float) -> None:
        k = int(np.rint((reading - self._bins[0]) / STREAM_LEVEL_BIN_DB))
        self._counts[min(max(k, 0), len(self._bins) - 1)] += 1

    def _active_db(self) -> float:
        """:func:`active_level_db` of the histogram (the 95th percentile as numpy's linear rule, to a bin)."""
        cum = np.cumsum(self._counts)
        p95 = self._bins[int(np.searchsorted(cum, 0.95 * (cum[-1] - 1), side="right"))]
        keep = self._bins >= p95 - ACTIVE_RANGE_DB
        power = 10.0 ** (self._bins[keep] / 10.0)
        return float(10.0 * np.log10((power * self._counts[keep]).sum() / self._counts[keep].sum()))


# Pauses over a noise floor. The model reads a noise floor as faint speech: in the pauses of speech with white or pink
# noise at 10 dB SNR its jaw hung at 0.06-0.09 (0.02 in the clean pauses) with the lips twitching up to 7 mm apart,
# a recording that opens on loud noise (-26 dBFS white) opened the mouth 8 mm for its first frames, and 3 s of noise
# alone moved the jaw as much as speech does (mean 0.095). A pause is a run of at least PAUSE_MIN_S of 20 ms readings
# within PAUSE_FLOOR_DB of the clip's floor (its PAUSE_FLOOR_PERCENTILE percentile reading); the speech channels rest
# there, fully from PAUSE_MARGIN_S inside a pause edge that meets sound (a mouth shapes the coming word before it is
# heard) and at the clip's own ends, ramping over PAUSE_RAMP_S. A line with no pause this long (a 0.3 s "yes") is
# left as it is: its quietest readings are speech. Chosen on the non-cathy, non-LJSpeech clips of
# ../shared/data/speech and 8 RAVDESS clips, each also with white and pink noise at 10 dB SNR.
PAUSE_FLOOR_PERCENTILE = 5.0
PAUSE_FLOOR_DB = 6.0
PAUSE_MIN_S = 0.3
PAUSE_MARGIN_S = 0.15
PAUSE_RAMP_S = 0.1


def pause_rest_weight(y: np.ndarray, *, sr: int = SAMPLE_RATE, fps: float, num_frames: int) -> np.ndarray:
    """How far each of ``num_frames`` frames at ``fps`` lies in a pause over the recording's noise floor, ``(T,)`` in
    [0, 1] (see :data:`PAUSE_FLOOR_DB`); zeros for silence and for audio with no such pause."""
    y = np.asarray(y).reshape(-1)
    if is_silent(audio_peak(y)):
        return np.zeros(num_frames, np.float32)
    n = _reading_size(sr)
    return pause_weight_of_readings(_readings_db(y, n), n / sr, fps=fps, num_frames=num_frames)


def pause_weight_of_readings(db: np.ndarray, step: float, *, fps: float, num_frames: int) -> np.ndarray:
    """:func:`pause_rest_weight` from the audio's level readings ``db`` (dB, one every ``step`` seconds from its
    first sample), as a file read in blocks gathers them (:class:`LevelReadings`); the caller rules out silence."""
    db = np.asarray(db, np.float64)
    out = np.zeros(num_frames, np.float32)
    if len(db) < 2:
        return out
    near = db < np.percentile(db, PAUSE_FLOOR_PERCENTILE) + PAUSE_FLOOR_DB
    rest = np.zeros(len(db), bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], near.astype(np.int8), [0]])))
    margin = int(round(PAUSE_MARGIN_S / step))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if (b - a) * step < PAUSE_MIN_S:
            continue
        rest[a + (margin if a > 0 else 0) : b - (margin if b < len(db) else 0)] = True
    if not rest.any():
        return out
    # frame t's share of rest readings within PAUSE_RAMP_S / 2 of it (a reading past the audio's end counts as the last)
    half = PAUSE_RAMP_S / 2
    cum = np.concatenate([[0.0], np.cumsum(rest)])
    t = np.arange(num_frames) / fps
    lo = np.clip(np.floor((t - half) / step).astype(int), 0, len(db) - 1)
    hi = np.clip(np.ceil((t + half) / step).astype(int), lo + 1, len(db))
    return ((cum[hi] - cum[lo]) / (hi - lo)).astype(np.float32)


def rest_in_pauses(curves: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``curves`` (T, 52) with the speech channels (jaw, lips, tongue: ``SPEECH_CHANNELS``) brought toward rest (0)
    by ``weight`` (T,) (:func:`pause_rest_weight`); brows, eyes, cheeks and the mouth's emotion channels (smile,
    frown) are kept. Returns a float32 copy."""
    out = np.array(curves, np.float32, copy=True)
    out[:, _SPEECH_ONLY] *= 1.0 - np.asarray(weight, np.float32)[:, None]
    return out


def neutral_if_silent(values: np.ndarray, peak: float) -> np.ndarray:
    """``values`` (curves or FLAME parameters, (T, D)), or zeros of the same shape when ``peak`` is silence."""
    return np.zeros_like(values) if is_silent(peak) else values
