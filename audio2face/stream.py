"""Streaming inference: push chunks of 16 kHz audio, get ARKit frames as soon as they are decided.

Latency (stated, and measured by :func:`measure_latency` in the benchmark): a frame at time ``t`` can be
emitted once the audio up to ``t + lookahead / fps + 10 ms + 12.5 ms`` has arrived (the model's look-ahead,
one log-mel hop for interpolation, and half a 25 ms analysis window); with the default model (30 fps,
look-ahead 1 frame) that is about 56 ms, plus the chunk length and the compute time of one push.

The stream reproduces offline inference (:func:`facecraft.audio2face.animate.predict_curves`): log-mel frames
are computed on a sliding buffer aligned to the 10 ms hop and kept only where their window lies fully
inside the buffer (or touches the true start/end of the stream, padded the same way as offline), and the
model runs on a window of exactly its receptive field, so frames agree to float precision.
Memory is bounded: the stream keeps the audio of the next mel frames and one receptive field of features.

Speech is brought to the level the model was trained at before the model reads it, as offline inference levels a
clip (:func:`facecraft.audio2face.postprocess.level_speech`); a stream cannot hear the clip's level in advance, so the
gain comes from a running estimate (:class:`~facecraft.audio2face.postprocess.RunningLevel`: the active speech level
heard so far, from the first vowel on; 0 before it, so a breath or a click before the first word is not raised as
speech, and while the last 2 s are steady). Its frames follow the offline ones once
the estimate has settled near the whole clip's level (``level=False``, or a caller that levelled the samples itself,
agrees with offline inference of the same samples to float precision).

In the pauses of a recording over a noise floor the speech channels rest, as offline inference rests them
(:func:`~facecraft.audio2face.postprocess.pause_rest_weight`: the model reads a noise floor as faint speech); a stream
cannot see where a pause ends nor the whole clip's floor, so it reads the floor from the last
:data:`PAUSE_FLOOR_WINDOW_S` heard, rests once a pause has lasted ``PAUSE_MIN_S`` (easing in over ``PAUSE_RAMP_S``)
and releases at once at the first reading off the floor, before that sound's frame (:class:`RunningPauses`; no added
latency). So its mouth rests later into a pause than offline (about 0.15 s) and is released at the sound's edge where
offline releases 0.1-0.15 s before it; elsewhere its frames are the model's.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np
import torch

from facecraft.rigs.emotion_space import EMOTION_CODE_DIM, as_code_track, parse_emotion
from facecraft.rigs.errors import ParameterError
from facecraft.rigs.machine import torch_threads

from .audio import SAMPLE_RATE, num_frames, valid_audio
from .features import LOGMEL_HOP, LOGMEL_WINDOW, get_features, interpolate_frames
from .model import A2FModel
from .postprocess import (
    LEVEL_READING_S,
    PAUSE_FLOOR_DB,
    PAUSE_FLOOR_PERCENTILE,
    PAUSE_MIN_S,
    PAUSE_RAMP_S,
    LevelReadings,
    RunningLevel,
    add_emotion_overlay,
    finish_model_curves,
    raise_by,
    rest_in_pauses,
    split_emotion_codes,
)

HOP = LOGMEL_HOP  # the log-mel front-end's hop (10 ms)
HALF_WINDOW = LOGMEL_WINDOW // 2  # half of its analysis window (12.5 ms)
MEL_RATE = SAMPLE_RATE // HOP  # log-mel frames per second
# A stream's noise floor is the PAUSE_FLOOR_PERCENTILE reading of the last PAUSE_FLOOR_WINDOW_S it heard (offline: the
# whole clip's; a clip up to this long is read by the same rule, on its past): a floor that rises or falls (a fan
# switched on) is followed within it.
PAUSE_FLOOR_WINDOW_S = 30.0


class RunningPauses:
    """Pauses over a noise floor in a live stream (the offline rule: :func:`~facecraft.audio2face.postprocess.\
pause_rest_weight`), read from the past alone: a reading is near the floor when within :data:`PAUSE_FLOOR_DB` of the
    :data:`PAUSE_FLOOR_PERCENTILE` percentile of the readings of the last :data:`PAUSE_FLOOR_WINDOW_S` (itself
    included); a pause is declared once :data:`PAUSE_MIN_S` of near-floor readings have come in a row, and the speech
    channels then rest, ramping in over :data:`PAUSE_RAMP_S`; the first reading off the floor releases them at once.

    A frame at time ``t`` reads the readings complete by ``t + ahead_s`` (audio the stream has when it emits the
    frame, so its weight does not depend on how the audio was chunked): with the default model (look-ahead one frame
    at 30 fps, ``ahead_s`` 46 ms) the frames from 26 ms before the start of a reading off the floor on are the model's
    own, so the mouth never lags a sound the readings hear."""

    def __init__(self, fps: float, ahead_s: float) -> None:
        self.fps, self.ahead_s = float(fps), float(ahead_s)
        self._readings = LevelReadings()
        self._window: deque[float] = deque(maxlen=int(round(PAUSE_FLOOR_WINDOW_S / LEVEL_READING_S)))
        self._min_run = int(round(PAUSE_MIN_S / LEVEL_READING_S))
        self._run = 0  # near-floor readings in a row, to the last one
        self._runs: list[int] = []  # the run at each reading from _base on
        self._base = 0

    def add(self, y: np.ndarray) -> None:
        for reading in self._readings.add(y).tolist():
            self._window.append(reading)
            floor = float(np.percentile(np.fromiter(self._window, np.float64), PAUSE_FLOOR_PERCENTILE))
            self._run = self._run + 1 if reading < floor + PAUSE_FLOOR_DB else 0
            self._runs.append(self._run)

    def weights(self, frames: np.ndarray) -> np.ndarray:
        """How far frames ``frames`` (indices, increasing) rest, ``(n,)`` in [0, 1]; frames after them come next."""
        out = np.zeros(len(frames), np.float32)
        last = self._base + len(self._runs) - 1  # the last reading heard
        if not len(frames) or last < 0:
            return out
        seen = frames / self.fps + self.ahead_s  # the audio each frame reads up to
        r = np.minimum(np.floor(seen / LEVEL_READING_S + 1e-9).astype(np.int64) - 1, last)
        runs = np.array(self._runs, np.int64)[np.maximum(r - self._base, 0)]
        runs[r < self._base] = 0
        declared = (r - runs + self._min_run + 1) * LEVEL_READING_S  # the end of the reading that made it a pause
        out = np.clip((seen - declared) / PAUSE_RAMP_S, 0.0, 1.0).astype(np.float32)
        out[runs < self._min_run] = 0.0
        drop = int(r[-1]) - self._base  # the readings the frames to come no longer read
        if drop > 0:
            del self._runs[:drop]
            self._base += drop
        return out


class StreamingAnimator:
    """Chunks of audio in, frames of ARKit-52 curves out (``push`` / ``flush``).

    Parameters
    ----------
    model : A2FModel
        A log-mel model (``config.feature_kind == "logmel"``).
    emotion : any form :func:`facecraft.rigs.emotion_space.parse_emotion` accepts, or a callable
        ``times (n,) s -> codes (n, 57)``
        The emotion per output frame (None: neutral).
    level : bool
        Level speech as it comes (:class:`~facecraft.audio2face.postprocess.RunningLevel`; the module's
        notes). False: the model reads the samples as pushed (a caller that levelled them already, as the long-file
        path of :func:`facecraft.audio2face.animate.animate_file` does with the whole file's gain).
    pauses : bool or None
        Rest the speech channels in the pauses over a noise floor as they come (:class:`RunningPauses`; offline
        inference rests them by the whole clip's floor). None: as ``level`` (a caller that levelled the samples by
        the whole file's gain rests the file's pauses by its whole floor too, as the long-file path does).

    Examples
    --------
    >>> anim = StreamingAnimator(model)                          # doctest: +SKIP
    >>> for chunk in microphone_chunks():                         # doctest: +SKIP
    ...     frames = anim.push(chunk)   # (n, 52), n >= 0
    >>> last = anim.flush()                                       # doctest: +SKIP
    """

    def __init__(self, model: A2FModel, *, emotion=None, level: bool = True, pauses: bool | None = None) -> None:
        if model.config.feature_kind != "logmel":
            raise ParameterError(
                f"StreamingAnimator: streaming needs a log-mel model, got feature_kind={model.config.feature_kind!r}"
            )
        self.model = model.eval()
        self.fps = float(model.config.fps)
        self.lookahead = int(model.config.lookahead)
        self.rf = model.receptive_field()
        self._front = get_features("logmel", n_mels=model.config.num_features, fps=self.fps)
        self._emotion = emotion if callable(emotion) and not hasattr(emotion, "codes_at") else parse_emotion(emotion)
        self.level = bool(level)
        self.pauses = self.level if pauses is None else bool(pauses)
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything pushed so far."""
        self._audio = np.zeros(0, np.float32)
        self._audio_start = 0  # global sample index of _audio[0] (a multiple of HOP)
        self._total = 0  # samples pushed
        # the mel frames still needed, [_mel_start, _next_mel) (rows in order), and the output-rate features of the
        # last frames, _feat[0] being frame _feat_start: arrays, so a long block is made and read in a few numpy calls
        # (a Python step per frame made the block path of a long file cost twice the whole file's time)
        self._mel = np.zeros((0, self._front.dim), np.float32)
        self._mel_start = 0  # global mel index of _mel[0]
        self._next_mel = 0  # first mel frame not computed yet
        self._feat = np.zeros((0, self._front.dim), np.float32)
        self._feat_start = 0  # global frame index of _feat[0]
        self._feat_count = 0  # feature frames made so far
        self._emitted = 0  # curve frames emitted so far
        self._finished = False
        self._level = RunningLevel() if self.level else None
        self.gain_db = 0.0  # the gain speech is levelled by now (dB)
        self._levelled_db = 0.0
        # a frame's rest reads the audio the stream surely has when it emits the frame: the look-ahead's frames and
        # half a mel window past its time (see _make_features)
        ahead = self.lookahead / self.fps + HALF_WINDOW / SAMPLE_RATE
        self._pauses = RunningPauses(self.fps, ahead) if self.pauses else None

    @property
    def frames_emitted(self) -> int:
        return self._emitted

    @property
    def levelled_db(self) -> float:
        """The largest gain (dB) speech has been raised by so far (0: not raised)."""
        return self._levelled_db

    def _codes(self, frames: np.ndarray) -> np.ndarray:
        times = frames / self.fps
        if callable(self._emotion) and not hasattr(self._emotion, "codes_at"):
            codes = np.asarray(self._emotion(times), np.float32)
        else:
            codes = as_code_track(self._emotion, times)
        if codes.shape != (len(frames), EMOTION_CODE_DIM):
            raise ParameterError(f"emotion: expected codes ({len(frames)}, {EMOTION_CODE_DIM}), got {codes.shape}")
        return codes

    # ------------------------------------------------------------------ mel
    def _update_mel(self, final: bool) -> None:
        if len(self._audio) == 0 or (not final and len(self._audio) < 2 * HALF_WINDOW):
            return
        # raised by the gain of the audio heard so far: each mel frame is made once, at one gain
        mel, _ = self._front.native(raise_by(self._audio, self.gain_db))
        base = self._audio_start // HOP
        end = self._audio_start + len(self._audio)
        # the frames from _next_mel on whose window lies inside the buffer (or touches the stream's true ends), up to
        # the first that does not
        m = np.arange(max(0, self._next_mel - base), len(mel)) + base
        centre = m * HOP
        ok = (centre - HALF_WINDOW >= self._audio_start) | (self._audio_start == 0)
        ok &= (centre + HALF_WINDOW <= end) | final
        ok &= centre <= self._total
        n = int(np.argmin(ok)) if not ok.all() else len(ok)
        if n:
            self._mel = np.concatenate([self._mel, mel[m[0] - base : m[0] - base + n]])
            self._next_mel = int(m[0]) + n
        # keep only the audio that frames still to come need (aligned to the hop)
        keep_from = max(0, (self._next_mel * HOP - HALF_WINDOW) // HOP * HOP)
        if keep_from > self._audio_start:
            self._audio = self._audio[keep_from - self._audio_start :]
            self._audio_start = keep_from

    def _num_mel_total(self) -> int:
        """Mel frames of the whole stream once finished (librosa's centred framing)."""
        return 1 + self._total // HOP

    def _make_features(self, final: bool) -> None:
        if not len(self._mel):
            return
        first_mel, last_mel = self._mel_start, self._next_mel - 1
        k0 = self._feat_count
        if final:
            k1 = max(1, num_frames(self._total / SAMPLE_RATE, self.fps))
        else:  # the frames whose next mel frame is made and whose time the audio has reached
            k1 = max(k0, int(np.ceil((last_mel + 1) * self.fps / MEL_RATE)) + 2)
        k = np.arange(k0, max(k0, k1))
        t = k / self.fps
        j = np.floor(t * MEL_RATE + 1e-9).astype(np.int64)
        if not final:
            stop = (j + 1 > last_mel) | (k / self.fps * SAMPLE_RATE >= self._total)
            if stop.any():
                k, t = k[: np.argmax(stop)], t[: np.argmax(stop)]
        if len(k):  # each frame interpolates the mel frames around its time, as offline inference does
            src = np.arange(first_mel, last_mel + 1) * HOP / SAMPLE_RATE
            self._feat = np.concatenate([self._feat, interpolate_frames(self._mel, src, t).astype(np.float32)])
            self._feat_count = k0 + len(k)
        # forget the mel frames the features to come no longer read
        drop = min(len(self._mel), max(0, int(np.floor(self._feat_count / self.fps * MEL_RATE)) - 2 - first_mel))
        if drop:
            self._mel = self._mel[drop:]
            self._mel_start += drop

    # ------------------------------------------------------------------ model
    def _run(self, upto_causal: int, final: bool) -> np.ndarray:
        """Emit curve frames whose causal index (frame + lookahead) is below ``upto_causal``."""
        la = self.lookahead
        first = self._emitted
        last = upto_causal - la  # exclusive frame index
        if final:
            last = self._feat_count
        if last <= first:
            return np.zeros((0, 52), np.float32)
        c0, c1 = first + la, last + la  # causal indices to compute
        w0 = max(0, c0 - self.rf + 1)
        # offline pads the end with the last frame
        feats = self._feat[np.minimum(np.arange(w0, c1), self._feat_count - 1) - self._feat_start]
        categories, extra = split_emotion_codes(self._codes(np.maximum(np.arange(w0, c1) - la, 0).astype(np.float64)))
        # one thread: a push's window (a 20 ms push reads 40 frames, a long file's 30 s block 939) is too short for
        # intra-op threads to gain anything, and each of its ~50 ops waited for a second thread: with 2 threads on a
        # busy 2-core machine the model took 4.4 s of an 11-minute file's block path (0.3 s on one; whole file 0.8 s)
        with torch.no_grad(), torch_threads(1):
            out = self.model.forward_causal(torch.from_numpy(feats)[None], torch.from_numpy(categories)[None])
        out = out.arkit[0, c0 - w0 :]
        self._emitted = last
        drop = max(0, (self._emitted + la - self.rf) - self._feat_start)
        if drop > 0:
            self._feat = self._feat[drop:]
            self._feat_start += drop
        raw = add_emotion_overlay(out.numpy(), extra[c0 - w0 :])
        curves = finish_model_curves(raw, self.model.config.meta)
        if self._pauses is not None:
            curves = rest_in_pauses(curves, self._pauses.weights(np.arange(first, last)))
        return curves

    # ------------------------------------------------------------------ API
    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Add audio (N,) float32 at 16 kHz; return the newly decided frames (n, 52) (n may be 0)."""
        if self._finished:
            raise ParameterError("StreamingAnimator.push: the stream was flushed; call reset() to start again")
        y = valid_audio(chunk, name="chunk") if len(np.asarray(chunk)) else np.zeros(0, np.float32)
        if self._level is not None:
            self.gain_db = self._level.add(y)
            self._levelled_db = max(self._levelled_db, self.gain_db)
        if self._pauses is not None:
            self._pauses.add(y)
        self._audio = np.concatenate([self._audio, y])
        self._total += len(y)
        self._update_mel(final=False)
        self._make_features(final=False)
        return self._run(self._feat_count, final=False)

    def flush(self) -> np.ndarray:
        """End of stream: return the remaining frames (pads like offline inference)."""
        if self._finished:
            return np.zeros((0, 52), np.float32)
        self._finished = True
        if self._total == 0:
            return np.zeros((0, 52), np.float32)
        self._update_mel(final=True)
        self._make_features(final=True)
        return self._run(self._feat_count + self.lookahead, final=True)

    def latency_s(self) -> float:
        """Stated algorithmic latency in seconds (look-ahead + one hop + half a window), without compute."""
        return self.lookahead / self.fps + HOP / SAMPLE_RATE + HALF_WINDOW / SAMPLE_RATE


def stream_array(
    model: A2FModel,
    audio: np.ndarray,
    *,
    chunk_s: float = 0.02,
    emotion=None,
    level: bool = True,
    pauses: bool | None = None,
) -> np.ndarray:
    """Run a whole array through :class:`StreamingAnimator` in chunks; curves (T, 52) (``level``, ``pauses``: as
    there)."""
    s = StreamingAnimator(model, emotion=emotion, level=level, pauses=pauses)
    n = max(1, int(round(chunk_s * SAMPLE_RATE)))
    parts = [s.push(audio[i : i + n]) for i in range(0, len(audio), n)]
    parts.append(s.flush())
    return np.concatenate(parts) if parts else np.zeros((0, 52), np.float32)


def measure_latency(
    model: A2FModel, audio: np.ndarray, *, chunk_s: float = 0.02, clock: Callable[[], float] = time.perf_counter
) -> dict:
    """Measured latency of streaming ``audio`` in real-time-sized chunks.

    For each emitted frame at time ``t``, latency = (audio time pushed when it came out, i.e. the end of the
    chunk that released it, + the compute time of that push) - ``t``. Returns mean/p95/max in ms, the
    stated algorithmic latency and the mean compute per push.
    """
    s = StreamingAnimator(model)
    n = max(1, int(round(chunk_s * SAMPLE_RATE)))
    lat, compute = [], []
    for i in range(0, len(audio), n):
        t0 = clock()
        frames = s.push(audio[i : i + n])
        dt = clock() - t0
        compute.append(dt)
        end_t = min(len(audio), i + n) / SAMPLE_RATE
        first = s.frames_emitted - len(frames)
        for k in range(first, s.frames_emitted):
            lat.append(end_t + dt - k / s.fps)
    lat_ms = np.array(lat) * 1000
    return {
        "chunk_ms": chunk_s * 1000,
        "latency_mean_ms": float(lat_ms.mean()) if len(lat_ms) else float("nan"),
        "latency_p95_ms": float(np.percentile(lat_ms, 95)) if len(lat_ms) else float("nan"),
        "latency_max_ms": float(lat_ms.max()) if len(lat_ms) else float("nan"),
        "stated_algorithmic_ms": s.latency_s() * 1000,
        "compute_per_push_ms": float(np.mean(compute) * 1000),
    }
